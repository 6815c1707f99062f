"""Recovery measured (custbond.recovery.metrics): the report over the complaints of a
period (times, breaches, compensation, cohorts of who kept buying) and survey trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond._frozen import FrozenMap
from custbond.activity import Activity
from custbond.customers import Customer
from custbond.errors import InvalidInput
from custbond.events import SurveyResponse
from custbond.program import CustomerState
from custbond.recovery.calendar import BusinessCalendar
from custbond.recovery.case import RecoveryCase
from custbond.recovery.compensation import Compensation, CompensationLadder
from custbond.recovery.metrics import (
    COHORTS,
    Cohort,
    Cost,
    Durations,
    RecoveryReport,
    TrendPoint,
    recovery_report,
    survey_history,
    survey_trend,
)
from custbond.recovery.policy import RecoveryPolicy

D = Decimal
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 2, tzinfo=UTC)
# Open Monday to Friday, 09:00 to 17:00 UTC. 6 March 2026 is a Friday.
OFFICE = BusinessCalendar("UTC", {"MO-FR": "09:00-17:00"})


def march(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


FRIDAY_NINE = march(6, 9)
TUESDAY = march(10)


def complaint(
    id: str = "cmp-1",
    filed_at: datetime = FRIDAY_NINE,
    *,
    severity: str = "high",
    category: str = "late delivery",
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    acknowledge_by: datetime | None = None,
    resolve_by: datetime | None = None,
    given: Compensation | None = None,
    escalations: tuple[int, ...] = (),
) -> RecoveryCase:
    case = RecoveryCase.open(
        id=id,
        category=category,
        severity=severity,
        filed_at=filed_at,
        acknowledge_by=acknowledge_by,
        resolve_by=resolve_by,
    )
    return attrs.evolve(
        case,
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at,
        given=given,
        escalations=escalations,
    )


def customer(
    id: str = "c-1",
    *cases: RecoveryCase,
    last_purchase_at: datetime | None = None,
    surveys: tuple[SurveyResponse, ...] = (),
) -> CustomerState:
    purchases = 0 if last_purchase_at is None else 1
    return CustomerState(
        Customer(id),
        cases=FrozenMap({case.id: case for case in cases}),
        surveys=surveys,
        activity=Activity(purchases=purchases, last_purchase_at=last_purchase_at),
    )


def report(states: list[CustomerState], **options: Any) -> RecoveryReport:
    options = {"since": SINCE, "until": UNTIL, "now": NOW, **options}
    return recovery_report(states, **options)


def answer(
    number: int,
    at: datetime,
    score: int,
    *,
    scale: str = "nps",
    category: str | None = None,
) -> SurveyResponse:
    return SurveyResponse(
        id=f"s-{number}",
        customer_id="c-1",
        at=at,
        scale=scale,
        score=score,
        category=category,
    )


def answers(*scores: int, scale: str = "nps", at: datetime = TUESDAY) -> list[SurveyResponse]:
    return [answer(n, at, score, scale=scale) for n, score in enumerate(scores)]


class TestThePeriod:
    def test_counts_the_cases_filed_from_since_up_to_but_not_including_until(self) -> None:
        filed = [SINCE - MICROSECOND, SINCE, UNTIL - MICROSECOND, UNTIL]
        cases = [complaint(f"cmp-{n}", at) for n, at in enumerate(filed)]

        measured = report([customer("c-1", *cases)])

        assert 2 == measured.cases

    def test_a_customer_whose_only_complaint_is_outside_the_period_did_not_complain(
        self,
    ) -> None:
        measured = report([customer("c-1", complaint(filed_at=SINCE - DAY))])

        assert 1 == measured.cohort("did not complain").customers
        assert 0 == measured.cases

    @pytest.mark.parametrize(
        "until", [SINCE, SINCE - MICROSECOND], ids=["equal to since", "before since"]
    )
    def test_until_must_come_after_since(self, until: datetime) -> None:
        with pytest.raises(InvalidInput) as raised:
            report([], until=until)

        assert "until" == raised.value.field

    def test_without_until_the_cases_filed_up_to_and_including_now_are_counted(self) -> None:
        filed = [SINCE - MICROSECOND, SINCE, NOW - MICROSECOND, NOW, NOW + MICROSECOND]
        cases = [complaint(f"cmp-{n}", at) for n, at in enumerate(filed)]

        measured = report([customer("c-1", *cases)], until=None)

        assert 3 == measured.cases  # the one filed at now was left out
        assert (NOW, True) == (measured.until, measured.until_included)
        assert measured.describe().startswith(
            f"Recovery of complaints filed from {SINCE.isoformat()} up to and including "
            f"{NOW.isoformat()}, as of {NOW.isoformat()}"
        )

    def test_an_explicit_until_is_left_out_even_when_it_is_now(self) -> None:
        measured = report([customer("c-1", complaint(filed_at=NOW))], until=NOW)

        assert (0, False) == (measured.cases, measured.until_included)

    def test_without_until_since_may_be_now_itself(self) -> None:
        measured = report([customer("c-1", complaint(filed_at=NOW))], since=NOW, until=None)

        assert 1 == measured.cases

    def test_without_until_since_must_not_come_after_now(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            report([], since=NOW + MICROSECOND, until=None)

        assert "since" == raised.value.field

    @pytest.mark.parametrize("field", ["since", "until", "now"])
    def test_naive_moments_are_rejected(self, field: str) -> None:
        naive = {"since": SINCE, "until": UNTIL, "now": NOW}[field].replace(tzinfo=None)

        with pytest.raises(InvalidInput) as raised:
            report([], **{field: naive})

        assert field == raised.value.field

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"policy": "strict"}, "policy"),
            ({"currency": "usd"}, "currency"),
        ],
        ids=["a policy that is not a RecoveryPolicy", "a lower-case currency"],
    )
    def test_bad_options_are_rejected(self, options: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            report([], **options)

        assert field == raised.value.field

    def test_two_states_of_one_customer_are_rejected_rather_than_counted_twice(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            report([customer("c-1", complaint()), customer("c-1")])

        assert ("states", "c-1") == (raised.value.field, raised.value.value)

    def test_cases_are_counted_by_severity_in_rank_order_and_by_category_most_first(
        self,
    ) -> None:
        cases = [
            complaint("cmp-1", severity="critical", category="rude staff"),
            complaint("cmp-2", severity="low", category="late delivery"),
            complaint("cmp-3", severity="critical", category="late delivery"),
        ]

        measured = report([customer("c-1", *cases)])

        assert [("low", 1), ("critical", 2)] == list(measured.by_severity.items())
        assert [("late delivery", 2), ("rude staff", 1)] == list(measured.by_category.items())


class TestTimes:
    def test_wall_clock_times_are_measured_from_filing(self) -> None:
        filed = march(6, 9)
        cases = [
            complaint("cmp-1", filed, acknowledged_at=filed + HOUR, resolved_at=filed + DAY),
            complaint("cmp-2", filed, acknowledged_at=filed + 2 * HOUR),
            complaint(
                "cmp-3", filed, acknowledged_at=filed + 6 * HOUR, resolved_at=filed + 3 * DAY
            ),
        ]

        measured = report([customer("c-1", *cases)])

        assert Durations(3, 3 * HOUR, 2 * HOUR, 6 * HOUR) == measured.time_to_acknowledge
        # An even count: the median is the mean of the two middle ones.
        assert Durations(2, 2 * DAY, 2 * DAY, 3 * DAY) == measured.time_to_resolve
        assert (3, 2) == (measured.acknowledged, measured.resolved)

    def test_a_case_resolved_without_an_acknowledgement_counts_as_acknowledged_then(
        self,
    ) -> None:
        case = complaint(filed_at=march(6, 9), resolved_at=march(6, 13))

        measured = report([customer("c-1", case)])

        assert 1 == measured.acknowledged
        assert 4 * HOUR == measured.time_to_acknowledge.longest

    def test_a_target_met_before_the_filing_counts_as_no_time(self) -> None:
        case = complaint(filed_at=march(6, 9), acknowledged_at=march(6, 8))

        measured = report([customer("c-1", case)])

        assert timedelta(0) == measured.time_to_acknowledge.longest

    def test_with_no_case_meeting_a_target_its_times_are_none(self) -> None:
        measured = report([customer("c-1", complaint())])

        assert Durations(0, None, None, None) == measured.time_to_resolve
        assert "no cases" == measured.time_to_resolve.describe()

    def test_business_times_are_none_without_a_calendar(self) -> None:
        case = complaint(acknowledged_at=march(6, 10))

        measured = report([customer("c-1", case)], policy=RecoveryPolicy())

        assert measured.business_time_to_acknowledge is None
        assert measured.business_time_to_resolve is None

    def test_business_times_count_only_the_calendar_open_hours(self) -> None:
        friday_four_pm = march(6, 16)
        case = complaint(
            filed_at=friday_four_pm,
            acknowledged_at=march(9, 10),  # Monday: 1 hour on Friday, 1 on Monday
            resolved_at=march(10, 17),  # Tuesday closing: 1 + 8 + 8 hours
        )

        measured = report([customer("c-1", case)], policy=RecoveryPolicy(calendar=OFFICE))

        assert 66 * HOUR == measured.time_to_acknowledge.longest
        assert Durations(1, 2 * HOUR, 2 * HOUR, 2 * HOUR) == (
            measured.business_time_to_acknowledge
        )
        assert Durations(1, 17 * HOUR, 17 * HOUR, 17 * HOUR) == (measured.business_time_to_resolve)

    def test_durations_need_their_times_exactly_when_they_have_a_count(self) -> None:
        with pytest.raises(InvalidInput):
            Durations(0, HOUR, HOUR, HOUR)
        with pytest.raises(InvalidInput):
            Durations(1, None, None, None)


class TestBreaches:
    @pytest.mark.parametrize(
        ("now", "breached"),
        [(march(6, 12) - MICROSECOND, 0), (march(6, 12), 0), (march(6, 12) + MICROSECOND, 1)],
        ids=["before the deadline", "at the deadline", "after the deadline"],
    )
    def test_an_open_case_is_breached_once_its_deadline_has_passed(
        self, now: datetime, breached: int
    ) -> None:
        case = complaint(filed_at=march(6, 9), acknowledge_by=march(6, 12))

        measured = report([customer("c-1", case)], now=now)

        assert {"acknowledge": breached, "resolve": 0} == measured.breaches

    def test_a_target_met_late_is_a_breach_and_one_met_on_time_is_not(self) -> None:
        case = complaint(
            acknowledge_by=march(6, 12),
            acknowledged_at=march(6, 12),
            resolve_by=march(7, 9),
            resolved_at=march(7, 10),
        )

        measured = report([customer("c-1", case)])

        assert {"acknowledge": 0, "resolve": 1} == measured.breaches

    def test_a_case_that_missed_both_targets_counts_under_each(self) -> None:
        case = complaint(acknowledge_by=march(6, 12), resolve_by=march(7, 9))

        measured = report([customer("c-1", case)])

        assert {"acknowledge": 1, "resolve": 1} == measured.breaches

    def test_a_case_without_deadlines_is_never_breached(self) -> None:
        measured = report([customer("c-1", complaint())])

        assert {"acknowledge": 0, "resolve": 0} == measured.breaches

    def test_escalations_count_every_step_that_fired(self) -> None:
        cases = [complaint("cmp-1", escalations=(0, 1)), complaint("cmp-2", escalations=(0,))]

        measured = report([customer("c-1", *cases)])

        assert 3 == measured.escalations


class TestCompensationCost:
    def test_points_are_valued_at_the_ladder_point_value(self) -> None:
        given = Compensation(points=200, voucher=D("10.00"), refund=D("5.50"))
        policy = RecoveryPolicy(compensation=CompensationLadder([], point_value=D("0.05")))

        measured = report([customer("c-1", complaint(given=given))], policy=policy)

        assert Cost(200, D("10.00"), D("5.50"), D("25.50"), cases=1) == measured.compensation

    def test_points_are_worth_a_cent_without_a_ladder(self) -> None:
        cases = [
            complaint("cmp-1", given=Compensation(points=150)),
            complaint("cmp-2", given=Compensation(points=50, refund=D("3.00"))),
        ]

        measured = report([customer("c-1", *cases)])

        assert Cost(200, D(0), D("3.00"), D("5.00"), cases=2) == measured.compensation

    def test_compensation_in_another_currency_is_skipped_and_counted(self) -> None:
        cases = [
            complaint("cmp-1", given=Compensation("EUR", refund=D("9.00"))),
            complaint("cmp-2", given=Compensation(refund=D("4.00"))),
        ]

        measured = report([customer("c-1", *cases)])

        assert Cost(0, D(0), D("4.00"), D("4.00"), cases=1, skipped=1) == measured.compensation
        assert "(1 case in other currencies not counted)" in str(measured)

    def test_the_report_counts_compensation_in_the_currency_it_is_asked_for(self) -> None:
        case = complaint(given=Compensation("JPY", refund=D(500)))

        measured = report([customer("c-1", case)], currency="JPY")

        assert (D(500), "JPY") == (measured.compensation.worth, measured.compensation.currency)
        assert "worth 500 JPY" in measured.compensation.describe()

    def test_cases_without_compensation_cost_nothing(self) -> None:
        measured = report([customer("c-1", complaint())])

        assert Cost(0, D(0), D(0), D(0)) == measured.compensation
        assert "no compensation given in USD" == measured.compensation.describe()


class TestCohorts:
    @pytest.mark.parametrize(
        ("cases", "cohort"),
        [
            ((), "did not complain"),
            ((complaint(resolved_at=march(7), resolve_by=march(8)),), "recovered"),
            ((complaint(resolved_at=march(9), resolve_by=march(8)),), "breached"),
            ((complaint(resolve_by=march(8)),), "breached"),  # still open past its deadline
            ((complaint(acknowledged_at=march(6, 10)),), "open"),
            (
                (complaint("cmp-1", resolved_at=march(7)), complaint("cmp-2")),
                "open",
            ),
            (
                (
                    complaint("cmp-1", resolved_at=march(7)),
                    complaint("cmp-2", acknowledge_by=march(6, 10), acknowledged_at=march(7)),
                ),
                "breached",
            ),
        ],
        ids=[
            "no complaint",
            "resolved in time",
            "resolved late",
            "open past its deadline",
            "open within its deadlines",
            "one resolved, one open",
            "one resolved, one acknowledged late",
        ],
    )
    def test_each_customer_falls_in_the_cohort_their_complaints_put_them_in(
        self, cases: tuple[RecoveryCase, ...], cohort: str
    ) -> None:
        measured = report([customer("c-1", *cases)])

        assert {cohort: 1} == {
            each.name: each.customers for each in measured.cohorts if each.customers
        }

    def test_the_report_lists_the_four_cohorts_in_order(self) -> None:
        assert COHORTS == tuple(cohort.name for cohort in report([]).cohorts)

    @pytest.mark.parametrize(
        ("bought", "kept"),
        [(march(9) - MICROSECOND, 0), (march(9), 0), (march(9) + MICROSECOND, 1)],
        ids=["before the resolution", "at the resolution", "after the resolution"],
    )
    def test_a_recovered_customer_kept_buying_with_a_purchase_after_the_resolution(
        self, bought: datetime, kept: int
    ) -> None:
        case = complaint(filed_at=march(6), resolved_at=march(9))

        measured = report([customer("c-1", case, last_purchase_at=bought)])

        assert Cohort("recovered", 1, kept) == measured.cohort("recovered")

    def test_with_several_complaints_the_latest_resolution_is_the_reference(self) -> None:
        cases = [
            complaint("cmp-1", march(3), resolved_at=march(20)),
            complaint("cmp-2", march(10), resolved_at=march(12)),
        ]

        before = report([customer("c-1", *cases, last_purchase_at=march(15))])
        after = report([customer("c-1", *cases, last_purchase_at=march(21))])

        assert 0 == before.cohort("recovered").kept_buying
        assert 1 == after.cohort("recovered").kept_buying

    def test_for_an_open_complaint_the_filing_is_the_reference(self) -> None:
        case = complaint(filed_at=march(6, 9))

        measured = report([customer("c-1", case, last_purchase_at=march(6, 10))])

        assert Cohort("open", 1, 1) == measured.cohort("open")

    def test_for_those_who_did_not_complain_the_start_of_the_period_is_the_reference(
        self,
    ) -> None:
        states = [
            customer("c-1", last_purchase_at=SINCE + MICROSECOND),
            customer("c-2", last_purchase_at=SINCE),
            customer("c-3"),  # never bought
        ]

        measured = report(states)

        assert Cohort("did not complain", 3, 1) == measured.cohort("did not complain")
        assert D("0.333") == measured.cohort("did not complain").share

    def test_a_purchase_before_a_complaint_is_not_keeping_on_buying(self) -> None:
        case = complaint(filed_at=march(6, 9), resolved_at=march(6, 15))

        measured = report([customer("c-1", case, last_purchase_at=march(6, 8))])

        assert Cohort("recovered", 1, 0) == measured.cohort("recovered")

    @pytest.mark.parametrize(
        ("customers", "kept", "share"),
        [(16, 1, D("0.062")), (16, 3, D("0.188")), (8, 1, D("0.125")), (2, 2, D("1.000"))],
        ids=["0.0625 to even", "0.1875 to even", "exact", "all"],
    )
    def test_the_share_is_rounded_to_three_places_half_to_even(
        self, customers: int, kept: int, share: Decimal
    ) -> None:
        assert share == Cohort("recovered", customers, kept).share

    def test_an_empty_cohort_has_no_share(self) -> None:
        assert Cohort("open", 0, 0).share is None

    def test_a_cohort_cannot_keep_more_customers_than_it_has(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Cohort("open", 1, 2)

        assert "kept_buying" == raised.value.field

    def test_an_unknown_cohort_name_is_rejected(self) -> None:
        with pytest.raises(InvalidInput):
            report([]).cohort("loyal")


class TestDescribe:
    def test_the_report_reads_as_a_few_lines(self) -> None:
        filed = march(6, 16)
        case = complaint(
            filed_at=filed,
            acknowledge_by=filed + HOUR,
            acknowledged_at=march(9, 10),
            escalations=(0,),
            given=Compensation(voucher=D("10.00")),
            resolved_at=march(10, 17),
        )
        states = [customer("c-1", case, last_purchase_at=march(20)), customer("c-2")]

        text = str(report(states, policy=RecoveryPolicy(calendar=OFFICE)))

        assert [
            "Recovery of complaints filed from 2026-03-01T00:00:00+00:00 to "
            "2026-04-01T00:00:00+00:00, as of 2026-04-02T00:00:00+00:00",
            "1 case filed: 1 acknowledged, 1 resolved",
            "  by severity: high 1",
            "  by category: late delivery 1",
            "time to acknowledge: 1 case, mean 2 days 18 hours, median 2 days 18 hours, "
            "longest 2 days 18 hours",
            "time to resolve: 1 case, mean 4 days 1 hour, median 4 days 1 hour, "
            "longest 4 days 1 hour",
            "business time to acknowledge: 1 case, mean 2 hours, median 2 hours, longest 2 hours",
            "business time to resolve: 1 case, mean 17 hours, median 17 hours, longest 17 hours",
            "breaches: 1 case missed the acknowledge target; escalations: 1 step fired",
            "compensation given in 1 case: vouchers 10.00 USD; worth 10.00 USD",
            "kept buying after their complaint (or, without one, since the period began):",
            "  recovered: none",
            "  breached: 1 of 1 (100.0%)",
            "  open: none",
            "  did not complain: 0 of 1 (0.0%)",
        ] == text.splitlines()


class TestSurveyTrend:
    def test_nps_is_grouped_by_local_month_in_the_zone(self) -> None:
        late_march = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # 01:30 on 1 April in Paris
        given = [answer(1, march(2), 10), answer(2, late_march, 3)]

        in_utc = survey_trend(given)
        in_paris = survey_trend(given, zone="Europe/Paris")

        assert [("2026-03", 2)] == [(point.bucket, point.count) for point in in_utc]
        assert [("2026-03", 1), ("2026-04", 1)] == [
            (point.bucket, point.count) for point in in_paris
        ]
        assert [100, -100] == [point.score for point in in_paris]

    def test_the_zone_may_be_a_tzinfo(self) -> None:
        late_march = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
        paris = timedelta(hours=2)

        (point,) = survey_trend([answer(1, late_march, 9)], zone=timezone(paris))

        assert "2026-04" == point.bucket

    def test_nps_counts_promoters_passives_and_detractors(self) -> None:
        (point,) = survey_trend(answers(10, 9, 8, 7, 6, 0, 9, 10))

        assert TrendPoint("2026-03", 8, D("7.38"), 2, 4, 2, 25) == point

    @pytest.mark.parametrize(
        ("scores", "score"),
        [((10, 8, 8, 8, 8, 8, 8, 8), 12), ((10, 10, 10, 8, 8, 8, 8, 8), 38)],
        ids=["12.5 to 12", "37.5 to 38"],
    )
    def test_the_nps_is_rounded_half_to_even(self, scores: tuple[int, ...], score: int) -> None:
        (point,) = survey_trend(answers(*scores))

        assert score == point.score

    def test_the_mean_is_rounded_to_two_places_half_to_even(self) -> None:
        (point,) = survey_trend(answers(7, 7, 7, 7, 7, 7, 7, 8))  # 57 / 8 = 7.125

        assert D("7.12") == point.mean

    def test_csat_scores_the_percentage_satisfied(self) -> None:
        (point,) = survey_trend(answers(5, 4, 3, 2, 1, 4, scale="csat"), scale="csat")

        assert TrendPoint("2026-03", 6, D("3.17"), 2, 3, 1, 50, scale="csat") == point
        assert "2026-03: 6 answers, mean 3.17, 50% satisfied" in point.describe()

    def test_with_low_csat_4_a_four_is_satisfied_and_a_detractor(self) -> None:
        (point,) = survey_trend(answers(5, 4, 4, 3, scale="csat"), scale="csat", low_csat=4)

        assert (3, 1, 0, 75) == (point.detractors, point.promoters, point.passives, point.score)

    def test_answers_on_the_other_scale_are_left_out(self) -> None:
        given = [*answers(9, 10), answer(9, march(10), 5, scale="csat")]

        (point,) = survey_trend(given)

        assert 2 == point.count

    def test_by_category_an_answer_without_one_is_uncategorised(self) -> None:
        given = [
            answer(1, march(2), 10, category="late delivery"),
            answer(2, march(3), 2),
            answer(3, march(4), 9, category="billing"),
            answer(4, march(5), 0, category="late delivery"),
        ]

        points = survey_trend(given, by="category")

        assert [("billing", 1, 100), ("late delivery", 2, 0), ("uncategorised", 1, -100)] == [
            (point.bucket, point.count, point.score) for point in points
        ]

    def test_no_answers_make_no_points(self) -> None:
        assert () == survey_trend([])

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"by": "week"}, "by"),
            ({"scale": "ces"}, "scale"),
            ({"zone": "Mars/Olympus"}, "zone"),
            ({"low_csat": 5}, "low_csat"),
            ({"low_csat": True}, "low_csat"),
        ],
        ids=["by week", "an unknown scale", "an unknown zone", "low_csat 5", "low_csat True"],
    )
    def test_bad_options_are_rejected(self, options: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            survey_trend(answers(9), **options)

        assert field == raised.value.field

    def test_an_answer_that_is_not_a_survey_response_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            survey_trend([9])  # type: ignore[list-item]

        assert "answers" == raised.value.field

    def test_a_trend_point_whose_parts_do_not_add_up_is_rejected(self) -> None:
        with pytest.raises(InvalidInput):
            TrendPoint("2026-03", 4, D("7.00"), 1, 1, 1, 0)


class TestSurveyHistory:
    def test_answers_are_listed_oldest_first(self) -> None:
        later, earlier = answer(1, march(9), 7), answer(2, march(2), 9)

        history = survey_history(customer("c-1", surveys=(later, earlier)))

        assert (earlier, later) == history


# -- properties ----------------------------------------------------------------------------

OFFSETS = st.integers(min_value=-10 * 24 * 60, max_value=45 * 24 * 60).map(
    lambda minutes: SINCE + timedelta(minutes=minutes)
)
LATER = st.none() | st.integers(min_value=-60, max_value=10 * 24 * 60).map(
    lambda minutes: timedelta(minutes=minutes)
)


@st.composite
def cases(draw: st.DrawFn, id: str) -> RecoveryCase:
    filed = draw(OFFSETS)
    moments = [draw(LATER) for _ in range(4)]
    acknowledged, resolved, acknowledge_by, resolve_by = (
        None if later is None else filed + later for later in moments
    )
    return complaint(
        id,
        filed,
        severity=draw(st.sampled_from(["low", "medium", "high", "critical"])),
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        acknowledge_by=acknowledge_by,
        resolve_by=resolve_by,
    )


@st.composite
def states(draw: st.DrawFn) -> list[CustomerState]:
    count = draw(st.integers(min_value=0, max_value=6))
    result = []
    for number in range(count):
        complaints = [draw(cases(f"cmp-{n}")) for n in range(draw(st.integers(0, 3)))]
        bought = draw(st.none() | OFFSETS)
        result.append(customer(f"c-{number}", *complaints, last_purchase_at=bought))
    return result


class TestProperties:
    @settings(max_examples=60)
    @given(states=states(), now=OFFSETS)
    def test_the_cohorts_partition_the_customers(
        self, states: list[CustomerState], now: datetime
    ) -> None:
        measured = report(states, now=now)

        assert len(states) == sum(cohort.customers for cohort in measured.cohorts)
        for cohort in measured.cohorts:
            assert 0 <= cohort.kept_buying <= cohort.customers
        assert measured.resolved <= measured.acknowledged <= measured.cases

    @settings(max_examples=60)
    @given(scores=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=30))
    def test_the_nps_stays_within_minus_100_and_100(self, scores: list[int]) -> None:
        (point,) = survey_trend(answers(*scores))

        assert -100 <= point.score <= 100
        assert len(scores) == point.detractors + point.promoters + point.passives
