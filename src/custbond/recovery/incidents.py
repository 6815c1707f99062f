"""Incidents: something failed on the business's side, and the customers it affects
hear it from the business first.

>>> from datetime import datetime, timezone
>>> incident = IncidentDeclared(id="inc-7", at=datetime(2026, 3, 6, 9, tzinfo=timezone.utc),
...                             what="the oven broke: Friday's orders are a day late",
...                             purchase_ids=["o-1", "o-2"])
>>> incident.severity
<Severity.MEDIUM: 'medium'>
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.recovery.severity import Severity, to_severity

__all__ = ["IncidentDeclared", "IncidentNotices"]


def _ids(field: str, value: Any) -> tuple[str, ...]:
    """Distinct ids, sorted: the order they were given in does not matter."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, "a collection of ids")
    return tuple(sorted({v.identifier(field, item) for item in value}))


def _to_customer_ids(value: Any) -> tuple[str, ...]:
    return _ids("customer_ids", value)


def _to_purchase_ids(value: Any) -> tuple[str, ...]:
    return _ids("purchase_ids", value)


@attrs.frozen(kw_only=True)
class IncidentDeclared:
    """``what`` failed (in words the customers read), declared at ``at``; it affects the
    customers ``customer_ids`` and the customers of the purchases ``purchase_ids``.
    :meth:`~custbond.RetentionService.declare_incident` tells each of them once."""

    id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    what: str = attrs.field(validator=v.is_text)
    severity: Severity = attrs.field(default=Severity.MEDIUM, converter=to_severity)
    customer_ids: tuple[str, ...] = attrs.field(default=(), converter=_to_customer_ids)
    purchase_ids: tuple[str, ...] = attrs.field(default=(), converter=_to_purchase_ids)

    def __attrs_post_init__(self) -> None:
        if not self.customer_ids and not self.purchase_ids:
            raise InvalidInput(
                "customer_ids", self.customer_ids, "affected customers or purchases (none given)"
            )


@attrs.frozen
class IncidentNotices:
    """What a :meth:`~custbond.RetentionService.declare_incident` call did: the
    customers ``notified`` now, those ``already`` told by an earlier call, and the
    ``unknown`` ids (customers the service has never seen, purchases it does not know,
    as ``"purchase <id>"``)."""

    notified: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
