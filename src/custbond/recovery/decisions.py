"""The recovery part of the pure core: what a complaint, a survey answer, an incident or
the passing of time asks to be done, as effects and the lines of a trace.

:class:`~custbond.Program` calls these from ``decide()``; like the rest of the core they
read no clock and touch no store. Each returns ``(effects, lines)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from custbond._durations import shift, shift_in, zone_named
from custbond.commands import NotifyIncident
from custbond.effects import (
    AdjustPoints,
    Effect,
    IssueVoucher,
    NoteSurvey,
    OpenTask,
    QueueMessage,
    SetCase,
)
from custbond.errors import InvalidInput, NotFound
from custbond.messaging.message import automatic_key, message_key
from custbond.recovery.case import TARGETS, RecoveryCase, Timer
from custbond.recovery.compensation import (
    Compensation,
    CompensationLadder,
    GoodwillPoints,
    GoodwillVoucher,
    _money,  # the ladder's way of writing money, for the lines that cut its offer
)
from custbond.recovery.events import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    SurveyResponse,
)
from custbond.recovery.policy import Escalation, RecoveryPolicy
from custbond.recovery.severity import Severity
from custbond.vouchers import Voucher, voucher_code

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = [
    "Desk",
]

Lines = list[str]
Effects = list[Effect]

# What goodwill points expire with: the program's points policy says, from a moment.
ExpiryOf = Callable[[datetime], datetime | None]


@attrs.frozen
class Desk:
    """The recovery policy at work for one program: ``currency`` is the program's,
    ``expiry`` when points given at a moment expire under its points policy."""

    policy: RecoveryPolicy
    currency: str
    expiry: ExpiryOf
    # The program's: a goodwill voucher's valid_for is added on its calendar.
    time_zone: str = "UTC"

    # -- a complaint, from filing to resolution --------------------------------------------

    def file(
        self, state: CustomerState, event: ComplaintFiled, order_value: Decimal | None
    ) -> tuple[Effects, Lines]:
        """Open the case of ``event``: deadlines, escalation timers, the offer."""
        policy = self.policy
        targets = policy.targets_for(event.severity)
        acknowledge_by = resolve_by = None
        timers: list[Timer] = []
        lines: Lines = []
        if targets is not None:
            acknowledge_by = policy.deadline(event.at, targets.acknowledge)
            resolve_by = policy.deadline(event.at, targets.resolve)
            for index, step in enumerate(targets.escalations):
                deadline = acknowledge_by if step.target == "acknowledge" else resolve_by
                due = policy.deadline(deadline, step.after)
                timers.append(
                    Timer(index, step.target, due, step.after, step.notify, step.raise_to)
                )
            counted = "business hours" if policy.calendar is not None else "wall-clock time"
            lines.append(
                f"complaint {event.id} ({event.category}, {event.severity.value}) opened: "
                f"acknowledge by {acknowledge_by.isoformat()}, resolve by "
                f"{resolve_by.isoformat()} ({counted})"
            )
        else:
            lines.append(
                f"complaint {event.id} ({event.category}, {event.severity.value}) opened: "
                "no targets for this severity"
            )
        case = RecoveryCase.open(
            id=event.id,
            category=event.category,
            severity=event.severity,
            filed_at=event.at,
            acknowledge_by=acknowledge_by,
            resolve_by=resolve_by,
            channel=event.channel,
            about=event.about,
            order_value=order_value,
            text=event.text,
            timers=sorted(timers, key=lambda timer: (timer.due, timer.step)),
        )
        case = self._offer(state, case, lines)
        effects: Effects = []
        if policy.apologize_when == "filed":
            case = self._apologize(case, event.at, effects, lines)
        case = self._escalate(state, case, event.at, effects, lines)
        effects.insert(0, SetCase(case))
        return effects, lines

    def acknowledge(
        self, state: CustomerState, event: ComplaintAcknowledged, now: datetime | None = None
    ) -> tuple[Effects, Lines]:
        """The case acknowledged at ``event.at`` (the apology, if the policy sends it
        then); escalation steps whose time came before fire first.

        The acknowledgement tells when the acknowledge target was met, so its steps fire
        by ``event.at``. It says nothing of the resolve target: its steps fire only once
        their time has passed by ``now`` too (the service's clock; None: ``event.at``),
        as ``run_due()`` would fire them and as a report at ``now`` counts the target
        missed. An acknowledgement dated after ``now`` does not fire them in advance.
        """
        case = self._case(state, event.complaint_id, event.at)
        if case.acknowledged_at is not None or case.resolved_at is not None:
            return [], [f"nothing to do: complaint {case.id} is already {case.status}"]
        effects: Effects = []
        lines: Lines = []
        case = self._escalate(state, case, event.at, effects, lines, meets="acknowledge", now=now)
        by = "" if event.by is None else f"by {event.by}"
        case = case.then(
            event.at,
            "acknowledged",
            by,
            acknowledged_at=event.at,
            timers=[timer for timer in case.timers if timer.target != "acknowledge"],
        )
        lines.append(_on_time(case, "acknowledge", event.at))
        if self.policy.apologize_when == "acknowledged":
            case = self._apologize(case, event.at, effects, lines)
        effects.insert(0, SetCase(case))
        return effects, lines

    def resolve(
        self,
        state: CustomerState,
        event: ComplaintResolved,
        now: datetime,
        order_value: Decimal | None = None,
    ) -> tuple[Effects, Lines]:
        """The case resolved: the compensation given (points and a voucher by custbond,
        a refund recorded for the host to pay), the follow-up task and the survey.
        ``order_value`` is what the order is worth now, when the service knows (less
        what was returned since the complaint)."""
        case = self._case(state, event.complaint_id, event.at)
        if case.resolved_at is not None:
            raise InvalidInput(
                "complaint_id",
                event.complaint_id,
                f"an open complaint (it was resolved at {case.resolved_at.isoformat()})",
            )
        effects: Effects = []
        lines: Lines = []
        case = self._escalate(state, case, event.at, effects, lines)
        case = self._settle_offer(state, case, event.at, order_value, lines)
        given = self._given(state, case, event.compensation)
        if case.acknowledged_at is None and self.policy.apologize_when == "acknowledged":
            case = self._apologize(case, event.at, effects, lines)  # resolving acknowledges
        case = case.then(
            event.at,
            "resolved",
            given.describe(),
            resolved_at=event.at,
            resolution=event.resolution,
            given=given,
            timers=(),
        )
        lines.append(_on_time(case, "resolve", event.at))
        lines.append(f"compensation given: {given.describe()}")
        self._give(state=state, case=case, given=given, now=now, effects=effects, lines=lines)
        follow_up = self.policy.follow_up
        if follow_up is not None:
            due = follow_up.due(event.at)
            effects.append(
                OpenTask(
                    message_key(case.id, "follow-up"),
                    follow_up.owner,
                    due,
                    f"{follow_up.reason} (complaint {case.id}, {case.category})",
                    "follow_up",
                    case.id,
                )
            )
            case = case.then(event.at, "follow-up", f"{follow_up.owner}, due {due.isoformat()}")
            lines.append(f"follow-up task for {follow_up.owner} due {due.isoformat()}")
        survey = self.policy.survey
        if survey is not None:
            due = survey.due(event.at)
            context = {"complaint": case.id, "category": case.category, "scale": survey.scale}
            key = automatic_key(case.id, "survey")
            effects.append(QueueMessage.of(survey.send, key, context, not_before=due))
            case = case.then(event.at, "survey", f"{survey.scale} survey from {due.isoformat()}")
            lines.append(f"{survey.scale} survey queued for {due.isoformat()}")
        effects.insert(0, SetCase(case))
        return effects, lines

    def due(self, state: CustomerState, now: datetime) -> tuple[Effects, Lines]:
        """The escalation steps of every case whose time has come by ``now``."""
        effects: Effects = []
        lines: Lines = []
        for case in state.cases.values():
            due = case.next_due_at
            if due is None or due >= now:
                continue
            effects.insert(0, SetCase(self._escalate(state, case, now, effects, lines)))
        return effects, lines

    # -- surveys and incidents -------------------------------------------------------------

    def answer(self, state: CustomerState, event: SurveyResponse) -> tuple[Effects, Lines]:
        """Keep the answer; a detractor's opens a task; an answer about a case goes on
        its timeline."""
        effects: Effects = [NoteSurvey(event)]
        scale = event.scale.upper()
        lines = [f"{scale} {event.score} kept"]
        detractors = self.policy.detractors
        if detractors is not None and event.is_detractor(self.policy.low_csat):
            due = detractors.due(event.at)
            about = "" if event.about is None else f" about {event.about}"
            effects.append(
                OpenTask(
                    message_key(event.id, "detractor"),
                    detractors.owner,
                    due,
                    f"{detractors.reason} ({scale} {event.score}{about})",
                    "detractor",
                    event.about or event.id,
                )
            )
            lines.append(f"detractor: follow-up task for {detractors.owner} due {due.isoformat()}")
        case = state.cases.get(event.about) if event.about is not None else None
        if case is not None:
            effects.append(
                SetCase(case.then(event.at, "survey answered", f"{scale} {event.score}"))
            )
        return effects, lines

    def notify(
        self, state: CustomerState, item: NotifyIncident, now: datetime
    ) -> tuple[Effects, Lines]:
        """What an incident sends the customer, and the goodwill it gives them."""
        effects: Effects = []
        lines: Lines = []
        notice = self.policy.incident_notice
        if notice is not None:
            context = {
                "incident": item.incident_id,
                "what": item.what,
                "severity": item.severity.value,
            }
            key = automatic_key(item.incident_id, state.id, "incident")
            effects.append(QueueMessage.of(notice, key, context))
            lines.append(f"incident {item.incident_id}: notice queued")
        gestures = self.policy.incident_goodwill
        points = sum(g.points for g in gestures if isinstance(g, GoodwillPoints))
        vouchers = [g for g in gestures if isinstance(g, GoodwillVoucher)]
        source = f"incident {item.incident_id}"
        if points:
            effects.append(self._goodwill_points(points, source, now))
            lines.append(f"{points} goodwill points for {source}")
        for number, gesture in enumerate(vouchers, start=1):
            effects.append(
                self._voucher(
                    state,
                    source,
                    key=item.incident_id,
                    number=number,
                    value=gesture.value,
                    valid_for=gesture.valid_for,
                    now=now,
                )
            )
            lines.append(f"a {gesture.value} {self.currency} goodwill voucher for {source}")
        if not effects:
            lines.append(f"incident {item.incident_id}: the policy sends nothing")
        return effects, lines

    # -- the parts -------------------------------------------------------------------------

    def _case(self, state: CustomerState, complaint_id: str, at: datetime) -> RecoveryCase:
        case = state.cases.get(complaint_id)
        if case is None:
            raise NotFound("complaint", complaint_id)
        if at < case.filed_at:
            raise InvalidInput(
                "at",
                at,
                f"a time at or after the complaint was filed ({case.filed_at.isoformat()})",
            )
        return case

    def _settle_offer(
        self,
        state: CustomerState,
        case: RecoveryCase,
        at: datetime,
        order_value: Decimal | None,
        lines: Lines,
    ) -> RecoveryCase:
        """The case with the offer as it stands when it is resolved at ``at``.

        The offer made is kept, but for its refund when other complaints about the order
        were refunded since and left less of it: only the refund is cut, to what is left.
        The offer is made again for the order's value now when a return since the
        complaint lowered it, and for the severity it was filed with when no target was
        in fact missed by then (an escalation that fired before a late-reported
        acknowledgement was known raised it); made again, each part is still held to the
        offer made. The ladder reads the customer's spend as it is now, which what they
        did since may have raised to a higher rung: held to the offer made, nothing they
        do in between raises what they are given."""
        value = case.order_value
        if order_value is not None and (value is None or order_value < value):
            value = order_value
            lines.append(f"the order is worth {value} {self.currency} now")
        severity = case.severity
        if severity != case.filed_severity and not any(
            case.breached(target, at) for target in TARGETS
        ):
            severity = case.filed_severity
            lines.append(
                f"no target was missed by {at.isoformat()}: compensation for a "
                f"{severity.value} complaint"
            )
        if value == case.order_value and severity == case.severity:
            return self._cut_refund(state, case, lines)
        made = case.offer
        case = self._offer(state, attrs.evolve(case, order_value=value), lines, severity)
        if made is None or case.offer is None:
            return case
        held = _at_most(case.offer, made)
        if held != case.offer:
            lines.append(f"held to the offer made ({made.describe()}): {held.describe()}")
            case = attrs.evolve(case, offer=held)
        return case

    def _cut_refund(self, state: CustomerState, case: RecoveryCase, lines: Lines) -> RecoveryCase:
        """The case with the offer made, its refund cut to what the other complaints
        about its order left of it (they were refunded after the offer was made); the
        rest of the offer as it was, even where the cut frees room under the limit."""
        offer = case.offer
        if offer is None or case.order_value is None or not offer.refund:
            return case
        refunded = self._refunded(state, case)
        left = max(case.order_value - refunded, Decimal(0))
        if offer.refund <= left:
            return case
        cut = attrs.evolve(offer, refund=left)
        currency = self.currency
        lines.append(
            f"the offer made stands but for its refund: {_money(offer.refund, currency)} cut "
            f"to {_money(left, currency)}, what is left of the order's "
            f"{_money(case.order_value, currency)} once {_money(refunded, currency)} was "
            "refunded for other complaints"
        )
        lines.append(f"offer: {cut.describe()}")
        return attrs.evolve(case, offer=cut)

    def _refunded(self, state: CustomerState, case: RecoveryCase) -> Decimal:
        """What the customer's other complaints about the order of ``case`` refunded
        (0 when the case names no order)."""
        if case.about is None:
            return Decimal(0)
        return sum(
            (
                other.given.refund
                for other in state.cases.values()
                if other.id != case.id
                and other.about == case.about
                and other.given is not None
                and other.given.currency == self.currency
            ),
            Decimal(0),
        )

    def _offer(
        self,
        state: CustomerState,
        case: RecoveryCase,
        lines: Lines,
        severity: Severity | None = None,
    ) -> RecoveryCase:
        """The case with the offer the ladder makes for ``severity`` (the case's own
        when None)."""
        ladder = self.policy.compensation
        if ladder is None:
            return case
        since = shift(case.filed_at, ladder.window, back=True)
        earlier = sum(
            1
            for other in state.cases.values()
            if other.id != case.id and since <= other.filed_at <= case.filed_at
        )
        offer, why = ladder.choose(
            severity=case.severity if severity is None else severity,
            spent=state.activity.spent,
            earlier_complaints=earlier,
            order_value=case.order_value,
            currency=self.currency,
            refunded=self._refunded(state, case),
        )
        lines.extend(why)
        lines.append(f"offer: {offer.describe()}")
        return attrs.evolve(case, offer=offer)

    def _apologize(
        self, case: RecoveryCase, at: datetime, effects: Effects, lines: Lines
    ) -> RecoveryCase:
        apology = self.policy.apology
        if apology is None:
            return case
        offer = case.offer
        words = (
            ""
            if offer is None or not _gives_something(offer)
            else f"We offer you {offer.describe()}."
        )
        context = {"complaint": case.id, "category": case.category, "offer": words}
        effects.append(QueueMessage.of(apology, automatic_key(case.id, "apology"), context))
        lines.append(f"apology queued ({apology.template!r})")
        return case.then(at, "apology", apology.template)

    def _escalate(
        self,
        state: CustomerState,
        case: RecoveryCase,
        until: datetime,
        effects: Effects,
        lines: Lines,
        *,
        meets: str | None = None,
        now: datetime | None = None,
    ) -> RecoveryCase:
        """Fire the case's escalation steps due by ``until``, each once, in order; with
        ``now``, the steps of a target other than ``meets`` (the one the event at
        ``until`` meets) only when due by ``now`` as well: whether that target was
        missed is known only as far as the clock has come."""
        # A step fires once its time has passed: a target met at its very deadline is met.
        due = [
            timer
            for timer in case.timers
            if timer.due < until and (now is None or timer.target == meets or timer.due < now)
        ]
        if not due:
            return case
        for timer in due:
            case = attrs.evolve(case, timers=[t for t in case.timers if t != timer])
            step = Escalation(
                target=timer.target,
                after=timer.after,
                notify=timer.notify,
                raise_to=timer.raise_to,
            )
            deadline = case.deadline(timer.target)
            by = "" if deadline is None else f" ({deadline.isoformat()})"
            missed = f"missed its {timer.target} target{by}"
            case = case.then(
                timer.due,
                "escalated",
                step.describe(),
                escalations=(*case.escalations, timer.step),
            )
            lines.append(f"complaint {case.id} escalated: {step.describe()}")
            if step.notify is not None:
                effects.append(
                    OpenTask(
                        message_key(case.id, "escalation", str(timer.step)),
                        step.notify,
                        timer.due,
                        f"complaint {case.id} ({case.category}, {case.severity.value}) {missed}",
                        "escalation",
                        case.id,
                    )
                )
            if step.raise_to is not None and step.raise_to > case.severity:
                case = case.then(
                    timer.due,
                    "severity raised",
                    f"{case.severity.value} to {step.raise_to.value}",
                    severity=step.raise_to,
                )
                lines.append(f"severity raised to {step.raise_to.value}")
                if case.resolved_at is None:
                    case = self._offer(state, case, lines)
        return case

    def _given(
        self, state: CustomerState, case: RecoveryCase, given: Compensation | None
    ) -> Compensation:
        """What the case gives: the host's choice (checked against the ladder's limit,
        and against what other complaints about the order left to refund), else the
        offer, else an apology."""
        if given is None:
            return case.offer if case.offer is not None else Compensation(self.currency)
        if given.currency != self.currency:
            raise InvalidInput(
                "compensation", given, f"compensation in the program's {self.currency}"
            )
        # Without a ladder there is no cap, but never more than the order is worth.
        ladder = self.policy.compensation or _NO_LADDER
        ladder.check(given, case.order_value, refunded=self._refunded(state, case))
        return given

    def _give(
        self,
        *,
        state: CustomerState,
        case: RecoveryCase,
        given: Compensation,
        now: datetime,
        effects: Effects,
        lines: Lines,
    ) -> None:
        source = f"complaint {case.id}"
        if given.points:
            effects.append(self._goodwill_points(given.points, source, now))
        if given.voucher:
            effects.append(
                self._voucher(
                    state,
                    source,
                    key=case.id,
                    number=1,
                    value=given.voucher,
                    valid_for=given.voucher_valid_for,
                    now=now,
                )
            )
        if given.refund:
            lines.append(f"refund of {given.refund} {given.currency} owed: the host pays it")

    def _goodwill_points(self, points: int, source: str, now: datetime) -> AdjustPoints:
        """``points`` given at ``now`` for ``source`` (a complaint, an incident): available
        at once, expiring as the points policy says."""
        return AdjustPoints(points, source, f"goodwill for {source}", self.expiry(now))

    def _voucher(
        self,
        state: CustomerState,
        source: str,
        *,
        key: str,
        number: int,
        value: Decimal,
        valid_for: Any,
        now: datetime,
    ) -> IssueVoucher:
        zone = zone_named(self.time_zone)
        expires_at = None if valid_for is None else shift_in(now, valid_for, zone)
        code = voucher_code(state.id, source, key, number)  # a complaint's or an incident's
        return IssueVoucher(Voucher(code, "goodwill", None, value, source, now, expires_at))


_NO_LADDER = CompensationLadder(())


def _at_most(offer: Compensation, bound: Compensation) -> Compensation:
    """``offer`` with each of its parts held to ``bound``'s: no more points, no larger
    voucher (the voucher taken with its validity), no larger refund, and an apology only
    when ``bound`` makes one too."""
    voucher = offer if offer.voucher <= bound.voucher else bound
    return attrs.evolve(
        offer,
        apology=offer.apology and bound.apology,
        points=min(offer.points, bound.points),
        voucher=voucher.voucher,
        voucher_valid_for=voucher.voucher_valid_for,
        refund=min(offer.refund, bound.refund),
    )


def _gives_something(offer: Compensation) -> bool:
    return bool(offer.points or offer.voucher or offer.refund)


def _on_time(case: RecoveryCase, target: str, at: datetime) -> str:
    deadline = case.deadline(target)
    done = "acknowledged" if target == "acknowledge" else "resolved"
    if deadline is None:
        return f"{done}: no target"
    if at <= deadline:
        return f"{done} within its target ({deadline.isoformat()})"
    late: timedelta = at - deadline
    return f"{done} {late} after its target ({deadline.isoformat()})"
