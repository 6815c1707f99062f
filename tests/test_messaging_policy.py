"""Messaging as pure functions: quiet hours across time zones and daylight saving time,
frequency caps, consent, the retry policy, and what the dispatcher decides for one
message (``dispatching.screen``, ``claim``, ``settle``). No store, no service."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import attrs
import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import Customer, InvalidInput
from custbond.errors import TemplateError
from custbond.messaging import (
    Consent,
    Delivery,
    DeliveryStatus,
    Message,
    MessageKind,
    MessageStatus,
    QueuedMessage,
    allows,
    consent_key,
)
from custbond.messaging.dispatching import Screening, claim, give_up, screen, settle, wait
from custbond.messaging.policy import FrequencyCap, MessagingPolicy, QuietHours, RetryPolicy
from custbond.messaging.templates import Template, Templates

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def zone_named(name: str) -> tzinfo:
    found = tz.gettz(name)
    assert found is not None
    return found


NEW_YORK = zone_named("America/New_York")
PARIS = zone_named("Europe/Paris")
NIGHT = QuietHours(start=time(21), end=time(8))
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# When the clocks change in 2026 (UTC): New York, Paris, and Lord Howe Island (by half an
# hour, at 02:00 local).
CLOCK_CHANGES = [
    ("America/New_York", datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),
    ("Europe/Paris", datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ("Europe/Paris", datetime(2026, 10, 25, 1, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
]
ZONES = sorted({zone for zone, _ in CLOCK_CHANGES} | {"Asia/Kolkata"})


def local(  # noqa: PLR0917 - reads as a datetime does
    zone: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A wall-clock time in ``zone`` (first occurrence when the clock repeats it)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def capped(*caps: FrequencyCap, **fields: Any) -> MessagingPolicy:
    """``MessagingPolicy(caps=caps, **fields)``: mypy cannot type the ``caps`` argument
    (its ``converter=tuple`` leaves it ``Iterable[_T_co]``)."""
    given: dict[str, Any] = {"caps": caps, **fields}
    return MessagingPolicy(**given)


def in_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def message(key: str = "k-1", **fields: Any) -> Message:
    values: dict[str, Any] = {"customer_id": "c-1", "template": "welcome", **fields}
    return Message(key=key, **values)


def queued(key: str = "k-1", *, at: datetime = T0, **changes: Any) -> QueuedMessage:
    """A pending message due at ``at``, changed by ``changes`` (status, attempts, ...)."""
    fields = {name: changes.pop(name) for name in list(changes) if name in _MESSAGE_FIELDS}
    item = QueuedMessage.new(message(key, **fields), at)
    return attrs.evolve(item, **changes)


_MESSAGE_FIELDS = {
    "customer_id",
    "template",
    "channel",
    "kind",
    "context",
    "not_before",
    "not_after",
}


def sent(key: str, at: datetime, **fields: Any) -> QueuedMessage:
    return queued(key, at=at, status=MessageStatus.SENT, attempts=1, sent_at=at, **fields)


# -- quiet hours ---------------------------------------------------------------------------


class TestQuietHours:
    @pytest.mark.parametrize(
        ("zone", "utc_offset"), [(NEW_YORK, timedelta(hours=-5)), (PARIS, timedelta(hours=1))]
    )
    def test_a_message_due_at_half_past_ten_at_night_waits_for_eight_next_morning(
        self, zone: tzinfo, utc_offset: timedelta
    ) -> None:
        due = local(zone, 2026, 3, 2, 22, 30)

        end = NIGHT.until(due.astimezone(UTC), zone)

        assert local(zone, 2026, 3, 3, 8, 0) == end
        assert datetime(2026, 3, 3, 8, 0, tzinfo=UTC) - utc_offset == end

    def test_the_same_moment_is_quiet_in_one_zone_and_not_in_another(self) -> None:
        moment = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 23:00 in New York, 05:00 in Paris

        assert local(NEW_YORK, 2026, 3, 2, 8, 0) == NIGHT.until(moment, NEW_YORK)
        assert local(PARIS, 2026, 3, 2, 8, 0) == NIGHT.until(moment, PARIS)
        assert NIGHT.until(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), NEW_YORK) is None
        assert NIGHT.until(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), PARIS) is None

    def test_after_midnight_the_quiet_ends_the_same_morning(self) -> None:
        assert local(PARIS, 2026, 3, 3, 8) == NIGHT.until(local(PARIS, 2026, 3, 3, 3), PARIS)

    def test_the_start_is_quiet_and_the_end_is_not(self) -> None:
        assert local(PARIS, 2026, 3, 3, 8) == NIGHT.until(local(PARIS, 2026, 3, 2, 21), PARIS)
        assert NIGHT.until(local(PARIS, 2026, 3, 3, 8), PARIS) is None
        assert NIGHT.until(local(PARIS, 2026, 3, 2, 20, 59, 59), PARIS) is None

    def test_quiet_hours_within_one_day(self) -> None:
        lunch = QuietHours(start=time(12), end=time(13, 30))

        assert local(PARIS, 2026, 3, 2, 13, 30) == lunch.until(local(PARIS, 2026, 3, 2, 12), PARIS)
        assert lunch.until(local(PARIS, 2026, 3, 2, 11, 59), PARIS) is None
        assert lunch.until(local(PARIS, 2026, 3, 2, 22), PARIS) is None

    @pytest.mark.parametrize(
        ("zone", "evening", "expected_utc", "hours_of_quiet"),
        [
            # Spring forward: the night is an hour shorter.
            (NEW_YORK, (2026, 3, 7), datetime(2026, 3, 8, 12, tzinfo=UTC), 8.5),
            (PARIS, (2026, 3, 28), datetime(2026, 3, 29, 6, tzinfo=UTC), 8.5),
            # Fall back: the night is an hour longer.
            (NEW_YORK, (2026, 10, 31), datetime(2026, 11, 1, 13, tzinfo=UTC), 10.5),
            (PARIS, (2026, 10, 24), datetime(2026, 10, 25, 7, tzinfo=UTC), 10.5),
        ],
        ids=["us-march", "eu-march", "us-november", "eu-october"],
    )
    def test_across_a_daylight_saving_change_the_quiet_ends_at_eight_local(
        self,
        zone: tzinfo,
        evening: tuple[int, int, int],
        expected_utc: datetime,
        hours_of_quiet: float,
    ) -> None:
        due = local(zone, *evening, 22, 30)

        end = NIGHT.until(due, zone)

        assert expected_utc == end
        assert end is not None
        assert time(8) == end.astimezone(zone).time()
        assert timedelta(hours=hours_of_quiet) == end.astimezone(UTC) - due.astimezone(UTC)

    def test_an_end_skipped_by_spring_forward_is_when_the_clocks_jump(self) -> None:
        # 02:30 does not exist in New York on 2026-03-08 (01:59 EST is followed by 03:00 EDT).
        short_night = QuietHours(start=time(21), end=time(2, 30))

        end = short_night.until(local(NEW_YORK, 2026, 3, 7, 23), NEW_YORK)

        assert datetime(2026, 3, 8, 7, 0, tzinfo=UTC) == end  # 03:00 EDT
        assert end is not None
        assert "2026-03-08T03:00:00-04:00" == end.astimezone(NEW_YORK).isoformat()

    def test_an_end_skipped_by_spring_forward_in_paris(self) -> None:
        # 02:30 does not exist in Paris on 2026-03-29 (01:59 CET is followed by 03:00 CEST).
        short_night = QuietHours(start=time(1), end=time(2, 30))

        end = short_night.until(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), PARIS)  # 01:30 CET

        assert datetime(2026, 3, 29, 1, 0, tzinfo=UTC) == end  # 03:00 CEST

    def test_every_moment_before_an_end_in_the_spring_forward_gap_is_quiet(self) -> None:
        short_night = QuietHours(start=time(21), end=time(2, 30))
        before_gap = datetime(2026, 3, 8, 6, 59, tzinfo=UTC)  # 01:59 EST
        found = short_night.until(before_gap, NEW_YORK)
        assert found is not None
        end = found.astimezone(UTC)

        later = [before_gap + timedelta(minutes=m) for m in range(1, 60)]
        ends = {
            moment: in_utc(short_night.until(moment, NEW_YORK)) for moment in later if moment < end
        }

        assert dict.fromkeys(ends, end) == ends  # 03:00 to 03:29 EDT: None (not quiet)

    def test_an_end_in_the_hour_repeated_by_fall_back_is_its_first_occurrence(self) -> None:
        # 01:30 happens twice in New York on 2026-11-01: at 05:30 UTC (EDT), 06:30 UTC (EST).
        early = QuietHours(start=time(0), end=time(1, 30))

        first = early.until(datetime(2026, 11, 1, 4, 30, tzinfo=UTC), NEW_YORK)  # 00:30 EDT
        between = early.until(datetime(2026, 11, 1, 5, 45, tzinfo=UTC), NEW_YORK)  # 01:45 EDT
        again = early.until(datetime(2026, 11, 1, 6, 10, tzinfo=UTC), NEW_YORK)  # 01:10 EST

        # In UTC: an ambiguous local time never equals a datetime of another zone (PEP 495).
        assert datetime(2026, 11, 1, 5, 30, tzinfo=UTC) == in_utc(first)
        assert between is None
        # The wall clock shows 01:10 again: quiet again, until it shows 01:30 again.
        assert datetime(2026, 11, 1, 6, 30, tzinfo=UTC) == in_utc(again)

    @given(
        where=st.one_of(
            st.tuples(  # anywhen in 2026
                st.sampled_from(ZONES),
                st.integers(min_value=0, max_value=365 * 24 * 60).map(
                    lambda minutes: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
                ),
            ),
            st.builds(  # near a change of the zone's clocks, where it goes wrong if anywhere
                lambda change, minutes: (change[0], change[1] + timedelta(minutes=minutes)),
                st.sampled_from(CLOCK_CHANGES),
                st.integers(min_value=-36 * 60, max_value=36 * 60),
            ),
        ),
        start=st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15)),
        end=st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15)),
        permille=st.integers(min_value=0, max_value=1000),
    )
    def test_every_moment_before_the_end_is_quiet_until_the_same_end(
        self, where: tuple[str, datetime], start: time, end: time, permille: int
    ) -> None:
        if start == end:
            return
        quiet = QuietHours(start=start, end=end)
        name, at = where
        zone = tz.gettz(name)
        assert zone is not None

        found = quiet.until(at, zone)

        if found is None:
            return
        # In UTC: datetimes sharing a tzinfo compare by wall clock, blind to the fold.
        until = found.astimezone(UTC)
        assert at < until <= at + DAY + timedelta(hours=2)
        assert quiet.until(until, zone) is None  # the end itself is not quiet
        between = at + (until - at) * permille / 1000
        if between < until:
            again = quiet.until(between, zone)
            assert again is not None
            assert until == again.astimezone(UTC)

    def test_quiet_hours_for_some_channels_only(self) -> None:
        sms_only = QuietHours(start=time(21), end=time(8), channels="sms")

        assert sms_only.applies(message(channel="sms"))
        assert not sms_only.applies(message(channel="email"))
        assert frozenset({"sms"}) == sms_only.channels

    def test_start_and_end_must_differ_and_be_local_times(self) -> None:
        with pytest.raises(InvalidInput) as same:
            QuietHours(start=time(8), end=time(8))
        with pytest.raises(InvalidInput) as aware:
            QuietHours(start=time(21, tzinfo=UTC), end=time(8))

        assert "end" == same.value.field
        assert "start" == aware.value.field

    def test_describe(self) -> None:
        assert "quiet hours 21:00 to 08:00" == NIGHT.describe()


# -- frequency caps ------------------------------------------------------------------------


class TestFrequencyCap:
    WEEKLY = FrequencyCap(limit=2, per=timedelta(days=7))

    def test_two_sent_within_the_period_reach_a_cap_of_two(self) -> None:
        others = [sent("a", T0 - 3 * DAY, kind="marketing"), sent("b", T0, kind="marketing")]

        assert self.WEEKLY.reached(message("c", kind="marketing"), others, T0)

    def test_a_message_sent_longer_ago_than_the_period_does_not_count(self) -> None:
        others = [sent("a", T0 - 7 * DAY, kind="marketing"), sent("b", T0, kind="marketing")]

        assert not self.WEEKLY.reached(message("c", kind="marketing"), others, T0)

    def test_a_message_being_sent_counts_and_one_pending_does_not(self) -> None:
        others = [
            queued("a", kind="marketing", status=MessageStatus.SENDING, attempts=1),
            queued("b", kind="marketing"),
            queued("c", kind="marketing", status=MessageStatus.SUPPRESSED),
            queued("d", kind="marketing", status=MessageStatus.DEAD),
        ]
        one = FrequencyCap(limit=1, per=timedelta(days=7))

        assert one.reached(message("e", kind="marketing"), others, T0)
        assert not one.reached(message("e", kind="marketing"), others[1:], T0)

    def test_the_message_itself_and_other_kinds_do_not_count(self) -> None:
        one = FrequencyCap(limit=1, per=timedelta(days=7))
        itself = queued("m", kind="marketing", status=MessageStatus.SENDING, attempts=1)
        receipt = sent("r", T0)

        assert not one.reached(itself.message, [itself, receipt], T0)

    def test_a_marketing_cap_does_not_hold_back_transactional_messages(self) -> None:
        others = [sent("a", T0, kind="marketing"), sent("b", T0, kind="marketing")]

        assert not self.WEEKLY.reached(message("c"), others, T0)

    def test_a_cap_on_every_kind_on_one_channel(self) -> None:
        sms = FrequencyCap(limit=1, per=timedelta(hours=36), kind=None, channel="sms")
        others = [sent("a", T0, channel="sms")]

        assert sms.reached(message("b", channel="sms", kind="marketing"), others, T0 + DAY)
        assert not sms.reached(message("b", channel="email"), others, T0 + DAY)
        assert not sms.reached(message("b", channel="sms"), others, T0 + 2 * DAY)
        assert "at most 1 messages on sms per 1 day 12 hours" == sms.describe()

    def test_a_calendar_month_is_not_thirty_days(self) -> None:
        month = FrequencyCap(limit=1, per=relativedelta(months=1))
        thirty = FrequencyCap(limit=1, per=timedelta(days=30))
        others = [sent("a", datetime(2026, 1, 31, 12, tzinfo=UTC), kind="marketing")]
        later = message("b", kind="marketing")

        assert month.reached(later, others, datetime(2026, 2, 28, 12, tzinfo=UTC))
        assert not month.reached(later, others, datetime(2026, 3, 1, 12, tzinfo=UTC))
        assert thirty.reached(later, others, datetime(2026, 3, 1, 12, tzinfo=UTC))
        assert "at most 1 marketing messages per 1 month" == month.describe()

    def test_describe(self) -> None:
        assert "at most 2 marketing messages per 7 days" == self.WEEKLY.describe()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"limit": 0, "per": DAY}, "limit"),
            ({"limit": 1, "per": timedelta(0)}, "per"),
            pytest.param({"limit": 1, "per": DAY, "kind": "spam"}, "kind", id="kind"),
            ({"limit": 1, "per": DAY, "channel": ""}, "channel"),
        ],
    )
    def test_bad_caps_are_refused(self, fields: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            FrequencyCap(**fields)

        assert field == raised.value.field


# -- consent -------------------------------------------------------------------------------


def consent(channel: str, kind: str, *, granted: bool, source: str = "form") -> Consent:
    return Consent(channel=channel, kind=kind, granted=granted, at=T0, source=source)


def consents(*given: Consent) -> dict[str, Consent]:
    return {item.key: item for item in given}


class TestConsent:
    def test_marketing_needs_consent_on_its_channel(self) -> None:
        on_email = consents(consent("email", "marketing", granted=True, source="signup form"))

        assert (
            True,
            "marketing on email consented to at 2026-03-02T09:00:00+00:00 (signup form)",
        ) == allows(on_email, "email", MessageKind.MARKETING)
        assert (False, "no consent to marketing on sms") == allows(
            on_email, "sms", MessageKind.MARKETING
        )

    def test_an_opt_out_stops_marketing(self) -> None:
        refused = consents(consent("email", "marketing", granted=False, source="unsubscribe"))

        allowed, why = allows(refused, "email", MessageKind.MARKETING)

        assert not allowed
        assert "marketing on email refused at 2026-03-02T09:00:00+00:00 (unsubscribe)" == why

    def test_transactional_messages_flow_unless_refused_on_that_channel(self) -> None:
        refused_sms = consents(consent("sms", "transactional", granted=False))

        assert allows({}, "email", MessageKind.TRANSACTIONAL)[0]
        assert allows(refused_sms, "email", MessageKind.TRANSACTIONAL)[0]
        assert not allows(refused_sms, "sms", MessageKind.TRANSACTIONAL)[0]

    def test_a_marketing_opt_out_leaves_transactional_messages_alone(self) -> None:
        refused = consents(consent("email", "marketing", granted=False))

        assert allows(refused, "email", MessageKind.TRANSACTIONAL)[0]

    def test_consent_keys(self) -> None:
        assert "email/marketing" == consent_key("email", "marketing")
        assert "sms/transactional" == consent_key("sms", MessageKind.TRANSACTIONAL)

    def test_bad_consents_are_refused(self) -> None:
        with pytest.raises(InvalidInput) as granted:
            Consent(channel="email", kind="marketing", granted=1, at=T0, source="x")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput) as naive:
            Consent(
                channel="email",
                kind="marketing",
                granted=True,
                at=datetime(2026, 3, 2),  # noqa: DTZ001 - the point of the test
                source="x",
            )
        with pytest.raises(InvalidInput) as kind:
            Consent(channel="email", kind="spam", granted=True, at=T0, source="x")

        assert ("granted", "at", "kind") == (
            granted.value.field,
            naive.value.field,
            kind.value.field,
        )


# -- retries -------------------------------------------------------------------------------


class TestRetryPolicy:
    def test_the_delay_doubles_from_a_minute_up_to_six_hours(self) -> None:
        policy = RetryPolicy()

        delays = [policy.delay(attempts) for attempts in range(1, 12)]

        minutes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
        assert [timedelta(minutes=m) for m in minutes] == delays

    def test_a_policy_of_its_own(self) -> None:
        policy = RetryPolicy(
            first_delay=timedelta(seconds=10), factor=3, max_delay=timedelta(minutes=5)
        )

        assert [10, 30, 90, 270, 300, 300] == [
            policy.delay(n).total_seconds() for n in range(1, 7)
        ]
        assert timedelta(seconds=10) == policy.delay(0)

    def test_a_factor_of_one_waits_the_same_every_time(self) -> None:
        policy = RetryPolicy(factor=1)

        assert {timedelta(minutes=1)} == {policy.delay(n) for n in (1, 2, 50, 10**9)}

    @pytest.mark.parametrize("attempts", [40, 1000, 10**6])
    def test_many_attempts_wait_the_longest_delay_without_overflowing(self, attempts: int) -> None:
        assert timedelta(hours=6) == RetryPolicy().delay(attempts)

    def test_a_huge_number_of_attempts_answers_at_once(self) -> None:
        script = (
            "import sys; from custbond.messaging.policy import RetryPolicy;"
            "print(RetryPolicy().delay(sys.maxsize))"
        )
        try:
            done = subprocess.run(
                [sys.executable, "-c", script],
                check=False,
                capture_output=True,
                text=True,
                timeout=3,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("RetryPolicy().delay(sys.maxsize) did not return within 3 seconds")

        assert "6:00:00" == done.stdout.strip()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"max_attempts": 0}, "max_attempts"),
            ({"factor": 0}, "factor"),
            ({"first_delay": timedelta(0)}, "first_delay"),
            ({"max_delay": timedelta(seconds=-1)}, "max_delay"),
            ({"claim_for": 60}, "claim_for"),
        ],
    )
    def test_bad_policies_are_refused(self, fields: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            RetryPolicy(**fields)

        assert field == raised.value.field


# -- what the dispatcher does with one message ---------------------------------------------

RETRY = RetryPolicy(max_attempts=3)
ADA = Customer("c-1", name="Ada", email="ada@example.com", phone="+15550100")
OPTED_IN = consents(consent("email", "marketing", granted=True))


def screening(
    item: QueuedMessage,
    customer: Customer | None = ADA,
    given: dict[str, Consent] | None = None,
    *,
    now: datetime = T0,
    policy: MessagingPolicy | None = None,
    others: tuple[QueuedMessage, ...] = (),
    zone: tzinfo = UTC,
) -> Screening:
    return screen(
        item,
        customer,
        given,
        now,
        policy=policy or MessagingPolicy(),
        retry=RETRY,
        zone=zone,
        others=others,
    )


class TestScreen:
    def test_a_transactional_message_to_a_customer_with_an_address_is_sent(self) -> None:
        assert "send" == screening(queued()).action

    def test_no_customer_suppresses(self) -> None:
        assert Screening("suppress", "no customer 'c-1'") == screening(queued(), None)

    def test_a_lapsed_claim_with_no_attempts_left_is_dead(self) -> None:
        item = queued(status=MessageStatus.SENDING, attempts=3)

        found = screening(item)

        assert "dead" == found.action
        assert "stopped during attempt 3 without an answer" in found.reason
        assert "at most 3" in found.reason
        assert "dead" == screening(item, None).action  # before anything else

    def test_a_lapsed_claim_with_attempts_left_is_sent_again(self) -> None:
        assert "send" == screening(queued(status=MessageStatus.SENDING, attempts=2)).action

    @pytest.mark.parametrize(
        ("channel", "reason"),
        [
            ("email", "no email in the customer's profile"),
            ("sms", "no phone in the customer's profile"),
        ],
    )
    def test_no_address_for_the_channel_suppresses(self, channel: str, reason: str) -> None:
        assert Screening("suppress", reason) == screening(queued(channel=channel), Customer("c-1"))

    @pytest.mark.parametrize("channel", ["push", "call-task", "letter"])
    def test_channels_the_host_addresses_itself_need_no_address(self, channel: str) -> None:
        assert "send" == screening(queued(channel=channel), Customer("c-1")).action

    def test_marketing_without_consent_is_suppressed(self) -> None:
        found = screening(queued(kind="marketing"))

        assert Screening("suppress", "no consent to marketing on email") == found

    def test_marketing_with_consent_is_sent_and_says_why(self) -> None:
        found = screening(queued(kind="marketing"), given=OPTED_IN)

        assert "send" == found.action
        assert "marketing on email consented to" in found.reason

    def test_marketing_after_an_opt_out_is_suppressed(self) -> None:
        opted_out = consents(consent("email", "marketing", granted=False, source="unsubscribe"))

        found = screening(queued(kind="marketing"), given=opted_out)

        assert "suppress" == found.action
        assert "refused" in found.reason
        assert "unsubscribe" in found.reason

    def test_a_refused_channel_suppresses_transactional_messages(self) -> None:
        no_sms = consents(consent("sms", "transactional", granted=False))

        assert "suppress" == screening(queued(channel="sms"), given=no_sms).action
        assert "send" == screening(queued(channel="email"), given=no_sms).action

    def test_quiet_hours_make_it_wait_in_the_customers_zone(self) -> None:
        policy = MessagingPolicy(quiet_hours=NIGHT)
        now = local(NEW_YORK, 2026, 3, 2, 22, 30)

        found = screening(queued(at=now), now=now, policy=policy, zone=NEW_YORK)
        in_paris = screening(queued(at=now), now=now, policy=policy, zone=PARIS)  # 04:30

        assert "wait" == found.action
        assert local(NEW_YORK, 2026, 3, 3, 8) == found.until
        assert "quiet hours 21:00 to 08:00" in found.reason
        assert local(PARIS, 2026, 3, 3, 8) == in_paris.until

    def test_quiet_hours_on_another_channel_do_not_apply(self) -> None:
        policy = MessagingPolicy(
            quiet_hours=QuietHours(start=time(21), end=time(8), channels="sms")
        )
        now = local(NEW_YORK, 2026, 3, 2, 22, 30)

        assert "send" == screening(queued(at=now), now=now, policy=policy, zone=NEW_YORK).action

    def test_a_reached_cap_suppresses_naming_the_cap(self) -> None:
        policy = capped(FrequencyCap(limit=1, per=timedelta(days=7)))
        others = (sent("earlier", T0 - DAY, kind="marketing"),)

        found = screening(queued(kind="marketing"), given=OPTED_IN, policy=policy, others=others)

        assert (
            Screening("suppress", "frequency cap: at most 1 marketing messages per 7 days")
            == found
        )

    def test_quiet_hours_are_waited_out_before_caps_are_counted(self) -> None:
        # The cap is counted when the message is really sent, at the end of quiet hours.
        policy = capped(FrequencyCap(limit=1, per=timedelta(days=7)), quiet_hours=NIGHT)
        now = local(PARIS, 2026, 3, 2, 23)
        others = (sent("earlier", now - DAY, kind="marketing"),)

        found = screening(
            queued(kind="marketing", at=now),
            given=OPTED_IN,
            now=now,
            policy=policy,
            others=others,
            zone=PARIS,
        )

        assert "wait" == found.action

    def test_consent_is_checked_before_the_address(self) -> None:
        found = screening(queued(kind="marketing"), Customer("c-1"))

        assert "no consent to marketing on email" == found.reason


class TestTooLate:
    """A message with a ``not_after`` (a reminder of an appointment) is not sent after it."""

    def test_a_message_due_at_its_deadline_is_suppressed_as_too_late(self) -> None:
        found = screening(queued(not_after=T0), now=T0)

        assert Screening("suppress", f"too late: it was to go before {T0.isoformat()}") == found
        assert "send" == screening(queued(not_after=T0 + HOUR), now=T0).action

    def test_quiet_hours_that_last_past_the_deadline_suppress_rather_than_wait(self) -> None:
        evening = local(NEW_YORK, 2026, 3, 2, 22, 0)
        starts = local(NEW_YORK, 2026, 3, 3, 7, 0)  # before the quiet hours end at 08:00
        policy = MessagingPolicy(quiet_hours=NIGHT)

        found = screening(queued(not_after=starts), now=evening, policy=policy, zone=NEW_YORK)
        waits = screening(
            queued(not_after=starts + 2 * HOUR), now=evening, policy=policy, zone=NEW_YORK
        )

        assert "suppress" == found.action
        assert "last past the time it was to go before" in found.reason
        assert ("wait", local(NEW_YORK, 2026, 3, 3, 8, 0)) == (waits.action, waits.until)

    def test_a_failure_with_no_retry_before_the_deadline_is_dead(self) -> None:
        soon = queued(not_after=T0 + timedelta(seconds=30))

        done = settle(claim(soon, T0, RETRY), Delivery.retry("busy"), T0, RETRY)

        assert MessageStatus.DEAD == done.status
        assert "no attempt is left before" in (done.reason or "")

    def test_a_deadline_before_not_before_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            message("k", not_before=T0, not_after=T0)

        assert "not_after" == raised.value.field


class TestClaimAndSettle:
    def test_a_claim_takes_one_more_attempt_and_owns_the_message_for_claim_for(self) -> None:
        claimed = claim(queued(attempts=1), T0, RETRY)

        assert MessageStatus.SENDING == claimed.status
        assert 2 == claimed.attempts
        assert T0 + RETRY.claim_for == claimed.next_attempt_at
        assert not claimed.is_due(T0 + RETRY.claim_for - timedelta(microseconds=1))
        assert claimed.is_due(T0 + RETRY.claim_for)

    def test_sent(self) -> None:
        later = T0 + timedelta(seconds=3)

        done = settle(claim(queued(), T0, RETRY), Delivery.sent("id-42"), later, RETRY)

        assert (MessageStatus.SENT, later, "id-42", 1) == (
            done.status,
            done.sent_at,
            done.reason,
            done.attempts,
        )
        assert done.status.final
        assert not done.is_due(later + DAY)

    def test_sent_without_detail_has_no_reason(self) -> None:
        done = settle(claim(queued(), T0, RETRY), Delivery.sent(), T0, RETRY)

        assert done.reason is None

    def test_a_transient_failure_is_pending_again_after_the_backoff(self) -> None:
        first = settle(claim(queued(), T0, RETRY), Delivery.retry("421 busy"), T0, RETRY)
        second = settle(claim(first, T0, RETRY), Delivery.retry("421 busy"), T0, RETRY)

        assert (MessageStatus.PENDING, 1, T0 + timedelta(minutes=1)) == (
            first.status,
            first.attempts,
            first.next_attempt_at,
        )
        assert "attempt 1 failed: 421 busy" == first.reason
        assert (MessageStatus.PENDING, 2, T0 + timedelta(minutes=2)) == (
            second.status,
            second.attempts,
            second.next_attempt_at,
        )

    def test_the_last_attempt_failing_for_now_is_dead(self) -> None:
        item = queued(attempts=2)

        done = settle(claim(item, T0, RETRY), Delivery.retry("timeout"), T0, RETRY)

        assert MessageStatus.DEAD == done.status
        assert 3 == done.attempts
        assert "failed 3 times (at most 3); last: timeout" == done.reason

    def test_a_permanent_failure_is_dead_at_once(self) -> None:
        done = settle(claim(queued(), T0, RETRY), Delivery.failed("550 no such user"), T0, RETRY)

        assert (MessageStatus.DEAD, 1, "failed: 550 no such user") == (
            done.status,
            done.attempts,
            done.reason,
        )

    def test_waiting_uses_no_attempt(self) -> None:
        end = T0 + timedelta(hours=9)

        waiting = wait(queued(attempts=1), Screening("wait", "quiet", end))

        assert (MessageStatus.PENDING, 1, end, "quiet") == (
            waiting.status,
            waiting.attempts,
            waiting.next_attempt_at,
            waiting.reason,
        )

    def test_giving_up_suppresses_or_kills(self) -> None:
        suppressed = give_up(queued(), Screening("suppress", "no consent"))
        dead = give_up(queued(), Screening("dead", "no template"))

        assert (MessageStatus.SUPPRESSED, "no consent") == (suppressed.status, suppressed.reason)
        assert (MessageStatus.DEAD, "no template") == (dead.status, dead.reason)

    def test_delivery_statuses(self) -> None:
        assert [DeliveryStatus.SENT, DeliveryStatus.RETRY, DeliveryStatus.FAILED] == [
            Delivery.sent().status,
            Delivery.retry("x").status,
            Delivery.failed("x").status,
        ]


# -- messages ------------------------------------------------------------------------------


class TestMessage:
    def test_defaults_are_a_transactional_email(self) -> None:
        found = message()

        assert (MessageKind.TRANSACTIONAL, "email", False) == (
            found.kind,
            found.channel,
            found.marketing,
        )

    def test_a_queued_message_is_due_at_once_or_at_its_not_before(self) -> None:
        later = T0 + timedelta(hours=2)

        assert T0 == QueuedMessage.new(message(not_before=T0 - DAY), T0).next_attempt_at
        assert later == QueuedMessage.new(message(not_before=later), T0).next_attempt_at

    def test_final_statuses(self) -> None:
        assert {MessageStatus.SENT, MessageStatus.SUPPRESSED, MessageStatus.DEAD} == {
            status for status in MessageStatus if status.final
        }

    def test_a_naive_not_before_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            message(not_before=datetime(2026, 3, 2, 9))  # noqa: DTZ001 - the point of the test

        assert "not_before" == raised.value.field

    def test_a_float_in_the_context_is_refused_naming_it(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            message(context={"points": 1.5})

        assert "context['points']" == raised.value.field

    @pytest.mark.parametrize("value", [float("nan"), Decimal("NaN"), Decimal("Infinity"), [1]])
    def test_other_bad_context_values_are_refused(self, value: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            message(context={"x": value})

        assert "context['x']" == raised.value.field

    def test_a_bad_kind_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            message(kind="spam")

        assert "kind" == raised.value.field

    @pytest.mark.parametrize("field", ["key", "customer_id", "template", "channel"])
    def test_empty_or_padded_identifiers_are_refused(self, field: str) -> None:
        for bad in ("", " padded", "x" * 201):
            fields: dict[str, Any] = {"key": "k", "customer_id": "c", "template": "t", field: bad}
            with pytest.raises(InvalidInput) as raised:
                Message(**fields)

            assert field == raised.value.field

    def test_kinds_are_given_as_text_or_as_the_enum(self) -> None:
        assert message(kind="marketing") == message(kind=MessageKind.MARKETING)
        assert message(kind="marketing").marketing


# -- templates -----------------------------------------------------------------------------


class TestTemplates:
    def test_the_defaults_have_every_message_of_retention(self) -> None:
        names = {
            "welcome",
            "thank_you",
            "birthday",
            "holiday",
            "appointment_reminder",
            "points_expiring",
            "broadcast",
        }

        assert names <= Templates.defaults().names
        for name in names:
            for channel in ("email", "sms", "push"):
                assert Templates.defaults().has(name, channel)

    def test_substitution_is_not_recursive_and_runs_no_code(self) -> None:
        template = Template("Hi $name")

        assert (
            "Hi $points {0.__class__}"
            == template.render({"name": "$points {0.__class__}", "points": 5}).body
        )

    def test_attribute_access_is_a_malformed_placeholder(self) -> None:
        with pytest.raises(TemplateError, match="malformed placeholder"):
            Template("Hi ${name.__class__}")

    def test_a_missing_value_names_it(self) -> None:
        with pytest.raises(
            TemplateError, match=r"no value for \$expires_on \(given: name, points\)"
        ):
            Templates.defaults().render("points_expiring", "email", {"name": "Ada", "points": 5})

    def test_an_unknown_template_names_the_known_ones(self) -> None:
        with pytest.raises(TemplateError, match=r"no template of that name; known: .*welcome"):
            Templates.defaults().render("nope", "email", {"name": "Ada"})

    def test_a_line_break_in_a_value_does_not_reach_the_subject(self) -> None:
        rendered = Template("$text", subject="$title").render(
            {"title": "Big\r\nnews", "text": "a\nb"}
        )

        assert ("Big news", "a\nb") == (rendered.subject, rendered.body)
