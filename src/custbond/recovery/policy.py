"""The recovery policy: how a business answers complaints, incidents and survey answers.

Per severity, targets to acknowledge and to resolve a complaint, counted in business
hours when the policy has a :class:`~custbond.recovery.BusinessCalendar`, and the
escalation steps taken when a target is missed; the compensation ladder; the apology; a
follow-up task and a satisfaction survey after the case is resolved; tasks for
detractors; and what an incident sends to the customers it affects.

>>> from datetime import timedelta
>>> policy = RecoveryPolicy(
...     targets={"high": Targets(acknowledge=timedelta(hours=4), resolve=timedelta(hours=16),
...                              escalations=[Escalation(target="acknowledge",
...                                                      notify="duty manager")])},
...     follow_up=FollowUp(owner="customer care", after=timedelta(days=2)),
... )
>>> policy.targets_for("high").acknowledge
datetime.timedelta(seconds=14400)
>>> policy.targets_for("low") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond._frozen import FrozenMap
from custbond.errors import InvalidInput
from custbond.messaging.occasions import Send
from custbond.recovery.calendar import BusinessCalendar
from custbond.recovery.case import TARGETS
from custbond.recovery.compensation import CompensationLadder, GoodwillPoints, GoodwillVoucher
from custbond.recovery.severity import Severity, to_severity

__all__ = [
    "Escalation",
    "FollowUp",
    "RecoveryPolicy",
    "SurveyInvite",
    "Targets",
]


def _is_positive_span(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(attribute.name, value, "a positive timedelta")


def _is_target(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in TARGETS:
        raise InvalidInput("target", value, "'acknowledge' or 'resolve'")


def _severity_or_none(value: Any) -> Severity | None:
    return None if value is None else to_severity(value)


@attrs.frozen(kw_only=True)
class Escalation:
    """A step taken when ``target`` (``"acknowledge"`` or ``"resolve"``) is missed by
    ``after`` (counted like the target: in business hours with a calendar): open a task
    for the role ``notify``, and/or raise the case's severity to ``raise_to`` (never
    lowers it). Each step fires at most once per case.

    >>> Escalation(target="resolve", after=timedelta(hours=8), raise_to="critical").describe()
    'resolve target missed by 8 hours: raise to critical'
    """

    target: str = attrs.field(validator=_is_target)
    after: timedelta = attrs.field(default=timedelta(0), validator=v.is_span)
    notify: str | None = attrs.field(default=None)
    raise_to: Severity | None = attrs.field(default=None, converter=_severity_or_none)

    def __attrs_post_init__(self) -> None:
        if self.notify is not None:
            v.identifier("notify", self.notify)
        elif self.raise_to is None:
            raise InvalidInput("notify", None, "a role to notify, or a severity to raise_to")

    def describe(self) -> str:
        when = "missed" if not self.after else f"missed by {describe_duration(self.after)}"
        actions = []
        if self.notify is not None:
            actions.append(f"notify {self.notify}")
        if self.raise_to is not None:
            actions.append(f"raise to {self.raise_to.value}")
        return f"{self.target} target {when}: {' and '.join(actions)}"


def _escalations(value: Any) -> tuple[Escalation, ...]:
    return v.instances("escalations", value, Escalation, "an Escalation")


@attrs.frozen(kw_only=True)
class Targets:
    """For one severity: acknowledge within ``acknowledge``, resolve within ``resolve``
    (business time with a calendar, else wall-clock), and the ``escalations`` taken when
    either is missed, in the order they fire."""

    acknowledge: timedelta = attrs.field(validator=_is_positive_span)
    resolve: timedelta = attrs.field(validator=_is_positive_span)
    escalations: tuple[Escalation, ...] = attrs.field(default=(), converter=_escalations)

    def __attrs_post_init__(self) -> None:
        if self.resolve < self.acknowledge:
            raise InvalidInput(
                "resolve", self.resolve, f"at least the acknowledge target ({self.acknowledge})"
            )


@attrs.frozen(kw_only=True)
class FollowUp:
    """A task for ``owner`` due ``after`` the moment that calls for it (a case resolved,
    a detractor's answer), saying ``reason``.

    >>> FollowUp(owner="customer care").describe()
    'customer care: call to ask how it went, 2 days after'
    """

    owner: str = attrs.field(validator=v.is_identifier)
    after: timedelta | relativedelta = attrs.field(default=timedelta(days=2), validator=v.is_delay)
    reason: str = attrs.field(default="call to ask how it went", validator=v.is_text)

    def due(self, at: datetime) -> datetime:
        return shift(at, self.after)

    def describe(self) -> str:
        when = (
            "at once" if self.after == timedelta(0) else describe_duration(self.after) + " after"
        )
        return f"{self.owner}: {self.reason}, {when}"


def _is_scale(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("nps", "csat"):
        raise InvalidInput("scale", value, "'nps' or 'csat'")


@attrs.frozen(kw_only=True)
class SurveyInvite:
    """A satisfaction survey sent ``after`` a case is resolved: the message ``send``
    (its context names the case, the category and the ``scale``)."""

    after: timedelta | relativedelta = attrs.field(default=timedelta(days=7), validator=v.is_delay)
    scale: str = attrs.field(default="nps", validator=_is_scale)
    send: Send = attrs.field(factory=lambda: Send(template="survey"))

    def due(self, at: datetime) -> datetime:
        return shift(at, self.after)


def _targets(value: Any) -> FrozenMap[Severity, Targets]:
    if not isinstance(value, Mapping):
        raise InvalidInput("targets", value, "a mapping of severities to Targets")
    converted = {}
    for severity, targets in value.items():
        level = to_severity(severity)
        if not isinstance(targets, Targets):
            raise InvalidInput(f"targets[{level.value!r}]", targets, "a Targets")
        converted[level] = targets
    return FrozenMap(converted)


def _goodwill(value: Any) -> tuple[GoodwillPoints | GoodwillVoucher, ...]:
    kinds = (GoodwillPoints, GoodwillVoucher)
    return v.instances("incident_goodwill", value, kinds, "GoodwillPoints or GoodwillVoucher")


def _check_type(kind: type | tuple[type, ...], what: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise InvalidInput(attribute.name, value, f"{what} or None")

    return check


def _is_when(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("filed", "acknowledged"):
        raise InvalidInput("apologize_when", value, "'filed' or 'acknowledged'")


def _is_low_csat(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise InvalidInput("low_csat", value, "an int from 1 to 4")


@attrs.frozen(kw_only=True)
class RecoveryPolicy:
    """How the business answers complaints, incidents and survey answers.

    - ``targets``: per severity (a mapping of ``Severity`` or its name to
      :class:`Targets`); a severity without targets has no deadlines.
    - ``calendar``: targets count business hours on it; without one, wall-clock time.
    - ``compensation``: the :class:`~custbond.recovery.CompensationLadder` that chooses
      the offer (None: an apology only).
    - ``apology``: the message that admits the fault, sent when the case is
      ``apologize_when`` (``"acknowledged"``, or ``"filed"``); None sends none.
    - ``follow_up``: a task after the case is resolved; ``survey``: a survey then.
    - ``detractors``: a task when a survey answer is a detractor's (NPS 0 to 6, or CSAT
      ``low_csat`` or less).
    - ``incident_notice``: what :meth:`~custbond.RetentionService.declare_incident`
      sends every affected customer (None: nothing), with the ``incident_goodwill``
      gestures (points, a voucher) given to each.
    """

    targets: FrozenMap[Severity, Targets] = attrs.field(factory=dict, converter=_targets)
    calendar: BusinessCalendar | None = attrs.field(
        default=None, validator=_check_type(BusinessCalendar, "a BusinessCalendar")
    )
    compensation: CompensationLadder | None = attrs.field(
        default=None, validator=_check_type(CompensationLadder, "a CompensationLadder")
    )
    apology: Send | None = attrs.field(
        factory=lambda: Send(template="apology"), validator=_check_type(Send, "a Send")
    )
    apologize_when: str = attrs.field(default="acknowledged", validator=_is_when)
    follow_up: FollowUp | None = attrs.field(
        default=None, validator=_check_type(FollowUp, "a FollowUp")
    )
    survey: SurveyInvite | None = attrs.field(
        default=None, validator=_check_type(SurveyInvite, "a SurveyInvite")
    )
    detractors: FollowUp | None = attrs.field(
        default=None, validator=_check_type(FollowUp, "a FollowUp")
    )
    low_csat: int = attrs.field(default=2, validator=_is_low_csat)
    incident_notice: Send | None = attrs.field(
        factory=lambda: Send(template="incident_notice"), validator=_check_type(Send, "a Send")
    )
    incident_goodwill: tuple[GoodwillPoints | GoodwillVoucher, ...] = attrs.field(
        default=(), converter=_goodwill
    )

    def targets_for(self, severity: Severity | str) -> Targets | None:
        """The targets for ``severity`` (None when the policy sets none)."""
        return self.targets.get(to_severity(severity))

    def deadline(self, start: datetime, within: timedelta) -> datetime:
        """``within`` after ``start``: in business time on the calendar, if there is one."""
        if self.calendar is None:
            return start + within
        return self.calendar.add(start, within)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The time from ``start`` to ``end`` as targets count it."""
        if self.calendar is None:
            return end - start
        return self.calendar.between(start, end)

    def messages(self) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
        """(field, template, channel, values) for every message the policy may send: the
        field that sends it, and the values (besides ``name``, which every message gets)
        it is queued with, which its template may use (``Program`` checks it).

        - ``recovery.apology``: ``complaint`` (the case's id), ``category``, ``offer``
          (the compensation offered, in words, or ``""``);
        - ``recovery.survey.send``: ``complaint``, ``category``, ``scale`` (``"nps"``
          or ``"csat"``);
        - ``recovery.incident_notice``: ``incident`` (its id), ``what`` (what failed),
          ``severity`` (its name).

        >>> [(field, values) for field, _, _, values in RecoveryPolicy().messages()]
        [('recovery.apology', ('complaint', 'category', 'offer')),
         ('recovery.incident_notice', ('incident', 'what', 'severity'))]
        """
        sends = [
            ("recovery.apology", self.apology, _APOLOGY),
            ("recovery.survey.send", None if self.survey is None else self.survey.send, _SURVEY),
            ("recovery.incident_notice", self.incident_notice, _INCIDENT_NOTICE),
        ]
        return tuple(
            (field, send.template, send.channel, values)
            for field, send, values in sends
            if send is not None
        )

    def templates(self) -> tuple[tuple[str, str, str], ...]:
        """(field, template, channel) for every message the policy may send (see
        :meth:`messages`, which says their values too)."""
        return tuple((field, name, channel) for field, name, channel, _ in self.messages())


# The values of each message the policy sends, as recovery/decisions.py queues them: the
# apology (_apologize), the survey (resolve) and the incident notice (notify).
_APOLOGY = ("complaint", "category", "offer")
_SURVEY = ("complaint", "category", "scale")
_INCIDENT_NOTICE = ("incident", "what", "severity")
