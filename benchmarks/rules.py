"""Benchmark the rules engine: a 12-rule program, indexing by event type, one condition.

Run it with ``.venv/bin/python benchmarks/rules.py`` (``make bench`` runs it after
``benchmarks/ledger.py``); ``--quick`` runs a tenth of the purchases, ``--check`` exits 1
when a goal is missed. What is measured and what the baselines do is explained in
``benchmarks/README.md``.

1. A 12-rule program (points per spend, multipliers by tier, tag and day, a punch card, a
   tier ladder on rolling spend, limits, a window, an exclusive rule, a group) over
   purchases spread over a year, against a hand-written plain-Python function giving the
   same results, checked customer by customer. Through ``RetentionService.record()`` on a
   ``MemoryStore``, and through the pure core alone (``Program.decide()`` and
   ``Program.apply()``, the states kept in a dict).
   Goals: the pure core within 2x of the hand-written function, ``record()`` within 4x.
2. Indexing by event type: ``Program.decide()`` of a sample of the same purchases (with
   the state before each) with the 12-rule program and with 120 rules of which the same
   12 are for purchases. Goal: 120 rules at most 1.3x the time of 12.
3. One condition in text form, compiled by custbond, against a hand-written lambda and
   the peers (rule-engine, simpleeval, common-expression-language, panzi-json-logic, the
   ``bench`` extra), each given what it needs per event.
   Goals: at least 10x faster than every peer, within 3x of the lambda.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import io
import multiprocessing
import os
import platform
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from dateutil import tz
from dateutil.relativedelta import relativedelta
from ledger import GcTimer  # benchmarks/ledger.py, beside this file

from custbond import (
    Customer,
    CustomerState,
    FixedClock,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
)
from custbond.bonds import Level, PunchCard, TierLadder
from custbond.rules import (
    FixedPoints,
    Group,
    Limit,
    Multiplier,
    PointsPerSpend,
    Rule,
    Window,
    event,
    local,
    parse_condition,
    state,
)
from custbond.rules.facts import Facts
from custbond.rules.trace import Verdict
from custbond.vouchers import VoucherOffer

# CPU time of this process: the same as wall time on an idle machine, and not inflated by
# other processes competing for the CPU on a busy one.
cpu_time = time.process_time

T = TypeVar("T")

CORE_GOAL = 2.0  # decide() + apply() at most this many times slower than by hand
RECORD_GOAL = 4.0  # record() at most this many times slower than by hand
INDEX_GOAL = 1.3  # decide() with 120 rules at most this many times slower than with 12
PEER_GOAL = 10.0  # the compiled condition at least this many times faster than each peer
LAMBDA_GOAL = 3.0  # the compiled condition at most this many times slower than a lambda

START = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 20260101

# -- the program ---------------------------------------------------------------------------

HOME = "Europe/London"  # the program's time zone, for customers without one
HOME_ZONE: tzinfo = tz.gettz(HOME)  # type: ignore[assignment]
ZONES = (None, "Europe/Paris", "America/New_York")  # customer n has ZONES[n % 3]

WELCOME = 100  # points for a first purchase, instead of every other rule but the base one
PASTRY_POINTS = 2  # more spend points per USD spent on pastries
HAPPY_HOUR = 15  # points on Fridays from 16:00 to 18:00, local time
BIG_BASKET, BIG_BASKET_FROM = 25, Decimal(30)  # points for a basket of 30+, once a week
MISSED, MISSED_AFTER = 50, 30  # points for coming back after 30 days or more
SILVER_SPEND, GOLD_SPEND = Decimal(150), Decimal(600)  # in the last 12 months
SILVER_FACTOR, GOLD_FACTOR = Decimal("1.25"), Decimal(2)
BEANS_FACTOR, APP_FACTOR, TUESDAY_FACTOR = Decimal(2), Decimal("1.5"), Decimal(2)
TUESDAYS_PER_MONTH = 2
CARD_STAMPS = 10
CARD_LAPSES = relativedelta(months=6)
VOUCHER_VALID = relativedelta(months=3)
TIER_WINDOW = relativedelta(months=12)
TIER_KEPT = relativedelta(months=12)
TIER_GRACE = timedelta(days=30)

COFFEE_CARD = PunchCard(
    "coffee",
    stamps=CARD_STAMPS,
    tag="coffee",
    reward=VoucherOffer("free coffee", sku="latte", valid_for=VOUCHER_VALID),
    expire_after=CARD_LAPSES,
)
LADDER = TierLadder(
    levels=[
        Level("silver", spend=SILVER_SPEND, multiplier=SILVER_FACTOR),
        Level("gold", spend=GOLD_SPEND, multiplier=GOLD_FACTOR),
    ],
    window=TIER_WINDOW,
    keep_for=TIER_KEPT,
    grace=TIER_GRACE,
)
RULES = (
    Rule(
        "welcome",
        on="Purchase",
        when=state.purchases == 0,
        then=[FixedPoints(WELCOME)],
        priority=10,
        exclusive=True,
    ),
    Rule(
        "pastry points",
        on="Purchase",
        then=[PointsPerSpend(points=PASTRY_POINTS, tag="pastry")],
    ),
    Rule(
        "beans double",
        on="Purchase",
        when=event.has_tag("beans"),
        then=[Multiplier(BEANS_FACTOR)],
    ),
    Rule(
        "double tuesdays",
        on="Purchase",
        when=local.weekday == "TU",
        then=[Multiplier(TUESDAY_FACTOR)],
        limits=[Limit(TUESDAYS_PER_MONTH, per="month")],
        group="promos",
    ),
    Rule(
        "app bonus",
        on="Purchase",
        when=event.channel == "app",
        then=[Multiplier(APP_FACTOR)],
        group="promos",
    ),
    Rule(
        "happy hour",
        on="Purchase",
        then=[FixedPoints(HAPPY_HOUR)],
        window=Window(recurrence="FREQ=WEEKLY;BYDAY=FR;BYHOUR=16", lasting=timedelta(hours=2)),
    ),
    Rule(
        "big basket",
        on="Purchase",
        when=event.amount >= BIG_BASKET_FROM,
        then=[FixedPoints(BIG_BASKET)],
        limits=[Limit(1, per="week")],
    ),
    Rule(
        "we missed you",
        on="Purchase",
        when=state.days_since_last_purchase >= MISSED_AFTER,
        then=[FixedPoints(MISSED)],
    ),
)


def make_program(extra: Sequence[Rule] = ()) -> Program:
    """The 12-rule program: the base earning rule, 8 rules, the card's rule and the two
    tier multipliers; with ``extra`` rules for other events."""
    return Program(
        earn=PointsPerSpend(points=1),
        rules=[*RULES, *extra],
        groups=[Group("promos", take="best")],
        cards=[COFFEE_CARD],
        tiers=LADDER,
        time_zone=HOME,
    )


def other_rules() -> list[Rule]:
    """108 rules for visits, signups and custom events: none of them is for purchases."""
    rules = []
    for n in range(36):
        rules.append(
            Rule(
                f"visit {n}",
                on="Visit",
                when=(local.hour == n % 24) & (event.location == f"store {n}"),
                then=[FixedPoints(5)],
            )
        )
        rules.append(
            Rule(
                f"signup {n}",
                on="Signup",
                when=local.month == n % 12 + 1,
                then=[FixedPoints(n + 1)],
            )
        )
        rules.append(
            Rule(
                f"quest {n}",
                on="CustomEvent",
                when=event.name == f"quest {n}",
                then=[FixedPoints(20)],
            )
        )
    return rules


PROGRAM = make_program()
PROGRAM_120 = make_program(other_rules())
# For information: the same program with the happy hour written as a condition on the
# local time instead of a Window (the same decisions, checked).
PROGRAM_NO_WINDOW = Program(
    earn=PROGRAM.earn,
    rules=[
        attrs.evolve(
            rule,
            window=None,
            when=(local.weekday == "FR") & (local.hour >= 16) & (local.hour < 18),
        )
        if rule.name == "happy hour"
        else rule
        for rule in RULES
    ],
    groups=PROGRAM.groups,
    cards=PROGRAM.cards,
    tiers=PROGRAM.tiers,
    time_zone=HOME,
)
assert len(PROGRAM.all_rules()) == 12
assert len(PROGRAM_120.all_rules()) == 120
assert sum("Purchase" in rule.on for rule in PROGRAM_120.all_rules()) == 12

# -- the workload --------------------------------------------------------------------------

MENU = (  # sku, unit price, tags, weight
    ("latte", "4.50", {"coffee"}, 6),
    ("espresso", "3.00", {"coffee"}, 4),
    ("cappuccino", "4.20", {"coffee"}, 4),
    ("croissant", "3.20", {"pastry"}, 3),
    ("muffin", "3.80", {"pastry"}, 2),
    ("sandwich", "7.50", {"food"}, 3),
    ("beans", "14.90", {"beans"}, 1),
    ("mug", "18.00", {"merch"}, 1),
)


@attrs.frozen
class Scale:
    purchases: int
    customers: int
    sample: int = 50  # the indexing comparison decides every 50th purchase again
    # Prepared events for the one-condition comparison: few enough to stay in the CPU's
    # caches, so that the figures are the evaluation's and not the memory's.
    conditions: int = 2_000
    baseline_repeats: int = 3
    repeats: int = 101  # passes over the prepared events, for custbond and the lambda
    peer_repeats: int = 11


FULL = Scale(purchases=500_000, customers=20_000)
QUICK = Scale(
    purchases=50_000,
    customers=2_000,
    sample=10,
    repeats=51,
    peer_repeats=5,
)


def zone_name(n: int) -> str | None:
    return ZONES[n % len(ZONES)]


def make_customers(customers: int) -> dict[str, Customer]:
    """The profiles of the customers who have a time zone of their own (two in three)."""
    return {
        f"c-{n}": Customer(f"c-{n}", time_zone=zone_name(n))
        for n in range(customers)
        if zone_name(n) is not None
    }


def make_purchases(count: int, customers: int) -> list[Purchase]:
    """``count`` purchases of 1 to 3 lines from the menu, in time order over one year.

    Four in five are by any customer; one in five by the first tenth of them (regulars,
    who buy three and a half times as often as the others; many reach the gold tier).
    About one in four is made in the app."""
    rng = random.Random(SEED)
    lines = {
        (sku, quantity): LineItem(sku, quantity, Decimal(price), tags=tags)
        for sku, price, tags, _ in MENU
        for quantity in (1, 2, 3)
    }
    skus = [sku for sku, *_ in MENU]
    weights = [weight for *_, weight in MENU]
    regulars = max(1, customers // 10)
    step = timedelta(days=365) / count
    purchases = []
    for n in range(count):
        who = rng.randrange(regulars if rng.random() < 0.2 else customers)
        chosen = dict.fromkeys(rng.choices(skus, weights, k=rng.choice((1, 1, 2, 2, 3))))
        items = tuple(lines[sku, rng.choice((1, 1, 1, 2, 3))] for sku in chosen)
        purchases.append(
            Purchase(
                id=f"o-{n}",
                customer_id=f"c-{who}",
                at=START + n * step,
                amount=sum((item.total for item in items), Decimal(0)),
                currency="USD",
                items=items,
                channel="app" if rng.random() < 0.25 else "store",
            )
        )
    return purchases


# -- timing --------------------------------------------------------------------------------


@contextmanager
def frozen_input() -> Iterator[None]:
    """Keep what was built so far (the harness's input) out of the collector's reach."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- (1) the hand-written 12 rules ---------------------------------------------------------

# What a customer ends with, on both sides: earned points, stamps on the card, the card's
# vouchers (code and expiry), the tier and when it is reviewed.
Result = tuple[int, int, frozenset[tuple[str, datetime]], str | None, datetime | None]

_RANKS = {None: -1, "silver": 0, "gold": 1}


class Buyer:
    """What the hand-written rules keep about one customer."""

    __slots__ = (
        "basket_uses",
        "basket_week",
        "days",
        "earned",
        "last_day",
        "lots",
        "purchases",
        "review_at",
        "stamps",
        "started",
        "tier",
        "tier_since",
        "tier_until",
        "tuesday_month",
        "tuesday_uses",
        "vouchers",
        "window_spend",
        "zone",
    )

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.purchases = 0
        self.last_day: date | None = None  # local day of the last purchase
        self.earned = 0
        self.lots: list[tuple[str, int, datetime]] = []
        self.stamps = 0
        self.started: datetime | None = None  # the card's first stamp
        self.vouchers: dict[str, tuple[str, datetime, datetime]] = {}  # code: sku, from, to
        self.tier: str | None = None
        self.tier_since: datetime | None = None
        self.tier_until: datetime | None = None
        self.review_at: datetime | None = None
        self.days: deque[list[Any]] = deque()  # [local day, spend], oldest first
        self.window_spend = Decimal(0)
        self.tuesday_month = (0, 0)  # (year, month) the Tuesday uses are counted in
        self.tuesday_uses = 0
        self.basket_week = date.min  # the Monday the big basket use is counted from
        self.basket_uses = 0

    def result(self) -> Result:
        vouchers = frozenset((code, ends) for code, (_, _, ends) in self.vouchers.items())
        return (self.earned, self.stamps, vouchers, self.tier, self.review_at)


def points_by_hand(buyer: Buyer, purchase: Purchase, local: datetime, today: date) -> int:
    """The points of one purchase (not a first one), and the limits' uses."""
    amount = purchase.amount
    pastry = Decimal(0)
    beans = False
    for item in purchase.items:
        tags = item.tags
        if "pastry" in tags:
            pastry += item.unit_price * item.quantity
        if "beans" in tags:
            beans = True
    spend = amount + PASTRY_POINTS * pastry  # 1 point per USD, 2 more per USD of pastries
    factor = Decimal(1)
    if buyer.tier == "gold":
        factor = GOLD_FACTOR
    elif buyer.tier == "silver":
        factor = SILVER_FACTOR
    if beans:
        factor *= BEANS_FACTOR
    weekday = local.weekday()
    fixed = 0
    if weekday == 4 and 16 <= local.hour < 18:  # Fridays from 16:00 to 18:00
        fixed += HAPPY_HOUR
    if amount >= BIG_BASKET_FROM:  # once per calendar week (from Monday)
        monday = today - timedelta(days=weekday)
        if buyer.basket_week != monday:
            buyer.basket_week, buyer.basket_uses = monday, 0
        if not buyer.basket_uses:
            buyer.basket_uses = 1
            fixed += BIG_BASKET
    if buyer.last_day is not None and (today - buyer.last_day).days >= MISSED_AFTER:
        fixed += MISSED
    # The promos group takes the better of the app bonus and double Tuesdays; a tie goes
    # to the app bonus (considered first, by name). A Tuesday counts once it is taken.
    app = purchase.channel == "app"
    tuesday = False
    if weekday == 1:
        month = (local.year, local.month)
        if buyer.tuesday_month != month:
            buyer.tuesday_month, buyer.tuesday_uses = month, 0
        tuesday = buyer.tuesday_uses < TUESDAYS_PER_MONTH
    if tuesday and app:
        tuesday = int(spend * factor * TUESDAY_FACTOR) > int(spend * factor * APP_FACTOR)
    if tuesday:
        buyer.tuesday_uses += 1
        factor *= TUESDAY_FACTOR
    elif app:
        factor *= APP_FACTOR
    return int(spend * factor) + fixed  # rounded down once


def on_calendar(at: datetime, duration: relativedelta, zone: tzinfo) -> datetime:
    """``at + duration`` on the calendar of ``zone`` (the program's for cards and vouchers,
    the customer's for tiers), whatever zone ``at`` is written in, as custbond adds it."""
    return (at.astimezone(zone) + duration).astimezone(at.tzinfo)


def punch_by_hand(buyer: Buyer, purchase: Purchase, stamps: int) -> None:
    """The coffee card: lapse, stamps, a voucher per full card, carry-over."""
    at = purchase.at
    have, started = buyer.stamps, buyer.started
    if have and started is not None and at >= on_calendar(started, CARD_LAPSES, HOME_ZONE):
        have, started = 0, None
    total = have + stamps
    if started is None:
        started = at
    filled = 0
    while total >= CARD_STAMPS:
        total -= CARD_STAMPS
        filled += 1
        text = "\x1f".join((purchase.customer_id, "coffee", purchase.id, str(filled)))
        code = hashlib.blake2s(text.encode(), digest_size=6).hexdigest().upper()
        buyer.vouchers[code] = ("latte", at, on_calendar(at, VOUCHER_VALID, HOME_ZONE))
        started = at if total else None
    buyer.stamps, buyer.started = total, started


def climb_by_hand(buyer: Buyer, at: datetime, today: date, amount: Decimal) -> None:
    """The tier ladder: add the purchase to the rolling 12 months and move up (or keep
    the tier longer) when they reach a level."""
    first = today - TIER_WINDOW + timedelta(days=1)
    days = buyer.days
    while days and days[0][0] < first:
        buyer.window_spend -= days.popleft()[1]
    if days and days[-1][0] == today:
        days[-1][1] += amount
    else:
        days.append([today, amount])
    buyer.window_spend += amount
    spend = buyer.window_spend
    level = "gold" if spend >= GOLD_SPEND else "silver" if spend >= SILVER_SPEND else None
    if level is None:
        return
    rank, current = _RANKS[level], _RANKS[buyer.tier]
    until = on_calendar(at, TIER_KEPT, buyer.zone)
    review = until + TIER_GRACE  # exact: added as Python adds it
    if rank > current:
        buyer.tier, buyer.tier_since, buyer.tier_until, buyer.review_at = level, at, until, review
    elif rank == current and (buyer.review_at is None or review > buyer.review_at):
        buyer.tier_until, buyer.review_at = until, review


def run_by_hand(
    purchases: Sequence[Purchase], zones: dict[str, tzinfo], home: tzinfo
) -> tuple[float, float, dict[str, Result]]:
    """The 12 rules written by hand: dedupe the id, work out the local time, then the
    rules in the program's order (the welcome rule stops the others on a first purchase),
    the card, the points as a lot, the activity and the tier.

    Returns (seconds, of which in the garbage collector, what each customer ends with)."""
    seen: dict[str, int] = {}
    buyers: dict[str, Buyer] = {}
    with GcTimer().measure() as collector:
        started = cpu_time()
        for purchase in purchases:
            if purchase.id in seen:
                continue
            customer_id, at = purchase.customer_id, purchase.at
            buyer = buyers.get(customer_id)
            if buyer is None:
                buyer = buyers[customer_id] = Buyer(zones.get(customer_id, home))
            local = at.astimezone(buyer.zone)
            today = local.date()
            if buyer.purchases:
                points = points_by_hand(buyer, purchase, local, today)
                stamps = sum(item.quantity for item in purchase.items if "coffee" in item.tags)
                if stamps:
                    punch_by_hand(buyer, purchase, stamps)
            else:
                # Exclusive: no other rule, no stamps, but the base rule's 1 point per USD.
                points = WELCOME + int(purchase.amount)
            if points:
                buyer.lots.append((purchase.id, points, at))
                buyer.earned += points
            buyer.purchases += 1
            buyer.last_day = today
            climb_by_hand(buyer, at, today, purchase.amount)
            seen[purchase.id] = points
        seconds = cpu_time() - started
    return seconds, collector.seconds, {cid: b.result() for cid, b in buyers.items()}


# -- (1) custbond: the pure core and record() ----------------------------------------------


def result_of(customer_state: CustomerState) -> Result:
    vouchers = frozenset(
        (code, voucher.expires_at)
        for code, voucher in customer_state.vouchers.items()
        if voucher.source == "card coffee" and voucher.expires_at is not None
    )
    return (
        customer_state.ledger.earned,
        customer_state.stamps.get("coffee", 0),
        vouchers,
        customer_state.tier,
        customer_state.tier_review_at,
    )


def first_states(customers: dict[str, Customer]) -> dict[str, CustomerState]:
    return {cid: CustomerState(customer) for cid, customer in customers.items()}


Sample = list[tuple[CustomerState, Purchase]]


def run_core(
    purchases: Sequence[Purchase], customers: dict[str, Customer], every: int
) -> tuple[float, float, dict[str, CustomerState], Sample]:
    """``decide()`` and ``apply()`` for every purchase, the states kept in a dict.

    Returns (seconds, of which in gc, the states, and every ``every``-th purchase with
    the state before it: the indexing comparison decides those again)."""
    states = first_states(customers)
    sample: Sample = []
    decide, apply = PROGRAM.decide, PROGRAM.apply
    with GcTimer().measure() as collector:
        started = cpu_time()
        for n, purchase in enumerate(purchases):
            customer_id, at = purchase.customer_id, purchase.at
            before = states.get(customer_id)
            if before is None:
                before = CustomerState(Customer(customer_id))
            if not n % every:
                sample.append((before, purchase))
            states[customer_id], _ = apply(before, decide(before, purchase, at), at)
        seconds = cpu_time() - started
    return seconds, collector.seconds, states, sample


def run_record(
    purchases: Sequence[Purchase], customers: dict[str, Customer]
) -> tuple[float, float, RetentionService]:
    """``record()`` for every purchase on a MemoryStore, the clock set to each one's time;
    the profiles (with their time zones) saved before timing starts."""
    clock = FixedClock(START)
    service = RetentionService(PROGRAM, MemoryStore(), clock)
    for customer in customers.values():
        service.save_customer(customer)
    record, move_to = service.record, clock.set
    with GcTimer().measure() as collector:
        started = cpu_time()
        for purchase in purchases:
            move_to(purchase.at)
            record(purchase)
        seconds = cpu_time() - started
    return seconds, collector.seconds, service


def check_same(side: str, ours: dict[str, Result], by_hand: dict[str, Result]) -> None:
    """Both sides must have given every customer the same points, stamps, vouchers, tier."""
    if ours.keys() != by_hand.keys():
        sys.exit(f"{side}: {len(ours)} customers, by hand {len(by_hand)}")
    for customer_id, expected in by_hand.items():
        if ours[customer_id] != expected:
            sys.exit(
                f"{side}: mismatch for {customer_id}: custbond {ours[customer_id]}, "
                f"by hand {expected} (earned, stamps, vouchers, tier, review)"
            )


def stored_results(service: RetentionService, customer_ids: Sequence[str]) -> dict[str, Result]:
    """What each of ``customer_ids`` ends with, as the store has it."""
    results = {}
    for customer_id in customer_ids:
        with service.store.unit_of_work() as uow:
            found = uow.load(customer_id)
        assert found is not None
        results[customer_id] = result_of(found)
    return results


# -- the report ----------------------------------------------------------------------------

WIDTH = 56


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<{WIDTH}}{value:>18}  {note}".rstrip())


@attrs.frozen
class Goal:
    name: str
    value: float
    limit: float
    at_least: bool = False  # the value must be at least the limit (else at most)

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def verdict(self) -> str:
        sign = ">=" if self.at_least else "<="
        return f"goal {sign} {self.limit:g}x: {'met' if self.met else 'MISSED'}"


def per_event(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:6.2f} us/event"


def in_child(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` in a forked child process; the function returned waits for its
    result. CPU time is measured inside each process: two runs side by side on two CPUs
    gave the same figures as one after the other (within a few per cent)."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)

    def run() -> None:
        sending.send(work())
        sending.close()

    process = context.Process(target=run, daemon=True)  # ends if this process exits
    process.start()
    sending.close()

    def result() -> T:
        try:
            found: T = receiving.recv()
        except EOFError:
            sys.exit("record() failed in the child process (its traceback is above)")
        process.join()
        return found

    return result


def measure_program(scale: Scale, meanwhile: Callable[[Sample], T]) -> tuple[list[Goal], T]:
    """Section 1; ``meanwhile`` gets the sample of the pure core's run and runs while
    record() is still busy in the child process. Returns the goals and what it returns."""
    purchases = make_purchases(scale.purchases, scale.customers)
    customers = make_customers(scale.customers)
    zones: dict[str, tzinfo] = {}
    for cid, customer in customers.items():
        assert customer.time_zone is not None
        zones[cid] = tz.gettz(customer.time_zone)  # type: ignore[assignment]
    home: tzinfo = tz.gettz(HOME)  # type: ignore[assignment]
    count = len(purchases)
    buyers = sorted({purchase.customer_id for purchase in purchases})

    def record_and_read() -> tuple[float, float, dict[str, Result]]:
        seconds, in_gc, service = run_record(purchases, customers)
        return seconds, in_gc, stored_results(service, buyers)

    with frozen_input():
        # The hand-written rules first, alone. Then record() in a child process on the
        # second CPU while this one runs the pure core (one after the other on one CPU).
        runs = [run_by_hand(purchases, zones, home) for _ in range(scale.baseline_repeats)]
        hand_seconds, hand_gc, by_hand = min(runs, key=lambda run: run[0])
        del runs
        side_by_side = (os.cpu_count() or 1) > 1
        recorded = in_child(record_and_read) if side_by_side else record_and_read
        core_seconds, core_gc, states, sample = run_core(purchases, customers, scale.sample)
    check_same("decide/apply", {c: result_of(s) for c, s in states.items()}, by_hand)
    del states
    extra = meanwhile(sample)
    record_seconds, record_gc, stored = recorded()
    check_same("record()", stored, by_hand)

    tiers = [result[3] for result in by_hand.values()]
    vouchers = sum(len(result[2]) for result in by_hand.values())
    print(
        f"12 rules: {count:,} purchases by {len(by_hand):,} customers over a year "
        f"(in the end {tiers.count('gold'):,} gold, {tiers.count('silver'):,} silver, "
        f"{vouchers:,} coffee vouchers)"
    )
    for label, seconds, in_gc in (
        (f"hand-written rules (best of {scale.baseline_repeats})", hand_seconds, hand_gc),
        ("Program.decide() + Program.apply()", core_seconds, core_gc),
        ("RetentionService.record() on MemoryStore", record_seconds, record_gc),
    ):
        row(
            label,
            f"{count / seconds:,.0f} events/s",
            f"{per_event(seconds, count)}, {in_gc / count * 1e6:5.2f} of them in gc",
        )
    core = Goal("decide() + apply() / hand-written", core_seconds / hand_seconds, CORE_GOAL)
    record = Goal("record() / hand-written", record_seconds / hand_seconds, RECORD_GOAL)
    row(
        "ratio of decide() + apply() to the hand-written rules",
        f"{core.value:.2f}x",
        core.verdict(),
    )
    row("ratio of record() to the hand-written rules", f"{record.value:.2f}x", record.verdict())
    row(
        "ratio of record() to decide() + apply() (for information)",
        f"{record_seconds / core_seconds:.2f}x",
    )
    return [core, record], extra


# -- (2) indexing by event type ------------------------------------------------------------


def time_decide(program: Program, sample: Sample) -> float:
    decide = program.decide
    started = cpu_time()
    for before, purchase in sample:
        decide(before, purchase, purchase.at)
    return cpu_time() - started


def measure_index(scale: Scale, sample: Sample) -> list[Goal]:
    fired: Counter[str] = Counter()
    for before, purchase in sample:  # the same decisions, whatever else is there
        few = PROGRAM.decide(before, purchase, purchase.at)
        many = PROGRAM_120.decide(before, purchase, purchase.at)
        if few != many:
            sys.exit(f"120 rules decide {purchase.id} otherwise than 12:\n{many}\n{few}")
        if PROGRAM_NO_WINDOW.decide(before, purchase, purchase.at).effects != few.effects:
            sys.exit(f"happy hour as a condition decides {purchase.id} otherwise")
        fired.update(step.rule or "" for step in few.trace if step.verdict is Verdict.FIRED)
    with frozen_input():
        programs = {"12": PROGRAM, "120": PROGRAM_120, "no window": PROGRAM_NO_WINDOW}
        times: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(3):  # in turn, so that drift hits them alike
            for name, program in programs.items():
                times[name].append(time_decide(program, sample))
    few_seconds, many_seconds = min(times["12"]), min(times["120"])
    count = len(sample)
    print(
        f"Program.decide() of {count:,} purchases (every {scale.sample}th of section 1, with "
        "the state before it), best of 3"
    )
    print(
        "  rules fired per 100 of these purchases: "
        + ", ".join(
            f"{name} {fired[name] / count * 100:.1f}"
            for name in sorted(fired, key=lambda name: (-fired[name], name))
        )
    )
    row(
        "12 rules, all for purchases",
        f"{count / few_seconds:,.0f} events/s",
        per_event(few_seconds, count),
    )
    row(
        "120 rules, 12 for purchases, 108 for other events",
        f"{count / many_seconds:,.0f} events/s",
        per_event(many_seconds, count),
    )
    goal = Goal("decide() with 120 rules / 12 rules", many_seconds / few_seconds, INDEX_GOAL)
    row("ratio", f"{goal.value:.2f}x", goal.verdict())
    plain = min(times["no window"])
    row(
        "12 rules, happy hour as a condition, no window (info)",
        f"{count / plain:,.0f} events/s",
        per_event(plain, count),
    )
    return [goal]


# -- (3) one condition ---------------------------------------------------------------------

TEXT = "event.amount >= 50 and customer.tier == 'gold' and local.weekday == 'TU'"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def prepared_facts(count: int) -> list[Facts]:
    """``count`` purchases, each with a customer's state and the event's local time
    worked out: amounts from 40.00 to 59.99 (50.00 and 49.99 included), no tier,
    silver or gold, any day of the week."""
    rng = random.Random(f"{SEED}-condition")
    prepared = []
    for n in range(count):
        cents = (5000, 4999)[n] if n < 2 else rng.randrange(4000, 6000)
        at = START + timedelta(seconds=rng.randrange(365 * 86400))
        purchase = Purchase(
            id=f"o-{n}",
            customer_id=f"c-{n}",
            at=at,
            amount=Decimal(cents).scaleb(-2),
            currency="USD",
        )
        zone_text = zone_name(n) or HOME
        tier = rng.choice((None, "silver", "gold", "gold"))
        before = CustomerState(Customer(f"c-{n}", time_zone=zone_text), tier=tier)
        facts = Facts(purchase, before, at, tz.gettz(zone_text))  # type: ignore[arg-type]
        _ = facts.local  # worked out once, like every other part of the prepared data
        prepared.append(facts)
    return prepared


def as_dict(facts: Facts) -> dict[str, dict[str, Any]]:
    """The context the peers read, from the prepared facts: what each of them is given."""
    return {
        "event": {"amount": facts.event.amount},
        "customer": {"tier": facts.state.tier},
        "local": {"weekday": WEEKDAYS[facts.local.weekday()]},
    }


def holds_when_none(result: object) -> bool:
    return result is None


def custbond_evaluators() -> dict[str, tuple[Callable[[Facts], Any], Callable[[Any], bool]]]:
    """The hand-written lambda, custbond's compiled condition and, for information, what
    the engine pays per event and the plain interpreter: each with how its answer says
    that the condition holds."""
    condition = parse_condition(TEXT)
    check = condition.compile()  # None when the condition holds, else the part that failed

    def by_hand(facts: Facts) -> bool:
        return (
            facts.event.amount >= 50
            and facts.state.tier == "gold"
            and WEEKDAYS[facts.local.weekday()] == "TU"
        )

    def fresh(facts: Facts) -> Any:  # as the engine does per event: new Facts, local time
        return check(Facts(facts.event, facts.state, facts.at, facts.zone))

    return {
        "lambda": (by_hand, bool),
        "custbond compiled": (check, holds_when_none),
        "custbond compiled, Facts built per event (info)": (fresh, holds_when_none),
        "custbond Condition.evaluate() (info)": (condition.evaluate, bool),
    }


# A peer: whether it holds, given the prepared facts (it builds its context from them),
# and given a context built before timing.
Peer = tuple[Callable[[Facts], Any], Callable[[dict[str, Any]], Any]]


def peer_evaluators() -> dict[str, Peer | None]:
    """The peers, None for those not installed (the ``bench`` extra installs them)."""
    found: dict[str, Any] = {}
    for module in ("rule_engine", "simpleeval", "cel", "json_logic"):
        try:
            found[module] = importlib.import_module(module)
        except ImportError:
            found[module] = None
    peers: dict[str, Peer | None] = dict.fromkeys(
        ("rule-engine", "simpleeval", "common-expression-language", "panzi-json-logic")
    )
    if (rule_engine := found["rule_engine"]) is not None:
        matches = rule_engine.Rule(
            "event['amount'] >= 50 and customer['tier'] == 'gold' and local['weekday'] == 'TU'"
        ).matches
        peers["rule-engine"] = (lambda f: matches(as_dict(f)), matches)
    if (simpleeval := found["simpleeval"]) is not None:
        evaluator = simpleeval.SimpleEval()
        node = evaluator.parse(TEXT)

        def simple(context: dict[str, Any]) -> Any:
            evaluator.names = context
            return evaluator.eval(TEXT, previously_parsed=node)

        peers["simpleeval"] = (lambda f: simple(as_dict(f)), simple)
    if (cel := found["cel"]) is not None:
        execute = cel.compile(
            "event.amount >= 50 && customer.tier == 'gold' && local.weekday == 'TU'"
        ).execute
        peers["common-expression-language"] = (lambda f: execute(as_dict(f)), execute)
    if (json_logic := found["json_logic"]) is not None:
        logic = {
            "and": [
                {">=": [{"var": "event.amount"}, 50]},
                {"==": [{"var": "customer.tier"}, "gold"]},
                {"==": [{"var": "local.weekday"}, "TU"]},
            ]
        }
        apply = json_logic.jsonLogic
        peers["panzi-json-logic"] = (
            lambda f: apply(logic, as_dict(f)),
            lambda context: apply(logic, context),
        )
    return peers


def best_times(
    runs: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]], repeats: int
) -> dict[str, float]:
    """Seconds per item for each (call, items): the best of ``repeats`` rounds after one
    to warm up; in each round every call makes one pass over its items, in turn, so that
    a noisy moment does not hit one of them only."""
    best = dict.fromkeys(runs, float("inf"))
    for round_ in range(repeats + 1):
        for name, (call, items) in runs.items():
            started = cpu_time()
            for item in items:
                call(item)
            if round_:
                best[name] = min(best[name], cpu_time() - started)
    return {name: best[name] / len(runs[name][1]) for name in runs}


def check_agree(
    ours: dict[str, tuple[Callable[[Facts], Any], Callable[[Any], bool]]],
    peers: dict[str, Peer | None],
    facts: Sequence[Facts],
    contexts: Sequence[dict[str, Any]],
) -> list[bool]:
    """Every evaluator must say the same as the lambda on every prepared event."""
    expected = [ours["lambda"][0](f) for f in facts]
    answers = {name: [holds(call(f)) for f in facts] for name, (call, holds) in ours.items()}
    for name, peer in peers.items():
        if peer is not None:
            answers[name] = [bool(peer[0](f)) for f in facts]
            answers[f"{name} (context prebuilt)"] = [bool(peer[1](c)) for c in contexts]
    for name, got in answers.items():
        if got != expected:
            wrong = next(n for n, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            sys.exit(f"{name} disagrees with the lambda on {contexts[wrong]}: {got[wrong]}")
    return expected


def measure_condition(scale: Scale) -> tuple[list[Goal], list[str]]:
    """The goals measured, and the peers not installed (whose goals are not)."""
    facts = prepared_facts(scale.conditions)
    contexts = [as_dict(f) for f in facts]
    ours = custbond_evaluators()
    peers = peer_evaluators()
    expected = check_agree(ours, peers, facts, contexts)
    print(
        f"One condition, {scale.conditions:,} prepared events ({sum(expected):,} true), "
        f"best of {scale.repeats} passes (peers: {scale.peer_repeats}):\n  {TEXT}"
    )
    with frozen_input():
        timings = best_times({name: (ev[0], facts) for name, ev in ours.items()}, scale.repeats)
        peer_runs: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]] = {}
        for name, peer in peers.items():
            if peer is not None:
                peer_runs[name] = (peer[0], facts)
                peer_runs[f"{name} (context prebuilt)"] = (peer[1], contexts)
        peer_timings = best_times(peer_runs, scale.peer_repeats)

    compiled = timings["custbond compiled"]
    for name, seconds in timings.items():
        note = "" if name == "custbond compiled" else f"{seconds / compiled:5.2f}x the compiled"
        row(name, f"{seconds * 1e6:.3f} us/event", note)
    lam = Goal("compiled condition / lambda", compiled / timings["lambda"], LAMBDA_GOAL)
    row("ratio of the compiled condition to the lambda", f"{lam.value:.2f}x", lam.verdict())
    goals = [lam]
    print("  peers, each building its context from the prepared event (prebuilt: for information)")
    for name, peer in peers.items():
        if peer is None:
            row(name, "not installed")
            continue
        each, prebuilt = peer_timings[name], peer_timings[f"{name} (context prebuilt)"]
        row(name, f"{each * 1e6:.2f} us/event", f"prebuilt {prebuilt * 1e6:.2f}")
        goal = Goal(f"{name} / compiled condition", each / compiled, PEER_GOAL, at_least=True)
        row(f"  {name} / compiled condition", f"{goal.value:.1f}x", goal.verdict())
        goals.append(goal)
    return goals, [name for name, peer in peers.items() if peer is None]


# -- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the rules engine.")
    parser.add_argument("--quick", action="store_true", help="a tenth of the purchases")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL

    print(
        f"custbond rules benchmark{' --quick' if args.quick else ''}: "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    # Section 3 first, in a heap that nothing has churned yet, before our other runs; its
    # report is printed last. Then section 1, with section 2 running while record() is
    # busy in the child process; its report is printed after section 1's.
    condition_report, index_report = io.StringIO(), io.StringIO()
    with redirect_stdout(condition_report):
        print()
        condition_goals, not_installed = measure_condition(scale)

    def meanwhile(sample: Sample) -> list[Goal]:
        with redirect_stdout(index_report):
            print()
            return measure_index(scale, sample)

    print()
    goals, index_goals = measure_program(scale, meanwhile)
    print(index_report.getvalue(), end="")
    print(condition_report.getvalue(), end="")
    goals += index_goals + condition_goals
    print()
    print("Goals")
    for goal in goals:
        row(goal.name, f"{goal.value:.2f}x", goal.verdict())
    for name in not_installed:
        row(f"{name} / compiled condition", "not measured", "(pip install -e '.[bench]')")
    missed = [goal for goal in goals if not goal.met]
    print(f"  {len(goals) - len(missed)} of {len(goals)} goals met")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
