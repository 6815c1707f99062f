"""Erasure's text matching: where forget() finds the customer's name, email and phone.

- Values the program reads or looks up (an item's tags, a channel, a payment method, a
  category, what a complaint is about) keep the customer's name: a customer called Rose
  does not take the "rose" tag with her, and the erased log replays to the same points.
  Only an email address or a phone number of the customer goes from them.
- Elsewhere (a visit's place, a task's reason, a bounce) the name, email and phone go in
  any case, with full Unicode case folding ("Strauß" written "STRAUSS").
- An email is matched as a whole address; a phone number also as written nationally.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    ContactMade,
    Customer,
    Delivery,
    FixedClock,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
    Store,
    Visit,
)
from custbond.erasure import ERASED, Erasure
from custbond.events import ComplaintFiled, ComplaintResolved, SurveyResponse
from custbond.messaging import Message
from custbond.recovery import FollowUp, RecoveryPolicy
from custbond.recovery.case import RecoveryCase
from custbond.rules import FixedPoints, PointsPerItem, Rule, event
from test_erasure import STORES, _found, _without_codes

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)

# A florist's program: its rules read an item's tags, the channel and the payment method.
FLORIST = Program(
    currency="GBP",
    rules=[
        Rule("roses", on="Purchase", then=[PointsPerItem(50, tag="rose")]),
        Rule("may-days", on="Purchase", when=event.has_tag("may"), then=[FixedPoints(5)]),
        Rule("ginger-shop", on="Purchase", when=event.channel == "ginger", then=[FixedPoints(7)]),
        Rule("sage-card", on="Purchase", when=event.payment == "sage", then=[FixedPoints(3)]),
    ],
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    make: Callable[[Path], Store] = request.param
    return make(tmp_path)


def _bouquet(customer_id: str, *tags: str, **fields: Any) -> Purchase:
    return Purchase(
        id=fields.pop("id", "o-1"),
        customer_id=customer_id,
        at=fields.pop("at", T0),
        amount=Decimal("10"),
        currency="GBP",
        items=(LineItem("bouquet", 1, Decimal("10"), tags=set(tags)),),
        **fields,
    )


def _replayed(service: RetentionService) -> RetentionService:
    fresh = RetentionService(service.program, MemoryStore(), FixedClock(service.clock.now()))
    fresh.replay(service.log())
    return fresh


def _same_after_replay(service: RetentionService, customer_id: str) -> None:
    """The erased store and a replay of its log agree on the customer."""
    fresh = _replayed(service)
    assert service.balance(customer_id) == fresh.balance(customer_id)
    assert list(service.statement(customer_id)) == list(fresh.statement(customer_id))
    with service.store.unit_of_work(write=False) as mine:
        kept = mine.load(customer_id)
    with fresh.store.unit_of_work(write=False) as theirs:
        replayed = theirs.load(customer_id)
    assert kept is not None
    assert replayed is not None
    assert _without_codes(kept) == _without_codes(replayed)


class TestWhatTheProgramReads:
    def test_a_tag_equal_to_the_customers_name_stays_and_replays_to_the_same_points(
        self, store: Store
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(FLORIST, store, clock)
        service.save_customer(Customer("c1", name="Rose", email="rose@example.com"))
        service.record(_bouquet("c1", "rose", "flowers", channel="ginger", payment="sage"))
        assert 70 == service.balance("c1").available  # 10 + 50 for the roses + 7 + 3
        clock.advance(timedelta(days=1))

        service.forget("c1", pseudonym="erased-1")

        [purchase] = [r.input for r in service.log() if isinstance(r.input, Purchase)]
        assert {"rose", "flowers"} == set(purchase.items[0].tags)
        assert ("ginger", "sage") == (purchase.channel, purchase.payment)
        assert 70 == service.balance("erased-1").available
        _same_after_replay(service, "erased-1")

    def test_a_customer_named_like_a_channel_or_payment_keeps_them(self) -> None:
        erasure = Erasure.of(Customer("c1", name="GINGER"), "erased-1")
        purchase = _bouquet("c1", "Ginger", channel="ginger", payment="Ginger card")

        erased = erasure.input(purchase)

        assert isinstance(erased, Purchase)
        assert ({"Ginger"}, "ginger", "Ginger card") == (
            set(erased.items[0].tags),
            erased.channel,
            erased.payment,
        )

    def test_an_id_equal_to_a_tag_leaves_the_tag(self) -> None:
        erased = Erasure("rose", "erased-1").input(_bouquet("rose", "rose", channel="rose"))

        assert isinstance(erased, Purchase)
        assert ("erased-1", {"rose"}, "rose") == (
            erased.customer_id,
            set(erased.items[0].tags),
            erased.channel,
        )

    def test_an_email_or_a_phone_in_a_value_the_program_reads_is_erased(self) -> None:
        ann = Customer("c1", name="Ann", email="ann@example.com", phone="+44 20 7946 0958")
        purchase = _bouquet(
            "c1", "for ANN@EXAMPLE.COM", "ann", channel="phone 020 7946 0958", payment="ann card"
        )

        erased = Erasure.of(ann, "erased-1").input(purchase)

        assert isinstance(erased, Purchase)
        assert ({"for erased", "ann"}, "phone erased", "ann card") == (
            set(erased.items[0].tags),
            erased.channel,
            erased.payment,
        )

    def test_a_complaints_category_and_what_it_is_about_keep_a_name(self) -> None:
        erasure = Erasure.of(Customer("c1", name="May"), "erased-1")
        filed = ComplaintFiled(
            id="cmp-1",
            customer_id="c1",
            at=T0,
            category="may delivery",
            severity="low",
            about="may-0012",
        )
        answer = SurveyResponse(
            id="s-1", customer_id="c1", at=T0, scale="csat", score=2, category="May", about="c1"
        )
        case = RecoveryCase.open(
            id="cmp-1", category="may delivery", severity="low", filed_at=T0, about="may-0012"
        )

        assert attrs.evolve(filed, customer_id="erased-1") == erasure.input(filed)
        assert attrs.evolve(answer, customer_id="erased-1") == erasure.input(answer)
        assert case == erasure.case(case)

    def test_a_complaint_about_an_order_named_like_the_customer_replays_its_order_value(
        self, store: Store
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(FLORIST, store, clock)
        service.save_customer(Customer("c1", name="May"))
        service.record(_bouquet("c1", id="may-0012"))
        service.record(
            ComplaintFiled(
                id="cmp-1",
                customer_id="c1",
                at=T0,
                category="may delivery",
                severity="low",
                about="may-0012",
            )
        )
        service.forget("c1", pseudonym="erased-1")

        assert "may-0012" == service.case("erased-1", "cmp-1").about
        _same_after_replay(service, "erased-1")


# The program's words that a customer may be called, in some case.
_WORDS = ("rose", "may", "ginger", "sage", "flowers")


def _cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from((word, word.upper(), word.title()))


_NAMES = st.sampled_from(_WORDS).flatmap(_cased) | st.tuples(
    st.sampled_from(_WORDS).flatmap(_cased), st.sampled_from(_WORDS).flatmap(_cased)
).map(" ".join)
_PURCHASES = st.lists(
    st.tuples(
        st.frozensets(st.sampled_from(_WORDS).flatmap(_cased), max_size=3),
        st.none() | st.sampled_from(_WORDS),
        st.none() | st.sampled_from(_WORDS),
    ),
    min_size=1,
    max_size=4,
)


class TestReplayOfTheErasedLog:
    @settings(max_examples=60, deadline=None)
    @given(
        customer_id=st.sampled_from(("c1", *_WORDS)),
        name=_NAMES,
        purchases=_PURCHASES,
        visit=st.none() | st.sampled_from(_WORDS),
    )
    def test_a_customer_named_like_the_programs_words_replays_to_the_erased_state(
        self,
        customer_id: str,
        name: str,
        purchases: list[tuple[frozenset[str], str | None, str | None]],
        visit: str | None,
    ) -> None:
        clock = FixedClock(T0)
        service = RetentionService(FLORIST, MemoryStore(), clock)
        service.save_customer(Customer(customer_id, name=name, email=f"{name[:3]}@example.com"))
        for n, (tags, channel, payment) in enumerate(purchases):
            clock.advance(timedelta(hours=1))
            service.record(
                _bouquet(
                    customer_id,
                    *tags,
                    id=f"o-{n}",
                    at=clock.now(),
                    channel=channel,
                    payment=payment,
                )
            )
        if visit is not None:  # a place no rule reads
            service.record(
                Visit(id="v-1", customer_id=customer_id, at=clock.now(), location=visit)
            )
        before = service.balance(customer_id)
        clock.advance(timedelta(days=1))

        service.forget(customer_id, pseudonym="erased-1")

        assert before.available == service.balance("erased-1").available
        _same_after_replay(service, "erased-1")


class TestAnyCase:
    STRAUSS = Customer("c1", name="Gerd Strauß", email="strauß@example.de")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("table of GERD STRAUSS", "table of erased"),
            ("table of gerd strauss, Straße 5", "table of erased, Straße 5"),
            ("ŁÓDŹ Straße: GERD STRAUß!", "ŁÓDŹ Straße: erased!"),
            ("550 <STRAUSS@EXAMPLE.DE>: rejected", "550 <erased>: rejected"),
            ("550 <Strauß@Example.de>", "550 <erased>"),
            ("Strausses and Gerd Straussian", "Strausses and Gerd Straussian"),
        ],
    )
    def test_a_name_or_email_is_matched_with_full_case_folding(
        self, text: str, expected: str
    ) -> None:
        assert expected == Erasure.of(self.STRAUSS, "erased-1").text(text)

    def test_a_dotted_capital_i_written_lower_case_is_matched(self) -> None:
        erasure = Erasure.of(Customer("c1", name="İrem Y\u0131lmaz"), "erased-1")

        assert "met erased today" == erasure.text("met i\u0307rem y\u0131lmaz today")
        assert "met erased today" == erasure.text("met İREM YILMAZ today")

    @given(
        before=st.text(alphabet="aß İﬁ.,ŉ-", max_size=6).map(lambda t: t + " "),
        after=st.text(alphabet="aß İﬁ.,ŉ-", max_size=6).map(lambda t: " " + t),
        spelling=st.sampled_from(("Gerd Strauß", "GERD STRAUSS", "gerd strauss", "GERD STRAUß")),
    )
    def test_the_text_around_a_match_is_kept_exactly_whatever_folding_does_to_it(
        self, before: str, after: str, spelling: str
    ) -> None:
        erasure = Erasure.of(self.STRAUSS, "erased-1")

        assert f"{before}{ERASED}{after}" == erasure.text(f"{before}{spelling}{after}")

    def test_a_bounce_and_a_place_in_another_case_are_gone_from_every_store(
        self, store: Store
    ) -> None:
        def bounce(message: Any) -> Delivery:
            return Delivery.failed(f"550 <{message.to.upper()}>: Recipient address rejected")

        service = RetentionService(
            Program(), store, FixedClock(T0), notifier=RecordingNotifier(answer=bounce)
        )
        service.save_customer(self.STRAUSS)
        service.record(Visit(id="v1", customer_id="c1", at=T0, location="table of GERD STRAUSS"))
        service.queue(Message(key="m1", customer_id="c1", template="welcome"))
        service.dispatch()
        assert _found(store, "STRAUSS")

        service.forget("c1", pseudonym="erased-1")

        assert [] == _found(store, "STRAUSS")
        assert [] == _found(store, "Strauß")
        [visit] = [r.input for r in service.log() if isinstance(r.input, Visit)]
        assert isinstance(visit, Visit)
        assert "table of erased" == visit.location
        assert "failed: 550 <erased>: Recipient address rejected" == service.outbox()[0].reason

    def test_a_visit_delivered_again_in_another_case_returns_its_first_outcome(
        self, store: Store
    ) -> None:
        service = RetentionService(Program(), store, FixedClock(T0))
        service.save_customer(self.STRAUSS)
        service.record(Visit(id="v1", customer_id="c1", at=T0, location="desk of Gerd Strauß"))
        service.forget("c1", pseudonym="erased-1")
        [first] = [r.outcome for r in service.log() if isinstance(r.input, Visit)]

        again = Visit(id="v1", customer_id="c1", at=T0, location="desk of GERD STRAUSS")

        assert first == service.record(again)


BOB = Customer("c1", name="Bob Hale", email="bob@shop.com", phone="+44 20 7946 0958")


class TestEmails:
    @pytest.mark.parametrize(
        "text",
        [
            "jim.bob@shop.com",
            "bob@shop.com.au",
            "bob@shop.com-mail.net",
            "jim+bob@shop.com",
            "jim-bob@shop.com",
            "jim_bob@shop.com",
            "bob@shop.community",
        ],
    )
    def test_another_persons_longer_address_is_left_whole(self, text: str) -> None:
        assert f"cc {text}; " == Erasure.of(BOB, "erased-1").text(f"cc {text}; ")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("<bob@shop.com>", "<erased>"),
            ("mailto:BOB@SHOP.COM", "mailto:erased"),
            ("write to bob@shop.com.", "write to erased."),
            ("bob@shop.com, jim.bob@shop.com", "erased, jim.bob@shop.com"),
            ("(bob@shop.com)", "(erased)"),
            ("?to=bob@shop.com&x=1", "?to=erased&x=1"),
        ],
    )
    def test_the_customers_whole_address_is_erased(self, text: str, expected: str) -> None:
        assert expected == Erasure.of(BOB, "erased-1").text(text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("cc jim.rose@example.com", "cc jim.rose@example.com"),
            ("cc rose.lee@example.com", "cc rose.lee@example.com"),
            ("cc rose+shop@example.com", "cc rose+shop@example.com"),
            ("ROSE wrote from rose@example.com.", "erased wrote from erased."),
        ],
    )
    def test_a_name_is_not_taken_out_of_someone_elses_address(
        self, text: str, expected: str
    ) -> None:
        rose = Customer("c1", name="Rose", email="rose@example.com")

        assert expected == Erasure.of(rose, "erased-1").text(text)

    def test_the_review_example_keeps_others_addresses_on_every_store(self, store: Store) -> None:
        service = RetentionService(Program(), store, FixedClock(T0))
        service.save_customer(BOB)
        location = "desk of jim.bob@shop.com, cc bob@shop.com.au; tel 020 7946 0958"
        service.record(Visit(id="v1", customer_id="c1", at=T0, location=location))

        service.forget("c1", pseudonym="erased-1")

        [visit] = [r.input for r in service.log() if isinstance(r.input, Visit)]
        assert isinstance(visit, Visit)
        assert "desk of jim.bob@shop.com, cc bob@shop.com.au; tel erased" == visit.location


class TestPhones:
    @pytest.mark.parametrize(
        "written",
        [
            "+44 20 7946 0958",
            "+442079460958",
            "0044 20 7946 0958",
            "+44 (0)20 7946 0958",
            "+44 (0) 20-7946-0958",
            "020 7946 0958",
            "020-7946-0958",
            "20 7946 0958",
            "44 20 7946 0958",
        ],
    )
    def test_the_customers_number_is_erased_however_it_is_written(self, written: str) -> None:
        assert "tel erased." == Erasure.of(BOB, "erased-1").text(f"tel {written}.")

    def test_a_bracket_before_a_trunk_zero_stays(self) -> None:
        assert "tel (erased." == Erasure.of(BOB, "erased-1").text("tel (020) 7946 0958.")

    @pytest.mark.parametrize(
        "other",
        [
            "+1 20 7946 0958",  # another country's number
            "+33 20 7946 0958",
            "120 7946 0958",  # a longer number
            "020 7946 09580",
            "7946 0958",  # a part of it: an order number, an amount
            "£2079.46",
            "order 794609",
            "020 7946 0959",
        ],
    )
    def test_other_numbers_are_left_alone(self, other: str) -> None:
        assert f"ref {other}." == Erasure.of(BOB, "erased-1").text(f"ref {other}.")

    def test_a_number_saved_nationally_is_erased_with_any_country_code(self) -> None:
        erasure = Erasure.of(attrs.evolve(BOB, phone="020 7946 0958"), "erased-1")

        assert "a erased b erased c erased" == erasure.text(
            "a 020 7946 0958 b +44 20 7946 0958 c 2079460958"
        )

    def test_a_short_national_number_is_matched_only_in_full(self) -> None:
        erasure = Erasure.of(attrs.evolve(BOB, phone="+354 123 456"), "erased-1")  # 6 digits

        assert "erased, 123 456" == erasure.text("+354 123 456, 123 456")

    def test_a_visit_delivered_again_with_the_number_written_nationally_is_a_repeat(
        self, store: Store
    ) -> None:
        service = RetentionService(Program(), store, FixedClock(T0))
        service.save_customer(BOB)
        service.record(Visit(id="v1", customer_id="c1", at=T0, location="call 020 7946 0958"))
        service.forget("c1", pseudonym="erased-1")
        [first] = [r for r in service.log() if isinstance(r.input, Visit)]
        assert isinstance(first.input, Visit)
        assert "call erased" == first.input.location

        again = Visit(id="v1", customer_id="c1", at=T0, location="call 020 7946 0958")

        assert first.outcome == service.record(again)


class TestACasesHistory:
    def test_a_follow_up_owner_and_a_category_called_like_the_customer_replay_alike(
        self, store: Store
    ) -> None:
        program = Program(
            currency="GBP",
            recovery=RecoveryPolicy(follow_up=FollowUp(owner="rose"), survey=None),
        )
        clock = FixedClock(T0)
        service = RetentionService(program, store, clock)
        service.save_customer(Customer("c1", name="Rose"))
        service.record(
            ComplaintFiled(id="cmp-1", customer_id="c1", at=T0, category="rose", severity="low")
        )
        clock.advance(timedelta(hours=1))
        service.record(
            ComplaintResolved(
                id="res-1", customer_id="c1", at=clock.now(), complaint_id="cmp-1", by="Rose"
            )
        )
        clock.advance(timedelta(days=1))

        service.forget("c1", pseudonym="erased-1")

        timeline = service.case("erased-1", "cmp-1").timeline
        assert ["rose, low", "rose"] == [
            timeline[0].detail,
            next(step.detail for step in timeline if step.what == "follow-up").split(",")[0],
        ]
        _same_after_replay(service, "erased-1")


_SPELLINGS = st.sampled_from(("Gerd Strauß", "GERD STRAUSS", "gerd strauss", "Gerd Strauss"))
_PHONES = st.sampled_from(
    ("+44 20 7946 0958", "020 7946 0958", "0044 (0)20 7946-0958", "(020) 7946 0958")
)
# Never empty: two details side by side are erased as "erasederased", which the matcher
# cannot split back (as in tests/test_erasure_repeats.py).
_PUNCTUATION = st.text(alphabet=" ,;:()<>", min_size=1, max_size=3)


class TestDeliveredAgain:
    """The erased-repeat matcher (:meth:`Erasure.fitted`) erases what erasure did, with
    the same matching: folded names, national numbers, values that keep a name."""

    @given(spelled=_SPELLINGS, again=_SPELLINGS, phone=_PHONES, around=_PUNCTUATION)
    def test_a_contact_whose_texts_named_the_customer_is_fitted_back_to_the_erased_one(
        self, spelled: str, again: str, phone: str, around: str
    ) -> None:
        customer = Customer("c1", name="Gerd Strauß", phone="+44 20 7946 0958")

        def contact(name: str) -> ContactMade:
            return ContactMade(
                id="k-1",
                customer_id="c1",
                at=T0,
                by=f"Sam{around}for {name}{around}{phone}",
                channel=f"phone {phone}, {spelled.lower()}",  # a value: keeps the name
            )

        erased = Erasure.of(customer, "erased-1").input(contact(spelled))

        fitted = Erasure("c1", "erased-1").fitted(contact(again), erased)

        assert erased == fitted.input(contact(again))
        assert isinstance(erased, ContactMade)
        assert erased.channel is not None
        assert erased.channel.endswith(f"erased, {spelled.lower()}")
