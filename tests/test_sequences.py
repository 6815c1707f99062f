"""Autoresponder sequences (the structural bond), pure: the newsletter that welcomes a
subscriber at once, writes again on day 3 and on day 10, and stops when they buy.

Ada subscribes on Monday 2 March 2026 at 08:00 UTC. Time moves by hand: each test says
what ``now`` the job that sends the steps runs at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import InvalidInput
from custbond.bonds.sequences import (
    SEQUENCE_EVENTS,
    DueStep,
    Enrollment,
    Sequence,
    SequenceStep,
    due_at,
    due_steps,
    enter,
    leave,
    step_key,
    step_keys,
)
from custbond.messaging.message import MessageKind

JOINED = datetime(2026, 3, 2, 8, tzinfo=UTC)
DAY = timedelta(days=1)
WELCOME = SequenceStep(after=timedelta(0), template="welcome")
DAY_3 = SequenceStep(after=timedelta(days=3), template="our_story", name="day 3")
DAY_10 = SequenceStep(after=timedelta(days=10), template="best_sellers", name="day 10")
NEWSLETTER = Sequence(
    name="newsletter",
    on="CustomEvent",
    event_name="newsletter",
    steps=[WELCOME, DAY_3, DAY_10],
    leave_on=["Purchase"],
)
CATCHING_UP = attrs.evolve(NEWSLETTER, catch_up=True)


def enrolled(at: datetime = JOINED) -> Enrollment:
    enrollment = enter(NEWSLETTER, None, at=at)
    assert enrollment is not None
    return enrollment


def sent(due: tuple[DueStep, ...]) -> list[tuple[int, bool]]:
    return [(step.index, step.send) for step in due]


class TestSequence:
    def test_the_newsletter_describes_itself(self) -> None:
        expected = (
            "newsletter: on each CustomEvent 'newsletter', welcome at once, day 3 after"
            " 3 days, day 10 after 10 days; leaves on Purchase (marketing)"
        )
        assert expected == NEWSLETTER.describe()

    def test_catch_up_is_in_the_description(self) -> None:
        assert CATCHING_UP.describe().endswith("(marketing, every step caught up)")

    def test_it_is_marketing_unless_told_otherwise(self) -> None:
        assert MessageKind.MARKETING is NEWSLETTER.kind
        onboarding = attrs.evolve(NEWSLETTER, kind="transactional")
        assert MessageKind.TRANSACTIONAL is onboarding.kind

    def test_only_custom_events_of_its_name_enter_it(self) -> None:
        assert NEWSLETTER.enters_on("CustomEvent", "newsletter")
        assert not NEWSLETTER.enters_on("CustomEvent", "review_posted")
        assert not NEWSLETTER.enters_on("Signup")

    def test_any_custom_event_enters_one_without_an_event_name(self) -> None:
        anything = attrs.evolve(NEWSLETTER, event_name=None)
        assert anything.enters_on("CustomEvent", "review_posted")

    def test_a_purchase_leaves_it(self) -> None:
        assert NEWSLETTER.leaves_on("Purchase")
        assert not NEWSLETTER.leaves_on("Visit")

    def test_a_lone_event_type_to_leave_on_is_one_not_letters(self) -> None:
        assert ("Purchase",) == attrs.evolve(NEWSLETTER, leave_on="Purchase").leave_on

    def test_every_event_type_may_start_one(self) -> None:
        for name in ("Signup", "Purchase", "Visit", "CustomEvent", "ContactMade"):
            assert name in SEQUENCE_EVENTS

    def test_steps_at_the_same_time_are_in_order(self) -> None:
        same = Sequence(name="twice", on="Signup", steps=[WELCOME, WELCOME])
        assert 2 == len(same.steps)

    def test_a_month_after_30_days_is_out_of_order_on_some_days(self) -> None:
        # From 1 February a month is 28 days: before day 30.
        steps = [
            SequenceStep(after=timedelta(days=30), template="a"),
            SequenceStep(after=relativedelta(months=1), template="b"),
        ]
        with pytest.raises(InvalidInput, match=r"steps\[1\]\.after"):
            Sequence(name="s", on="Signup", steps=steps)

    def test_a_month_after_28_days_is_in_order_on_every_day(self) -> None:
        steps = [
            SequenceStep(after=timedelta(days=28), template="a"),
            SequenceStep(after=relativedelta(months=1), template="b"),
            SequenceStep(after=timedelta(days=31), template="c"),
        ]
        assert 3 == len(Sequence(name="s", on="Signup", steps=steps).steps)


def bad(value: object) -> Any:
    """``value``, typed so a test may hand what the annotations forbid."""
    return value


def _sequence(**changes: Any) -> None:
    fields: dict[str, Any] = {"name": "s", "on": "Signup", "steps": [WELCOME]} | changes
    Sequence(**fields)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        pytest.param(lambda: _sequence(name=""), "name", id="empty-name"),
        pytest.param(lambda: _sequence(on="Birthday"), "on", id="unknown-event"),
        pytest.param(lambda: _sequence(on=Sequence), "on", id="event-as-class"),
        pytest.param(lambda: _sequence(event_name="x"), "event_name", id="name-not-custom"),
        pytest.param(lambda: _sequence(steps=[]), "steps", id="no-steps"),
        pytest.param(lambda: _sequence(steps=WELCOME), "steps", id="one-step-not-a-list"),
        pytest.param(lambda: _sequence(steps=["welcome"]), "steps", id="step-as-text"),
        pytest.param(lambda: _sequence(steps=[DAY_3, WELCOME]), "steps[1].after", id="backwards"),
        pytest.param(lambda: _sequence(leave_on=["Refund"]), "leave_on", id="unknown-leave"),
        pytest.param(lambda: _sequence(leave_on=["Signup"]), "leave_on", id="leave-on-entry"),
        pytest.param(lambda: _sequence(leave_on=["Visit", "Visit"]), "leave_on", id="twice"),
        pytest.param(lambda: _sequence(leave_on=7), "leave_on", id="leave-on-number"),
        pytest.param(lambda: _sequence(kind="newsy"), "kind", id="unknown-kind"),
        pytest.param(lambda: _sequence(catch_up=1), "catch_up", id="catch-up-int"),
        pytest.param(
            lambda: SequenceStep(after=timedelta(days=-1), template="t"), "after", id="negative"
        ),
        pytest.param(lambda: SequenceStep(after=bad(3), template="t"), "after", id="after-int"),
        pytest.param(
            lambda: SequenceStep(after=relativedelta(day=3), template="t"),
            "after",
            id="after-absolute",
        ),
        pytest.param(
            lambda: SequenceStep(after=timedelta(0), template=" t"), "template", id="padded"
        ),
        pytest.param(
            lambda: SequenceStep(after=timedelta(0), template="t", name=""), "name", id="no-name"
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=datetime(2026, 3, 2)),  # noqa: DTZ001
            "entered_at",
            id="naive-entry",
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=JOINED, sent=-1), "sent", id="sent<0"
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=JOINED, sent=True), "sent", id="sent-bool"
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=JOINED, left_at=JOINED),
            "left_because",
            id="left-without-reason",
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=JOINED, left_because="x"),
            "left_because",
            id="reason-without-leaving",
        ),
        pytest.param(lambda: enter(NEWSLETTER, None, at=datetime(2026, 3, 2)), "at", id="naive"),  # noqa: DTZ001
        pytest.param(
            lambda: enter(NEWSLETTER, None, at=JOINED, steps_from=datetime(2026, 3, 2)),  # noqa: DTZ001
            "steps_from",
            id="naive-steps-from",
        ),
        pytest.param(
            lambda: Enrollment(sequence="s", entered_at=JOINED, steps_from=bad("2026-03-02")),
            "steps_from",
            id="steps-from-text",
        ),
        pytest.param(lambda: enter(bad("newsletter"), None, at=JOINED), "sequence", id="name-seq"),
        pytest.param(
            lambda: leave(enrolled(), at=datetime(2026, 3, 3), because="x"),  # noqa: DTZ001
            "at",
            id="leave-naive",
        ),
        pytest.param(lambda: leave(enrolled(), at=JOINED, because=" "), "because", id="blank"),
        pytest.param(
            lambda: due_steps(NEWSLETTER, enrolled(), now=datetime(2026, 3, 3)),  # noqa: DTZ001
            "now",
            id="naive-now",
        ),
        pytest.param(
            lambda: due_at(NEWSLETTER, Enrollment(sequence="other", entered_at=JOINED)),
            "enrollment",
            id="other-sequence",
        ),
        pytest.param(
            lambda: due_at(
                NEWSLETTER, Enrollment(sequence="newsletter", entered_at=JOINED, sent=4)
            ),
            "enrollment.sent",
            id="past-the-steps",
        ),
        pytest.param(lambda: step_key("newsletter", "", 0), "customer_id", id="no-customer"),
        pytest.param(lambda: step_key("newsletter", "c-1", -1), "index", id="index<0"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(make: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        make()
    assert field == raised.value.field


class TestEnter:
    def test_a_subscriber_enters_at_the_moment_they_subscribe(self) -> None:
        expected = Enrollment(sequence="newsletter", entered_at=JOINED)
        assert expected == enter(NEWSLETTER, None, at=JOINED)

    def test_a_second_subscription_does_not_start_it_again(self) -> None:
        assert enter(NEWSLETTER, enrolled(), at=JOINED + DAY) is None

    def test_a_finished_sequence_is_not_entered_again(self) -> None:
        finished, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED + 30 * DAY)
        assert finished.is_finished(NEWSLETTER)
        assert enter(NEWSLETTER, finished, at=JOINED + 31 * DAY) is None

    def test_a_customer_who_left_does_not_enter_again(self) -> None:
        left = leave(enrolled(), at=JOINED + DAY, because="Purchase")
        assert enter(NEWSLETTER, left, at=JOINED + 2 * DAY) is None

    def test_a_signup_recorded_late_enters_at_its_own_date(self) -> None:
        # The signup of 08:00 reaches the service 5 seconds late: the customer entered at
        # 08:00, and the steps count from 08:00:05, when the service learnt of it.
        recorded = JOINED + timedelta(seconds=5)
        enrollment = enter(NEWSLETTER, None, at=JOINED, steps_from=recorded)
        assert enrollment is not None
        assert (JOINED, recorded) == (enrollment.entered_at, enrollment.steps_from)

    def test_steps_count_from_entering_unless_told_otherwise(self) -> None:
        assert JOINED == enrolled().steps_from

    def test_an_enrollment_stored_without_steps_from_counts_them_from_entering(self) -> None:
        assert JOINED == Enrollment(sequence="newsletter", entered_at=JOINED).steps_from

    def test_an_enrollment_in_another_sequence_is_a_mistake(self) -> None:
        other = Enrollment(sequence="onboarding", entered_at=JOINED)
        with pytest.raises(InvalidInput, match="an enrollment in 'newsletter'"):
            enter(NEWSLETTER, other, at=JOINED)


class TestLeave:
    def test_a_purchase_on_day_2_means_no_day_3(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED)
        left = leave(enrollment, at=JOINED + 2 * DAY, because="Purchase")
        assert (False, "Purchase") == (left.is_active, left.left_because)
        assert due_at(NEWSLETTER, left) is None
        assert (left, ()) == due_steps(NEWSLETTER, left, now=JOINED + 30 * DAY)

    def test_leaving_twice_keeps_the_first_leaving(self) -> None:
        first = leave(enrolled(), at=JOINED + DAY, because="Purchase")
        assert first == leave(first, at=JOINED + 2 * DAY, because="unsubscribed")

    def test_an_earlier_leaving_recorded_later_is_the_one_kept(self) -> None:
        second = leave(enrolled(), at=JOINED + 2 * DAY, because="Purchase o-2")
        first = leave(second, at=JOINED + DAY, because="Purchase o-1")
        assert (JOINED + DAY, "Purchase o-1") == (first.left_at, first.left_because)

    def test_a_leaving_from_before_entering_never_replaces_one_after(self) -> None:
        left = leave(enrolled(), at=JOINED + DAY, because="Purchase o-2")
        assert left == leave(left, at=JOINED - DAY, because="Purchase o-1")

    def test_leaving_keeps_the_steps_done(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED + 3 * DAY)
        assert 2 == leave(enrollment, at=JOINED + 4 * DAY, because="Purchase").sent

    def test_an_event_dated_before_entering_does_not_end_the_enrollment(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED)
        assert enrollment == leave(enrollment, at=JOINED - DAY, because="Purchase")
        assert JOINED + 3 * DAY == due_at(NEWSLETTER, enrollment)

    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            pytest.param(JOINED - timedelta(seconds=1), True, id="a second before entering"),
            pytest.param(JOINED, False, id="the moment of entering"),
            pytest.param(JOINED + timedelta(seconds=1), False, id="a second after"),
        ],
    )
    def test_an_event_leaves_from_the_moment_of_entering(
        self, at: datetime, expected: bool
    ) -> None:
        assert expected == leave(enrolled(), at=at, because="Purchase").is_active

    def test_an_event_after_the_entering_event_ends_it_though_dated_before_its_recording(
        self,
    ) -> None:
        # Signed up at 08:00:00, recorded at 08:00:05; bought at 08:00:03: after signing up.
        late = enter(NEWSLETTER, None, at=JOINED, steps_from=JOINED + timedelta(seconds=5))
        assert late is not None
        left = leave(late, at=JOINED + timedelta(seconds=3), because="Purchase")
        assert (False, JOINED + timedelta(seconds=3)) == (left.is_active, left.left_at)

    def test_entering_and_leaving_compare_as_instants_whatever_their_zones(self) -> None:
        # 08:30 in Paris is 07:30 UTC: before she entered at 08:00 UTC, wall clocks aside.
        paris = tz.gettz("Europe/Paris")
        assert leave(
            enrolled(), at=JOINED.astimezone(paris) - timedelta(minutes=30), because="Purchase"
        ).is_active
        entered_in_paris = enrolled(JOINED.astimezone(paris))
        left = leave(
            entered_in_paris,
            at=JOINED.astimezone(paris) + timedelta(minutes=1),
            because="Purchase",
        )
        assert not left.is_active


class TestDueAt:
    def test_the_welcome_is_due_at_once(self) -> None:
        assert JOINED == due_at(NEWSLETTER, enrolled())

    def test_day_3_is_due_three_days_after_subscribing(self) -> None:
        enrollment = attrs.evolve(enrolled(), sent=1)
        assert JOINED + 3 * DAY == due_at(NEWSLETTER, enrollment)

    def test_nothing_is_due_once_every_step_is_done(self) -> None:
        assert due_at(NEWSLETTER, attrs.evolve(enrolled(), sent=3)) is None

    def test_days_keep_the_local_hour_across_a_change_of_the_clocks(self) -> None:
        paris = tz.gettz("Europe/Paris")
        # Saturday 28 March 2026, 09:00 in Paris; the clocks go forward on the 29th.
        joined = datetime(2026, 3, 28, 9, tzinfo=paris)
        enrollment = attrs.evolve(enrolled(joined), sent=1)
        moment = due_at(NEWSLETTER, enrollment)
        assert moment is not None
        assert "2026-03-31T09:00:00+02:00" == moment.isoformat()

    def test_steps_count_from_when_the_entering_was_recorded(self) -> None:
        # A signup loaded two days late: day 3 is three days after it arrived, not one.
        late = enter(NEWSLETTER, None, at=JOINED, steps_from=JOINED + 2 * DAY)
        assert late is not None
        assert JOINED + 2 * DAY == due_at(NEWSLETTER, late)
        assert JOINED + 5 * DAY == due_at(NEWSLETTER, attrs.evolve(late, sent=1))

    def test_a_month_from_31_january_is_the_end_of_february(self) -> None:
        monthly = Sequence(
            name="monthly",
            on="Signup",
            steps=[SequenceStep(after=relativedelta(months=1), template="month")],
        )
        joined = datetime(2026, 1, 31, 8, tzinfo=UTC)
        enrollment = Enrollment(sequence="monthly", entered_at=joined)
        assert datetime(2026, 2, 28, 8, tzinfo=UTC) == due_at(monthly, enrollment)


class TestDueSteps:
    def test_the_welcome_goes_out_at_once_and_nothing_more(self) -> None:
        enrollment, due = due_steps(NEWSLETTER, enrolled(), now=JOINED)
        expected = (DueStep(index=0, step=WELCOME, due_at=JOINED, send=True),)
        assert (1, expected) == (enrollment.sent, due)

    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            pytest.param(JOINED + 3 * DAY - timedelta(microseconds=1), [], id="just-before"),
            pytest.param(JOINED + 3 * DAY, [(1, True)], id="on-the-dot"),
            pytest.param(JOINED + 3 * DAY + timedelta(microseconds=1), [(1, True)], id="after"),
        ],
    )
    def test_day_3_is_due_from_its_moment(
        self, now: datetime, expected: list[tuple[int, bool]]
    ) -> None:
        enrollment = attrs.evolve(enrolled(), sent=1)
        assert expected == sent(due_steps(NEWSLETTER, enrollment, now=now)[1])

    def test_a_late_run_sends_only_the_last_due_step(self) -> None:
        enrollment, due = due_steps(NEWSLETTER, enrolled(), now=JOINED + 4 * DAY)
        assert [(0, False), (1, True)] == sent(due)
        assert 2 == enrollment.sent

    def test_a_run_after_the_end_sends_only_day_10(self) -> None:
        enrollment, due = due_steps(NEWSLETTER, enrolled(), now=JOINED + 40 * DAY)
        assert [(0, False), (1, False), (2, True)] == sent(due)
        assert enrollment.is_finished(NEWSLETTER)

    def test_passed_over_steps_say_when_they_were_due(self) -> None:
        _, due = due_steps(NEWSLETTER, enrolled(), now=JOINED + 40 * DAY)
        assert [JOINED, JOINED + 3 * DAY, JOINED + 10 * DAY] == [step.due_at for step in due]

    def test_with_catch_up_a_late_run_sends_every_due_step(self) -> None:
        enrollment = enter(CATCHING_UP, None, at=JOINED)
        assert enrollment is not None
        later, due = due_steps(CATCHING_UP, enrollment, now=JOINED + 4 * DAY)
        assert [(0, True), (1, True)] == sent(due)
        assert 2 == later.sent

    def test_a_step_is_never_due_twice_when_the_job_runs_again(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED + 4 * DAY)
        assert (enrollment, ()) == due_steps(NEWSLETTER, enrollment, now=JOINED + 4 * DAY)

    def test_an_earlier_now_finds_nothing_already_done(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED + 4 * DAY)
        assert (enrollment, ()) == due_steps(NEWSLETTER, enrollment, now=JOINED)

    def test_a_now_before_entering_finds_nothing(self) -> None:
        enrollment = enrolled()
        assert (enrollment, ()) == due_steps(NEWSLETTER, enrollment, now=JOINED - DAY)

    def test_a_finished_sequence_has_nothing_due(self) -> None:
        finished = attrs.evolve(enrolled(), sent=3)
        assert (finished, ()) == due_steps(NEWSLETTER, finished, now=JOINED + 99 * DAY)

    def test_the_newsletter_run_daily_sends_each_step_on_its_day(self) -> None:
        enrollment, days = enrolled(), list[tuple[int, int, bool]]()
        for day in range(14):
            enrollment, due = due_steps(NEWSLETTER, enrollment, now=JOINED + day * DAY)
            days.extend((day, step.index, step.send) for step in due)
        assert [(0, 0, True), (3, 1, True), (10, 2, True)] == days

    def test_now_in_another_zone_is_the_same_instant(self) -> None:
        tokyo = tz.gettz("Asia/Tokyo")
        now = (JOINED + 3 * DAY).astimezone(tokyo)
        enrollment = attrs.evolve(enrolled(), sent=1)
        assert [(1, True)] == sent(due_steps(NEWSLETTER, enrollment, now=now)[1])


class TestStepKey:
    def test_the_key_names_the_sequence_the_customer_and_the_step(self) -> None:
        assert "custbond:sequence:newsletter:ada:1" == step_key("newsletter", "ada", 1)

    def test_a_replay_makes_the_same_key(self) -> None:
        assert step_key("newsletter", "ada", 2) == step_key("newsletter", "ada", 2)

    def test_each_step_and_customer_has_its_own_key(self) -> None:
        keys = {
            step_key("newsletter", customer, index) for customer in ("a", "b") for index in (0, 1)
        }
        assert 4 == len(keys)

    def test_a_long_name_still_makes_a_key_short_enough(self) -> None:
        assert len(step_key("n" * 200, "c" * 200, 9)) <= 200


class TestStepKeys:
    def test_a_reader_who_had_two_steps_has_two_keys_to_withdraw(self) -> None:
        enrollment, _ = due_steps(NEWSLETTER, enrolled(), now=JOINED + 3 * DAY)
        expected = (step_key("newsletter", "ada", 0), step_key("newsletter", "ada", 1))
        assert expected == step_keys(enrollment, "ada")

    def test_before_any_step_there_is_nothing_to_withdraw(self) -> None:
        assert () == step_keys(enrolled(), "ada")

    def test_only_an_enrollment_has_step_keys(self) -> None:
        with pytest.raises(InvalidInput, match="enrollment"):
            step_keys("newsletter", "ada")  # type: ignore[arg-type]


# -- properties --------------------------------------------------------------------------------

afters = st.one_of(
    st.integers(min_value=0, max_value=60 * 24 * 40).map(
        lambda minutes: timedelta(minutes=minutes)
    ),
    st.integers(min_value=1, max_value=3).map(lambda months: relativedelta(months=months)),
)


@st.composite
def sequences(draw: st.DrawFn) -> Sequence:
    """Sequences of one to six steps, their ``after`` sorted (months after days, which
    keeps them in order on every day when the days are few enough)."""
    chosen = draw(st.lists(afters, min_size=1, max_size=6))
    days = sorted(after for after in chosen if isinstance(after, timedelta))
    months = sorted(
        (after for after in chosen if isinstance(after, relativedelta)), key=lambda a: a.months
    )
    if months:
        days = [day for day in days if day <= timedelta(days=28)] or [timedelta(0)]
    ordered: list[timedelta | relativedelta] = [*days, *months]
    steps = [SequenceStep(after=after, template=f"t{i}") for i, after in enumerate(ordered)]
    return Sequence(name="s", on="Signup", steps=steps, catch_up=draw(st.booleans()))


offsets = st.integers(min_value=-5 * 24 * 60, max_value=120 * 24 * 60).map(
    lambda minutes: timedelta(minutes=minutes)
)


@given(sequence=sequences(), nows=st.lists(offsets, max_size=20))
def test_no_step_is_ever_due_twice_whatever_the_order_of_the_runs(
    sequence: Sequence, nows: list[timedelta]
) -> None:
    enrollment = Enrollment(sequence="s", entered_at=JOINED)
    seen: list[int] = []
    for offset in nows:
        enrollment, due = due_steps(sequence, enrollment, now=JOINED + offset)
        seen.extend(step.index for step in due)
        assert all(step.due_at <= JOINED + offset for step in due)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


@given(sequence=sequences(), nows=st.lists(offsets, max_size=20))
def test_runs_up_to_past_the_end_do_every_step_once(
    sequence: Sequence, nows: list[timedelta]
) -> None:
    enrollment = Enrollment(sequence="s", entered_at=JOINED)
    end = JOINED + timedelta(days=200)
    due: list[DueStep] = []
    for now in [*sorted(JOINED + offset for offset in nows), end]:
        enrollment, found = due_steps(sequence, enrollment, now=now)
        due.extend(found)
        # Each run sends at least its last step: nothing is only ever passed over.
        assert not found or found[-1].send
        assert sequence.catch_up or sum(step.send for step in found) <= 1
    assert list(range(len(sequence.steps))) == [step.index for step in due]
    assert enrollment.is_finished(sequence)
    assert due_at(sequence, enrollment) is None


@given(
    entered=offsets,
    events=st.lists(st.tuples(offsets, st.sampled_from(["Purchase", "unsubscribed"])), max_size=6),
)
def test_no_one_ever_leaves_before_they_entered(
    entered: timedelta, events: list[tuple[timedelta, str]]
) -> None:
    enrollment = Enrollment(sequence="newsletter", entered_at=JOINED + entered)
    for offset, because in events:
        enrollment = leave(enrollment, at=JOINED + offset, because=because)
        assert enrollment.left_at is None or enrollment.entered_at <= enrollment.left_at
    expected_active = all(offset < entered for offset, _ in events)
    assert expected_active == enrollment.is_active
    leavings = [offset for offset, _ in events if offset >= entered]
    assert enrollment.left_at == (JOINED + min(leavings) if leavings else None)


@given(
    entered=offsets,
    recorded=st.integers(min_value=0, max_value=5 * 24 * 3600).map(
        lambda seconds: timedelta(seconds=seconds)
    ),
    events=st.lists(offsets, unique=True, max_size=6).flatmap(
        lambda events: st.tuples(st.just(events), st.permutations(events))
    ),
)
def test_who_leaves_when_does_not_depend_on_the_order_or_the_delay_of_recording(
    entered: timedelta, recorded: timedelta, events: tuple[list[timedelta], list[timedelta]]
) -> None:
    in_order, shuffled = events

    def left_after(
        leavings: list[timedelta], steps_from: datetime
    ) -> tuple[bool, datetime | None, str | None]:
        enrollment = enter(NEWSLETTER, None, at=JOINED + entered, steps_from=steps_from)
        assert enrollment is not None
        for offset in leavings:
            enrollment = leave(enrollment, at=JOINED + offset, because=f"Purchase {offset}")
        return enrollment.is_active, enrollment.left_at, enrollment.left_because

    on_time = left_after(sorted(in_order), JOINED + entered)
    assert on_time == left_after(shuffled, JOINED + entered + recorded)
