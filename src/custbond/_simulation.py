"""Replaying past purchases through a program: what ``custbond simulate`` reports.

:func:`simulate` records each purchase, in time order, with a :class:`~custbond.
RetentionService` over a :class:`~custbond.MemoryStore` whose :class:`~custbond.FixedClock`
is set to the purchase's time, and sums up what the program gave: points, firings of
each rule, stamps, vouchers, and where customers stand at the end.

What a rule gave in points is told by taking it away: for each purchase on which it
fired, the points the program gives minus the points the program without that rule would
have given (all else as it was at that moment). So a multiplier is credited with the
extra points it gave, and a rule in a group that takes the best one with what it gave
over the runner-up. Rules that combine (a multiplier over a rate) are each credited with
what they add, so these numbers can add up to more than the points issued.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import Program, Purchase
>>> from custbond.rules import Multiplier, Rule
>>> program = Program(rules=[Rule("double", on="Purchase", then=[Multiplier(2)])])
>>> at = datetime(2026, 5, 5, 9, tzinfo=timezone.utc)
>>> order = Purchase(id="o-1", customer_id="ada", at=at, amount=Decimal("12.40"),
...                  currency="USD")
>>> result = simulate(program, [order])
>>> result.points, [(rule.name, rule.fired, rule.points) for rule in result.rules]
(24, [('double', 1, 12), ('points per spend', 1, 24)])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, localcontext

import attrs

from custbond._validate import minor_units
from custbond.clock import FixedClock
from custbond.effects import EarnPoints, Effect, IssueVoucher
from custbond.errors import CustbondError
from custbond.events import Purchase
from custbond.outcome import Outcome
from custbond.program import BASE_RULE, Program
from custbond.rules.effects import FixedPoints, Multiplier, PointsPerItem, PointsPerSpend, Stamps
from custbond.rules.rule import Rule
from custbond.service import RetentionService
from custbond.storage.memory import MemoryStore
from custbond.vouchers import Voucher

__all__ = [
    "CustomerTally",
    "PointsValue",
    "RuleTally",
    "Simulation",
    "VoucherTally",
    "points_earned",
    "simulate",
]

_POINTS_EFFECTS = (PointsPerSpend, PointsPerItem, FixedPoints, Multiplier)
_NO_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # where the clock stands when nothing happens


@attrs.frozen
class RuleTally:
    """What one rule did: how many purchases it ``fired`` for, the ``points`` it added
    and the ``stamps`` it gave (each None for a rule that gives none)."""

    name: str
    fired: int
    points: int | None
    stamps: int | None


@attrs.frozen
class VoucherTally:
    """How many vouchers named ``name`` were issued, and what they are worth together
    (at most: a voucher for an item is worth up to its value); None when they have no
    value."""

    name: str
    issued: int
    value: Decimal | None


@attrs.frozen
class CustomerTally:
    """One customer: their ``purchases``, what they spent, the ``points`` they earned, and
    their ``tier`` at the end."""

    customer_id: str
    purchases: int
    spend: Decimal
    points: int
    tier: str | None


@attrs.frozen
class PointsValue:
    """What points are worth at the catalog's best rate: ``reward`` gives a voucher worth
    up to ``reward_value`` for ``reward_points``; so the points are worth up to ``value``
    (rounded down to the currency's minor unit)."""

    reward: str
    reward_points: int
    reward_value: Decimal
    value: Decimal


@attrs.frozen
class Simulation:
    """What a program gave over a history of purchases.

    ``purchases`` by ``customers`` from ``first_at`` to ``last_at`` (None when there were
    none), who spent ``spend`` (in ``currency``) and earned ``points``; what those points
    are worth where the catalog says so (``points_value``); each rule for purchases, in
    the order they are considered; the stamps given per card; the vouchers issued per
    name; how many customers ended in each tier, from the top of the ladder down (None,
    last: no tier), or nothing when the program has no ladder and gave nobody a tier; and
    every customer, most points first.
    """

    currency: str
    purchases: int
    customers: int
    first_at: datetime | None
    last_at: datetime | None
    spend: Decimal
    points: int
    points_value: PointsValue | None
    rules: tuple[RuleTally, ...]
    stamps: tuple[tuple[str, int], ...]
    vouchers: tuple[VoucherTally, ...]
    tiers: tuple[tuple[str | None, int], ...]
    by_customer: tuple[CustomerTally, ...]


@attrs.define
class _Totals:
    """What the simulation has counted so far."""

    spend: Decimal = Decimal(0)
    points: int = 0
    fired: dict[str, int] = attrs.field(factory=dict)
    added: dict[str, int] = attrs.field(factory=dict)
    rule_stamps: dict[str, int] = attrs.field(factory=dict)
    card_stamps: dict[str, int] = attrs.field(factory=dict)
    vouchers: dict[str, tuple[int, Decimal | None]] = attrs.field(factory=dict)
    customers: dict[str, tuple[int, Decimal, int]] = attrs.field(factory=dict)

    def count(self, purchase: Purchase, outcome: Outcome, rules: Mapping[str, Rule]) -> None:
        """Count what recording ``purchase`` gave: ``outcome``."""
        points = _earned(outcome.effects)
        self.spend += purchase.amount
        self.points += points
        bought, spent, earned = self.customers.get(purchase.customer_id, (0, Decimal(0), 0))
        self.customers[purchase.customer_id] = (
            bought + 1,
            spent + purchase.amount,
            earned + points,
        )
        for name in outcome.trace.fired():
            self.fired[name] = self.fired.get(name, 0) + 1
            if name in rules:
                self._count_stamps(name, rules[name], purchase)
        for effect in outcome.effects:
            if isinstance(effect, IssueVoucher):
                self._count_voucher(effect.voucher)

    def _count_stamps(self, name: str, rule: Rule, purchase: Purchase) -> None:
        """The stamps the rule ``name`` gave as it fired for ``purchase``."""
        for stamps in rule.then:
            if isinstance(stamps, Stamps) and (count := stamps.stamps_for(purchase)):
                self.rule_stamps[name] = self.rule_stamps.get(name, 0) + count
                self.card_stamps[stamps.card] = self.card_stamps.get(stamps.card, 0) + count

    def _count_voucher(self, voucher: Voucher) -> None:
        issued, value = self.vouchers.get(voucher.name, (0, None))
        if voucher.value is not None:
            value = (value or Decimal(0)) + voucher.value
        self.vouchers[voucher.name] = (issued + 1, value)

    def credit(self, added: Mapping[str, int]) -> None:
        """Credit each rule with the points it added to a purchase."""
        for name, points in added.items():
            self.added[name] = self.added.get(name, 0) + points


def simulate(
    program: Program,
    purchases: Iterable[Purchase],
    *,
    on_outcome: Callable[[Purchase, Outcome], None] | None = None,
) -> Simulation:
    """Record ``purchases`` (in time order) with a service over a fresh memory store and
    a clock set to each purchase's time, and sum up what ``program`` gave.

    Before each purchase, what has fallen due is run (as a cron job would run
    :meth:`~custbond.RetentionService.run_due`), and once more after the last.
    ``on_outcome`` is called with each purchase and its outcome, as they are recorded.
    """
    history = sorted(purchases, key=lambda purchase: purchase.at)
    store = MemoryStore()
    clock = FixedClock(history[0].at if history else _NO_TIME)
    service = RetentionService(program, store, clock)
    considered = program.rules_for("Purchase")
    rules = {rule.name: rule for rule in considered}
    without = _services_without(program, considered, store, clock)
    totals = _Totals()
    for purchase in history:
        clock.set(purchase.at)
        try:
            service.run_due()
            totals.credit(_points_added(service, without, purchase))
            outcome = service.record(purchase)
        except CustbondError as error:  # say which purchase the program refuses
            error.add_note(f"purchase {purchase.id!r}")
            raise
        totals.count(purchase, outcome, rules)
        if on_outcome is not None:
            on_outcome(purchase, outcome)
    service.run_due()
    return _summary(
        program, history, considered=considered, without=without, totals=totals, store=store
    )


def _services_without(
    program: Program, rules: Sequence[Rule], store: MemoryStore, clock: FixedClock
) -> dict[str, RetentionService]:
    """For each rule that gives points, a service (on the same store and clock) whose
    program lacks it: what the purchase would have earned without the rule."""
    services = {}
    for rule in rules:
        if _gives(rule, _POINTS_EFFECTS):
            other = _without(program, rule.name)
            if other is not None:
                services[rule.name] = RetentionService(other, store, clock)
    return services


def _gives(rule: Rule, kinds: type | tuple[type, ...]) -> bool:
    """Whether ``rule`` has an effect of one of these ``kinds``."""
    return any(isinstance(effect, kinds) for effect in rule.then)


def _without(program: Program, name: str) -> Program | None:
    """``program`` without the rule ``name``: the base rule, one of its rules, or a tier
    level's multiplier rule (``"tier <level>"``). None for a rule it cannot take away."""
    if name == BASE_RULE and program.earn is not None:
        return attrs.evolve(program, earn=None)
    if any(rule.name == name for rule in program.rules):
        return attrs.evolve(program, rules=[rule for rule in program.rules if rule.name != name])
    ladder = program.tiers
    if ladder is None:
        return None
    levels = [
        attrs.evolve(level, multiplier=None) if f"tier {level.name}" == name else level
        for level in ladder.levels
    ]
    if levels == list(ladder.levels):
        return None
    return attrs.evolve(program, tiers=attrs.evolve(ladder, levels=levels))


def _points_added(
    service: RetentionService, without: Mapping[str, RetentionService], purchase: Purchase
) -> dict[str, int]:
    """The points each rule that fires for ``purchase`` adds to it: the points with the
    program as it is, less the points without the rule. Nothing is recorded."""
    decision = service.preview(purchase)
    fired = [name for name in decision.trace.fired() if name in without]
    if not fired:
        return {}
    points = _earned(decision.effects)
    return {name: points - _earned(without[name].preview(purchase).effects) for name in fired}


def points_earned(outcome: Outcome) -> int:
    """The points an event earned the customer (not counting what settled meanwhile)."""
    return _earned(outcome.effects)


def _earned(effects: Iterable[Effect]) -> int:
    return sum(effect.points for effect in effects if isinstance(effect, EarnPoints))


def _summary(
    program: Program,
    history: Sequence[Purchase],
    *,
    considered: Sequence[Rule],
    without: Mapping[str, RetentionService],
    totals: _Totals,
    store: MemoryStore,
) -> Simulation:
    tiers = _tiers(store, totals.customers)
    customers = sorted(
        (
            CustomerTally(customer_id, bought, spent, earned, tiers[customer_id])
            for customer_id, (bought, spent, earned) in totals.customers.items()
        ),
        key=lambda tally: (-tally.points, tally.customer_id),
    )
    rules = tuple(
        RuleTally(
            rule.name,
            totals.fired.get(rule.name, 0),
            totals.added.get(rule.name, 0) if rule.name in without else None,
            totals.rule_stamps.get(rule.name, 0) if _gives(rule, Stamps) else None,
        )
        for rule in considered
    )
    in_tier: dict[str | None, int] = {}
    if program.tiers is not None or any(tiers.values()):
        for tier in tiers.values():
            in_tier[tier] = in_tier.get(tier, 0) + 1
    return Simulation(
        currency=program.currency,
        purchases=len(history),
        customers=len(totals.customers),
        first_at=history[0].at if history else None,
        last_at=history[-1].at if history else None,
        spend=totals.spend,
        points=totals.points,
        points_value=_points_value(program, totals.points),
        rules=rules,
        stamps=tuple(sorted(totals.card_stamps.items())),
        vouchers=tuple(
            VoucherTally(name, issued, value)
            for name, (issued, value) in sorted(totals.vouchers.items())
        ),
        tiers=tuple(sorted(in_tier.items(), key=lambda item: _tier_order(program, item[0]))),
        by_customer=tuple(customers),
    )


def _tier_order(program: Program, tier: str | None) -> tuple[int, int, str]:
    """Tiers from the top of the ladder down, then tiers off the ladder by name, then no
    tier."""
    if tier is None:
        return (2, 0, "")
    rank = -1 if program.tiers is None else program.tiers.rank(tier)
    return (0, -rank, tier) if rank >= 0 else (1, 0, tier)


def _tiers(store: MemoryStore, customer_ids: Iterable[str]) -> dict[str, str | None]:
    """Each customer's tier, as the store has it."""
    tiers: dict[str, str | None] = {}
    with store.unit_of_work() as uow:
        for customer_id in customer_ids:
            state = uow.load(customer_id)
            tiers[customer_id] = None if state is None else state.tier
    return tiers


def _points_value(program: Program, points: int) -> PointsValue | None:
    """What ``points`` are worth at the best rate of the catalog's rewards that have a
    value; None when none has."""
    valued = [
        (reward, reward.offer.value)
        for reward in program.catalog
        if reward.offer.value is not None
    ]
    if not valued:
        return None
    reward, value = max(valued, key=lambda pair: pair[1] / pair[0].points)
    unit = Decimal(1).scaleb(-minor_units(program.currency))
    with localcontext() as context:
        # Enough digits for any number of points: the default 28 cannot hold the worth
        # of 10**30 points in cents, and quantize() would raise.
        context.prec = len(str(points)) + 40
        worth = (points * value / reward.points).quantize(unit, rounding=ROUND_DOWN)
    return PointsValue(reward.name, reward.points, value, worth)
