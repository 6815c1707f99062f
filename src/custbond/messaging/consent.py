"""Consent: what each customer agreed to be sent, per channel and kind of message.

Marketing needs a customer's consent on the channel, and stops when they opt out.
Transactional messages flow unless the customer refused them on that channel. Each
:class:`Consent` keeps when it was given or withdrawn and where (``source``: the sign-up
form, the till, an unsubscribe link), so a host can show why a message went out.
The latest consent for a channel and kind replaces the one before.

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> consents = {consent_key("email", MessageKind.MARKETING):
...             Consent(channel="email", kind="marketing", granted=True, at=at,
...                     source="signup form")}
>>> allows(consents, "email", MessageKind.MARKETING)
(True, 'marketing on email consented to at 2026-03-02T09:00:00+00:00 (signup form)')
>>> allows(consents, "sms", MessageKind.MARKETING)
(False, 'no consent to marketing on sms')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.messaging.message import MessageKind, _to_kind

__all__ = ["Consent", "allows", "consent_key"]


def _is_bool(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(attribute.name, value, "True or False")


@attrs.frozen(kw_only=True)
class Consent:
    """The customer agreed (``granted``) or refused to be sent ``kind`` messages on
    ``channel``, at ``at``, as ``source`` records (where the answer came from)."""

    channel: str = attrs.field(validator=v.is_identifier)
    kind: MessageKind = attrs.field(converter=_to_kind)
    granted: bool = attrs.field(validator=_is_bool)
    at: datetime = attrs.field(validator=v.is_aware)
    source: str = attrs.field(validator=v.is_identifier)

    @property
    def key(self) -> str:
        return consent_key(self.channel, self.kind)

    def describe(self) -> str:
        """``"marketing on email consented to at ... (signup form)"``, or "refused"."""
        verb = "consented to" if self.granted else "refused"
        return (
            f"{self.kind.value} on {self.channel} {verb} at {self.at.isoformat()} ({self.source})"
        )


def consent_key(channel: str, kind: MessageKind | str) -> str:
    """How a customer's consents are keyed: ``"email/marketing"``."""
    return f"{channel}/{MessageKind(kind).value}"


def allows(consents: Mapping[str, Consent], channel: str, kind: MessageKind) -> tuple[bool, str]:
    """Whether a ``kind`` message may go to the customer on ``channel``, and why."""
    found = consents.get(consent_key(channel, kind))
    if found is not None:
        return found.granted, found.describe()
    if kind is MessageKind.MARKETING:
        return False, f"no consent to marketing on {channel}"
    return True, f"transactional messages on {channel} flow unless refused"
