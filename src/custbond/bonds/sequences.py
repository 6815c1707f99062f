"""Autoresponder sequences, a structural bond: messages that follow an event on a schedule.

A customer who signs up for the newsletter gets a welcome at once, a note on day 3 and
another on day 10. A :class:`Sequence` says which event makes a customer **enter** it
(``on``), its steps (each ``after`` so long from entering), and which events make them
**leave** it (a purchase ends a sequence meant to lead to one). Each customer's place in
a sequence is an :class:`Enrollment`; the functions here move it along, purely: time is
an argument, nothing is read or stored.

- A customer enters a sequence once, ever: when they have an enrollment (running,
  finished or left), :func:`enter` gives None. So a step's message key
  (:func:`step_key`) names the customer, the sequence and the step, and nothing else.
- :func:`due_steps` hands out the steps whose time has come and moves the enrollment past
  them, so no step is ever due twice.
- Two clocks, each for its own question. Who is in the sequence, from when to when, goes
  by the events' own dates: a customer enters at the date of the event that entered them
  and leaves at the date of the one that ended it, however late either was recorded. The
  steps go by when the customer was entered (``steps_from``, the time the entering event
  was recorded): a signup loaded two days late still gets its welcome at once and day 3
  three days later, not everything, or only the last step, the moment it arrives.

>>> from datetime import datetime, timedelta, timezone
>>> newsletter = Sequence(
...     name="newsletter", on="CustomEvent", event_name="newsletter",
...     steps=[SequenceStep(after=timedelta(0), template="welcome"),
...            SequenceStep(after=timedelta(days=3), template="our_story"),
...            SequenceStep(after=timedelta(days=10), template="best_sellers")],
...     leave_on=["Purchase"])
>>> joined = datetime(2026, 3, 2, 8, tzinfo=timezone.utc)
>>> enrollment = enter(newsletter, None, at=joined)
>>> enrollment, due = due_steps(newsletter, enrollment, now=joined)
>>> [(step.step.template, step.send) for step in due], enrollment.sent
([('welcome', True)], 1)
>>> due_at(newsletter, enrollment).isoformat()
'2026-03-05T08:00:00+00:00'
>>> enter(newsletter, enrollment, at=joined + timedelta(days=1)) is None
True
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.errors import InvalidInput
from custbond.events import EVENT_TYPES
from custbond.messaging.message import MessageKind, _to_kind, automatic_key
from custbond.rules.conditions import Always, Condition
from custbond.rules.facts import FACTS
from custbond.rules.rule import condition_of

__all__ = [
    "LEAVINGS_KEPT",
    "LEAVINGS_MOST",
    "SEQUENCE_EVENTS",
    "DueStep",
    "Enrollment",
    "Sequence",
    "SequenceStep",
    "due_at",
    "due_steps",
    "enter",
    "enter_earlier",
    "leave",
    "remember",
    "step_key",
    "step_keys",
]

# The event types that may make a customer enter or leave a sequence: every event a host
# records (Purchase, Return, Visit, Signup, CustomEvent, ..., ContactMade), by class name
# as rules name them. Kept in step with custbond.events, so a new event type counts too.
SEQUENCE_EVENTS: tuple[str, ...] = tuple(cls.__name__ for cls in EVENT_TYPES)

# How long an event that would make a customer leave is remembered when it could not yet
# (the customer had not entered, or entered later by date): an entering event dated before
# it and recorded within this of its own date still finds it. A week covers webhooks that
# arrive late or out of order; an import of older signups is later than that.
LEAVINGS_KEPT = timedelta(days=7)
# And at most this many of them per sequence, the latest by date: a customer who buys
# often and never signs up would otherwise keep every purchase of the last week, for as
# long as no newer one comes. An entering event dated before all of them leaves on the
# earliest kept (not the earliest there was): it leaves at once all the same.
LEAVINGS_MOST = 8

# An event remembered for when it may count: its date, and why the customer would leave.
Leaving = tuple[datetime, str]


@attrs.frozen(kw_only=True)
class SequenceStep:
    """One message of a sequence: ``template``, sent ``after`` so long from the moment the
    customer entered (``timedelta(0)``: at once). ``name`` is what descriptions call it
    (the template when None).

    >>> from datetime import timedelta
    >>> SequenceStep(after=timedelta(days=3), template="our_story").describe()
    'our_story after 3 days'
    """

    after: timedelta | relativedelta = attrs.field(validator=v.is_delay)
    template: str = attrs.field(validator=v.is_identifier)
    name: str | None = attrs.field(default=None, validator=v.is_optional_identifier)

    def describe(self) -> str:
        label = self.template if self.name is None else self.name
        if isinstance(self.after, timedelta) and self.after == timedelta(0):
            return f"{label} at once"
        return f"{label} after {describe_duration(self.after)}"


def _event_type(field: str, value: Any) -> str:
    if value not in SEQUENCE_EVENTS:
        raise InvalidInput(field, value, f"one of {', '.join(SEQUENCE_EVENTS)}")
    assert isinstance(value, str)  # every name in SEQUENCE_EVENTS is one
    return value


def _is_event_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _event_type(attribute.name, value)


def _steps(value: Any) -> tuple[SequenceStep, ...]:
    return v.instances("steps", value, SequenceStep, "a SequenceStep")


def _leave_on(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # one event type on its own is a tuple of one, not letters
        value = (value,)
    if isinstance(value, set | frozenset):  # in an order that is the same on every run
        value = sorted(value, key=str)
    if not isinstance(value, list | tuple | set | frozenset):
        raise InvalidInput("leave_on", value, "a sequence of event types")
    return tuple(_event_type("leave_on", name) for name in value)


# Where an ``after`` is a number of months, how long it is depends on the day it counts
# from (a month from 31 January is 28 days; from 1 March, 31). Two steps are in order when
# they are on every day one could enter: these days stand for all of them. Days 1 to 28
# all add months alike; 29 to 31 are clipped in short months; four years hold a leap day
# and each month length, before and after it.
# They are naive on purpose: only compared with each other.
_PROBES = tuple(
    datetime(year, month, day)  # noqa: DTZ001
    for year in range(2000, 2004)
    for month in range(1, 13)
    for day in (1, 28, 29, 30, 31)
    if day <= monthrange(year, month)[1]
)


def _in_order(earlier: timedelta | relativedelta, later: timedelta | relativedelta) -> bool:
    if isinstance(earlier, timedelta) and isinstance(later, timedelta):
        return earlier <= later
    return all(shift(day, earlier) <= shift(day, later) for day in _PROBES)


@attrs.frozen(kw_only=True)
class Sequence:
    """An autoresponder: when a customer has an event of type ``on`` (for ``on=
    "CustomEvent"``, only one named ``event_name`` when that is given), they enter the
    sequence and get its ``steps`` in order, until they have had them all or an event of a
    type in ``leave_on`` makes them leave (one for which ``leave_when``, a condition as
    rules have them, holds: ``"event.name == 'unsubscribe'"``). The messages are of
    ``kind`` (marketing ones need the customer's consent). ``catch_up``: see :func:`due_steps`.

    >>> from datetime import timedelta
    >>> from dateutil.relativedelta import relativedelta
    >>> Sequence(name="onboarding", on="Signup", leave_on=["Purchase"],
    ...          steps=[SequenceStep(after=timedelta(0), template="welcome"),
    ...                 SequenceStep(after=relativedelta(months=1), template="tips",
    ...                              name="a month in")]).describe()
    'onboarding: on each Signup, welcome at once, a month in after 1 month;
     leaves on Purchase (marketing)'
    """

    name: str = attrs.field(validator=v.is_identifier)
    on: str = attrs.field(validator=_is_event_type)
    event_name: str | None = attrs.field(default=None, validator=v.is_optional_identifier)
    steps: tuple[SequenceStep, ...] = attrs.field(converter=_steps)
    leave_on: tuple[str, ...] = attrs.field(default=(), converter=_leave_on)
    leave_when: Condition = attrs.field(factory=Always, converter=condition_of)
    kind: MessageKind = attrs.field(default=MessageKind.MARKETING, converter=_to_kind)
    catch_up: bool = attrs.field(default=False)

    @steps.validator
    def _check_steps(self, attribute: object, value: tuple[SequenceStep, ...]) -> None:
        if not value:
            raise InvalidInput("steps", value, "at least one SequenceStep")
        for index, (earlier, later) in enumerate(pairwise(value), 1):
            if not _in_order(earlier.after, later.after):
                raise InvalidInput(
                    f"steps[{index}].after",
                    later.after,
                    f"no earlier than the step before it ({earlier.after}) on any day",
                )

    @catch_up.validator
    def _check_catch_up(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("catch_up", value, "True or False")

    def __attrs_post_init__(self) -> None:
        if self.event_name is not None and self.on != "CustomEvent":
            raise InvalidInput("event_name", self.event_name, 'None unless on is "CustomEvent"')
        # An event that both enters and leaves would make the order in which a host applies
        # the two decide whether the sequence runs at all: say it one way only (a
        # leave_when may tell them apart: newsletter in, unsubscribe out).
        if self.on in self.leave_on and isinstance(self.leave_when, Always):
            raise InvalidInput(
                "leave_on",
                self.on,
                f"event types other than on ({self.on}), or a leave_when telling them apart",
            )
        if len(set(self.leave_on)) != len(self.leave_on):
            raise InvalidInput("leave_on", self.leave_on, "event types named once each")
        if not isinstance(self.leave_when, Always) and not self.leave_on:
            raise InvalidInput(
                "leave_when", str(self.leave_when), "a leave_on saying which events"
            )
        for name in sorted(self.leave_when.facts()):  # as a rule's condition is checked
            events = FACTS[name].events
            if events is not None and not set(self.leave_on) <= events:
                raise InvalidInput(
                    "leave_when",
                    name,
                    f"facts of every event in leave_on={list(self.leave_on)} ({name} is only "
                    f"for {', '.join(sorted(events))})",
                )

    def enters_on(self, event_type: str, name: str | None = None) -> bool:
        """Whether an event of ``event_type`` (a custom event's ``name``) makes a customer
        enter this sequence."""
        if event_type != self.on:
            return False
        return self.event_name is None or name == self.event_name

    def leaves_on(self, event_type: str) -> bool:
        """Whether an event of ``event_type`` may make a customer leave this sequence
        (when ``leave_when`` holds for it too)."""
        return event_type in self.leave_on

    def describe(self) -> str:
        trigger = self.on if self.event_name is None else f"{self.on} {self.event_name!r}"
        steps = ", ".join(step.describe() for step in self.steps)
        leaves = f"; leaves on {', '.join(self.leave_on)}" if self.leave_on else ""
        if not isinstance(self.leave_when, Always):
            leaves += f" when {self.leave_when}"
        catch_up = ", every step caught up" if self.catch_up else ""
        return f"{self.name}: on each {trigger}, {steps}{leaves} ({self.kind}{catch_up})"


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else value  # anything else: refused


@attrs.frozen(kw_only=True)
class Enrollment:
    """Where a customer is in the sequence named ``sequence``: entered at ``entered_at``
    (the date of the event that entered them), ``sent`` steps done (sent, or passed over
    as stale), and, once they have left, when (``left_at``, the date of the event that
    ended it) and why (``left_because``). The steps count from ``steps_from``: when the
    entering event was recorded, which is ``entered_at`` unless it was recorded late (and
    for enrollments stored before ``steps_from`` was kept, which knew no other time).

    >>> from datetime import datetime, timezone
    >>> enrollment = Enrollment(sequence="newsletter",
    ...                         entered_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> enrollment.is_active, enrollment.sent, enrollment.steps_from.day
    (True, 0, 2)
    """

    sequence: str = attrs.field(validator=v.is_identifier)
    entered_at: datetime = attrs.field(validator=v.is_moment)
    sent: int = attrs.field(default=0)
    left_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    left_because: str | None = attrs.field(default=None)
    # Last, and with a default: a stored enrollment written before it existed is one value
    # shorter, and reads back with its steps counting from entered_at, as they did.
    steps_from: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.entered_at, takes_self=True),
        validator=v.is_moment,
    )
    # Also last, with a default, for the same reason: the events that would have made the
    # customer leave, dated before they entered, kept (see remember()) in case an entering
    # event dated earlier still comes (see enter_earlier()).
    leavings: tuple[Leaving, ...] = attrs.field(default=(), converter=_as_tuple)

    @leavings.validator
    def _check_leavings(self, attribute: object, value: tuple[Any, ...]) -> None:
        if not isinstance(value, tuple):
            raise InvalidInput("leavings", value, "a tuple of (datetime, reason) pairs")
        entered = self.entered_at.astimezone(UTC)
        for index, item in enumerate(value):
            field = f"leavings[{index}]"
            if not isinstance(item, tuple) or len(item) != 2:
                raise InvalidInput(field, item, "a (datetime, reason) pair")
            at = v.aware(field, item[0])
            v.text(field, item[1])
            if at.astimezone(UTC) >= entered:
                raise InvalidInput(field, item, f"dated before entered_at ({self.entered_at})")

    @sent.validator
    def _check_sent(self, attribute: object, value: object) -> None:
        v.integer("sent", value, minimum=0)

    @left_because.validator
    def _check_left_because(self, attribute: object, value: object) -> None:
        if (value is None) != (self.left_at is None):
            raise InvalidInput("left_because", value, "given exactly when left_at is")
        if value is not None:
            v.text("left_because", value)

    @property
    def is_active(self) -> bool:
        """True until the customer leaves (they may still have had every step: see
        :meth:`is_finished`)."""
        return self.left_at is None

    def is_finished(self, sequence: Sequence) -> bool:
        """Whether every step of ``sequence`` is done (sent or passed over)."""
        return self.sent >= len(_checked(sequence, self).steps)


@attrs.frozen(kw_only=True)
class DueStep:
    """A step whose time has come: its ``index`` in the sequence, the ``step``, when it
    fell ``due_at``, and whether to ``send`` it (False: passed over as stale)."""

    index: int = attrs.field(validator=v.is_int)
    step: SequenceStep = attrs.field()
    due_at: datetime = attrs.field(validator=v.is_aware)
    send: bool = attrs.field()

    @step.validator
    def _check_step(self, attribute: object, value: object) -> None:
        if not isinstance(value, SequenceStep):
            raise InvalidInput("step", value, "a SequenceStep")

    @send.validator
    def _check_send(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("send", value, "True or False")


def _checked(sequence: Any, enrollment: Any) -> Sequence:
    """``sequence``, once it and ``enrollment`` are seen to belong together."""
    if not isinstance(sequence, Sequence):
        raise InvalidInput("sequence", sequence, "a Sequence")
    if not isinstance(enrollment, Enrollment):
        raise InvalidInput("enrollment", enrollment, "an Enrollment")
    if enrollment.sequence != sequence.name:
        raise InvalidInput(
            "enrollment", enrollment.sequence, f"an enrollment in {sequence.name!r}"
        )
    if enrollment.sent > len(sequence.steps):
        raise InvalidInput(
            "enrollment.sent", enrollment.sent, f"at most {len(sequence.steps)} (the steps)"
        )
    return sequence


def enter(
    sequence: Sequence,
    enrollment: Enrollment | None,
    *,
    at: datetime,
    steps_from: datetime | None = None,
    leavings: tuple[Leaving, ...] = (),
) -> Enrollment | None:
    """The customer's enrollment in ``sequence`` from ``at``, the date of the event that
    enters them, its steps counting from ``steps_from`` (when that event was recorded;
    ``at`` when not given); None when they already have one (``enrollment``), running,
    finished or left: a customer enters a sequence once, ever, so a second signup does
    not start the welcome mails again.

    >>> from datetime import datetime, timedelta, timezone
    >>> welcome = Sequence(name="welcome", on="Signup",
    ...                    steps=[SequenceStep(after=timedelta(0), template="welcome")])
    >>> signed_up = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> late = enter(welcome, None, at=signed_up, steps_from=signed_up + timedelta(days=1))
    >>> late.entered_at.day, late.steps_from.day
    (2, 3)

    ``leavings`` are the events that would have made the customer leave, recorded before
    this one (see :func:`remember`): the earliest dated at or after ``at`` makes them leave
    at once, as it would have had the two been recorded in the order they happened; the
    others are kept in the enrollment (see :func:`enter_earlier`).

    >>> bought = (signed_up + timedelta(hours=2), "Purchase o-1")
    >>> enter(welcome, None, at=signed_up, leavings=(bought,)).left_because
    'Purchase o-1'
    """
    if enrollment is not None:
        _checked(sequence, enrollment)
        return None
    if not isinstance(sequence, Sequence):
        raise InvalidInput("sequence", sequence, "a Sequence")
    at = v.moment("at", at)
    steps_from = at if steps_from is None else v.moment("steps_from", steps_from)
    entered = Enrollment(sequence=sequence.name, entered_at=at, steps_from=steps_from)
    return _with_leavings(entered, _leavings(leavings))


def _utc(moment: datetime) -> datetime:
    # Compared in UTC: two datetimes that share a tzinfo compare by their wall clocks.
    return moment.astimezone(UTC)


def _leavings(value: Any) -> tuple[Leaving, ...]:
    if not isinstance(value, tuple | list):
        raise InvalidInput("leavings", value, "a tuple of (datetime, reason) pairs")
    for index, item in enumerate(value):
        if not isinstance(item, tuple) or len(item) != 2:
            raise InvalidInput(f"leavings[{index}]", item, "a (datetime, reason) pair")
        v.aware(f"leavings[{index}]", item[0])
        v.text(f"leavings[{index}]", item[1])
    return tuple(value)


def _with_leavings(enrollment: Enrollment, leavings: tuple[Leaving, ...]) -> Enrollment:
    """``enrollment`` with ``leavings`` (by date, first recorded first among equals) taken
    in: those dated from when it was entered make the customer leave (the earliest stays,
    as :func:`leave` keeps it), the rest are remembered."""
    entered = _utc(enrollment.entered_at)
    before = tuple(item for item in leavings if _utc(item[0]) < entered)
    for at, because in leavings:
        if _utc(at) >= entered:
            enrollment = leave(enrollment, at=at, because=because)
    return attrs.evolve(enrollment, leavings=before)


def enter_earlier(enrollment: Enrollment, *, at: datetime) -> Enrollment:
    """``enrollment`` when an entering event dated ``at`` is recorded after the one that
    entered the customer: entered at ``at`` if that is earlier (the earliest entering event
    decides, whatever the order they were recorded in), and then made to leave by the
    earliest of its remembered ``leavings`` dated at or after ``at``, as it would have had
    the events been recorded in the order they happened. Its steps still count from
    ``steps_from``: those handed out stay handed out, and the rest are not moved.

    >>> from datetime import datetime, timezone
    >>> day = lambda number: datetime(2026, 3, number, tzinfo=timezone.utc)
    >>> enrolled = Enrollment(sequence="newsletter", entered_at=day(5), sent=1,
    ...                       leavings=((day(3), "Purchase o-1"),))
    >>> earlier = enter_earlier(enrolled, at=day(2))
    >>> earlier.entered_at.day, earlier.left_at.day, earlier.sent, earlier.leavings
    (2, 3, 1, ())
    >>> enter_earlier(enrolled, at=day(6)) == enrolled
    True
    """
    if not isinstance(enrollment, Enrollment):
        raise InvalidInput("enrollment", enrollment, "an Enrollment")
    at = v.moment("at", at)
    if _utc(at) >= _utc(enrollment.entered_at):
        return enrollment
    moved = attrs.evolve(enrollment, entered_at=at, leavings=())
    return _with_leavings(moved, enrollment.leavings)


def remember(
    leavings: tuple[Leaving, ...], *, at: datetime, because: str, now: datetime
) -> tuple[Leaving, ...]:
    """``leavings`` with an event dated ``at`` that would make the customer leave
    (``because``) but cannot yet, recorded at ``now``: in date order (after those of the
    same date: the first recorded stays first), and without those dated more than
    :data:`LEAVINGS_KEPT` before ``now``, keeping at most :data:`LEAVINGS_MOST` (the
    latest). An entering event recorded within that of its own date finds the earliest
    kept that is dated at or after it.

    >>> from datetime import datetime, timedelta, timezone
    >>> now = datetime(2026, 3, 20, tzinfo=timezone.utc)
    >>> kept = remember((), at=now - timedelta(days=1), because="Purchase o-2", now=now)
    >>> kept = remember(kept, at=now - timedelta(days=2), because="Purchase o-1", now=now)
    >>> [because for _, because in kept]
    ['Purchase o-1', 'Purchase o-2']
    >>> later = remember(kept, at=now, because="Purchase o-3", now=now + timedelta(days=6))
    >>> [because for _, because in later]
    ['Purchase o-2', 'Purchase o-3']
    """
    at, now = v.moment("at", at), v.aware("now", now)
    because = v.text("because", because)
    since = _utc(now) - LEAVINGS_KEPT
    kept = [item for item in (*_leavings(leavings), (at, because)) if _utc(item[0]) >= since]
    kept.sort(key=lambda item: _utc(item[0]))  # stable: the first recorded stays first
    return tuple(kept[-LEAVINGS_MOST:])


def leave(enrollment: Enrollment, *, at: datetime, because: str) -> Enrollment:
    """``enrollment`` after the customer left at ``at`` ``because`` (an event type, a
    host's reason): ``at`` is the leaving event's own date, compared with the entering
    event's (``entered_at``), never with when either was recorded.

    An event dated before the customer entered (recorded late) does not end the
    enrollment: ``enrollment`` comes back as it was. Had it been recorded in its turn,
    before the entering, there would have been nothing to leave; so the outcome does not
    depend on the order in which a host records the two, and ``left_at`` is never before
    ``entered_at``. A host whose sequence should not start for a customer who bought
    already says so where the customer enters (the entering event), not here.

    Leaving twice keeps the earlier leaving by date: a later one changes nothing, and an
    earlier one recorded late (two orders loaded out of order) replaces it, so who left
    when does not depend on the order either. Of two at the same moment, the first
    recorded stays.

    >>> from datetime import datetime, timezone
    >>> enrolled = Enrollment(sequence="newsletter",
    ...                       entered_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> left = leave(enrolled, at=datetime(2026, 3, 4, tzinfo=timezone.utc), because="Purchase")
    >>> again = leave(left, at=datetime(2026, 3, 9, tzinfo=timezone.utc), because="unsubscribed")
    >>> again.is_active, again.left_because, again.left_at.day
    (False, 'Purchase', 4)
    >>> leave(enrolled, at=datetime(2026, 3, 1, tzinfo=timezone.utc), because="Purchase").is_active
    True
    >>> leave(left, at=datetime(2026, 3, 3, tzinfo=timezone.utc), because="o-1").left_because
    'o-1'
    """
    if not isinstance(enrollment, Enrollment):
        raise InvalidInput("enrollment", enrollment, "an Enrollment")
    at = v.moment("at", at)
    because = v.text("because", because)
    # Compared in UTC: two datetimes that share a tzinfo compare by their wall clocks.
    if at.astimezone(UTC) < enrollment.entered_at.astimezone(UTC):
        return enrollment
    left_at = enrollment.left_at
    if left_at is not None and at.astimezone(UTC) >= left_at.astimezone(UTC):
        return enrollment
    return attrs.evolve(enrollment, left_at=at, left_because=because)


def _due(sequence: Sequence, enrollment: Enrollment, index: int) -> datetime:
    return shift(enrollment.steps_from, sequence.steps[index].after)


def due_at(sequence: Sequence, enrollment: Enrollment) -> datetime | None:
    """When the next step of ``sequence`` falls due: the moment the steps count from
    (``enrollment.steps_from``, when the customer was entered), shifted by the step's
    ``after`` (in that moment's time zone, so "3 days" keeps the wall-clock time across a
    change of the clocks). None once every step is done or the customer has left.

    >>> from datetime import datetime, timedelta, timezone
    >>> tips = Sequence(name="tips", on="Signup",
    ...                 steps=[SequenceStep(after=timedelta(days=2), template="tips")])
    >>> enrolled = Enrollment(sequence="tips",
    ...                       entered_at=datetime(2026, 3, 2, 10, tzinfo=timezone.utc))
    >>> due_at(tips, enrolled).isoformat(), due_at(tips, attrs.evolve(enrolled, sent=1))
    ('2026-03-04T10:00:00+00:00', None)
    """
    _checked(sequence, enrollment)
    if not enrollment.is_active or enrollment.is_finished(sequence):
        return None
    return _due(sequence, enrollment, enrollment.sent)


def due_steps(
    sequence: Sequence, enrollment: Enrollment, *, now: datetime
) -> tuple[Enrollment, tuple[DueStep, ...]]:
    """The steps of ``sequence`` that have fallen due by ``now`` (due at or before it), in
    order, and the enrollment moved past them. A step is never due twice: the enrollment
    counts the steps done, and a second call with the same or an earlier ``now`` finds
    none. A customer who left gets nothing more.

    When several steps are due at once (the job that calls this did not run for a while),
    only the last of them is sent (``send=True``) and the earlier ones are passed over
    (``send=False``): a customer who should have had "welcome", "day 3" and "day 10" over
    ten days should not get all three in the same minute, and the latest is the one that
    fits where they are now. With ``sequence.catch_up`` (every step matters: a course in
    lessons) all of them are sent.

    >>> from datetime import datetime, timedelta, timezone
    >>> course = Sequence(name="course", on="Signup",
    ...                   steps=[SequenceStep(after=timedelta(days=day), template=f"lesson_{day}")
    ...                          for day in (0, 3, 10)])
    >>> start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> enrolled = Enrollment(sequence="course", entered_at=start)
    >>> later, due = due_steps(course, enrolled, now=start + timedelta(days=4))
    >>> [(step.index, step.send) for step in due], later.sent
    ([(0, False), (1, True)], 2)
    >>> due_steps(course, later, now=start + timedelta(days=4))[1]
    ()
    """
    _checked(sequence, enrollment)
    now = v.aware("now", now)
    if not enrollment.is_active:
        return enrollment, ()
    found: list[tuple[int, datetime]] = []
    index = enrollment.sent
    while index < len(sequence.steps):
        moment = _due(sequence, enrollment, index)
        if moment > now:
            break
        found.append((index, moment))
        index += 1
    if not found:
        return enrollment, ()
    last = found[-1][0]
    due = tuple(
        DueStep(
            index=index,
            step=sequence.steps[index],
            due_at=moment,
            send=sequence.catch_up or index == last,
        )
        for index, moment in found
    )
    return attrs.evolve(enrollment, sent=last + 1), due


def step_key(sequence_name: str, customer_id: str, index: int) -> str:
    """The dedupe key of the message for step ``index`` of the sequence named
    ``sequence_name`` to ``customer_id``. A customer enters a sequence once, so the key
    needs nothing more: a replayed event or a second run makes the same key, and the
    outbox refuses the second message.

    >>> step_key("newsletter", "c-1", 2)
    'custbond:sequence:newsletter:c-1:2'
    """
    v.identifier("sequence_name", sequence_name)
    v.identifier("customer_id", customer_id)
    v.integer("index", index, minimum=0)
    return automatic_key("sequence", sequence_name, customer_id, str(index))


def step_keys(enrollment: Enrollment, customer_id: str) -> tuple[str, ...]:
    """The dedupe keys of the messages of every step ``enrollment`` has done, to
    ``customer_id``: those that may still wait in the outbox, queued and not yet sent
    (quiet hours, a dispatcher that has not run). When the customer leaves, the host's
    service withdraws them (a :class:`~custbond.CancelMessage` each), so no step goes out
    after the event that ended the sequence; a key whose message was sent, or was never
    queued (a step passed over as stale), withdraws nothing.

    >>> from datetime import datetime, timezone
    >>> enrolled = Enrollment(sequence="newsletter", sent=2,
    ...                       entered_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> step_keys(enrolled, "c-1")
    ('custbond:sequence:newsletter:c-1:0', 'custbond:sequence:newsletter:c-1:1')
    """
    if not isinstance(enrollment, Enrollment):
        raise InvalidInput("enrollment", enrollment, "an Enrollment")
    return tuple(
        step_key(enrollment.sequence, customer_id, index) for index in range(enrollment.sent)
    )
