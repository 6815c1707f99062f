"""A recovery case: one complaint, from filing to follow-up, as the customer's state keeps it.

A case is opened by a :class:`~custbond.ComplaintFiled` and kept under the complaint's
id. It holds the deadlines set when it was filed (to acknowledge, to resolve), the
escalation steps still waiting for their time (``timers``), those that fired
(``escalations``), the compensation the policy's ladder offers and what was given, and a
timeline of what happened, in order.

>>> from datetime import datetime, timedelta, timezone
>>> filed = datetime(2026, 3, 6, 18, 40, tzinfo=timezone.utc)
>>> case = RecoveryCase.open(id="cmp-1", category="late delivery", severity="high",
...                          filed_at=filed, acknowledge_by=filed + timedelta(hours=4))
>>> case.status, [step.what for step in case.timeline]
('open', ['filed'])
>>> case.breached("acknowledge", filed + timedelta(hours=5))
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.recovery.compensation import Compensation
from custbond.recovery.severity import Severity, to_severity

__all__ = ["TARGETS", "CaseStep", "RecoveryCase"]

TARGETS = ("acknowledge", "resolve")


class CaseStep(NamedTuple):
    """One line of a case's timeline: ``at``, ``what`` happened (``"filed"``,
    ``"acknowledged"``, ``"escalated"``, ``"resolved"``, ...), and ``detail`` in words."""

    at: datetime
    what: str
    detail: str = ""


class Timer(NamedTuple):
    """An escalation step that fires once ``due`` has passed unless ``target`` is met
    before: ``step`` is its place in the policy's list for the severity the case was
    filed with, and the step itself (``after``, ``notify``, ``raise_to``) is kept as it
    was then, so a policy changed later does not change what a case was promised."""

    step: int
    target: str
    due: datetime
    after: timedelta = timedelta(0)
    notify: str | None = None
    raise_to: Severity | None = None


def _steps(value: Any) -> tuple[CaseStep, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("timeline", value, "a sequence of (at, what, detail) steps")
    return tuple(CaseStep(*step) for step in value)


def _timers(value: Any) -> tuple[Timer, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("timers", value, "a sequence of (step, target, due) timers")
    timers = []
    for timer in value:
        step, target, due, *rest = timer
        after, notify, raise_to = (*rest, timedelta(0), None, None)[:3]
        level = None if raise_to is None else to_severity(raise_to)
        timers.append(Timer(step, target, due, after, notify, level))
    return tuple(timers)


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(v.integer("escalations", step, minimum=0) for step in value)


def _is_compensation(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Compensation):
        raise InvalidInput(attribute.name, value, "a Compensation or None")


@attrs.frozen(kw_only=True)
class RecoveryCase:
    """One complaint being put right. Times are aware; ``acknowledge_by`` and
    ``resolve_by`` are None when the policy sets no target for the severity.

    ``severity`` is where the case stands now (an escalation may raise it),
    ``filed_severity`` what it was filed with. ``offer`` is the compensation the policy's
    ladder chose (None without a ladder), ``given`` what the customer got when it was
    resolved. ``timeline`` never goes back in time: each step is at or after the one
    before (an event reported late, dated before the last step, is placed at the last
    step's time; its own time is kept in ``acknowledged_at`` or ``resolved_at``).
    """

    id: str = attrs.field(validator=v.is_identifier)
    category: str = attrs.field(validator=v.is_identifier)
    severity: Severity = attrs.field(converter=to_severity)
    filed_severity: Severity = attrs.field(converter=to_severity)
    filed_at: datetime = attrs.field(validator=v.is_aware)
    acknowledge_by: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    resolve_by: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    channel: str | None = attrs.field(default=None, validator=v.is_optional_text)
    about: str | None = attrs.field(default=None, validator=v.is_optional_text)
    order_value: Decimal | None = attrs.field(default=None, validator=v.is_optional_decimal)
    text: str | None = attrs.field(default=None, validator=v.is_optional_text)
    acknowledged_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    resolved_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    resolution: str | None = attrs.field(default=None, validator=v.is_optional_text)
    offer: Compensation | None = attrs.field(default=None, validator=_is_compensation)
    given: Compensation | None = attrs.field(default=None, validator=_is_compensation)
    timers: tuple[Timer, ...] = attrs.field(default=(), converter=_timers)
    escalations: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    timeline: tuple[CaseStep, ...] = attrs.field(default=(), converter=_steps)

    @classmethod
    def open(
        cls,
        *,
        id: str,
        category: str,
        severity: Severity | str,
        filed_at: datetime,
        **fields: Any,
    ) -> RecoveryCase:
        """A new case, its timeline starting with ``"filed"``."""
        level = to_severity(severity)
        step = CaseStep(filed_at, "filed", f"{category}, {level.value}")
        return cls(
            id=id,
            category=category,
            severity=level,
            filed_severity=level,
            filed_at=filed_at,
            timeline=(step,),
            **fields,
        )

    @property
    def status(self) -> str:
        """``"open"``, ``"acknowledged"`` or ``"resolved"``."""
        if self.resolved_at is not None:
            return "resolved"
        return "open" if self.acknowledged_at is None else "acknowledged"

    @property
    def next_due_at(self) -> datetime | None:
        """When the next escalation step falls due (None: none waits)."""
        return min((timer.due for timer in self.timers), default=None)

    def met_at(self, target: str) -> datetime | None:
        """When ``target`` (``"acknowledge"`` or ``"resolve"``) was met; a resolved case
        counts as acknowledged by then at the latest."""
        if target == "resolve":
            return self.resolved_at
        if self.acknowledged_at is None:
            return self.resolved_at
        if self.resolved_at is None:
            return self.acknowledged_at
        return min(self.acknowledged_at, self.resolved_at)

    def deadline(self, target: str) -> datetime | None:
        return self.acknowledge_by if target == "acknowledge" else self.resolve_by

    def breached(self, target: str, now: datetime) -> bool:
        """Whether ``target`` was missed: met after its deadline, or not met by ``now``
        with the deadline passed."""
        deadline = self.deadline(target)
        if deadline is None:
            return False
        met = self.met_at(target)
        return (met if met is not None else now) > deadline

    def time_to(self, target: str) -> timedelta | None:
        """How long meeting ``target`` took (wall-clock time); None while it is not met."""
        met = self.met_at(target)
        return None if met is None else met - self.filed_at

    def then(self, at: datetime, what: str, detail: str = "", **changes: Any) -> RecoveryCase:
        """The case with ``changes`` and a new timeline step ``what`` at ``at`` (or at
        the last step's time, when ``at`` is earlier: the timeline never goes back)."""
        last = self.timeline[-1].at if self.timeline else at
        step = CaseStep(max(at, last), what, detail)
        return attrs.evolve(self, timeline=(*self.timeline, step), **changes)

    def describe(self) -> str:
        """One line: id, category, severity, status."""
        return f"complaint {self.id} ({self.category}, {self.severity.value}): {self.status}"
