"""The social bond at work, in the pure core: what an owner's assignment, a personal
contact, an event that calls for a call, a milestone, a personal occasion, a key
customer's regular review, a members' event or the passing of time ask to be done. Each
function returns ``(effects, lines)``; :class:`~custbond.Program` calls them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from custbond._durations import shift
from custbond.bonds.occasions import (
    Occasion,
    OccasionPolicy,
    anniversary_of,
    next_occurrence,
    years,
)
from custbond.bonds.social import Cadence, SocialPolicy
from custbond.commands import AddOccasion, AssignOwner, Invite
from custbond.effects import (
    Effect,
    FinishTask,
    NoteContact,
    OpenTask,
    QueueMessage,
    SetHeld,
    SetOwner,
    SetSchedule,
)
from custbond.events import (
    Appointment,
    AppointmentCancelled,
    ContactMade,
    EventAttended,
    Purchase,
)
from custbond.messaging.message import automatic_key, key_stamp, message_key

if TYPE_CHECKING:
    from custbond.customers import Customer
    from custbond.program import CustomerState

__all__ = [
    "CONTACT",
    "add_occasion",
    "appreciation",
    "assign",
    "attended",
    "calls_after",
    "contact",
    "due_contact",
    "due_personal",
    "first_contact",
    "invite",
    "plan_occasions",
    "plan_review",
]

# The name of the next keep-in-touch task in the customer's schedule.
CONTACT = "contact"

Lines = list[str]
Effects = list[Effect]


def first_contact(
    policy: SocialPolicy, state: CustomerState, now: datetime, *, owner: str | None
) -> SetSchedule | None:
    """Put the customer on the cadence's schedule, counting from their last personal
    contact (or from ``now``, for one who had none), when they have an owner and are
    not on it yet."""
    cadence = policy.cadence
    if cadence is None or policy.owner_of(owner) is None or CONTACT in state.schedule:
        return None
    since = state.last_contact_at or now
    return SetSchedule(CONTACT, max(cadence.opens(since), now))


def assign(
    policy: SocialPolicy, state: CustomerState, item: AssignOwner, now: datetime
) -> tuple[Effects, Lines]:
    """The customer's owner from now on; their first keep-in-touch task scheduled."""
    effects: Effects = [SetOwner(item.owner)]
    who = item.owner or f"nobody in particular ({policy.default_owner or 'no default'})"
    lines = [f"relationship owner: {who}"]
    if policy.owner_of(item.owner) is None and CONTACT in state.schedule:
        effects.append(SetSchedule(CONTACT, None))  # nobody to keep in touch
    else:
        planned = first_contact(policy, state, now, owner=item.owner)
        if planned is not None:
            effects.append(planned)
    return effects, lines


def contact(
    policy: SocialPolicy, state: CustomerState, event: ContactMade
) -> tuple[Effects, Lines]:
    """A personal contact: the cadence counts again from it (an earlier one, reported
    late, changes nothing)."""
    last = state.last_contact_at
    if last is not None and event.at <= last:
        return [], [f"contact noted; the last one was later ({last.isoformat()})"]
    effects: Effects = [NoteContact(event.at)]
    lines = ["personal contact noted"]
    cadence = policy.cadence
    if cadence is not None and policy.owner_of(state.owner) is not None:
        opens = cadence.opens(event.at)
        effects.append(SetSchedule(CONTACT, opens))
        lines.append(f"next keep-in-touch task from {opens.isoformat()}")
    return effects, lines


def due_contact(
    policy: SocialPolicy, state: CustomerState, now: datetime
) -> tuple[Effects, Lines]:
    """The keep-in-touch task whose time has come by ``now``, and the next one."""
    opens = state.schedule.get(CONTACT)
    if opens is None or opens > now:
        return [], []
    cadence, owner = policy.cadence, policy.owner_of(state.owner)
    if cadence is None or owner is None:
        return [SetSchedule(CONTACT, None)], ["no cadence or no owner: no keep-in-touch task"]
    due = opens + cadence.ahead
    since = state.last_contact_at
    gap = "no personal contact yet" if since is None else f"none since {since.date()}"
    task = OpenTask(
        message_key("contact", state.id, key_stamp(due)),
        owner,
        due,
        f"{cadence.reason} ({gap})",
        "cadence",
        None,
    )
    later = _next(cadence, due, now)
    lines = [f"keep-in-touch task for {owner} due {due.isoformat()}"]
    return [task, SetSchedule(CONTACT, later)], lines


def calls_after(policy: SocialPolicy, state: CustomerState, item: Any) -> tuple[Effects, Lines]:
    """The "call to ask how it went" tasks an event asks for; those an appointment
    cancelled had asked for withdrawn."""
    if isinstance(item, AppointmentCancelled):
        return _withdraw_calls(policy, item)
    calls = policy.calls_after(type(item).__name__)
    if not calls:
        return [], []
    base = item.starts_at if isinstance(item, Appointment) else item.at
    effects: Effects = []
    lines: Lines = []
    for number, call in enumerate(calls, start=1):
        owner = call.owner or policy.owner_of(state.owner)
        if owner is None:
            lines.append(f"no call after {type(item).__name__}: the customer has no owner")
            continue
        due = shift(base, call.after)
        key = message_key(item.id, "call", str(number))
        effects.append(OpenTask(key, owner, due, f"{call.reason} ({item.id})", "call", item.id))
        lines.append(f"call task for {owner} due {due.isoformat()}")
    return effects, lines


def _withdraw_calls(policy: SocialPolicy, item: AppointmentCancelled) -> tuple[Effects, Lines]:
    """The calls after a cancelled appointment closed, those still open: nobody rings
    about an appointment that never took place, and one moved (cancelled and booked
    again) gets the calls of the new booking only. Closed when it was cancelled."""
    calls = policy.calls_after("Appointment")
    if not calls:
        return [], []
    why = "appointment cancelled"
    effects: Effects = [
        # The keys calls_after() gave them; a task closed already, or never opened (no
        # owner then), is left as it is.
        FinishTask(message_key(item.appointment_id, "call", str(number)), item.at, why)
        for number in range(1, len(calls) + 1)
    ]
    return effects, [f"calls after appointment {item.appointment_id} withdrawn"]


def _next(cadence: Cadence, due: datetime, now: datetime) -> datetime:
    """When the task after the one due at ``due`` opens: ``every`` later, and not in
    the past (one task for a long silence, not one per missed period)."""
    opens = cadence.opens(due)
    while opens <= now:
        due = cadence.due(due)
        opens = cadence.opens(due)
    return opens


# -- appreciation, personal occasions, reviews, members' events ---------------------------

OCCASION = "occasion:"
# Occasions the host added: named apart, so one called "birthday" is not the birthday.
CUSTOM = OCCASION + "custom:"
_TICK = timedelta(microseconds=1)
REVIEW = "review"
BIRTHDAY = "birthday"
FIRST_PURCHASE = "first-purchase"


def appreciation(
    policy: SocialPolicy, state: CustomerState, purchase: Purchase, now: datetime
) -> tuple[Effects, Lines]:
    """The notes of appreciation a purchase earns: each milestone it reaches that was
    not marked yet, as a task for the owner (marked once there is an owner to write it)."""
    if not policy.appreciation:
        return [], []
    activity, marked = state.activity, state.held.marked
    purchases, spent = activity.purchases + 1, activity.spent + purchase.amount
    owner = policy.owner_of(state.owner)
    effects: Effects = []
    lines: Lines = []
    for milestone in policy.appreciation:
        if milestone.name in marked or not milestone.reached(purchases, spent):
            continue
        if owner is None:
            lines.append(f"milestone {milestone.name} reached; no owner to write the note yet")
            continue
        key = message_key(purchase.id, "appreciation", milestone.name)
        reason = f"{milestone.reason} ({milestone.describe()})"
        effects.append(OpenTask(key, owner, now, reason, "appreciation", purchase.id))
        effects.append(SetHeld("marked", milestone.name, purchase.at))
        lines.append(f"milestone {milestone.name}: a note of appreciation for {owner}")
    return effects, lines


def occasions_of(
    policy: SocialPolicy, state: CustomerState, *, first_purchase: datetime | None, zone: tzinfo
) -> dict[str, Occasion]:
    """The personal occasions the owner marks for the customer, by schedule name."""
    rules = policy.occasions
    if rules is None:
        return {}
    found: dict[str, Occasion] = {}
    birthday = state.customer.birthday
    if rules.birthday and birthday is not None:
        found[OCCASION + BIRTHDAY] = Occasion(
            name="birthday", month=birthday.month, day=birthday.day, year=birthday.year
        )
    # The earliest known: a purchase recorded late may have come before the first one.
    known = (state.activity.first_purchase_at, first_purchase)
    first = min((at for at in known if at is not None), default=None)
    if rules.first_purchase and first is not None:
        found[OCCASION + FIRST_PURCHASE] = anniversary_of(first, zone=zone)
    if rules.custom:
        for name, occasion in state.held.occasions.items():
            found[CUSTOM + name] = occasion
    return found


def plan_occasions(
    policy: SocialPolicy,
    state: CustomerState,
    now: datetime,
    *,
    zone: tzinfo,
    owner: str | None,
    first_purchase: datetime | None = None,
    planned: Iterable[str] = (),
    customer: Customer | None = None,
) -> Effects:
    """Put the customer's personal occasions on the schedule where they are not yet,
    and plan again those that moved: a birthday corrected, a first purchase recorded
    late that came before the one known, the customer's time zone changed (a wake-up
    only ever moves later by itself, so one planned for the old date would miss the
    new). ``customer`` is the profile as the decision leaves it (None: unchanged),
    ``zone`` its time zone, ``first_purchase`` the purchase the decision records."""
    rules = policy.occasions
    if rules is None or policy.owner_of(owner) is None:
        return []
    before = state
    if customer is not None and customer != state.customer:
        state = attrs.evolve(state, customer=customer)
    found = occasions_of(policy, state, first_purchase=first_purchase, zone=zone)
    taken = set(planned)
    wanted: dict[str, datetime | None] = {
        name: _occasion_wake(rules, occasion, zone, now)
        for name, occasion in found.items()
        if name not in state.schedule and name not in taken
    }
    earlier = first_purchase is not None and first_purchase < (
        before.activity.first_purchase_at or first_purchase
    )
    closed: Effects = []
    if earlier or state is not before:  # something the occasions are made of changed
        was = occasions_of(policy, before, first_purchase=None, zone=zone)
        moved = before.customer.time_zone != state.customer.time_zone
        for name, wake in state.schedule.items():
            if name in taken or not (name in found or name in was):
                continue
            occasion, old = found.get(name), was.get(name)
            again = _replanned(rules, occasion, old, wake, now=now, zone=zone, moved=moved)
            if again != wake:
                wanted[name] = again
            if old is not None and occasion != old:
                closed.extend(_wrong_day(rules, state.id, name, old, occasion, now=now, zone=zone))
    return [*(SetSchedule(name, at) for name, at in wanted.items()), *closed]


# Back far enough from a moment to find the occurrence of a yearly occasion before it:
# a year, a leap day, and the most two wall clocks can be apart.
_A_YEAR_BACK = timedelta(days=367, hours=26)


def _wrong_day(
    rules: OccasionPolicy,
    customer_id: str,
    name: str,
    old: Occasion,
    occasion: Occasion | None,
    *,
    now: datetime,
    zone: tzinfo,
) -> Effects:
    """The owner's task for the last occurrence of ``old`` whose task has opened by
    ``now``, closed: the occasion moved to another day (``occasion``) or is gone (None),
    so it was for the wrong day. A task on a day the occasion still falls on (a birth
    year corrected, 29 February read as 28 February) stays; one closed already, or never
    opened (the job has not run since), is left as it is."""
    moment = _next_moment(rules, old, zone, now + rules.ahead - _A_YEAR_BACK)
    opened = None
    while rules.task_at(moment) <= now:
        opened, moment = moment, _next_moment(rules, old, zone, moment)
    if opened is None:
        return []
    if occasion is not None and _next_moment(rules, occasion, zone, opened - _TICK) == opened:
        return []
    key = message_key("occasion", customer_id, name, key_stamp(opened))
    return [FinishTask(key, now, _why_closed(name, old, occasion))]


def _why_closed(name: str, old: Occasion, occasion: Occasion | None) -> str:
    """Why an occasion's task is closed before its day: what changed (never the new day:
    the result is read by people who need not know the customer's birthday)."""
    if name == OCCASION + BIRTHDAY:
        if occasion is None:
            return "closed: the birthday was taken off the profile"
        return "closed: the birthday changed (the task was for the old day)"
    if name == OCCASION + FIRST_PURCHASE:
        return "closed: an earlier first purchase was recorded (the task was for the old day)"
    if occasion is None:
        return f"closed: {old.name} is no longer an occasion"
    return f"closed: {old.name} moved to another day (the task was for the old day)"


# The most two wall clocks can be apart (UTC-12 to UTC+14): an occasion on the same day
# in another time zone comes round within this of where it did.
_CLOCKS_APART = timedelta(hours=26)


def _replanned(
    rules: OccasionPolicy,
    occasion: Occasion | None,
    was: Occasion | None,
    wake: datetime,
    *,
    now: datetime,
    zone: tzinfo,
    moved: bool,
) -> datetime | None:
    """When to wake for an occasion planned to wake at ``wake`` for what it ``was``:
    never when it is gone (a birthday taken off the profile); from now for another day
    (a corrected birthday, an earlier first purchase: the old day's task was for the
    wrong day); for a time zone changed, the same occurrence on the new wall clock, so
    one whose task was opened already is not opened again."""
    if occasion is None:
        return None
    if occasion != was:
        return _occasion_wake(rules, occasion, zone, now)
    if moved:
        return _occasion_wake(rules, occasion, zone, max(now, wake - _CLOCKS_APART - _TICK))
    return wake


def plan_review(
    policy: SocialPolicy,
    state: CustomerState,
    now: datetime,
    *,
    tier: str | None,
    spent: Decimal,
    owner: str | None,
    customer: Customer | None = None,
) -> SetSchedule | None:
    """The first regular review of a customer who is key and not on its schedule yet:
    ``every`` after they became key, with the ``tier``, spend and profile (its tags;
    None: unchanged) the decision leaves them with."""
    review = policy.reviews
    if review is None or REVIEW in state.schedule or policy.owner_of(owner) is None:
        return None
    tags = (customer or state.customer).tags
    if not review.is_key(tier, tags, spent):
        return None
    return SetSchedule(REVIEW, shift(now, review.every) - review.ahead)


def due_personal(
    policy: SocialPolicy, state: CustomerState, now: datetime, *, zone: tzinfo
) -> tuple[Effects, Lines]:
    """The occasion and review tasks whose time has come, and the next of each."""
    effects: Effects = []
    lines: Lines = []
    owner = policy.owner_of(state.owner)
    rules, review = policy.occasions, policy.reviews
    known = occasions_of(policy, state, first_purchase=None, zone=zone)
    for name, wake in sorted(state.schedule.items()):
        if wake > now:
            continue
        if name.startswith(OCCASION):
            occasion = known.get(name)
            if rules is None or occasion is None or owner is None:
                effects.append(SetSchedule(name, None))
                continue
            # From just before the wake-up: with nothing ahead, it is the moment itself.
            moment = _next_moment(rules, occasion, zone, wake - _TICK)
            if rules.task_at(moment) > now:  # woken early (the schedule moved): wait
                effects.append(SetSchedule(name, rules.task_at(moment)))
                continue
            key = message_key("occasion", state.id, name, key_stamp(moment))
            effects.append(
                OpenTask(
                    key, owner, moment, _occasion_reason(rules, occasion, moment), "occasion", None
                )
            )
            # The next one from now: a job that did not run for a year opens one task.
            effects.append(
                SetSchedule(name, _occasion_wake(rules, occasion, zone, max(moment, now)))
            )
            lines.append(f"occasion task for {owner}: {occasion.name}")
        elif name == REVIEW:
            spent = state.activity.spent
            if (
                review is None
                or owner is None
                or not review.is_key(state.tier, state.customer.tags, spent)
            ):
                effects.append(SetSchedule(REVIEW, None))
                lines.append("no regular review: not a key customer (any more)")
                continue
            due_at = wake + review.ahead
            key = message_key("review", state.id, key_stamp(due_at))
            effects.append(OpenTask(key, owner, due_at, review.reason, "review", None))
            later = shift(due_at, review.every) - review.ahead
            while later <= now:  # one review for a long gap, not one per period
                later = shift(later + review.ahead, review.every) - review.ahead
            effects.append(SetSchedule(REVIEW, later))
            lines.append(f"regular review task for {owner} due {due_at.isoformat()}")
    return effects, lines


def add_occasion(
    policy: SocialPolicy, state: CustomerState, item: AddOccasion, now: datetime, *, zone: tzinfo
) -> tuple[Effects, Lines]:
    """A personal occasion the host added (one of the same name replaced), planned at
    once when the owner marks custom occasions."""
    occasion = item.occasion
    name = CUSTOM + occasion.name
    effects: Effects = [SetHeld("occasions", occasion.name, occasion)]
    rules = policy.occasions
    if rules is not None and rules.custom and policy.owner_of(state.owner) is not None:
        effects.append(SetSchedule(name, _occasion_wake(rules, occasion, zone, now)))
        old = state.held.occasions.get(occasion.name)
        if old is not None and old != occasion:  # replaced: its task may be for the old day
            effects.extend(_wrong_day(rules, state.id, name, old, occasion, now=now, zone=zone))
    elif name in state.schedule:
        effects.append(SetSchedule(name, None))
    return effects, [f"personal occasion: {occasion.describe()}"]


def _occasion_wake(
    rules: OccasionPolicy, occasion: Occasion, zone: tzinfo, after: datetime
) -> datetime:
    """When to open the task of the next occurrence of ``occasion`` after ``after``: at
    least ``ahead`` of it (an occurrence closer than that is taken at once)."""
    return max(rules.task_at(_next_moment(rules, occasion, zone, after)), after)


def _next_moment(
    rules: OccasionPolicy, occasion: Occasion, zone: tzinfo, after: datetime
) -> datetime:
    """The next occurrence of ``occasion`` after ``after``, leaving out the day it
    began (the first purchase itself is no anniversary)."""
    moment = next_occurrence(occasion, zone=zone, after=after, at=rules.at)
    if years(occasion, moment.date()) == 0:
        moment = next_occurrence(occasion, zone=zone, after=moment, at=rules.at)
    return moment


def _occasion_reason(rules: OccasionPolicy, occasion: Occasion, moment: datetime) -> str:
    """What an occasion's task says: the occasion and its day, and for any but a
    birthday how many years it has been (a birthday's would tell the customer's age)."""
    what = f"{rules.reason}: {occasion.name} on {moment.date().isoformat()}"
    count = years(occasion, moment.date())
    if count and occasion.name != "birthday":
        what += f" ({count} year{'s' if count > 1 else ''})"
    return what


def invite(
    policy: SocialPolicy, state: CustomerState, item: Invite, *, zone: tzinfo
) -> tuple[Effects, Lines]:
    """An invitation to a members' event, once, for a customer it is for."""
    event = item.event
    if event.id in state.held.invited:
        return [], [f"already invited to {event.name}"]
    if not event.is_for(tier=state.tier, tags=state.customer.tags):
        return [], [f"not invited to {event.name}: it is for other members"]
    when = event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    context = {"event": event.name, "when": when}
    key = automatic_key("invite", event.id, state.id)
    queued = QueueMessage.of(policy.invitation, key, context, not_after=event.at)
    return [queued, SetHeld("invited", event.id, event.at)], [f"invited to {event.name}"]


def attended(item: EventAttended) -> tuple[Effects, Lines]:
    """The customer came to a members' event."""
    return [SetHeld("attended", item.event, item.at)], [f"attended {item.event}"]
