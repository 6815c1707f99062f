"""The bond profile: how strongly each of the four bonds holds a customer, and why.

For each bond, a facts value says what is known about the customer (their tier, when
they were last contacted, which integrations they use, ...); a scoring function turns it
into a :class:`BondStrength`: a score from 0 to 100, a :class:`BondLevel`, and the
:class:`Fact`\\ s behind the score, each with the points it added and a reason a person
can read. A :class:`BondProfile` puts the four together, so a host can see who is held
by what, and who is held by nothing.

Scoring is pure and has no settings: the same facts always give the same score. Each
fact adds points up to its own cap; a bond's score is the sum, capped at 100. Every fact
is reported, the ones that added nothing too (with why: "no owner"), so a score can
always be explained by its facts. More of a good thing never lowers a score.

The table below **is** the scoring; the functions follow it row by row.

=============  ========================================================  ======
bond           fact                                                      points
=============  ========================================================  ======
financial      tier: 40 x rank / rungs on the ladder, rounded down       0-40
               points: enough for the cheapest reward                    20
               ... some points, but not enough (or no catalog)           10
               punch card: a quarter of its stamps or fewer to go        20
               ... some stamps collected                                 10
               unused vouchers: any                                      10
               purchases in the last 90 days: 5 each                     0-20
social         a relationship owner                                      30
               last contact within the cadence (30 days without one)     30
               ... within twice that                                     15
               members' events attended: 10 each                         0-20
               personal occasions known: 10 each                         0-20
               open tasks: shown, never scored (work to do, not a bond)  0
customization  preferences known: 8 each                                 0-32
               restrictions known: any (one honoured is a strong bond)   8
               personalised offers accepted: 10 each                     0-30
               wish-list items: 5 each                                   0-10
               saved carts: any                                          5
               products with a predicted next need: 5 each               0-15
structural     an active subscription (50 when one is paid)              40-50
               subscribed 6 months or more (15 from 12 months)           10-15
               integrations in use: 20 each                              0-40
               autoresponder sequences: 5 each                           0-10
=============  ========================================================  ======

A score is **none** at 0, **weak** from :data:`WEAK_FROM`, **moderate** from
:data:`MODERATE_FROM` and **strong** from :data:`STRONG_FROM`.

>>> from datetime import UTC, datetime
>>> maya = profile(
...     "maya",
...     datetime(2026, 3, 2, 9, tzinfo=UTC),
...     financial=FinancialFacts(
...         tier="gold", tier_rank=2, tiers=3, points=340, points_for_reward=250
...     ),
...     social=SocialFacts(
...         owner="Lena", days_since_contact=12, cadence_days=42, events_attended=2
...     ),
...     customization=CustomizationFacts(preferences_known=1),
...     structural=StructuralFacts(),
... )
>>> print(maya.social.describe())
social: strong (80): owner Lena; contact 12 days ago (cadence 42 days); 2 events attended
>>> maya.held_by
(<Bond.FINANCIAL: 'financial'>, <Bond.SOCIAL: 'social'>)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput

__all__ = [
    "MAX_SCORE",
    "MODERATE_FROM",
    "STRONG_FROM",
    "WEAK_FROM",
    "Bond",
    "BondLevel",
    "BondProfile",
    "BondStrength",
    "CustomizationFacts",
    "Fact",
    "FinancialFacts",
    "SocialFacts",
    "StructuralFacts",
    "profile",
    "score_customization",
    "score_financial",
    "score_social",
    "score_structural",
]

# The level thresholds: a score of 0 is none, then weak, moderate and strong from these.
WEAK_FROM = 1
MODERATE_FROM = 30
STRONG_FROM = 60
MAX_SCORE = 100

# Without a keep-in-touch cadence on the program, a contact this recent still counts.
DEFAULT_CONTACT_DAYS = 30


class Bond(enum.StrEnum):
    """The four bonds that hold a customer, in the order a profile lists them.

    >>> [str(bond) for bond in Bond]
    ['financial', 'social', 'customization', 'structural']
    """

    FINANCIAL = "financial"
    SOCIAL = "social"
    CUSTOMIZATION = "customization"
    STRUCTURAL = "structural"


class BondLevel(enum.StrEnum):
    """How strongly a bond holds, read from its score: none (0), weak (1-29),
    moderate (30-59), strong (60-100).

    Named ``BondLevel`` rather than ``Level``: :class:`custbond.Level` is a rung of a
    tier ladder.

    >>> BondLevel.of(0), BondLevel.of(29), BondLevel.of(30), BondLevel.of(60)
    (<BondLevel.NONE: 'none'>, <BondLevel.WEAK: 'weak'>, <BondLevel.MODERATE: 'moderate'>,
    <BondLevel.STRONG: 'strong'>)
    """

    NONE = "none"
    WEAK = "weak"
    MODERATE = "moderate"
    STRONG = "strong"

    @classmethod
    def of(cls, score: int) -> BondLevel:
        """The level of ``score`` (an int from 0 to 100)."""
        _score("score", score)
        if score >= STRONG_FROM:
            return cls.STRONG
        if score >= MODERATE_FROM:
            return cls.MODERATE
        if score >= WEAK_FROM:
            return cls.WEAK
        return cls.NONE


def _score(field: str, value: Any) -> int:
    score = v.integer(field, value, minimum=0)
    if score > MAX_SCORE:
        raise InvalidInput(field, value, f"an int from 0 to {MAX_SCORE}")
    return score


# Validators get the attribute, so one function serves every field and names it.
def _count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.integer(attribute.name, value, minimum=0)


def _optional_count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        v.integer(attribute.name, value, minimum=0)


def _at_most(field: str, value: int, limit_field: str, limit: int) -> None:
    if value > limit:
        raise InvalidInput(field, value, f"at most {limit_field} ({limit})")


@attrs.frozen(kw_only=True)
class FinancialFacts:
    """What holds a customer by money: their ``tier`` (``tier_rank`` 1 is the lowest of
    the ladder's ``tiers`` rungs; 0 and None without a tier), their available ``points``
    and what the cheapest catalog reward costs (``points_for_reward``, None without a
    catalog), the punch card nearest its reward (``stamps_to_go`` of ``card_size``, both
    None without a card), unused unexpired ``vouchers`` and ``purchases_90d``.

    >>> FinancialFacts(tier="gold", tier_rank=2, tiers=3, points=340).tier_rank
    2
    >>> FinancialFacts(tier_rank=4, tiers=3)
    Traceback (most recent call last):
    custbond.errors.InvalidInput: tier_rank must be at most tiers (3); got 4
    """

    tier: str | None = attrs.field(default=None, validator=v.is_optional_identifier)
    tier_rank: int = attrs.field(default=0, validator=_count)
    tiers: int = attrs.field(default=0, validator=_count)
    points: int = attrs.field(default=0, validator=_count)
    points_for_reward: int | None = attrs.field(default=None, validator=v.is_optional_positive_int)
    stamps_to_go: int | None = attrs.field(default=None, validator=_optional_count)
    card_size: int | None = attrs.field(default=None, validator=v.is_optional_positive_int)
    vouchers: int = attrs.field(default=0, validator=_count)
    purchases_90d: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        _at_most("tier_rank", self.tier_rank, "tiers", self.tiers)
        if (self.tier is None) != (self.tier_rank == 0):
            raise InvalidInput(
                "tier",
                self.tier,
                f"a tier name exactly when tier_rank is 1 or more ({self.tier_rank})",
            )
        if (self.stamps_to_go is None) != (self.card_size is None):
            raise InvalidInput(
                "stamps_to_go", self.stamps_to_go, "given with card_size, or neither given"
            )
        if self.stamps_to_go is not None and self.card_size is not None:
            _at_most("stamps_to_go", self.stamps_to_go, "card_size", self.card_size)


@attrs.frozen(kw_only=True)
class SocialFacts:
    """What holds a customer by people: their relationship ``owner``, the days since
    their last personal contact (``days_since_contact``, None if never) and the program's
    keep-in-touch period (``cadence_days``, None without a cadence), members' events
    attended, personal occasions known (a birthday, an anniversary) and the owner's
    ``open_tasks`` for them.

    >>> SocialFacts(owner="Lena", days_since_contact=12, cadence_days=42).owner
    'Lena'
    """

    owner: str | None = attrs.field(default=None, validator=v.is_optional_identifier)
    days_since_contact: int | None = attrs.field(default=None, validator=_optional_count)
    cadence_days: int | None = attrs.field(default=None, validator=v.is_optional_positive_int)
    events_attended: int = attrs.field(default=0, validator=_count)
    occasions_known: int = attrs.field(default=0, validator=_count)
    open_tasks: int = attrs.field(default=0, validator=_count)


@attrs.frozen(kw_only=True)
class CustomizationFacts:
    """What holds a customer by being known: ``preferences_known`` (favourites,
    restrictions, interests and an industry, each one), of which ``restrictions_known``
    ("gluten-free"), personalised ``offers_accepted``, wish-list ``wishes``,
    ``saved_carts`` and ``predicted_needs`` (products with a next-need prediction).

    >>> CustomizationFacts(preferences_known=3, restrictions_known=1).restrictions_known
    1
    >>> CustomizationFacts(restrictions_known=1)
    Traceback (most recent call last):
    custbond.errors.InvalidInput: restrictions_known must be at most preferences_known (0); got 1
    """

    preferences_known: int = attrs.field(default=0, validator=_count)
    restrictions_known: int = attrs.field(default=0, validator=_count)
    offers_accepted: int = attrs.field(default=0, validator=_count)
    wishes: int = attrs.field(default=0, validator=_count)
    saved_carts: int = attrs.field(default=0, validator=_count)
    predicted_needs: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        # A restriction is a preference too: it is counted in both.
        _at_most(
            "restrictions_known",
            self.restrictions_known,
            "preferences_known",
            self.preferences_known,
        )


@attrs.frozen(kw_only=True)
class StructuralFacts:
    """What holds a customer by the cost of leaving: active ``subscriptions`` (of which
    ``paid_subscriptions``), the longest active one's ``months_subscribed`` (0 without
    one), ``integrations`` in use (a portal, an API, a label printer) and the autoresponder
    ``sequences`` the customer is in.

    >>> StructuralFacts(subscriptions=2, paid_subscriptions=1, months_subscribed=14).subscriptions
    2
    >>> StructuralFacts(subscriptions=1, paid_subscriptions=2)
    Traceback (most recent call last):
    custbond.errors.InvalidInput: paid_subscriptions must be at most subscriptions (1); got 2
    """

    subscriptions: int = attrs.field(default=0, validator=_count)
    paid_subscriptions: int = attrs.field(default=0, validator=_count)
    months_subscribed: int = attrs.field(default=0, validator=_count)
    integrations: int = attrs.field(default=0, validator=_count)
    sequences: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        _at_most(
            "paid_subscriptions", self.paid_subscriptions, "subscriptions", self.subscriptions
        )
        if self.subscriptions == 0 and self.months_subscribed:
            raise InvalidInput(
                "months_subscribed", self.months_subscribed, "0 without an active subscription"
            )


def _fact_points(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _score("points", value)


@attrs.frozen(kw_only=True)
class Fact:
    """One fact behind a bond's score: its ``name``, the ``value`` read ("gold", 340,
    None), the ``points`` it added (0 to 100) and the ``reason`` in words.

    >>> Fact(name="tier", value="gold", points=26, reason="tier gold (2 of 3)").reason
    'tier gold (2 of 3)'
    """

    name: str = attrs.field(validator=v.is_identifier)
    value: object = attrs.field()
    points: int = attrs.field(validator=_fact_points)
    reason: str = attrs.field(validator=v.is_text)


def _facts(value: Any) -> tuple[Fact, ...]:
    return v.instances("facts", value, Fact, "a Fact")


def _is_bond(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Bond):
        raise InvalidInput("bond", value, "a Bond")


def _is_score(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _score("score", value)


@attrs.frozen(kw_only=True)
class BondStrength:
    """How strongly one ``bond`` holds a customer: a ``score`` from 0 to 100, which is
    the ``facts``' points summed and capped at 100 (checked), and its :attr:`level`.
    The facts include those that added nothing, with why.

    >>> strength = score_structural(StructuralFacts(integrations=1))
    >>> strength.score, strength.level
    (20, <BondLevel.WEAK: 'weak'>)
    >>> print(strength.describe())
    structural: weak (20): 1 integration in use
    """

    bond: Bond = attrs.field(validator=_is_bond)
    score: int = attrs.field(validator=_is_score)
    facts: tuple[Fact, ...] = attrs.field(default=(), converter=_facts)

    def __attrs_post_init__(self) -> None:
        explained = min(MAX_SCORE, sum(fact.points for fact in self.facts))
        if self.score != explained:
            raise InvalidInput(
                "score", self.score, f"the facts' points summed and capped at 100 ({explained})"
            )

    @property
    def level(self) -> BondLevel:
        """none, weak, moderate or strong, by the score."""
        return BondLevel.of(self.score)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the score is what it is: the reasons of the facts that added points or
        that read something (an overdue contact, open tasks, a card not started); when
        there are none, of every fact (what is missing).

        >>> score_social(SocialFacts(owner="Lena", days_since_contact=90, cadence_days=42)).reasons
        ('owner Lena', 'last contact 90 days ago (long overdue: cadence 42 days)')
        >>> score_social(SocialFacts()).reasons
        ('no owner', 'never contacted', 'no events attended', 'no occasions known',
        'no open tasks')
        """
        # A fact that read something but scored nothing is still news to a host ("long
        # overdue"); one that read nothing is only worth saying when nothing else is.
        notable = tuple(
            fact.reason for fact in self.facts if fact.points or fact.value not in (None, 0)
        )
        return notable or tuple(fact.reason for fact in self.facts)

    def describe(self) -> str:
        """One line: the bond, its level and score, and the reasons.

        >>> print(score_financial(FinancialFacts(vouchers=1)).describe())
        financial: weak (10): 1 unused voucher
        """
        reasons = "; ".join(self.reasons)
        return f"{self.bond}: {self.level} ({self.score})" + (f": {reasons}" if reasons else "")


def _strength(bond: Bond, *facts: Fact) -> BondStrength:
    return BondStrength(
        bond=bond, score=min(MAX_SCORE, sum(fact.points for fact in facts)), facts=facts
    )


def _each(count: int, per: int, cap: int) -> int:
    """``per`` points for each of ``count``, up to ``cap``."""
    return min(count * per, cap)


def _many(count: int, one: str, many: str | None = None) -> str:
    """'1 voucher', '2 vouchers'."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _ensure(field: str, value: object, kind: type, a_kind: str) -> None:
    if not isinstance(value, kind):
        raise InvalidInput(field, value, a_kind)


def _tier_fact(facts: FinancialFacts) -> Fact:
    if facts.tier is None:
        why = "no tier ladder" if facts.tiers == 0 else "no tier"
        return Fact(name="tier", value=None, points=0, reason=why)
    # Rounded down, so the top rung alone reaches 40: rank 2 of 3 is 26.
    points = 40 * facts.tier_rank // facts.tiers
    reason = f"tier {facts.tier} ({facts.tier_rank} of {facts.tiers})"
    return Fact(name="tier", value=facts.tier, points=points, reason=reason)


def _points_fact(facts: FinancialFacts) -> Fact:
    points, cost = facts.points, facts.points_for_reward
    if points == 0:
        return Fact(name="points", value=0, points=0, reason="no points")
    if cost is None:
        return Fact(name="points", value=points, points=10, reason=f"{points} points (no catalog)")
    if points >= cost:
        reason = f"{points} points, enough for a reward ({cost})"
        return Fact(name="points", value=points, points=20, reason=reason)
    reason = f"{points} points ({cost - points} short of a reward)"
    return Fact(name="points", value=points, points=10, reason=reason)


def _card_fact(facts: FinancialFacts) -> Fact:
    to_go, size = facts.stamps_to_go, facts.card_size
    if to_go is None or size is None:
        return Fact(name="punch card", value=None, points=0, reason="no punch card")
    if to_go == size:
        reason = f"punch card not started ({size} stamps to go)"
        return Fact(name="punch card", value=to_go, points=0, reason=reason)
    # A quarter or fewer to go, in ints: 4 x to_go <= size.
    points = 20 if 4 * to_go <= size else 10
    reason = f"punch card {size - to_go} of {size}" + (
        " (reward due)" if to_go == 0 else f" ({_many(to_go, 'stamp')} to go)"
    )
    return Fact(name="punch card", value=to_go, points=points, reason=reason)


def score_financial(facts: FinancialFacts) -> BondStrength:
    """The financial bond's strength, by the table in this module's docstring.

    >>> strength = score_financial(FinancialFacts(
    ...     tier="gold", tier_rank=2, tiers=3, points=340, points_for_reward=250,
    ...     stamps_to_go=2, card_size=10, vouchers=1, purchases_90d=3,
    ... ))
    >>> [fact.points for fact in strength.facts], strength.score
    ([26, 20, 20, 10, 15], 91)
    >>> print(strength.describe())
    financial: strong (91): tier gold (2 of 3); 340 points, enough for a reward (250);
    punch card 8 of 10 (2 stamps to go); 1 unused voucher; 3 purchases in the last 90 days
    """
    _ensure("facts", facts, FinancialFacts, "a FinancialFacts")
    vouchers, purchases = facts.vouchers, facts.purchases_90d
    return _strength(
        Bond.FINANCIAL,
        _tier_fact(facts),
        _points_fact(facts),
        _card_fact(facts),
        Fact(
            name="vouchers",
            value=vouchers,
            points=10 if vouchers else 0,
            reason=_many(vouchers, "unused voucher") if vouchers else "no unused vouchers",
        ),
        Fact(
            name="purchases",
            value=purchases,
            points=_each(purchases, 5, 20),
            reason=f"{_many(purchases, 'purchase') if purchases else 'no purchases'} "
            "in the last 90 days",
        ),
    )


def _days(count: int) -> str:
    return {0: "today", 1: "yesterday"}.get(count, f"{count} days ago")


def _contact_fact(facts: SocialFacts) -> Fact:
    days, cadence = facts.days_since_contact, facts.cadence_days
    if days is None:
        return Fact(name="contact", value=None, points=0, reason="never contacted")
    if cadence is None:
        period = DEFAULT_CONTACT_DAYS
        within, overdue = f"no cadence; within {period} days", f"no cadence; over {period} days"
        long_overdue = f"no cadence; over {2 * period} days"
    else:
        period = cadence
        within, overdue = f"cadence {cadence} days", f"overdue: cadence {cadence} days"
        long_overdue = f"long overdue: cadence {cadence} days"
    if days <= period:
        points, reason = 30, f"contact {_days(days)} ({within})"
    elif days <= 2 * period:
        points, reason = 15, f"contact {_days(days)} ({overdue})"
    else:
        points, reason = 0, f"last contact {_days(days)} ({long_overdue})"
    return Fact(name="contact", value=days, points=points, reason=reason)


def score_social(facts: SocialFacts) -> BondStrength:
    """The social bond's strength, by the table in this module's docstring.

    >>> strength = score_social(SocialFacts(
    ...     owner="Lena", days_since_contact=50, cadence_days=42, occasions_known=1,
    ...     open_tasks=1,
    ... ))
    >>> [fact.points for fact in strength.facts], strength.score
    ([30, 15, 0, 10, 0], 55)
    >>> print(strength.describe())
    social: moderate (55): owner Lena; contact 50 days ago (overdue: cadence 42 days);
    1 occasion known; 1 open task
    """
    _ensure("facts", facts, SocialFacts, "a SocialFacts")
    owner, events = facts.owner, facts.events_attended
    occasions, tasks = facts.occasions_known, facts.open_tasks
    return _strength(
        Bond.SOCIAL,
        Fact(
            name="owner",
            value=owner,
            points=0 if owner is None else 30,
            reason="no owner" if owner is None else f"owner {owner}",
        ),
        _contact_fact(facts),
        Fact(
            name="events",
            value=events,
            points=_each(events, 10, 20),
            reason=f"{_many(events, 'event') if events else 'no events'} attended",
        ),
        Fact(
            name="occasions",
            value=occasions,
            points=_each(occasions, 10, 20),
            reason=f"{_many(occasions, 'occasion') if occasions else 'no occasions'} known",
        ),
        # Tasks are the owner's work to do, not something that holds the customer: shown,
        # never scored (and never subtracted, so a busy owner does not weaken a bond).
        Fact(
            name="open tasks",
            value=tasks,
            points=0,
            reason=_many(tasks, "open task") if tasks else "no open tasks",
        ),
    )


def _counted(name: str, count: int, points: int, one: str, none: str) -> Fact:
    """A fact about a number of things: '2 saved carts', or ``none`` for 0."""
    return Fact(name=name, value=count, points=points, reason=_many(count, one) if count else none)


def score_customization(facts: CustomizationFacts) -> BondStrength:
    """The customization bond's strength, by the table in this module's docstring.

    >>> strength = score_customization(CustomizationFacts(
    ...     preferences_known=3, restrictions_known=1, offers_accepted=1, wishes=4,
    ... ))
    >>> [fact.points for fact in strength.facts], strength.score
    ([24, 8, 10, 10, 0, 0], 52)
    >>> print(strength.describe())
    customization: moderate (52): 3 preferences known; 1 restriction known and honoured;
    1 personalised offer accepted; 4 wish-list items
    """
    _ensure("facts", facts, CustomizationFacts, "a CustomizationFacts")
    preferences, restrictions = facts.preferences_known, facts.restrictions_known
    offers, wishes = facts.offers_accepted, facts.wishes
    carts, needs = facts.saved_carts, facts.predicted_needs
    return _strength(
        Bond.CUSTOMIZATION,
        Fact(
            name="preferences",
            value=preferences,
            points=_each(preferences, 8, 32),
            reason=f"{_many(preferences, 'preference') if preferences else 'no preferences'} "
            "known",
        ),
        # Counted among the preferences too: a restriction honoured (the gluten-free
        # bread kept aside) holds more than a favourite, so it adds on top.
        Fact(
            name="restrictions",
            value=restrictions,
            points=8 if restrictions else 0,
            reason=f"{_many(restrictions, 'restriction')} known and honoured"
            if restrictions
            else "no restrictions known",
        ),
        Fact(
            name="offers",
            value=offers,
            points=_each(offers, 10, 30),
            reason=f"{_many(offers, 'personalised offer') if offers else 'no personalised offers'}"
            " accepted",
        ),
        _counted("wishes", wishes, _each(wishes, 5, 10), "wish-list item", "empty wish list"),
        _counted("saved carts", carts, 5 if carts else 0, "saved cart", "no saved carts"),
        Fact(
            name="predicted needs",
            value=needs,
            points=_each(needs, 5, 15),
            reason=f"next need predicted for {_many(needs, 'product')}"
            if needs
            else "no next need predicted",
        ),
    )


def _subscription_fact(facts: StructuralFacts) -> Fact:
    count, paid = facts.subscriptions, facts.paid_subscriptions
    if count == 0:
        return Fact(name="subscriptions", value=0, points=0, reason="no active subscription")
    which = ("paid" if paid else "free") if count == 1 else f"{paid} paid"
    reason = f"{_many(count, 'active subscription')} ({which})"
    return Fact(name="subscriptions", value=count, points=50 if paid else 40, reason=reason)


def _tenure_fact(facts: StructuralFacts) -> Fact:
    months = facts.months_subscribed
    if facts.subscriptions == 0:
        return Fact(name="tenure", value=0, points=0, reason="no subscription to count months of")
    points = 15 if months >= 12 else 10 if months >= 6 else 0
    return Fact(
        name="tenure", value=months, points=points, reason=f"subscribed {_many(months, 'month')}"
    )


def score_structural(facts: StructuralFacts) -> BondStrength:
    """The structural bond's strength, by the table in this module's docstring.

    >>> strength = score_structural(StructuralFacts(
    ...     subscriptions=1, paid_subscriptions=1, months_subscribed=14, integrations=2,
    ... ))
    >>> [fact.points for fact in strength.facts], strength.score
    ([50, 15, 40, 0], 100)
    >>> print(strength.describe())
    structural: strong (100): 1 active subscription (paid); subscribed 14 months;
    2 integrations in use
    """
    _ensure("facts", facts, StructuralFacts, "a StructuralFacts")
    integrations, sequences = facts.integrations, facts.sequences
    return _strength(
        Bond.STRUCTURAL,
        _subscription_fact(facts),
        _tenure_fact(facts),
        Fact(
            name="integrations",
            value=integrations,
            points=_each(integrations, 20, 40),
            reason=f"{_many(integrations, 'integration') if integrations else 'no integrations'}"
            " in use",
        ),
        Fact(
            name="sequences",
            value=sequences,
            points=_each(sequences, 5, 10),
            reason=f"in {_many(sequences, 'autoresponder sequence')}"
            if sequences
            else "in no autoresponder sequence",
        ),
    )


def _strength_of(bond: Bond) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, BondStrength) or value.bond is not bond:
            raise InvalidInput(attribute.name, value, f"a BondStrength of the {bond} bond")

    return check


_HOLDING = (BondLevel.MODERATE, BondLevel.STRONG)


@attrs.frozen(kw_only=True)
class BondProfile:
    """How strongly each bond held customer ``customer_id`` ``at`` a moment.

    >>> from datetime import UTC, datetime
    >>> nobody = profile(
    ...     "nobody", datetime(2026, 3, 2, tzinfo=UTC), financial=FinancialFacts(),
    ...     social=SocialFacts(), customization=CustomizationFacts(),
    ...     structural=StructuralFacts(),
    ... )
    >>> nobody.is_unbonded, nobody.is_weakly_held, nobody.held_by
    (True, True, ())
    """

    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_aware)
    financial: BondStrength = attrs.field(validator=_strength_of(Bond.FINANCIAL))
    social: BondStrength = attrs.field(validator=_strength_of(Bond.SOCIAL))
    customization: BondStrength = attrs.field(validator=_strength_of(Bond.CUSTOMIZATION))
    structural: BondStrength = attrs.field(validator=_strength_of(Bond.STRUCTURAL))

    @property
    def bonds(self) -> tuple[BondStrength, BondStrength, BondStrength, BondStrength]:
        """The four strengths: financial, social, customization, structural."""
        return (self.financial, self.social, self.customization, self.structural)

    def strength(self, bond: Bond) -> BondStrength:
        """The strength of ``bond``."""
        _ensure("bond", bond, Bond, "a Bond")
        return self.bonds[list(Bond).index(bond)]

    @property
    def held_by(self) -> tuple[Bond, ...]:
        """The bonds that hold: moderate or strong, in the order of :attr:`bonds`."""
        return tuple(strength.bond for strength in self.bonds if strength.level in _HOLDING)

    @property
    def is_unbonded(self) -> bool:
        """Every bond is none: nothing holds the customer."""
        return all(strength.level is BondLevel.NONE for strength in self.bonds)

    @property
    def is_weakly_held(self) -> bool:
        """Held by no bond, or by one weak bond: no bond above weak, at most one weak."""
        levels = [strength.level for strength in self.bonds]
        return not any(level in _HOLDING for level in levels) and levels.count(BondLevel.WEAK) <= 1

    @property
    def strongest(self) -> BondStrength:
        """The bond with the highest score; on a tie, the first in :attr:`bonds` (for an
        unbonded customer, the financial bond at none: check :attr:`is_unbonded`)."""
        return max(self.bonds, key=lambda strength: strength.score)

    def _summary(self) -> str:
        ranked = sorted(self.bonds, key=lambda strength: -strength.score)  # stable on ties

        def named(strengths: list[BondStrength]) -> str:
            parts = [f"{s.bond} ({s.level}, {s.score})" for s in strengths]
            return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"

        if self.is_unbonded:
            return "held by no bond"
        holding = [strength for strength in ranked if strength.level in _HOLDING]
        if holding:
            return f"held by {named(holding)}"
        weak = [strength for strength in ranked if strength.level is BondLevel.WEAK]
        if self.is_weakly_held:
            return f"weakly held: only {named(weak)}"
        return f"held only by weak bonds: {named(weak)}"

    def describe(self) -> str:
        """A summary line, then one line per bond: a bar of its score, the score, the
        level and the reasons. (Long lines are wrapped in the example below, not in the
        text returned.)

        >>> from datetime import UTC, datetime
        >>> maya = profile(
        ...     "maya",
        ...     datetime(2026, 3, 2, 9, tzinfo=UTC),
        ...     financial=FinancialFacts(vouchers=1, purchases_90d=4),
        ...     social=SocialFacts(
        ...         owner="Lena", days_since_contact=12, cadence_days=42, events_attended=2
        ...     ),
        ...     customization=CustomizationFacts(preferences_known=1),
        ...     structural=StructuralFacts(),
        ... )
        >>> print(maya.describe())
        maya at 2026-03-02 09:00+00:00: held by social (strong, 80) and financial (moderate, 30)
          financial      ###.......   30  moderate  1 unused voucher; 4 purchases in the last
                                                        90 days
          social         ########..   80  strong    owner Lena; contact 12 days ago (cadence 42
                                                        days); 2 events attended
          customization  #.........    8  weak      1 preference known
          structural     ..........    0  none      no active subscription; ...
        """
        lines = [f"{self.customer_id} at {self.at.isoformat(' ', 'minutes')}: {self._summary()}"]
        for strength in self.bonds:
            # One mark per started ten points, so any bond that holds at all shows one.
            marks = -(-strength.score // 10)
            bar = "#" * marks + "." * (10 - marks)
            lines.append(
                f"  {strength.bond:<13}  {bar}  {strength.score:>3}  {strength.level:<8}  "
                + "; ".join(strength.reasons)
            )
        return "\n".join(lines)


def profile(
    customer_id: str,
    at: datetime,
    *,
    financial: FinancialFacts,
    social: SocialFacts,
    customization: CustomizationFacts,
    structural: StructuralFacts,
) -> BondProfile:
    """Score the four bonds' facts into a customer's :class:`BondProfile` ``at`` a
    moment (an aware datetime: when the facts were read).

    >>> from datetime import UTC, datetime
    >>> ada = profile(
    ...     "ada", datetime(2026, 3, 2, tzinfo=UTC), financial=FinancialFacts(vouchers=1),
    ...     social=SocialFacts(), customization=CustomizationFacts(),
    ...     structural=StructuralFacts(),
    ... )
    >>> ada.is_weakly_held, ada.strongest.bond
    (True, <Bond.FINANCIAL: 'financial'>)
    """
    return BondProfile(
        customer_id=customer_id,
        at=at,
        financial=score_financial(financial),
        social=score_social(social),
        customization=score_customization(customization),
        structural=score_structural(structural),
    )
