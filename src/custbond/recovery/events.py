"""The events of service recovery: complaints and survey answers. They are events like
any other (:func:`custbond.RetentionService.record` takes them, and ``custbond`` exports
them); they live here so that the recovery package can read them without importing all
of :mod:`custbond.events`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.recovery.compensation import Compensation
from custbond.recovery.severity import Severity, to_severity

__all__ = ["ComplaintAcknowledged", "ComplaintFiled", "ComplaintResolved", "SurveyResponse"]


@attrs.frozen(kw_only=True)
class ComplaintFiled:
    """The customer complained (``at``: when they did): ``category`` says about what
    ("late delivery"), ``severity`` how bad it is, ``channel`` how it reached the business,
    ``about`` the order or purchase it concerns, ``order_value`` what that order is worth
    (read from the purchase's record when ``about`` names a purchase the service knows
    and no value is given), ``text`` the customer's own words (erased with the customer).

    It opens a recovery case under the event's id (see ``docs/recovery.md``).

    >>> from datetime import timezone
    >>> ComplaintFiled(id="cmp-1", customer_id="c-1", at=datetime(2026, 3, 6, 18, 40,
    ...                tzinfo=timezone.utc), category="late delivery", severity="high").severity
    <Severity.HIGH: 'high'>
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    category: str = attrs.field(validator=v.is_identifier)
    severity: Severity = attrs.field(converter=to_severity)
    channel: str | None = attrs.field(default=None, validator=v.is_optional_text)
    about: str | None = attrs.field(default=None, validator=v.is_optional_text)
    order_value: Decimal | None = attrs.field(
        default=None, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    text: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class ComplaintAcknowledged:
    """Someone (``by``) told the customer their complaint ``complaint_id`` is being
    looked after."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    complaint_id: str = attrs.field(validator=v.is_identifier)
    by: str | None = attrs.field(default=None, validator=v.is_optional_text)


def _compensation_or_none(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None and not isinstance(value, Compensation):
        raise InvalidInput("compensation", value, "a Compensation or None (the case's offer)")


@attrs.frozen(kw_only=True)
class ComplaintResolved:
    """The complaint ``complaint_id`` was put right: ``resolution`` says how (free text,
    erased with the customer); ``compensation`` is what the customer was given, or None
    for the offer the policy's ladder chose (see :class:`~custbond.recovery.Compensation`).
    Points and vouchers are given by custbond; a refund is recorded for the host to pay.
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    complaint_id: str = attrs.field(validator=v.is_identifier)
    resolution: str | None = attrs.field(default=None, validator=v.is_optional_text)
    compensation: Compensation | None = attrs.field(default=None, validator=_compensation_or_none)
    by: str | None = attrs.field(default=None, validator=v.is_optional_text)


_SCALES = {"nps": (0, 10), "csat": (1, 5)}


@attrs.frozen(kw_only=True)
class SurveyResponse:
    """The customer answered a satisfaction survey: ``score`` on ``scale`` (``"nps"``,
    0 to 10: how likely they are to recommend the business; ``"csat"``, 1 to 5: how
    satisfied they are), a ``comment`` (free text, erased with the customer), what it is
    ``about`` (a complaint, an order) and its ``category``, for trends.

    >>> from datetime import timezone
    >>> SurveyResponse(id="s-1", customer_id="c-1", at=datetime(2026, 3, 20,
    ...                tzinfo=timezone.utc), scale="nps", score=4).is_detractor()
    True
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    scale: str = attrs.field()
    score: int = attrs.field(validator=v.is_int)
    comment: str | None = attrs.field(default=None, validator=v.is_optional_text)
    about: str | None = attrs.field(default=None, validator=v.is_optional_text)
    category: str | None = attrs.field(default=None, validator=v.is_optional_text)

    @scale.validator
    def _check_scale(self, attribute: object, value: object) -> None:
        if value not in _SCALES:
            raise InvalidInput("scale", value, "'nps' (0 to 10) or 'csat' (1 to 5)")

    def __attrs_post_init__(self) -> None:
        low, high = _SCALES[self.scale]
        if not low <= self.score <= high:
            raise InvalidInput("score", self.score, f"an int from {low} to {high} on {self.scale}")

    def is_detractor(self, low_csat: int = 2) -> bool:
        """An NPS of 0 to 6, or a CSAT of ``low_csat`` or less: someone to call back."""
        if self.scale == "nps":
            return self.score <= 6
        return self.score <= low_csat
