"""The numbers a message's context (and an event's attributes, a customer's preferences)
may hold, and a dispatcher that one message it cannot render never stops.

From a bug hunt (finding 2): a Decimal of 1E+999999999999999 in a context made every
dispatch() raise MemoryError (the message stayed pending and due first, so no message
after it was ever sent); 1E+999999999 gave a body of a billion characters; an int of more
than 4300 digits a bare ValueError, from dispatch() on the memory store and from queue()
or record() on SQLite, which the memory store had accepted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomEvent,
    FixedClock,
    InvalidInput,
    MemoryStore,
    MessageStatus,
    MessagingPolicy,
    Program,
    RecordingNotifier,
    RetentionService,
    Store,
)
from custbond._frozen import FrozenMap
from custbond.messaging import Message
from custbond.messaging.templates import Rendered, Templates
from stores import STORES

ON_EVERY_STORE = pytest.mark.parametrize("make_store", STORES)

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)

# Beyond what a value may hold: each would take gigabytes, or raise, when written out.
TOO_LARGE = [
    pytest.param(Decimal("1E+999999999999999"), id="decimal-1e999999999999999"),
    pytest.param(Decimal("1E+999999999"), id="decimal-1e999999999"),
    pytest.param(Decimal("-1E+1000"), id="decimal-minus-1e1000"),
    pytest.param(Decimal("1E-999999999"), id="decimal-1e-999999999"),
    pytest.param(Decimal("0E+5000"), id="decimal-zero-with-a-huge-exponent"),
    pytest.param(Decimal("0E-5000"), id="decimal-zero-with-5000-places"),
    pytest.param(10**5000, id="int-of-5001-digits"),
    pytest.param(-(10**1000), id="int-of-1001-digits"),
]

# The boundaries: at most 1000 digits before the point and 1000 after it, and one more.
BOUNDARIES = [
    pytest.param(10**1000 - 1, True, id="int-of-1000-digits"),
    pytest.param(10**1000, False, id="int-of-1001-digits"),
    pytest.param(-(10**1000) + 1, True, id="negative-int-of-1000-digits"),
    pytest.param(Decimal("9.99E+999"), True, id="decimal-below-1e1000"),
    pytest.param(Decimal("1E+1000"), False, id="decimal-1e1000"),
    pytest.param(Decimal("1E-1000"), True, id="decimal-of-1000-places"),
    pytest.param(Decimal("1E-1001"), False, id="decimal-of-1001-places"),
    pytest.param(Decimal("1." + "0" * 1001), False, id="decimal-one-with-1001-places"),
    pytest.param(Decimal("0.00"), True, id="decimal-zero"),
]


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def _message(value: Any, key: str = "m-1") -> Message:
    return Message(
        key=key,
        customer_id="c-1",
        template="broadcast",
        context={"title": "Offer", "text": value},
    )


def _event(value: Any) -> CustomEvent:
    return CustomEvent(id="e-1", customer_id="c-1", name="review", at=T0, attributes={"n": value})


class TestNumbersInValues:
    @pytest.mark.parametrize("value", TOO_LARGE)
    def test_a_number_too_large_to_write_out_is_refused_in_a_message_context(
        self, value: Any
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            _message(value)

        assert raised.value.field == "context['text']"
        assert "1000 digits" in raised.value.expected

    @pytest.mark.parametrize("value", TOO_LARGE)
    def test_a_number_too_large_to_write_out_is_refused_in_an_events_attributes(
        self, value: Any
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            _event(value)

        assert raised.value.field == "attributes['n']"

    @pytest.mark.parametrize("value", TOO_LARGE)
    def test_a_number_too_large_to_write_out_is_refused_in_a_customers_preferences(
        self, value: Any
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Customer("c-1", preferences={"size": value})

        assert raised.value.field == "preferences['size']"

    @pytest.mark.parametrize(("value", "accepted"), BOUNDARIES)
    def test_numbers_of_up_to_a_thousand_digits_each_side_of_the_point_are_accepted(
        self, value: Any, accepted: bool
    ) -> None:
        if accepted:
            assert _message(value).context["text"] == value
            assert _event(value).attributes["n"] == value
        else:
            with pytest.raises(InvalidInput, match=r"^context\['text'\] must be"):
                _message(value)

    def test_the_error_for_an_int_python_cannot_write_shows_its_size_not_its_digits(
        self,
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            _message(10**5000)

        assert str(raised.value) == (
            "context['text'] must be an int of at most 1000 digits; "
            "got an int of more than 1000 digits"
        )

    def test_a_date_or_a_float_in_a_context_is_judged_as_before(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            _message(1.5)

        assert raised.value.field == "context['text']"
        assert "date or timezone-aware datetime" in raised.value.expected

    @given(
        st.one_of(
            st.integers(min_value=-(10**1000) + 1, max_value=10**1000 - 1),
            st.decimals(allow_nan=False, allow_infinity=False).filter(
                lambda number: number.adjusted() <= 999 and _places(number) <= 1000
            ),
        )
    )
    def test_every_number_a_context_accepts_renders_to_a_short_text(
        self, value: int | Decimal
    ) -> None:
        message = _message(value)

        body = Templates.defaults().render("broadcast", "sms", {**message.context}).body

        assert len(body) <= len("Offer: ") + 2 * 1000 + 2  # a sign, a point, the digits


def _service(
    store: Store, *, templates: Templates | None = None
) -> tuple[RetentionService, FixedClock, RecordingNotifier]:
    clock = FixedClock(T0)
    notifier = RecordingNotifier()
    policy = MessagingPolicy() if templates is None else MessagingPolicy(templates=templates)
    service = RetentionService(Program(messaging=policy), store, clock, notifier=notifier)
    service.save_customer(Customer("c-1", name="Ann", email="ann@example.com"))
    return service, clock, notifier


@ON_EVERY_STORE
def test_the_largest_numbers_a_context_takes_are_kept_and_sent_on_every_store(
    make_store: Callable[[], Store],
) -> None:
    service, _, notifier = _service(make_store())
    largest = 10**1000 - 1
    service.queue(_message(largest, key="int"))
    service.queue(_message(Decimal("-9.99E+999"), key="decimal"))

    results = service.dispatch()

    assert [(item.key, item.status) for item in results] == [
        ("decimal", MessageStatus.SENT),
        ("int", MessageStatus.SENT),
    ]
    bodies = {message.key: message.body for message in notifier.sent}
    assert bodies["int"].endswith(str(largest))
    assert bodies["decimal"].endswith("-999" + "0" * 997)
    assert service.outbox(status="sent")[0].message.context["text"] in (
        largest,
        Decimal("-9.99E+999"),
    )


@ON_EVERY_STORE
def test_an_event_attribute_of_a_thousand_digits_is_kept_alike_on_every_store(
    make_store: Callable[[], Store],
) -> None:
    service, _, _ = _service(make_store())

    outcome = service.record(_event(-(10**1000) + 1))

    assert outcome.customer_id == "c-1"
    kept = list(service.log())[-1].input
    assert isinstance(kept, CustomEvent)
    assert kept.attributes["n"] == -(10**1000) + 1


@ON_EVERY_STORE
def test_an_event_attribute_too_large_is_refused_alike_on_every_store(
    make_store: Callable[[], Store],
) -> None:
    service, _, _ = _service(make_store())
    before = len(list(service.log()))

    with pytest.raises(InvalidInput, match=r"^attributes\['n'\] must be an int of at most"):
        service.record(_event(10**5000))

    assert len(list(service.log())) == before


class _FailingTemplates(Templates):
    """The default templates, except that rendering ``"broken"`` raises what a bug (or a
    value kept by an earlier version) would: neither a TemplateError nor expected."""

    def render(self, name: str, channel: str, values: Mapping[str, Any]) -> Rendered:
        if name == "broken":
            raise ZeroDivisionError("division by zero")
        return super().render(name, channel, values)


@ON_EVERY_STORE
def test_a_message_whose_rendering_raises_anything_is_dead_and_the_next_ones_are_sent(
    make_store: Callable[[], Store],
) -> None:
    base = Templates.defaults()
    templates = _FailingTemplates(base.override({"broken": base.templates["welcome"]}))
    service, clock, notifier = _service(make_store(), templates=templates)
    service.queue(Message(key="first", customer_id="c-1", template="broken"))
    clock.advance(timedelta(seconds=1))
    service.queue(Message(key="second", customer_id="c-1", template="welcome"))

    results = service.dispatch()

    assert [(item.key, item.status, item.reason) for item in results] == [
        (
            "first",
            MessageStatus.DEAD,
            "template 'broken' (email) could not be rendered: ZeroDivisionError: division by zero",
        ),
        ("second", MessageStatus.SENT, None),
    ]
    assert [message.key for message in notifier.sent] == ["second"]
    assert service.dispatch() == []  # nothing left due: the outbox is not held up


def _smuggled(message: Message, value: Any) -> Message:
    """``message`` with ``value`` as its text, past the checks: a message an earlier
    version of custbond queued, before contexts were bounded."""
    object.__setattr__(message, "context", FrozenMap({"title": "Offer", "text": value}))
    return message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(
            Decimal("1E+999999999999999"), "Decimal('1E+999999999999999')", id="memory-error"
        ),
        pytest.param(10**5000, "an int of more than 1000 digits", id="value-error"),
    ],
)
def test_a_message_queued_before_values_were_bounded_is_dead_not_a_jam(
    value: Any, shown: str
) -> None:
    service, clock, notifier = _service(MemoryStore())
    service.queue(_smuggled(_message("placeholder", key="old"), value))
    clock.advance(timedelta(seconds=1))
    service.queue(Message(key="next", customer_id="c-1", template="welcome"))

    results = service.dispatch()

    assert [(item.key, item.status) for item in results] == [
        ("old", MessageStatus.DEAD),
        ("next", MessageStatus.SENT),
    ]
    assert results[0].reason == (
        "template 'broadcast' (email) could not be rendered: context['text'] is "
        f"{shown}, too long to write out (a number may have at most 1000 digits before its"
        " point and 1000 after it)"
    )
    assert [message.key for message in notifier.sent] == ["next"]
