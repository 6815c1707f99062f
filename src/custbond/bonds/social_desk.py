"""The social bond at work, in the pure core: what an owner's assignment, a personal
contact, an event that calls for a call, or the passing of time ask to be done. Each
function returns ``(effects, lines)``; :class:`~custbond.Program` calls them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from custbond._durations import shift
from custbond.bonds.social import Cadence, SocialPolicy
from custbond.commands import AssignOwner
from custbond.effects import Effect, NoteContact, OpenTask, SetOwner, SetSchedule
from custbond.events import Appointment, ContactMade
from custbond.messaging.message import message_key

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["CONTACT", "assign", "calls_after", "contact", "due_contact", "first_contact"]

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
        message_key("contact", state.id, _stamp(due)),
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
    """The "call to ask how it went" tasks an event asks for."""
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


def _next(cadence: Cadence, due: datetime, now: datetime) -> datetime:
    """When the task after the one due at ``due`` opens: ``every`` later, and not in
    the past (one task for a long silence, not one per missed period)."""
    opens = cadence.opens(due)
    while opens <= now:
        due = cadence.due(due)
        opens = cadence.opens(due)
    return opens


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
