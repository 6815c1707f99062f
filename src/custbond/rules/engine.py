"""The engine: a program's rules compiled once, indexed by event type, applied to events.

For one event the engine considers the rules for that event's type in order (descending
priority, then name) and for each one records a :class:`~custbond.rules.Step`: it fired
(and what it gave), it gave nothing for this event, its condition failed (which part, with
the facts' values), a limit or its window stopped it, an exclusive rule above it fired, or
its group took another rule. What the fired rules gave is summed up in an :class:`Award`,
which the program turns into the effects of a decision. Pure: no clock, no storage.

A rule that gives nothing for the event (points per item for an item not bought, stamps
for no matching item, a multiplier with no spend points to multiply) has not fired: it
uses up none of its limits, takes nothing from the shared counters, does not compete in
its group and stops no rule below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from math import gcd
from typing import TYPE_CHECKING, Any, NamedTuple

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.rules.conditions import Condition
from custbond.rules.effects import (
    Cashback,
    Discount,
    FixedPoints,
    Gift,
    Message,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    Ratio,
    Stamps,
    Tag,
    Tier,
    points_text,
)
from custbond.rules.facts import Facts, Getter
from custbond.rules.rule import Budget, FirstCustomers, Group, Limit, Rule, uncounted_money
from custbond.rules.trace import Step, Verdict, show
from custbond.vouchers import VoucherOffer

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["Award", "RuleBook"]

MULTIPLIER_MODES = ("multiply", "add")


class Award(NamedTuple):
    """What the rules that fired for one event give, all together.

    ``points`` is the event's points (spend points times multipliers, rounded down once,
    plus fixed points); ``uses`` the rules with limits that fired, each with the time
    from which its firings are kept (see :func:`_keep_from`); ``steps`` the trace. A
    named tuple: one is made for every event.
    """

    points: int = 0
    stamps: tuple[tuple[str, int], ...] = ()
    tier: str | None = None
    tier_rule: str | None = None
    tier_only_up: bool = False
    tags: tuple[str, ...] = ()
    messages: tuple[tuple[str, Message], ...] = ()  # (rule, message)
    uses: tuple[tuple[str, datetime], ...] = ()  # (rule, keep its firings from)
    steps: tuple[Step, ...] = ()
    # (rule, offer): the vouchers rules give, their gifts' offers and their cashback (money
    # vouchers named "cashback", for the amount the event earned)
    gifts: tuple[tuple[str, VoucherOffer], ...] = ()
    shared: tuple[tuple[str, int], ...] = ()  # (counter, amount) to add to store counters
    discounts: tuple[tuple[str, Discount], ...] = ()  # (rule, discount), for quotes
    cashback: tuple[int, ...] = ()  # the places in ``gifts`` that are cashback


class _Gain:
    """What one fired rule gives, before groups and multipliers are resolved."""

    __slots__ = (
        "back",
        "back_offers",
        "back_units",
        "discount",
        "discounts",
        "factors",
        "fixed",
        "gifts",
        "given",
        "messages",
        "multiplies_only",
        "pointed",
        "spend",
        "stamps",
        "tags",
        "text",
        "tier",
        "tier_only_up",
    )

    def __init__(self) -> None:
        self.pointed = False  # whether it gives points (spend, items, fixed, multipliers)
        self.spend: Ratio = (0, 1)
        self.fixed = 0
        self.factors: tuple[Ratio, ...] = ()
        self.stamps: dict[str, int] | None = None  # made when it gives stamps
        self.tier: str | None = None
        self.tier_only_up = False
        self.tags: tuple[str, ...] = ()
        self.messages: tuple[Message, ...] = ()
        self.gifts: tuple[VoucherOffer, ...] = ()
        self.discounts: tuple[Discount, ...] = ()
        self.discount = Decimal(0)  # what its discounts take off, for groups to compare
        self.back: Decimal | None = None  # its cashback (None: it has none), for groups
        self.back_units = 0  # its cashback in minor units of the currency, for budgets
        self.back_offers: tuple[VoucherOffer, ...] = ()  # a money voucher per cashback
        self.text = ""
        # Whether it gives something of its own: points, stamps, a tier, a tag, a message,
        # a voucher, money off. Multipliers are not counted here: what they give depends on
        # the spend points of the other rules (see RuleBook._settle).
        self.given = False
        self.multiplies_only = False  # all it gives is multipliers


def _add(first: Ratio, second: Ratio) -> Ratio:
    if not first[0]:
        return second
    if not second[0]:
        return first
    top = first[0] * second[1] + second[0] * first[1]
    bottom = first[1] * second[1]
    common = gcd(top, bottom)
    return (top // common, bottom // common)


def _places(bottom: int) -> int | None:
    """The decimal places of a fraction over ``bottom`` (in lowest terms), or None when
    its decimal does not end (``bottom`` has a prime factor other than 2 and 5)."""
    places, rest = 0, bottom
    while rest % 10 == 0:
        rest //= 10
        places += 1
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
            places += 1
    return places if rest == 1 else None


# Denominators repeat (prices in cents make a few): their places are kept.
_PLACES: dict[int, int | None] = {}
_KEEP_PLACES = 4096


def _show_ratio(ratio: Ratio) -> str:
    """An exact ratio as a decimal ("12.4"), or "about 3.33" when it has no end."""
    top, bottom = ratio
    if bottom == 1:
        return str(top)
    places = _PLACES.get(bottom, -1)
    if places == -1:
        places = _places(bottom)
        if len(_PLACES) < _KEEP_PLACES:
            _PLACES[bottom] = places
    if places is not None:  # a power of 2 and 5 only: the decimal ends
        digits = str(abs(top) * 10**places // bottom).rjust(places + 1, "0")
        whole, fraction = digits[:-places] or "0", digits[-places:].rstrip("0")
        sign = "-" if top < 0 else ""
        return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"
    exact = Decimal(top) / Decimal(bottom)
    return "about " + format(exact.quantize(Decimal("0.01")), "f")


class _Compiled:
    """One rule, ready to run: its condition compiled, its effects sorted by kind."""

    __slots__ = (
        "always_gives",
        "budget",
        "budget_counter",
        "budget_limit",
        "budget_money",
        "budget_text",
        "cashback",
        "check",
        "counters",
        "currency",
        "discounts",
        "exclusive",
        "factors",
        "failures",
        "first",
        "first_counter",
        "fixed",
        "gift_money",
        "gifts",
        "group",
        "items",
        "limits",
        "messages",
        "name",
        "places",
        "pointed",
        "priority",
        "said",
        "said_after",
        "said_back",
        "said_factors",
        "said_fixed",
        "spend",
        "stamps",
        "tags",
        "tier",
        "tier_only_up",
        "too_little",
        "window",
    )

    def __init__(self, rule: Rule, currency: str) -> None:
        self.currency = currency
        self.name = rule.name
        self.priority = rule.priority
        self.exclusive = rule.exclusive
        self.group = rule.group
        self.check = rule.when.compile()
        self.window = rule.window
        self.limits = tuple(limit for limit in rule.limits if isinstance(limit, Limit))
        budgets = [limit for limit in rule.limits if isinstance(limit, Budget)]
        firsts = [limit for limit in rule.limits if isinstance(limit, FirstCustomers)]
        self.budget = budgets[0] if budgets else None
        self.first = firsts[0] if firsts else None
        self.first_counter = rule.counter("customers")
        self.places = v.minor_units(currency)
        self._count_budget(rule, currency)
        # The store's shared counters the rule reads, in the order of its limits.
        self.counters = tuple(
            self.budget_counter if isinstance(limit, Budget) else self.first_counter
            for limit in rule.limits
            if isinstance(limit, Budget | FirstCustomers)
        )
        then = rule.then
        self.spend = tuple(effect for effect in then if isinstance(effect, PointsPerSpend))
        self.items = tuple(effect for effect in then if isinstance(effect, PointsPerItem))
        self.fixed = sum(effect.points for effect in then if isinstance(effect, FixedPoints))
        self.factors = tuple(effect.factor for effect in then if isinstance(effect, Multiplier))
        self.stamps = tuple(effect for effect in then if isinstance(effect, Stamps))
        tiers = [effect for effect in then if isinstance(effect, Tier)]
        self.tier = tiers[0].tier if tiers else None
        self.tier_only_up = bool(tiers) and tiers[0].only_up
        self.tags = tuple(effect.tag for effect in then if isinstance(effect, Tag))
        self.messages = tuple(effect for effect in then if isinstance(effect, Message))
        self.gifts = tuple(effect.offer for effect in then if isinstance(effect, Gift))
        self.discounts = tuple(effect for effect in then if isinstance(effect, Discount))
        self.cashback = tuple(effect for effect in then if isinstance(effect, Cashback))
        self.pointed = bool(self.spend or self.items or self.fixed or self.factors)
        # A tier, a tag, a message or a gift is something, whatever the event.
        self.always_gives = bool(self.tier is not None or self.tags or self.messages or self.gifts)
        # How each spend effect and cashback reads in a trace, but for the amount: made once.
        self.said = tuple(effect.describe(currency) for effect in self.spend)
        self.said_back = tuple(effect.describe() for effect in self.cashback)
        # What the rest reads as does not depend on the event: made once.
        self.said_fixed = points_text(self.fixed) if self.fixed else ""
        self.said_factors = tuple(e.describe() for e in then if isinstance(e, Multiplier))
        after = [tiers[0].describe()] if tiers else []  # the first tier is the one given
        for kind in (Tag, Message, Gift, Discount):
            after.extend(effect.describe() for effect in then if isinstance(effect, kind))
        self.said_after = tuple(after)
        unit = format(Decimal(1).scaleb(-self.places), "f")
        self.too_little = f"nothing, less than {unit} {currency}"
        # How each part of the condition that can fail reads in a trace, and the facts
        # it shows the values of: made on the part's first failure.
        self.failures: dict[int, tuple[str, tuple[tuple[str, Getter], ...]]] = {}

    def _count_budget(self, rule: Rule, currency: str) -> None:
        """The rule's budget as a count in the store's units (points, or minor units of
        the currency), its counter, its words, and what the rule's gifts count."""
        budget = self.budget
        self.budget_money = budget is not None and budget.money is not None
        self.budget_limit = 0
        self.gift_money = 0
        self.budget_counter = rule.counter("budget")
        self.budget_text = "" if budget is None else budget.describe(currency)
        if budget is None:
            return
        if budget.money is None:
            assert budget.points is not None
            self.budget_limit = budget.points
            return
        uncounted = uncounted_money(rule, currency)
        if uncounted is not None:
            expected = (
                f"a money budget with at most {self.places} decimal places in {currency} (a "
                "money budget is counted exactly, in minor units of the currency)"
            )
            raise InvalidInput(f"rules[{rule.name!r}].limits", uncounted[1], expected)
        self.budget_counter = rule.counter(f"budget {currency}")
        self.budget_limit = int(budget.money.scaleb(self.places))
        self.gift_money = sum(
            int(effect.offer.value.scaleb(self.places))
            for effect in rule.then
            if isinstance(effect, Gift) and effect.offer.value is not None
        )

    def failure(self, failed: Condition, facts: Facts) -> Step:
        """The step saying ``failed`` (a part of the condition) did not hold, with the
        values of the facts it reads (but for true/false facts standing alone)."""
        said = self.failures.get(id(failed))
        if said is None:
            getters = {
                leaf.fact_text(): leaf.getter()
                for leaf in failed.comparisons()
                if str(leaf) != leaf.fact_text()
            }
            # Parts of the rule's own condition live as long as the rule: ids stay theirs.
            said = self.failures[id(failed)] = (str(failed), tuple(getters.items()))
        text, reads = said
        if not reads:
            return Step(Verdict.FAILED, text, self.name)
        values = []
        for label, read in reads:
            found = read(facts)
            if isinstance(found, frozenset):
                found = tuple(sorted(found))
            values.append((label, found))
        return Step(Verdict.FAILED, text, self.name, tuple(values))

    def gain(self, event: Any) -> _Gain:
        gain = _Gain()
        gain.pointed = self.pointed
        currency = self.currency
        said: list[str] = []
        for effect, words in zip(self.spend, self.said, strict=True):
            spend = effect.spend(event)
            gain.spend = _add(gain.spend, effect.exact(spend))
            said.append(f"{words} on {spend} {currency}")
        for item_effect in self.items:
            count = item_effect.count(event)
            gain.spend = _add(gain.spend, (item_effect.points * count, 1))
            said.append(f"{item_effect.describe(currency)}, {count} bought")
        if self.fixed:
            gain.fixed = self.fixed
            said.append(self.said_fixed)
        if self.factors:
            gain.factors = tuple(factor.as_integer_ratio() for factor in self.factors)
            said.extend(self.said_factors)
        for stamp in self.stamps:
            count = stamp.stamps_for(event)
            if count:
                if gain.stamps is None:
                    gain.stamps = {}
                gain.stamps[stamp.card] = gain.stamps.get(stamp.card, 0) + count
                said.append(f"{count} stamp{'s' if count != 1 else ''} on card {stamp.card!r}")
        if self.tier is not None:
            gain.tier = self.tier
            gain.tier_only_up = self.tier_only_up
        if self.tags:
            gain.tags = self.tags
        if self.messages:
            gain.messages = self.messages
        if self.gifts:
            gain.gifts = self.gifts
        if self.discounts:
            gain.discounts = self.discounts
            gain.discount = sum((d.value(event.items) for d in self.discounts), Decimal(0))
        said.extend(self.said_after)  # tier, tags, messages, gifts, discounts
        if self.cashback:
            self._cash_back(event, gain, said)
        given = gain.given = self.always_gives or bool(
            gain.spend[0] or gain.fixed or gain.stamps or gain.back_offers or gain.discount
        )
        gain.multiplies_only = not given and bool(self.factors)
        if not said:  # only stamps, and none for this event
            cards = dict.fromkeys(stamp.card for stamp in self.stamps)
            said = [f"0 stamps on card {card!r}" for card in cards]
        gain.text = "; ".join(said) or "nothing to give"
        return gain

    def _cash_back(self, event: Any, gain: _Gain, said: list[str]) -> None:
        """The cashback ``event`` earns: a money voucher for each effect whose amount,
        rounded down to the minor unit, is not nothing."""
        currency, places = self.currency, self.places
        offers: list[VoucherOffer] = []
        total = 0
        for effect, words in zip(self.cashback, self.said_back, strict=True):
            spend = effect.spend(event)
            units = effect.back(spend, places)
            if not units:
                said.append(f"{words} on {spend} {currency}: {self.too_little}")
                continue
            amount = Decimal(units).scaleb(-places)
            offers.append(VoucherOffer("cashback", value=amount, valid_for=effect.valid_for))
            said.append(f"{words} on {spend} {currency}: {format(amount, 'f')} {currency}")
            total += units
        gain.back_offers = tuple(offers)
        gain.back = Decimal(total).scaleb(-places)
        gain.back_units = total


class _Run(NamedTuple):
    """One pass over the rules for an event, before groups are resolved."""

    considered: list[tuple[_Compiled, _Gain | Step]]
    uses: list[tuple[str, datetime]]  # (rule, keep its firings from)
    shared: list[tuple[str, str, int]]  # (rule, counter, amount)
    stoppers: frozenset[str]  # the exclusive rules that stopped rules below them
    notes: dict[str, Step]  # rule -> why its limits were judged on part of its firings
    multiplies_only: bool  # whether a rule that gives only multipliers fired
    spent: bool  # whether a rule that gives spend points fired
    # Whether a rule that gives points fired or gave nothing: the trace then says what the
    # event earned, 0 points too.
    pointed: bool


class RuleBook:
    """A program's rules, compiled once and indexed by the event types they are for, so
    that an event costs only the rules that can apply to it.

    ``base`` names the program's base earning rule (``"points per spend"``), if it has
    one: the earning that multipliers multiply, which no exclusive rule stops.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        groups: Sequence[Group] = (),
        *,
        currency: str,
        multipliers: str = "multiply",
        base: str | None = None,
    ) -> None:
        if multipliers not in MULTIPLIER_MODES:
            raise InvalidInput("multipliers", multipliers, "'multiply' or 'add'")
        names = [rule.name for rule in rules]
        for name in names:
            if names.count(name) > 1:
                raise InvalidInput("rules", name, "rules with different names")
        self.groups = {group.name: group for group in groups}
        for rule in rules:
            if rule.group is not None and rule.group not in self.groups:
                raise InvalidInput(
                    f"rules[{rule.name!r}].group", rule.group, "the name of one of the groups"
                )
        if base is not None and base not in names:
            raise InvalidInput("base", base, "the name of one of the rules")
        self.currency = currency
        self.multipliers = multipliers
        self.base = base
        ordered = sorted(rules, key=lambda rule: (-rule.priority, rule.name))
        self._by_type: dict[str, tuple[_Compiled, ...]] = {}
        compiled = {rule.name: _Compiled(rule, currency) for rule in ordered}
        # Only groups that take one rule need resolving; most programs have none.
        self._picky = [self.groups[name] for name in sorted(self.groups)]
        self._picky = [group for group in self._picky if group.take != "all"]
        self._counters: dict[str, tuple[str, ...]] = {}
        for rule in ordered:
            counters = compiled[rule.name].counters
            for name in sorted(rule.on):
                self._by_type[name] = (*self._by_type.get(name, ()), compiled[rule.name])
                if counters:
                    self._counters[name] = (*self._counters.get(name, ()), *counters)
        # In name order, once: a database store locks each counter as the service reads it,
        # and the same order in every transaction keeps two of them from deadlocking.
        self._counters = {
            name: tuple(sorted(set(found))) for name, found in self._counters.items()
        }

    def rules_for(self, event_type: str) -> tuple[str, ...]:
        """The names of the rules considered for ``event_type``, in the order considered."""
        return tuple(rule.name for rule in self._by_type.get(event_type, ()))

    def counters_for(self, event_type: str) -> tuple[str, ...]:
        """The store's shared counters the rules for ``event_type`` read (budgets, first
        customers), in name order: what the service reads before deciding such an event."""
        return self._counters.get(event_type, ())

    def evaluate(
        self,
        event: Any,
        state: CustomerState,
        zone: tzinfo,
        counters: Mapping[str, int] | None = None,
        local: datetime | None = None,
    ) -> Award:
        """Consider every rule for ``event``'s type, for the customer in ``state``.
        ``counters`` are the shared counters of :meth:`counters_for` (0 when missing);
        ``local`` is the event's time in ``zone``, when the caller has it already."""
        rules = self._by_type.get(type(event).__name__)
        if not rules:
            return Award()
        facts = Facts(event, state, event.at, zone, local)
        counts = {} if counters is None else counters
        # Only a rule that applies stops the rules below it: one its group takes, and that
        # gives something. Whether it does can depend on the rules it stopped (a group's
        # rivals, spend points to multiply), so an exclusive rule that does not apply with
        # the rules below it stopped is let go quiet (fires, stops nothing) and the rules
        # are considered again. Rare: most events take one pass; each further pass quiets
        # one more exclusive rule, so there are at most as many passes as those.
        quiet = _NONE
        while True:
            run = self._consider(rules, facts, counts, quiet)
            outdone, idle = self._settle(run)
            lost = run.stoppers & (outdone.keys() | idle.keys()) if run.stoppers else _NONE
            if not lost:
                return self._award(run, outdone, idle)
            quiet |= lost

    def _consider(
        self,
        rules: tuple[_Compiled, ...],
        facts: Facts,
        counts: Mapping[str, int],
        quiet: frozenset[str],
    ) -> _Run:
        """One pass over ``rules``: what each gives or what holds it back. Exclusive rules
        in ``quiet`` stop nothing."""
        at, zone = facts.at, facts.zone
        considered: list[tuple[_Compiled, _Gain | Step]] = []
        stop_below: int | None = None
        stopper = ""
        exclusive: list[str] = []
        stopped = False
        uses: list[tuple[str, datetime]] = []
        shared: list[tuple[str, str, int]] = []  # (rule, counter, amount)
        notes: dict[str, Step] = {}
        multiplies_only = spent = pointed = False
        for rule in rules:
            if stop_below is not None and rule.priority < stop_below and rule.name != self.base:
                text = f"the exclusive rule {stopper!r} fired above it"
                considered.append((rule, Step(Verdict.STOPPED, text, rule.name)))
                stopped = True
                continue
            if rule.window is not None and not rule.window.contains(at, zone, local=facts.local):
                considered.append((rule, Step(Verdict.OUTSIDE, rule.window.describe(), rule.name)))
                continue
            failed = rule.check(facts)
            if failed is not None:
                considered.append((rule, rule.failure(failed, facts)))
                continue
            held, gain, note_ = self._held_back(rule, facts, counts=counts, shared=shared)
            if held is not None:
                considered.append((rule, held))
                pointed = pointed or (rule.pointed and held.verdict is Verdict.NOTHING)
                continue
            assert gain is not None
            if rule.limits or rule.first is not None:
                uses.append((rule.name, _keep_from(rule, facts)))
            if note_ is not None:
                notes[rule.name] = note_
            considered.append((rule, gain))
            multiplies_only = multiplies_only or gain.multiplies_only
            spent = spent or bool(gain.spend[0])
            if rule.exclusive and rule.name not in quiet:
                exclusive.append(rule.name)
                stop_below, stopper = rule.priority, rule.name
        stoppers = frozenset(exclusive) if stopped else _NONE
        return _Run(considered, uses, shared, stoppers, notes, multiplies_only, spent, pointed)

    def _held_back(
        self,
        rule: _Compiled,
        facts: Facts,
        *,
        counts: Mapping[str, int],
        shared: list[tuple[str, str, int]],
    ) -> tuple[Step | None, _Gain | None, Step | None]:
        """For a rule whose condition holds: the step saying which limit holds it back or
        that it gives nothing, or what it gives; and a note when its limits could count
        only the firings kept. Takes what it would use of the shared counters into
        ``shared``."""
        event, state = facts.event, facts.state
        note_ = None
        if rule.limits:
            stopped, note_ = _limited(rule, facts)
            if stopped is not None:
                return stopped, None, None
        taken: list[tuple[str, str, int]] = []
        if rule.first is not None and rule.name not in state.rule_uses:
            served = counts.get(rule.first_counter, 0)
            if served >= rule.first.count:
                text = f"it is for {rule.first.describe()}, and {served} have had it"
                return Step(Verdict.LIMITED, text, rule.name), None, None
            taken.append((rule.name, rule.first_counter, 1))
        gain = rule.gain(event)
        if not gain.given and not gain.factors:  # nothing of its own, nothing to multiply
            return Step(Verdict.NOTHING, gain.text, rule.name), None, None
        if rule.budget is not None:
            # Counted as the store counts it: points, or money in minor units.
            if rule.budget_money:
                own = gain.back_units + rule.gift_money
            else:
                own = gain.spend[0] // gain.spend[1] + gain.fixed
            spent = counts.get(rule.budget_counter, 0)
            if spent + own > rule.budget_limit:
                if rule.budget_money:
                    given, asked = _money(spent, rule.places), _money(own, rule.places)
                else:
                    given, asked = str(spent), str(own)
                text = f"{rule.budget_text} is spent ({given} given, {asked} more asked)"
                return Step(Verdict.LIMITED, text, rule.name), None, None
            if own:
                taken.append((rule.name, rule.budget_counter, own))
        shared.extend(taken)
        return None, gain, note_

    # -- putting the gains together ------------------------------------------------------

    def _points(self, gains: Sequence[_Gain]) -> tuple[int, Ratio, Ratio]:
        """(points, spend points, combined factor) for these gains together."""
        spend: Ratio = (0, 1)
        fixed = 0
        factor: Ratio = (1, 1)
        for gain in gains:
            spend = _add(spend, gain.spend)
            fixed += gain.fixed
            for top, bottom in gain.factors:
                if self.multipliers == "multiply":
                    factor = (factor[0] * top, factor[1] * bottom)
                else:
                    factor = _add(factor, (top - bottom, bottom))
        points = (spend[0] * factor[0]) // (spend[1] * factor[1])
        return points + fixed, spend, factor

    def _settle(self, run: _Run) -> tuple[dict[str, str], dict[str, str]]:
        """The rules their groups set aside, with why; and the rules that give only
        multipliers and give nothing, with why (no spend points to multiply).

        A multiplier gives something only when a rule that applies gives spend points, and
        a rule that gives nothing does not compete in its group. Which rules apply depends
        on which rules compete, so when no spend points apply, the multipliers their groups
        took are set aside and the groups resolved again, until spend points apply or no
        group takes a multiplier (at most one round per multiplier). Each multiplier set
        aside is then let back, in order, if its group can take it (or another rule) and
        still leave spend points to multiply (at most one try per multiplier).
        """
        if not self._picky and (run.spent or not run.multiplies_only):
            return {}, {}  # most programs: nothing to resolve
        fired = [(rule, gain) for rule, gain in run.considered if type(gain) is _Gain]
        outdone = self._resolve_groups(fired) if self._picky else {}
        if not run.multiplies_only or (run.spent and not outdone):
            return outdone, {}  # no multiplier, or spend points that nothing set aside
        aside: frozenset[str] = _NONE
        taken = self._taken_multipliers(fired, outdone, aside)
        while taken:
            aside |= taken
            outdone = self._resolve_groups(self._without(fired, aside))
            taken = self._taken_multipliers(fired, outdone, aside)
        for rule, _ in fired:
            if rule.name in aside:
                trial = aside - {rule.name}
                tried = self._resolve_groups(self._without(fired, trial))
                if _spends(fired, tried, trial):
                    aside, outdone = trial, tried
        if _spends(fired, outdone, aside):
            idle = {
                rule.name: f"no spend points to multiply if group {rule.group!r} took it"
                for rule, _ in fired
                if rule.name in aside
            }
            return outdone, idle
        # No spend points apply: no multiplier has anything to multiply.
        idle = {
            rule.name: "no spend points to multiply"
            for rule, gain in fired
            if gain.multiplies_only and rule.name not in outdone
        }
        return outdone, idle

    def _taken_multipliers(
        self,
        fired: list[tuple[_Compiled, _Gain]],
        outdone: Mapping[str, str],
        aside: frozenset[str],
    ) -> frozenset[str]:
        """The rules that give only multipliers and that their groups (taking one rule)
        took, when no spend points apply: each would give nothing."""
        if _spends(fired, outdone, aside):
            return _NONE
        picky = {group.name for group in self._picky}
        return frozenset(
            rule.name
            for rule, gain in fired
            if gain.multiplies_only
            and rule.group in picky
            and rule.name not in outdone
            and rule.name not in aside
        )

    @staticmethod
    def _without(
        fired: list[tuple[_Compiled, _Gain]], aside: frozenset[str]
    ) -> list[tuple[_Compiled, _Gain]]:
        return [(rule, gain) for rule, gain in fired if rule.name not in aside]

    def _award(self, run: _Run, outdone: Mapping[str, str], idle: Mapping[str, str]) -> Award:
        steps: list[Step] = []
        kept: list[_Gain] = []
        pointed = run.pointed
        stamps: dict[str, int] = {}
        tier: str | None = None
        tier_rule: str | None = None
        only_up = False
        tags: list[str] = []
        messages: list[tuple[str, Message]] = []
        gifts: list[tuple[str, VoucherOffer]] = []
        cashback: list[int] = []
        discounts: list[tuple[str, Discount]] = []
        uses, shared, notes = run.uses, run.shared, run.notes
        set_aside = outdone or idle
        for rule, result in run.considered:
            if type(result) is Step:
                steps.append(result)
                continue
            assert isinstance(result, _Gain)
            name = rule.name
            if set_aside and (name in outdone or name in idle):
                steps.append(_set_aside(name, result, outdone, idle))
                pointed = pointed or name in idle
                uses = [use for use in uses if use[0] != name]
                shared = [take for take in shared if take[0] != name]
                continue
            steps.append(Step(Verdict.FIRED, result.text, name))
            if notes and name in notes:
                steps.append(notes[name])
            kept.append(result)
            pointed = pointed or result.pointed
            if result.stamps:
                for card, count in result.stamps.items():
                    stamps[card] = stamps.get(card, 0) + count
            if result.tier is not None:
                if tier is None:
                    tier, tier_rule, only_up = result.tier, name, result.tier_only_up
                elif result.tier != tier:
                    text = f"tier {result.tier!r} not given: {tier!r} came first"
                    steps.append(Step(Verdict.NOTE, text, name))
            if result.tags:
                tags.extend(tag for tag in result.tags if tag not in tags)
            if result.messages:
                messages.extend((name, message) for message in result.messages)
            if result.gifts or result.back_offers:
                _vouchers(name, result, gifts, cashback)
            if result.discounts:
                discounts.extend((name, discount) for discount in result.discounts)
        points = 0
        if pointed:
            points, spend, factor = self._points(kept)
            steps.append(Step(Verdict.NOTE, _earned_text(points, spend, factor)))
        return Award(
            points,
            tuple(sorted(stamps.items())) if stamps else (),
            tier,
            tier_rule,
            only_up,
            tuple(tags),
            tuple(messages),
            tuple(uses),
            tuple(steps),
            tuple(gifts),
            tuple((counter, amount) for _, counter, amount in shared),
            tuple(discounts),
            tuple(cashback),
        )

    def _resolve_groups(self, fired: list[tuple[_Compiled, _Gain]]) -> dict[str, str]:
        """The rules their group did not take, with why, for groups taking one rule."""
        outdone: dict[str, str] = {}
        for group in self._picky:
            name = group.name
            members = [(rule, gain) for rule, gain in fired if rule.group == name]
            if len(members) < 2:
                continue
            others = [
                gain for rule, gain in fired if rule.group != name and rule.name not in outdone
            ]
            # Rules that give money (discounts, cashback) compete on the money they give
            # (what they take off and give back, together); others on points.
            off = any(gain.discounts for _, gain in members)
            back = any(gain.back is not None for _, gain in members)
            if off or back:
                totals: list[Any] = [gain.discount + (gain.back or 0) for _, gain in members]
                unit = "given" if off and back else "off" if off else "back"
            else:
                totals = [self._points([*others, gain])[0] for _, gain in members]
                unit = "points"
            chosen = max(totals) if group.take == "best" else min(totals)
            winner = members[totals.index(chosen)][0].name
            for (rule, _), total in zip(members, totals, strict=True):
                if rule.name != winner:
                    outdone[rule.name] = (
                        f"group {name!r} takes the {group.take} rule: {winner!r} "
                        f"({show(chosen)} {unit} against {show(total)})"
                    )
        return outdone


def _set_aside(
    name: str, gain: _Gain, outdone: Mapping[str, str], idle: Mapping[str, str]
) -> Step:
    """The step of a rule that fired but does not apply: its group took another rule, or
    it gives only multipliers and there are no spend points to multiply."""
    if name in outdone:
        return Step(Verdict.OUTDONE, outdone[name], name)
    return Step(Verdict.NOTHING, f"{gain.text}: {idle[name]}", name)


def _spends(
    fired: list[tuple[_Compiled, _Gain]], outdone: Mapping[str, str], aside: frozenset[str]
) -> bool:
    """Whether a rule that applies (fired, not outdone, not set aside) gives spend points."""
    return any(
        gain.spend[0] and rule.name not in outdone and rule.name not in aside
        for rule, gain in fired
    )


def _money(units: int, places: int) -> str:
    """An amount counted in minor units, as money: 49910 cents is "499.10"."""
    return format(Decimal(units).scaleb(-places), "f")


def _vouchers(
    rule: str, gain: _Gain, gifts: list[tuple[str, VoucherOffer]], cashback: list[int]
) -> None:
    """Add what ``rule`` gives as vouchers to ``gifts``: its gifts, then its cashback,
    whose places go to ``cashback``."""
    gifts.extend((rule, offer) for offer in gain.gifts)
    for offer in gain.back_offers:
        cashback.append(len(gifts))
        gifts.append((rule, offer))


def _earned_text(points: int, spend: Ratio, factor: Ratio) -> str:
    from_spend = (spend[0] * factor[0]) // (spend[1] * factor[1])
    text = f"earned {points} points: {_show_ratio(spend)} spend points"
    if factor != (1, 1):
        text += f" x{_show_ratio(factor)}"
    text += ", rounded down"
    if points != from_spend:
        text += f", plus {points - from_spend} fixed points"
    return text


def _limited(rule: _Compiled, facts: Facts) -> tuple[Step | None, Step | None]:
    """The step saying a limit stopped the rule, or None; and, for an event older than the
    firings kept, a note that its limits could count only those.

    A limit counts the firings of the event's own period: for a calendar period, every
    firing in the period the event falls in (those after it too, for an event recorded
    late); for a rolling duration, the firings in every stretch of that length that holds
    the event, so that no stretch ends up with more firings than the limit.
    """
    fired = facts.state.rule_uses.get(rule.name, ())  # in time order
    at, zone = facts.at, facts.zone
    late = bool(fired) and fired[-1] > at
    kept_from = _keep_from(rule, facts, fired[-1]) if late else None
    partial = False
    for limit in rule.limits:
        since = limit.since(at, zone, local=facts.local)
        if late:
            used = _used_late(limit, fired, at, since, zone)
        else:  # nothing after the event: the firings since the start of its period
            used = sum(1 for when in fired if when >= since)
        if used >= limit.times:
            text = f"its limit of {limit.describe()} is reached ({used} used)"
            return Step(Verdict.LIMITED, text, rule.name), None
        partial = partial or (kept_from is not None and since < kept_from)
    if not partial:
        return None, None
    assert kept_from is not None
    text = (
        f"firings before {kept_from.isoformat()} are no longer kept: this event is older, "
        "and its limits count only the firings kept"
    )
    return None, Step(Verdict.NOTE, text, rule.name)


def _used_late(
    limit: Limit, fired: tuple[datetime, ...], at: datetime, since: datetime, zone: tzinfo
) -> int:
    """What ``limit`` has used of the periods that hold ``at``, an event older than the
    newest of the rule's firings (``fired``, in time order); ``since`` starts its period."""
    if isinstance(limit.per, str):  # the calendar period ``at`` falls in, whole
        used = 0
        for when in fired:
            if when < since:
                continue
            if when > at and limit.since(when, zone) != since:
                break  # the periods after it
            used += 1
        return used
    # Rolling: the stretch ending at the event, and each one ending at a later firing
    # that reaches back to it.
    ends = [at, *(when for when in fired if when > at and limit.since(when, zone) <= at)]
    used = 0
    for end in ends:
        start = limit.since(end, zone)
        used = max(used, sum(1 for when in fired if start <= when <= end))
    return used


def _keep_from(rule: _Compiled, facts: Facts, newest: datetime | None = None) -> datetime:
    """From when the rule's firings are kept, once it fires for the event in ``facts``
    (or, given ``newest``, once its newest firing is that).

    Long enough to judge an event recorded up to one period late: from the start of the
    period before the one the newest firing falls in (for a rolling duration, two of its
    lengths before it), for the longest of the rule's limits. Without limits (first
    customers only), what matters is that it fired: the newest firing is enough.
    """
    local = None
    if newest is None:
        fired = facts.state.rule_uses.get(rule.name, ())
        newest = facts.at
        if fired and fired[-1] > newest:
            newest = fired[-1]
        else:  # the event is the newest: its local time is known already
            local = facts.local
    keep_from = newest
    zone = facts.zone
    for limit in rule.limits:
        start = limit.since(newest, zone, local=local)
        keep_from = min(keep_from, limit.since(_just_before(limit, start), zone))
    return keep_from


def _just_before(limit: Limit, start: datetime) -> datetime:
    """The instant just before ``start``, the start of a period of ``limit``: a time of
    the period before it.

    A calendar period starts at the first instant of its first day, which is not always
    midnight on the wall clock: where the clocks jump from 00:00 to 01:00 the day starts
    at 01:00, and the microsecond before that on the wall clock (00:59:59.999999) is a
    time the clocks skip, which reads as the same day again. Taken as an instant (in UTC),
    the microsecond before the start is always the day before. A rolling ``timedelta`` is
    counted on the wall clock of the time it starts from (as Python's ``-`` counts), so
    its start keeps that clock."""
    if isinstance(limit.per, timedelta):
        return start - _INSTANT
    return start.astimezone(UTC) - _INSTANT


_INSTANT = timedelta(microseconds=1)
_NONE: frozenset[str] = frozenset()
