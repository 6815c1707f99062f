"""A program in words, for people: what ``custbond explain`` and ``custbond check`` print.

Pure functions from a :class:`~custbond.Program` to lines of text. Where a value can
describe itself (an effect, a limit, a window, a duration), its own words are used, so the
explanation says what the traces say.

>>> from custbond import Program
>>> from custbond.rules import Limit, Multiplier, Rule
>>> program = Program(
...     rules=[Rule("double", on="Purchase", then=[Multiplier(2)], limits=[Limit(4, per="month")])]
... )
>>> summary(program)
'1 rule'
>>> print("\\n".join(explain(program)))
Currency: USD
Time zone: UTC
Points: available at once; they never expire; a return never takes the balance below zero
Multipliers: they multiply each other (2x and 1.5x make 3x)
<BLANKLINE>
Rules for Purchase, in the order they are considered:
  1. double
     gives: spend points x2
     limits: 4 times per calendar month
  2. points per spend
     gives: points, 1 per 1 USD
"""

from __future__ import annotations

from collections.abc import Sequence

from custbond._durations import describe_duration
from custbond.bonds.achievements import Achievement
from custbond.bonds.cards import PunchCard
from custbond.bonds.catalog import Reward
from custbond.bonds.coupons import Coupon
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.tiers import Level, TierLadder
from custbond.ledger import PointsPolicy
from custbond.program import Program
from custbond.rules.conditions import Always
from custbond.rules.effects import (
    Cashback,
    Discount,
    Gift,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    RuleEffect,
    Stamps,
)
from custbond.rules.rule import EVENT_NAMES, Budget, Group, Rule
from custbond.vouchers import VoucherOffer

__all__ = ["describe_effect", "describe_offer", "explain", "summary"]

_TAKES = {
    "all": "the rules that fire all apply (they stack)",
    "best": "only the rule that gives the most applies (points, or else money off)",
    "lowest": "only the rule that gives the least applies (points, or else money off)",
}
_MULTIPLIERS = {
    "multiply": "they multiply each other (2x and 1.5x make 3x)",
    "add": "what each adds is added up (2x and 1.5x make 2.5x)",
}


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def summary(program: Program) -> str:
    """What the program holds, counted: ``"9 rules, 1 card, 2 tier levels"``. The rules
    are those written as rules (not the base rule, cards' or tiers' own)."""
    parts = [_count(len(program.rules), "rule")]
    counted = (
        (len(program.groups), "group"),
        (len(program.cards), "card"),
        (0 if program.tiers is None else len(program.tiers.levels), "tier level"),
        (len(program.catalog), "reward"),
        (len(program.achievements), "achievement"),
        (len(program.coupons), "coupon"),
    )
    parts.extend(_count(number, thing) for number, thing in counted if number)
    if program.referrals is not None:
        parts.append("referrals")
    return ", ".join(parts)


def explain(program: Program) -> list[str]:
    """The program in words, as lines: its settings, then its rules for each event type in
    the order the engine considers them, then its other parts, where it has them."""
    lines = [
        f"Currency: {program.currency}",
        f"Time zone: {program.time_zone}",
        f"Points: {_policy(program.points)}",
    ]
    if any(isinstance(effect, Multiplier) for rule in program.all_rules() for effect in rule.then):
        lines.append(f"Multipliers: {_MULTIPLIERS[program.multipliers]}")
    for event_type in EVENT_NAMES:
        rules = program.rules_for(event_type)
        if rules:
            lines += ["", f"Rules for {event_type}, in the order they are considered:"]
            for number, rule in enumerate(rules, start=1):
                lines.extend(_rule(number, rule, program.currency))
    currency = program.currency
    lines += _section("Groups", [_group(group) for group in program.groups])
    lines += _section("Punch cards", [_card(card, currency) for card in program.cards])
    if program.tiers is not None:
        lines += ["", *_ladder(program.tiers, currency)]
    lines += _section("Catalog", [_reward(reward, currency) for reward in program.catalog])
    lines += _section("Coupons", [_coupon(coupon, currency) for coupon in program.coupons])
    achievements = [_achievement(achievement, currency) for achievement in program.achievements]
    lines += _section("Achievements", achievements)
    if program.referrals is not None:
        lines += ["", f"Referrals: {_referrals(program.referrals, currency)}"]
    lines += _bonds(program)
    return lines


def _bonds(program: Program) -> list[str]:
    """The social, customization and structural bonds, where the program has them."""
    lines: list[str] = []
    social = program.social
    if social is not None:
        owner = social.default_owner or "nobody (each customer's assigned owner only)"
        entries = [f"default owner: {owner}"]
        if social.cadence is not None:
            entries.append(social.cadence.describe())
        entries += [call.describe() for call in social.call_after]
        entries += [milestone.describe() for milestone in social.appreciation]
        if social.occasions is not None:
            entries.append(social.occasions.describe())
        if social.reviews is not None:
            entries.append(social.reviews.describe())
        lines += _section("Social bond", entries)
    custom = program.customization
    if custom is not None:
        lines += _section("Customization bond", custom.describe().split("; "))
    structure = program.structure
    if structure is not None:
        entries = [plan.describe() for plan in structure.plans]
        entries += [sequence.describe() for sequence in structure.sequences]
        lines += _section("Structural bond", entries)
    return lines


def _section(title: str, entries: Sequence[str]) -> list[str]:
    """A titled list of entries after a blank line; nothing when there are none."""
    return ["", f"{title}:", *(f"  {entry}" for entry in entries)] if entries else []


def _policy(policy: PointsPolicy) -> str:
    parts = []
    if policy.pending_for is None:
        parts.append("available at once")
    else:
        parts.append(f"pending for {describe_duration(policy.pending_for)} (the return window)")
    if policy.expire_after is None:
        parts.append("they never expire")
    else:
        expiry = f"they expire {describe_duration(policy.expire_after)} after they are earned"
        if policy.expire_at_end_of is not None:
            expiry += f", at the end of that {policy.expire_at_end_of.value}"
        parts.append(expiry)
    if policy.allow_negative:
        parts.append("a return may take the balance below zero")
    else:
        parts.append("a return never takes the balance below zero")
    return "; ".join(parts)


def _rule(number: int, rule: Rule, currency: str) -> list[str]:
    """A rule as an entry: its name and standing, then what it needs and gives."""
    standing = []
    if rule.priority:
        standing.append(f"priority {rule.priority}")
    if rule.exclusive:
        standing.append("exclusive: when it applies, no lower rule does but the base rule")
    if rule.group is not None:
        standing.append(f"group {rule.group!r}")
    head = f"  {number}. {rule.name}" + (f" ({'; '.join(standing)})" if standing else "")
    details = []
    if not isinstance(rule.when, Always):
        details.append(f"when: {rule.when}")
    if rule.window is not None:
        details.append(f"open: {rule.window.describe()}")
    details.append(f"gives: {'; '.join(describe_effect(e, currency) for e in rule.then)}")
    if rule.limits:
        limits = (
            limit.describe(currency) if isinstance(limit, Budget) else limit.describe()
            for limit in rule.limits
        )
        details.append(f"limits: {'; '.join(limits)}")
    if rule.description:
        details.append(f"about: {rule.description}")
    indent = " " * (len(str(number)) + 4)
    return [head, *(indent + detail for detail in details)]


def _selector(sku: str | None, tag: str | None) -> str:
    if sku is not None and tag is not None:
        return f"item {sku!r} tagged {tag!r}"
    if sku is not None:
        return f"item {sku!r}"
    return f"item tagged {tag!r}"


def describe_effect(effect: RuleEffect, currency: str) -> str:
    """What a rule's effect gives, in the words the engine's traces use (their
    ``describe()``), with what a trace says per event instead: per-item stamps, a gift's
    offer in full, how cashback and discounts are given."""
    if isinstance(effect, PointsPerSpend | PointsPerItem):
        return f"points, {effect.describe(currency)}"
    if isinstance(effect, Stamps):
        stamps = f"{_count(effect.count, 'stamp')} on card {effect.card!r}"
        if effect.sku is None and effect.tag is None:
            return stamps
        return f"{stamps} per {_selector(effect.sku, effect.tag)} bought"
    if isinstance(effect, Gift):
        return f"a gift: {describe_offer(effect.offer, currency)}"
    if isinstance(effect, Cashback):
        valid = (
            ""
            if effect.valid_for is None
            else f", valid for {describe_duration(effect.valid_for)}"
        )
        return f"{effect.describe()}, as a money voucher (rounded down{valid})"
    if isinstance(effect, Discount):
        return f"{effect.describe()} at checkout"
    return effect.describe()  # FixedPoints, Multiplier, Tier, Tag, Message


def describe_offer(offer: VoucherOffer, currency: str) -> str:
    """A voucher offer: ``'free coffee' (latte, worth up to 6.00 USD, valid for 3 months)``."""
    parts = []
    if offer.sku is not None:
        parts.append(offer.sku)
        if offer.value is not None:
            parts.append(f"worth up to {offer.value} {currency}")
    elif offer.value is not None:
        parts.append(f"{offer.value} {currency} off")
    if offer.valid_for is not None:
        parts.append(f"valid for {describe_duration(offer.valid_for)}")
    return f"{offer.name!r} ({', '.join(parts)})"


def _group(group: Group) -> str:
    return f"{group.name}: {_TAKES[group.take]}"


def _card(card: PunchCard, currency: str) -> str:
    if card.on == "Visit":
        counts = "one per visit"
    elif card.sku is None and card.tag is None:
        counts = "one per purchase"
    else:
        counts = f"one per {_selector(card.sku, card.tag)} bought"
    text = (
        f"{card.name}: {card.stamps} stamps ({counts}) fill it, for "
        f"{describe_offer(card.reward, currency)}"
    )
    if card.expire_after is not None:
        text += f"; stamps lapse {describe_duration(card.expire_after)} after the first"
    return text


def _ladder(ladder: TierLadder, currency: str) -> list[str]:
    head = (
        f"Tiers, from the lowest up (reached on a rolling {ladder.describe_window()}; kept "
        f"{describe_duration(ladder.keep_for)}, then reviewed after a grace of "
        f"{describe_duration(ladder.grace)}; customers are told "
        f"{describe_duration(ladder.notice)} before a review that would lower them):"
    )
    return [head, *(f"  {_level(level, currency)}" for level in ladder.levels)]


def _level(level: Level, currency: str) -> str:
    needs = []
    if level.spend is not None:
        needs.append(f"{level.spend} {currency} spent")
    if level.points is not None:
        needs.append(_count(level.points, "point"))
    if level.visits is not None:
        needs.append(_count(level.visits, "visit"))
    parts = [" or ".join(needs) if needs else "everyone (the base level)"]
    if level.multiplier is not None:
        parts.append(f"spend points x{format(level.multiplier, 'f')}")
    if level.perks:
        parts.append(f"perks: {', '.join(level.perks)}")
    return f"{level.name}: {'; '.join(parts)}"


def _reward(reward: Reward, currency: str) -> str:
    parts = [f"{reward.name}: {reward.points} points for {describe_offer(reward.offer, currency)}"]
    if reward.stock is not None:
        parts.append(f"{reward.stock} in stock")
    if reward.per_customer is not None:
        parts.append(f"{_times(reward.per_customer)} per customer")
    return "; ".join(parts)


def _times(number: int) -> str:
    return "once" if number == 1 else f"{number} times"


def _coupon(coupon: Coupon, currency: str) -> str:
    gives = []
    if coupon.discount is not None:
        gives.append(coupon.discount.describe())
    if coupon.points:
        gives.append(_count(coupon.points, "point"))
    parts = [f"{coupon.code}: {' and '.join(gives)}"]
    if coupon.starts is not None:
        parts.append(f"from {coupon.starts.isoformat()}")
    if coupon.ends is not None:
        parts.append(f"until {coupon.ends.isoformat()}")
    if coupon.uses is not None:
        parts.append(f"{_count(coupon.uses, 'use')} in all")
    if coupon.per_customer is not None:
        parts.append(f"{_times(coupon.per_customer)} per customer")
    return "; ".join(parts)


def _achievement(achievement: Achievement, currency: str) -> str:
    target = achievement.target
    if achievement.counts == "spend":
        reach = f"{target} {currency} spent"
    else:
        reach = f"{target} {achievement.counts}" if target != 1 else achievement.counts[:-1]
    period = "in all" if achievement.per == "ever" else f"in a calendar {achievement.per}"
    return f"{achievement.name}: {reach} {period} give {_and(_gifts(achievement, currency))}"


def _gifts(achievement: Achievement, currency: str) -> list[str]:
    gifts = []
    if achievement.points:
        gifts.append(_count(achievement.points, "point"))
    if achievement.gift is not None:
        gifts.append(describe_offer(achievement.gift, currency))
    if achievement.tag is not None:
        gifts.append(f"tag {achievement.tag!r}")
    return gifts


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _referrals(policy: ReferralPolicy, currency: str) -> str:
    when = "" if isinstance(policy.when, Always) else f" where {policy.when}"
    sides = []
    for side, points, gift in (
        ("the referrer", policy.referrer_points, policy.referrer_gift),
        ("the referee", policy.referee_points, policy.referee_gift),
    ):
        given = _given(points, gift, currency)
        if given:
            sides.append(f"{side} gets {_and(given)}")
    return f"on the referee's first purchase{when}, {'; '.join(sides)}"


def _given(points: int, gift: VoucherOffer | None, currency: str) -> list[str]:
    given = [_count(points, "point")] if points else []
    if gift is not None:
        given.append(describe_offer(gift, currency))
    return given
