"""The program: a retention policy as a value, and the pure functions that run it.

``Program.decide(state, item, now)`` looks at one customer's state and one event or
command and returns a :class:`Decision`: the effects to carry out and a trace that says
why. ``Program.apply(state, decision, now)`` carries them out and returns the new state
and the ledger entries written. Neither reads a clock nor touches storage, which is what
makes replay, simulation and property tests cheap.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import Customer, Program, PointsPerSpend, Purchase
>>> program = Program(earn=PointsPerSpend(points=2, per=Decimal("1")))
>>> now = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
>>> state = CustomerState(Customer("c-1"))
>>> order = Purchase(id="o-1", customer_id="c-1", at=now, amount=Decimal("4.50"),
...                  currency="USD")
>>> decision = program.decide(state, order, now)
>>> print(decision.trace)
points per spend: fired: 2 per 1 USD on 4.50 USD
earned 9 points: 9 spend points, rounded down
>>> state, entries = program.apply(state, decision, now)
>>> state.ledger.available
9
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from custbond import _validate as v
from custbond import ledger as ledgers
from custbond._durations import describe_duration
from custbond._frozen import FrozenMap, empty_map
from custbond._money_given import field_text, unpayable
from custbond.activity import Activity
from custbond.bonds import customization_desk, social_desk, structure_desk, tiers
from custbond.bonds import held as held_parts
from custbond.bonds.achievements import Achievement, AchievementStatus
from custbond.bonds.cards import PunchCard, Voucher, VoucherStatus, voucher_code
from custbond.bonds.catalog import Reward, RewardStock
from custbond.bonds.coupons import Coupon, CouponUses
from custbond.bonds.customization import CustomizationPolicy
from custbond.bonds.held import Held
from custbond.bonds.quotes import Quote, allocate
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.social import SocialPolicy
from custbond.bonds.structure import StructuralPolicy
from custbond.bonds.tiers import (
    ChangeTier,
    KeepTier,
    Standing,
    TierChange,
    TierLadder,
    TierStatus,
)
from custbond.commands import (
    AddOccasion,
    AddWish,
    Adjust,
    AssignOwner,
    CancelRedemption,
    CancelSubscription,
    CancelVoucher,
    CaptureHold,
    CloseTask,
    DropCart,
    Input,
    Invite,
    NotifyIncident,
    PauseSubscription,
    PlaceHold,
    Redeem,
    RedeemReward,
    ReleaseHold,
    RemoveWish,
    ResumeSubscription,
    SaveCart,
    SaveCustomer,
    SetConsent,
    SetPreferences,
    Settle,
    SkipDelivery,
    Subscribe,
    UseCoupon,
    UseVoucher,
)
from custbond.customers import Customer
from custbond.effects import (
    AddStamps,
    AddTag,
    AddToCounter,
    AdjustPoints,
    CancelMessage,
    CapturePoints,
    CountCoupon,
    CountUse,
    EarnPoints,
    Effect,
    FinishTask,
    HoldPoints,
    IssueVoucher,
    MarkVoucher,
    NoteContact,
    NotePurchase,
    NoteReturn,
    NoteSurvey,
    NoteVisit,
    QueueMessage,
    RecordConsent,
    RedeemPoints,
    ReleasePoints,
    RequestMessage,
    RestorePoints,
    ReversePoints,
    RewardReferral,
    SetCard,
    SetCase,
    SetHeld,
    SetOwner,
    SetProgress,
    SetReferrer,
    SetSchedule,
    SetTier,
    UpdateProfile,
)
from custbond.errors import (
    CouponNotValid,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldExpired,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    OutOfStock,
    RewardLimitReached,
    VoucherAlreadyUsed,
    VoucherCancelled,
    VoucherExpired,
)
from custbond.events import (
    Appointment,
    AppointmentCancelled,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    ContactMade,
    CustomEvent,
    EventAttended,
    IntegrationAdopted,
    IntegrationDropped,
    LineItem,
    OfferAccepted,
    Purchase,
    Referral,
    Return,
    Signup,
    SurveyResponse,
    Visit,
)
from custbond.ledger import Entry, Ledger, PointsPolicy
from custbond.messaging.consent import Consent, allows, consent_key
from custbond.messaging.message import MessageKind, automatic_key
from custbond.messaging.occasions import ExpiryNotice
from custbond.messaging.policy import MessagingPolicy, rule_message_values
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.recovery.case import RecoveryCase
from custbond.recovery.decisions import Desk
from custbond.recovery.policy import RecoveryPolicy
from custbond.rules.effects import Message, PointsPerSpend
from custbond.rules.engine import Award, RuleBook
from custbond.rules.facts import Facts, zone_of
from custbond.rules.rule import Group, Rule
from custbond.rules.trace import Step, Trace, as_trace, note
from custbond.tasks import Task

__all__ = [
    "AdjustPoints",
    "CancelMessage",
    "CapturePoints",
    "CustomerState",
    "Decision",
    "EarnPoints",
    "Effect",
    "HoldPoints",
    "IssueVoucher",
    "MarkVoucher",
    "PointsPerSpend",
    "Program",
    "QueueMessage",
    "RecordConsent",
    "RedeemPoints",
    "ReleasePoints",
    "RestorePoints",
    "ReversePoints",
    "RewardReferral",
    "SetCard",
    "SetProgress",
    "SetReferrer",
    "SetSchedule",
    "UpdateProfile",
]


@attrs.frozen
class CustomerState:
    """What decisions need to know about one customer.

    The profile and the points, and what rules read and change: a summary of what the
    customer did (``activity``), stamps on punch cards (and when each card's first stamp
    came: ``card_started``), the tier, when rules with limits fired for them
    (``rule_uses``, kept only as far back as the limits look), their vouchers, and
    their place on the program's tier ladder (since when, until when, when it is
    reviewed, and every change with its reason), what the customer consented to be
    sent (``consents``, by :func:`~custbond.messaging.consent_key`), when the
    messages custbond sends on its own next fall due (``schedule``: ``"birthday"``, the
    next greeting; ``"expiring"``, the next look at points about to expire), their
    complaints' recovery cases (``cases``, by complaint id), their survey answers
    (``surveys``, oldest first), who looks after their relationship (``owner``) and
    when they last had personal contact (``last_contact_at``), and what their social,
    customization and structural bonds hold (``held``: preferences, wish list, saved
    carts, subscriptions, sequences, integrations, occasions, ...).
    """

    customer: Customer
    ledger: Ledger = attrs.field(factory=Ledger)
    activity: Activity = attrs.field(factory=Activity)
    stamps: FrozenMap[str, int] = attrs.field(factory=empty_map)
    tier: str | None = None
    rule_uses: FrozenMap[str, tuple[datetime, ...]] = attrs.field(factory=empty_map)
    card_started: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    vouchers: FrozenMap[str, Voucher] = attrs.field(factory=empty_map)
    tier_since: datetime | None = None
    tier_until: datetime | None = None  # kept at least until then
    tier_review_at: datetime | None = None  # when the tier is reviewed (after the grace)
    tier_changes: tuple[TierChange, ...] = ()
    # achievement -> (period, progress, reached)
    progress: FrozenMap[str, tuple[str, Any, bool]] = attrs.field(factory=empty_map)
    coupon_uses: FrozenMap[str, int] = attrs.field(factory=empty_map)  # code -> times used
    referred_by: str | None = None
    referral_rewarded_at: datetime | None = None
    consents: FrozenMap[str, Consent] = attrs.field(factory=empty_map)
    schedule: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    cases: FrozenMap[str, RecoveryCase] = attrs.field(factory=empty_map)
    surveys: tuple[SurveyResponse, ...] = ()
    owner: str | None = None
    last_contact_at: datetime | None = None
    held: Held = attrs.field(default=held_parts.EMPTY)

    @property
    def next_due_at(self) -> datetime | None:
        """The soonest time at which something falls due: points clearing or expiring,
        a hold ending, a tier review, a message custbond sends on its own, or a
        complaint's escalation step."""
        due, review = self.ledger.next_due_at, self.tier_review_at
        if review is not None and (due is None or review < due):
            due = review
        if self.schedule:
            planned = min(self.schedule.values())
            if due is None or planned < due:
                due = planned
        for case in self.cases.values():
            escalation = case.next_due_at
            if escalation is not None and (due is None or escalation < due):
                due = escalation
        return due

    @property
    def id(self) -> str:
        return self.customer.id


@attrs.frozen
class Decision:
    """Effects to carry out, and a human-readable trace of why.

    A decision with no effects is an explicit "nothing to do"; its trace says why.
    """

    effects: tuple[Effect, ...] = ()
    trace: Trace = attrs.field(default=Trace(), converter=as_trace)


# The review when none is due: asked before every event, and a Decision is immutable.
_NOTHING_DUE = Decision()

Reference = PurchaseRecord | HoldRecord | RedemptionRecord | RewardStock | CouponUses | Task | None
# A message the program may send: the field that sends it, its template and channel, and
# the values (besides "name") it is queued with, which its template may use.
Asked = tuple[str, str, str, tuple[str, ...]]


def _as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(items)


@attrs.frozen
class Program:
    """A retention policy: the currency and time zone it runs in, how points behave, and
    the reward rules that say what customers earn.

    ``earn`` is the base earning rule, written short: ``PointsPerSpend(points=1,
    per=Decimal("1"))`` is a rule named ``"points per spend"`` on every purchase (pass
    ``earn=None`` to leave it out). ``rules`` are the others; ``groups`` say how rules in
    one group combine, and ``multipliers`` how several multipliers do (``"multiply"`` or
    ``"add"``: see :mod:`custbond.rules.effects`). ``time_zone`` (IANA) is where "Tuesday"
    and "end of the month" are reckoned for customers without a time zone of their own.
    Events in another currency than ``currency`` are rejected.
    """

    points: PointsPolicy = attrs.field(factory=PointsPolicy, kw_only=True)
    earn: PointsPerSpend | None = attrs.field(factory=PointsPerSpend, kw_only=True)
    rules: tuple[Rule, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    groups: tuple[Group, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    cards: tuple[PunchCard, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    catalog: tuple[Reward, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    achievements: tuple[Achievement, ...] = attrs.field(
        default=(), kw_only=True, converter=_as_tuple
    )
    coupons: tuple[Coupon, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    referrals: ReferralPolicy | None = attrs.field(default=None, kw_only=True)
    tiers: TierLadder | None = attrs.field(default=None, kw_only=True)
    multipliers: str = attrs.field(default="multiply", kw_only=True)
    currency: str = attrs.field(default="USD", kw_only=True, validator=v.is_currency)
    time_zone: str = attrs.field(default="UTC", kw_only=True, validator=v.is_time_zone)
    messaging: MessagingPolicy = attrs.field(factory=MessagingPolicy, kw_only=True)
    recovery: RecoveryPolicy | None = attrs.field(default=None, kw_only=True)
    social: SocialPolicy | None = attrs.field(default=None, kw_only=True)
    customization: CustomizationPolicy | None = attrs.field(default=None, kw_only=True)
    structure: StructuralPolicy | None = attrs.field(default=None, kw_only=True)
    # Worked out once: the compiled rules, how far back spend per day is needed, and what
    # every purchase's trace says about the points policy.
    _book: RuleBook = attrs.field(init=False, eq=False, repr=False)
    _keep_days: int | None = attrs.field(init=False, eq=False, repr=False)
    _policy_note: Step | None = attrs.field(init=False, eq=False, repr=False)
    _coupons: dict[str, Coupon] = attrs.field(init=False, eq=False, repr=False)
    _qualifies: Any = attrs.field(init=False, eq=False, repr=False)  # for referrals
    _cards: dict[str, PunchCard] = attrs.field(init=False, eq=False, repr=False)
    _sends_on_its_own: bool = attrs.field(init=False, eq=False, repr=False)
    _schedules: bool = attrs.field(init=False, eq=False, repr=False)
    _asks_for_messages: bool = attrs.field(init=False, eq=False, repr=False)
    _desk: Desk = attrs.field(init=False, eq=False, repr=False)
    _bonds_see_events: bool = attrs.field(init=False, eq=False, repr=False)
    _reads_balance: bool = attrs.field(init=False, eq=False, repr=False)
    _reads_stamps: bool = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        unpaid = unpayable(
            self.currency,
            rules=self.rules,
            cards=self.cards,
            catalog=self.catalog,
            achievements=self.achievements,
            coupons=self.coupons,
            referrals=self.referrals,
        )
        if unpaid is not None:
            v.money(field_text(unpaid[0]), unpaid[1], self.currency)
        rules = self.all_rules()
        _check_templates(self.messaging, rules, self.recovery, self._bond_templates())
        recovery = _SILENT if self.recovery is None else self.recovery
        desk = Desk(recovery, self.currency, self._points_expire_at, self.time_zone)
        object.__setattr__(self, "_desk", desk)
        book = RuleBook(
            rules,
            self.groups,
            currency=self.currency,
            multipliers=self.multipliers,
            base=None if self.earn is None else BASE_RULE,
        )
        object.__setattr__(self, "_book", book)
        days = _days_of_spend_needed(rules)
        if self.tiers is not None:
            days = max(days or 0, self.tiers.days_needed())
        object.__setattr__(self, "_keep_days", days)
        policy = _describe_policy(self.points)
        object.__setattr__(self, "_policy_note", None if policy is None else note(policy))
        object.__setattr__(self, "_coupons", {coupon.code: coupon for coupon in self.coupons})
        qualifies = None if self.referrals is None else self.referrals.when.compile()
        object.__setattr__(self, "_qualifies", qualifies)
        object.__setattr__(self, "_cards", {card.name: card for card in self.cards})
        messaging = self.messaging
        on_events = messaging.welcome is not None or messaging.thank_you is not None
        asks = any(isinstance(effect, Message) for rule in rules for effect in rule.then)
        # A sequence entered on a purchase sends its first step with the purchase; one
        # left on a purchase withdraws its steps queued and not sent yet; a product bought
        # again withdraws the reminder of the need the purchase has met.
        sequences = () if self.structure is None else self.structure.sequences
        on_purchase = any(
            sequence.on == "Purchase" or sequence.leaves_on("Purchase") for sequence in sequences
        )
        custom = self.customization
        reminds = custom is not None and None not in (custom.next_need, custom.need_reminder)
        object.__setattr__(self, "_asks_for_messages", asks or on_events or on_purchase or reminds)
        object.__setattr__(self, "_sends_on_its_own", on_events)
        scheduled = messaging.birthday is not None or messaging.points_expiring is not None
        social = self.social
        keeps_in_touch = social is not None and (
            social.cadence is not None
            or social.occasions is not None
            or social.reviews is not None
        )
        object.__setattr__(self, "_schedules", scheduled or keeps_in_touch)
        # Whether an event may mean anything to the bonds: most programs skip the look.
        calls = social is not None and bool(social.call_after or social.appreciation)
        sees = calls or bool(sequences) or self.customization is not None
        object.__setattr__(self, "_bonds_see_events", sees)
        conditions = [rule.when for rule in rules]
        if self.referrals is not None:
            conditions.append(self.referrals.when)
        read = {fact for condition in conditions for fact in condition.facts()}
        object.__setattr__(self, "_reads_balance", "state.balance" in read)
        object.__setattr__(self, "_reads_stamps", "state.stamps" in read and bool(self.cards))

    @social.validator
    def _check_social(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, SocialPolicy):
            raise InvalidInput("social", value, "a SocialPolicy or None")

    @customization.validator
    def _check_customization(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, CustomizationPolicy):
            raise InvalidInput("customization", value, "a CustomizationPolicy or None")

    @structure.validator
    def _check_structure(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, StructuralPolicy):
            raise InvalidInput("structure", value, "a StructuralPolicy or None")

    @recovery.validator
    def _check_recovery(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, RecoveryPolicy):
            raise InvalidInput("recovery", value, "a RecoveryPolicy or None")

    def _bond_templates(self) -> list[Asked]:
        """The templates the bonds send: (field, template, channel, values), the values
        (besides ``name``) being those each message is queued with: the need and cart
        reminders in bonds/customization_desk.py, the invitation in bonds/social_desk.py,
        the subscription reminder and the sequence steps in bonds/structure_desk.py."""
        asked: list[Asked] = []
        custom, social, structure = self.customization, self.social, self.structure
        if custom is not None:
            if custom.next_need is not None and custom.need_reminder is not None:
                send = custom.need_reminder
                field = "customization.need_reminder"
                asked.append((field, send.template, send.channel, ("sku", "expected_on")))
            if custom.remind_cart_before is not None and custom.cart_reminder is not None:
                send = custom.cart_reminder
                field = "customization.cart_reminder"
                asked.append((field, send.template, send.channel, ("cart", "items", "until")))
        if social is not None:
            send = social.invitation
            asked.append(("social.invitation", send.template, send.channel, ("event", "when")))
        if structure is not None:
            asked.extend(
                (f"structure.plans[{plan.name!r}]", plan.template, "email", ("plan", "when"))
                for plan in structure.plans
                if plan.template is not None
            )
            asked.extend(
                (
                    f"structure.sequences[{sequence.name!r}].steps[{number}]",
                    step.template,
                    "email",
                    ("sequence",),
                )
                for sequence in structure.sequences
                for number, step in enumerate(sequence.steps)
            )
        return asked

    def _points_expire_at(self, at: datetime) -> datetime | None:
        """When points given at ``at`` expire under the points policy."""
        return self.points.expires_at(at, self.time_zone)

    @messaging.validator
    def _check_messaging(self, attribute: object, value: object) -> None:
        if not isinstance(value, MessagingPolicy):
            raise InvalidInput("messaging", value, "a MessagingPolicy")

    @points.validator
    def _check_points(self, attribute: object, value: object) -> None:
        if not isinstance(value, PointsPolicy):
            raise InvalidInput("points", value, "a PointsPolicy")

    @earn.validator
    def _check_earn(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, PointsPerSpend):
            raise InvalidInput("earn", value, "a PointsPerSpend or None")

    @rules.validator
    def _check_rules(self, attribute: object, value: tuple[object, ...]) -> None:
        for rule in value:
            if not isinstance(rule, Rule):
                raise InvalidInput("rules", rule, "a Rule")

    @groups.validator
    def _check_groups(self, attribute: object, value: tuple[object, ...]) -> None:
        v.distinct("groups", value, Group, "a Group", plural="groups")

    @tiers.validator
    def _check_tiers(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, TierLadder):
            raise InvalidInput("tiers", value, "a TierLadder or None")

    @referrals.validator
    def _check_referrals(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, ReferralPolicy):
            raise InvalidInput("referrals", value, "a ReferralPolicy or None")

    @coupons.validator
    def _check_coupons(self, attribute: object, value: tuple[object, ...]) -> None:
        v.distinct("coupons", value, Coupon, "a Coupon", key="code", plural="coupons")

    @property
    def schedules_messages(self) -> bool:
        """Whether the program sends messages when their time comes (birthday greetings,
        notices of expiring points), which each customer's schedule says."""
        return self._schedules

    @property
    def may_message(self) -> bool:
        """Whether a purchase's decision may ask for a message (a rule's ``Message``, a
        thank-you): the service skips looking for them otherwise."""
        return self._asks_for_messages

    def has_coupon(self, code: str) -> bool:
        """Whether ``code`` is one of the program's coupons."""
        return code in self._coupons

    def coupon(self, code: str) -> Coupon:
        """The coupon ``code``; :class:`~custbond.CouponNotValid` when there is none."""
        found = self._coupons.get(code)
        if found is None:
            raise CouponNotValid(code, "is not a code of this program")
        return found

    @achievements.validator
    def _check_achievements(self, attribute: object, value: tuple[object, ...]) -> None:
        v.distinct("achievements", value, Achievement, "an Achievement", plural="achievements")

    @catalog.validator
    def _check_catalog(self, attribute: object, value: tuple[object, ...]) -> None:
        v.distinct("catalog", value, Reward, "a Reward", plural="rewards")

    def reward(self, name: str) -> Reward:
        """The catalog's reward ``name``; :class:`~custbond.NotFound` if there is none."""
        for reward in self.catalog:
            if reward.name == name:
                return reward
        raise NotFound("reward", name)

    @cards.validator
    def _check_cards(self, attribute: object, value: tuple[object, ...]) -> None:
        v.distinct("cards", value, PunchCard, "a PunchCard", plural="cards")

    def all_rules(self) -> tuple[Rule, ...]:
        """Every rule the engine runs: the base earning rule (``earn``) if there is one,
        the ``rules``, the rule that stamps each punch card (``"card <name>"``), and those
        that give each tier level its multiplier (``"tier <name>"``)."""
        base = () if self.earn is None else (Rule(BASE_RULE, on="Purchase", then=[self.earn]),)
        tiers = () if self.tiers is None else self.tiers.multiplier_rules()
        return (*base, *self.rules, *(card.rule() for card in self.cards), *tiers)

    # -- decide ----------------------------------------------------------------------------

    def decide(
        self,
        state: CustomerState,
        item: Input,
        now: datetime,
        ref: Reference = None,
        *,
        counters: Mapping[str, int] | None = None,
    ) -> Decision:
        """What to do about ``item`` for the customer in ``state`` at ``now``.

        ``ref`` is the record ``item`` refers to: the purchase of a :class:`Return`, the
        hold of a capture or release, the redemption of a cancellation, the stock of a
        reward. ``counters`` are the shared counters the rules for the event read
        (:meth:`counters_for`), as the store has them. Raises a typed error for anything
        that cannot be done; a decision is always safe to apply.
        """
        decision = self._decide(state, item, now, ref, counters)
        # An event: what the bonds make of it (a wish may be on the list without a policy).
        if (self._bonds_see_events or state.held.wishes) and hasattr(item, "id"):
            more, lines = self._bonds_after_event(state, item, now)
            if more or lines:
                decision = Decision((*decision.effects, *more), (*decision.trace, *lines))
        if self._schedules:
            decision = self.keep_schedule(state, decision, now)
        return decision

    def _bonds_after_event(
        self, state: CustomerState, item: Any, now: datetime
    ) -> tuple[list[Effect], list[str]]:
        """What the social, customization and structural bonds make of an event: calls
        after it, notes of appreciation, wishes fulfilled and buying rhythms, sequences
        entered or left."""
        effects: list[Effect] = []
        lines: list[str] = []
        social, custom, structure = self.social, self.customization, self.structure
        if social is not None and social.call_after:
            more, why = social_desk.calls_after(social, state, item)
            effects.extend(more)
            lines.extend(why)
        if isinstance(item, Purchase):
            if social is not None:
                more, why = social_desk.appreciation(social, state, item, now)
                effects.extend(more)
                lines.extend(why)
            if custom is not None or state.held.wishes:
                custom = custom or _NO_CUSTOMIZATION
                zone = zone_of(state, self.time_zone)
                more, why = customization_desk.on_purchase(custom, state, item, now, zone=zone)
                effects.extend(more)
                lines.extend(why)
        if structure is not None and structure.sequences:
            zone = zone_of(state, self.time_zone)
            more, why = structure_desk.on_event(structure, state, item, now, zone=zone)
            effects.extend(more)
            lines.extend(why)
        return effects, lines

    def _decide_bonds(self, state: CustomerState, item: Input, now: datetime) -> Decision:
        """A customer's preferences, wishes, carts, offers, subscriptions, integrations,
        occasions, invitations and attendance: see :mod:`custbond.bonds`."""
        zone = zone_of(state, self.time_zone)
        if isinstance(item, _CUSTOMIZATION_INPUTS):
            custom = self.customization or _NO_CUSTOMIZATION
            effects, lines = customization_desk.change(custom, state, item, now)
        elif isinstance(item, _SUBSCRIPTION_INPUTS):
            structure = self.structure or _NO_STRUCTURE
            zone_name = state.customer.time_zone or self.time_zone
            effects, lines = structure_desk.subscription(
                structure, state, item, now, zone=zone_name
            )
        elif isinstance(item, IntegrationAdopted | IntegrationDropped):
            effects, lines = structure_desk.integration(state, item)
        elif isinstance(item, EventAttended):
            effects, lines = social_desk.attended(item)
        elif isinstance(item, Invite):
            effects, lines = social_desk.invite(self.social or _NO_SOCIAL, state, item, zone=zone)
        else:
            assert isinstance(item, AddOccasion)
            social = self.social or _NO_SOCIAL
            effects, lines = social_desk.add_occasion(social, state, item, now, zone=zone)
        return Decision(tuple(effects), tuple(lines))

    def _keep_in_touch(
        self,
        social: SocialPolicy,
        state: CustomerState,
        decision: Decision,
        now: datetime,
        planned: set[str],
    ) -> list[Effect]:
        """The social bond's part of :meth:`keep_schedule`: the first keep-in-touch task,
        the personal occasions and a key customer's regular review, for the customer as
        ``decision`` leaves them (their owner, tier, spend and profile)."""
        owner, tier, first, spent = state.owner, state.tier, None, state.activity.spent
        customer = state.customer
        for effect in decision.effects:
            if isinstance(effect, SetOwner):
                owner = effect.owner
            elif isinstance(effect, UpdateProfile):  # a birthday, tags, a time zone saved
                customer = effect.customer
            elif isinstance(effect, SetTier | ChangeTier):
                tier = effect.tier
            elif isinstance(effect, NotePurchase):
                first = first or effect.at
                spent += effect.amount
            elif isinstance(effect, NoteReturn):
                spent = max(spent - effect.amount, Decimal(0))
        added: list[Effect] = []
        if "contact" not in planned:
            contact = social_desk.first_contact(social, state, now, owner=owner)
            if contact is not None:
                added.append(contact)
        if social.occasions is not None:
            saved = state if customer is state.customer else attrs.evolve(state, customer=customer)
            added.extend(
                social_desk.plan_occasions(
                    social,
                    state,
                    now,
                    zone=zone_of(saved, self.time_zone),
                    owner=owner,
                    first_purchase=first,
                    planned=planned,
                    customer=customer,
                )
            )
        if social.reviews is not None and social_desk.REVIEW not in planned:
            review = social_desk.plan_review(
                social, state, now, tier=tier, spent=spent, owner=owner, customer=customer
            )
            if review is not None:
                added.append(review)
        return added

    def _decide(
        self,
        state: CustomerState,
        item: Input,
        now: datetime,
        ref: Reference,
        counters: Mapping[str, int] | None,
    ) -> Decision:
        if isinstance(item, Purchase | Visit | Signup | CustomEvent):
            return self._decide_event(state, item, now, counters)
        if isinstance(item, Referral):
            return _decide_referral(state, item)
        if isinstance(item, Appointment | AppointmentCancelled):
            return self._decide_appointment(state, item)
        if isinstance(item, _RECOVERY_INPUTS):
            return self._decide_recovery(state, item, now, ref)
        if isinstance(item, ContactMade | AssignOwner | CloseTask):
            return self._decide_people(state, item, now, ref)
        if isinstance(item, _BOND_INPUTS):
            return self._decide_bonds(state, item, now)
        if isinstance(item, Return):
            if not isinstance(ref, PurchaseRecord):
                raise InvalidInput("ref", ref, "the PurchaseRecord of the returned purchase")
            return self._decide_return(state, item, ref, now)
        return self._decide_command(state, item, now, ref)

    def keep_schedule(self, state: CustomerState, decision: Decision, now: datetime) -> Decision:
        """``decision`` with what puts the customer on the schedule of the messages the
        program sends when their time comes, where they are not on it yet: their next
        birthday greeting, the first look at points about to expire (the customer's
        own, and those the decision gives). :meth:`decide` does it for every decision;
        a decision made otherwise (a referrer's reward) goes through it before it is
        applied."""
        policy, schedule = self.messaging, state.schedule
        planned = {effect.name for effect in decision.effects if isinstance(effect, SetSchedule)}
        added: list[Effect] = []
        greeting, birthday = policy.birthday, state.customer.birthday
        if (
            greeting is not None
            and birthday is not None
            and "birthday" not in schedule
            and "birthday" not in planned
        ):
            zone = zone_of(state, self.time_zone)
            added.append(SetSchedule("birthday", greeting.next_at(birthday, zone, now)))
        notice = policy.points_expiring
        if notice is not None and "expiring" not in planned:
            check = self._expiry_check(notice, state, decision, now)
            if check is not None:
                added.append(SetSchedule("expiring", check))
        social = self.social
        if social is not None:
            added.extend(self._keep_in_touch(social, state, decision, now, planned))
        if not added:
            return decision
        return Decision((*decision.effects, *added), decision.trace)

    def quote(
        self,
        state: CustomerState,
        items: Sequence[LineItem],
        at: datetime,
        *,
        counters: Mapping[str, int] | None = None,
        coupons: Sequence[str] = (),
    ) -> Quote:
        """The discounts the rules give the customer in ``state`` on a cart of ``items``
        at ``at``: what a checkout should take off, rule by rule (see
        :mod:`custbond.bonds.quotes`), and that of each of the ``coupons`` the customer
        brings that is valid (once, however many times its code is given). Nothing is
        decided or kept."""
        cart = tuple(items)
        for item in cart:
            if not isinstance(item, LineItem):
                raise InvalidInput("items", item, "LineItems")
        subtotal = sum((item.unit_price * item.quantity for item in cart), Decimal(0))
        if not v.payable(subtotal, self.currency):  # Purchase would blame its ``amount``
            places = v.minor_units(self.currency)
            expected = f"items whose total has at most {places} decimal places in"
            raise InvalidInput("items", subtotal, f"{expected} {self.currency}")
        purchase = Purchase(
            id="quote",
            customer_id=state.id,
            at=at,
            amount=subtotal,
            currency=self.currency,
            items=cart,
        )
        seen = self._as_rules_see(state, at, at)
        award = self._book.evaluate(purchase, seen, zone_of(state, self.time_zone), counters)
        discounts = list(award.discounts)
        steps = list(award.steps)
        brought: set[str] = set()
        for code in coupons:  # a coupon the customer brings: its discount, if it is valid
            coupon = self._coupons.get(code)
            if coupon is None:
                steps.append(note(f"coupon {code}: not a code of this program"))
                continue
            if code in brought:  # scanned twice: use_coupon() counts one use per call
                steps.append(note(f"coupon {code}: not applied again: it counts once"))
                continue
            brought.add(code)
            used = (counters or {}).get(coupon.counter, 0)
            why = coupon.problem(at, used, state.coupon_uses.get(code, 0))
            if why is not None:
                steps.append(note(f"coupon {code}: not applied: it {why}"))
            elif coupon.discount is not None:
                discounts.append((f"coupon {code}", coupon.discount))
                steps.append(note(f"coupon {code}: {coupon.discount.describe()}"))
        return allocate(cart, discounts, self.currency, Trace(steps))

    def rules_for(self, event_type: str) -> tuple[Rule, ...]:
        """The rules the engine considers for an event of ``event_type`` (``"Purchase"``,
        ...), in the order it considers them: descending priority, then name.

        >>> from custbond.rules import FixedPoints, Rule
        >>> program = Program(rules=[Rule("visit", on="Visit", then=[FixedPoints(5)])])
        >>> [rule.name for rule in program.rules_for("Visit")]
        ['visit']
        """
        by_name = {rule.name: rule for rule in self.all_rules()}
        return tuple(by_name[name] for name in self._book.rules_for(event_type))

    def counters_for(self, item: Input | str) -> tuple[str, ...]:
        """The store's shared counters deciding ``item`` (or an event of that type name)
        reads: rule budgets, first customers. The service reads them from the store and
        passes them to :meth:`decide`."""
        return self._book.counters_for(item if isinstance(item, str) else type(item).__name__)

    def _as_rules_see(self, state: CustomerState, now: datetime, at: datetime) -> CustomerState:
        """``state`` as the rules deciding an event at ``at`` read it: its ledger settled
        at ``now`` when a condition reads ``state.balance`` (points cleared or expired by
        now count so whether or not ``run_due()`` has run; the service settles before
        every other input, and a purchase's ledger settles in earn(), after the rules, so
        that the common purchase settles once), and without the stamps of cards that have
        lapsed by ``at`` when a condition reads ``state.stamps`` (as the card itself
        counts them: they are gone)."""
        ledger = state.ledger
        if self._reads_balance and ledger.next_due_at is not None and ledger.next_due_at <= now:
            settled, _ = ledgers.settle(ledger, now)
            state = attrs.evolve(state, ledger=settled)
        if self._reads_stamps and state.stamps:
            lapsed = [
                name
                for name, started in state.card_started.items()
                if name in self._cards and self._cards[name].lapsed(started, at, self.time_zone)
            ]
            if lapsed:
                stamps = {n: have for n, have in state.stamps.items() if n not in lapsed}
                state = attrs.evolve(state, stamps=FrozenMap(stamps))
        return state

    def _decide_event(
        self,
        state: CustomerState,
        event: Purchase | Visit | Signup | CustomEvent,
        now: datetime,
        counters: Mapping[str, int] | None,
    ) -> Decision:
        if isinstance(event, Purchase) and event.currency != self.currency:
            raise InvalidInput("currency", event.currency, f"the program's {self.currency}")
        zone = zone_of(state, self.time_zone)
        # The local time, worked out once when activity is kept per day (the rules may
        # need it too); else only if a rule asks.
        local = None if self._keep_days is None else event.at.astimezone(zone)
        seen = self._as_rules_see(state, now, event.at)
        award = self._book.evaluate(event, seen, zone, counters, local)
        effects: list[Effect] = []
        steps = list(award.steps)
        points = award.points
        if self.achievements and isinstance(event, Purchase | Visit):
            points += self._achieve(state, event, zone, effects, steps)
        if isinstance(event, Purchase) and state.referred_by and not state.referral_rewarded_at:
            points += self._reward_referral(seen, event, zone, effects, steps)
        if points > 0:
            effects.append(self._earn(points, event.id, event.at))
            if self._policy_note is not None:  # the dates are in the effect (and the lot)
                steps.append(self._policy_note)
        elif not steps:
            steps.append(note(f"nothing to do: no rule applies to {type(event).__name__}"))
        self._beyond_points(state, event, award, effects, steps)
        # Last, so that what the rules read is the activity before this event.
        if isinstance(event, Purchase | Visit):
            day = keep_since = None
            if local is not None and self._keep_days is not None:
                day = local.date()
                keep_since = day - timedelta(days=self._keep_days)
            if isinstance(event, Purchase):
                note_ = NotePurchase(event.amount, event.at, day, keep_since, award.points)
                effects.append(note_)
            else:
                effects.append(NoteVisit(event.at, day, keep_since))
            if self.tiers is not None and day is not None:
                spend = event.amount if isinstance(event, Purchase) else Decimal(0)
                change, line = self._climb(state, event.at, day=day, this=(spend, award.points))
                if change is not None and line is not None:
                    effects.append(change)
                    steps.append(note(line))
        if self._sends_on_its_own:
            self._on_its_own(state, event, points, effects=effects, steps=steps)
        return Decision(tuple(effects), Trace(steps))

    # -- the messages the program sends on its own -----------------------------------------

    def _on_its_own(
        self,
        state: CustomerState,
        event: Purchase | Visit | Signup | CustomEvent,
        points: int,
        *,
        effects: list[Effect],
        steps: list[Step],
    ) -> None:
        """The messages an event brings (welcome, thank-you)."""
        policy = self.messaging
        if isinstance(event, Signup) and policy.welcome is not None:
            effects.append(QueueMessage.of(policy.welcome, automatic_key(event.id, "welcome"), {}))
            steps.append(note(f"welcome message queued ({policy.welcome.template!r})"))
        if isinstance(event, Purchase) and policy.thank_you is not None:
            related = policy.suggestions(item.sku for item in event.items)
            # $suggestions is a line the default template shows as it is; $related the
            # bare list, for a host's own wording.
            line = f"You might also like: {related}." if related else ""
            context = {
                "points": points,
                "amount": event.amount,
                "related": related,
                "suggestions": line,
            }
            key = automatic_key(event.id, "thank_you")
            effects.append(QueueMessage.of(policy.thank_you, key, context))
            steps.append(note(f"thank-you message queued ({policy.thank_you.template!r})"))

    def _decide_recovery(
        self, state: CustomerState, item: Input, now: datetime, ref: Reference
    ) -> Decision:
        """A complaint, a survey answer or an incident: see :mod:`custbond.recovery`."""
        desk = self._desk
        if isinstance(item, ComplaintFiled):
            value = item.order_value
            if value is None:  # the purchase it is about, if it names one
                value = _order_value(state, ref)
            effects, lines = desk.file(state, item, value)
        elif isinstance(item, ComplaintAcknowledged):
            effects, lines = desk.acknowledge(state, item, now)
        elif isinstance(item, ComplaintResolved):
            effects, lines = desk.resolve(state, item, now, _order_value(state, ref))
        elif isinstance(item, SurveyResponse):
            effects, lines = desk.answer(state, item)
        else:
            assert isinstance(item, NotifyIncident)
            effects, lines = desk.notify(state, item, now)
        return Decision(tuple(effects), tuple(lines))

    def _decide_people(
        self,
        state: CustomerState,
        item: ContactMade | AssignOwner | CloseTask,
        now: datetime,
        ref: Reference,
    ) -> Decision:
        """What people do: a personal contact, an owner assigned, a task closed."""
        social = self.social or _NO_SOCIAL
        if isinstance(item, ContactMade):
            effects, lines = social_desk.contact(social, state, item)
            return Decision(tuple(effects), tuple(lines))
        if isinstance(item, AssignOwner):
            effects, lines = social_desk.assign(social, state, item, now)
            return Decision(tuple(effects), tuple(lines))
        assert isinstance(ref, Task)
        if not ref.is_open:
            return Decision((), (f"nothing to do: task {ref.key} is already closed",))
        return Decision((FinishTask(ref.key, now, item.result),), (f"task {ref.key} closed",))

    def _decide_appointment(
        self, state: CustomerState, event: Appointment | AppointmentCancelled
    ) -> Decision:
        if isinstance(event, AppointmentCancelled):
            why = f"appointment {event.appointment_id} cancelled"
            key = automatic_key(event.appointment_id, "reminder")
            return Decision((CancelMessage(key, why),), (why,))
        reminder = self.messaging.appointment_reminder
        if reminder is None:
            return Decision((), ("appointment booked: the program sends no reminders",))
        if event.starts_at <= event.at:
            return Decision((), ("no reminder: the appointment began before it was booked",))
        send_at = max(event.starts_at - reminder.before, event.at)
        local = event.starts_at.astimezone(zone_of(state, self.time_zone))
        context = {"when": local.strftime("%Y-%m-%d %H:%M"), "service": event.service or ""}
        queued = QueueMessage.of(
            reminder,
            automatic_key(event.id, "reminder"),
            context,
            not_before=send_at,
            not_after=event.starts_at,  # no use once it has begun
        )
        return Decision((queued,), (f"reminder queued for {send_at.isoformat()}",))

    def _expiry_check(
        self, notice: ExpiryNotice, state: CustomerState, decision: Decision, now: datetime
    ) -> datetime | None:
        """An earlier look at expiring points than the customer's schedule has, if the
        decision calls for one: lots it gives that expire sooner than those looked for
        (an earning recorded late), points it gives back (a cancelled redemption, whose
        lots may be near their end: looked at now), or no look scheduled at all."""
        current = state.schedule.get("expiring")
        expiries = [
            effect.expires_at
            for effect in decision.effects
            if isinstance(effect, EarnPoints | AdjustPoints)
            and effect.expires_at is not None
            and effect.points > 0
        ]
        if current is None:
            expiries.extend(expires_at for expires_at, _ in _expiring(state.ledger))
        wanted = [notice.check_at(at) for at in expiries]
        if any(isinstance(effect, RestorePoints) for effect in decision.effects):
            wanted.append(now)
        if not wanted:
            return None
        check = max(min(wanted), now)
        return check if current is None or check < current else None

    def due_messages(self, state: CustomerState, now: datetime) -> Decision:
        """The messages of the customer's schedule due by ``now`` (a birthday greeting,
        a notice of points about to expire), and the schedule moved on: what
        :meth:`~custbond.RetentionService.run_due` does for each customer."""
        effects: list[Effect] = []
        lines: list[str] = []
        policy, schedule = self.messaging, state.schedule
        zone = zone_of(state, self.time_zone)
        greeting, birthday, at = policy.birthday, state.customer.birthday, schedule.get("birthday")
        if greeting is not None and birthday is not None:
            if at is not None and at <= now:
                year = at.astimezone(zone).year
                if now - at <= greeting.late_by:
                    key = automatic_key("birthday", state.id, str(year))
                    effects.append(QueueMessage.of(greeting, key, {}))
                    lines.append(f"birthday greeting for {year} queued")
                else:
                    lines.append(f"birthday greeting for {year} skipped: due {at.isoformat()}")
            if at is None or at <= now:
                effects.append(SetSchedule("birthday", greeting.next_at(birthday, zone, now)))
        elif at is not None:
            effects.append(SetSchedule("birthday", None))
        notice, check = policy.points_expiring, schedule.get("expiring")
        if notice is not None and (check is None or check <= now):
            self._expiry_notice(notice, state, now, zone, effects=effects, lines=lines)
        elif notice is None and check is not None:
            effects.append(SetSchedule("expiring", None))
        return Decision(tuple(effects), tuple(lines))

    def _expiry_notice(
        self,
        notice: ExpiryNotice,
        state: CustomerState,
        now: datetime,
        zone: tzinfo,
        *,
        effects: list[Effect],
        lines: list[str],
    ) -> None:
        """A notice of the points expiring within the notice's window from ``now``, if
        any, and when to look next: once those have expired."""
        lots = _expiring(state.ledger, after=now)
        check: datetime | None = None
        if lots:
            end = notice.window_end(now)
            inside = [(at, points) for at, points in lots if at <= end]
            later = [at for at, _ in lots if at > end]
            check = notice.check_at(later[0]) if later else None
            if inside:
                first, last = inside[0][0], inside[-1][0]
                points = sum(points for _, points in inside)
                context = {
                    "points": points,
                    "expires_on": first.astimezone(zone).date().isoformat(),
                }
                stamp = first.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
                key = automatic_key("expiring", state.id, stamp)
                effects.append(QueueMessage.of(notice, key, context))
                lines.append(f"notice queued: {points} points expire from {first.isoformat()}")
                check = last if check is None else max(last, check)
        if check is not None and check <= now:
            # A window in months can put the next lot's look a little before now (a day
            # past the end of a month is clipped): look tomorrow, not at every run today.
            check = now + timedelta(days=1)
        if check != state.schedule.get("expiring"):
            effects.append(SetSchedule("expiring", check))

    def _earn(self, points: int, source: str, at: datetime, reason: str = "earned") -> EarnPoints:
        """A lot of ``points`` earned from ``source`` at ``at``, with the policy's dates."""
        policy = self.points
        return EarnPoints(
            points,
            source,
            at,
            policy.available_at(at, self.time_zone),
            policy.expires_at(at, self.time_zone),
            reason,
        )

    def _beyond_points(
        self,
        state: CustomerState,
        event: Purchase | Visit | Signup | CustomEvent,
        award: Award,
        effects: list[Effect],
        steps: list[Step],
    ) -> None:
        """The effects of what the rules gave besides points: stamps, a tier, tags,
        messages, counted firings and shared counters, vouchers (gifts and cashback)."""
        if award.stamps:
            effects.extend(self._punch(state, event, award.stamps, steps))
        if award.tier is not None and award.tier != state.tier:
            if award.tier_only_up and not self._raises(state.tier, award.tier):
                steps.append(note(f"tier {award.tier!r} not given: {state.tier!r} is higher"))
            else:
                effects.append(SetTier(award.tier, award.tier_rule or "", event.at))
        if award.tags:
            tags = state.customer.tags
            effects.extend(AddTag(tag) for tag in award.tags if tag not in tags)
        for rule, message in award.messages:
            effects.append(RequestMessage(message.template, message.channel, message.kind, rule))
            allowed, why = allows(state.consents, message.channel, MessageKind(message.kind))
            if not allowed:  # queued as suppressed, so the outbox shows why
                steps.append(note(f"message {message.template!r} will not be sent: {why}"))
        if award.uses:
            effects.extend(CountUse(rule, event.at, since) for rule, since in award.uses)
        effects.extend(AddToCounter(counter, amount) for counter, amount in award.shared)
        cashback = award.cashback
        for number, (rule, offer) in enumerate(award.gifts, start=1):
            code = voucher_code(state.id, f"rule {rule}", event.id, number)
            voucher = offer.issue(code, f"rule {rule}", event.at, self.time_zone)
            effects.append(IssueVoucher(voucher, cashback=number - 1 in cashback))

    def _raises(self, current: str | None, tier: str) -> bool:
        """Whether moving from ``current`` to ``tier`` is a move up: always from no tier;
        else by the ladder's order (not at all for tiers not on it)."""
        if current is None:
            return True
        if self.tiers is None:
            return False
        return self.tiers.rank(tier) > self.tiers.rank(current)

    def _climb(
        self, state: CustomerState, at: datetime, *, day: date, this: tuple[Decimal, int]
    ) -> tuple[ChangeTier | KeepTier | None, str | None]:
        """A move up the tier ladder (or a longer hold on the tier) that an event at
        ``at`` (local ``day``) earns, counting the spend and points it adds (``this``)
        and itself as a visit."""
        assert self.tiers is not None
        before = self.tiers.standing(state.activity, day)
        standing = Standing(before.spend + this[0], before.points + this[1], before.visits + 1)
        return tiers.upgrade(
            self.tiers,
            standing,
            tier=state.tier,
            review_at=state.tier_review_at,
            at=at,
            currency=self.currency,
            zone=zone_of(state, self.time_zone),
        )

    def review(self, state: CustomerState, now: datetime) -> Decision:
        """What falls due for the customer's tier by ``now``: a review at the end of the
        grace period, which keeps the tier or moves them down. Nothing when no review is
        due (or the program has no ladder)."""
        ladder = self.tiers
        review_at = state.tier_review_at
        if ladder is None or review_at is None or review_at > now:
            return _NOTHING_DUE
        zone = zone_of(state, self.time_zone)
        tier = state.tier
        effects: list[Effect] = []
        lines: list[str] = []
        while review_at is not None and review_at <= now:  # every review due, in turn
            last_day = (review_at - timedelta(microseconds=1)).astimezone(zone).date()
            standing = ladder.standing(state.activity, last_day)
            change, line = tiers.review(
                ladder,
                standing,
                tier=tier,
                review_at=review_at,
                currency=self.currency,
                zone=zone,
            )
            effects.append(change)
            lines.append(line)
            if isinstance(change, ChangeTier):
                tier = change.tier
            review_at = change.review_at
        return Decision(tuple(effects), tuple(lines))

    def tier_status(self, state: CustomerState, at: datetime) -> TierStatus:
        """The customer's place on the ladder at ``at``, for the host to show. Raises
        :class:`~custbond.InvalidInput` when the program has no ladder."""
        if self.tiers is None:
            raise InvalidInput("tiers", None, "a TierLadder in the program")
        zone = zone_of(state, self.time_zone)
        today = at.astimezone(zone).date()
        return tiers.status(
            self.tiers, state, at=at, today=today, currency=self.currency, zone=zone
        )

    def _decide_reward(
        self,
        state: CustomerState,
        ledger: Ledger,
        command: RedeemReward,
        now: datetime,
        ref: Reference,
    ) -> Decision:
        reward = self.reward(command.reward)
        if reward.per_customer is not None:
            taken = sum(  # a cancelled voucher was never taken
                1
                for voucher in state.vouchers.values()
                if voucher.source == reward.source
                and voucher.status is not VoucherStatus.CANCELLED
            )
            if taken >= reward.per_customer:
                raise RewardLimitReached(reward.name, reward.per_customer)
        if reward.stock is not None:
            if not isinstance(ref, RewardStock):
                raise InvalidInput("ref", ref, f"the RewardStock of {reward.name!r}")
            if ref.taken >= reward.stock:
                raise OutOfStock(reward.name, reward.stock)
        _require_available(state.id, ledger, reward.points)
        code = voucher_code(state.id, reward.source, command.key, 1)
        voucher = reward.offer.issue(code, reward.source, now, self.time_zone)
        effects: tuple[Effect, ...] = (
            RedeemPoints(reward.points, command.key, reward.source),
            IssueVoucher(voucher),
            AddToCounter(reward.counter, 1),
        )
        left = (
            ""
            if reward.stock is None or not isinstance(ref, RewardStock)
            else (f"; {reward.stock - ref.taken - 1} left")
        )
        trace = f"{reward.points} points for {reward.name!r}: voucher {code}{left}"
        return Decision(effects, (trace,))

    def _achieve(
        self,
        state: CustomerState,
        event: Purchase | Visit,
        zone: tzinfo,
        effects: list[Effect],
        steps: list[Step],
    ) -> int:
        """The progress an event makes on the program's achievements, and what those it
        reaches give; returns the points they give (added to the event's)."""
        day = event.at.astimezone(zone).date()
        kind = type(event).__name__
        spend = event.amount if isinstance(event, Purchase) else Decimal(0)
        points = 0
        for achievement in self.achievements:
            added = achievement.amount(kind, spend)
            if not added:
                continue
            period = achievement.period_key(day)
            before, progress, reached = state.progress.get(achievement.name, ("", 0, False))
            if before != period:  # a new period: start again
                progress, reached = 0, False
            progress += added
            now_reached = not reached and progress >= achievement.target
            effects.append(SetProgress(achievement.name, period, progress, reached or now_reached))
            if not now_reached:
                continue
            given = []
            if achievement.points:
                points += achievement.points
                given.append(f"{achievement.points} points")
            if achievement.gift is not None:
                source = f"achievement {achievement.name}"
                code = voucher_code(state.id, source, period, 1)
                effects.append(
                    IssueVoucher(achievement.gift.issue(code, source, event.at, self.time_zone))
                )
                given.append(f"a gift: {achievement.gift.name!r}")
            if achievement.tag is not None and achievement.tag not in state.customer.tags:
                effects.append(AddTag(achievement.tag))
                given.append(f"tag {achievement.tag!r}")
            line = f"achievement {achievement.name!r} reached for {period}: {', '.join(given)}"
            steps.append(note(line))
        return points

    def achievement_status(
        self, state: CustomerState, at: datetime
    ) -> tuple[AchievementStatus, ...]:
        """Where the customer stands on each achievement at ``at`` (in the current period:
        progress from an earlier period shows as 0)."""
        day = at.astimezone(zone_of(state, self.time_zone)).date()
        statuses = []
        for achievement in self.achievements:
            period = achievement.period_key(day)
            kept, progress, reached = state.progress.get(achievement.name, ("", 0, False))
            if kept != period:
                progress, reached = 0, False
            statuses.append(
                AchievementStatus(achievement.name, period, progress, achievement.target, reached)
            )
        return tuple(statuses)

    def _reward_referral(
        self,
        state: CustomerState,
        event: Purchase,
        zone: tzinfo,
        effects: list[Effect],
        steps: list[Step],
    ) -> int:
        """The rewards of a referral, if ``event`` is the referee's first purchase that
        qualifies; returns the referee's points (added to the purchase's)."""
        policy = self.referrals
        if policy is None or state.referred_by is None:
            return 0
        if self._qualifies(Facts(event, state, event.at, zone)) is not None:
            steps.append(note(f"referral: this purchase does not meet {policy.when}"))
            return 0
        referrer = state.referred_by
        if policy.referee_gift is not None:
            code = voucher_code(state.id, "referral", event.id, 1)
            effects.append(
                IssueVoucher(policy.referee_gift.issue(code, "referral", event.at, self.time_zone))
            )
        gift = None
        if policy.referrer_gift is not None:
            # The referee is named by the event, not by their id: a voucher outlives an
            # erasure of the referee on the referrer's side.
            code = voucher_code(referrer, "referral", event.id, 1)
            gift = policy.referrer_gift.issue(
                code, f"referral ({event.id})", event.at, self.time_zone
            )
        source = f"{event.id} referral"
        effects.append(RewardReferral(referrer, policy.referrer_points, gift, source, event.at))
        steps.append(
            note(
                f"referral by {referrer!r} rewarded: {policy.referee_points} points here, "
                f"{policy.referrer_points} points to {referrer!r}"
            )
        )
        return policy.referee_points

    def referrer_reward(self, effect: RewardReferral) -> Decision:
        """What the referrer of a :class:`RewardReferral` gets: a decision to apply to
        their state."""
        effects: list[Effect] = []
        if effect.points:
            effects.append(self._earn(effect.points, effect.source, effect.at, "referral"))
        if effect.gift is not None:
            effects.append(IssueVoucher(effect.gift))
        return Decision(tuple(effects), (f"a referral rewarded: {effect.points} points",))

    def _decide_coupon(
        self, state: CustomerState, command: UseCoupon, now: datetime, ref: Reference
    ) -> Decision:
        coupon = self.coupon(command.code)
        used = ref.used if isinstance(ref, CouponUses) else 0
        why = coupon.problem(now, used, state.coupon_uses.get(coupon.code, 0))
        if why is not None:
            raise CouponNotValid(coupon.code, why)
        effects: list[Effect] = [CountCoupon(coupon.code), AddToCounter(coupon.counter, 1)]
        said = [f"coupon {coupon.code} used"]
        if coupon.points:
            effects.append(self._earn(coupon.points, command.key, now, f"coupon {coupon.code}"))
            said.append(f"{coupon.points} points")
        if coupon.discount is not None:
            said.append(f"{coupon.discount.describe()} at this checkout")
        return Decision(tuple(effects), ("; ".join(said),))

    def _punch(
        self,
        state: CustomerState,
        event: Purchase | Visit | Signup | CustomEvent,
        stamps: Sequence[tuple[str, int]],
        steps: list[Step],
    ) -> list[Effect]:
        """The stamps an event earned, on the program's punch cards (which fill, issue
        their vouchers and start again) and on cards the program does not describe."""
        effects: list[Effect] = []
        cards = self._cards
        for name, count in stamps:
            card = cards.get(name)
            if card is None:  # stamps a rule gives on a card of the host's own
                effects.append(AddStamps(name, count))
                continue
            have = state.stamps.get(name, 0)
            started = state.card_started.get(name)
            if have and card.lapsed(started, event.at, self.time_zone):
                steps.append(note(f"card {name!r}: {have} stamps lapsed, the card starts again"))
                have, started = 0, None
            total = have + count
            if total // card.stamps > MOST_CARDS_FILLED:  # else a voucher each, unbounded
                most = (MOST_CARDS_FILLED + 1) * card.stamps - 1 - have
                raise InvalidInput(
                    "stamps",
                    count,
                    f"at most {most} stamps on card {name!r} from one event "
                    f"({MOST_CARDS_FILLED} full cards)",
                )
            if started is None:
                started = event.at
            filled = 0
            while total >= card.stamps:
                total -= card.stamps
                filled += 1
                code = voucher_code(state.id, name, event.id, filled)
                effects.append(
                    IssueVoucher(card.reward.issue(code, f"card {name}", event.at, self.time_zone))
                )
                steps.append(
                    note(f"card {name!r} is full: voucher {code} for {card.reward.name!r}")
                )
                started = event.at if total else None
            effects.append(SetCard(name, total, started))
            if not filled:
                steps.append(note(f"card {name!r}: {total} of {card.stamps} stamps"))
        return effects

    def _decide_return(
        self, state: CustomerState, event: Return, record: PurchaseRecord, now: datetime
    ) -> Decision:
        bought_in = record.purchase.currency
        if bought_in != self.currency:  # recorded before the program's currency changed
            expected = (
                f"a purchase in the program's {self.currency} (it was in {bought_in}: a"
                " program cannot change its currency over the data it has kept)"
            )
            raise InvalidInput("purchase_id", event.purchase_id, expected)
        updated = record.after_return(event)
        decision = self._reverse_points(event, record, updated)
        back: list[Effect] = []
        lines = _take_back_cashback(state, event, updated, now, back) if record.cashback else []
        # What conditions and tiers count of the customer's spend loses the amount returned,
        # off the day the purchase was counted on, with its share of the points counted.
        day, counted = record.counted
        points = updated.share_of(counted) - record.share_of(counted)
        noted = NoteReturn(updated.returned - record.returned, day, points)
        return Decision((*decision.effects, *back, noted), (*decision.trace, *lines))

    def _reverse_points(
        self, event: Return, record: PurchaseRecord, updated: PurchaseRecord
    ) -> Decision:
        called_for = updated.reversed - record.reversed
        points = min(called_for, record.reclaimable)
        purchase = record.purchase
        share = f"{updated.returned} of {purchase.amount} {purchase.currency}"
        trace = [
            f"{share} of {purchase.id} returned so far: {called_for} more of its "
            f"{record.points} points to reverse, rounded down"
        ]
        if points < called_for:
            trace.append(
                f"{called_for - points} of them expired or were taken back before; not reclaimed"
            )
        if points == 0:
            return Decision((), (*trace, "nothing to reverse"))
        trace.append(f"reversed {points} points")
        return Decision((ReversePoints(points, record.lots, event.id, event.at),), tuple(trace))

    def _decide_command(
        self, state: CustomerState, item: Input, now: datetime, ref: Reference
    ) -> Decision:
        ledger, _ = ledgers.settle(state.ledger, now)  # what is spendable at ``now``
        if isinstance(item, Redeem):
            _require_available(state.id, ledger, item.points)
            return Decision(
                (RedeemPoints(item.points, item.key, item.reason),),
                (f"redeemed {item.points} points",),
            )
        if isinstance(item, PlaceHold):
            _require_available(state.id, ledger, item.points)
            if item.expires_at <= now:
                raise InvalidInput(
                    "expires_at", item.expires_at, f"a time after {now.isoformat()}"
                )
            hold = HoldPoints(item.key, item.points, item.expires_at, item.reason)
            until = (
                f"held {item.points} points until {item.expires_at.isoformat()} at the latest "
                "(a hold ends sooner if its points expire sooner)"
            )
            return Decision((hold,), (until,))
        if isinstance(item, CaptureHold | ReleaseHold):
            assert isinstance(ref, HoldRecord)
            _check_open(ref)
            if isinstance(item, ReleaseHold):
                return Decision((ReleasePoints(ref.key),), (f"released {ref.points} points",))
            points = ref.points if item.points is None else item.points
            if points > ref.points:
                raise InvalidInput("points", points, f"at most the {ref.points} points held")
            trace = f"captured {points} of {ref.points} held points"
            return Decision((CapturePoints(ref.key, points),), (trace,))
        if isinstance(item, Adjust):
            if item.points < 0 and not self.points.allow_negative:
                _require_available(state.id, ledger, -item.points)
            expires_at = self.points.expires_at(now, self.time_zone) if item.points > 0 else None
            adjustment = AdjustPoints(item.points, item.key, item.reason, expires_at)
            return Decision(
                (adjustment,), (f"adjusted by {item.points:+d} points: {item.reason}",)
            )
        if isinstance(item, CancelRedemption):
            assert isinstance(ref, RedemptionRecord)
            if ref.cancelled:
                return Decision((), (f"nothing to do: {ref.key} was already cancelled",))
            restored = RestorePoints(ref.key, ref.draws)
            lines = [f"restored {ref.points} points of {ref.key}"]
            code = ref.voucher or _reward_voucher_of(state, ref.key)
            if code is None:
                return Decision((restored,), tuple(lines))
            taken_back = _take_back_reward(state, ref.key, code, now, lines)
            return Decision((restored, *taken_back), tuple(lines))
        if isinstance(item, SaveCustomer):
            effects: list[Effect] = [UpdateProfile(item.customer)]
            greeting = self.messaging.birthday
            old, new = state.customer, item.customer
            if greeting is not None and (
                old.birthday != new.birthday
                or old.time_zone != new.time_zone
                or "birthday" not in state.schedule
            ):
                at = None
                if new.birthday is not None:
                    zone = zone_of(attrs.evolve(state, customer=new), self.time_zone)
                    at = greeting.next_at(new.birthday, zone, now)
                if at != state.schedule.get("birthday"):
                    effects.append(SetSchedule("birthday", at))
            return Decision(tuple(effects), ("profile saved",))
        if isinstance(item, SetConsent):
            record = RecordConsent(item.channel, item.kind.value, item.granted, now, item.source)
            return Decision((record,), (record.consent().describe(),))
        if isinstance(item, UseVoucher | CancelVoucher):
            return _decide_voucher(state, item, now)
        if isinstance(item, RedeemReward):
            return self._decide_reward(state, ledger, item, now, ref)
        if isinstance(item, UseCoupon):
            return self._decide_coupon(state, item, now, ref)
        if isinstance(item, Settle):
            return self._settle_due(state, now)
        raise InvalidInput("item", item, "an event or a command")  # pragma: no cover

    def _settle_due(self, state: CustomerState, now: datetime) -> Decision:
        """What has fallen due for the customer by ``now``: messages, escalations,
        keep-in-touch, occasion and review tasks, carts, next needs, sequence steps and
        subscription occurrences."""
        messages = self.due_messages(state, now)
        escalations, lines = self._desk.due(state, now)
        social = self.social or _NO_SOCIAL
        contacts, more = social_desk.due_contact(social, state, now)
        zone = zone_of(state, self.time_zone)
        personal, why = social_desk.due_personal(social, state, now, zone=zone)
        custom = self.customization or _NO_CUSTOMIZATION
        carts, needs = customization_desk.due(custom, state, now, zone=zone)
        structural, steps = structure_desk.due(self.structure or _NO_STRUCTURE, state, now)
        return Decision(
            (*messages.effects, *escalations, *contacts, *personal, *carts, *structural),
            (
                "due changes materialised",
                *messages.trace,
                *lines,
                *more,
                *why,
                *needs,
                *steps,
            ),
        )

    # -- apply -----------------------------------------------------------------------------

    def apply(
        self, state: CustomerState, decision: Decision, now: datetime
    ) -> tuple[CustomerState, tuple[Entry, ...]]:
        """Carry out ``decision``: the new state, and the ledger entries written."""
        ledger = state.ledger
        written: list[Entry] = []
        rest: list[Effect] = []
        for effect in decision.effects:
            if isinstance(effect, _LEDGER_EFFECTS):
                ledger, entries = self._on_ledger(ledger, effect, now, state.id)
                written.extend(entries)
            else:
                rest.append(effect)
        if not rest:
            return attrs.evolve(state, ledger=ledger), tuple(written)
        return _apply_to_the_rest(state, ledger, rest), tuple(written)

    def _on_ledger(
        self, ledger: Ledger, effect: Effect, now: datetime, cid: str
    ) -> tuple[Ledger, Sequence[Entry]]:
        """Carry out one effect on the points."""
        if isinstance(effect, EarnPoints):
            return ledgers.earn(
                ledger,
                points=effect.points,
                source=effect.source,
                now=now,
                earned_at=effect.earned_at,
                available_at=effect.available_at,
                expires_at=effect.expires_at,
                reason=effect.reason,
            )
        if isinstance(effect, ReversePoints):
            return ledgers.reverse(
                ledger,
                points=effect.points,
                lots=effect.lots,
                source=effect.source,
                at=effect.at,
                now=now,
                allow_negative=self.points.allow_negative,
                reason=effect.reason,
            )
        if isinstance(effect, RedeemPoints):
            return ledgers.redeem(
                ledger,
                points=effect.points,
                source=effect.key,
                now=now,
                reason=effect.reason,
                customer_id=cid,
            )
        if isinstance(effect, AdjustPoints):
            return ledgers.adjust(
                ledger,
                points=effect.points,
                source=effect.key,
                now=now,
                reason=effect.reason,
                expires_at=effect.expires_at,
                allow_negative=self.points.allow_negative,
                customer_id=cid,
            )
        if isinstance(effect, HoldPoints):
            return ledgers.place_hold(
                ledger,
                key=effect.key,
                points=effect.points,
                expires_at=effect.expires_at,
                now=now,
                customer_id=cid,
                reason=effect.reason,
            )
        if isinstance(effect, CapturePoints):
            ledger, entries, _ = ledgers.capture(
                ledger, key=effect.key, points=effect.points, now=now
            )
            return ledger, entries
        if isinstance(effect, ReleasePoints):
            return ledgers.release(ledger, key=effect.key, now=now)
        assert isinstance(effect, RestorePoints)
        return ledgers.restore(ledger, draws=effect.draws, source=effect.key, now=now)


def _check_templates(
    policy: MessagingPolicy,
    rules: Iterable[Rule],
    recovery: RecoveryPolicy | None,
    bonds: Iterable[Asked] = (),
) -> None:
    """Refuse a program that would ask for a template its policy does not have (on the
    message's channel, or ``"*"``), or one with a placeholder its message is never given:
    the ``Message`` effect of a rule (the values of every event it fires on), a message
    of the recovery policy or of the bonds, or a message the policy sends on its own."""
    asked: list[Asked] = [
        (f"rules[{rule.name!r}].then", effect.template, effect.channel, values)
        for rule in rules
        for values in (rule_message_values(rule.on),)
        for effect in rule.then
        if isinstance(effect, Message)
    ]
    asked += policy.messages()
    if recovery is not None:
        asked += recovery.messages()
    asked += bonds
    for field, name, channel, values in asked:
        policy.require_template(field, name, channel, values)


# What a customer does with the customization and structural bonds, and with the social
# bond's occasions and members' events.
_CUSTOMIZATION_INPUTS = (SetPreferences, AddWish, RemoveWish, SaveCart, DropCart, OfferAccepted)
_SUBSCRIPTION_INPUTS = (
    Subscribe,
    PauseSubscription,
    SkipDelivery,
    ResumeSubscription,
    CancelSubscription,
)
_BOND_INPUTS = (
    *_CUSTOMIZATION_INPUTS,
    *_SUBSCRIPTION_INPUTS,
    IntegrationAdopted,
    IntegrationDropped,
    EventAttended,
    Invite,
    AddOccasion,
)
# A program without these policies still keeps what customers tell it (preferences, a
# wish list, carts for the default window, integrations); no plans, no sequences.
_NO_CUSTOMIZATION = CustomizationPolicy()
_NO_STRUCTURE = StructuralPolicy()

# A program without a social policy still keeps owners and contacts: no tasks come of them.
_NO_SOCIAL = SocialPolicy()
# A program without a recovery policy still keeps complaints and survey answers: with no
# targets, no compensation and nothing sent.
_SILENT = RecoveryPolicy(apology=None, incident_notice=None)
_RECOVERY_INPUTS = (
    ComplaintFiled,
    ComplaintAcknowledged,
    ComplaintResolved,
    SurveyResponse,
    NotifyIncident,
)


def _describe_policy(policy: PointsPolicy) -> str | None:
    """How earned points behave, in words, for traces; None if they just stay."""
    parts = []
    if policy.pending_for is not None:
        parts.append(f"pending for {describe_duration(policy.pending_for)} (the return window)")
    if policy.expire_after is not None:
        expiry = f"expire {describe_duration(policy.expire_after)} later"
        if policy.expire_at_end_of is not None:
            expiry += f", at the end of that {policy.expire_at_end_of.value}"
        parts.append(expiry)
    return "; ".join(parts) or None


def _require_available(customer_id: str, ledger: Ledger, points: int) -> None:
    if points > ledger.available:
        raise InsufficientPoints(customer_id, requested=points, available=max(ledger.available, 0))


def _check_open(hold: HoldRecord) -> None:
    if hold.status is HoldStatus.CAPTURED:
        raise HoldAlreadyCaptured(hold.key, hold.captured)
    if hold.status is HoldStatus.RELEASED:
        raise HoldAlreadyReleased(hold.key)
    if hold.status is HoldStatus.EXPIRED:
        raise HoldExpired(hold.key, hold.expires_at)


BASE_RULE = "points per spend"


def _days_of_spend_needed(rules: Sequence[Rule]) -> int | None:
    """How many days of spend per day the rules read (``state.spent_within``), if any."""
    days: int | None = None
    for rule in rules:
        for leaf in rule.when.comparisons():
            if leaf.fact == "state.spent_within":
                args = dict(leaf.args)
                needed = args.get("days") or 31 * args.get("months", 0) + 1
                days = needed if days is None else max(days, needed)
    return days


K = TypeVar("K")
V = TypeVar("V")


def _with(mapping: FrozenMap[K, V], key: K, value: V | None) -> FrozenMap[K, V]:
    """``mapping`` with ``key`` set to ``value``, or without ``key`` when it is None."""
    changed = mapping.to_dict()
    if value is None:
        changed.pop(key, None)
    else:
        changed[key] = value
    return FrozenMap(changed) if changed else empty_map()


def _reward_voucher_of(state: CustomerState, key: str) -> str | None:
    """The code of the catalog reward's voucher the redemption ``key`` bought, for a
    redemption record kept before records named it (its code is made of the key); None
    when it bought none."""
    for voucher in state.vouchers.values():
        source = voucher.source
        if source.startswith("reward ") and voucher.code == voucher_code(state.id, source, key, 1):
            return voucher.code
    return None


def _take_back_reward(
    state: CustomerState, key: str, code: str, now: datetime, lines: list[str]
) -> list[Effect]:
    """What cancelling the redemption ``key`` of a catalog reward takes back besides the
    points: its voucher ``code``, unless used (then the reward was handed over, and the
    cancellation is refused: the points would buy it twice), and its place in the
    reward's stock. Appends the trace's lines to ``lines``."""
    voucher = state.vouchers.get(code)
    if voucher is None:  # pragma: no cover - issued in the redemption's unit of work
        raise NotFound("voucher", code)
    if voucher.status is VoucherStatus.USED:
        error = VoucherAlreadyUsed(voucher.code, voucher.used_at)
        error.add_note(
            f"{key} bought {voucher.name!r} with it: the reward was handed over, so "
            "its points are not given back (adjust() gives points, if it came back)"
        )
        raise error
    effects: list[Effect] = []
    if voucher.status is VoucherStatus.ISSUED:
        effects.append(MarkVoucher(voucher.code, VoucherStatus.CANCELLED, now))
        lines.append(f"voucher {voucher.code} ({voucher.name}) cancelled")
    # The counter of the reward's stock is named as its vouchers' source (Reward.counter).
    effects.append(AddToCounter(voucher.source, -1))
    lines.append(f"{voucher.name!r} back in stock")
    return effects


def _decide_voucher(
    state: CustomerState, command: UseVoucher | CancelVoucher, now: datetime
) -> Decision:
    voucher = state.vouchers.get(command.code)
    if voucher is None:
        raise NotFound("voucher", command.code)
    if voucher.status is VoucherStatus.USED:
        raise VoucherAlreadyUsed(voucher.code, voucher.used_at)
    if voucher.status is VoucherStatus.CANCELLED:
        if isinstance(command, CancelVoucher):
            return Decision((), (f"nothing to do: voucher {voucher.code} was already cancelled",))
        raise VoucherCancelled(voucher.code)
    if isinstance(command, CancelVoucher):
        mark = MarkVoucher(voucher.code, VoucherStatus.CANCELLED, now)
        return Decision((mark,), (f"voucher {voucher.code} ({voucher.name}) cancelled",))
    if voucher.expires_at is not None and now >= voucher.expires_at:
        raise VoucherExpired(voucher.code, voucher.expires_at)
    mark = MarkVoucher(voucher.code, VoucherStatus.USED, now)
    return Decision((mark,), (f"voucher {voucher.code} ({voucher.name}) used",))


def _take_back_cashback(
    state: CustomerState,
    event: Return,
    record: PurchaseRecord,
    now: datetime,
    effects: list[Effect],
) -> list[str]:
    """Take back the cashback of the returned purchase that is still unused: what the
    customer keeps of each voucher is its first value times the share of the purchase not
    returned so far (``record`` is the purchase's record after ``event``), rounded down.
    A voucher worth more is cancelled and, if anything is left, replaced by one worth
    that (same name, source and expiry; its code comes from the return's id). Appends
    the effects to ``effects``; returns the trace's lines. A voucher used, cancelled or
    expired already is left as it is, and the trace says so."""
    currency = record.purchase.currency
    lines: list[str] = []
    for number, (code, given) in enumerate(record.cashback, start=1):
        voucher = state.vouchers.get(code)
        if voucher is None or voucher.value is None:  # pragma: no cover - kept with the record
            lines.append(f"cashback voucher {code}: not found; nothing taken back")
            continue
        if voucher.status is VoucherStatus.CANCELLED:
            lines.append(f"cashback voucher {code} was cancelled already: nothing to take back")
            continue
        value, left = voucher.value, record.cashback_left(given)
        worth = f"{format(value, 'f')} {currency}"
        if left >= value:
            lines.append(f"cashback voucher {code} ({worth}): nothing more to take back")
            continue
        taken = f"{format(value - left, 'f')} {currency}"
        if voucher.status is VoucherStatus.USED:
            lines.append(f"cashback voucher {code} ({worth}) was used: {taken} not reclaimed")
            continue
        if voucher.expires_at is not None and now >= voucher.expires_at:
            lines.append(f"cashback voucher {code} ({worth}) expired: {taken} not reclaimed")
            continue
        effects.append(MarkVoucher(code, VoucherStatus.CANCELLED, now))
        if not left:
            lines.append(f"cashback voucher {code} ({worth}) cancelled: {taken} taken back")
            continue
        new_code = voucher_code(state.id, voucher.source, event.id, number)
        replacement = attrs.evolve(voucher, code=new_code, value=left, issued_at=event.at)
        effects.append(IssueVoucher(replacement, cashback=True, replaces=code))
        lines.append(
            f"cashback voucher {code} ({worth}) replaced by {new_code} "
            f"({format(left, 'f')} {currency}): {taken} taken back"
        )
    return lines


_LEDGER_EFFECTS = (
    EarnPoints,
    ReversePoints,
    RedeemPoints,
    AdjustPoints,
    HoldPoints,
    CapturePoints,
    ReleasePoints,
    RestorePoints,
)


MOST_CARDS_FILLED = 1_000
"""How many times one event may fill a punch card (each full card is a voucher): an event
that would fill it more often is refused with :class:`~custbond.InvalidInput`."""


def _noted(activity: Activity, effect: NotePurchase | NoteReturn | NoteVisit) -> Activity:
    """``activity`` with the purchase, return or visit ``effect`` notes."""
    if isinstance(effect, NotePurchase):
        return activity.after_purchase(
            effect.amount,
            effect.at,
            effect.day,
            keep_since=effect.keep_since,
            points=effect.points,
        )
    if isinstance(effect, NoteReturn):
        return activity.after_return(effect.amount, effect.day, points=effect.points)
    return activity.after_visit(effect.at, effect.day, keep_since=effect.keep_since)


def _apply_to_the_rest(
    state: CustomerState, ledger: Ledger, effects: list[Effect]
) -> CustomerState:
    """The state after the effects that do not touch the points, with ``ledger``."""
    customer, activity, stamps, tier = state.customer, state.activity, state.stamps, state.tier
    uses, started, vouchers = state.rule_uses, state.card_started, state.vouchers
    since, until, review_at = state.tier_since, state.tier_until, state.tier_review_at
    changes, progress, coupon_uses = state.tier_changes, state.progress, state.coupon_uses
    later: list[Effect] = []  # referrals, messaging, recovery, social: read once below
    # Put together once below: a purchase that fills a card many times over issues a
    # voucher per card, and copying the map for each would be quadratic.
    changed_vouchers: dict[str, Voucher] = {}
    for effect in effects:
        if isinstance(effect, NotePurchase | NoteReturn | NoteVisit):
            activity = _noted(activity, effect)
        elif isinstance(effect, AddStamps):
            stamps = _with(stamps, effect.card, stamps.get(effect.card, 0) + effect.stamps)
        elif isinstance(effect, SetCard):
            stamps = _with(stamps, effect.card, effect.stamps or None)
            started = _with(started, effect.card, effect.started_at)
        elif isinstance(effect, SetTier):
            if effect.at is not None:
                change = TierChange(effect.at, tier, effect.tier, f"rule {effect.rule!r}")
                changes = (*changes, change)
                since, until, review_at = effect.at, None, None
            tier = effect.tier
        elif isinstance(effect, ChangeTier):
            changes = (*changes, TierChange(effect.at, tier, effect.tier, effect.reason))
            tier, since, until, review_at = effect.tier, effect.at, effect.until, effect.review_at
        elif isinstance(effect, KeepTier):
            until, review_at = effect.until, effect.review_at
        elif isinstance(effect, AddTag):
            customer = attrs.evolve(customer, tags=customer.tags | {effect.tag})
        elif isinstance(effect, CountUse):
            kept = tuple(at for at in uses.get(effect.rule, ()) if at >= effect.keep_from)
            uses = _with(uses, effect.rule, tuple(sorted((*kept, effect.at))))
        elif isinstance(effect, IssueVoucher):
            changed_vouchers[effect.voucher.code] = effect.voucher
        elif isinstance(effect, MarkVoucher):
            used_at = effect.at if effect.status is VoucherStatus.USED else None
            voucher = changed_vouchers.get(effect.code) or vouchers[effect.code]
            marked = attrs.evolve(voucher, status=effect.status, used_at=used_at)
            changed_vouchers[effect.code] = marked
        elif isinstance(effect, CountCoupon):
            coupon_uses = _with(coupon_uses, effect.code, coupon_uses.get(effect.code, 0) + 1)
        elif isinstance(effect, SetProgress):
            entry = (effect.period, effect.progress, effect.reached)
            progress = _with(progress, effect.name, entry)
        elif isinstance(effect, UpdateProfile):
            customer = effect.customer
        else:  # (a RequestMessage changes no state: the decision records the request)
            later.append(effect)
    if changed_vouchers:
        vouchers = FrozenMap({**vouchers, **changed_vouchers})
    return CustomerState(
        customer,
        ledger,
        activity,
        stamps,
        tier,
        uses,
        started,
        vouchers,
        since,
        until,
        review_at,
        changes,
        progress,
        coupon_uses,
        *(_the_rest_after(state, later) if later else _the_rest_of(state)),
    )


def _the_rest_of(state: CustomerState) -> tuple[Any, ...]:
    """The fields of ``state`` that :func:`_the_rest_after` changes, as they are: what
    most events leave alone, without asking each part."""
    return (
        state.referred_by,
        state.referral_rewarded_at,
        state.consents,
        state.schedule,
        state.cases,
        state.surveys,
        state.owner,
        state.last_contact_at,
        state.held,
    )


def _the_rest_after(state: CustomerState, effects: list[Effect]) -> tuple[Any, ...]:
    """The fields of ``state`` after ``effects`` on referrals, messaging, recovery, the
    social bond and what the bonds hold, in CustomerState's order."""
    return (
        *_referral_after(state, effects),
        *_messaging_after(state, effects),
        *_recovery_after(state, effects),
        *_social_after(state, effects),
        _held_after(state, effects),
    )


def _referral_after(
    state: CustomerState, effects: list[Effect]
) -> tuple[str | None, datetime | None]:
    """Who referred the customer, and when that was rewarded, after ``effects``."""
    referred_by, rewarded_at = state.referred_by, state.referral_rewarded_at
    for effect in effects:
        if isinstance(effect, SetReferrer):
            referred_by = effect.referrer_id
        elif isinstance(effect, RewardReferral):
            rewarded_at = effect.at
    return referred_by, rewarded_at


def _order_value(state: CustomerState, ref: Reference) -> Decimal | None:
    """What the customer's purchase ``ref`` is worth now (less what was returned); None
    when ``ref`` is no purchase of theirs."""
    if isinstance(ref, PurchaseRecord) and ref.customer_id == state.id:
        return ref.purchase.amount - ref.returned
    return None


def _social_after(
    state: CustomerState, effects: list[Effect]
) -> tuple[str | None, datetime | None]:
    """The customer's relationship owner and last personal contact after ``effects``."""
    owner, contact = state.owner, state.last_contact_at
    for effect in effects:
        if isinstance(effect, SetOwner):
            owner = effect.owner
        elif isinstance(effect, NoteContact):
            contact = effect.at
    return owner, contact


def _held_after(state: CustomerState, effects: list[Effect]) -> Held:
    """What the customer's bonds hold after ``effects``."""
    held = state.held
    for effect in effects:
        if isinstance(effect, SetHeld):
            held = held.with_item(effect.part, effect.key, effect.value)
    return held


def _recovery_after(
    state: CustomerState, effects: list[Effect]
) -> tuple[FrozenMap[str, RecoveryCase], tuple[SurveyResponse, ...]]:
    """The customer's recovery cases and survey answers after ``effects`` (tasks change
    no state: the service keeps them in the store)."""
    cases, surveys = state.cases, state.surveys
    for effect in effects:
        if isinstance(effect, SetCase):
            cases = _with(cases, effect.case.id, effect.case)
        elif isinstance(effect, NoteSurvey):
            surveys = (*surveys, effect.answer)
    return cases, surveys


def _messaging_after(
    state: CustomerState, effects: list[Effect]
) -> tuple[FrozenMap[str, Consent], FrozenMap[str, datetime]]:
    """The customer's consents and schedule after ``effects``."""
    consents, schedule = state.consents, state.schedule
    for effect in effects:
        if isinstance(effect, RecordConsent):
            consents = _with(consents, consent_key(effect.channel, effect.kind), effect.consent())
        elif isinstance(effect, SetSchedule):
            schedule = _with(schedule, effect.name, effect.at)
    return consents, schedule


def _expiring(ledger: Ledger, *, after: datetime | None = None) -> list[tuple[datetime, int]]:
    """When each lot with points left expires (after ``after``), and its points, soonest
    first."""
    return sorted(
        (lot.expires_at, lot.remaining)
        for lot in (*ledger.pending_lots, *ledger.available_lots)
        if lot.expires_at is not None
        and lot.remaining > 0
        and (after is None or lot.expires_at > after)
    )


def _decide_referral(state: CustomerState, referral: Referral) -> Decision:
    if state.referred_by is not None:
        why = f"already referred by {state.referred_by!r}: a second referral changes nothing"
        return Decision((), (why,))
    bought = state.activity.purchases
    if bought:
        # A referral brings a new customer: one who has bought already came without it,
        # and their next purchase is not the first the rewards are for.
        times = "1 purchase" if bought == 1 else f"{bought} purchases"
        why = f"already a customer ({times} before): a referral changes nothing"
        return Decision((), (why,))
    return Decision(
        (SetReferrer(referral.referrer_id),),
        (f"referred by {referral.referrer_id!r}",),
    )
