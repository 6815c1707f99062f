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
from custbond.rules.conditions import Always, Condition
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
    RuleEffect,
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

# A member of an enum is a class attribute that Python looks up the slow way (a descriptor,
# three times the cost of a global): the verdicts, as module globals.
_FIRED, _NOTHING, _FAILED, _LIMITED = (
    Verdict.FIRED,
    Verdict.NOTHING,
    Verdict.FAILED,
    Verdict.LIMITED,
)
_OUTSIDE, _STOPPED, _OUTDONE, _NOTE = (
    Verdict.OUTSIDE,
    Verdict.STOPPED,
    Verdict.OUTDONE,
    Verdict.NOTE,
)

# Steps and awards are named tuples made by the thousand: built with tuple.__new__ and all
# their fields, they skip the Python-level __new__ that fills in defaults (half the cost).
_new = tuple.__new__

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
    """What one fired rule gives, before groups and multipliers are resolved.

    What a rule does not give is left to the class's defaults (no slots, so that a gain
    sets only the few things it gives: a gain is made for most rules on most events).
    A gain is never changed once its rule has made it, so a rule whose gain does not
    depend on the event makes it once (see :attr:`_Compiled.constant`).
    """

    pointed = False  # whether it gives points (spend, items, fixed, multipliers)
    spend: Ratio = (0, 1)
    fixed = 0
    factors: tuple[Ratio, ...] = ()
    stamps: dict[str, int] | None = None  # made when it gives stamps
    tier: str | None = None
    tier_only_up = False
    tags: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()
    gifts: tuple[VoucherOffer, ...] = ()
    discounts: tuple[Discount, ...] = ()
    discount = Decimal(0)  # what its discounts take off, for groups to compare
    back: Decimal | None = None  # its cashback (None: it has none), for groups
    back_units = 0  # its cashback in minor units of the currency, for budgets
    back_offers: tuple[VoucherOffer, ...] = ()  # a money voucher per cashback
    text = ""
    # Whether it gives something of its own: points, stamps, a tier, a tag, a message,
    # a voucher, money off. Multipliers are not counted here: what they give depends on
    # the spend points of the other rules (see RuleBook._settle).
    given = False
    multiplies_only = False  # all it gives is multipliers
    # Whether it gives something beyond points: stamps, a tier, tags, messages, vouchers
    # (gifts, cashback), discounts.
    beyond = False
    fired: Step | None = None  # the step saying the rule fired, for a gain made once


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


# How a part of a condition that failed reads in a trace: its text, the facts it shows
# (label, getter) and, when it shows one, the steps made so far by the fact's value.
_Said = tuple[str, tuple[tuple[str, Getter], ...], dict[tuple[type, Any], Step] | None]
# The types of the values a failure's steps are kept by (and Decimals, by their text).
_KEPT_TYPES = frozenset({str, int, bool, type(None), frozenset})
_KEEP_FAILURES = 64  # steps kept per part of a condition


class _Compiled:
    """One rule, ready to run: its condition compiled, its effects sorted by kind."""

    __slots__ = (
        "always_gives",
        "budget",
        "budget_counter",
        "budget_limit",
        "budget_money",
        "budget_text",
        "capped",
        "cashback",
        "check",
        "constant",
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
        "gives_more",
        "group",
        "in_currency",
        "item_words",
        "items",
        "lean",
        "limits",
        "messages",
        "name",
        "outside",
        "picky",
        "places",
        "pointed",
        "priority",
        "said_after",
        "said_back",
        "said_factors",
        "said_fixed",
        "spend",
        "spend_only",
        "spend_words",
        "stamp_words",
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
        self._sort_effects(rule.then, currency)
        # How each part of the condition that can fail reads in a trace, and the facts
        # it shows the values of: made on the part's first failure.
        self.failures: dict[int, _Said] = {}
        self.picky = False  # in a group that takes one rule (set by the rule book)
        self._plan(rule)

    def _sort_effects(self, then: tuple[RuleEffect, ...], currency: str) -> None:
        """The rule's effects by kind, and how each reads in a trace."""
        self.spend = tuple(effect for effect in then if isinstance(effect, PointsPerSpend))
        self.items = tuple(effect for effect in then if isinstance(effect, PointsPerItem))
        self.fixed = sum(effect.points for effect in then if isinstance(effect, FixedPoints))
        # Each multiplier's factor as an exact ratio.
        self.factors = tuple(
            effect.factor.as_integer_ratio() for effect in then if isinstance(effect, Multiplier)
        )
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
        self.spend_only = bool(self.spend) and len(self.spend) == len(then)
        # A tier, a tag, a message or a gift is something, whatever the event.
        self.always_gives = bool(self.tier is not None or self.tags or self.messages or self.gifts)
        # Those or discounts: what the rule gives beyond points and stamps.
        self.gives_more = self.always_gives or bool(self.discounts)
        # How each effect that depends on the event reads in a trace, but for what it
        # depends on (an amount, a count): made once. For points per spend, also whether
        # it earns on the whole amount (no sku or tag).
        self.spend_words = tuple(
            (effect, f"{effect.describe(currency)} on ", effect.sku is None and effect.tag is None)
            for effect in self.spend
        )
        self.in_currency = f" {currency}"
        self.item_words = tuple(
            (effect, f"{effect.describe(currency)}, ") for effect in self.items
        )
        self.stamp_words = tuple((stamp, f" on card {stamp.card!r}") for stamp in self.stamps)
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

    def _plan(self, rule: Rule) -> None:
        """What the engine can skip for this rule: made once, after everything else."""
        # A rule that reads nothing but the event's own effects: no condition, window or
        # limit of any kind, and stopping no rule below it. The engine considers such
        # rules without the facts, the counters or the exclusive rules' passes (see
        # RuleBook._evaluate_lean).
        self.capped = bool(rule.limits)  # a limit, a budget or a first-customers cap
        self.lean = (
            isinstance(rule.when, Always)
            and self.window is None
            and not (self.capped or rule.exclusive)
        )
        # The step of an event outside the rule's window (if it has one): made once.
        said_window = "" if self.window is None else self.window.describe()
        self.outside = Step(_OUTSIDE, said_window, self.name)
        # What the rule gives, when that does not depend on the event (fixed points,
        # multipliers, stamps per event, a tier, tags, messages, gifts): made once.
        self.constant: _Gain | None = None
        if not (self.spend or self.items or self.discounts or self.cashback) and all(
            stamp.sku is None and stamp.tag is None for stamp in self.stamps
        ):
            self.constant = self._gain(None)
            self.constant.fired = Step(_FIRED, self.constant.text, self.name)

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
            said = self._failure_of(failed)
        text, reads, seen = said
        if not reads:
            return _new(Step, (_FAILED, text, self.name, ()))
        if seen is not None:  # one fact read: its steps are kept by value
            found = reads[0][1](facts)
            kind = type(found)
            # Two equal values of one of these types read alike in a trace; a Decimal
            # (1.0 and 1.00 are equal) is told apart by its text.
            key = (kind, found) if kind in _KEPT_TYPES else (kind, str(found))
            step = seen.get(key)
            if step is None:
                step = self._failed(text, reads[0][0], found)
                if len(seen) < _KEEP_FAILURES and (kind in _KEPT_TYPES or kind is Decimal):
                    seen[key] = step
            return step
        values = []
        for label, read in reads:
            found = read(facts)
            if isinstance(found, frozenset):
                found = tuple(sorted(found))
            values.append((label, found))
        return _new(Step, (_FAILED, text, self.name, tuple(values)))

    def _failed(self, text: str, label: str, found: Any) -> Step:
        if isinstance(found, frozenset):
            found = tuple(sorted(found))
        return _new(Step, (_FAILED, text, self.name, ((label, found),)))

    def _failure_of(self, failed: Condition) -> _Said:
        """How ``failed`` reads in a trace, the facts whose values it shows, and (when
        it shows one) the steps already made, by that fact's value."""
        getters = {
            leaf.fact_text(): leaf.getter()
            for leaf in failed.comparisons()
            if str(leaf) != leaf.fact_text()
        }
        reads = tuple(getters.items())
        # Parts of the rule's own condition live as long as the rule: ids stay theirs.
        said = self.failures[id(failed)] = (str(failed), reads, {} if len(reads) == 1 else None)
        return said

    def consider(self, event: Any) -> _Gain | Step:
        """What the rule gives for ``event`` (its condition held and no limit stopped it),
        or the step saying it gives nothing: nothing of its own, nothing to multiply."""
        gain = self.constant
        if gain is None:
            gain = self._spend_gain(event) if self.spend_only else self._gain(event)
        if not gain.given and not gain.factors:
            return _new(Step, (_NOTHING, gain.text, self.name, ()))
        return gain

    def _spend_gain(self, event: Any) -> _Gain:
        """:meth:`_gain` for a rule that gives points per spend and nothing else (a
        program's base earning rule, most often): what is left of it when the rule has no
        other effect. It gives something when its spend points are not 0."""
        gain = _Gain()
        gain.pointed = True
        spend: Ratio = (0, 1)
        text = ""
        for effect, words, whole in self.spend_words:
            amount = event.amount if whole else effect.spend(event)
            exact = effect.exact(amount)
            spend = _add(spend, exact) if spend[0] else exact  # 0 + x is x
            said = f"{words}{amount}{self.in_currency}"
            text = f"{text}; {said}" if text else said
        gain.spend = spend
        gain.given = bool(spend[0])
        gain.text = text
        # The defaults the engine reads of every gain, set on the instance all the same:
        # Python 3.11 reads an instance's own attributes faster than its class's.
        gain.factors = ()
        gain.multiplies_only = gain.beyond = False
        gain.fired = None
        gain.fixed = 0
        return gain

    def _gain(self, event: Any) -> _Gain:
        """What the rule gives for ``event``, whatever its effects: each kind of effect
        the rule does not have is skipped whole."""
        gain = _Gain()
        gain.pointed = self.pointed
        said: list[str] = []
        if self.spend or self.items:
            gain.spend = self._spend_points(event, said)
        if self.fixed:
            gain.fixed = self.fixed
            said.append(self.said_fixed)
        if self.factors:
            gain.factors = self.factors
            said.extend(self.said_factors)
        if self.stamps:
            self._stamp(event, gain, said)
        if self.gives_more:
            gain.tier = self.tier
            gain.tier_only_up = self.tier_only_up
            gain.tags = self.tags
            gain.messages = self.messages
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
        gain.beyond = self.gives_more or bool(gain.stamps or gain.back_offers)
        if not said:  # only stamps, and none for this event
            cards = dict.fromkeys(stamp.card for stamp in self.stamps)
            said = [f"0 stamps on card {card!r}" for card in cards]
        gain.text = "; ".join(said) or "nothing to give"
        return gain

    def _spend_points(self, event: Any, said: list[str]) -> Ratio:
        """The spend points of the rule's points per spend and per item, saying each in
        ``said``."""
        spend: Ratio = (0, 1)
        for effect, words, whole in self.spend_words:
            amount = event.amount if whole else effect.spend(event)
            exact = effect.exact(amount)
            spend = _add(spend, exact) if spend[0] else exact  # 0 + x is x
            said.append(f"{words}{amount}{self.in_currency}")
        for item_effect, item_words in self.item_words:
            count = item_effect.count(event)
            points = (item_effect.points * count, 1)
            spend = _add(spend, points) if spend[0] else points
            said.append(f"{item_words}{count} bought")
        return spend

    def _stamp(self, event: Any, gain: _Gain, said: list[str]) -> None:
        """The stamps the rule gives for ``event``, by card, saying each in ``said``."""
        for stamp, on_card in self.stamp_words:
            count = stamp.stamps_for(event)
            if count:
                stamps = gain.stamps
                if stamps is None:
                    stamps = gain.stamps = {}
                stamps[stamp.card] = stamps.get(stamp.card, 0) + count
                said.append(f"{count} stamp{'s' if count != 1 else ''}{on_card}")

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
    uses: Sequence[tuple[str, datetime]]  # (rule, keep its firings from)
    shared: Sequence[tuple[str, str, int]]  # (rule, counter, amount)
    stoppers: frozenset[str]  # the exclusive rules that stopped rules below them
    notes: Mapping[str, Step]  # rule -> why its limits were judged on part of its firings
    multiplies_only: bool  # whether a rule that gives only multipliers fired
    spent: bool  # whether a rule that gives spend points fired
    # Whether a rule that gives points fired or gave nothing: the trace then says what the
    # event earned, 0 points too.
    pointed: bool
    # How many of the rules that fired are in groups that take one rule: under two, no
    # group has anything to choose from.
    rivals: int


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
        self._multiply = multipliers == "multiply"
        self.base = base
        ordered = sorted(rules, key=lambda rule: (-rule.priority, rule.name))
        self._by_type: dict[str, tuple[_Compiled, ...]] = {}
        compiled = {rule.name: _Compiled(rule, currency) for rule in ordered}
        # Only groups that take one rule need resolving; most programs have none.
        self._picky = [self.groups[name] for name in sorted(self.groups)]
        self._picky = [group for group in self._picky if group.take != "all"]
        for found in compiled.values():
            found.picky = found.group in {group.name for group in self._picky}
        self._counters: dict[str, tuple[str, ...]] = {}
        for rule in ordered:
            counters = compiled[rule.name].counters
            for name in sorted(rule.on):
                self._by_type[name] = (*self._by_type.get(name, ()), compiled[rule.name])
                if counters:
                    self._counters[name] = (*self._counters.get(name, ()), *counters)
        # The event types whose rules are all lean: considered without the facts.
        self._lean = frozenset(
            name for name, found in self._by_type.items() if all(rule.lean for rule in found)
        )
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
        kind = type(event).__name__
        rules = self._by_type.get(kind)
        if not rules:
            return _NO_AWARD
        if kind in self._lean:
            return self._evaluate_lean(rules, event)
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

    def _evaluate_lean(self, rules: tuple[_Compiled, ...], event: Any) -> Award:
        """:meth:`evaluate` for an event type whose rules are all lean (see
        :attr:`_Compiled.lean`): the same award, without the facts or the counters.

        It is :meth:`_consider` with what cannot happen to lean rules left out: no
        exclusive rule stops another (so one pass), no window, condition, limit, budget or
        first-customers cap holds one back, none counts its firings or takes from a shared
        counter. A group with two rules to choose from, multipliers with nothing to
        multiply (what :meth:`_settle` resolves) and anything given beyond points go the
        general way (:meth:`_settle`, :meth:`_award`); an event that has none of them
        (most) is awarded here, as :meth:`_award` would: a step per rule, the points of
        the rules that fired, nothing set aside."""
        considered: list[tuple[_Compiled, _Gain | Step]] = []
        steps: list[Step] = []
        kept: list[_Gain] = []
        multiplies_only = spent = beyond = False
        nothing_pointed = fired_pointed = False  # a rule that gives points gave nothing, fired
        rivals = 0
        for rule in rules:
            result = rule.consider(event)
            considered.append((rule, result))
            if not isinstance(result, _Gain):  # it gives nothing
                steps.append(result)
                nothing_pointed = nothing_pointed or rule.pointed
                continue
            steps.append(_fired(rule.name, result))
            kept.append(result)
            fired_pointed = fired_pointed or result.pointed
            beyond = beyond or result.beyond
            multiplies_only = multiplies_only or result.multiplies_only
            spent = spent or bool(result.spend[0])
            rivals += rule.picky
        if beyond or rivals > 1 or (multiplies_only and not spent):
            fields = (
                considered,
                (),
                (),
                _NONE,
                _NO_NOTES,
                multiplies_only,
                spent,
                nothing_pointed,
                rivals,
            )
            run = _new(_Run, fields)
            outdone, idle = self._settle(run)
            return self._award(run, outdone, idle)
        points = 0
        if nothing_pointed or fired_pointed:
            points, spend, factor = self._points(kept)
            steps.append(_earned(points, spend, factor))
        return _points_alone(points, (), tuple(steps), ())

    def _consider(
        self,
        rules: tuple[_Compiled, ...],
        facts: Facts,
        counts: Mapping[str, int],
        quiet: frozenset[str],
    ) -> _Run:
        """One pass over ``rules``: what each gives or what holds it back. Exclusive rules
        in ``quiet`` stop nothing."""
        considered: list[tuple[_Compiled, _Gain | Step]] = []
        stop_below: int | None = None
        stopper = ""
        exclusive: list[str] = []
        stopped = False
        uses: list[tuple[str, datetime]] = []
        shared: list[tuple[str, str, int]] = []  # (rule, counter, amount)
        notes: dict[str, Step] = {}
        multiplies_only = spent = pointed = False
        rivals = 0
        for rule in rules:
            if stop_below is not None and rule.priority < stop_below and rule.name != self.base:
                text = f"the exclusive rule {stopper!r} fired above it"
                considered.append((rule, _new(Step, (_STOPPED, text, rule.name, ()))))
                stopped = True
                continue
            window = rule.window
            if window is not None and not window.contains(facts.at, facts.zone, local=facts.local):
                considered.append((rule, rule.outside))
                continue
            failed = rule.check(facts)
            if failed is not None:
                considered.append((rule, rule.failure(failed, facts)))
                continue
            if rule.capped:
                gain = self._held_back(rule, facts, counts, uses=uses, shared=shared, notes=notes)
            else:  # nothing to hold it back: what it gives, or that it gives nothing
                gain = rule.consider(facts.event)
            considered.append((rule, gain))
            if not isinstance(gain, _Gain):  # held back, or it gives nothing
                pointed = pointed or (rule.pointed and gain.verdict is _NOTHING)
                continue
            multiplies_only = multiplies_only or gain.multiplies_only
            spent = spent or bool(gain.spend[0])
            rivals += rule.picky
            if rule.exclusive and rule.name not in quiet:
                exclusive.append(rule.name)
                stop_below, stopper = rule.priority, rule.name
        stoppers = frozenset(exclusive) if stopped else _NONE
        fields = (
            considered,
            uses,
            shared,
            stoppers,
            notes,
            multiplies_only,
            spent,
            pointed,
            rivals,
        )
        return _new(_Run, fields)

    def _held_back(
        self,
        rule: _Compiled,
        facts: Facts,
        counts: Mapping[str, int],
        *,
        uses: list[tuple[str, datetime]],
        shared: list[tuple[str, str, int]],
        notes: dict[str, Step],
    ) -> _Gain | Step:
        """For a rule with limits whose condition holds: the step saying which limit holds
        it back or that it gives nothing, or what it gives. When it gives something, adds
        from when its firings are kept to ``uses``, what it takes of the shared counters
        to ``shared``, and to ``notes`` a note when its limits could count only the
        firings kept."""
        event, state = facts.event, facts.state
        note_ = None
        if rule.limits:
            stopped, note_ = _limited(rule, facts)
            if stopped is not None:
                return stopped
        taken: list[tuple[str, str, int]] = []
        if rule.first is not None and rule.name not in state.rule_uses:
            served = counts.get(rule.first_counter, 0)
            if served >= rule.first.count:
                text = f"it is for {rule.first.describe()}, and {served} have had it"
                return Step(_LIMITED, text, rule.name)
            taken.append((rule.name, rule.first_counter, 1))
        gain = rule.consider(event)
        if not isinstance(gain, _Gain):  # nothing of its own, nothing to multiply
            return gain
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
                return Step(_LIMITED, text, rule.name)
            if own:
                taken.append((rule.name, rule.budget_counter, own))
        shared.extend(taken)
        if rule.limits or rule.first is not None:  # not for a budget alone
            uses.append((rule.name, _keep_from(rule, facts)))
        if note_ is not None:
            notes[rule.name] = note_
        return gain

    # -- putting the gains together ------------------------------------------------------

    def _points(self, gains: Sequence[_Gain]) -> tuple[int, Ratio, Ratio]:
        """(points, spend points, combined factor) for these gains together."""
        spend: Ratio = (0, 1)
        fixed = 0
        factor: Ratio = (1, 1)
        for gain in gains:
            spend = _add(spend, gain.spend) if spend[0] else gain.spend  # 0 + x is x
            fixed += gain.fixed
            for top, bottom in gain.factors:
                if self._multiply:
                    factor = (factor[0] * top, factor[1] * bottom)
                else:
                    factor = _add(factor, (top - bottom, bottom))
        points = (spend[0] * factor[0]) // (spend[1] * factor[1])
        return points + fixed, spend, factor

    def _settle(self, run: _Run) -> tuple[Mapping[str, str], Mapping[str, str]]:
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
        if run.rivals < 2 and (run.spent or not run.multiplies_only):
            # Most events: no group has two rules to choose from, and any multiplier has
            # spend points to multiply.
            return _NOTHING_SET_ASIDE
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
        beyond: _Beyond | None = None  # made for the first rule that gives more than points
        uses, shared, notes = run.uses, run.shared, run.notes
        set_aside = outdone or idle
        for rule, result in run.considered:
            if not isinstance(result, _Gain):
                steps.append(result)
                continue
            name = rule.name
            if set_aside and (name in outdone or name in idle):
                steps.append(_set_aside(name, result, outdone, idle))
                pointed = pointed or name in idle
                uses = [use for use in uses if use[0] != name]
                shared = [take for take in shared if take[0] != name]
                continue
            steps.append(_fired(name, result))
            if notes and name in notes:
                steps.append(notes[name])
            kept.append(result)
            pointed = pointed or result.pointed
            if result.beyond:
                if beyond is None:
                    beyond = _Beyond()
                beyond.add(name, result, steps)
        points = 0
        if pointed:
            points, spend, factor = self._points(kept)
            steps.append(_earned(points, spend, factor))
        counted = tuple((counter, amount) for _, counter, amount in shared) if shared else ()
        if beyond is None:
            return _points_alone(points, tuple(uses), tuple(steps), counted)
        return beyond.award(points, tuple(uses), tuple(steps), counted)

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


class _Beyond:
    """What the rules that apply give beyond points (stamps, a tier, tags, messages,
    vouchers, discounts), gathered for an :class:`Award`: made only for an event where
    a rule gives one of them."""

    __slots__ = (
        "cashback",
        "discounts",
        "gifts",
        "messages",
        "only_up",
        "stamps",
        "tags",
        "tier",
        "tier_rule",
    )

    def __init__(self) -> None:
        self.stamps: dict[str, int] = {}
        self.tier: str | None = None
        self.tier_rule: str | None = None
        self.only_up = False
        self.tags: list[str] = []
        self.messages: list[tuple[str, Message]] = []
        self.gifts: list[tuple[str, VoucherOffer]] = []
        self.cashback: list[int] = []
        self.discounts: list[tuple[str, Discount]] = []

    def add(self, name: str, gain: _Gain, steps: list[Step]) -> None:
        """Add what the rule ``name`` gives; a note in ``steps`` when its tier loses to
        the tier of a rule before it."""
        if gain.stamps:
            stamps = self.stamps
            for card, count in gain.stamps.items():
                stamps[card] = stamps.get(card, 0) + count
        if gain.tier is not None:
            if self.tier is None:
                self.tier, self.tier_rule, self.only_up = gain.tier, name, gain.tier_only_up
            elif gain.tier != self.tier:
                text = f"tier {gain.tier!r} not given: {self.tier!r} came first"
                steps.append(Step(_NOTE, text, name))
        if gain.tags:
            tags = self.tags
            tags.extend(tag for tag in gain.tags if tag not in tags)
        if gain.messages:
            self.messages.extend((name, message) for message in gain.messages)
        if gain.gifts or gain.back_offers:
            _vouchers(name, gain, self.gifts, self.cashback)
        if gain.discounts:
            self.discounts.extend((name, discount) for discount in gain.discounts)

    def award(
        self,
        points: int,
        uses: tuple[tuple[str, datetime], ...],
        steps: tuple[Step, ...],
        shared: tuple[tuple[str, int], ...],
    ) -> Award:
        """The award of an event: ``points``, what was gathered here, and the rest."""
        stamps = tuple(sorted(self.stamps.items())) if self.stamps else ()
        return _new(
            Award,
            (
                points,
                stamps,
                self.tier,
                self.tier_rule,
                self.only_up,
                tuple(self.tags),
                tuple(self.messages),
                uses,
                steps,
                tuple(self.gifts),
                shared,
                tuple(self.discounts),
                tuple(self.cashback),
            ),
        )


def _points_alone(
    points: int,
    uses: tuple[tuple[str, datetime], ...],
    steps: tuple[Step, ...],
    shared: tuple[tuple[str, int], ...],
) -> Award:
    """The award of an event whose rules give points and nothing more (most events)."""
    # The fields in Award's order, through tuple.__new__ (see _new).
    return _new(Award, (points, (), None, None, False, (), (), uses, steps, (), shared, (), ()))


def _fired(name: str, gain: _Gain) -> Step:
    """The step saying the rule ``name`` fired with ``gain``: made once for a constant
    gain (``gain.fired``), else now."""
    return gain.fired or _new(Step, (_FIRED, gain.text, name, ()))


def _set_aside(
    name: str, gain: _Gain, outdone: Mapping[str, str], idle: Mapping[str, str]
) -> Step:
    """The step of a rule that fired but does not apply: its group took another rule, or
    it gives only multipliers and there are no spend points to multiply."""
    if name in outdone:
        return Step(_OUTDONE, outdone[name], name)
    return Step(_NOTHING, f"{gain.text}: {idle[name]}", name)


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


def _earned(points: int, spend: Ratio, factor: Ratio) -> Step:
    """The note of what an event earned. Amounts repeat (prices, baskets): the notes of
    the last few thousand are kept."""
    key = (points, spend, factor)
    step = _EARNED.get(key)
    if step is None:
        if len(_EARNED) >= _KEEP_EARNED:
            _EARNED.clear()
        step = _EARNED[key] = Step(_NOTE, _earned_text(points, spend, factor))
    return step


_EARNED: dict[tuple[int, Ratio, Ratio], Step] = {}
_KEEP_EARNED = 4096


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
            return Step(_LIMITED, text, rule.name), None
        partial = partial or (kept_from is not None and since < kept_from)
    if not partial:
        return None, None
    assert kept_from is not None
    text = (
        f"firings before {kept_from.isoformat()} are no longer kept: this event is older, "
        "and its limits count only the firings kept"
    )
    return None, Step(_NOTE, text, rule.name)


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
_NO_AWARD = Award()
# Shared, and never changed (typed as read-only): what most events have of these.
_NO_NOTES: Mapping[str, Step] = {}
_NO_REASONS: Mapping[str, str] = {}
_NOTHING_SET_ASIDE = (_NO_REASONS, _NO_REASONS)
