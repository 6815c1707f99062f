"""After forget(), an input of the erased customer delivered again returns its (erased)
first outcome, whatever its texts held of the customer's name, email or phone; other
content under its key is still refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Customer,
    FixedClock,
    IdempotencyConflict,
    LineItem,
    Program,
    Purchase,
    RetentionService,
    Store,
    Visit,
)
from custbond.commands import SetConsent
from custbond.erasure import Erasure
from test_erasure import STORES

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
ANN = Customer("c1", name="Ann Lee", email="ann@example.com", phone="+44 20 7946 0958")


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> RetentionService:
    make: Callable[[Path], Store] = request.param
    return RetentionService(Program(), make(tmp_path), FixedClock(T0))


def _visit(location: str) -> Visit:
    return Visit(id="v-1", customer_id="c1", at=T0, location=location)


class TestDeliveredAgainAfterForget:
    def test_a_visit_whose_place_named_the_customer_returns_its_first_outcome(
        self, service: RetentionService
    ) -> None:
        service.save_customer(ANN)
        service.record(_visit("Ann Lee's office"))
        service.forget("c1", pseudonym="erased-1")
        [first] = [r.outcome for r in service.log() if isinstance(r.input, Visit)]

        assert first == service.record(_visit("Ann Lee's office"))
        assert first == service.record(_visit("ANN LEE's office"))  # the same, erased

    def test_a_consent_whose_source_named_the_customer_returns_its_first_outcome(
        self, service: RetentionService
    ) -> None:
        service.save_customer(ANN)
        source = "double opt-in by ann@example.com"
        service.set_consent("c1", "email", granted=True, source=source, key="k-1")
        service.forget("c1", pseudonym="erased-1")
        [first] = [r.outcome for r in service.log() if isinstance(r.input, SetConsent)]

        assert first == service.set_consent("c1", "email", granted=True, source=source, key="k-1")

    def test_a_purchase_whose_tags_and_channel_named_the_customer_returns_its_first_outcome(
        self, service: RetentionService
    ) -> None:
        service.save_customer(ANN)
        purchase = Purchase(
            id="o-1",
            customer_id="c1",
            at=T0,
            amount=Decimal("4.00"),
            currency="USD",
            items=(LineItem("card", 1, Decimal("4.00"), tags={"for Ann Lee", "gift"}),),
            channel="phone +44 20 7946 0958",
        )
        service.record(purchase)
        service.forget("c1", pseudonym="erased-1")
        [first] = [r.outcome for r in service.log() if isinstance(r.input, Purchase)]

        assert first == service.record(purchase)

    def test_other_content_under_the_key_is_still_refused(self, service: RetentionService) -> None:
        service.save_customer(ANN)
        service.record(_visit("Ann Lee's office"))
        service.forget("c1", pseudonym="erased-1")

        with pytest.raises(IdempotencyConflict, match="location"):
            service.record(_visit("Ann Lee's garden"))


# Text around the details: never letters or digits right beside them, where they would
# be part of a longer word, which erasure leaves alone.
_AROUND = st.text(alphabet=" '.,-<>()", max_size=6)


class TestFitted:
    @given(before=_AROUND, middle=_AROUND.filter(bool), after=_AROUND, upper=st.booleans())
    def test_an_input_erased_with_its_details_is_fitted_back_to_the_erased_one(
        self, before: str, middle: str, after: str, upper: bool
    ) -> None:
        first = f"{before}Ann Lee{middle}+44 20 7946 0958{after}"
        name, phone = ("ANN LEE", "+442079460958") if upper else ("Ann Lee", "+44 20 7946 0958")
        erased = Erasure.of(ANN, "erased-1").input(_visit(first))
        again = _visit(f"{before}{name}{middle}{phone}{after}")

        fitted = Erasure("c1", "erased-1").fitted(again, erased)

        assert erased == fitted.input(again)

    def test_without_erased_parts_nothing_is_fitted(self) -> None:
        erasure = Erasure("c1", "erased-1")
        erased = erasure.input(_visit("downtown"))

        assert erasure == erasure.fitted(_visit("uptown"), erased)
