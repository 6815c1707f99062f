"""The store contract: what every :class:`~custbond.Store` must do, as tests to reuse.

custbond runs these on its own stores, and a host that keeps custbond's data in its own
database runs them on its adapter. They come in two forms:

- :class:`StoreContract`, a base class of ordinary example tests for pytest (commit,
  rollback, reads inside a unit of work, what is due, the log's numbering, shared
  counters, the outbox, tasks, states with every field set): subclass it and say how to
  make a store;
- :func:`store_machine`, a Hypothesis state machine that drives a fresh store through
  random units of work of realistic values (customers' states made by a real
  :class:`~custbond.Program` with a punch card, a tier ladder, an achievement, a coupon
  and referrals, some holding what their bonds hold (subscriptions, saved carts, ...);
  ledgers with pending, available and held points; purchase, hold and
  redemption records; the event log; shared counters; the outbox; tasks), some of which
  end with an exception, forgets customers (``forget()``, then the pseudonym again) and
  compares the store after every step with a plain dict model.

``make_store`` must return a new, empty store each time it is called; a store with a
``close()`` method is closed at the end of each test or example. Needs the ``testing``
extra (``pip install 'custbond[testing]'``); pytest is not imported.

>>> from custbond import MemoryStore
>>> class TestMemoryStore(StoreContract):
...     def make_store(self):
...         return MemoryStore()
>>> TestMemoryStoreMachine = store_machine(MemoryStore).TestCase
>>> TestMemoryStore().test_a_counter_never_counted_is_zero()
>>> TestMemoryStoreMachine.settings.max_examples, TestMemoryStoreMachine.settings.derandomize
(50, True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

import attrs
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from custbond import ledger as ledgers
from custbond._frozen import FrozenMap
from custbond.bonds.achievements import Achievement
from custbond.bonds.cards import PunchCard
from custbond.bonds.coupons import Coupon, CouponUses
from custbond.bonds.customization import Preferences, SavedCart, Wish
from custbond.bonds.held import Held
from custbond.bonds.occasions import Occasion
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.rhythm import Rhythm
from custbond.bonds.sequences import Enrollment
from custbond.bonds.structure import Integration
from custbond.bonds.subscriptions import Plan, advance, cancel, pause, skip, subscribe
from custbond.bonds.tiers import Level, TierLadder
from custbond.clock import FixedClock
from custbond.commands import (
    Adjust,
    CancelRedemption,
    CaptureHold,
    Input,
    LogKey,
    PlaceHold,
    Redeem,
    ReleaseHold,
    SaveCustomer,
    SetConsent,
    Settle,
    UseCoupon,
    log_key,
)
from custbond.customers import Birthday, Customer
from custbond.effects import AddToCounter, RewardReferral, SetSchedule
from custbond.erasure import PSEUDONYM_PREFIX, Erasure
from custbond.errors import CustbondError
from custbond.events import LineItem, Purchase, Referral, Return, SurveyResponse, Visit
from custbond.ledger import Entry, Ledger, PointsPolicy
from custbond.messaging.message import Message, MessageKind, MessageStatus, QueuedMessage
from custbond.messaging.notifier import Delivery, Outgoing
from custbond.messaging.occasions import Greeting
from custbond.messaging.policy import MessagingPolicy
from custbond.messaging.recording import RecordingNotifier
from custbond.outcome import Outcome
from custbond.program import CustomerState, Decision, Program, Reference
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.recovery.case import RecoveryCase, Timer
from custbond.recovery.compensation import Compensation
from custbond.recovery.events import ComplaintFiled, ComplaintResolved
from custbond.recovery.policy import FollowUp, RecoveryPolicy
from custbond.recovery.severity import Severity
from custbond.rules import Budget, Limit, Rule
from custbond.rules.effects import FixedPoints
from custbond.rules.trace import Trace
from custbond.service import RetentionService, _records_after
from custbond.storage.ports import LogRecord, Record, Store, UnitOfWork
from custbond.tasks import Task
from custbond.testing.strategies import customers, helds, purchases
from custbond.vouchers import VoucherOffer

__all__ = ["StoreContract", "store_machine"]

_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_DUE = _T0 + timedelta(days=14)
_US = timedelta(microseconds=1)
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)
# Ids that Python sorts "C-3" < "Zoë" < "c-1" < "c-10" < "c-2": neither in numeric order
# nor in the order of a database's locale collation (which ignores case first).
_CUSTOMER_IDS = ("c-1", "c-2", "c-10", "Zoë", "C-3")
_UNKNOWN = "c-unknown"  # never saved
_COUNTERS = ("reward mug", "coupon SPRING", "rule visit bonus budget", "budget EUR")
# Owners of tasks: a role, a person, and a name that sorts before both.
_OWNERS = ("customer care", "sam", "Duty manager")


# -- the program that makes the states -----------------------------------------------------


_COUPON = Coupon("SPRING", points=25, uses=1000, per_customer=3)
_REFERRALS = ReferralPolicy(
    referrer_points=50,
    referee_points=25,
    referrer_gift=VoucherOffer("thank-you cake", value=Decimal("5.00")),
)
# The customers of the machine on the plain program (the others are on the full one).
_PLAIN = frozenset({"c-2", "Zoë"})


@cache
def _program() -> Program:
    """A program whose customers' states fill every field of :class:`CustomerState` soon:
    points pending for three days and expiring after a month, a punch card on visits and
    one on purchases, a tier ladder, a rule with limits and a budget, an achievement, a
    coupon, referrals and birthday greetings (a customer with a birthday is due on it),
    in a time zone away from UTC."""
    return Program(
        points=PointsPolicy(
            pending_for=timedelta(days=3),
            expire_after=relativedelta(months=1),
            expire_at_end_of="day",
        ),
        rules=[
            Rule(
                "visit bonus",
                on="Visit",
                then=[FixedPoints(5)],
                limits=[Limit(2, per="week"), Budget(400)],
            )
        ],
        cards=[
            PunchCard(
                "coffee",
                stamps=3,
                on="Visit",
                reward=VoucherOffer("free coffee", sku="flat-white", valid_for=timedelta(days=30)),
            ),
            PunchCard(
                "bakery",
                stamps=2,
                reward=VoucherOffer("pastry", value=Decimal("3.50")),
                expire_after=relativedelta(months=1),
            ),
        ],
        tiers=TierLadder(
            levels=[
                Level("silver", spend=Decimal(60), perks=["free refills"]),
                Level("gold", spend=Decimal(300), visits=5, multiplier=2),
            ],
            window=relativedelta(months=2),
            keep_for=relativedelta(months=1),
            grace=timedelta(days=10),
            notice=timedelta(days=5),
        ),
        achievements=[Achievement("regular", target=3, counts="visits", per="month", points=20)],
        coupons=[_COUPON],
        referrals=_REFERRALS,
        messaging=MessagingPolicy(birthday=Greeting()),
        currency="EUR",
        time_zone="Europe/Paris",
    )


@cache
def _plain_program() -> Program:
    """A program whose points are available at once and never expire, so that its
    customers have nothing due but the end of a hold, and nothing once it is resolved."""
    return Program(coupons=[_COUPON], referrals=_REFERRALS, currency="EUR")


def _target(item: Input, ref: Reference) -> str:
    """The customer ``item`` is about."""
    if isinstance(ref, HoldRecord | RedemptionRecord):
        return ref.customer_id
    if isinstance(item, SaveCustomer):
        return item.customer.id
    customer_id: str = getattr(item, "customer_id")  # noqa: B009 - every other input has one
    return customer_id


# -- the dict model ------------------------------------------------------------------------


class _Model:
    """What the store should hold, in plain dicts and lists."""

    def __init__(self) -> None:
        self.states: dict[str, CustomerState] = {}
        self.statements: dict[str, list[Entry]] = {}
        self.log: list[LogRecord] = []
        self.logged: dict[LogKey, LogRecord] = {}
        self.purchases: dict[str, PurchaseRecord] = {}
        self.holds: dict[str, HoldRecord] = {}
        self.redemptions: dict[str, RedemptionRecord] = {}
        self.counters: dict[str, int] = {}
        self.outbox: dict[str, QueuedMessage] = {}
        self.tasks: dict[str, Task] = {}

    def copy(self) -> _Model:
        copy = _Model()
        copy.states = dict(self.states)
        copy.statements = {key: list(value) for key, value in self.statements.items()}
        copy.log = list(self.log)
        copy.logged = dict(self.logged)
        copy.purchases = dict(self.purchases)
        copy.holds = dict(self.holds)
        copy.redemptions = dict(self.redemptions)
        copy.counters = dict(self.counters)
        copy.outbox = dict(self.outbox)
        copy.tasks = dict(self.tasks)
        return copy

    def save(self, state: CustomerState, entries: Sequence[Entry]) -> None:
        self.states[state.id] = state
        self.statements.setdefault(state.id, []).extend(entries)

    def append(
        self, key: LogKey | None, item: Input, recorded_at: datetime, outcome: Outcome
    ) -> LogRecord:
        record = LogRecord(len(self.log) + 1, key, item, recorded_at, outcome)
        self.log.append(record)
        if key is not None:
            self.logged[key] = record
        return record

    def keep(self, record: Record) -> None:
        if isinstance(record, PurchaseRecord):
            self.purchases[record.purchase.id] = record
        elif isinstance(record, HoldRecord):
            self.holds[record.key] = record
        else:
            self.redemptions[record.key] = record

    def add_to_counter(self, name: str, amount: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount

    def forgotten(self, erasure: Erasure) -> _Model:
        """What the store holds after ``forget(erasure)``: every value passed through
        the erasure (which changes only what holds or names the customer), the
        customer's state and statement under the pseudonym, and each message and task
        under the key the erasure gives it."""
        old, new = erasure.customer_id, erasure.pseudonym
        erasure = erasure.knowing(self.log)  # their earlier profiles are in the log
        model = _Model()
        model.states = {
            new if key == old else key: erasure.state(state) for key, state in self.states.items()
        }
        model.statements = {
            new if key == old else key: [erasure.entry(entry) for entry in entries]
            if key == old
            else list(entries)
            for key, entries in self.statements.items()
        }
        model.log = [erasure.log_record(record) for record in self.log]
        model.logged = {record.key: record for record in model.log if record.key is not None}
        model.purchases = {key: _erased_record(erasure, r) for key, r in self.purchases.items()}
        model.holds = {key: _erased_record(erasure, r) for key, r in self.holds.items()}
        model.redemptions = {
            key: _erased_record(erasure, r) for key, r in self.redemptions.items()
        }
        model.counters = dict(self.counters)
        outbox = map(erasure.queued, self.outbox.values())
        model.outbox = {item.key: item for item in outbox}
        model.tasks = {task.key: task for task in map(erasure.task, self.tasks.values())}
        return model

    def same(self, other: _Model) -> bool:
        """Whether ``other`` holds the same as this model."""
        return vars(self) == vars(other)

    def due(self, now: datetime) -> list[str]:
        return sorted(
            customer_id
            for customer_id, state in self.states.items()
            if state.next_due_at is not None and state.next_due_at <= now
        )

    def queue_order(self) -> list[QueuedMessage]:
        return sorted(self.outbox.values(), key=lambda item: (item.queued_at, item.key))

    def due_messages(self, now: datetime, limit: int) -> list[QueuedMessage]:
        due = [item for item in self.outbox.values() if item.is_due(now)]
        due.sort(key=lambda item: (item.next_attempt_at, item.key))
        return due[:limit]

    def listed(
        self,
        *,
        owner: str | None = None,
        customer_id: str | None = None,
        due_before: datetime | None = None,
        open_only: bool = True,
    ) -> list[Task]:
        """What ``UnitOfWork.tasks()`` lists with these filters."""
        return _listed(
            self.tasks.values(),
            owner=owner,
            customer_id=customer_id,
            due_before=due_before,
            open_only=open_only,
        )


_R = TypeVar("_R", PurchaseRecord, HoldRecord, RedemptionRecord)


def _echoes(model: _Model, customer_id: str) -> st.SearchStrategy[str]:
    """Texts that name the customer as a host's words or a mail server's may: their
    name, email or phone, as given or upper-cased, alone or in a sentence (nothing when
    they have none)."""
    state = model.states.get(customer_id)
    profile = None if state is None else state.customer
    details = [] if profile is None else [profile.name, profile.email, profile.phone]
    found = sorted({detail for detail in details if detail and detail.strip()})
    if not found:
        return st.nothing()
    return st.builds(
        str.format,
        st.sampled_from(["{}", "call {}", "550 <{}>: no such mailbox"]),
        st.sampled_from(found) | st.sampled_from(found).map(str.upper),
    )


def _erased_record(erasure: Erasure, record: _R) -> _R:
    """A purchase, hold or redemption record after ``erasure``, as the same kind."""
    erased = erasure.record(record)
    assert isinstance(erased, type(record))
    return erased


def _listed(
    tasks: Iterable[Task],
    *,
    owner: str | None = None,
    customer_id: str | None = None,
    due_before: datetime | None = None,
    open_only: bool = True,
) -> list[Task]:
    """``tasks`` as ``UnitOfWork.tasks()`` lists them with these filters."""
    found = [
        task
        for task in tasks
        if (owner is None or task.owner == owner)
        and (customer_id is None or task.customer_id == customer_id)
        and (due_before is None or task.due_at < due_before)
        and not (open_only and task.closed_at is not None)
    ]
    return sorted(found, key=lambda task: (task.due_at, task.key))


# -- comparing a store with the model ------------------------------------------------------


def _expect(expected: object, actual: object, what: str) -> None:
    """Fail unless ``actual == expected``, saying what was read, where in it the two
    first differ (``.tier``, ``[2].points``) and how."""
    if expected == actual:
        return
    path, got, wanted = _first_difference(expected, actual)
    message = f"{what}: differs at {path or 'the top'}: got {got!r}, expected {wanted!r}"
    whole = f"\n  got      {actual!r}\n  expected {expected!r}"
    raise AssertionError(message + (whole if path and len(whole) < 2000 else ""))


def _first_difference(expected: object, actual: object, path: str = "") -> tuple[str, Any, Any]:
    """Where ``actual`` first differs from ``expected``: the path to the difference, and
    the two values there."""
    if type(expected) is not type(actual):
        return path, actual, expected
    names: Sequence[str] = ()
    if attrs.has(type(expected)):
        names = [field.name for field in attrs.fields(cast("Any", type(expected)))]
    elif isinstance(expected, tuple) and hasattr(expected, "_fields"):  # a NamedTuple
        names = expected._fields
    for name in names:
        mine, theirs = getattr(expected, name), getattr(actual, name)
        if mine != theirs:
            return _first_difference(mine, theirs, f"{path}.{name}")
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple) and not names:
        for index, (mine, theirs) in enumerate(zip(expected, actual, strict=False)):
            if mine != theirs:
                return _first_difference(mine, theirs, f"{path}[{index}]")
        return f"{path or 'the top'}, in length", len(actual), len(expected)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        if expected.keys() != actual.keys():
            return (
                f"{path or 'the top'}, in keys",
                sorted(map(repr, actual)),
                sorted(map(repr, expected)),
            )
        for key, mine in expected.items():
            if mine != actual[key]:
                return _first_difference(mine, actual[key], f"{path}[{key!r}]")
    return path, actual, expected


def _check_customer(uow: UnitOfWork, model: _Model, customer_id: str) -> None:
    state = model.states.get(customer_id)
    _expect(state, uow.load(customer_id), f"load({customer_id!r})")
    ledger = None if state is None else state.ledger
    _expect(ledger, uow.load_ledger(customer_id), f"load_ledger({customer_id!r})")
    entries = tuple(model.statements.get(customer_id, ()))
    _expect(entries, tuple(uow.entries(customer_id)), f"entries({customer_id!r})")


def _check_record(uow: UnitOfWork, record: Record) -> None:
    if isinstance(record, PurchaseRecord):
        _expect(record, uow.purchase(record.purchase.id), f"purchase({record.purchase.id!r})")
    elif isinstance(record, HoldRecord):
        _expect(record, uow.hold(record.key), f"hold({record.key!r})")
    else:
        _expect(record, uow.redemption(record.key), f"redemption({record.key!r})")


def _check_due(uow: UnitOfWork, model: _Model, now: datetime) -> None:
    times = {now, _NEVER, _T0 - timedelta(days=1)}
    for state in model.states.values():
        due = state.next_due_at
        if due is not None:
            times.update((due - _US, due))
    for at in sorted(times):
        _expect(model.due(at), list(uow.due(at)), f"due({at.isoformat()})")


def _read_ids(model: _Model) -> tuple[str, ...]:
    """The customers whose reads are checked: the machine's, one never seen, and the
    pseudonyms of those forgotten."""
    erased = sorted(key for key in model.states if key.startswith(PSEUDONYM_PREFIX))
    return (*_CUSTOMER_IDS, _UNKNOWN, *erased)


def _check_everything(uow: UnitOfWork, model: _Model, now: datetime) -> None:
    """Every read of the port agrees with the model."""
    for customer_id in _read_ids(model):
        _check_customer(uow, model, customer_id)
    log = model.log
    _expect(log, list(uow.log()), "log()")
    for after in sorted({len(log) // 2, len(log) - 1, len(log), len(log) + 1} - {-1}):
        _expect(log[after:], list(uow.log(after)), f"log({after})")
    for key, logged in model.logged.items():
        _expect(logged, uow.logged(key), f"logged({key!r})")
        for kind in ("event", "command"):  # the same id under another kind is another key
            if (kind, key[1]) not in model.logged:
                _expect(None, uow.logged((kind, key[1])), f"logged({(kind, key[1])!r})")
    _expect(None, uow.logged(("event", _UNKNOWN)), f"logged({('event', _UNKNOWN)!r})")
    # Every record, and no record of one kind under the keys of the others (a captured
    # hold's redemption has the hold's key).
    keys = {_UNKNOWN, *model.purchases, *model.holds, *model.redemptions}
    for name in sorted(keys):
        _expect(model.purchases.get(name), uow.purchase(name), f"purchase({name!r})")
        _expect(model.holds.get(name), uow.hold(name), f"hold({name!r})")
        _expect(model.redemptions.get(name), uow.redemption(name), f"redemption({name!r})")
    for name in sorted({*_COUNTERS, *model.counters, _UNKNOWN}):
        _expect(model.counters.get(name, 0), uow.counter(name), f"counter({name!r})")
    _check_due(uow, model, now)
    _check_outbox(uow, model, now)
    _check_tasks(uow, model, now)


def _check_tasks(uow: UnitOfWork, model: _Model, now: datetime) -> None:
    for key in sorted({*model.tasks, _UNKNOWN}):
        _expect(model.tasks.get(key), uow.task(key), f"task({key!r})")
    for open_only in (True, False):
        _expect(
            model.listed(open_only=open_only),
            list(uow.tasks(open_only=open_only)),
            f"tasks(open_only={open_only})",
        )
        for owner in _OWNERS:
            _expect(
                model.listed(owner=owner, open_only=open_only),
                list(uow.tasks(owner=owner, open_only=open_only)),
                f"tasks(owner={owner!r}, open_only={open_only})",
            )
    for customer_id in _read_ids(model):
        _expect(
            model.listed(customer_id=customer_id),
            list(uow.tasks(customer_id=customer_id)),
            f"tasks(customer_id={customer_id!r})",
        )
    times = {now, _NEVER}
    for task in model.tasks.values():
        times.update((task.due_at, task.due_at + _US))
    for at in sorted(times):
        _expect(
            model.listed(due_before=at, owner=_OWNERS[0]),
            list(uow.tasks(due_before=at, owner=_OWNERS[0])),
            f"tasks(due_before={at.isoformat()}, owner={_OWNERS[0]!r})",
        )


def _check_outbox(uow: UnitOfWork, model: _Model, now: datetime) -> None:
    _expect(model.queue_order(), list(uow.outbox()), "outbox()")
    for key in sorted({*model.outbox, _UNKNOWN}):
        _expect(model.outbox.get(key), uow.queued(key), f"queued({key!r})")
    for customer_id in _read_ids(model):
        mine = [item for item in model.queue_order() if item.customer_id == customer_id]
        _expect(mine, list(uow.messages_of(customer_id)), f"messages_of({customer_id!r})")
        for since in (now - timedelta(hours=1), now, _T0 - timedelta(days=1)):
            recent = [
                item
                for item in mine
                if not item.status.final or (item.sent_at is not None and item.sent_at >= since)
            ]
            _expect(
                recent,
                list(uow.messages_of(customer_id, since=since)),
                f"messages_of({customer_id!r}, since={since.isoformat()})",
            )
    times = {now, _NEVER, _T0 - timedelta(days=1)}
    for item in model.outbox.values():
        times.update((item.next_attempt_at - _US, item.next_attempt_at))
    for at in sorted(times):
        for limit in (2, len(model.outbox) + 1):
            _expect(
                model.due_messages(at, limit),
                list(uow.due_messages(at, limit)),
                f"due_messages({at.isoformat()}, {limit})",
            )
    _expect(sorted(model.states), list(uow.customer_ids()), "customer_ids()")


# -- the state machine ---------------------------------------------------------------------

_GAPS = st.one_of(
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=12)),
    st.timedeltas(min_value=timedelta(hours=12), max_value=timedelta(days=40)),
)
# What a unit of work can always write, purchases and visits twice as often; a return,
# a redemption and so on join them when there is something to return or spend.
_ALWAYS = ("purchase", "visit", "purchase", "visit", "profile", "coupon", "referral", "counter")
# Customers, the first two half the time, so that customers come back.
_CUSTOMERS = st.sampled_from(_CUSTOMER_IDS[:2]) | st.sampled_from(_CUSTOMER_IDS)


class _Aborted(Exception):
    """Raised inside a unit of work to end it with an exception."""


class _Interrupted(BaseException):
    """Like KeyboardInterrupt: not an Exception, and the unit of work must still be undone."""


class _StoreMachine(RuleBasedStateMachine):
    """Drives a store through units of work and checks it against a :class:`_Model`."""

    def __init__(self) -> None:
        super().__init__()
        self.store = self.new_store()
        self.model = _Model()
        self.now = _T0 + timedelta(hours=8, minutes=17, seconds=23)
        self.serial = 0
        # The customers on the plain program: a pseudonym is on its customer's.
        self.plain = set(_PLAIN)

    def new_store(self) -> Store:
        raise NotImplementedError  # store_machine() makes a subclass that makes one

    def teardown(self) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    # -- rules -----------------------------------------------------------------------------

    @rule(data=st.data(), count=st.integers(min_value=1, max_value=4))
    def commit_a_unit_of_work(self, data: st.DataObject, count: int) -> None:
        """A unit of work that ends normally: all it wrote is kept."""
        with self.store.unit_of_work() as uow:
            pending = self.model.copy()
            for _ in range(count):
                self._write(data, uow, pending)
            _check_everything(uow, pending, self.now)
        self.model = pending

    @rule(
        data=st.data(),
        count=st.integers(min_value=0, max_value=3),
        error=st.sampled_from([_Aborted, _Interrupted]),
    )
    def abort_a_unit_of_work(
        self, data: st.DataObject, count: int, error: type[BaseException]
    ) -> None:
        """The same writes in a unit of work that raises: nothing is kept, and the
        exception comes out of the ``with`` block unchanged."""
        raised = error("end the unit of work")
        try:
            with self.store.unit_of_work() as uow:
                pending = self.model.copy()
                for _ in range(count):
                    self._write(data, uow, pending)
                raise raised
        except BaseException as caught:
            if caught is not raised:
                raise
        else:
            raise AssertionError(f"the unit of work swallowed {raised!r}")

    @rule(gap=_GAPS)
    def let_time_pass(self, gap: timedelta) -> None:
        self.now += gap

    @precondition(lambda self: any(state.next_due_at for state in self.model.states.values()))
    @rule()
    def go_to_the_next_due_time(self) -> None:
        """To the moment something next falls due, or a day on if all of it has."""
        ahead = [
            state.next_due_at
            for state in self.model.states.values()
            if state.next_due_at is not None and state.next_due_at > self.now
        ]
        self.now = min(ahead) if ahead else self.now + timedelta(days=1)

    @rule(data=st.data())
    def read_the_log_after_a_sequence_number(self, data: st.DataObject) -> None:
        after = data.draw(st.integers(min_value=0, max_value=len(self.model.log) + 2), "after")
        with self.store.unit_of_work(write=False) as uow:
            _expect(self.model.log[after:], list(uow.log(after)), f"log({after})")

    @precondition(lambda self: bool(self.model.states))
    @rule(data=st.data())
    def forget_a_customer(self, data: st.DataObject) -> None:
        """``forget()`` as the service calls it, alone in a unit of work after loading
        the customer (a pseudonym is erased again in place): the model passes all it
        holds through the same erasure (so a store that misses a table, or rewrites
        another customer's rows, disagrees); one that raises keeps nothing; a second
        forget() of the pseudonym at once changes nothing."""
        customer_id = data.draw(st.sampled_from(sorted(self.model.states)), "forgotten")
        if data.draw(st.booleans(), "texts that name them first"):
            with self.store.unit_of_work() as uow:
                pending = self.model.copy()
                self._named(data, uow, pending, customer_id)
            self.model = pending
        in_place = customer_id.startswith(PSEUDONYM_PREFIX)
        pseudonym = customer_id if in_place else self._id(PSEUDONYM_PREFIX.rstrip("-"))
        zone = self._program_of(customer_id).time_zone
        erasure = Erasure.of(self.model.states[customer_id].customer, pseudonym, zone=zone)
        if data.draw(st.integers(0, 3), "abort") == 3:
            self._forget(erasure, abort=True)
            return
        self._forget(erasure)
        self.model = self.model.forgotten(erasure)
        if customer_id in self.plain:
            self.plain.add(pseudonym)
        if data.draw(st.booleans(), "forget again"):
            again = Erasure.of(Customer(pseudonym), pseudonym, zone=zone)
            if not self.model.forgotten(again).same(self.model):
                raise AssertionError(f"a second forget() of {pseudonym!r} changes values")
            with self.store.unit_of_work(write=False) as uow:
                _check_everything(uow, self.model, self.now)
            self._forget(again)

    def _named(
        self, data: st.DataObject, uow: UnitOfWork, pending: _Model, customer_id: str
    ) -> None:
        """What forget() has to find: a profile with a name and an email (unless the
        customer is a pseudonym), then a message to them (one moved on may bounce,
        echoing their address) and a task about them or another (its reason may name
        them)."""
        if not customer_id.startswith(PSEUDONYM_PREFIX):
            profile = data.draw(customers(ids=st.just(customer_id)), "profile")
            named = attrs.evolve(
                profile,
                name=profile.name or "Ann Lee",
                email=profile.email or "ann.lee@example.com",
            )
            self._record(data, uow, pending, SaveCustomer(customer=named), None)
        self._message(data, uow, pending, [customer_id])
        self._task(data, uow, pending, [customer_id, *sorted(pending.states)])

    def _forget(self, erasure: Erasure, *, abort: bool = False) -> None:
        """``erasure`` carried out as the service does, in a unit of work that raises
        at its end when ``abort``."""
        try:
            with self.store.unit_of_work() as uow:
                customer_id = erasure.customer_id
                loaded = uow.load(customer_id)
                _expect(self.model.states[customer_id], loaded, f"load({customer_id!r})")
                uow.forget(erasure)
                if abort:
                    raise _Aborted("end the unit of work")
        except _Aborted:
            if not abort:
                raise

    @invariant()
    def the_store_agrees_with_the_model(self) -> None:
        with self.store.unit_of_work(write=False) as uow:
            _check_everything(uow, self.model, self.now)

    # -- one write, through the port and into the model ------------------------------------

    def _program_of(self, customer_id: str) -> Program:
        return _plain_program() if customer_id in self.plain else _program()

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def _write(self, data: st.DataObject, uow: UnitOfWork, pending: _Model) -> None:
        """One thing a service does inside a unit of work, through ``uow`` and into
        ``pending``; reads of what it wrote see it at once. What it does is drawn from
        what can be done now: a return needs a purchase not wholly returned, a
        redemption a customer with points available, and so on."""
        now = self.now
        available = {
            known: ledgers.balance(ledgers.settle(state.ledger, now)[0], now).available
            for known, state in pending.states.items()
        }
        spenders = sorted(known for known, points in available.items() if points > 0)
        returnable = [
            record
            for record in pending.purchases.values()
            if record.returned < record.purchase.amount
        ]
        held = [hold for hold in pending.holds.values() if hold.status is HoldStatus.OPEN]
        spent = [record for record in pending.redemptions.values() if not record.cancelled]
        known = sorted(pending.states)
        possible = {
            "return": returnable,
            "redeem": spenders,
            "hold": spenders,
            "resolve hold": held,
            "cancel redemption": spent,
            "adjust": known,
            "settle": known,
            "message": known,
            "task": known,
        }
        kinds = [*_ALWAYS, *(kind for kind, found in possible.items() if found)]
        if known:  # tasks twice as often: a task is opened, opened again, moved, closed
            kinds.append("task")
        kind = data.draw(st.sampled_from(kinds), "write")
        item: Input
        ref: Reference = None
        if kind in {"counter", "message", "task"}:  # not an input of the service
            self._write_beside(data, kind, uow, pending, known)
            return
        if kind == "return":
            ref = data.draw(st.sampled_from(returnable), "returned purchase")
            item = self._return(data, ref)
        elif kind == "resolve hold":
            ref = data.draw(st.sampled_from(held), "hold")
            points = data.draw(st.none() | st.integers(1, ref.points), "points captured")
            release = data.draw(st.booleans(), "release")
            item = (
                ReleaseHold(hold_key=ref.key)
                if release
                else CaptureHold(hold_key=ref.key, points=points)
            )
        elif kind == "cancel redemption":
            ref = data.draw(st.sampled_from(spent), "redemption")
            item = CancelRedemption(redemption_key=ref.key)
        elif kind in {"redeem", "hold"}:
            customer_id = data.draw(st.sampled_from(spenders), "customer")
            points = data.draw(st.integers(1, available[customer_id]), "points")
            if kind == "redeem":
                item = Redeem(key=self._id("r"), customer_id=customer_id, points=points)
            else:
                ends = now + data.draw(st.timedeltas(timedelta(hours=1), timedelta(days=20)))
                key = self._id("h")
                item = PlaceHold(key=key, customer_id=customer_id, points=points, expires_at=ends)
        elif kind in {"adjust", "settle"}:
            customer_id = data.draw(st.sampled_from(known), "customer")
            if kind == "settle":
                item = Settle(customer_id=customer_id)
            else:
                points = data.draw(st.integers(-50, 300).filter(bool), "points")
                key = self._id("a")
                item = Adjust(key=key, customer_id=customer_id, points=points, reason="goodwill")
        else:
            item = self._event(data, kind, data.draw(_CUSTOMERS, "customer"), pending)
        self._record(data, uow, pending, item, ref)

    def _write_beside(
        self, data: st.DataObject, kind: str, uow: UnitOfWork, pending: _Model, known: list[str]
    ) -> None:
        """A write beside the service's inputs: a counter, a message or a task."""
        if kind == "counter":
            self._count(data, uow, pending)
        elif kind == "message":
            self._message(data, uow, pending, known)
        else:
            self._task(data, uow, pending, known)

    def _count(self, data: st.DataObject, uow: UnitOfWork, pending: _Model) -> None:
        """Add to a shared counter."""
        name = data.draw(st.sampled_from(_COUNTERS), "counter")
        amount = data.draw(st.integers(min_value=-3, max_value=100), "amount")
        uow.add_to_counter(name, amount)
        pending.add_to_counter(name, amount)
        _expect(pending.counters[name], uow.counter(name), f"counter({name!r})")

    def _message(
        self, data: st.DataObject, uow: UnitOfWork, pending: _Model, known: list[str]
    ) -> None:
        """Queue a message for a customer the store knows, or move one on (claim it,
        settle it, put it off)."""
        queued = sorted(pending.outbox)
        move: bool = bool(queued) and data.draw(st.booleans(), "move one on")
        if move:
            item = pending.outbox[data.draw(st.sampled_from(queued), "message")]
            status = data.draw(st.sampled_from(list(MessageStatus)), "status")
            sent_at = self.now - data.draw(st.sampled_from([timedelta(0), _US]), "sent at")
            moved = attrs.evolve(
                item,
                status=status,
                attempts=item.attempts + data.draw(st.integers(0, 1), "attempt"),
                next_attempt_at=self.now + data.draw(_GAPS | st.just(timedelta(0)), "next"),
                sent_at=sent_at if status is MessageStatus.SENT else item.sent_at,
                reason=data.draw(
                    _echoes(pending, item.customer_id) | st.none() | st.text(max_size=20),
                    "reason",
                ),
            )
            uow.update_queued(moved)
            pending.outbox[moved.key] = moved
            _expect(moved, uow.queued(moved.key), f"queued({moved.key!r}) after an update")
            return
        customer_id = data.draw(st.sampled_from(known), "customer")
        message = Message(
            key=self._id(data.draw(st.sampled_from(["m", "Zoë:m", "M", "c-10:m"]), "key")),
            customer_id=customer_id,
            template=data.draw(st.sampled_from(["welcome", "broadcast"]), "template"),
            channel=data.draw(st.sampled_from(["email", "sms", "push"]), "channel"),
            kind=data.draw(st.sampled_from(list(MessageKind)), "kind"),
            context=data.draw(
                st.dictionaries(
                    st.sampled_from(["points", "title", "rate", "flag"]),
                    st.none() | st.booleans() | st.integers() | st.text(max_size=10)
                    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
                    max_size=3,
                ),
                "context",
            ),
            not_before=data.draw(st.none() | st.just(self.now + timedelta(hours=3)), "later"),
        )  # fmt: skip
        item = QueuedMessage.new(message, self.now)
        uow.enqueue(item)
        pending.outbox[item.key] = item
        _expect(item, uow.queued(item.key), f"queued({item.key!r}) once queued")

    def _task(
        self, data: st.DataObject, uow: UnitOfWork, pending: _Model, known: list[str]
    ) -> None:
        """Open a task about a customer the store knows, open one again under a key
        already used (which changes nothing), or move one on (close it, put it off)."""
        keys = sorted(pending.tasks)
        there: bool = bool(keys) and data.draw(st.booleans(), "a task already there")
        if there:
            task = pending.tasks[data.draw(st.sampled_from(keys), "task")]
            if data.draw(st.booleans(), "open it again"):
                again = attrs.evolve(task, reason="again", due_at=self.now)
                _expect(False, uow.add_task(again), f"add_task({task.key!r}) again")
            else:
                closed = data.draw(st.booleans(), "close it")
                moved = attrs.evolve(
                    task,
                    due_at=task.due_at if closed else self.now + data.draw(_GAPS, "put off"),
                    closed_at=self.now if closed else task.closed_at,
                    result=data.draw(
                        st.none() | st.text(max_size=20) | _echoes(pending, task.customer_id),
                        "result",
                    )
                    if closed
                    else task.result,
                )
                uow.update_task(moved)
                pending.tasks[moved.key] = moved
            _expect(pending.tasks[task.key], uow.task(task.key), f"task({task.key!r})")
            return
        # Due in a zone of its own at times: listed in the order of the instants.
        zone = data.draw(st.sampled_from([UTC, tz.gettz("Asia/Kathmandu")]), "zone")
        customer_id = data.draw(st.sampled_from(known), "customer")
        reasons = st.sampled_from(["call back", "ask how it went"])
        task = Task(
            key=self._id(data.draw(st.sampled_from(["t", "Zoë:t", "T"]), "key")),
            customer_id=customer_id,
            owner=data.draw(st.sampled_from(_OWNERS), "owner"),
            due_at=(self.now + data.draw(_GAPS | st.just(timedelta(0)), "due")).astimezone(zone),
            reason=data.draw(_echoes(pending, customer_id) | reasons, "reason"),
            created_at=self.now,
            kind=data.draw(st.sampled_from(["task", "escalation"]), "kind"),
            about=data.draw(st.none() | st.just("cmp-1"), "about"),
        )
        _expect(True, uow.add_task(task), f"add_task({task.key!r})")
        pending.tasks[task.key] = task
        _expect(task, uow.task(task.key), f"task({task.key!r}) once added")

    def _event(self, data: st.DataObject, kind: str, customer_id: str, pending: _Model) -> Input:
        """A purchase, visit (now and then at a place that names the customer), profile,
        coupon or referral of ``customer_id``, now."""
        now = self.now
        if kind == "purchase":
            order = purchases(
                customer_ids=st.just(customer_id),
                currency="EUR",
                max_amount=Decimal(250),
                at=st.just(now),
            )
            return attrs.evolve(data.draw(order, "purchase"), id=self._id("o"))
        if kind == "visit":
            place = data.draw(st.none() | _echoes(pending, customer_id), "place")
            return Visit(id=self._id("v"), customer_id=customer_id, at=now, location=place)
        if kind == "profile":
            customer = data.draw(customers(ids=st.just(customer_id)), "profile")
            key = data.draw(st.sampled_from([None, self._id("p")]), "key")
            return SaveCustomer(customer=customer, key=key)
        if kind == "coupon":
            return UseCoupon(key=self._id("u"), customer_id=customer_id, code="SPRING")
        others = [other for other in _CUSTOMER_IDS if other != customer_id]
        referrer = data.draw(st.sampled_from(others), "referrer")
        return Referral(id=self._id("f"), customer_id=customer_id, at=now, referrer_id=referrer)

    def _return(self, data: st.DataObject, record: PurchaseRecord) -> Return:
        """A return of some or all of what is left of ``record``'s purchase, now."""
        order = record.purchase
        left = int((order.amount - record.returned).scaleb(2))
        cents = data.draw(st.integers(min_value=1, max_value=left), "cents returned")
        return Return(
            id=self._id("x"),
            customer_id=order.customer_id,
            at=self.now,
            purchase_id=order.id,
            amount=Decimal(cents).scaleb(-2),
        )

    def _record(
        self, data: st.DataObject, uow: UnitOfWork, pending: _Model, item: Input, ref: Reference
    ) -> None:
        """What the service does for ``item``: decide, apply, keep records, count, save
        the state and log the input."""
        now = self.now
        customer_id = _target(item, ref)
        program = self._program_of(customer_id)
        state = pending.states.get(customer_id)
        _check_customer(uow, pending, customer_id)
        if isinstance(ref, PurchaseRecord | HoldRecord | RedemptionRecord):
            _check_record(uow, ref)
        if state is None:  # a customer whose bonds hold something already, now and then
            profile = data.draw(customers(ids=st.just(customer_id)), "profile")
            state = CustomerState(profile, held=data.draw(helds(max_items=1), "held"))
        settled: tuple[Entry, ...] = ()
        if not isinstance(item, Purchase):
            ledger, settled = ledgers.settle(state.ledger, now)
            state = attrs.evolve(state, ledger=ledger)
        review = program.review(state, now)
        if review.effects:
            state, _ = program.apply(state, review, now)
        counters = {name: pending.counters.get(name, 0) for name in program.counters_for(item)}
        for name, value in counters.items():
            _expect(value, uow.counter(name), f"counter({name!r})")
        if isinstance(item, UseCoupon):
            coupon = program.coupon(item.code)
            ref = CouponUses(coupon.code, pending.counters.get(coupon.counter, 0))
        try:
            decision = program.decide(state, item, now, ref, counters=counters)
            state, entries = program.apply(state, decision, now)
        except CustbondError:  # the program refuses (a hold expired): nothing to keep
            return
        # The records the service itself keeps after such a decision.
        kept = _records_after(item, ref, state, entries, effects=decision.effects, now=now)
        for record in kept:
            uow.keep(record)
            pending.keep(record)
            _check_record(uow, record)
        for effect in decision.effects:
            if isinstance(effect, AddToCounter):
                uow.add_to_counter(effect.counter, effect.amount)
                pending.add_to_counter(effect.counter, effect.amount)
            elif isinstance(effect, RewardReferral):
                reward = program.referrer_reward(effect)
                self._reward_referrer(data, uow, pending, effect.referrer_id, reward)
        entries = settled + entries
        uow.save(state, entries)
        pending.save(state, entries)
        _check_customer(uow, pending, customer_id)
        key = log_key(item)
        outcome = Outcome(
            customer_id,
            None if key is None else key[1],
            now,
            review.effects + decision.effects,
            Trace((*review.trace, *decision.trace)),
            entries,
            ledgers.balance(state.ledger, now),
        )
        expected = pending.append(key, item, now, outcome)
        _expect(expected, uow.append(key, item, now, outcome), "append()")
        if key is not None:
            _expect(expected, uow.logged(key), f"logged({key!r})")

    def _reward_referrer(
        self,
        data: st.DataObject,
        uow: UnitOfWork,
        pending: _Model,
        referrer_id: str,
        reward: Decision,
    ) -> None:
        """The referrer's part of a referral (``reward``), in the referee's unit of work."""
        _check_customer(uow, pending, referrer_id)
        state = pending.states.get(referrer_id)
        if state is None:
            state = CustomerState(data.draw(customers(ids=st.just(referrer_id)), "referrer"))
        program = self._program_of(referrer_id)
        ledger, settled = ledgers.settle(state.ledger, self.now)
        state, entries = program.apply(attrs.evolve(state, ledger=ledger), reward, self.now)
        uow.save(state, settled + entries)
        pending.save(state, settled + entries)


def store_machine(make_store: Callable[[], Store]) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that checks the stores ``make_store()`` makes against
    a plain dict model.

    Each example makes a fresh store and runs up to 20 steps: units of work that save
    customers' states (made by a real :class:`~custbond.Program` from purchases, returns,
    visits, redemptions, holds, coupons, referrals and profile changes) with their ledger
    entries, append to the event log (under keys, and without), keep and replace
    purchase, hold and redemption records, add to shared counters, queue messages and
    move them on, open tasks (again, under a key already used) and close them, and either
    end normally or raise; reads inside each unit of work must see its own writes. It
    forgets customers as the service does (``uow.forget(erasure)`` alone in a unit of
    work, now and then one that raises), after texts that name them (a place, a task's
    reason, a bounce that echoes their address): the model passes everything it holds
    through the same :class:`~custbond.erasure.Erasure`, so a store that leaves a name in
    one table, or rewrites another customer's rows, disagrees with it; and a second
    forget() of the pseudonym at once must change nothing. Time passes between steps.
    After every step, every read of the port (``load``, ``load_ledger``, ``entries``,
    ``log``, ``logged``, the records, ``counter`` and ``due``, at the due times and a
    microsecond before them, the outbox's reads, ``task`` and ``tasks`` with each
    filter, for every customer and pseudonym) must agree with the model.

    The machine's ``TestCase`` runs 50 examples, deterministically (``derandomize``); give
    it other settings as usual, e.g. ``TestCase.settings = settings(TestCase.settings,
    max_examples=500)``, or ``run_state_machine_as_test(machine, settings=...)``.

    >>> from hypothesis import settings
    >>> from hypothesis.stateful import run_state_machine_as_test
    >>> from custbond import MemoryStore
    >>> machine = store_machine(MemoryStore)
    >>> run_state_machine_as_test(machine, settings=settings(machine.TestCase.settings,
    ...                           max_examples=3, stateful_step_count=5))
    """

    class StoreMachine(_StoreMachine):
        def new_store(self) -> Store:
            return make_store()

    StoreMachine.__doc__ = f"The store contract, as a state machine, on {make_store!r}."
    defaults = settings(
        max_examples=50,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    return defaults(StoreMachine)


# -- the example tests ---------------------------------------------------------------------


class _Boom(Exception):
    """Raised inside a unit of work to abort it."""


def _state(customer_id: str = "c-1", *, due: datetime | None = _DUE) -> CustomerState:
    """A customer with 100 points, pending until ``due`` (or available at once)."""
    ledger, _ = ledgers.earn(
        Ledger(),
        points=100,
        source=f"o-{customer_id}",
        earned_at=_T0,
        available_at=_T0 if due is None else due,
        expires_at=None,
        now=_T0,
    )
    return CustomerState(Customer(customer_id), ledger)


def _entries() -> tuple[Entry, ...]:
    _, entries = ledgers.earn(
        Ledger(), points=1, source="x", earned_at=_T0, available_at=_T0, expires_at=None, now=_T0
    )
    return entries


def _outcome(customer_id: str = "c-1", key: str = "o-1") -> Outcome:
    return Outcome(customer_id, key, _T0, (), ("test",), (), ledgers.balance(Ledger(), _T0))


def _purchase(purchase_id: str = "o-1") -> Purchase:
    return Purchase(
        id=purchase_id, customer_id="c-1", at=_T0, amount=Decimal("10.00"), currency="USD"
    )


def _records() -> tuple[PurchaseRecord, HoldRecord, RedemptionRecord]:
    return (
        PurchaseRecord(_purchase(), (), 10, counted=(_T0.date(), 10)),
        HoldRecord("h-1", "c-1", 30, _T0, _T0 + timedelta(hours=1)),
        RedemptionRecord("r-1", "c-1", 10, (), _T0, voucher="AB12CD34EF56"),
    )


def _write_everything(store: Store) -> None:
    """Inside one unit of work: a state, entries, a log record and one of each record."""
    with store.unit_of_work() as uow:
        _write_new_customer(uow)


def _write_new_customer(uow: UnitOfWork) -> None:
    uow.save(_state(), _entries())
    uow.append(("event", "o-1"), _purchase(), _T0, _outcome())
    for record in _records():
        uow.keep(record)
    uow.enqueue(_queued())


def _queued(
    key: str = "m-1",
    customer_id: str = "c-1",
    *,
    at: datetime = _T0,
    status: MessageStatus = MessageStatus.PENDING,
) -> QueuedMessage:
    """A message queued at ``at`` (due then), in ``status``."""
    message = Message(key=key, customer_id=customer_id, template="welcome")
    return attrs.evolve(QueuedMessage.new(message, at), status=status)


def _rich_message() -> QueuedMessage:
    """A queued message with every field set, in a zone with a name and an unnamed one."""
    kathmandu = tz.gettz("Asia/Kathmandu")
    message = Message(
        key="Zoë:offer:printemps",
        customer_id="Zoë",
        template="broadcast",
        channel="sms",
        kind=MessageKind.MARKETING,
        context={"title": "Café €", "points": 120, "rate": Decimal("1.50"), "new": True,
                 "note": None, "until": date(2026, 4, 1),
                 "at": datetime(2026, 3, 3, 8, 30, tzinfo=kathmandu)},
        not_before=datetime(2026, 3, 3, 8, 30, tzinfo=kathmandu),
        not_after=datetime(2026, 3, 4, 8, 30, tzinfo=kathmandu),
    )  # fmt: skip
    return QueuedMessage(
        message=message,
        status=MessageStatus.DEAD,
        queued_at=_T0,
        next_attempt_at=datetime(2026, 3, 3, 9, tzinfo=timezone(timedelta(hours=-3))),
        attempts=3,
        sent_at=_T0 + timedelta(minutes=1),
        reason="failed 3 times (at most 3); last: 451 try later",
    )


def _overwrite_everything(uow: UnitOfWork) -> None:
    settled, entries = ledgers.settle(_state().ledger, _DUE)
    uow.save(CustomerState(Customer("c-1", name="Ada"), settled), entries)
    uow.append(("event", "o-2"), _purchase("o-2"), _T0, _outcome(key="o-2"))
    uow.keep(HoldRecord("h-1", "c-1", 30, _T0, _T0 + timedelta(hours=1), HoldStatus.RELEASED))
    uow.keep(RedemptionRecord("r-1", "c-1", 10, (), _T0, cancelled=True))
    uow.keep(PurchaseRecord(_purchase(), (), 10, returned=Decimal("5.00")))
    uow.add_to_counter("reward mug", 1)


def _move_due_times(uow: UnitOfWork) -> None:
    uow.save(_state("c-1", due=None), ())  # nothing due any more
    uow.save(_state("c-2", due=_T0 + _US), ())  # due sooner


def _snapshot(store: Store, customer_id: str = "c-1") -> tuple[object, ...]:
    with store.unit_of_work(write=False) as uow:
        return (
            uow.load(customer_id),
            tuple(uow.entries(customer_id)),
            tuple(uow.log()),
            uow.logged(("event", "o-1")),
            uow.purchase("o-1"),
            uow.hold("h-1"),
            uow.redemption("r-1"),
            tuple(uow.due(_NEVER)),
            uow.counter("reward mug"),
            tuple(uow.outbox()),
        )


_EMPTY = (None, (), (), None, None, None, None, (), 0, ())


def _aborted(store: Store, write: Callable[[UnitOfWork], object]) -> None:
    """Run ``write`` in a unit of work that then raises; check the exception comes out."""
    raised = _Boom("kept")
    try:
        with store.unit_of_work() as uow:
            write(uow)
            raise raised
    except _Boom as caught:
        _expect(raised, caught, "the exception out of the unit of work")
    else:
        raise AssertionError("the unit of work swallowed the exception raised inside it")


def _rich_state() -> tuple[CustomerState, tuple[Entry, ...]]:
    """A customer whose state has every field set (checked by the test that uses it), made
    by the contract's program: a full profile, lots pending and available, stamps and a
    voucher, a tier and its history, rule uses, an achievement's progress, a coupon used,
    and a referrer rewarded."""
    program = _program()
    customer = Customer(
        "Zoë",
        name="Zoë Kowalczyk",
        email="zoe@café.example",
        phone="+48601234567",
        time_zone="Asia/Kathmandu",
        birthday=Birthday(month=2, day=29, year=2000),
        tags={"vegan", "regular"},
        preferences={"milk": "oat", "size": Decimal("1.50"), "visits": 3, "newsletter": True},
    )
    state = CustomerState(customer)
    written: list[Entry] = []
    coffee = LineItem("croissant", 2, Decimal("40.00"), tags={"vegan"})
    items: list[Input] = [
        Referral(id="f-1", customer_id="Zoë", at=_T0, referrer_id="c-1"),
        *[Visit(id=f"v-{n}", customer_id="Zoë", at=_T0 + timedelta(hours=n)) for n in range(4)],
        Purchase(
            id="o-1",
            customer_id="Zoë",
            at=_T0 + timedelta(days=1),
            amount=Decimal("80.00"),
            currency="EUR",
            items=(coffee,),
        ),
        Purchase(
            id="o-2",
            customer_id="Zoë",
            at=_T0 + timedelta(days=9),
            amount=Decimal("120.00"),
            currency="EUR",
        ),
        UseCoupon(key="u-1", customer_id="Zoë", code="SPRING"),
        SetConsent(
            key="k-1",
            customer_id="Zoë",
            channel="email",
            kind="marketing",
            granted=True,
            source="signup form",
        ),
    ]
    for item in items:
        at = getattr(item, "at", _T0 + timedelta(days=9))
        ref = CouponUses("SPRING", 0) if isinstance(item, UseCoupon) else None
        decision = program.decide(state, item, at, ref)
        state, entries = program.apply(state, decision, at)
        written.extend(entries)
    # A birthday greeting and a look at expiring points on the schedule.
    planned = (SetSchedule("birthday", _T0 + timedelta(days=363)), SetSchedule("expiring", _DUE))
    state, _ = program.apply(state, Decision(planned), _T0 + timedelta(days=9))
    cases, surveys = _recovery("Zoë")
    contact = datetime(2026, 2, 3, 17, 5, tzinfo=UTC)
    state = attrs.evolve(state, owner="Lena", last_contact_at=contact, held=_held())
    return attrs.evolve(state, cases=cases, surveys=surveys), tuple(written)


_BOX = Plan(name="pie box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9", price=Decimal("25.00"))
_CLUB = Plan(name="wine club", every="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=18")


def _held() -> Held:
    """What the bonds hold, with every part set and every optional field of its items:
    preferences, a buying rhythm, an offer accepted, a wish with a note, a saved cart
    already reminded of, a subscription paused for a while with a delivery skipped after
    two passed and one cancelled for a reason (in zones away from UTC), an enrollment
    left, an integration dropped, a custom occasion on 29 February, a members' event
    invited to and attended, and a milestone marked."""
    kathmandu = tz.gettz("Asia/Kathmandu")
    box = subscribe(_BOX, at=_T0, zone="Europe/Paris")
    box, _ = advance(box, _BOX, now=_T0 + timedelta(days=62))
    box = skip(box, _BOX, on=date(2026, 6, 30))
    box = pause(box, _BOX, at=_T0 + timedelta(days=62), until=_T0 + timedelta(days=70))
    club = subscribe(_CLUB, at=_T0, zone="Asia/Kathmandu")
    club = cancel(club, at=_T0 + timedelta(days=3), reason="moving away")
    tasting = datetime(2026, 12, 3, 18, tzinfo=kathmandu)
    croissants = LineItem("croissant", 2, Decimal("2.50"), tags={"vegan"})
    parts: dict[str, dict[str, Any]] = {
        "rhythms": {"beans": Rhythm("beans", 5, (_T0, _T0 + timedelta(days=14)))},
        "offers": {"gf-cherry": _T0},
        "wishes": {"mug": Wish(sku="mug", added_at=_T0, note="the blue one")},
        "carts": {
            "cart-1": SavedCart(
                id="cart-1",
                items=(croissants,),
                saved_at=_T0,
                expires_at=_T0 + timedelta(days=90),
                reminded=True,
            )
        },
        "subscriptions": {_BOX.name: box, _CLUB.name: club},
        "sequences": {
            "onboarding": Enrollment(
                sequence="onboarding",
                entered_at=_T0,
                sent=2,
                left_at=_T0 + timedelta(days=4),
                left_because="Purchase",
                steps_from=_T0 + timedelta(seconds=5),  # its signup was recorded late
                leavings=((_T0 - timedelta(hours=1), "Purchase o-0"),),
            )
        },
        "integrations": {
            "portal": Integration(
                name="portal", adopted_at=_T0, dropped_at=_T0 + timedelta(days=30)
            )
        },
        "occasions": {
            "wedding anniversary": Occasion(name="wedding anniversary", month=2, day=29, year=2016)
        },
        "invited": {"tasting-1": tasting},
        "attended": {"tasting-1": tasting + timedelta(minutes=20)},
        "marked": {"tenth-order": _T0 + timedelta(days=9)},
        "leavings": {"newsletter": ((_T0 + timedelta(days=1), "Purchase o-9"),)},
    }
    preferences = Preferences(
        favourites=frozenset({"croissant"}),
        restrictions=frozenset({"nut-free"}),
        interests=frozenset({"baking"}),
        industry="bakery",
    )
    held = Held().with_item("preferences", "", preferences)
    for part, items in parts.items():
        for key, value in items.items():
            held = held.with_item(part, key, value)
    empty = Held()
    unset = [
        field.name
        for field in attrs.fields(Held)
        if getattr(held, field.name) == getattr(empty, field.name)
    ]
    _expect([], unset, "parts the contract's held leaves unset")  # the test's own
    return held


def _recovery(
    customer_id: str,
) -> tuple[FrozenMap[str, RecoveryCase], tuple[SurveyResponse, ...]]:
    """Two complaints' cases (one just filed, one with every field set: escalated,
    acknowledged, resolved with compensation, a timer still waiting, times in a zone away
    from UTC) and two survey answers (one with every field set) of ``customer_id``."""
    kathmandu = tz.gettz("Asia/Kathmandu")
    filed = datetime(2026, 3, 6, 18, 40, tzinfo=kathmandu)
    fresh = RecoveryCase.open(id="cmp-2", category="noise", severity="low", filed_at=_T0)
    full = RecoveryCase.open(
        id="cmp-1",
        category="late delivery",
        severity="high",
        filed_at=filed,
        acknowledge_by=filed + timedelta(hours=4),
        resolve_by=filed + timedelta(days=2),
        channel="phone",
        about="o-1",
        order_value=Decimal("80.00"),
        text="The cake came a day late, for Zoë's party.",
    )
    full = full.then(
        filed + timedelta(hours=5),
        "escalated",
        "to the duty manager",
        severity=Severity.CRITICAL,
        escalations=(0,),
        timers=(Timer(1, "resolve", filed + timedelta(days=1)),),
    )
    full = full.then(filed + timedelta(hours=6), "acknowledged", "by Sam", acknowledged_at=filed)
    full = attrs.evolve(
        full.then(filed + timedelta(days=1), "resolved", "refund and a voucher"),
        resolved_at=filed + timedelta(days=1),
        resolution="Refunded half and sent a voucher.",
        offer=Compensation(
            "EUR",
            points=200,
            voucher=Decimal("10.00"),
            voucher_valid_for=relativedelta(months=3, days=1),
            refund=Decimal("40.00"),
        ),
        given=Compensation(
            "EUR", apology=False, voucher=Decimal("5.00"), voucher_valid_for=timedelta(days=30)
        ),
    )
    unset = [
        field.name
        for field in attrs.fields(RecoveryCase)
        if field.default is not attrs.NOTHING and getattr(full, field.name) == field.default
    ]
    _expect([], unset, "fields the contract's full case leaves unset")  # the test's own
    surveys = (
        SurveyResponse(id="s-1", customer_id=customer_id, at=_T0, scale="csat", score=5),
        SurveyResponse(
            id="s-2",
            customer_id=customer_id,
            at=filed + timedelta(days=3),
            scale="nps",
            score=4,
            comment="Kind people, late cake.",
            about="cmp-1",
            category="delivery",
        ),
    )
    return FrozenMap({case.id: case for case in (full, fresh)}), surveys


def _task(
    key: str = "t-1",
    customer_id: str = "c-1",
    *,
    owner: str = "customer care",
    due_at: datetime = _DUE,
    closed_at: datetime | None = None,
) -> Task:
    return Task(
        key=key,
        customer_id=customer_id,
        owner=owner,
        due_at=due_at,
        reason="call to ask how it went",
        created_at=_T0,
        closed_at=closed_at,
        result=None if closed_at is None else "all well",
    )


def _keys(tasks: Sequence[Task]) -> list[str]:
    return [task.key for task in tasks]


class StoreContract:
    """Example tests every store must pass; a subclass provides :meth:`make_store`.

    >>> from custbond import MemoryStore
    >>> class TestMemoryStore(StoreContract):
    ...     def make_store(self):
    ...         return MemoryStore()
    >>> TestMemoryStore().test_log_records_are_numbered_one_two_three_in_commit_order()

    Each test calls :meth:`make_store` once; a store with a ``close()`` method is closed
    after the test (pytest calls :meth:`teardown_method`).
    """

    _stores: list[Store]

    def make_store(self) -> Store:
        """A new, empty store."""
        raise NotImplementedError(f"{type(self).__name__} must define make_store()")

    def fresh_store(self) -> Store:
        """A store from :meth:`make_store`, closed after the test."""
        store = self.make_store()
        if not hasattr(self, "_stores"):
            self._stores = []
        self._stores.append(store)
        return store

    def teardown_method(self, method: object = None) -> None:
        """Close the stores the test made (those with a ``close()`` method)."""
        for store in getattr(self, "_stores", ()):
            close = getattr(store, "close", None)
            if callable(close):
                close()
        self._stores = []

    # -- an empty store ----------------------------------------------------------------

    def test_an_empty_store_has_nothing(self) -> None:
        _expect(_EMPTY, _snapshot(self.fresh_store()), "an empty store")

    def test_a_customer_never_seen_loads_as_none(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work(write=False) as uow:
            found = (uow.load("nobody"), uow.load_ledger("nobody"), tuple(uow.entries("nobody")))

        _expect((None, None, ()), found, "load, load_ledger and entries of an unknown id")

    # -- commit ------------------------------------------------------------------------

    def test_what_a_unit_of_work_wrote_is_kept_when_it_ends(self) -> None:
        store = self.fresh_store()

        _write_everything(store)

        state, entries, log, logged, purchase, hold, redemption, due, _, outbox = _snapshot(store)
        assert isinstance(log, tuple)
        _expect((_state(), _entries(), 1, ("c-1",)), (state, entries, len(log), due), "kept")
        _expect((log[0], _records()), (logged, (purchase, hold, redemption)), "records")
        _expect((_queued(),), outbox, "the outbox")

    def test_what_was_saved_loads_back_equal_field_by_field(self) -> None:
        store = self.fresh_store()
        state, entries = _rich_state()
        unset = [
            field.name
            for field in attrs.fields(CustomerState)[1:]  # after the customer
            if getattr(state, field.name) == getattr(CustomerState(state.customer), field.name)
        ]
        _expect([], unset, "fields the contract's rich state leaves unset")  # the test's own

        with store.unit_of_work() as uow:
            uow.save(state, entries)
        with store.unit_of_work(write=False) as uow:
            loaded = (uow.load(state.id), uow.load_ledger(state.id), tuple(uow.entries(state.id)))

        _expect((state, state.ledger, entries), loaded, "a saved state, its ledger and entries")

    def test_entries_are_appended_in_order_across_units_of_work(self) -> None:
        store = self.fresh_store()
        first = _entries()
        second = tuple(
            Entry(2, entry.kind, entry.at, entry.points, "y", entry.reason) for entry in first
        )

        for entries in (first, second):
            with store.unit_of_work() as uow:
                uow.save(_state(), entries)

        with store.unit_of_work(write=False) as uow:
            _expect((*first, *second), tuple(uow.entries("c-1")), "entries('c-1')")

    def test_entries_saved_twice_in_one_unit_of_work_are_appended_in_order(self) -> None:
        store = self.fresh_store()
        first = _entries()
        second = tuple(entry._replace(seq=2, source="y") for entry in first)

        with store.unit_of_work() as uow:
            uow.save(_state(), first)
            uow.save(_state(), second)

            _expect((*first, *second), tuple(uow.entries("c-1")), "entries('c-1') inside")
        with store.unit_of_work(write=False) as uow:
            _expect((*first, *second), tuple(uow.entries("c-1")), "entries('c-1') after")

    def test_a_record_kept_again_replaces_the_first(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        captured = HoldRecord(
            "h-1", "c-1", 30, _T0, _T0 + timedelta(hours=1), HoldStatus.CAPTURED, 30
        )

        with store.unit_of_work() as uow:
            uow.keep(captured)

        with store.unit_of_work(write=False) as uow:
            _expect(captured, uow.hold("h-1"), "hold('h-1')")

    def test_records_of_different_kinds_with_the_same_key_are_kept_apart(self) -> None:
        store = self.fresh_store()
        purchase = PurchaseRecord(_purchase("k-1"), (), 10)
        hold = HoldRecord("k-1", "c-1", 30, _T0, _T0 + timedelta(hours=1), HoldStatus.CAPTURED, 30)
        redemption = RedemptionRecord("k-1", "c-1", 30, (), _T0)

        with store.unit_of_work() as uow:
            uow.save(_state(), ())  # records are of a customer the store has
            for record in (purchase, hold, redemption):
                uow.keep(record)

        with store.unit_of_work(write=False) as uow:
            found = (uow.purchase("k-1"), uow.hold("k-1"), uow.redemption("k-1"))
        _expect((purchase, hold, redemption), found, "records under the key 'k-1'")

    def test_log_records_are_numbered_one_two_three_in_commit_order(self) -> None:
        store = self.fresh_store()
        for n in range(1, 4):
            with store.unit_of_work() as uow:
                uow.append(("event", f"o-{n}"), _purchase(f"o-{n}"), _T0, _outcome(key=f"o-{n}"))

        with store.unit_of_work(write=False) as uow:
            seqs = ([record.seq for record in uow.log()], [r.seq for r in uow.log(after=2)])
            keys = [record.key for record in uow.log()]
        _expect(([1, 2, 3], [3]), seqs, "the sequence numbers of log() and log(after=2)")
        _expect([("event", "o-1"), ("event", "o-2"), ("event", "o-3")], keys, "their keys")

    def test_reading_the_log_after_its_end_gives_nothing(self) -> None:
        store = self.fresh_store()
        _write_everything(store)

        with store.unit_of_work(write=False) as uow:
            _expect(([], []), (list(uow.log(after=1)), list(uow.log(after=5))), "log(after)")

    def test_a_command_without_a_key_is_logged_but_not_found_by_key(self) -> None:
        store = self.fresh_store()
        command = Redeem(key="r-1", customer_id="c-1", points=1)

        with store.unit_of_work() as uow:
            record = uow.append(None, command, _T0, _outcome())

        with store.unit_of_work(write=False) as uow:
            found = (list(uow.log()), uow.logged(("command", "r-1")))
        _expect(([LogRecord(1, None, command, _T0, _outcome())], None), found, "log, logged")
        _expect(record, found[0][0], "the record append() returned")

    def test_the_same_id_under_another_kind_of_key_is_another_key(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work() as uow:
            event = uow.append(("event", "k-1"), _purchase("k-1"), _T0, _outcome(key="k-1"))
            redeem = Redeem(key="k-1", customer_id="c-1", points=1)
            command = uow.append(("command", "k-1"), redeem, _T0, _outcome(key="k-1"))

        with store.unit_of_work(write=False) as uow:
            found = (uow.logged(("event", "k-1")), uow.logged(("command", "k-1")))
            _expect((event, command), found, "logged() under each kind")
            _expect(None, uow.logged(("resolve", "k-1")), "logged(('resolve', 'k-1'))")

    # -- rollback ----------------------------------------------------------------------

    def test_an_exception_inside_a_unit_of_work_leaves_nothing_changed(self) -> None:
        store = self.fresh_store()

        _aborted(store, _write_new_customer)

        _expect(_EMPTY, _snapshot(store), "a store after an aborted unit of work")

    def test_an_exception_leaves_existing_data_as_it_was(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        before = _snapshot(store)

        _aborted(store, _overwrite_everything)

        _expect(before, _snapshot(store), "the store after an aborted unit of work")

    def test_an_exception_leaves_the_due_customers_as_they_were(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state("c-1", due=_DUE), ())

        _aborted(store, _move_due_times)

        with store.unit_of_work(write=False) as uow:
            found = (list(uow.due(_T0 + _US)), list(uow.due(_DUE)))
        _expect(([], ["c-1"]), found, "due just after T0 and at DUE")

    def test_an_exception_that_is_not_an_exception_also_leaves_nothing(self) -> None:
        store = self.fresh_store()
        raised = KeyboardInterrupt()

        try:
            with store.unit_of_work() as uow:
                _write_new_customer(uow)
                raise raised
        except KeyboardInterrupt as caught:
            _expect(raised, caught, "the KeyboardInterrupt out of the unit of work")

        _expect(_EMPTY, _snapshot(store), "a store after an interrupted unit of work")

    def test_the_store_can_be_used_again_after_an_exception_from_another_thread(self) -> None:
        store = self.fresh_store()
        _aborted(store, _write_new_customer)
        loaded: list[object] = []

        def other_thread() -> None:
            try:
                with store.unit_of_work() as uow:
                    uow.save(_state(), ())
                    loaded.append(uow.load("c-1"))
            except Exception as error:
                loaded.append(error)

        thread = threading.Thread(target=other_thread, daemon=True)
        thread.start()
        thread.join(timeout=30)  # only a store still locked by the aborted one waits long

        _expect([_state()], loaded, "what another thread's unit of work read")

    def test_the_exception_is_not_swallowed(self) -> None:
        store = self.fresh_store()

        _aborted(store, lambda uow: None)

    # -- reads inside a unit of work ---------------------------------------------------

    def test_reads_see_their_own_writes(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work() as uow:
            state = _state()
            uow.save(state, _entries())
            record = uow.append(("event", "o-1"), _purchase(), _T0, _outcome())
            for kept in _records():
                uow.keep(kept)
            uow.add_to_counter("reward mug", 2)

            _expect(
                (state, state.ledger, _entries(), [record], record, 2),
                (
                    uow.load("c-1"),
                    uow.load_ledger("c-1"),
                    tuple(uow.entries("c-1")),
                    list(uow.log()),
                    uow.logged(("event", "o-1")),
                    uow.counter("reward mug"),
                ),
                "reads inside the unit of work",
            )
            found = (uow.purchase("o-1"), uow.hold("h-1"), uow.redemption("r-1"))
            _expect(_records(), found, "records inside the unit of work")

    def test_the_ledger_alone_reads_as_the_states_before_and_after_commit(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work() as uow:
            unknown = uow.load_ledger("c-1")
            uow.save(_state(), _entries())
            unsaved = uow.load_ledger("c-1")
        with store.unit_of_work(write=False) as uow:
            kept = uow.load_ledger("c-1")
            state = uow.load("c-1")

        assert state is not None, "load('c-1') after commit"
        _expect(
            (None, _state().ledger, state.ledger), (unknown, unsaved, kept), "load_ledger('c-1')"
        )

    def test_a_later_write_in_the_same_unit_of_work_wins(self) -> None:
        store = self.fresh_store()
        renamed = CustomerState(Customer("c-1", name="Ada"), _state().ledger)

        with store.unit_of_work() as uow:
            uow.save(_state(), ())
            uow.save(renamed, ())

            _expect(renamed, uow.load("c-1"), "load('c-1') inside the unit of work")
        with store.unit_of_work(write=False) as uow:
            _expect(renamed, uow.load("c-1"), "load('c-1') after commit")

    def test_log_sequence_numbers_continue_from_the_kept_log(self) -> None:
        store = self.fresh_store()
        _write_everything(store)

        with store.unit_of_work() as uow:
            first = uow.append(("event", "o-2"), _purchase("o-2"), _T0, _outcome(key="o-2"))
            second = uow.append(("event", "o-3"), _purchase("o-3"), _T0, _outcome(key="o-3"))

            _expect(
                ([2, 3], [1, 2, 3], [3]),
                (
                    [first.seq, second.seq],
                    [record.seq for record in uow.log()],
                    [record.seq for record in uow.log(after=2)],
                ),
                "sequence numbers inside the unit of work",
            )

    def test_an_aborted_unit_of_work_takes_no_sequence_numbers(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        _aborted(
            store, lambda uow: uow.append(("event", "o-2"), _purchase("o-2"), _T0, _outcome())
        )

        with store.unit_of_work() as uow:
            record = uow.append(("event", "o-3"), _purchase("o-3"), _T0, _outcome(key="o-3"))

        _expect(2, record.seq, "the sequence number after an aborted unit of work")

    # -- due ---------------------------------------------------------------------------

    def test_a_customer_is_due_from_their_next_due_time(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())

        with store.unit_of_work(write=False) as uow:
            found = [list(uow.due(now)) for now in (_DUE - _US, _DUE, _DUE + _US)]
        _expect([[], ["c-1"], ["c-1"]], found, "due just before, at and just after DUE")

    def test_a_customer_with_nothing_ahead_is_never_due(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(due=None), ())

        with store.unit_of_work(write=False) as uow:
            _expect([], list(uow.due(_NEVER)), "due(NEVER)")

    def test_due_customers_are_listed_once_in_id_order(self) -> None:
        store = self.fresh_store()
        for customer_id, due in [("c-3", _DUE), ("c-1", _DUE + _US), ("c-2", _DUE - _US)]:
            with store.unit_of_work() as uow:
                uow.save(_state(customer_id, due=due), ())
        with store.unit_of_work() as uow:  # saved again, unchanged
            uow.save(_state("c-3", due=_DUE), ())

        with store.unit_of_work(write=False) as uow:
            _expect(["c-1", "c-2", "c-3"], list(uow.due(_DUE + _US)), "due(DUE + 1 µs)")

    def test_due_customers_are_sorted_as_python_sorts_strings(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            for customer_id in _CUSTOMER_IDS:
                uow.save(_state(customer_id), ())

        with store.unit_of_work(write=False) as uow:
            _expect(sorted(_CUSTOMER_IDS), list(uow.due(_DUE)), "due(DUE)")

    def test_reading_what_is_due_changes_nothing(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state("c-1"), ())
            uow.save(_state("c-2", due=_DUE + timedelta(days=1)), ())

        with store.unit_of_work(write=False) as uow:
            first = list(uow.due(_DUE))
            second = list(uow.due(_DUE))
        with store.unit_of_work(write=False) as uow:
            later = list(uow.due(_DUE + timedelta(days=1)))

        _expect((["c-1"], ["c-1"], ["c-1", "c-2"]), (first, second, later), "due, read thrice")

    def test_a_customer_whose_due_changes_were_materialised_is_no_longer_due(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
        settled, entries = ledgers.settle(_state().ledger, _DUE)

        with store.unit_of_work() as uow:
            uow.save(CustomerState(Customer("c-1"), settled), entries)

        with store.unit_of_work(write=False) as uow:
            _expect([], list(uow.due(_NEVER)), "due(NEVER)")

    def test_a_customer_whose_next_due_time_moved_is_due_at_the_new_time(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(due=_DUE), ())
        with store.unit_of_work() as uow:
            uow.save(_state(due=_DUE + timedelta(days=7)), ())
        with store.unit_of_work() as uow:
            uow.save(_state(due=_DUE - timedelta(days=7)), ())

        with store.unit_of_work(write=False) as uow:
            found = (
                list(uow.due(_DUE - timedelta(days=7) - _US)),
                list(uow.due(_DUE - timedelta(days=7))),
                list(uow.due(_DUE + timedelta(days=7))),
            )
        _expect(([], ["c-1"], ["c-1"]), found, "due around the new time")

    def test_a_state_saved_in_the_unit_of_work_counts_before_commit(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work() as uow:
            uow.save(_state(), ())

            _expect(["c-1"], list(uow.due(_DUE)), "due(DUE) inside the unit of work")

    def test_a_state_settled_in_the_unit_of_work_is_not_due_before_commit(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
        settled, entries = ledgers.settle(_state().ledger, _DUE)

        with store.unit_of_work() as uow:
            uow.save(CustomerState(Customer("c-1"), settled), entries)

            _expect([], list(uow.due(_DUE)), "due(DUE) inside the unit of work")

    # -- counters ----------------------------------------------------------------------

    def test_a_counter_never_counted_is_zero(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work(write=False) as uow:
            _expect(0, uow.counter("reward mug"), "counter('reward mug')")

    def test_counters_add_up_across_units_of_work(self) -> None:
        store = self.fresh_store()
        for amount in (3, 4, -2):
            with store.unit_of_work() as uow:
                uow.add_to_counter("reward mug", amount)

        with store.unit_of_work(write=False) as uow:
            _expect(5, uow.counter("reward mug"), "counter('reward mug')")

    def test_a_unit_of_work_reads_its_own_additions_to_a_counter(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_to_counter("reward mug", 3)

        with store.unit_of_work() as uow:
            uow.add_to_counter("reward mug", 4)
            uow.add_to_counter("reward mug", 1)

            _expect(8, uow.counter("reward mug"), "counter('reward mug') inside")

    def test_counters_are_kept_apart_by_name(self) -> None:
        store = self.fresh_store()

        with store.unit_of_work() as uow:
            uow.add_to_counter("reward mug", 1)
            uow.add_to_counter("coupon SPRING", 7)

        with store.unit_of_work(write=False) as uow:
            found = (uow.counter("reward mug"), uow.counter("coupon SPRING"), uow.counter("x"))
        _expect((1, 7, 0), found, "three counters")

    def test_an_exception_leaves_counters_as_they_were(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_to_counter("reward mug", 3)

        _aborted(store, lambda uow: uow.add_to_counter("reward mug", 4))

        with store.unit_of_work(write=False) as uow:
            _expect(3, uow.counter("reward mug"), "counter('reward mug')")

    # -- the outbox --------------------------------------------------------------------

    def test_a_queued_message_reads_back_equal_field_by_field(self) -> None:
        store = self.fresh_store()
        rich = _rich_message()
        with store.unit_of_work() as uow:
            uow.save(CustomerState(Customer("Zoë")), ())
            uow.enqueue(rich)

        with store.unit_of_work(write=False) as uow:
            found = (uow.queued(rich.key), list(uow.outbox()), list(uow.messages_of("Zoë")))
        _expect((rich, [rich], [rich]), found, "the queued message read back")

    def test_a_message_never_queued_reads_as_none(self) -> None:
        store = self.fresh_store()
        _write_everything(store)

        with store.unit_of_work(write=False) as uow:
            _expect(None, uow.queued("m-unknown"), "queued('m-unknown')")

    def test_a_message_updated_is_replaced(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        sent = attrs.evolve(_queued(), status=MessageStatus.SENT, attempts=1, sent_at=_DUE)

        with store.unit_of_work() as uow:
            uow.update_queued(sent)

        with store.unit_of_work(write=False) as uow:
            _expect((sent, [sent]), (uow.queued("m-1"), list(uow.outbox())), "after update")

    def test_messages_are_due_from_their_next_attempt_soonest_first_then_by_key(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
            for key, at in [("m-3", _T0), ("m-1", _T0 + _US), ("m-2", _T0)]:
                uow.enqueue(_queued(key, at=at))

        with store.unit_of_work(write=False) as uow:
            found = [
                [item.key for item in uow.due_messages(now, 10)] for now in (_T0 - _US, _T0, _DUE)
            ]
            limited = [item.key for item in uow.due_messages(_DUE, 2)]
        _expect(
            ([[], ["m-2", "m-3"], ["m-2", "m-3", "m-1"]], ["m-2", "m-3"]),
            (found, limited),
            "due_messages before, at and after the first is due; and with a limit",
        )

    def test_a_message_that_is_final_is_never_due(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
            for status in MessageStatus:
                uow.enqueue(_queued(f"m-{status.value}", status=status))

        with store.unit_of_work(write=False) as uow:
            found = sorted(item.key for item in uow.due_messages(_NEVER, 100))
        _expect(["m-pending", "m-sending"], found, "due_messages(NEVER)")

    def test_a_message_whose_next_attempt_moved_is_due_at_the_new_time(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        later = attrs.evolve(_queued(), next_attempt_at=_DUE)

        with store.unit_of_work() as uow:
            uow.update_queued(later)

            inside = [item.key for item in uow.due_messages(_T0, 10)]
        with store.unit_of_work(write=False) as uow:
            found = (
                [item.key for item in uow.due_messages(_DUE - _US, 10)],
                [item.key for item in uow.due_messages(_DUE, 10)],
            )
        _expect(([], ([], ["m-1"])), (inside, found), "due before and at the new time")

    def test_reading_due_messages_changes_nothing(self) -> None:
        store = self.fresh_store()
        _write_everything(store)

        with store.unit_of_work(write=False) as uow:
            first = [item.key for item in uow.due_messages(_T0, 10)]
            second = [item.key for item in uow.due_messages(_T0, 10)]
        _expect((["m-1"], ["m-1"]), (first, second), "due_messages, read twice")

    def test_a_customers_messages_are_theirs_in_queue_order(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.save(_state("c-1"), ())
            uow.save(_state("c-2"), ())
            uow.enqueue(_queued("m-b", "c-1", at=_T0 + _US))
            uow.enqueue(_queued("m-c", "c-2", at=_T0))
            uow.enqueue(_queued("m-a", "c-1", at=_T0 + _US))
            uow.enqueue(_queued("m-d", "c-1", at=_T0))

        with store.unit_of_work(write=False) as uow:
            found = (
                [item.key for item in uow.messages_of("c-1")],
                [item.key for item in uow.messages_of("c-2")],
                [item.key for item in uow.messages_of(_UNKNOWN)],
                [item.key for item in uow.outbox()],
            )
        _expect(
            (["m-d", "m-a", "m-b"], ["m-c"], [], ["m-c", "m-d", "m-a", "m-b"]),
            found,
            "messages_of c-1, c-2, an unknown customer; the whole outbox",
        )

    def test_reads_of_the_outbox_see_their_own_writes(self) -> None:
        store = self.fresh_store()
        _write_everything(store)
        sent = attrs.evolve(_queued(), status=MessageStatus.SENT, sent_at=_T0)

        with store.unit_of_work() as uow:
            uow.enqueue(_queued("m-2"))
            uow.update_queued(sent)

            _expect(
                (sent, ["m-1", "m-2"], ["m-2"], ["m-1", "m-2"]),
                (
                    uow.queued("m-1"),
                    [item.key for item in uow.outbox()],
                    [item.key for item in uow.due_messages(_DUE, 10)],
                    [item.key for item in uow.messages_of("c-1")],
                ),
                "the outbox inside the unit of work",
            )

    # -- tasks -------------------------------------------------------------------------

    def test_a_task_reads_back_equal_field_by_field(self) -> None:
        store = self.fresh_store()
        kathmandu = tz.gettz("Asia/Kathmandu")
        task = Task(
            key="Zoë:follow-up:cmp-1",
            customer_id="Zoë",
            owner="Duty manager",
            due_at=datetime(2026, 3, 9, 10, tzinfo=kathmandu),
            reason="Call Zoë to ask how it went",
            created_at=datetime(2026, 3, 6, 10, 1, 2, 3, tzinfo=kathmandu),
            kind="follow_up",
            about="cmp-1",
            closed_at=datetime(2026, 3, 8, 9, tzinfo=timezone(timedelta(hours=-3))),
            result="Called: happy again.",
        )
        with store.unit_of_work() as uow:
            added = uow.add_task(task)

        with store.unit_of_work(write=False) as uow:
            found = (uow.task(task.key), list(uow.tasks(open_only=False)))
        _expect((True, (task, [task])), (added, found), "add_task(), then task() and tasks()")

    def test_a_task_never_added_reads_as_none(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_task(_task())

        with store.unit_of_work(write=False) as uow:
            found = (uow.task("t-unknown"), uow.task("T-1"), list(uow.tasks(owner="nobody")))
        _expect((None, None, []), found, "task() of unknown keys, tasks() of an unknown owner")

    def test_a_task_added_again_under_its_key_keeps_the_first(self) -> None:
        store = self.fresh_store()
        first = _task()
        other = _task(owner="sam", due_at=_T0, closed_at=_T0)

        with store.unit_of_work() as uow:
            added = (uow.add_task(first), uow.add_task(other))
        with store.unit_of_work() as uow:
            again = uow.add_task(other)

        with store.unit_of_work(write=False) as uow:
            found = (uow.task("t-1"), list(uow.tasks(open_only=False)))
        _expect(((True, False), False), (added, again), "add_task(): first, again, later")
        _expect((first, [first]), found, "the task kept")

    def test_a_task_updated_is_replaced(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_task(_task())
        closed = _task(closed_at=_DUE + timedelta(hours=1))

        with store.unit_of_work() as uow:
            uow.update_task(closed)

        with store.unit_of_work(write=False) as uow:
            found = (uow.task("t-1"), list(uow.tasks()), list(uow.tasks(open_only=False)))
        _expect((closed, [], [closed]), found, "task(), open tasks, all tasks after closing")

    def test_tasks_are_listed_soonest_due_first_then_by_key_as_python_sorts(self) -> None:
        store = self.fresh_store()
        # Keys that Python sorts "C-3" < "Zoë" < "c-1" < "c-10" < "c-2"; one due sooner,
        # written in a zone of its own (listed by the instant, not the wall time).
        sooner = _task("z-0", due_at=(_DUE - _US).astimezone(tz.gettz("America/Lima")))
        with store.unit_of_work() as uow:
            for key in _CUSTOMER_IDS:
                uow.add_task(_task(key))
            uow.add_task(sooner)

        with store.unit_of_work(write=False) as uow:
            found = _keys(uow.tasks())
        _expect(["z-0", *sorted(_CUSTOMER_IDS)], found, "tasks()")

    def test_tasks_are_listed_by_owner_customer_due_time_and_whether_open(self) -> None:
        store = self.fresh_store()
        tasks = [
            _task("t-1", "c-1", owner="sam", due_at=_DUE),
            _task("t-2", "c-2", owner="sam", due_at=_DUE + _US),
            _task("t-3", "c-1", owner="customer care", due_at=_DUE - _US),
            _task("t-4", "c-1", owner="sam", due_at=_T0, closed_at=_T0),
        ]
        with store.unit_of_work() as uow:
            for task in tasks:
                uow.add_task(task)

        with store.unit_of_work(write=False) as uow:
            found = {
                "sam": _keys(uow.tasks(owner="sam")),
                "sam, all": _keys(uow.tasks(owner="sam", open_only=False)),
                "c-1": _keys(uow.tasks(customer_id="c-1")),
                "c-1 of sam, all": _keys(
                    uow.tasks(customer_id="c-1", owner="sam", open_only=False)
                ),
                "before DUE - 1 µs": _keys(uow.tasks(due_before=_DUE - _US)),
                "before DUE": _keys(uow.tasks(due_before=_DUE)),
                "before DUE + 1 µs": _keys(uow.tasks(due_before=_DUE + _US)),
                "before DUE, all": _keys(uow.tasks(due_before=_DUE, open_only=False)),
            }
        expected = {
            "sam": ["t-1", "t-2"],
            "sam, all": ["t-4", "t-1", "t-2"],
            "c-1": ["t-3", "t-1"],
            "c-1 of sam, all": ["t-4", "t-1"],
            "before DUE - 1 µs": [],
            "before DUE": ["t-3"],
            "before DUE + 1 µs": ["t-3", "t-1"],
            "before DUE, all": ["t-4", "t-3"],
        }
        _expect(expected, found, "tasks() with filters")

    def test_reads_of_tasks_see_their_own_writes(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_task(_task("t-1"))
            uow.add_task(_task("t-2", due_at=_DUE + _US))
        closed = _task("t-1", closed_at=_DUE)
        sooner = _task("t-3", owner="sam", due_at=_T0)

        with store.unit_of_work() as uow:
            uow.update_task(closed)
            uow.add_task(sooner)

            _expect(
                (closed, sooner, ["t-3", "t-2"], ["t-3", "t-1", "t-2"], ["t-2"], False),
                (
                    uow.task("t-1"),
                    uow.task("t-3"),
                    _keys(uow.tasks()),
                    _keys(uow.tasks(open_only=False)),
                    _keys(uow.tasks(owner="customer care")),
                    uow.add_task(_task("t-3")),
                ),
                "the tasks inside the unit of work",
            )

    def test_an_exception_leaves_the_tasks_as_they_were(self) -> None:
        store = self.fresh_store()
        with store.unit_of_work() as uow:
            uow.add_task(_task())

        def write(uow: UnitOfWork) -> None:
            uow.add_task(_task("t-2"))
            uow.update_task(_task(closed_at=_DUE))

        _aborted(store, write)

        with store.unit_of_work(write=False) as uow:
            found = (uow.task("t-2"), list(uow.tasks(open_only=False)))
        _expect((None, [_task()]), found, "the tasks after an aborted unit of work")

    # -- recovery cases and survey answers ---------------------------------------------

    def test_recovery_cases_and_survey_answers_load_back_equal(self) -> None:
        store = self.fresh_store()
        cases, surveys = _recovery("c-1")
        state = attrs.evolve(_state(), cases=cases, surveys=surveys)
        fresh_only = attrs.evolve(_state("c-2"), cases=FrozenMap({"cmp-2": cases["cmp-2"]}))

        with store.unit_of_work() as uow:
            uow.save(state, ())
            uow.save(fresh_only, ())
        with store.unit_of_work(write=False) as uow:
            found = (uow.load("c-1"), uow.load("c-2"))

        _expect((state, fresh_only), found, "states with cases and survey answers")

    def test_an_exception_leaves_the_outbox_as_it_was(self) -> None:
        store = self.fresh_store()
        _write_everything(store)

        def write(uow: UnitOfWork) -> None:
            uow.enqueue(_queued("m-2"))
            uow.update_queued(attrs.evolve(_queued(), status=MessageStatus.SENT, sent_at=_T0))

        _aborted(store, write)

        with store.unit_of_work(write=False) as uow:
            _expect([_queued()], list(uow.outbox()), "the outbox after an aborted unit of work")

    # -- erasure -----------------------------------------------------------------------

    def test_forget_renames_the_customer_and_leaves_nothing_of_them_readable(self) -> None:
        store = self.fresh_store()
        service = _erasure_history(store)
        readable = _readable(store)
        for needle in (*_DETAILS, _FORGOTTEN):
            _expect(True, _mentions(readable, needle) != [], f"{needle!r} before forget()")
        with store.unit_of_work(write=False) as uow:
            kept = _kept(uow, _FORGOTTEN)

        _expect(True, service.forget(_FORGOTTEN, pseudonym=_PSEUDONYM), "forget()")

        with store.unit_of_work(write=False) as uow:
            _expect(None, uow.load(_FORGOTTEN), f"load({_FORGOTTEN!r}) after forget()")
            state = uow.load(_PSEUDONYM)
            _expect(Customer(_PSEUDONYM), None if state is None else state.customer, "profile")
            _expect(kept, _kept(uow, _PSEUDONYM), "what forget() keeps, under the pseudonym")
            referee = uow.load("bea")
            referrer = None if referee is None else referee.referred_by
            _expect(_PSEUDONYM, referrer, "who referred 'bea', after forget()")
            _expect([], list(uow.tasks(customer_id=_FORGOTTEN, open_only=False)), "old tasks")
            _expect([], list(uow.messages_of(_FORGOTTEN)), "the old id's messages")
            waiting = [item.key for item in uow.messages_of(_PSEUDONYM) if not item.status.final]
            _expect([], waiting, "messages of the erased customer still to be sent")
        for needle in (*_DETAILS, _FORGOTTEN):
            found = _mentions(_readable(store), needle)
            _expect([], found, f"what is readable of {needle!r} after forget()")


# -- erasure: a customer with a history, forgotten --------------------------------------

# An id that nothing else holds, and what the customer's profiles said, first and later.
_FORGOTTEN = "ann-7f3c"
_PSEUDONYM = "erased-7f3c"
_DETAILS = ("Ann Oldname", "ann.old@example.com", "Ann Newname", "ann.new@example.com", "7946")


def _bounce(message: Outgoing) -> Delivery:
    """A mail server that refuses the address, echoing it upper-cased."""
    return Delivery.failed(f"550 <{(message.to or '').upper()}>: no such mailbox")


def _erasure_history(store: Store) -> RetentionService:
    """A customer's history on ``store``, through the service: a profile whose email
    bounced and a later one, purchases, a visit, points adjusted, redeemed and held, a
    consent, a complaint with a follow-up task, and a friend they referred, who bought."""
    clock = FixedClock(_T0)
    program = Program(
        referrals=_REFERRALS,
        recovery=RecoveryPolicy(follow_up=FollowUp(owner=_OWNERS[0])),
        currency="EUR",
    )
    service = RetentionService(program, store, clock, notifier=RecordingNotifier(answer=_bounce))
    first = Customer(_FORGOTTEN, name="Ann Oldname", email="ann.old@example.com")
    service.save_customer(attrs.evolve(first, phone="+44 20 7946 0001"))
    service.queue(Message(key=f"note:{_FORGOTTEN}", customer_id=_FORGOTTEN, template="welcome"))
    service.dispatch()
    service.save_customer(Customer(_FORGOTTEN, name="Ann Newname", email="ann.new@example.com"))
    amount = Decimal("40.00")
    service.record(
        Purchase(
            id="o-ann",
            customer_id=_FORGOTTEN,
            at=clock.now(),
            amount=amount,
            currency="EUR",
            channel="phone +442079460001",
        )
    )
    service.record(
        Visit(id="v-ann", customer_id=_FORGOTTEN, at=clock.now(), location="ANN NEWNAME")
    )
    service.adjust(_FORGOTTEN, 5, reason="goodwill for Ann Newname", key="adj-ann")
    service.redeem(_FORGOTTEN, 10, key="red-ann", reason="cake for Ann Newname")
    service.hold(_FORGOTTEN, 5, key="hold-ann", expires_at=_T0 + timedelta(days=1))
    source = "signed up as ann.new@example.com"
    service.set_consent(_FORGOTTEN, "email", granted=True, source=source, key="consent-ann")
    text = "Ann Newname: my cake was cold"
    filed = ComplaintFiled(
        id="cmp-ann", customer_id=_FORGOTTEN, at=_T0, category="cold", severity="high", text=text
    )
    service.record(filed)
    service.record(
        ComplaintResolved(
            id="res-ann",
            customer_id=_FORGOTTEN,
            at=_T0,
            complaint_id="cmp-ann",
            resolution="called Ann Newname",
        )
    )
    service.record(Referral(id="ref-bea", customer_id="bea", at=_T0, referrer_id=_FORGOTTEN))
    service.record(Purchase(id="o-bea", customer_id="bea", at=_T0, amount=amount, currency="EUR"))
    return service


def _kept(uow: UnitOfWork, customer_id: str) -> tuple[object, ...]:
    """What erasure keeps of a customer (under their pseudonym): their points, their
    statement's amounts and dates, their records' amounts, how many tasks and messages."""
    ledger = uow.load_ledger(customer_id)
    records = (uow.purchase("o-ann"), uow.hold("hold-ann"), uow.redemption("red-ann"))
    return (
        None if ledger is None else ledgers.balance(ledger, _T0),
        [(entry.kind, entry.points, entry.at) for entry in uow.entries(customer_id)],
        [None if record is None else _customer_of(record) == customer_id for record in records],
        len(uow.tasks(customer_id=customer_id, open_only=False)),
        len(uow.messages_of(customer_id)),
    )


def _customer_of(record: Record) -> str:
    if isinstance(record, PurchaseRecord):
        return record.purchase.customer_id
    return record.customer_id


def _readable(store: Store) -> list[str]:
    """Every text the store gives back through the port: each customer's state and
    statement, the log, the records, the outbox and the tasks."""
    with store.unit_of_work(write=False) as uow:
        found: list[object] = [list(uow.log()), list(uow.outbox())]
        found.append(list(uow.tasks(open_only=False)))
        for customer_id in uow.customer_ids():
            found.extend((customer_id, uow.load(customer_id), list(uow.entries(customer_id))))
        for key in ("o-ann", "o-bea", "hold-ann", "red-ann"):
            found.extend((uow.purchase(key), uow.hold(key), uow.redemption(key)))
    return list(_texts(found))


def _texts(value: object) -> Iterable[str]:
    """Every string inside ``value``: in attrs values, tuples, lists, sets and maps."""
    if isinstance(value, str):
        yield value
    elif attrs.has(type(value)):
        for field in attrs.fields(cast("Any", type(value))):
            yield from _texts(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


def _mentions(texts: Iterable[str], needle: str) -> list[str]:
    """The texts that hold ``needle``, in any case."""
    folded = needle.casefold()
    return [text for text in texts if folded in text.casefold()]
