"""Activity: what a customer did, per local day, and the spend of any stretch of days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from custbond import Activity

FIRST_DAY = date(2026, 1, 1)

# (day offset, amount or None for a visit, points): events in any order, late ones too.
events = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.none() | st.decimals(Decimal("0.01"), Decimal("500.00"), places=2),
        st.integers(0, 500),
    ),
    max_size=40,
)


def _replay(happened: list[tuple[int, Decimal | None, int]], keep_from: int) -> Activity:
    activity = Activity()
    keep_since = FIRST_DAY + timedelta(days=keep_from)
    for offset, amount, points in happened:
        day = FIRST_DAY + timedelta(days=offset)
        at = datetime.combine(day, time(12), tzinfo=UTC)
        if amount is None:
            activity = activity.after_visit(at, day, keep_since=keep_since)
        else:
            activity = activity.after_purchase(
                amount, at, day, keep_since=keep_since, points=points
            )
    return activity


@given(
    happened=events,
    keep_from=st.integers(0, 30),
    since=st.integers(0, 70),
    days=st.integers(0, 70),
)
def test_a_stretch_of_days_counts_what_happened_on_them(
    happened: list[tuple[int, Decimal | None, int]], keep_from: int, since: int, days: int
) -> None:
    activity = _replay(happened, keep_from)
    first, last = since, since + days

    # Counted by hand: the events on kept days from the first to the last day. Days
    # before a later event's keep_since are dropped once it arrives: keep_since only
    # grows here, so what is kept is every day from keep_from on.
    kept = [(o, a, p) for o, a, p in happened if keep_from <= o and first <= o <= last]
    expected = (
        sum((a for _, a, _ in kept if a is not None), Decimal(0)),
        sum(p for _, a, p in kept if a is not None),
        len(kept),
    )

    assert expected == activity.within(
        FIRST_DAY + timedelta(days=first), FIRST_DAY + timedelta(days=last)
    )


def test_days_written_without_their_totals_get_them() -> None:
    activity = Activity(
        daily=(
            (date(2026, 3, 1), Decimal("10.00"), 10, 1),
            (date(2026, 3, 4), Decimal("2.50"), 2, 1),
        )
    )

    assert (date(2026, 3, 4), Decimal("2.50"), 2, 1, Decimal("12.50"), 12, 2) == activity.daily[-1]
    assert (Decimal("12.50"), 12, 2) == activity.within(date(2026, 3, 1))


@given(
    happened=events,
    returned=st.lists(
        st.tuples(
            st.integers(0, 60),
            st.decimals(Decimal("0.01"), Decimal("800.00"), places=2),
            st.integers(0, 800),
        ),
        max_size=5,
    ),
)
def test_a_return_takes_off_what_its_day_holds_and_the_totals_stay_the_sums_of_the_days(
    happened: list[tuple[int, Decimal | None, int]],
    returned: list[tuple[int, Decimal, int]],
) -> None:
    activity = _replay(happened, 0)
    spent = activity.spent
    for offset, amount, points in returned:
        day = FIRST_DAY + timedelta(days=offset)
        before = {item[0]: item for item in activity.daily}.get(day)
        activity = activity.after_return(amount, day, points=points)
        after = {item[0]: item for item in activity.daily}.get(day)
        spent = max(spent - amount, Decimal(0))
        if before is None:
            assert after is None  # a day not kept stays so
        else:
            assert after is not None
            assert after[1] == before[1] - min(amount, before[1])
            assert after[2] == before[2] - min(points, before[2])

    # The running totals are the sums of the days up to each, never below zero.
    totals = (Decimal(0), 0, 0)
    for day, day_spend, day_points, day_visits, *running in activity.daily:
        assert day_spend >= 0
        assert day_points >= 0
        totals = (totals[0] + day_spend, totals[1] + day_points, totals[2] + day_visits)
        assert totals == tuple(running), day
    assert spent == activity.spent
    assert activity.purchases == sum(1 for _, a, _ in happened if a is not None)
