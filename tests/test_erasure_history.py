"""Erasure of what a customer was before, and only of them: forget() takes out every
name, email and phone a customer's profile ever had (in any case), renames their id only
where a value names them, and leaves other customers' records as they were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Cadence,
    Customer,
    Delivery,
    FixedClock,
    LineItem,
    Program,
    Purchase,
    RecordingNotifier,
    Referral,
    RetentionService,
    SocialPolicy,
    Store,
    Visit,
)
from custbond import ledger as ledgers
from custbond.bonds.referrals import ReferralPolicy
from custbond.commands import CloseTask
from custbond.erasure import ERASED, Erasure
from custbond.ledger import Ledger
from custbond.messaging import Message
from custbond.outcome import Outcome
from custbond.rules.trace import Step, Trace, Verdict, note
from test_erasure import STORES, _found

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
_NOTHING = ledgers.balance(Ledger(), T0)


def _bounce(message: Message) -> Delivery:
    """A mail server that echoes the address it refused, upper-cased."""
    return Delivery.failed(f"550 5.1.1 <{message.to.upper()}>: Recipient address rejected")


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    make: Callable[[Path], Store] = request.param
    return lambda: make(tmp_path)


class TestEveryProfileTheCustomerHad:
    def test_an_earlier_email_in_a_bounce_is_gone_in_any_case(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        notifier = RecordingNotifier(answer=_bounce)
        service = RetentionService(Program(), make_store(), clock, notifier=notifier)
        service.save_customer(Customer("c1", name="Ann Old", email="ann.old@example.com"))
        service.queue(Message(key="m1", customer_id="c1", template="welcome"))
        service.dispatch()
        assert _found(service.store, "ANN.OLD@EXAMPLE.COM"), "the bounce was kept"
        service.save_customer(Customer("c1", name="Ann New", email="ann.new@example.com"))

        service.forget("c1", pseudonym="erased-1")

        for needle in ("ANN.OLD@EXAMPLE.COM", "ann.old@example.com", "Ann Old", "Ann New"):
            assert [] == _found(service.store, needle), needle
        [kept] = service.outbox()
        assert "failed: 550 5.1.1 <erased>: Recipient address rejected" == kept.reason

    def test_an_earlier_name_and_phone_are_gone_from_their_texts(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(Program(), make_store(), clock)
        service.save_customer(Customer("c1", name="Bea Smith", phone="+44 20 7946 0001"))
        service.record(
            Visit(id="v-1", customer_id="c1", at=clock.now(), location="BEA SMITH's flat")
        )
        service.record(
            Purchase(
                id="o-1",
                customer_id="c1",
                at=clock.now(),
                amount=Decimal("3.00"),
                currency="USD",
                channel="phone +442079460001",  # the same number, written without spaces
            )
        )
        service.save_customer(Customer("c1", name="Bea Jones"))

        service.forget("c1", pseudonym="erased-1")

        for needle in ("BEA SMITH", "Bea Smith", "7946", "+442079460001"):
            assert [] == _found(service.store, needle), needle
        visit, purchase = (
            record.input for record in service.log() if isinstance(record.input, Visit | Purchase)
        )
        assert isinstance(visit, Visit)
        assert isinstance(purchase, Purchase)
        assert ("erased's flat", "phone erased") == (visit.location, purchase.channel)


class TestOnlyWhereTheIdIsNamed:
    def test_numbers_equal_to_a_numeric_id_stay_in_every_trace(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(Program(), make_store(), clock)
        service.save_customer(Customer("42", name="Forty Two"))
        service.record(
            Purchase(
                id="1001",
                customer_id="42",
                at=clock.now(),
                amount=Decimal("42.00"),
                currency="USD",
            )
        )
        service.record(
            Purchase(
                id="1002",
                customer_id="7",
                at=clock.now(),
                amount=Decimal("42.50"),
                currency="USD",
                items=(LineItem("42", 1, Decimal("42.50")),),
            )
        )
        before = {r.seq: (r.input, r.outcome.trace) for r in service.log()}

        service.forget("42", pseudonym="erased-1")

        after = {r.seq: (r.input, r.outcome.trace) for r in service.log()}
        seventh = [
            seq for seq, (item, _) in before.items() if getattr(item, "customer_id", "") == "7"
        ]
        assert [before[seq] for seq in seventh] == [after[seq] for seq in seventh]
        [mine] = [trace for item, trace in after.values() if getattr(item, "id", "") == "1001"]
        assert "earned 42 points: 42 spend points, rounded down" in str(mine)

    def test_a_trace_that_names_the_customer_as_a_past_referrer_names_the_pseudonym(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(Program(), make_store(), clock)
        service.save_customer(Customer("ada", name="Ada"))
        service.record(Referral(id="r1", customer_id="bea", at=clock.now(), referrer_id="ada"))
        service.record(Referral(id="r2", customer_id="bea", at=clock.now(), referrer_id="cy"))

        service.forget("ada", pseudonym="erased-1")

        traces = [str(record.outcome.trace) for record in service.log()]
        assert "already referred by 'erased-1': a second referral changes nothing" in traces
        assert [] == _found(service.store, "'ada'")

    def test_a_referees_reward_names_the_pseudonym_and_keeps_its_numbers(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        program = Program(referrals=ReferralPolicy(referrer_points=42, referee_points=42))
        service = RetentionService(program, make_store(), clock)
        service.save_customer(Customer("42"))
        service.record(Referral(id="r1", customer_id="bea", at=clock.now(), referrer_id="42"))
        clock.advance(timedelta(hours=1))
        service.record(
            Purchase(
                id="o-1", customer_id="bea", at=clock.now(), amount=Decimal(42), currency="USD"
            )
        )

        service.forget("42", pseudonym="erased-1")

        [bought] = [r for r in service.log() if getattr(r.input, "id", "") == "o-1"]
        assert "referral by 'erased-1' rewarded: 42 points here, 42 points to 'erased-1'" in str(
            bought.outcome.trace
        )


class TestConsentSources:
    def test_where_a_consent_came_from_is_erased_and_the_consent_stays(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(Program(), make_store(), clock)
        service.save_customer(Customer("c1", name="Ann"))
        source = "stall at the Hackney market, 3 May"
        service.set_consent("c1", "email", granted=True, source=source, key="k1")

        service.forget("c1", pseudonym="erased-1")

        assert [] == _found(service.store, "Hackney")
        [consent] = service.consents("erased-1")
        assert (ERASED, "email", True, T0) == (
            consent.source,
            consent.channel,
            consent.granted,
            consent.at,
        )


# -- the erasure's values, for any text ----------------------------------------------------

_DETAILS = st.sampled_from(["ann.old@example.com", "Ann Lee", "+44 20 7946 0958"])
_WORDS = st.text(alphabet="abc 0123456789.:'-<>()", max_size=30)


class TestTexts:
    @given(detail=_DETAILS, before=_WORDS, after=_WORDS, upper=st.booleans())
    def test_a_contact_detail_in_any_case_is_gone_from_a_text(
        self, detail: str, before: str, after: str, upper: bool
    ) -> None:
        erasure = Erasure("c1", "erased-1", (detail,))
        written = detail.upper() if upper else detail.lower()

        erased = erasure.text(f"{before} {written} {after}")

        assert detail.casefold() not in erased.casefold()
        assert f" {ERASED} " in erased

    @given(
        customer_id=st.from_regex(r"[0-9]{1,3}", fullmatch=True),
        lines=st.lists(st.text(max_size=40), min_size=1, max_size=3),
    )
    def test_another_customers_trace_changes_only_where_it_quotes_the_id(
        self, customer_id: str, lines: list[str]
    ) -> None:
        erasure = Erasure(customer_id, "erased-1", ("Ann Lee",))
        trace = Trace(
            [
                *(note(line) for line in lines),
                Step(Verdict.FAILED, f"event.location == {customer_id!r}", "local"),
            ]
        )
        outcome = Outcome("bea", None, T0, (), trace, (), _NOTHING)

        erased = erasure.outcome(outcome)

        quoted = repr(customer_id)
        assert [line.replace(quoted, repr("erased-1")) for line in lines] == [
            step.text for step in erased.trace
        ][:-1]
        assert trace[-1] == erased.trace[-1]  # a rule's words are the program's

    def test_the_customers_own_trace_keeps_a_number_equal_to_the_id(self) -> None:
        erasure = Erasure("42", "erased-1")
        trace = Trace([note("earned 42 points: 42 spend points, rounded down")])
        outcome = Outcome("42", None, T0, (), trace, (), _NOTHING)

        erased = erasure.outcome(outcome)

        assert ("erased-1", trace) == (erased.customer_id, erased.trace)


class TestTaskKeysInTraces:
    def test_a_closed_keep_in_touch_task_names_the_pseudonym_in_its_trace(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(T0)
        social = SocialPolicy(default_owner="sam", cadence=Cadence(every=timedelta(days=30)))
        service = RetentionService(Program(social=social), make_store(), clock)
        service.save_customer(Customer("42"))
        clock.advance(timedelta(days=40))
        service.run_due()
        [task] = service.tasks("sam")
        assert task.key.startswith("contact:42:")
        service.close_task(task.key, "spoke to them")

        service.forget("42", pseudonym="erased-1")

        renamed = task.key.replace("contact:42:", "contact:erased-1:")
        [closing] = [r for r in service.log() if isinstance(r.input, CloseTask)]
        assert [f"task {renamed} closed"] == [step.text for step in closing.outcome.trace]
        assert [] == _found(service.store, task.key)
