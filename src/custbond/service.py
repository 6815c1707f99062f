"""RetentionService: the one object a host application talks to.

It is thin on purpose. For each event or command it checks the idempotency key in the
event log, loads the customer's state, lets the program decide and apply, and saves the
state, the ledger entries, the records and the log entry in one unit of work.

>>> from datetime import UTC, datetime, timezone
>>> from decimal import Decimal
>>> from custbond import FixedClock, MemoryStore, Program, Purchase, RetentionService
>>> clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
>>> service = RetentionService(Program(), MemoryStore(), clock=clock)
>>> outcome = service.record(Purchase(id="o-1", customer_id="c-1", at=clock.now(),
...                                   amount=Decimal("12.40"), currency="USD"))
>>> outcome.balance.available
12
>>> service.redeem("c-1", 10, key="r-1").balance.available
2
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

import attrs

from custbond import _validate as v
from custbond import ledger as ledgers
from custbond._same import same_value
from custbond.bonds.achievements import AchievementStatus
from custbond.bonds.cards import Voucher
from custbond.bonds.catalog import RewardStock
from custbond.bonds.coupons import CouponUses
from custbond.bonds.quotes import Quote
from custbond.bonds.tiers import TierStatus
from custbond.bonds.verbs import BondVerbs
from custbond.clock import Clock, SystemClock
from custbond.commands import (
    AddOccasion,
    AddWish,
    Adjust,
    AssignOwner,
    CancelRedemption,
    CancelVoucher,
    CaptureHold,
    CloseTask,
    Input,
    PlaceHold,
    Redeem,
    RedeemReward,
    ReleaseHold,
    SaveCart,
    SaveCustomer,
    SetConsent,
    SetPreferences,
    Settle,
    Subscribe,
    UseCoupon,
    UseVoucher,
    log_key,
)
from custbond.customers import Customer
from custbond.effects import (
    AddToCounter,
    Effect,
    FinishTask,
    IssueVoucher,
    NotePurchase,
    OpenTask,
    RewardReferral,
)
from custbond.erasure import ERASED, PSEUDONYM_PREFIX, Erasure
from custbond.errors import (
    CustbondError,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    TransactionConflict,
    raise_first,
)
from custbond.events import (
    EVENT_TYPE_NAMES,
    EVENT_TYPES,
    ComplaintFiled,
    ComplaintResolved,
    CustomEvent,
    Event,
    LineItem,
    Purchase,
    Return,
    Signup,
    Visit,
)
from custbond.ledger import Balance, Entry, EntryKind, Ledger
from custbond.messaging.notifier import Notifier
from custbond.messaging.outbox import OutboxVerbs
from custbond.messaging.policy import RetryPolicy
from custbond.outcome import Outcome
from custbond.program import CustomerState, Decision, Program, Reference
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.recovery.verbs import RecoveryVerbs
from custbond.rules.trace import Trace
from custbond.storage.ports import LogRecord, Record, Store, UnitOfWork
from custbond.tasks import Task

__all__ = ["RetentionService"]

# What may come for a customer not seen before (and creates them).
_CREATES_CUSTOMERS = (
    *EVENT_TYPES,
    SaveCustomer,
    UseCoupon,
    SetConsent,
    AssignOwner,
    SetPreferences,
    AddWish,
    SaveCart,
    Subscribe,
    AddOccasion,
)

# Events that refer to no record and are about their own customer_id: most of what
# record() sees, so _handle asks this first.
_PLAIN_EVENTS = (Purchase, Visit, Signup, CustomEvent)

# Effects that reach beyond the customer deciding them (see RetentionService._reach_out).
_REACHING_OUT = (AddToCounter, RewardReferral, OpenTask, FinishTask)

# How many times a unit of work that lost a race (TransactionConflict) is tried in all.
_ATTEMPTS = 5

T = TypeVar("T")


@attrs.define
class RetentionService(OutboxVerbs, RecoveryVerbs, BondVerbs):
    """Records what customers do and carries out the program's decisions.

    ``program`` is the policy, ``store`` where state is kept, ``clock`` where the time
    comes from (inject a :class:`~custbond.FixedClock` in tests). ``notifier`` delivers
    the messages :meth:`dispatch` sends (see ``docs/messaging.md``), ``retry`` says how
    hard it tries.
    """

    program: Program = attrs.field()
    store: Store = attrs.field()
    clock: Clock = attrs.field(factory=SystemClock)
    notifier: Notifier | None = attrs.field(default=None, kw_only=True)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy, kw_only=True)

    # Checked here rather than at the first call, which would fail inside custbond with
    # a message about something else ("can't compare offset-naive and offset-aware
    # datetimes" for a datetime given as the clock).
    @program.validator
    def _check_program(self, attribute: object, value: object) -> None:
        if not isinstance(value, Program):
            raise InvalidInput("program", value, "a Program")

    @store.validator
    def _check_store(self, attribute: object, value: object) -> None:
        if isinstance(value, type) or not callable(getattr(value, "unit_of_work", None)):
            expected = "a Store (MemoryStore, SQLiteStore, SQLAlchemyStore, or a host's own)"
            raise InvalidInput("store", value, expected)

    @clock.validator
    def _check_clock(self, attribute: object, value: object) -> None:
        if isinstance(value, type) or not callable(getattr(value, "now", None)):
            # A datetime has a now() too, a class method giving a naive local time.
            raise InvalidInput("clock", value, "a Clock (FixedClock, SystemClock)")
        if isinstance(value, datetime):
            raise InvalidInput("clock", value, "a Clock such as FixedClock(at), not a time")

    @notifier.validator
    def _check_notifier(self, attribute: object, value: object) -> None:
        if value is not None and not callable(getattr(value, "send", None)):
            raise InvalidInput("notifier", value, "a Notifier (with a send(message) method)")

    @retry.validator
    def _check_retry(self, attribute: object, value: object) -> None:
        if not isinstance(value, RetryPolicy):
            raise InvalidInput("retry", value, "a RetryPolicy")

    # -- events ----------------------------------------------------------------------------

    def record(self, event: Event) -> Outcome:
        """Record ``event`` and carry out what the program decides.

        An event for a customer not seen before creates that customer. Delivering the same
        event again returns the first outcome and changes nothing; the same id with other
        content raises :class:`~custbond.IdempotencyConflict`.
        """
        if not isinstance(event, EVENT_TYPES):
            raise InvalidInput("event", event, f"an event: {EVENT_TYPE_NAMES}")
        return self._process(event, self.clock.now())

    def record_many(self, events: Iterable[Event], *, batch_size: int = 500) -> list[Outcome]:
        """Record ``events`` in order, ``batch_size`` of them per unit of work: for bulk
        loads (an import, a day's till rolls), with the same outcomes and the same state
        as recording them one by one, and much faster on a database store (one
        transaction, and one write of each customer's row, per batch).

        Every event is checked to be an event before any is recorded. When one is
        refused (its error is raised, as :meth:`record` would raise it, with a note
        naming its position), the events before it are recorded and the ones after it
        are not: its batch is rolled back and recorded again one by one up to it.

        >>> from datetime import datetime, timezone
        >>> from decimal import Decimal
        >>> from custbond import FixedClock, MemoryStore, Program, Purchase
        >>> clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
        >>> service = RetentionService(Program(), MemoryStore(), clock=clock)
        >>> outcomes = service.record_many(
        ...     Purchase(id=f"o-{n}", customer_id="c-1", at=clock.now(),
        ...              amount=Decimal("10.00"), currency="USD") for n in range(3))
        >>> [outcome.balance.available for outcome in outcomes]
        [10, 20, 30]
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", batch_size, "a positive int")
        if isinstance(events, EVENT_TYPES) or not isinstance(events, Iterable):
            raise InvalidInput("events", events, "an iterable of events (a list, even of one)")
        items = list(events)
        for index, event in enumerate(items):
            if not isinstance(event, EVENT_TYPES):
                raise InvalidInput(
                    f"events[{index}]",
                    event,
                    f"an event: {EVENT_TYPE_NAMES}",
                )
        outcomes: list[Outcome] = []
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            try:
                outcomes.extend(self._process_batch(batch))
            except TransactionConflict:
                raise
            except CustbondError:
                # One event of the batch was refused and the batch rolled back: record
                # its events one at a time, so those before the refused one are kept.
                for offset, event in enumerate(batch):
                    try:
                        outcomes.append(self._process(event, self.clock.now()))
                    except CustbondError as error:
                        at = start + offset
                        error.add_note(
                            f"record_many(): events[{at}] (id {event.id!r}) was not"
                            f" recorded; the {at} before it were, none after it"
                        )
                        raise
        return outcomes

    def _process_batch(self, batch: Sequence[Event]) -> list[Outcome]:
        """Handle ``batch`` in one unit of work, again if it lost a race."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.store.unit_of_work() as uow:
                    uow.prefetch_customers([event.customer_id for event in batch])
                    uow.prefetch_logged([("event", event.id) for event in batch])
                    return [self._handle(uow, event, self.clock.now()) for event in batch]
            except TransactionConflict:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def preview(self, event: Event) -> Decision:
        """What recording ``event`` now would decide, with the trace of every rule
        considered. A dry run: nothing is kept, and the event may be recorded later.

        The event is decided as if it were new, even if its id was recorded before. A
        tier review that has fallen due comes first, as in :meth:`record`: its effects
        and trace lead the decision's.
        """
        if not isinstance(event, EVENT_TYPES):
            raise InvalidInput("event", event, f"an event: {EVENT_TYPE_NAMES}")
        now = self.clock.now()
        with self.store.unit_of_work(write=False) as uow:  # reads only: nothing to commit
            customer_id = self._customer_of(uow, event)
            state = uow.load(customer_id)
            ref = self._reference(uow, event)
            counters = {name: uow.counter(name) for name in self.program.counters_for(event)}
        if state is None:
            state = CustomerState(Customer(customer_id))
        if not isinstance(event, Purchase):  # as _process does: settle what is due first
            ledger, settled = ledgers.settle(state.ledger, now)
            state = attrs.evolve(state, ledger=ledger)
            ref = _as_time_left(ref, customer_id, settled)
        state, review = self._review_due(state, now)
        decision = self.program.decide(state, event, now, ref, counters=counters)
        if not review.effects:
            return decision
        return Decision(
            (*review.effects, *decision.effects), Trace((*review.trace, *decision.trace))
        )

    # -- commands --------------------------------------------------------------------------

    def redeem(
        self, customer_id: str, points: int, key: str, *, reason: str = "redeemed"
    ) -> Outcome:
        """Spend ``points`` now, from the available lots that expire soonest.

        Raises :class:`~custbond.InsufficientPoints` (changing nothing) when the customer
        has fewer available points, :class:`~custbond.NotFound` for an unknown customer.
        """
        command = Redeem(key=key, customer_id=customer_id, points=points, reason=reason)
        return self._process(command, self.clock.now())

    def hold(
        self,
        customer_id: str,
        points: int,
        key: str,
        expires_at: datetime,
        *,
        reason: str = "held",
    ) -> Outcome:
        """Reserve ``points`` under ``key`` until ``expires_at`` (phase one of a checkout).

        Held points cannot be spent elsewhere. Resolve the hold once with :meth:`capture`
        or :meth:`release`; if neither comes before ``expires_at``, it releases itself.
        A hold ends sooner if the points it reserves expire sooner.
        """
        command = PlaceHold(
            key=key, customer_id=customer_id, points=points, expires_at=expires_at, reason=reason
        )
        return self._process(command, self.clock.now())

    def capture(self, key: str, points: int | None = None) -> Outcome:
        """Spend ``points`` of the hold ``key`` (all of it by default) and release the rest.

        Raises :class:`~custbond.HoldAlreadyReleased`, :class:`~custbond.HoldExpired`, or
        :class:`~custbond.HoldAlreadyCaptured` when captured before for other points.
        """
        return self._process(CaptureHold(hold_key=key, points=points), self.clock.now())

    def release(self, key: str) -> Outcome:
        """Give the points of the hold ``key`` back to the customer."""
        return self._process(ReleaseHold(hold_key=key), self.clock.now())

    def adjust(self, customer_id: str, points: int, reason: str, key: str) -> Outcome:
        """Add (``points > 0``) or remove (``points < 0``) points by hand, for ``reason``.

        Added points are available at once and expire as the policy says. Pass ``reason``
        and ``key`` by keyword (``reason="goodwill", key="adj-17"``): both are strings,
        and a swap would go unnoticed.
        """
        command = Adjust(key=key, customer_id=customer_id, points=points, reason=reason)
        return self._process(command, self.clock.now())

    def cancel_redemption(self, key: str) -> Outcome:
        """Undo the redemption (or captured hold) ``key``, e.g. when its order is refunded.

        The points go back to the lots they came from, with their original expiry; points
        whose lot has expired meanwhile expire again at once. Retrying is safe: the points
        come back once.
        """
        return self._process(CancelRedemption(redemption_key=key), self.clock.now())

    # -- checkout --------------------------------------------------------------------------

    def quote(
        self, customer_id: str, items: Sequence[LineItem], *, coupons: Sequence[str] = ()
    ) -> Quote:
        """The discounts the program's rules give this customer on a cart of ``items``
        now, each with the rule that gave it and its share of each line; a customer not
        seen before is quoted as new. ``coupons`` are codes the customer brings: valid
        ones add their discount, and the trace says why others do not. Nothing is kept:
        use the coupons (:meth:`use_coupon`) and record the purchase, at the price paid,
        when the checkout is done."""
        cart = v.instances("items", items, LineItem, "a LineItem")
        codes = v.instances("coupons", coupons, str, "a coupon code")
        now = self.clock.now()
        names = list(self.program.counters_for("Purchase"))
        known = [code for code in codes if self.program.has_coupon(code)]
        names.extend(self.program.coupon(code).counter for code in known)
        with self.store.unit_of_work(write=False) as uow:
            state = uow.load(v.identifier("customer_id", customer_id))
            counters = {name: uow.counter(name) for name in names}
        if state is None:
            state = CustomerState(Customer(customer_id))
        ledger, _ = ledgers.settle(state.ledger, now)
        # A tier review that has fallen due first, as record() and tier_status() do: a
        # customer who has lost a tier is not quoted its discounts.
        state, _ = self._review_due(attrs.evolve(state, ledger=ledger), now)
        return self.program.quote(state, cart, now, counters=counters, coupons=codes)

    def use_coupon(self, customer_id: str, code: str, key: str) -> Outcome:
        """Use the coupon ``code`` for the customer at the checkout ``key``: counts the
        use (against its limits across customers and per customer) and gives its points,
        if any. A customer not seen before is created (a welcome coupon comes before
        the first purchase). Raises :class:`~custbond.CouponNotValid` (changing nothing)
        for an unknown, expired, not yet valid or used-up coupon; a retry under the same
        ``key`` returns the first outcome. Its discount is what :meth:`quote` showed.
        ``key`` names this one command: a checkout that also uses a voucher or redeems
        points gives each its own key (``f"{checkout}:{code}"``)."""
        command = UseCoupon(key=key, customer_id=customer_id, code=code)
        return self._process(command, self.clock.now())

    # -- the rewards catalog ---------------------------------------------------------------

    def redeem_reward(self, customer_id: str, reward: str, key: str) -> Outcome:
        """Spend the customer's points on the catalog's ``reward`` and give them its
        voucher. Raises :class:`~custbond.InsufficientPoints`,
        :class:`~custbond.OutOfStock` or :class:`~custbond.RewardLimitReached` (changing
        nothing); a retry under the same ``key`` returns the first outcome. The points
        come back with :meth:`cancel_redemption` under the same key."""
        command = RedeemReward(key=key, customer_id=customer_id, reward=reward)
        return self._process(command, self.clock.now())

    # -- vouchers --------------------------------------------------------------------------

    def use_voucher(self, customer_id: str, code: str, key: str) -> Outcome:
        """Use the customer's voucher ``code`` at the checkout ``key``. A retry under the
        same ``key`` returns the first outcome; using it again under another key raises
        :class:`~custbond.VoucherAlreadyUsed` (and :class:`~custbond.VoucherExpired`,
        :class:`~custbond.VoucherCancelled` as their names say). ``key`` names this one
        command: a checkout that also uses a coupon or redeems points gives each its own
        key (``f"{checkout}:{code}"``)."""
        command = UseVoucher(key=key, customer_id=customer_id, code=code)
        return self._process(command, self.clock.now())

    def cancel_voucher(self, customer_id: str, code: str, key: str) -> Outcome:
        """Cancel the customer's voucher ``code`` before it is used; cancelling twice is
        a no-op, cancelling a used voucher raises :class:`~custbond.VoucherAlreadyUsed`."""
        command = CancelVoucher(key=key, customer_id=customer_id, code=code)
        return self._process(command, self.clock.now())

    def vouchers(self, customer_id: str) -> tuple[Voucher, ...]:
        """Every voucher the customer was given, in the order they were issued."""
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return tuple(sorted(state.vouchers.values(), key=lambda voucher: voucher.issued_at))

    # -- customers -------------------------------------------------------------------------

    def save_customer(self, customer: Customer, *, key: str | None = None) -> Customer:
        """Add a customer, or replace their profile. Saving the same profile is a no-op.

        Give a ``key`` when the host may retry a save: a retry under the same key changes
        nothing, even after a newer profile has been saved since.
        """
        if not isinstance(customer, Customer):
            raise InvalidInput("customer", customer, "a Customer")
        if customer.id.startswith(PSEUDONYM_PREFIX):  # a sync job must not undo an erasure
            expected = f"the id of a customer not erased (not starting with {PSEUDONYM_PREFIX!r})"
            raise InvalidInput("customer.id", customer.id, expected)
        self._process(SaveCustomer(customer=customer, key=key), self.clock.now())
        return customer

    def assign_owner(self, customer_id: str, owner: str | None, *, key: str) -> Outcome:
        """Make ``owner`` (a person) the one who looks after the customer's relationship
        (None: nobody in particular, the social policy's default owner); their
        keep-in-touch and call tasks go to them from now on. A customer not seen before
        is created. See ``docs/social.md``."""
        command = AssignOwner(key=key, customer_id=customer_id, owner=owner)
        return self._process(command, self.clock.now())

    def relationship(self, customer_id: str) -> tuple[str | None, datetime | None]:
        """The customer's relationship owner (None: the default owner) and when they last
        had personal contact (None: never)."""
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return state.owner, state.last_contact_at

    def customer(self, customer_id: str) -> Customer:
        """The customer's profile; :class:`~custbond.NotFound` if never seen."""
        with self.store.unit_of_work(write=False) as uow:
            return self._load(uow, customer_id).customer

    def forget(self, customer_id: str, *, pseudonym: str | None = None) -> bool:
        """Erase the customer's personal data from everything the store keeps, and keep
        their amounts under a pseudonymous id, so totals and liabilities still add up.

        Gone: the profile (name, email, phone, time zone, birthday, tags, preferences),
        the customer id wherever it appears (other customers' referrals included), free
        text in their events and commands, the facts their decisions' traces showed.
        Kept, under the pseudonym: the ledger, statement, records and log, with every
        amount, point and date (see :mod:`custbond.erasure`). ``pseudonym`` is a random
        ``erased-...`` id unless the host gives one (an id starting with ``erased-`` that
        no customer has: the prefix is how a later delivery of an old event is known).

        Returns True when something was erased; a second call (or a call for an id never
        seen) changes nothing and returns False. A pseudonym can be erased too: what was
        recorded under it since (an event's free text) goes, and it keeps its id (unless
        ``pseudonym`` names another), so the one the host recorded still finds the
        amounts; it returns True (with nothing recorded since, it changes nothing; it
        also erases what an earlier release left of free text, such as a consent's
        source). An event for the old id recorded later
        starts a new customer; one delivered again returns its (erased) first outcome.

        >>> from custbond import Customer, MemoryStore, Program
        >>> service = RetentionService(Program(), MemoryStore())
        >>> _ = service.save_customer(Customer("c-1", name="Ada Lovelace"))
        >>> service.forget("c-1", pseudonym="erased-1"), service.forget("c-1")
        (True, False)
        >>> service.customer("erased-1").name is None
        True
        """
        v.identifier("customer_id", customer_id)
        in_place = pseudonym is None and customer_id.startswith(PSEUDONYM_PREFIX)
        if in_place:  # erased before: erase again what came since, under the same id
            pseudonym = customer_id
        elif pseudonym is None:
            pseudonym = f"{PSEUDONYM_PREFIX}{uuid.uuid4().hex}"
        elif not v.identifier("pseudonym", pseudonym).startswith(PSEUDONYM_PREFIX):
            raise InvalidInput("pseudonym", pseudonym, f"an id starting with {PSEUDONYM_PREFIX!r}")
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.store.unit_of_work() as uow:
                    state = uow.load(customer_id)
                    if state is None:
                        return False
                    if not in_place and uow.load(pseudonym) is not None:
                        raise InvalidInput("pseudonym", pseudonym, "an id no customer has")
                    uow.forget(Erasure.of(state.customer, pseudonym, zone=self.program.time_zone))
                    return True
            except TransactionConflict:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work`` in a writing unit of work of its own, again if it lost a race."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.store.unit_of_work() as uow:
                    return work(uow)
            except TransactionConflict:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reads -----------------------------------------------------------------------------

    def balance(self, customer_id: str, at: datetime | None = None) -> Balance:
        """The customer's balance now, or at a later ``at``, with expiry and clearing
        applied as of then (no job has to have run). A past ``at`` is an
        :class:`~custbond.InvalidInput`: read the past from :meth:`statement`."""
        when = self._read_time(at)
        with self.store.unit_of_work(write=False) as uow:
            return ledgers.balance(self._load_ledger(uow, customer_id), when)

    def statement(self, customer_id: str, at: datetime | None = None) -> tuple[Entry, ...]:
        """Every ledger entry of the customer, in the order written (``Entry.seq``), then
        what has become due by ``at`` (default: now) but is not yet materialised. A
        purchase recorded late is written after entries dated later than it: its entry's
        ``at`` is the purchase's, and ``sorted(entries, key=lambda e: e.at)`` gives the
        order of dates."""
        when = self._read_time(at)
        with self.store.unit_of_work(write=False) as uow:
            _, due = ledgers.settle(self._load_ledger(uow, customer_id), when)
            return (*uow.entries(customer_id), *due)

    def tier_status(self, customer_id: str, at: datetime | None = None) -> TierStatus:
        """The customer's place on the program's tier ladder now (or at a later ``at``):
        tier, since and until when, perks, standing in the window, what it takes to keep
        the tier and to reach the next, and whether a downgrade is coming."""
        when = self._read_time(at)
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        review = self.program.review(state, when)  # a review due by then, projected
        if review.effects:
            state, _ = self.program.apply(state, review, when)
        return self.program.tier_status(state, when)

    def achievements(
        self, customer_id: str, at: datetime | None = None
    ) -> tuple[AchievementStatus, ...]:
        """Where the customer stands on each of the program's achievements, now or at a
        later ``at``: progress in the current period, and whether it was reached."""
        when = self._read_time(at)
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return self.program.achievement_status(state, when)

    def _read_time(self, at: datetime | None) -> datetime:
        """Now, or a later ``at``: a read projects what will have happened by then."""
        now = self.clock.now()
        if at is None:
            return now
        at = v.aware("at", at)
        if at < now:
            # Lots that have expired or cleared since ``at`` cannot be un-expired: a past
            # balance is read from the statement instead.
            raise InvalidInput("at", at, f"now ({now.isoformat()}) or a later time")
        return at

    def log(self, after: int = 0) -> Iterator[LogRecord]:
        """The event log: every accepted event and command, in order; those numbered
        above ``after`` (a :attr:`LogRecord.seq`) when it is given."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidInput("after", after, "the seq of a log record: an int of at least 0")
        with self.store.unit_of_work(write=False) as uow:
            records = list(uow.log(after))
        return iter(records)

    # -- time ------------------------------------------------------------------------------

    def run_due(self) -> list[Outcome]:
        """Materialise what has become due (pending points clearing, points and holds
        expiring, tier reviews); one outcome per customer that had something.

        Reads are correct without it; run it from a cron job or worker to keep the stored
        statements current. Each customer is settled in a unit of work of its own; one
        whose settling fails does not hold up the others: the first error is raised once
        every other customer is done, with a note naming all that failed.
        """
        now = self.clock.now()
        outcomes: list[Outcome] = []
        failed: list[tuple[str, CustbondError]] = []
        if self.program.schedules_messages:
            outcomes, failed = self._schedule_everyone(now)
        tried = {customer_id for customer_id, _ in failed}  # once is enough for this run
        with self.store.unit_of_work(write=False) as uow:
            customer_ids = [
                customer_id for customer_id in uow.due(now) if customer_id not in tried
            ]
        settled, more = self._settle_each(customer_ids, now)
        outcomes.extend(settled)
        failed.extend(more)
        if self.program.messaging.holidays:
            self._holiday_greetings(now)
        raise_first(failed, "run_due(): settling")
        return [outcome for outcome in outcomes if outcome.entries or outcome.effects]

    def replay(self, records: Iterable[LogRecord]) -> list[Outcome]:
        """Process log records (from another service's :meth:`log`) into this one, each at
        the time it was first recorded. Into a fresh store this rebuilds the same state.
        Every record is checked to be one before any is replayed."""
        if isinstance(records, LogRecord) or not isinstance(records, Iterable):
            raise InvalidInput("records", records, "an iterable of LogRecords (a log())")
        items = list(records)
        for index, record in enumerate(items):
            if not isinstance(record, LogRecord):
                raise InvalidInput(f"records[{index}]", record, "a LogRecord (from a log())")
        return [self._process(record.input, record.recorded_at) for record in items]

    # -- the one path every change takes ---------------------------------------------------

    def _process(self, item: Input, now: datetime) -> Outcome:
        """Handle ``item`` in a unit of work of its own, again if it lost a race."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.store.unit_of_work() as uow:
                    return self._handle(uow, item, now)
            except TransactionConflict:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _handle(self, uow: UnitOfWork, item: Input, now: datetime) -> Outcome:
        """Decide and apply ``item`` in ``uow``: the work of one record() or command."""
        customer_id = self._customer_of(uow, item)
        # A database store locks the customer's row here: everything read from now on
        # (the log, records, counters) cannot change under this unit of work.
        state = uow.load(customer_id)
        key = log_key(item)
        if key is not None:
            prior = uow.logged(key)
            if prior is not None:
                return _first_outcome(prior, item)
        if state is None:
            if not isinstance(item, _CREATES_CUSTOMERS):
                raise NotFound("customer", customer_id)
            state = CustomerState(Customer(customer_id))
        elif (
            isinstance(item, SaveCustomer) and item.key is None and state.customer == item.customer
        ):
            return _unchanged(state, now, "nothing to do: the profile is unchanged")
        ref = self._reference(uow, item, state)
        settled: tuple[Entry, ...] = ()
        if not isinstance(item, Purchase):  # a purchase's earn() settles in its own pass
            state, settled = self._settle(uow, state, now)
            if settled and ref is not None:
                ref = self._reference(uow, item, state)  # settling may have expired a hold
        state, review = self._review_due(state, now)
        if (
            not review.effects
            and isinstance(item, Settle)
            and not settled
            and not _schedule_due(state, now)
            and not self.program.keep_schedule(state, Decision(), now).effects
        ):
            return _unchanged(state, now, "nothing was due")
        # In name order (counters_for() gives them so): a database store locks each one.
        names = self.program.counters_for(item)
        counters = {name: uow.counter(name) for name in names} if names else None
        decision = self.program.decide(state, item, now, ref, counters=counters)
        state, entries = self.program.apply(state, decision, now)
        for record in _records_after(item, ref, state, entries, effects=decision.effects, now=now):
            uow.keep(record)
        for effect in decision.effects:  # what reaches beyond this customer
            if isinstance(effect, _REACHING_OUT):
                self._reach_out(uow, state.id, effect, now)
        _note_time_passing(uow, state.id, entries)
        entries = settled + entries
        uow.save(state, entries)
        outcome = Outcome(
            customer_id,
            None if key is None else key[1],
            now,
            review.effects + decision.effects if review.effects else decision.effects,
            Trace((*review.trace, *decision.trace)) if review.trace else decision.trace,
            entries,
            ledgers.balance(state.ledger, now),
        )
        if self.program.may_message or not isinstance(item, Purchase):
            self._carry_out_messages(uow, state, item, outcome, now)
        uow.append(key, item, now, outcome)
        return outcome

    def _reach_out(self, uow: UnitOfWork, customer_id: str, effect: Effect, now: datetime) -> None:
        """Carry out an effect that reaches beyond the customer: a shared counter, the
        referrer's reward, a task opened or finished."""
        if isinstance(effect, AddToCounter):
            uow.add_to_counter(effect.counter, effect.amount)
        elif isinstance(effect, RewardReferral):
            self._reward_referrer(uow, effect, now)
        else:
            assert isinstance(effect, OpenTask | FinishTask)
            _carry_out_task(uow, customer_id, effect, now)

    def _customer_of(self, uow: UnitOfWork, item: Input) -> str:
        """The customer ``item`` is about: a hold's or a redemption's is on its record."""
        if isinstance(item, _PLAIN_EVENTS):  # the common case, first
            return item.customer_id
        if isinstance(item, CaptureHold | ReleaseHold | CancelRedemption):
            record = self._reference(uow, item)  # read again under the customer's lock
            assert isinstance(record, HoldRecord | RedemptionRecord)
            return record.customer_id
        if isinstance(item, SaveCustomer):
            return item.customer.id
        if isinstance(item, CloseTask):
            task = self._reference(uow, item)
            assert isinstance(task, Task)
            return task.customer_id
        return item.customer_id

    def _reference(
        self, uow: UnitOfWork, item: Input, state: CustomerState | None = None
    ) -> Reference:
        """The record ``item`` refers to, or the stock or uses it draws on: read after the
        customer's state, so a database store reads it under the customer's lock."""
        if isinstance(item, _PLAIN_EVENTS):  # they refer to nothing
            return None
        if isinstance(item, Return):
            purchase = uow.purchase(item.purchase_id)
            if purchase is None:
                raise NotFound("purchase", item.purchase_id)
            return purchase
        if isinstance(item, CaptureHold | ReleaseHold):
            hold = uow.hold(item.hold_key)
            if hold is None:
                raise NotFound("hold", item.hold_key)
            return hold
        if isinstance(item, CancelRedemption):
            redemption = uow.redemption(item.redemption_key)
            if redemption is None:
                raise NotFound("redemption", item.redemption_key)
            return redemption
        if isinstance(item, RedeemReward):
            reward = self.program.reward(item.reward)
            return RewardStock(reward.name, uow.counter(reward.counter))
        if isinstance(item, UseCoupon):
            coupon = self.program.coupon(item.code)
            return CouponUses(coupon.code, uow.counter(coupon.counter))
        if isinstance(item, ComplaintFiled) and item.about is not None:
            return uow.purchase(item.about)  # its value, when the complaint gives none
        if isinstance(item, ComplaintResolved) and state is not None:
            case = state.cases.get(item.complaint_id)  # what its order is worth now
            return None if case is None or case.about is None else uow.purchase(case.about)
        if isinstance(item, CloseTask):
            task = uow.task(item.task_key)
            if task is None:
                raise NotFound("task", item.task_key)
            return task
        return None

    def _reward_referrer(self, uow: UnitOfWork, effect: RewardReferral, now: datetime) -> None:
        """Give the referrer of a rewarded referral their part, in the same unit of work
        as the referee's purchase (a replay of that purchase gives it again, identically)."""
        state = uow.load(effect.referrer_id)
        if state is None:  # referred by someone the service has not seen yet
            state = CustomerState(Customer(effect.referrer_id))
        state, settled = self._settle(uow, state, now)
        reward = self.program.keep_schedule(state, self.program.referrer_reward(effect), now)
        state, entries = self.program.apply(state, reward, now)
        _note_time_passing(uow, state.id, entries)
        uow.save(state, settled + entries)

    def _load(self, uow: UnitOfWork, customer_id: str) -> CustomerState:
        state = uow.load(v.identifier("customer_id", customer_id))
        if state is None:
            raise NotFound("customer", customer_id)
        return state

    def _review_due(self, state: CustomerState, now: datetime) -> tuple[CustomerState, Decision]:
        """The state after a tier review that has fallen due by ``now``, and the review
        (no effects when none is due): it comes before the event being decided."""
        review = self.program.review(state, now)
        if review.effects:
            state, _ = self.program.apply(state, review, now)
        return state, review

    def _load_ledger(self, uow: UnitOfWork, customer_id: str) -> Ledger:
        ledger = uow.load_ledger(v.identifier("customer_id", customer_id))
        if ledger is None:
            raise NotFound("customer", customer_id)
        return ledger

    def _settle(
        self, uow: UnitOfWork, state: CustomerState, now: datetime
    ) -> tuple[CustomerState, tuple[Entry, ...]]:
        ledger, settled = ledgers.settle(state.ledger, now)
        if not settled:
            return state, ()
        _note_time_passing(uow, state.id, settled)
        return attrs.evolve(state, ledger=ledger), settled


def _note_time_passing(uow: UnitOfWork, customer_id: str, entries: Sequence[Entry]) -> None:
    """Keep the records in step with holds and lots that time ran out on."""
    for entry in entries:
        record: HoldRecord | PurchaseRecord | None = None
        if entry.kind is EntryKind.RELEASED and entry.hold_key is not None:
            record = uow.hold(entry.hold_key)  # still open after this operation: it expired
        elif entry.kind is EntryKind.EXPIRED and entry.lot is not None:
            record = uow.purchase(entry.lot.source)
        if record is not None:
            changed = _after_time(record, customer_id, entry)
            if changed is not record:
                uow.keep(changed)


def _as_time_left(ref: Reference, customer_id: str, entries: Sequence[Entry]) -> Reference:
    """``ref`` as :func:`_note_time_passing` would keep it once ``entries`` have settled:
    for :meth:`RetentionService.preview`, which keeps nothing (a return of a purchase
    whose points expired by now reverses none of them, as it would when recorded)."""
    for entry in entries:
        if isinstance(ref, HoldRecord | PurchaseRecord):
            ref = _after_time(ref, customer_id, entry)
    return ref


def _after_time(
    record: HoldRecord | PurchaseRecord, customer_id: str, entry: Entry
) -> HoldRecord | PurchaseRecord:
    """``record`` once time has run out on what ``entry`` settled: a hold released by
    its expiry is expired; a purchase remembers that ``entry``'s points of a lot it
    earned expired, so a later return does not take them back a second time from other
    points. ``record`` itself when ``entry`` is not about it."""
    if isinstance(record, HoldRecord):
        if (
            entry.kind is EntryKind.RELEASED
            and entry.hold_key == record.key
            and record.status is HoldStatus.OPEN
        ):
            return attrs.evolve(record, status=HoldStatus.EXPIRED)
        return record
    lot = entry.lot
    if (
        entry.kind is EntryKind.EXPIRED
        and lot is not None
        and lot.source == record.purchase.id
        and record.customer_id == customer_id
        and any(own.seq == lot.seq for own in record.lots)
    ):
        return attrs.evolve(record, expired=record.expired - entry.points)
    return record


def _first_outcome(prior: LogRecord, item: Input) -> Outcome:
    """The outcome ``item`` got the first time, or the error a different repeat deserves."""
    if _same_input(prior.input, item) or _erased_repeat(prior.input, item):
        return prior.outcome
    if _erased_close(prior, item):
        return prior.outcome
    first = prior.input
    if isinstance(first, CaptureHold | ReleaseHold):  # a hold resolves once
        if isinstance(first, ReleaseHold):
            raise HoldAlreadyReleased(first.hold_key)
        mine = [e for e in prior.outcome.entries if e.hold_key == first.hold_key]
        captured = -sum(e.points for e in mine if e.kind is EntryKind.CAPTURED)
        if isinstance(item, CaptureHold):
            took_all = not any(e.kind is EntryKind.RELEASED for e in mine)
            if item.points == captured or (item.points is None and took_all):
                return prior.outcome  # "all of it" and the number it came to: one capture
        raise HoldAlreadyCaptured(first.hold_key, captured)
    key = prior.key[1] if prior.key else "?"
    if type(first) is not type(item):
        raise IdempotencyConflict(key, [f"type ({type(first).__name__} was accepted)"])
    differing = [
        field.name
        for field in attrs.fields(type(first))
        if not same_value(getattr(first, field.name), getattr(item, field.name))
    ]
    raise IdempotencyConflict(key, differing)


def _same_input(first: Input, again: Input) -> bool:
    """Whether ``again`` is a repeat of ``first``, field by field."""
    if first == again:
        return True
    return type(first) is type(again) and all(
        same_value(getattr(first, field.name), getattr(again, field.name))
        for field in attrs.fields(type(first))
    )


def _erased_repeat(first: Input, again: Input) -> bool:
    """Whether ``again`` is ``first`` delivered again after a customer it names was
    forgotten: ``first`` names a pseudonym where ``again`` names someone, and erasing
    that someone makes ``again`` into ``first``. (The erased id is gone: an event id that
    a host reuses for another customer after an erasure passes for a repeat too.)"""
    if type(first) is not type(again):
        return False
    named = [(getattr(first, name, None), getattr(again, name, None)) for name in _ID_FIELDS]
    if isinstance(first, SaveCustomer) and isinstance(again, SaveCustomer):
        named.append((first.customer.id, again.customer.id))
    return any(
        isinstance(pseudonym, str)
        and isinstance(customer_id, str)
        and pseudonym.startswith(PSEUDONYM_PREFIX)
        and customer_id != pseudonym
        and _erases_into(Erasure(customer_id, pseudonym), again, first)
        for pseudonym, customer_id in named
    )


def _erases_into(erasure: Erasure, again: Input, first: Input) -> bool:
    """Whether ``erasure`` makes ``again`` into ``first``, with the contact details it
    erased from ``first``'s texts (gone from the store) read back from ``again``."""
    return _same_input(erasure.fitted(again, first).input(again), first)


_ID_FIELDS = ("customer_id", "referrer_id")


def _erased_close(prior: LogRecord, again: Input) -> bool:
    """Whether ``again`` closes again a task of a customer forgotten since: the logged
    closing names no customer, but its outcome's pseudonym and its erased result tell."""
    first = prior.input
    return (
        isinstance(first, CloseTask)
        and isinstance(again, CloseTask)
        and prior.outcome.customer_id.startswith(PSEUDONYM_PREFIX)
        and first.task_key == again.task_key
        and first.result == (None if again.result is None else ERASED)
    )


def _unchanged(state: CustomerState, now: datetime, why: str) -> Outcome:
    return Outcome(state.id, None, now, (), (why,), (), ledgers.balance(state.ledger, now))


def _records_after(
    item: Input,
    ref: Reference,
    state: CustomerState,
    entries: tuple[Entry, ...],
    *,
    effects: tuple[Effect, ...],
    now: datetime,
) -> list[Record]:
    """The purchase, hold and redemption records to keep after ``item`` was applied
    (``entries`` written, ``effects`` carried out)."""
    if isinstance(item, Purchase):
        lots = tuple(
            [
                entry.lot
                for entry in entries
                if entry.kind is EntryKind.EARNED and entry.lot and entry.source == item.id
            ]
        )
        # The cashback vouchers it gave, which a return of it takes back; and the day and
        # points its activity counted. One pass: this runs for every purchase.
        given: list[tuple[str, Decimal]] = []
        counted: tuple[date | None, int] | None = None
        for effect in effects:
            if isinstance(effect, NotePurchase):
                if counted is None:
                    counted = (effect.day, effect.points)
            elif (
                isinstance(effect, IssueVoucher)
                and effect.cashback
                and effect.voucher.value is not None
            ):
                given.append((effect.voucher.code, effect.voucher.value))
        points = sum([lot.points for lot in lots])
        return [
            PurchaseRecord(item, lots, points, cashback=tuple(given), counted=counted or (None, 0))
        ]
    if isinstance(item, Return):
        assert isinstance(ref, PurchaseRecord)
        # What the return took, and what it could not take: that is owed by the purchase's
        # lot and taken when points come back to it, so it counts as collected here, or a
        # later return would take it a second time.
        taken = -sum(entry.points for entry in entries if entry.kind is EntryKind.REVERSED)
        owed = sum(entry.uncollected for entry in entries if entry.kind is EntryKind.SHORTFALL)
        taken += owed if ref.lots else 0
        returned = ref.after_return(item)
        cashback = ref.cashback
        if cashback:  # the vouchers the return replaced by smaller ones
            replaced = {
                effect.replaces: effect.voucher.code
                for effect in effects
                if isinstance(effect, IssueVoucher) and effect.replaces is not None
            }
            cashback = tuple([(replaced.get(code, code), given) for code, given in cashback])
        return [attrs.evolve(returned, collected=returned.collected + taken, cashback=cashback)]
    if isinstance(item, PlaceHold):
        ends = state.ledger.holds[item.key].expires_at  # may be sooner than asked
        return [HoldRecord(item.key, item.customer_id, item.points, now, ends)]
    if isinstance(item, CaptureHold):
        assert isinstance(ref, HoldRecord)
        captured = next(entry for entry in entries if entry.kind is EntryKind.CAPTURED)
        return [
            attrs.evolve(ref, status=HoldStatus.CAPTURED, captured=-captured.points),
            RedemptionRecord(ref.key, ref.customer_id, -captured.points, captured.draws, now),
        ]
    if isinstance(item, ReleaseHold):
        assert isinstance(ref, HoldRecord)
        return [attrs.evolve(ref, status=HoldStatus.RELEASED)]
    if isinstance(item, Redeem | RedeemReward):
        redeemed = next(entry for entry in entries if entry.kind is EntryKind.REDEEMED)
        points = -redeemed.points
        bought = next((e.voucher.code for e in effects if isinstance(e, IssueVoucher)), None)
        return [
            RedemptionRecord(
                item.key, item.customer_id, points, redeemed.draws, now, False, bought
            )
        ]
    if isinstance(item, CancelRedemption):
        assert isinstance(ref, RedemptionRecord)
        return [attrs.evolve(ref, cancelled=True)]
    return []


def _schedule_due(state: CustomerState, now: datetime) -> bool:
    """Whether a message of the customer's schedule (a greeting, a notice) or a
    complaint's escalation step is due."""
    if any(at <= now for at in state.schedule.values()):
        return True
    return any(
        case.next_due_at is not None and case.next_due_at < now for case in state.cases.values()
    )


def _carry_out_task(
    uow: UnitOfWork, customer_id: str, effect: OpenTask | FinishTask, now: datetime
) -> None:
    """Open or close a task in the store, in the unit of work of the change."""
    if isinstance(effect, OpenTask):
        task = Task(
            key=effect.key,
            customer_id=customer_id,
            owner=effect.owner,
            due_at=effect.due_at,
            reason=effect.reason,
            created_at=now,
            kind=effect.kind,
            about=effect.about,
        )
        uow.add_task(task)  # a task under that key already: left as it is
        return
    found = uow.task(effect.key)
    # Only the customer's own: task keys are not per customer (a call after an event is
    # keyed by the event's id), and another's input may name an id that is someone else's.
    if found is not None and found.customer_id == customer_id and found.is_open:
        uow.update_task(attrs.evolve(found, closed_at=effect.at, result=effect.result))
