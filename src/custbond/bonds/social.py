"""The social bond: a person the customer knows, who keeps in touch.

A hairdresser, a trainer, an account manager: each customer may have a **relationship
owner** (``service.assign_owner()``; the policy's ``default_owner`` otherwise). A
:class:`Cadence` ("touch every 30 days; follow up before they have to ask") opens a task
for the owner when the customer has had no personal contact for that long, a few days
ahead if the cadence says so; a :class:`~custbond.ContactMade` event (a call, a visit
to chat, a note written by hand) starts the count again. :class:`CallAfter` opens a
"call to ask how it went" task a set time after an event (a visit, an appointment, a
purchase, a resolved complaint).

>>> from datetime import timedelta
>>> policy = SocialPolicy(default_owner="Lena",
...                       cadence=Cadence(every=timedelta(days=42), ahead=timedelta(days=7)),
...                       call_after=[CallAfter(on="Visit", after=timedelta(days=2))])
>>> policy.cadence.describe()
'keep in touch: a task when there has been no personal contact for 42 days, 7 days ahead'
>>> policy.calls_after("Visit")[0].reason
'call to ask how it went'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.errors import InvalidInput

__all__ = ["CALLABLE_EVENTS", "Cadence", "CallAfter", "SocialPolicy"]

# The events a call may follow: what a person would ring up about.
CALLABLE_EVENTS = ("Purchase", "Visit", "Appointment", "ComplaintResolved", "Signup")


@attrs.frozen(kw_only=True)
class Cadence:
    """Keep in touch ``every`` so long: when the customer has had no personal contact
    for that long, their owner gets a task (due then), opened ``ahead`` of it so they
    can follow up before the customer has to ask. Without a contact, the next task
    comes ``every`` later again."""

    every: timedelta | relativedelta = attrs.field(validator=v.is_duration)
    ahead: timedelta = attrs.field(default=timedelta(0), validator=v.is_span)
    reason: str = attrs.field(default="keep in touch", validator=v.is_text)

    def __attrs_post_init__(self) -> None:
        probe = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself
        if shift(probe, self.every) - self.ahead <= probe:
            raise InvalidInput("ahead", self.ahead, f"less than every ({self.every})")

    def due(self, since: datetime) -> datetime:
        """When the gap since ``since`` reaches ``every``."""
        return shift(since, self.every)

    def opens(self, since: datetime) -> datetime:
        """When the task for a gap that started at ``since`` is opened."""
        return self.due(since) - self.ahead

    def describe(self) -> str:
        ahead = "" if not self.ahead else f", {describe_duration(self.ahead)} ahead"
        every = describe_duration(self.every)
        return f"{self.reason}: a task when there has been no personal contact for {every}{ahead}"


def _is_callable_event(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in CALLABLE_EVENTS:
        raise InvalidInput("on", value, f"one of {', '.join(CALLABLE_EVENTS)}")


@attrs.frozen(kw_only=True)
class CallAfter:
    """A task ``after`` each event of type ``on`` (``"Visit"``, ``"Appointment"``,
    ...), for ``owner`` (the customer's relationship owner when None), saying
    ``reason``. After an appointment it counts from the appointment's start."""

    on: str = attrs.field(validator=_is_callable_event)
    after: timedelta | relativedelta = attrs.field(default=timedelta(days=1), validator=v.is_delay)
    reason: str = attrs.field(default="call to ask how it went", validator=v.is_text)
    owner: str | None = attrs.field(default=None, validator=v.is_optional_identifier)

    def describe(self) -> str:
        when = "at once" if self.after == timedelta(0) else describe_duration(self.after)
        who = "" if self.owner is None else f" ({self.owner})"
        return f"after each {self.on}: {self.reason}, {when} later{who}"


def _calls(value: Any) -> tuple[CallAfter, ...]:
    return v.instances("call_after", value, CallAfter, "a CallAfter")


@attrs.frozen(kw_only=True)
class SocialPolicy:
    """The social bond of a program: who owns a customer's relationship when nobody was
    assigned (``default_owner``), how often to keep in touch (``cadence``), and which
    events call for a call (``call_after``)."""

    default_owner: str | None = attrs.field(default=None, validator=v.is_optional_identifier)
    cadence: Cadence | None = attrs.field(default=None)
    call_after: tuple[CallAfter, ...] = attrs.field(default=(), converter=_calls)

    @cadence.validator
    def _check_cadence(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, Cadence):
            raise InvalidInput("cadence", value, "a Cadence or None")

    def calls_after(self, event_type: str) -> tuple[CallAfter, ...]:
        """The calls an event of ``event_type`` asks for."""
        return tuple(call for call in self.call_after if call.on == event_type)

    def owner_of(self, assigned: str | None) -> str | None:
        """Who a customer's tasks go to: the owner assigned to them, else the default."""
        return assigned if assigned is not None else self.default_owner
