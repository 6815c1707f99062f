"""The structural bond at work, in the pure core: subscriptions started, paused,
skipped, resumed and cancelled, their occurrences passing and reminded; autoresponder
sequences entered, stepped through and left; integrations adopted and dropped. Each
function returns ``(effects, lines)``; :class:`~custbond.Program` calls them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

import attrs

from custbond.bonds import sequences as sequencing
from custbond.bonds import subscriptions as subs
from custbond.bonds.structure import Integration, StructuralPolicy
from custbond.bonds.subscriptions import Subscription
from custbond.commands import (
    CancelSubscription,
    PauseSubscription,
    ResumeSubscription,
    SkipDelivery,
    Subscribe,
)
from custbond.effects import CancelMessage, Effect, QueueMessage, SetHeld, SetSchedule
from custbond.events import IntegrationAdopted, IntegrationDropped
from custbond.messaging.message import automatic_key, key_stamp
from custbond.messaging.occasions import Send
from custbond.rules.facts import Facts

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["SEQUENCE", "SUBSCRIPTION", "due", "integration", "on_event", "subscription"]

# Names in the customer's schedule: "subscription:<plan>", "sequence:<name>".
SUBSCRIPTION = "subscription:"
SEQUENCE = "sequence:"

Lines = list[str]
Effects = list[Effect]

SubscriptionCommand = (
    Subscribe | PauseSubscription | SkipDelivery | ResumeSubscription | CancelSubscription
)


def subscription(
    policy: StructuralPolicy,
    state: CustomerState,
    item: SubscriptionCommand,
    now: datetime,
    *,
    zone: str,
) -> tuple[Effects, Lines]:
    """A customer's subscription started, paused, skipped, resumed or cancelled;
    ``zone`` is the IANA name of the customer's time zone (the program's for one
    without). A change that brings a next occurrence whose reminder time has passed
    reminds of it at once."""
    held = state.held.subscriptions.get(item.plan)
    offered = {plan.name: plan for plan in policy.plans}
    if isinstance(item, CancelSubscription) and held is not None and item.plan not in offered:
        # A plan the program no longer offers: its subscribers may still leave it.
        cancelled, taken_back = _withdrawn(
            state, item.plan, held, subs.cancel(held, at=now, reason=item.reason)
        )
        gone: Effects = [
            SetHeld("subscriptions", item.plan, cancelled),
            SetSchedule(SUBSCRIPTION + item.plan, None),
            *taken_back,
        ]
        return gone, [f"{item.plan} cancelled (a plan no longer offered)"]
    plan = policy.plan(item.plan)  # NotFound for a plan the program does not have
    lines: Lines = []
    withdrawn: Effects = []
    if isinstance(item, Subscribe):
        if held is not None and held.status is not subs.SubscriptionStatus.CANCELLED:
            return [], [f"nothing to do: already subscribed to {plan.name}"]
        changed = subs.subscribe(plan, at=now, zone=zone)
        if held is not None:  # after a cancellation: its reminders' keys are not used again
            changed = attrs.evolve(changed, reminders_withdrawn=held.reminders_withdrawn)
        lines.append(f"subscribed to {plan.describe()}")
        before: datetime | None = None
    elif held is None:
        return [], [f"nothing to do: no subscription to {plan.name}"]
    else:
        # The occurrences due by now happen (and are counted) before the change.
        held, passed = subs.advance(held, plan, now=now)
        lines.extend(f"{plan.name}: occurrence of {moment.isoformat()}" for moment in passed)
        changed, line = _change(held, plan, item, now)
        lines.append(line)
        changed, withdrawn = _withdrawn(state, plan.name, held, changed)
        before = held.next_at
    wake, reminded, why = _announced(state, plan, changed, before, now)
    effects: Effects = [SetHeld("subscriptions", plan.name, changed)]
    effects.append(SetSchedule(SUBSCRIPTION + plan.name, wake))
    effects.extend((*withdrawn, *reminded))
    lines.extend(why)
    if changed.next_at is not None:
        lines.append(f"next on {changed.next_at.isoformat()}")
    return effects, lines


def _announced(
    state: CustomerState,
    plan: subs.Plan,
    changed: Subscription,
    before: datetime | None,
    now: datetime,
) -> tuple[datetime | None, Effects, Lines]:
    """When the subscription ``changed`` at ``now`` next needs looking at, and the
    reminder of its next occurrence if that is due already: ``before`` is the one it
    had next before the change (None for a new subscription)."""
    wake = _subscription_wake(changed, plan, now)
    remind = subs.remind_at(changed, plan)
    if remind is None or remind > now:
        return wake, [], []
    assert changed.next_at is not None  # a reminder time means a next occurrence
    if before is None or not _same_moment(changed.next_at, before):
        # A new next occurrence whose reminder time has passed (subscribed or resumed
        # the day before it): reminded now, or it would come unannounced.
        effects, lines = _reminder(state, plan, changed)
        return wake, effects, lines
    planned = state.schedule.get(SUBSCRIPTION + plan.name)
    if planned is not None and planned <= remind:
        wake = remind  # a reminder run_due() has not sent yet: it still will
    return wake, [], []


def _same_moment(one: datetime, other: datetime) -> bool:
    # In UTC: two datetimes of one zone compare by wall clock, the fold ignored.
    return one.astimezone(UTC) == other.astimezone(UTC)


def _withdrawn(
    state: CustomerState, plan: str, held: Subscription, changed: Subscription
) -> tuple[Subscription, Effects]:
    """``changed``, and the reminder of the occurrence ``held`` had next withdrawn if a
    pause, a skip or a cancellation took that occurrence away: a reminder queued and not
    yet sent would announce a delivery that is not coming. The withdrawal is counted in
    ``changed``, so that the reminder of an occurrence a resume brings back has another
    key: under the withdrawn one's, the outbox would take it for handled already."""
    if held.next_at is None or changed.next_at == held.next_at:
        return changed, []
    why = f"{plan}: the occurrence of {held.next_at.isoformat()} is not coming"
    withdrawn = CancelMessage(_reminder_key(state, plan, held), why)
    counted = attrs.evolve(changed, reminders_withdrawn=held.reminders_withdrawn + 1)
    return counted, [withdrawn]


def _reminder(state: CustomerState, plan: subs.Plan, sub: Subscription) -> tuple[Effects, Lines]:
    """The reminder of ``sub``'s next occurrence, queued now (nothing when the plan
    sends none): never after the occurrence itself, and once, under a key naming it."""
    if plan.template is None or sub.next_at is None:
        return [], []
    send = Send(template=plan.template, kind="transactional")
    key = _reminder_key(state, plan.name, sub)
    context = {"plan": plan.name, "when": sub.next_at.isoformat()}
    queued = QueueMessage.of(send, key, context, not_after=sub.next_at)
    return [queued], [f"{plan.name}: reminder of {sub.next_at.isoformat()} queued"]


def _reminder_key(state: CustomerState, plan: str, sub: Subscription) -> str:
    """The key of the reminder of ``sub``'s next occurrence: naming the occurrence and,
    once reminders were withdrawn, how many (as keys were before: a reminder queued then
    is withdrawn under the key it has)."""
    assert sub.next_at is not None  # only a next occurrence has a reminder
    stamp = key_stamp(sub.next_at)
    if not sub.reminders_withdrawn:
        return automatic_key("subscription", state.id, plan, stamp)
    return automatic_key("subscription", state.id, plan, stamp, str(sub.reminders_withdrawn))


def _change(
    held: Subscription,
    plan: subs.Plan,
    item: PauseSubscription | SkipDelivery | ResumeSubscription | CancelSubscription,
    now: datetime,
) -> tuple[Subscription, str]:
    if isinstance(item, PauseSubscription):
        until = "until resumed" if item.until is None else f"until {item.until.isoformat()}"
        return subs.pause(held, plan, at=now, until=item.until), f"{plan.name} paused {until}"
    if isinstance(item, SkipDelivery):
        skipped = f"{plan.name}: the occurrence on {item.on.isoformat()} is skipped"
        return subs.skip(held, plan, on=item.on), skipped
    if isinstance(item, ResumeSubscription):
        return subs.resume(held, plan, at=now), f"{plan.name} resumed"
    return subs.cancel(held, at=now, reason=item.reason), f"{plan.name} cancelled"


def _subscription_wake(sub: Subscription, plan: subs.Plan, now: datetime) -> datetime | None:
    """When the subscription next needs looking at: its reminder if still to come,
    else its next occurrence (None when nothing is to come)."""
    if sub.next_at is None:
        return None
    remind = subs.remind_at(sub, plan)
    if remind is not None and remind > now:
        return remind
    return sub.next_at


def integration(
    state: CustomerState, item: IntegrationAdopted | IntegrationDropped
) -> tuple[Effects, Lines]:
    """An integration the customer started or stopped relying on."""
    known = state.held.integrations.get(item.integration)
    if isinstance(item, IntegrationAdopted):
        if known is not None and known.in_use:
            return [], [f"{item.integration} already in use since {known.adopted_at.date()}"]
        adopted = Integration(name=item.integration, adopted_at=item.at)
        return [SetHeld("integrations", item.integration, adopted)], [
            f"integration adopted: {adopted.describe()}"
        ]
    if known is None or not known.in_use:
        return [], [f"nothing to do: {item.integration} is not in use"]
    dropped = attrs.evolve(known, dropped_at=item.at)
    return [SetHeld("integrations", item.integration, dropped)], [
        f"integration dropped: {dropped.describe()}"
    ]


def on_event(
    policy: StructuralPolicy, state: CustomerState, item: Any, now: datetime, *, zone: tzinfo
) -> tuple[Effects, Lines]:
    """The sequences an event makes the customer leave, or enter (with the steps due at
    once). Who is in a sequence goes by the events' dates, whatever the order they are
    recorded in: an event that would make the customer leave but cannot yet (dated before
    they entered, or recorded before the event that enters them) is remembered, for an
    entering event dated before it that is recorded later (see
    :func:`custbond.bonds.sequences.remember`)."""
    kind, name = type(item).__name__, getattr(item, "name", None)
    effects: Effects = []
    lines: Lines = []
    for sequence in policy.sequences:
        held = state.held.sequences.get(sequence.name)
        if sequence.leaves_on(kind) and sequence.leave_when.evaluate(
            Facts(item, state, item.at, zone)
        ):
            # A customer who had every step leaves too (once): the last steps may still
            # wait in the outbox, and must not go out after the event that ends it. One
            # who left already may have left earlier than said (an order loaded late).
            if held is not None:
                gone, why = _leave(sequence, state.id, held, item, now=now)
            else:
                gone, why = _not_entered_yet(sequence, state, item, kind, now)
            effects.extend(gone)
            lines.extend(why)
            continue
        if not sequence.enters_on(kind, name if isinstance(name, str) else None):
            continue
        if held is not None:
            more, why = _entered_again(sequence, state.id, held, item, kind)
        else:
            more, why = _enter(sequence, state, item, now)
        effects.extend(more)
        lines.extend(why)
    return effects, lines


# Where the events that would make a customer leave a sequence they have not entered are
# kept: a part of what the bonds hold (Held.leavings), by sequence name.
_LEAVINGS = "leavings"


def _remembered(state: CustomerState, sequence: str) -> tuple[sequencing.Leaving, ...]:
    """The leavings kept for ``sequence`` of a customer who has not entered it."""
    found = state.held.leavings.get(sequence)
    return () if found is None else tuple(found)


def _not_entered_yet(
    sequence: sequencing.Sequence, state: CustomerState, item: Any, kind: str, now: datetime
) -> tuple[Effects, Lines]:
    """A leaving event of a customer who has not entered ``sequence`` (yet): remembered,
    in case the event that enters them is dated before it and recorded later."""
    kept = _remembered(state, sequence.name)
    because = f"{kind} {item.id}"
    leavings = sequencing.remember(kept, at=item.at, because=because, now=now)
    if leavings == kept:
        return [], []
    return [SetHeld(_LEAVINGS, sequence.name, leavings or None)], []


def _enter(
    sequence: sequencing.Sequence, state: CustomerState, item: Any, now: datetime
) -> tuple[Effects, Lines]:
    """The customer enters ``sequence`` on ``item``, at its date, and leaves at once if an
    event recorded before it and dated after it says so; else the steps due are sent."""
    # Entered at the event's own date, which leaving events are compared with; the
    # steps count from now, when it is recorded (see custbond.bonds.sequences).
    kept = _remembered(state, sequence.name)
    entered = sequencing.enter(sequence, None, at=item.at, steps_from=now, leavings=kept)
    assert entered is not None
    effects: Effects = [SetHeld(_LEAVINGS, sequence.name, None)] if kept else []
    lines = [f"entered the {sequence.name} sequence"]
    if not entered.is_active:
        # It ended before it was known to have begun: nothing of it goes out.
        why = f"left the {sequence.name} sequence ({entered.left_because}, recorded first)"
        effects.extend(
            [
                SetHeld("sequences", sequence.name, entered),
                SetSchedule(SEQUENCE + sequence.name, None),
            ]
        )
        return effects, [*lines, why]
    more, why_steps = _step(sequence, state.id, entered, now)
    return [*effects, *more], [*lines, *why_steps]


def _entered_again(
    sequence: sequencing.Sequence,
    customer_id: str,
    held: sequencing.Enrollment,
    item: Any,
    kind: str,
) -> tuple[Effects, Lines]:
    """Another entering event for a customer who entered ``sequence`` already: nothing,
    unless it is dated earlier, when it is the one they entered on (and an event they
    would have left on since may end it: see
    :func:`custbond.bonds.sequences.enter_earlier`)."""
    earlier = sequencing.enter_earlier(held, at=item.at)
    if earlier == held:
        return [], [f"not entered into {sequence.name}: entered once already"]
    why = f"entered the {sequence.name} sequence earlier: {kind} {item.id}"
    if held.is_active and not earlier.is_active:
        gone, left = _gone(sequence, customer_id, earlier, earlier.left_because or "")
        return gone, [why, *left]
    return [SetHeld("sequences", sequence.name, earlier)], [why]


def _leave(
    sequence: sequencing.Sequence,
    customer_id: str,
    held: sequencing.Enrollment,
    item: Any,
    *,
    now: datetime,
) -> tuple[Effects, Lines]:
    """The customer leaves ``sequence`` on ``item``: no step is planned any more, and
    the steps queued and not sent yet are withdrawn. An event dated before they entered
    does not end it, and is remembered (an entering event dated earlier may still come);
    one who left already is said to have left on ``item`` when it is dated before the
    leaving kept (see :func:`custbond.bonds.sequences.leave`)."""
    because = f"{type(item).__name__} {item.id}"
    if item.at.astimezone(UTC) < held.entered_at.astimezone(UTC):
        leavings = sequencing.remember(held.leavings, at=item.at, because=because, now=now)
        kept = attrs.evolve(held, leavings=leavings)
        effects: Effects = [] if kept == held else [SetHeld("sequences", sequence.name, kept)]
        if not held.is_active:
            return effects, []
        return effects, [f"still in the {sequence.name} sequence: {because} is from before it"]
    left = sequencing.leave(held, at=item.at, because=because)
    if not held.is_active:
        if left == held:
            return [], []
        # Steps were withdrawn and the schedule cleared when they first left; nothing was
        # queued since: only the record of when, and why, changes.
        why = f"left the {sequence.name} sequence earlier: {because}, not {held.left_because}"
        return [SetHeld("sequences", sequence.name, left)], [why]
    return _gone(sequence, customer_id, left, because)


def _gone(
    sequence: sequencing.Sequence, customer_id: str, left: sequencing.Enrollment, because: str
) -> tuple[Effects, Lines]:
    """The customer, running through ``sequence`` until now, left it (``left``): no step
    is planned any more, and those queued and not sent yet are withdrawn."""
    why = f"left the {sequence.name} sequence ({because})"
    effects: Effects = [
        SetHeld("sequences", sequence.name, left),
        SetSchedule(SEQUENCE + sequence.name, None),
    ]
    effects.extend(CancelMessage(key, why) for key in sequencing.step_keys(left, customer_id))
    return effects, [why]


def _step(
    sequence: sequencing.Sequence,
    customer_id: str,
    enrollment: sequencing.Enrollment,
    now: datetime,
) -> tuple[Effects, Lines]:
    """Send the steps of ``sequence`` due by ``now``; keep the enrollment and its next
    wake-up."""
    effects: Effects = []
    lines: Lines = []
    enrollment, due_steps = sequencing.due_steps(sequence, enrollment, now=now)
    for due_step in due_steps:
        if not due_step.send:
            lines.append(f"{sequence.name}: {due_step.step.describe()} passed over (stale)")
            continue
        send = Send(template=due_step.step.template, kind=sequence.kind)
        key = sequencing.step_key(sequence.name, customer_id, due_step.index)
        effects.append(QueueMessage.of(send, key, {"sequence": sequence.name}))
        lines.append(f"{sequence.name}: {due_step.step.describe()} queued")
    effects.append(SetHeld("sequences", sequence.name, enrollment))
    wake = sequencing.due_at(sequence, enrollment)
    effects.append(SetSchedule(SEQUENCE + sequence.name, wake))
    return effects, lines


def due(policy: StructuralPolicy, state: CustomerState, now: datetime) -> tuple[Effects, Lines]:
    """Sequence steps and subscription occurrences (and their reminders) whose time has
    come."""
    effects: Effects = []
    lines: Lines = []
    for name, wake in sorted(state.schedule.items()):
        if wake > now:
            continue
        if name.startswith(SEQUENCE):
            sequence = _sequence(policy, name.removeprefix(SEQUENCE))
            enrollment = state.held.sequences.get(name.removeprefix(SEQUENCE))
            if sequence is None or enrollment is None or _finished(sequence, enrollment):
                effects.append(SetSchedule(name, None))
                continue
            more, why = _step(sequence, state.id, enrollment, now)
        elif name.startswith(SUBSCRIPTION):
            more, why = _subscription_due(policy, state, name, now)
        else:
            continue
        effects.extend(more)
        lines.extend(why)
    return effects, lines


def _finished(sequence: sequencing.Sequence, enrollment: sequencing.Enrollment) -> bool:
    """Whether every step is done: also when the program has since dropped steps that
    the customer already had."""
    return enrollment.sent >= len(sequence.steps)


def _sequence(policy: StructuralPolicy, name: str) -> sequencing.Sequence | None:
    for sequence in policy.sequences:
        if sequence.name == name:
            return sequence
    return None


def _subscription_due(
    policy: StructuralPolicy, state: CustomerState, name: str, now: datetime
) -> tuple[Effects, Lines]:
    plan_name = name.removeprefix(SUBSCRIPTION)
    held = state.held.subscriptions.get(plan_name)
    plan = next((plan for plan in policy.plans if plan.name == plan_name), None)
    if held is None or plan is None:
        return [SetSchedule(name, None)], []
    effects: Effects = []
    sub, passed = subs.advance(held, plan, now=now)
    lines = [f"{plan.name}: occurrence of {moment.isoformat()}" for moment in passed]
    remind = subs.remind_at(sub, plan)
    if remind is not None and remind <= now:
        more, why = _reminder(state, plan, sub)
        effects.extend(more)
        lines.extend(why)
    if sub != held:
        effects.append(SetHeld("subscriptions", plan.name, sub))
    effects.append(SetSchedule(name, _subscription_wake(sub, plan, now)))
    return effects, lines
