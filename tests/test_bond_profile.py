"""The bond profile's scoring: worked examples that follow the table in the module's
docstring by hand, its boundaries, and properties that hold for any facts (scores within
0..100, explained by their facts, never lowered by more of a good thing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond.bonds.profile import (
    MAX_SCORE,
    MODERATE_FROM,
    STRONG_FROM,
    WEAK_FROM,
    Bond,
    BondLevel,
    BondProfile,
    BondStrength,
    CustomizationFacts,
    Fact,
    FinancialFacts,
    SocialFacts,
    StructuralFacts,
    profile,
    score_customization,
    score_financial,
    score_social,
    score_structural,
)
from custbond.errors import InvalidInput

MAR_2 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOTHING = {
    "financial": FinancialFacts(),
    "social": SocialFacts(),
    "customization": CustomizationFacts(),
    "structural": StructuralFacts(),
}


def points_of(strength: BondStrength) -> dict[str, int]:
    return {fact.name: fact.points for fact in strength.facts}


def profile_of(**facts: Any) -> BondProfile:
    return profile("maya", MAR_2, **{**NOTHING, **facts})


# Strategies: any valid facts, small enough that the caps are reached and not reached.
counts = st.integers(min_value=0, max_value=8)


@st.composite
def financial_facts(draw: st.DrawFn) -> FinancialFacts:
    tiers = draw(st.integers(min_value=0, max_value=6))
    rank = draw(st.integers(min_value=0, max_value=tiers))
    card_size = draw(st.none() | st.integers(min_value=1, max_value=20))
    to_go = None if card_size is None else draw(st.integers(min_value=0, max_value=card_size))
    return FinancialFacts(
        tier=None if rank == 0 else f"rung-{rank}",
        tier_rank=rank,
        tiers=tiers,
        points=draw(st.integers(min_value=0, max_value=2000)),
        points_for_reward=draw(st.none() | st.integers(min_value=1, max_value=1000)),
        stamps_to_go=to_go,
        card_size=card_size,
        vouchers=draw(counts),
        purchases_90d=draw(counts),
    )


@st.composite
def social_facts(draw: st.DrawFn) -> SocialFacts:
    return SocialFacts(
        owner=draw(st.none() | st.just("Lena")),
        days_since_contact=draw(st.none() | st.integers(min_value=0, max_value=400)),
        cadence_days=draw(st.none() | st.integers(min_value=1, max_value=120)),
        events_attended=draw(counts),
        occasions_known=draw(counts),
        open_tasks=draw(counts),
    )


@st.composite
def customization_facts(draw: st.DrawFn) -> CustomizationFacts:
    preferences = draw(counts)
    return CustomizationFacts(
        preferences_known=preferences,
        restrictions_known=draw(st.integers(min_value=0, max_value=preferences)),
        offers_accepted=draw(counts),
        wishes=draw(counts),
        saved_carts=draw(counts),
        predicted_needs=draw(counts),
    )


@st.composite
def structural_facts(draw: st.DrawFn) -> StructuralFacts:
    subscriptions = draw(counts)
    return StructuralFacts(
        subscriptions=subscriptions,
        paid_subscriptions=draw(st.integers(min_value=0, max_value=subscriptions)),
        months_subscribed=0 if subscriptions == 0 else draw(st.integers(0, 40)),
        integrations=draw(counts),
        sequences=draw(counts),
    )


SCORERS: list[tuple[Callable[[Any], BondStrength], st.SearchStrategy[Any]]] = [
    (score_financial, financial_facts()),
    (score_social, social_facts()),
    (score_customization, customization_facts()),
    (score_structural, structural_facts()),
]
SCORER_IDS = ["financial", "social", "customization", "structural"]


class TestFinancialScore:
    def test_a_gold_member_with_a_reward_in_reach_is_strongly_held(self) -> None:
        strength = score_financial(
            FinancialFacts(
                tier="gold",
                tier_rank=2,
                tiers=3,
                points=340,
                points_for_reward=250,
                stamps_to_go=2,
                card_size=10,
                vouchers=1,
                purchases_90d=3,
            )
        )

        # tier 40 x 2 // 3 = 26; enough points 20; 2 of 10 to go is a quarter or less 20;
        # a voucher 10; 3 purchases x 5 = 15.
        assert {
            "tier": 26,
            "points": 20,
            "punch card": 20,
            "vouchers": 10,
            "purchases": 15,
        } == points_of(strength)
        assert 91 == strength.score
        assert BondLevel.STRONG == strength.level

    def test_everything_at_its_cap_is_capped_at_100(self) -> None:
        strength = score_financial(
            FinancialFacts(
                tier="platinum",
                tier_rank=3,
                tiers=3,
                points=500,
                points_for_reward=250,
                stamps_to_go=0,
                card_size=10,
                vouchers=5,
                purchases_90d=9,
            )
        )

        assert [40, 20, 20, 10, 20] == [fact.points for fact in strength.facts]
        assert 100 == strength.score

    def test_nothing_known_is_no_bond_and_every_fact_says_why(self) -> None:
        strength = score_financial(FinancialFacts())

        assert 0 == strength.score
        assert BondLevel.NONE == strength.level
        assert (
            "no tier ladder",
            "no points",
            "no punch card",
            "no unused vouchers",
            "no purchases in the last 90 days",
        ) == strength.reasons

    def test_a_ladder_without_a_tier_reached_says_so(self) -> None:
        assert "no tier" == score_financial(FinancialFacts(tiers=3)).facts[0].reason

    def test_the_lowest_rung_of_a_tall_ladder_adds_a_little(self) -> None:
        fact = score_financial(FinancialFacts(tier="bronze", tier_rank=1, tiers=5)).facts[0]

        assert ("tier", "bronze", 8, "tier bronze (1 of 5)") == (
            fact.name,
            fact.value,
            fact.points,
            fact.reason,
        )

    @pytest.mark.parametrize(
        ("points", "expected", "reason"),
        [
            (0, 0, "no points"),
            (249, 10, "249 points (1 short of a reward)"),
            (250, 20, "250 points, enough for a reward (250)"),
            (251, 20, "251 points, enough for a reward (250)"),
        ],
    )
    def test_points_count_double_once_they_buy_a_reward(
        self, points: int, expected: int, reason: str
    ) -> None:
        fact = score_financial(FinancialFacts(points=points, points_for_reward=250)).facts[1]

        assert (expected, reason) == (fact.points, fact.reason)

    def test_points_without_a_catalog_count_as_some_points(self) -> None:
        fact = score_financial(FinancialFacts(points=5000)).facts[1]

        assert (10, "5000 points (no catalog)") == (fact.points, fact.reason)

    @pytest.mark.parametrize(
        ("to_go", "expected", "reason"),
        [
            (12, 0, "punch card not started (12 stamps to go)"),
            (11, 10, "punch card 1 of 12 (11 stamps to go)"),
            (4, 10, "punch card 8 of 12 (4 stamps to go)"),
            (3, 20, "punch card 9 of 12 (3 stamps to go)"),
            (1, 20, "punch card 11 of 12 (1 stamp to go)"),
            (0, 20, "punch card 12 of 12 (reward due)"),
        ],
    )
    def test_a_card_a_quarter_from_its_reward_holds_most(
        self, to_go: int, expected: int, reason: str
    ) -> None:
        fact = score_financial(FinancialFacts(stamps_to_go=to_go, card_size=12)).facts[2]

        assert (expected, reason) == (fact.points, fact.reason)

    @pytest.mark.parametrize(("purchases", "expected"), [(1, 5), (3, 15), (4, 20), (5, 20)])
    def test_recent_purchases_add_5_each_up_to_20(self, purchases: int, expected: int) -> None:
        assert expected == score_financial(FinancialFacts(purchases_90d=purchases)).score


class TestSocialScore:
    def test_an_owner_in_touch_who_invites_is_a_strong_bond(self) -> None:
        strength = score_social(
            SocialFacts(owner="Lena", days_since_contact=12, cadence_days=42, events_attended=2)
        )

        assert {
            "owner": 30,
            "contact": 30,
            "events": 20,
            "occasions": 0,
            "open tasks": 0,
        } == points_of(strength)
        assert 80 == strength.score
        assert (
            "social: strong (80): owner Lena; contact 12 days ago (cadence 42 days); "
            "2 events attended"
        ) == strength.describe()

    def test_everything_at_its_cap_reaches_100(self) -> None:
        strength = score_social(
            SocialFacts(
                owner="Lena",
                days_since_contact=0,
                cadence_days=42,
                events_attended=5,
                occasions_known=3,
                open_tasks=4,
            )
        )

        assert [30, 30, 20, 20, 0] == [fact.points for fact in strength.facts]
        assert 100 == strength.score

    def test_open_tasks_are_reported_but_never_scored(self) -> None:
        strength = score_social(SocialFacts(open_tasks=2))

        assert 0 == strength.score
        assert Fact(name="open tasks", value=2, points=0, reason="2 open tasks") in strength.facts

    @pytest.mark.parametrize(
        ("days", "expected", "reason"),
        [
            (0, 30, "contact today (cadence 42 days)"),
            (1, 30, "contact yesterday (cadence 42 days)"),
            (41, 30, "contact 41 days ago (cadence 42 days)"),
            (42, 30, "contact 42 days ago (cadence 42 days)"),
            (43, 15, "contact 43 days ago (overdue: cadence 42 days)"),
            (84, 15, "contact 84 days ago (overdue: cadence 42 days)"),
            (85, 0, "last contact 85 days ago (long overdue: cadence 42 days)"),
        ],
    )
    def test_contact_counts_within_the_cadence_and_half_within_twice_it(
        self, days: int, expected: int, reason: str
    ) -> None:
        fact = score_social(SocialFacts(days_since_contact=days, cadence_days=42)).facts[1]

        assert (expected, reason) == (fact.points, fact.reason)

    @pytest.mark.parametrize(
        ("days", "expected", "reason"),
        [
            (30, 30, "contact 30 days ago (no cadence; within 30 days)"),
            (31, 15, "contact 31 days ago (no cadence; over 30 days)"),
            (60, 15, "contact 60 days ago (no cadence; over 30 days)"),
            (61, 0, "last contact 61 days ago (no cadence; over 60 days)"),
        ],
    )
    def test_without_a_cadence_contact_counts_within_30_days(
        self, days: int, expected: int, reason: str
    ) -> None:
        fact = score_social(SocialFacts(days_since_contact=days)).facts[1]

        assert (expected, reason) == (fact.points, fact.reason)

    def test_an_overdue_contact_and_open_tasks_are_told_though_they_score_nothing(self) -> None:
        strength = score_social(
            SocialFacts(owner="Jonas", days_since_contact=70, cadence_days=30, open_tasks=1)
        )

        assert (
            "social: moderate (30): owner Jonas; last contact 70 days ago (long overdue: "
            "cadence 30 days); 1 open task"
        ) == strength.describe()

    def test_a_customer_never_contacted_gets_no_contact_points(self) -> None:
        fact = score_social(SocialFacts(cadence_days=42)).facts[1]

        assert ("contact", None, 0, "never contacted") == (
            fact.name,
            fact.value,
            fact.points,
            fact.reason,
        )

    @pytest.mark.parametrize(("occasions", "expected"), [(1, 10), (2, 20), (3, 20)])
    def test_occasions_add_10_each_up_to_20(self, occasions: int, expected: int) -> None:
        assert expected == score_social(SocialFacts(occasions_known=occasions)).score


class TestCustomizationScore:
    def test_a_known_customer_with_a_wish_list_is_moderately_held(self) -> None:
        strength = score_customization(
            CustomizationFacts(
                preferences_known=3, restrictions_known=1, offers_accepted=1, wishes=4
            )
        )

        assert {
            "preferences": 24,
            "restrictions": 8,
            "offers": 10,
            "wishes": 10,
            "saved carts": 0,
            "predicted needs": 0,
        } == points_of(strength)
        assert 52 == strength.score
        assert BondLevel.MODERATE == strength.level

    def test_everything_at_its_cap_reaches_100(self) -> None:
        strength = score_customization(
            CustomizationFacts(
                preferences_known=6,
                restrictions_known=2,
                offers_accepted=5,
                wishes=3,
                saved_carts=2,
                predicted_needs=4,
            )
        )

        assert [32, 8, 30, 10, 5, 15] == [fact.points for fact in strength.facts]
        assert 100 == strength.score

    @pytest.mark.parametrize(("restrictions", "expected"), [(0, 16), (1, 24), (2, 24)])
    def test_a_restriction_known_adds_8_on_top_of_the_preference(
        self, restrictions: int, expected: int
    ) -> None:
        facts = CustomizationFacts(preferences_known=2, restrictions_known=restrictions)

        assert expected == score_customization(facts).score

    def test_the_reasons_read_as_sentences(self) -> None:
        strength = score_customization(
            CustomizationFacts(
                preferences_known=1, restrictions_known=1, saved_carts=1, predicted_needs=2
            )
        )

        assert (
            "1 preference known",
            "1 restriction known and honoured",
            "1 saved cart",
            "next need predicted for 2 products",
        ) == strength.reasons


class TestStructuralScore:
    def test_a_paid_subscriber_of_a_year_with_an_integration(self) -> None:
        strength = score_structural(
            StructuralFacts(
                subscriptions=2,
                paid_subscriptions=1,
                months_subscribed=14,
                integrations=1,
                sequences=1,
            )
        )

        assert {"subscriptions": 50, "tenure": 15, "integrations": 20, "sequences": 5} == (
            points_of(strength)
        )
        assert 90 == strength.score
        assert (
            "2 active subscriptions (1 paid)",
            "subscribed 14 months",
            "1 integration in use",
            "in 1 autoresponder sequence",
        ) == strength.reasons

    def test_a_free_subscription_adds_40(self) -> None:
        strength = score_structural(StructuralFacts(subscriptions=1))

        assert 40 == strength.score
        assert ("1 active subscription (free)",) == strength.reasons

    @pytest.mark.parametrize(
        ("months", "expected"), [(5, 0), (6, 10), (7, 10), (11, 10), (12, 15), (13, 15)]
    )
    def test_tenure_adds_10_from_6_months_and_15_from_12(self, months: int, expected: int) -> None:
        facts = StructuralFacts(subscriptions=1, months_subscribed=months)

        assert expected == points_of(score_structural(facts))["tenure"]

    @pytest.mark.parametrize(("integrations", "expected"), [(1, 20), (2, 40), (3, 40)])
    def test_integrations_add_20_each_up_to_40(self, integrations: int, expected: int) -> None:
        assert expected == score_structural(StructuralFacts(integrations=integrations)).score

    def test_everything_at_its_cap_is_capped_at_100(self) -> None:
        strength = score_structural(
            StructuralFacts(
                subscriptions=3,
                paid_subscriptions=3,
                months_subscribed=30,
                integrations=4,
                sequences=4,
            )
        )

        assert [50, 15, 40, 10] == [fact.points for fact in strength.facts]
        assert 100 == strength.score


class TestLevels:
    @pytest.mark.parametrize(
        ("score", "level"),
        [
            (0, BondLevel.NONE),
            (WEAK_FROM, BondLevel.WEAK),
            (MODERATE_FROM - 1, BondLevel.WEAK),
            (MODERATE_FROM, BondLevel.MODERATE),
            (STRONG_FROM - 1, BondLevel.MODERATE),
            (STRONG_FROM, BondLevel.STRONG),
            (MAX_SCORE, BondLevel.STRONG),
        ],
    )
    def test_a_level_is_read_from_the_score(self, score: int, level: BondLevel) -> None:
        assert level == BondLevel.of(score)

    def test_the_thresholds_are_the_documented_ones(self) -> None:
        assert (1, 30, 60, 100) == (WEAK_FROM, MODERATE_FROM, STRONG_FROM, MAX_SCORE)

    @pytest.mark.parametrize("score", [-1, 101, 50.0, True, Decimal(50)])
    def test_a_score_outside_0_to_100_has_no_level(self, score: Any) -> None:
        with pytest.raises(InvalidInput, match="score"):
            BondLevel.of(score)


class TestEveryScore:
    @pytest.mark.parametrize(("score", "facts"), SCORERS, ids=SCORER_IDS)
    @given(data=st.data())
    def test_is_within_0_to_100_with_a_consistent_level(
        self,
        score: Callable[[Any], BondStrength],
        facts: st.SearchStrategy[Any],
        data: st.DataObject,
    ) -> None:
        strength = score(data.draw(facts))

        assert 0 <= strength.score <= 100
        assert BondLevel.of(strength.score) == strength.level
        assert (strength.score == 0) == (strength.level is BondLevel.NONE)

    @pytest.mark.parametrize(("score", "facts"), SCORERS, ids=SCORER_IDS)
    @given(data=st.data())
    def test_is_explained_by_its_facts(
        self,
        score: Callable[[Any], BondStrength],
        facts: st.SearchStrategy[Any],
        data: st.DataObject,
    ) -> None:
        strength = score(data.draw(facts))

        assert min(100, sum(fact.points for fact in strength.facts)) == strength.score
        assert all(fact.reason for fact in strength.facts)
        # Every fact of the table is reported, whether it added points or not.
        assert len(strength.facts) == len({fact.name for fact in strength.facts})
        assert strength.reasons
        assert all(reason in strength.describe() for reason in strength.reasons)

    @given(facts=st.one_of(financial_facts(), social_facts()))
    def test_is_the_same_for_the_same_facts(self, facts: Any) -> None:
        score = score_financial if isinstance(facts, FinancialFacts) else score_social

        assert score(facts) == score(attrs.evolve(facts))


# Monotonic: each raises one fact (by `more`, 1 or more), keeping the facts valid.
def _higher_rank(facts: FinancialFacts, more: int) -> FinancialFacts:
    rank = min(facts.tiers, facts.tier_rank + more)
    return attrs.evolve(facts, tier_rank=rank, tier=None if rank == 0 else f"rung-{rank}")


def _fewer_to_go(facts: FinancialFacts, more: int) -> FinancialFacts:
    if facts.stamps_to_go is None:
        return facts
    return attrs.evolve(facts, stamps_to_go=max(0, facts.stamps_to_go - more))


def _cheaper_reward(facts: FinancialFacts, more: int) -> FinancialFacts:
    cost = facts.points_for_reward
    return facts if cost is None else attrs.evolve(facts, points_for_reward=max(1, cost - more))


def _more_recent_contact(facts: SocialFacts, more: int) -> SocialFacts:
    days = facts.days_since_contact
    return attrs.evolve(facts, days_since_contact=400 if days is None else max(0, days - more))


def _more_restrictions(facts: CustomizationFacts, more: int) -> CustomizationFacts:
    return attrs.evolve(
        facts,
        preferences_known=facts.preferences_known + more,
        restrictions_known=facts.restrictions_known + more,
    )


def _more_paid(facts: StructuralFacts, more: int) -> StructuralFacts:
    return attrs.evolve(
        facts,
        subscriptions=facts.subscriptions + more,
        paid_subscriptions=facts.paid_subscriptions + more,
    )


def _longer_subscribed(facts: StructuralFacts, more: int) -> StructuralFacts:
    if facts.subscriptions == 0:
        return facts
    return attrs.evolve(facts, months_subscribed=facts.months_subscribed + more)


def _plus(field: str) -> Callable[[Any, int], Any]:
    def raise_(facts: Any, more: int) -> Any:
        return attrs.evolve(facts, **{field: getattr(facts, field) + more})

    return raise_


RAISES: dict[str, tuple[Callable[[Any], BondStrength], st.SearchStrategy[Any], Any]] = {
    "higher tier rank": (score_financial, financial_facts(), _higher_rank),
    "more points": (score_financial, financial_facts(), _plus("points")),
    "fewer stamps to go": (score_financial, financial_facts(), _fewer_to_go),
    "a cheaper reward": (score_financial, financial_facts(), _cheaper_reward),
    "more vouchers": (score_financial, financial_facts(), _plus("vouchers")),
    "more purchases": (score_financial, financial_facts(), _plus("purchases_90d")),
    "an owner": (score_social, social_facts(), lambda f, _: attrs.evolve(f, owner="Lena")),
    "more recent contact": (score_social, social_facts(), _more_recent_contact),
    "more events": (score_social, social_facts(), _plus("events_attended")),
    "more occasions": (score_social, social_facts(), _plus("occasions_known")),
    "more open tasks": (score_social, social_facts(), _plus("open_tasks")),
    "more preferences": (score_customization, customization_facts(), _plus("preferences_known")),
    "more restrictions": (score_customization, customization_facts(), _more_restrictions),
    "more offers": (score_customization, customization_facts(), _plus("offers_accepted")),
    "more wishes": (score_customization, customization_facts(), _plus("wishes")),
    "more saved carts": (score_customization, customization_facts(), _plus("saved_carts")),
    "more predictions": (score_customization, customization_facts(), _plus("predicted_needs")),
    "more subscriptions": (score_structural, structural_facts(), _plus("subscriptions")),
    "more paid subscriptions": (score_structural, structural_facts(), _more_paid),
    "longer subscribed": (score_structural, structural_facts(), _longer_subscribed),
    "more integrations": (score_structural, structural_facts(), _plus("integrations")),
    "more sequences": (score_structural, structural_facts(), _plus("sequences")),
}


class TestMonotonic:
    @pytest.mark.parametrize("raised", list(RAISES), ids=list(RAISES))
    @given(data=st.data(), more=st.integers(min_value=1, max_value=30))
    def test_more_of_a_good_thing_never_lowers_the_score(
        self, raised: str, data: st.DataObject, more: int
    ) -> None:
        score, facts, raise_ = RAISES[raised]
        before = data.draw(facts)

        assert score(before).score <= score(raise_(before, more)).score

    @given(
        facts=social_facts(),
        days=st.integers(min_value=0, max_value=400),
        more=st.integers(min_value=1, max_value=100),
    )
    def test_more_days_since_contact_never_raise_the_social_score(
        self, facts: SocialFacts, days: int, more: int
    ) -> None:
        sooner = attrs.evolve(facts, days_since_contact=days)
        later = attrs.evolve(facts, days_since_contact=days + more)

        assert score_social(later).score <= score_social(sooner).score

    @given(facts=social_facts())
    def test_never_contacted_scores_no_more_than_any_contact(self, facts: SocialFacts) -> None:
        never = attrs.evolve(facts, days_since_contact=None)

        assert score_social(never).score <= score_social(facts).score


class TestProfile:
    def test_lists_the_four_bonds_in_order(self) -> None:
        held = profile_of()

        assert list(Bond) == [strength.bond for strength in held.bonds]
        assert held.social is held.strength(Bond.SOCIAL)

    def test_a_customer_with_no_facts_is_unbonded(self) -> None:
        held = profile_of()

        assert (True, True, ()) == (held.is_unbonded, held.is_weakly_held, held.held_by)
        assert "maya at 2026-03-02 09:00+00:00: held by no bond" == held.describe().split("\n")[0]

    def test_one_weak_bond_is_weakly_held_but_not_unbonded(self) -> None:
        held = profile_of(financial=FinancialFacts(vouchers=1))

        assert (False, True, ()) == (held.is_unbonded, held.is_weakly_held, held.held_by)
        assert held.describe().startswith(
            "maya at 2026-03-02 09:00+00:00: weakly held: only financial (weak, 10)\n"
        )

    def test_two_weak_bonds_are_not_weakly_held(self) -> None:
        held = profile_of(
            financial=FinancialFacts(vouchers=1),
            customization=CustomizationFacts(preferences_known=2),
        )

        assert (False, False, ()) == (held.is_unbonded, held.is_weakly_held, held.held_by)
        assert held.describe().startswith(
            "maya at 2026-03-02 09:00+00:00: held only by weak bonds: "
            "customization (weak, 16) and financial (weak, 10)\n"
        )

    def test_a_moderate_bond_holds(self) -> None:
        held = profile_of(structural=StructuralFacts(subscriptions=1))

        assert (False, False, (Bond.STRUCTURAL,)) == (
            held.is_unbonded,
            held.is_weakly_held,
            held.held_by,
        )
        assert Bond.STRUCTURAL == held.strongest.bond

    def test_the_strongest_is_the_first_of_the_highest(self) -> None:
        held = profile_of(
            financial=FinancialFacts(vouchers=1),
            social=SocialFacts(occasions_known=1),
            structural=StructuralFacts(integrations=1),
        )

        assert Bond.STRUCTURAL == held.strongest.bond
        tie = profile_of(
            financial=FinancialFacts(vouchers=1), social=SocialFacts(occasions_known=1)
        )
        assert Bond.FINANCIAL == tie.strongest.bond
        assert Bond.FINANCIAL == profile_of().strongest.bond

    def test_describes_one_line_per_bond(self) -> None:
        held = profile_of(
            financial=FinancialFacts(
                tier="gold", tier_rank=2, tiers=3, points=340, points_for_reward=250
            ),
            social=SocialFacts(
                owner="Lena", days_since_contact=12, cadence_days=42, events_attended=2
            ),
            customization=CustomizationFacts(preferences_known=1),
        )

        assert [
            "maya at 2026-03-02 09:00+00:00: held by social (strong, 80) and "
            "financial (moderate, 46)",
            "  financial      #####.....   46  moderate  tier gold (2 of 3); "
            "340 points, enough for a reward (250)",
            "  social         ########..   80  strong    owner Lena; "
            "contact 12 days ago (cadence 42 days); 2 events attended",
            "  customization  #.........    8  weak      1 preference known",
            "  structural     ..........    0  none      no active subscription; "
            "no subscription to count months of; no integrations in use; "
            "in no autoresponder sequence",
        ] == held.describe().split("\n")

    @given(
        financial=financial_facts(),
        social=social_facts(),
        customization=customization_facts(),
        structural=structural_facts(),
    )
    def test_held_unbonded_and_weakly_held_follow_the_levels(
        self,
        financial: FinancialFacts,
        social: SocialFacts,
        customization: CustomizationFacts,
        structural: StructuralFacts,
    ) -> None:
        held = profile(
            "maya",
            MAR_2,
            financial=financial,
            social=social,
            customization=customization,
            structural=structural,
        )
        levels = [strength.level for strength in held.bonds]

        assert held.is_unbonded == all(level is BondLevel.NONE for level in levels)
        assert held.is_weakly_held == (
            all(level in (BondLevel.NONE, BondLevel.WEAK) for level in levels)
            and levels.count(BondLevel.WEAK) <= 1
        )
        assert not held.is_unbonded or held.is_weakly_held
        assert held.is_weakly_held or held.held_by or levels.count(BondLevel.WEAK) >= 2
        assert tuple(s.bond for s in held.bonds if s.score >= MODERATE_FROM) == held.held_by
        assert max(s.score for s in held.bonds) == held.strongest.score
        assert 5 == len(held.describe().split("\n"))


def _strength(**changes: Any) -> BondStrength:
    return BondStrength(
        **{
            "bond": Bond.SOCIAL,
            "score": 30,
            "facts": [Fact(name="owner", value="Lena", points=30, reason="owner Lena")],
            **changes,
        }
    )


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: FinancialFacts(points=-1), "points"),
            (lambda: FinancialFacts(points=1.0), "points"),
            (lambda: FinancialFacts(vouchers=True), "vouchers"),
            (lambda: FinancialFacts(purchases_90d=Decimal(1)), "purchases_90d"),
            (lambda: FinancialFacts(tier="gold", tier_rank=4, tiers=3), "tier_rank"),
            (lambda: FinancialFacts(tier="gold", tiers=3), "tier"),
            (lambda: FinancialFacts(tier_rank=1, tiers=3), "tier"),
            (lambda: FinancialFacts(tier="", tier_rank=1, tiers=1), "tier"),
            (lambda: FinancialFacts(points_for_reward=0), "points_for_reward"),
            (lambda: FinancialFacts(stamps_to_go=3), "stamps_to_go"),
            (lambda: FinancialFacts(card_size=10), "stamps_to_go"),
            (lambda: FinancialFacts(stamps_to_go=11, card_size=10), "stamps_to_go"),
            (lambda: FinancialFacts(stamps_to_go=-1, card_size=10), "stamps_to_go"),
            (lambda: FinancialFacts(stamps_to_go=0, card_size=0), "card_size"),
            (lambda: SocialFacts(days_since_contact=-1), "days_since_contact"),
            (lambda: SocialFacts(cadence_days=0), "cadence_days"),
            (lambda: SocialFacts(events_attended=2.5), "events_attended"),
            (lambda: SocialFacts(owner=" Lena"), "owner"),
            (lambda: SocialFacts(open_tasks=-3), "open_tasks"),
            (lambda: CustomizationFacts(restrictions_known=1), "restrictions_known"),
            (lambda: CustomizationFacts(wishes=-1), "wishes"),
            (lambda: CustomizationFacts(offers_accepted="2"), "offers_accepted"),
            (lambda: StructuralFacts(subscriptions=1, paid_subscriptions=2), "paid_subscriptions"),
            (lambda: StructuralFacts(months_subscribed=3), "months_subscribed"),
            (lambda: StructuralFacts(integrations=-1), "integrations"),
            (lambda: StructuralFacts(sequences=0.0), "sequences"),
        ],
        ids=[
            "negative-points",
            "float-points",
            "bool-vouchers",
            "decimal-purchases",
            "rank-above-the-ladder",
            "tier-without-rank",
            "rank-without-tier",
            "empty-tier-name",
            "free-reward",
            "stamps-without-card",
            "card-without-stamps",
            "more-to-go-than-the-card",
            "negative-stamps-to-go",
            "empty-card",
            "negative-days",
            "zero-cadence",
            "float-events",
            "padded-owner",
            "negative-tasks",
            "restriction-not-a-preference",
            "negative-wishes",
            "offers-as-text",
            "more-paid-than-subscriptions",
            "months-without-subscription",
            "negative-integrations",
            "float-sequences",
        ],
    )
    def test_facts_that_cannot_be_are_rejected(self, build: Callable[[], Any], field: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            build()

        assert field == caught.value.field
        assert isinstance(caught.value, ValueError)

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: _strength(score=31), "score"),
            (lambda: _strength(score=101), "score"),
            (lambda: _strength(score=-1), "score"),
            (lambda: _strength(bond="social"), "bond"),
            (lambda: _strength(facts=["owner Lena"]), "facts"),
            (lambda: Fact(name="owner", value="Lena", points=-1, reason="x"), "points"),
            (lambda: Fact(name="owner", value="Lena", points=1, reason=" "), "reason"),
        ],
        ids=[
            "score-not-explained",
            "score-above-100",
            "negative-score",
            "bond-as-text",
            "fact-as-text",
            "negative-fact-points",
            "blank-reason",
        ],
    )
    def test_strengths_that_do_not_add_up_are_rejected(
        self, build: Callable[[], Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            build()

        assert field == caught.value.field

    def test_facts_over_100_are_capped_not_rejected(self) -> None:
        facts = [Fact(name=f"f{n}", value=n, points=60, reason=f"fact {n}") for n in range(2)]

        assert 100 == BondStrength(bond=Bond.SOCIAL, score=100, facts=facts).score

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"at": datetime(2026, 3, 2)}, "at"),  # noqa: DTZ001 - naive on purpose
            ({"customer_id": ""}, "customer_id"),
            ({"social": score_financial(FinancialFacts())}, "social"),
            ({"structural": None}, "structural"),
        ],
        ids=["naive-at", "empty-customer", "financial-in-the-social-slot", "missing-bond"],
    )
    def test_a_profile_that_cannot_be_is_rejected(
        self, changes: dict[str, Any], field: str
    ) -> None:
        good = profile_of()

        with pytest.raises(InvalidInput) as caught:
            attrs.evolve(good, **changes)

        assert field == caught.value.field

    @pytest.mark.parametrize(
        "score", [score_financial, score_social, score_customization, score_structural]
    )
    def test_scoring_the_wrong_facts_is_rejected(
        self, score: Callable[[Any], BondStrength]
    ) -> None:
        wrong = StructuralFacts() if score is not score_structural else SocialFacts()

        with pytest.raises(InvalidInput, match="facts"):
            score(wrong)
