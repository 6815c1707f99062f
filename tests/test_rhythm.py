"""Next need: a customer's next purchase of a product, from their own rhythm of buying it.

The customers here buy coffee beans, filters and descaler at a roastery: one every two
weeks like clockwork, one monthly, one weekly give or take a day, one who skipped a
fortnight for a holiday."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from hypothesis import given
from hypothesis import strategies as st

from custbond.bonds.rhythm import NextNeed, NextNeedPolicy, Rhythm, need_key, predict
from custbond.errors import InvalidInput
from custbond.events import LineItem, Purchase

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)
PARIS = tz.gettz("Europe/Paris")


def rhythm_of(times: Iterable[datetime], sku: str = "beans", **options: Any) -> Rhythm:
    rhythm = Rhythm(sku)
    for at in times:
        rhythm = rhythm.after(at, **options)
    return rhythm


def every(gaps: Iterable[timedelta], start: datetime = START) -> list[datetime]:
    """The times of purchases ``gaps`` apart, from ``start``."""
    times = [start]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


def item(sku: str, *, tags: Iterable[str] = ()) -> LineItem:
    return LineItem(sku=sku, quantity=1, unit_price=Decimal(5), tags=frozenset(tags))


def purchase(at: datetime, *items: LineItem) -> Purchase:
    return Purchase(
        id=f"o-{at.isoformat()}",
        customer_id="c-1",
        at=at,
        amount=sum((line.total for line in items), Decimal(0)),
        currency="EUR",
        items=items,
    )


def need(expected_at: datetime, sku: str = "beans", **fields: Any) -> NextNeed:
    defaults: dict[str, Any] = {
        "earliest": expected_at,
        "latest": expected_at,
        "interval": 14 * DAY,
        "spread": timedelta(0),
        "basis": 3,
        "last_at": expected_at - 14 * DAY,
    }
    return NextNeed(sku=sku, expected_at=expected_at, **(defaults | fields))


class TestPredict:
    @pytest.mark.parametrize("days", [7, 14, 30], ids=["weekly", "fortnightly", "monthly"])
    def test_a_customer_like_clockwork_is_expected_one_interval_after_the_last_purchase(
        self, days: int
    ) -> None:
        times = every([days * DAY] * 5)
        prediction = predict(rhythm_of(times))

        assert prediction is not None
        assert days * DAY == prediction.interval
        assert timedelta(0) == prediction.spread
        assert times[-1] + days * DAY == prediction.expected_at
        assert prediction.expected_at == prediction.earliest == prediction.latest
        assert (5, times[-1]) == (prediction.basis, prediction.last_at)

    @given(jitters=st.lists(st.integers(-86_400, 86_400), min_size=2, max_size=8))
    def test_a_weekly_customer_give_or_take_a_day_is_expected_within_that_day(
        self, jitters: list[int]
    ) -> None:
        times = every(7 * DAY + timedelta(seconds=jitter) for jitter in jitters)
        prediction = predict(rhythm_of(times))

        assert prediction is not None
        assert 6 * DAY <= prediction.interval <= 8 * DAY
        assert prediction.spread <= 2 * DAY
        assert prediction.interval in rhythm_of(times).intervals  # a real interval, exact
        assert times[-1] + prediction.interval == prediction.expected_at

    def test_one_holiday_gap_barely_moves_the_prediction(self) -> None:
        # Every fortnight, but a five-week gap over the summer holiday.
        times = every([14 * DAY, 14 * DAY, 14 * DAY, 35 * DAY, 14 * DAY, 14 * DAY])
        prediction = predict(rhythm_of(times))

        assert prediction is not None
        assert (14 * DAY, timedelta(0)) == (prediction.interval, prediction.spread)
        assert times[-1] + 14 * DAY == prediction.expected_at

    def test_one_holiday_gap_in_a_loose_rhythm_leaves_the_spread_at_a_day(self) -> None:
        # intervals 13, 14, 15, 40, 14: median 14; deviations 1, 0, 1, 26, 0: median 1.
        times = every(days * DAY for days in (13, 14, 15, 40, 14))
        prediction = predict(rhythm_of(times))

        assert prediction is not None
        assert (14 * DAY, DAY) == (prediction.interval, prediction.spread)
        assert (times[-1] + 13 * DAY, times[-1] + 15 * DAY) == (
            prediction.earliest,
            prediction.latest,
        )

    def test_an_even_count_takes_the_shorter_middle_interval_and_the_wider_spread(
        self,
    ) -> None:
        # intervals 10, 20: the lower middle is 10; deviations 0, 10: the upper middle 10.
        times = every([20 * DAY, 10 * DAY])
        prediction = predict(rhythm_of(times))

        assert prediction is not None
        assert (10 * DAY, 10 * DAY) == (prediction.interval, prediction.spread)
        # expected - spread would be the last purchase itself: earliest never goes before.
        assert times[-1] == prediction.earliest
        assert times[-1] + 20 * DAY == prediction.latest

    @pytest.mark.parametrize(
        ("intervals", "expected"),
        [(1, False), (2, True), (3, True)],
        ids=["fewer", "as many", "more"],
    )
    def test_a_prediction_needs_min_intervals(self, intervals: int, expected: bool) -> None:
        rhythm = rhythm_of(every([14 * DAY] * intervals))

        assert expected == (predict(rhythm, min_intervals=2) is not None)

    def test_a_rhythm_without_intervals_predicts_nothing_even_at_one_interval_minimum(
        self,
    ) -> None:
        assert predict(Rhythm("beans"), min_intervals=1) is None
        assert predict(rhythm_of([START]), min_intervals=1) is None

    @pytest.mark.parametrize("bad", [0, -1, True, "2"], ids=["zero", "negative", "bool", "str"])
    def test_min_intervals_must_be_a_positive_int(self, bad: Any) -> None:
        with pytest.raises(InvalidInput) as raised:
            predict(Rhythm("beans"), min_intervals=bad)

        assert "min_intervals" == raised.value.field

    def test_only_a_rhythm_can_be_predicted(self) -> None:
        with pytest.raises(InvalidInput, match="rhythm must be a Rhythm"):
            predict([START])  # type: ignore[arg-type]


class TestNextNeed:
    def test_describe_reads_as_a_sentence(self) -> None:
        times = every(days * DAY for days in (13, 15, 14, 13, 15))
        prediction = predict(rhythm_of(times, sku="coffee beans"))

        assert prediction is not None
        assert (
            "coffee beans: next expected around 2026-03-30 "
            "(every 14 days, give or take 1 day; from 5 intervals)"
        ) == prediction.describe()

    def test_describe_leaves_out_a_spread_of_nothing_and_says_one_interval(self) -> None:
        prediction = predict(rhythm_of(every([30 * DAY]), sku="filters"), min_intervals=1)

        assert prediction is not None
        assert (
            "filters: next expected around 2026-03-06 (every 30 days; from 1 interval)"
            == prediction.describe()
        )

    @pytest.mark.parametrize(
        ("now", "expected"),
        [(-timedelta(microseconds=1), False), (timedelta(0), False), (DAY, True)],
        ids=["before latest", "at latest", "after latest"],
    )
    def test_is_overdue_once_past_latest(self, now: timedelta, expected: bool) -> None:
        latest = START + 15 * DAY
        late = need(START + 14 * DAY, earliest=START + 13 * DAY, latest=latest)

        assert expected == late.is_overdue(latest + now)

    def test_is_overdue_rejects_a_naive_now(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            need(START).is_overdue(datetime(2026, 1, 5))  # noqa: DTZ001 - on purpose

        assert "now" == raised.value.field

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"earliest": START + DAY}, "expected_at"),
            ({"latest": START - DAY}, "expected_at"),
            ({"last_at": START + DAY}, "earliest"),
            ({"interval": timedelta(0)}, "interval"),
            ({"spread": -DAY}, "spread"),
            ({"basis": 0}, "basis"),
            ({"last_at": datetime(2026, 1, 1)}, "last_at"),  # noqa: DTZ001 - on purpose
        ],
        ids=["earliest after", "latest before", "last after earliest", "no interval",
             "negative spread", "no basis", "naive"],
    )  # fmt: skip
    def test_an_inconsistent_next_need_is_rejected(
        self, fields: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            need(START, **fields)

        assert field == raised.value.field


class TestRhythm:
    @pytest.mark.parametrize(
        ("later", "counted"),
        [(timedelta(hours=11, minutes=59), False), (timedelta(hours=12), False),
         (timedelta(hours=12, seconds=1), True)],
        ids=["less than 12h", "12h", "more than 12h"],
    )  # fmt: skip
    def test_a_purchase_within_12_hours_of_another_is_the_same_buying_occasion(
        self, later: timedelta, counted: bool
    ) -> None:
        once = rhythm_of([START])

        again = once.after(START + later)

        assert (START, START + later) == again.times  # both kept: the occasion is read
        assert ((START, START + later) if counted else (START,)) == again.occasions()

    def test_a_replayed_purchase_changes_nothing(self) -> None:
        rhythm = rhythm_of(every([14 * DAY] * 3))

        assert rhythm is rhythm.after(START + 14 * DAY)

    def test_a_late_purchase_takes_its_place_in_time(self) -> None:
        rhythm = rhythm_of([START, START + 28 * DAY]).after(START + 14 * DAY)

        assert (START, START + 14 * DAY, START + 28 * DAY) == rhythm.times
        assert (14 * DAY, 14 * DAY) == rhythm.intervals
        assert 3 == rhythm.purchases

    def test_keeps_the_latest_two_times_per_occasion_and_reads_keep_plus_one_occasions(
        self,
    ) -> None:
        times = every([7 * DAY] * 10)

        rhythm = rhythm_of(times, keep=3)

        assert tuple(times[-10:]) == rhythm.times
        assert tuple(times[-4:]) == rhythm.occasions(keep=3)
        assert 11 == rhythm.purchases

    def test_a_second_purchase_the_same_day_does_not_push_an_occasion_out(self) -> None:
        weekly = every([7 * DAY] * 3)
        twice = sorted([*weekly, *(at + timedelta(hours=3) for at in weekly)])

        rhythm = rhythm_of(twice, keep=3)

        assert tuple(weekly) == rhythm.occasions(keep=3)

    def test_a_purchase_older_than_a_full_window_is_ignored(self) -> None:
        rhythm = rhythm_of(every([7 * DAY] * 9, start=START + 70 * DAY), keep=3)

        assert rhythm is rhythm.after(START, keep=3)

    @given(
        steps=st.lists(st.integers(1, 400), min_size=1, max_size=14),
        keep=st.integers(1, 10),
        data=st.data(),
    )
    def test_order_and_duplicates_do_not_change_the_rhythm(
        self, steps: list[int], keep: int, data: st.DataObject
    ) -> None:
        # Distinct times at least 13 hours apart: more than same_within.
        times = every(timedelta(hours=13) * step for step in steps)
        replays = data.draw(st.lists(st.sampled_from(times), max_size=10), label="replays")
        shuffled = data.draw(st.permutations(times + replays), label="arrival order")

        in_order = rhythm_of(times, keep=keep)
        as_arrived = rhythm_of(shuffled, keep=keep)

        assert in_order.times == as_arrived.times
        window = 2 * (keep + 2)
        assert tuple(times[-window:]) == in_order.times
        assert tuple(times[-(keep + 1) :]) == in_order.occasions(keep=keep)
        assert len(times) == in_order.purchases
        assert as_arrived.purchases <= len(times)
        if len(times) <= window:
            assert in_order == as_arrived

    @given(
        offsets=st.lists(st.integers(0, 10_000), max_size=40),
        keep=st.integers(1, 8),
    )
    def test_never_keeps_more_than_keep_intervals(self, offsets: list[int], keep: int) -> None:
        rhythm = rhythm_of((START + timedelta(hours=hours) for hours in offsets), keep=keep)

        assert len(rhythm.times) <= 2 * (keep + 2)
        assert len(rhythm.intervals_of(keep=keep)) <= keep
        assert sorted(rhythm.times) == list(rhythm.times)

    def test_after_rejects_a_naive_datetime(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Rhythm("beans").after(datetime(2026, 1, 5, 9))  # noqa: DTZ001 - on purpose

        assert ("at", "a timezone-aware datetime (naive datetimes are ambiguous)") == (
            raised.value.field,
            raised.value.expected,
        )

    @pytest.mark.parametrize(
        ("options", "field"),
        [({"keep": 0}, "keep"), ({"same_within": -DAY}, "same_within")],
        ids=["no intervals kept", "negative same_within"],
    )
    def test_after_rejects_bad_options(self, options: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            Rhythm("beans").after(START, **options)

        assert field == raised.value.field

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"sku": ""}, "sku"),
            ({"times": (START + DAY, START), "purchases": 2}, "times"),
            ({"times": (START, START), "purchases": 2}, "times"),
            ({"times": (datetime(2026, 1, 5),), "purchases": 1}, "times"),  # noqa: DTZ001
            ({"times": (START,), "purchases": 0}, "purchases"),
            ({"times": START, "purchases": 1}, "times"),
        ],
        ids=["empty sku", "out of order", "repeated", "naive", "fewer purchases than times",
             "not a sequence"],
    )  # fmt: skip
    def test_an_inconsistent_rhythm_is_rejected(self, fields: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            Rhythm(**({"sku": "beans"} | fields))

        assert field == raised.value.field


class TestDaylightSaving:
    """Intervals are real elapsed time: Europe/Paris moved its clocks from 2:00 to 3:00
    on Sunday 29 March 2026."""

    def test_a_week_across_the_change_is_an_hour_short_of_seven_days(self) -> None:
        saturdays = [datetime(2026, 3, day, 10, tzinfo=PARIS) for day in (14, 21, 28)]
        saturdays += [datetime(2026, 4, day, 10, tzinfo=PARIS) for day in (4, 11)]

        rhythm = rhythm_of(saturdays)
        prediction = predict(rhythm)

        assert (7 * DAY, 7 * DAY, 7 * DAY - timedelta(hours=1), 7 * DAY) == rhythm.intervals
        assert prediction is not None
        assert 7 * DAY == prediction.interval
        assert datetime(2026, 4, 18, 10, tzinfo=PARIS) == prediction.expected_at

    def test_the_expected_time_is_the_elapsed_interval_after_the_last_purchase(self) -> None:
        fortnightly = [datetime(2026, 2, 21, 10, tzinfo=PARIS)]
        fortnightly += [datetime(2026, 3, day, 10, tzinfo=PARIS) for day in (7, 21)]

        prediction = predict(rhythm_of(fortnightly))

        assert prediction is not None
        assert 14 * DAY == prediction.interval
        # Fourteen days of elapsed time after 10:00 CET is 11:00 CEST on the wall clock.
        assert datetime(2026, 4, 4, 11, tzinfo=PARIS) == prediction.expected_at
        assert PARIS is prediction.expected_at.tzinfo
        expected_utc = prediction.expected_at.astimezone(UTC)
        assert 14 * DAY == expected_utc - fortnightly[-1].astimezone(UTC)

    def test_the_repeated_hour_in_autumn_keeps_both_purchases_apart(self) -> None:
        # 25 October 2026: 2:30 happens twice, an hour apart (fold 0 then fold 1).
        first = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS)
        second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)

        rhythm = rhythm_of([second, first], same_within=timedelta(minutes=30))

        assert (first, second) == rhythm.times
        assert (timedelta(hours=1),) == rhythm.intervals_of(same_within=timedelta(minutes=30))


BEANS = item("beans")
FILTERS = item("paper filters", tags={"filters"})
MUG = item("mug")


class TestNextNeedPolicy:
    def test_follows_every_product_by_default(self) -> None:
        assert all(NextNeedPolicy().tracks(line) for line in (BEANS, FILTERS, MUG))

    def test_follows_only_its_skus_and_the_items_tagged_with_its_tags(self) -> None:
        policy = NextNeedPolicy(skus={"beans"}, tags={"filters"})

        assert (True, True, False) == tuple(policy.tracks(line) for line in (BEANS, FILTERS, MUG))

    def test_note_adds_a_buying_occasion_to_each_product_it_follows(self) -> None:
        policy = NextNeedPolicy(skus={"beans"}, tags={"filters"})

        rhythms = policy.note({}, purchase(START, BEANS, FILTERS, MUG))
        rhythms = policy.note(rhythms, purchase(START + 14 * DAY, BEANS))

        assert ["beans", "paper filters"] == list(rhythms)
        assert (START, START + 14 * DAY) == rhythms["beans"].times
        assert (START,) == rhythms["paper filters"].times

    def test_two_lines_of_one_product_are_one_buying_occasion(self) -> None:
        rhythms = NextNeedPolicy().note({}, purchase(START, BEANS, BEANS))

        assert 1 == rhythms["beans"].purchases

    def test_note_leaves_the_rhythms_it_is_given_as_they_were(self) -> None:
        before = {"beans": rhythm_of([START])}

        after = NextNeedPolicy().note(before, purchase(START + 14 * DAY, BEANS))

        assert {"beans": rhythm_of([START])} == before
        assert 2 == after["beans"].purchases

    def test_note_uses_the_policys_keep_and_same_within(self) -> None:
        policy = NextNeedPolicy(keep=2, same_within=timedelta(days=2))
        rhythms: dict[str, Rhythm] = {}
        for days in (0, 1, 7, 14, 21):
            rhythms = policy.note(rhythms, purchase(START + days * DAY, BEANS))

        beans = rhythms["beans"]
        expected = (START + 7 * DAY, START + 14 * DAY, START + 21 * DAY)
        assert expected == beans.occasions(keep=2, same_within=timedelta(days=2))
        assert 5 == beans.purchases
        prediction = policy.predict(beans)
        assert prediction is not None
        assert (2, 7 * DAY) == (prediction.basis, prediction.interval)

    def test_beyond_max_products_the_one_bought_longest_ago_is_dropped(self) -> None:
        policy = NextNeedPolicy(max_products=2)
        rhythms = policy.note({}, purchase(START, item("tea"), item("cocoa")))
        rhythms = policy.note(rhythms, purchase(START + DAY, item("beans")))

        # tea and cocoa were both last bought at START: cocoa goes first, by sku.
        assert ["beans", "tea"] == list(rhythms)

        rhythms = policy.note(rhythms, purchase(START + 2 * DAY, item("tea"), item("mug")))

        assert ["mug", "tea"] == list(rhythms)

    @given(
        baskets=st.lists(
            st.tuples(st.integers(0, 2_000), st.sets(st.sampled_from("abcdefgh"), min_size=1)),
            max_size=30,
        ),
        max_products=st.integers(1, 5),
        keep=st.integers(2, 4),
    )
    def test_never_holds_more_than_max_products_or_keep_intervals(
        self, baskets: list[tuple[int, set[str]]], max_products: int, keep: int
    ) -> None:
        policy = NextNeedPolicy(max_products=max_products, keep=keep)
        rhythms: dict[str, Rhythm] = {}
        for hours, skus in baskets:
            at = START + timedelta(hours=hours)
            rhythms = policy.note(rhythms, purchase(at, *(item(sku) for sku in sorted(skus))))

            assert len(rhythms) <= max_products
            assert all(len(rhythm.times) <= 2 * (keep + 2) for rhythm in rhythms.values())

    def test_predictions_come_soonest_first_then_by_sku(self) -> None:
        policy = NextNeedPolicy()
        rhythms = {
            "tea": rhythm_of(every([30 * DAY] * 2), sku="tea"),
            "beans": rhythm_of(every([14 * DAY] * 2, start=START + 32 * DAY), sku="beans"),
            "cocoa": rhythm_of(every([30 * DAY] * 2), sku="cocoa"),
            "mug": rhythm_of([START], sku="mug"),  # one purchase: no rhythm yet
        }

        needs = policy.predictions(rhythms)

        # beans: last bought on day 60, every 14 days; tea and cocoa: day 60, every 30 days.
        assert [
            ("beans", START + 74 * DAY),
            ("cocoa", START + 90 * DAY),
            ("tea", START + 90 * DAY),
        ] == [(each.sku, each.expected_at) for each in needs]

    @pytest.mark.parametrize(
        ("remind_before", "expected"),
        [(2 * DAY, START + 12 * DAY), (14 * DAY, START), (20 * DAY, START)],
        ids=["before", "as long as the interval", "longer than the interval"],
    )
    def test_the_reminder_comes_remind_before_but_never_before_the_last_purchase(
        self, remind_before: timedelta, expected: datetime
    ) -> None:
        policy = NextNeedPolicy(remind_before=remind_before)

        assert expected == policy.remind_at(need(START + 14 * DAY, last_at=START))

    def test_describe_names_what_is_followed(self) -> None:
        assert (
            "next need of every product: a reminder when the next purchase is expected, "
            "from at least 3 of the last 5 intervals, for at most 10 products"
        ) == NextNeedPolicy(
            min_intervals=3, keep=5, remind_before=timedelta(0), max_products=10
        ).describe()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"skus": "beans"}, "skus"),
            ({"skus": {""}}, "skus"),
            ({"skus": set()}, "skus"),
            ({"tags": {"filters"}}, "tags"),
            ({"tags": "filters", "skus": {"beans"}}, "tags"),
            ({"min_intervals": 0}, "min_intervals"),
            ({"min_intervals": 9}, "min_intervals"),
            ({"remind_before": -DAY}, "remind_before"),
            ({"remind_before": 2}, "remind_before"),
            ({"keep": 1}, "keep"),
            ({"keep": 2.0}, "keep"),
            ({"max_products": 0}, "max_products"),
            ({"same_within": -DAY}, "same_within"),
        ],
        ids=["lone string sku", "empty sku", "nothing followed", "tags without skus",
             "lone string tag", "no intervals", "more intervals than kept",
             "negative remind_before", "int remind_before", "keep 1",
             "float keep", "no products", "negative same_within"],
    )  # fmt: skip
    def test_bad_values_are_rejected_naming_the_field(
        self, fields: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            NextNeedPolicy(**fields)

        assert field == raised.value.field

    def test_note_rejects_a_rhythm_filed_under_another_sku(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            NextNeedPolicy().note({"tea": rhythm_of([START])}, purchase(START, BEANS))

        assert "rhythms['tea']" == raised.value.field

    def test_note_takes_only_purchases(self) -> None:
        with pytest.raises(InvalidInput, match="purchase must be a Purchase"):
            NextNeedPolicy().note({}, BEANS)  # type: ignore[arg-type]


class TestArrivalOrder:
    """The rhythm, and so the prediction, is a function of the set of purchases: a replay
    of the same purchases in another order gives the same."""

    def test_a_cluster_closer_than_same_within_is_grouped_in_time_order(self) -> None:
        # 09:00, 19:00 and 05:00 the next day: 19:00 is within 12 hours of 09:00, 05:00
        # is not. Whichever arrives first, the occasions begin at 09:00 and at 05:00.
        cluster = [START, START + timedelta(hours=10), START + timedelta(hours=20)]
        later = every([7 * DAY] * 2, start=START + 7 * DAY)
        expected = (START, START + timedelta(hours=20), *later)

        for order in ([*cluster, *later], [cluster[1], cluster[0], cluster[2], *later]):
            rhythm = rhythm_of(order)

            assert expected == rhythm.occasions()

    @given(
        hours=st.lists(st.integers(0, 24 * 120), min_size=1, max_size=30),
        keep=st.integers(2, 6),
        same_within_hours=st.integers(0, 48),
        data=st.data(),
    )
    def test_any_order_of_the_same_purchases_gives_the_same_prediction(
        self, hours: list[int], keep: int, same_within_hours: int, data: st.DataObject
    ) -> None:
        policy = NextNeedPolicy(
            keep=keep, min_intervals=1, same_within=timedelta(hours=same_within_hours)
        )
        times = [START + timedelta(hours=hour) for hour in hours]  # duplicates too
        shuffled = data.draw(st.permutations(times), label="arrival order")
        in_order: dict[str, Rhythm] = {}
        as_arrived: dict[str, Rhythm] = {}
        for at in sorted(times):
            in_order = policy.note(in_order, purchase(at, BEANS))
        for at in shuffled:
            as_arrived = policy.note(as_arrived, purchase(at, BEANS))

        assert in_order["beans"].times == as_arrived["beans"].times
        assert policy.predict(in_order["beans"]) == policy.predict(as_arrived["beans"])

    @given(hours=st.lists(st.integers(0, 24 * 3_000), min_size=1, max_size=200))
    def test_a_long_history_keeps_a_bounded_window(self, hours: list[int]) -> None:
        rhythm = rhythm_of(START + timedelta(hours=hour) for hour in hours)

        assert len(rhythm.times) <= 2 * (8 + 2)
        assert len(rhythm.intervals) <= 8


AUCKLAND = tz.gettz("Pacific/Auckland")


class TestTimeZone:
    """Dates shown to a customer are in their time zone: 20:00 UTC is 09:00 the next
    morning in Auckland (UTC+13 in summer)."""

    fortnightly = every([14 * DAY] * 2, start=datetime(2026, 1, 5, 20, tzinfo=UTC))

    def test_the_expected_day_is_the_customers_day(self) -> None:
        prediction = predict(rhythm_of(self.fortnightly), zone=AUCKLAND)

        assert prediction is not None
        assert datetime(2026, 2, 17, 9, tzinfo=AUCKLAND) == prediction.expected_at
        assert "2026-02-17" in prediction.describe()
        assert AUCKLAND is prediction.last_at.tzinfo

    def test_without_a_zone_the_times_are_in_the_last_purchases_zone(self) -> None:
        prediction = predict(rhythm_of(self.fortnightly))

        assert prediction is not None
        assert (UTC, "2026-02-16") == (
            prediction.expected_at.tzinfo,
            prediction.expected_at.date().isoformat(),
        )

    def test_the_zone_changes_how_the_times_read_not_when_they_are(self) -> None:
        rhythm = rhythm_of(self.fortnightly)

        in_utc, local = (
            NextNeedPolicy().predict(rhythm),
            NextNeedPolicy().predict(rhythm, zone=AUCKLAND),
        )

        assert in_utc is not None
        assert local is not None
        assert in_utc.expected_at == local.expected_at  # the same instant
        assert NextNeedPolicy().remind_at(in_utc) == NextNeedPolicy().remind_at(local)

    def test_a_zone_must_be_a_tzinfo(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            predict(rhythm_of(self.fortnightly), zone="Pacific/Auckland")  # type: ignore[arg-type]

        assert "zone" == raised.value.field


class TestNeedKey:
    def test_the_key_names_the_customer_the_product_and_the_occasion(self) -> None:
        prediction = predict(rhythm_of(every([14 * DAY] * 2)))

        assert prediction is not None
        assert "custbond:need:c-1:beans:20260202T090000" == need_key("c-1", prediction)

    def test_the_key_is_the_same_in_any_zone(self) -> None:
        rhythm = rhythm_of(every([14 * DAY] * 2))
        in_utc, local = predict(rhythm), predict(rhythm, zone=AUCKLAND)

        assert in_utc is not None
        assert local is not None
        assert need_key("c-1", in_utc) == need_key("c-1", local)

    def test_a_second_purchase_the_same_day_keeps_the_key(self) -> None:
        rhythm = rhythm_of(every([14 * DAY] * 2))
        again = rhythm.after(rhythm.times[-1] + timedelta(hours=3))
        before, after = predict(rhythm), predict(again)

        assert before is not None
        assert after is not None
        assert need_key("c-1", before) == need_key("c-1", after)

    def test_only_a_next_need_has_a_key(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            need_key("c-1", "beans")  # type: ignore[arg-type]

        assert "need" == raised.value.field
