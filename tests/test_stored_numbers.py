"""Numbers an earlier version of custbond stored, beyond the bound new input has now.

From a review (finding 5): the bound on numbers in a message's context, an event's
attributes and a customer's preferences (1000 digits before the point and 1000 after it)
was also checked when a store read its rows back, so a store written by the previous
release with a longer number (it kept ints of up to 4300 digits, and any finite Decimal)
could no longer be read: dispatch() raised for everyone and sent nothing, and outbox(),
log(), replay(), forget(), customer() and record() of that customer raised InvalidInput.

Rows of an earlier version are written here as it wrote them: the row forms have not
changed, so a value built past today's bound (as that version built it) and kept by
today's store is the row it kept; and on SQLite and PostgreSQL a message's row is also
written as literal JSON text, as the previous release wrote it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import postgres
from custbond import (
    Customer,
    CustomEvent,
    FixedClock,
    InvalidInput,
    MemoryStore,
    MessageStatus,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
    SQLiteStore,
    Store,
)
from custbond._frozen import FrozenMap
from custbond.messaging import Message
from custbond.messaging.message import QueuedMessage
from custbond.storage import _rows as rows


class _Place:
    """Where a store keeps its data: each :meth:`open` gives a store on the same data, a
    new one for SQLite and PostgreSQL (so what is read comes from the database, not from
    a store's cache), the same one in memory (it has nothing else)."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self._memory = MemoryStore()
        self._path = directory / "custbond.db"
        self._tenant = postgres.fresh_tenant()

    def open(self) -> Store:
        if self.kind == "memory":
            return self._memory
        if self.kind == "sqlite":
            return SQLiteStore(self._path)
        return postgres.make_store(tenant=self._tenant)


PLACES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=PLACES)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> _Place:
    return _Place(request.param, tmp_path)


@pytest.fixture
def other_place(place: _Place, tmp_path: Path) -> _Place:
    """An empty place of the same kind."""
    directory = tmp_path / "other"
    directory.mkdir()
    return _Place(place.kind, directory)


T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)

# What the previous release accepted and every store of it could keep: ints of up to 4300
# digits (JSON cannot write longer ones), and Decimals of any size.
KEPT_BEFORE = [
    pytest.param(10**1500, id="int-of-1501-digits"),
    pytest.param(-(10**4299), id="int-of-4300-digits"),
    pytest.param(Decimal("1E+999999999"), id="decimal-1e999999999"),
    pytest.param(Decimal("1E-5000"), id="decimal-of-5000-places"),
]


def _as_kept_before(value: Any, field: str, values: dict[str, Any]) -> Any:
    """``value`` with ``values`` as its ``field``, past today's checks: what an earlier
    version built, before numbers in values were bounded."""
    object.__setattr__(value, field, FrozenMap(values))
    return value


def _old_message(number: Any, *, key: str = "old", customer_id: str = "ada") -> Message:
    message = Message(key=key, customer_id=customer_id, template="broadcast")
    return _as_kept_before(message, "context", {"title": "Offer", "text": number})


def _old_customer(number: Any) -> Customer:
    return _as_kept_before(Customer("ada", email="ada@example.com"), "preferences", {"n": number})


def _old_event(number: Any) -> CustomEvent:
    event = CustomEvent(id="e-1", customer_id="ada", name="review", at=T0)
    return _as_kept_before(event, "attributes", {"big": number, "small": 1})


def _purchase(id_: str, at: datetime) -> Purchase:
    return Purchase(id=id_, customer_id="ada", at=at, amount=Decimal("5.00"), currency="USD")


def _service(store: Store) -> tuple[RetentionService, FixedClock, RecordingNotifier]:
    clock = FixedClock(T0)
    notifier = RecordingNotifier()
    return RetentionService(Program(), store, clock, notifier=notifier), clock, notifier


def _with_two_customers(store: Store) -> tuple[RetentionService, FixedClock, RecordingNotifier]:
    service, clock, notifier = _service(store)
    service.save_customer(Customer("ada", email="ada@example.com"))
    service.save_customer(Customer("bob", email="bob@example.com"))
    return service, clock, notifier


def _too_long_reason(field: str, shown: str) -> str:
    return (
        f"template 'broadcast' (email) could not be rendered: {field} is {shown}, too long"
        " to write out (a number may have at most 1000 digits before its point and 1000"
        " after it)"
    )


def _shown(number: Any) -> str:
    if isinstance(number, int):
        return "an int of more than 1000 digits"
    return repr(Decimal(number))


class TestMessagesKeptBefore:
    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_a_message_queued_with_a_number_too_long_is_still_read_as_it_was(
        self, place: _Place, number: Any
    ) -> None:
        writer, _, _ = _with_two_customers(place.open())
        writer.queue(_old_message(number))
        service, _, _ = _service(place.open())

        (item,) = service.outbox(customer_id="ada")

        assert item.message.context == {"title": "Offer", "text": number}
        assert item.status is MessageStatus.PENDING

    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_dispatch_ends_such_a_message_dead_with_a_reason_and_sends_the_others(
        self, place: _Place, number: Any
    ) -> None:
        writer, clock, _ = _with_two_customers(place.open())
        writer.queue(_old_message(number))
        clock.advance(timedelta(seconds=1))
        writer.queue(
            Message(
                key="new",
                customer_id="bob",
                template="broadcast",
                context={"title": "Offer", "text": "hello"},
            )
        )
        service, clock, notifier = _service(place.open())
        clock.advance(timedelta(seconds=1))

        results = service.dispatch()

        assert [(item.key, item.status, item.reason) for item in results] == [
            ("old", MessageStatus.DEAD, _too_long_reason("context['text']", _shown(number))),
            ("new", MessageStatus.SENT, None),
        ]
        assert [message.key for message in notifier.sent] == ["new"]
        assert service.dispatch() == []  # nothing is left due: the outbox is not held up
        (dead,) = service.outbox(status="dead")
        assert dead.message.context["text"] == number  # kept, as the record of what it was

    def test_a_customer_with_such_a_message_can_be_forgotten(self, place: _Place) -> None:
        writer, _, _ = _with_two_customers(place.open())
        writer.queue(_old_message(10**1500))
        service, _, _ = _service(place.open())

        assert service.forget("ada", pseudonym="erased-1") is True

        assert service.outbox(customer_id="ada") == ()
        (erased,) = service.outbox(customer_id="erased-1")
        assert erased.status is MessageStatus.SUPPRESSED


def _message_text(number: Any, queued_at: int) -> str:
    """A queued message's row as the previous release (aeb805b) wrote it: JSON text."""
    written = str(number) if isinstance(number, int) else f'{{"n":"{number}"}}'
    return (
        f'["old","ada","broadcast","email","transactional",null,null,"pending",'
        f'{{"u":{queued_at}}},{{"u":{queued_at}}},0,null,null,'
        f'"title","Offer","text",{written}]'
    )


_T0_MICROS = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


class TestMessageRowsWrittenByThePreviousRelease:
    """The previous release's JSON text, put into the outbox table as it is."""

    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_sqlite_reads_it_and_dispatch_ends_it_dead(self, tmp_path: Path, number: Any) -> None:
        path = tmp_path / "custbond.db"
        service, _, notifier = _with_two_customers(SQLiteStore(path))
        service.queue(Message(key="old", customer_id="ada", template="broadcast"))
        with sqlite3.connect(path) as connection:
            connection.execute(
                "UPDATE custbond_outbox SET message = ? WHERE message_key = 'old'",
                (_message_text(number, _T0_MICROS),),
            )

        reopened, _, notifier = _service(SQLiteStore(path))
        (item,) = reopened.outbox()
        results = reopened.dispatch()

        assert item.message.context["text"] == number
        assert [(result.key, result.status) for result in results] == [("old", MessageStatus.DEAD)]
        assert notifier.sent == []

    @pytest.mark.postgres
    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_postgresql_reads_it_and_dispatch_ends_it_dead(self, number: Any) -> None:
        tenant = postgres.fresh_tenant()
        service, _, _ = _with_two_customers(postgres.make_store(tenant=tenant))
        service.queue(Message(key="old", customer_id="ada", template="broadcast"))
        with postgres.engine().begin() as connection:
            connection.exec_driver_sql(
                "UPDATE custbond_outbox SET message = %(text)s"
                " WHERE tenant = %(tenant)s AND message_key = 'old'",
                {"text": _message_text(number, _T0_MICROS), "tenant": tenant},
            )

        reopened, _, notifier = _service(postgres.make_store(tenant=tenant))
        (item,) = reopened.outbox()
        results = reopened.dispatch()

        assert item.message.context["text"] == number
        assert [(result.key, result.status) for result in results] == [("old", MessageStatus.DEAD)]
        assert notifier.sent == []


class TestProfilesAndEventsKeptBefore:
    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_a_customer_saved_with_a_preference_too_long_is_read_and_served(
        self, place: _Place, number: Any
    ) -> None:
        writer, _, _ = _service(place.open())
        writer.save_customer(_old_customer(number))
        service, clock, _ = _service(place.open())
        clock.advance(timedelta(hours=1))

        outcome = service.record(_purchase("o-1", clock.now()))

        assert service.customer("ada").preferences == {"n": number}
        assert outcome.points == 5

    @pytest.mark.parametrize("number", KEPT_BEFORE)
    def test_a_log_with_such_values_is_read_and_replays_into_the_same_state(
        self, place: _Place, other_place: _Place, number: Any
    ) -> None:
        writer, clock, _ = _service(place.open())
        writer.save_customer(_old_customer(number))
        writer.record(_old_event(number))
        writer.record(_purchase("o-1", clock.now()))
        service, _, _ = _service(place.open())

        log = list(service.log())
        again, _, _ = _service(other_place.open())
        outcomes = again.replay(log)

        assert [record.outcome for record in log] == outcomes
        assert again.customer("ada") == service.customer("ada")
        kept = log[1].input
        assert isinstance(kept, CustomEvent)
        assert kept.attributes == {"big": number, "small": 1}

    def test_a_customer_with_such_values_can_be_forgotten(self, place: _Place) -> None:
        writer, _, _ = _service(place.open())
        writer.save_customer(_old_customer(10**1500))
        writer.record(_old_event(Decimal("1E+999999999")))
        service, _, _ = _service(place.open())

        assert service.forget("ada", pseudonym="erased-1") is True

        assert service.customer("erased-1").preferences == {}
        assert all("ada" not in repr(record.input) for record in service.log())


class TestNewInputIsStillBounded:
    def test_a_number_too_long_is_refused_in_new_values_once_old_ones_were_read(
        self, place: _Place
    ) -> None:
        writer, _, _ = _with_two_customers(place.open())
        writer.queue(_old_message(10**1500))
        service, clock, _ = _service(place.open())
        before = service.outbox()

        with pytest.raises(InvalidInput, match=r"^context\['text'\] must be an int of at most"):
            Message(key="k", customer_id="ada", template="broadcast", context={"text": 10**1500})
        with pytest.raises(InvalidInput, match=r"^preferences\['n'\] must be an int of at most"):
            service.save_customer(Customer("ada", preferences={"n": 10**1500}))
        with pytest.raises(InvalidInput, match=r"^attributes\['n'\] must be a finite Decimal"):
            service.record(
                CustomEvent(
                    id="e-2",
                    customer_id="ada",
                    name="x",
                    at=clock.now(),
                    attributes={"n": Decimal("1E+1000")},
                )
            )
        assert service.outbox() == before
        assert service.customer("ada").preferences == {}

    def test_a_number_read_back_is_not_a_way_to_make_a_longer_one(self, place: _Place) -> None:
        writer, _, _ = _service(place.open())
        writer.save_customer(_old_customer(10**1500))
        service, _, _ = _service(place.open())
        kept = service.customer("ada").preferences["n"]

        with pytest.raises(InvalidInput, match=r"^preferences\['n'\] must be an int of at most"):
            Customer("bob", preferences={"n": kept * 10})
        with pytest.raises(InvalidInput, match=r"^preferences\['n'\] must be an int of at most"):
            Customer("bob", preferences={"n": int(str(kept))})


_TOO_LONG = st.one_of(
    st.integers(min_value=10**1000, max_value=10**4299),
    st.integers(min_value=-(10**4299), max_value=-(10**1000)),
    st.builds(
        Decimal,
        st.tuples(
            st.integers(0, 1),
            st.tuples(st.integers(0, 9)),
            st.one_of(st.integers(1000, 10**9), st.integers(-(10**9), -1001)),
        ),
    ),
)


class TestRowsOfValuesKeptBefore:
    @given(number=_TOO_LONG)
    def test_a_value_with_a_number_too_long_comes_back_from_its_row_equal(
        self, number: int | Decimal
    ) -> None:
        customer = _old_customer(number)
        event = _old_event(number)

        assert rows.value_from_row(rows.value_row(customer)) == customer
        assert rows.value_from_row(rows.value_row(event)) == event

    @given(number=_TOO_LONG)
    def test_a_queued_message_with_a_number_too_long_comes_back_from_its_row_equal(
        self, number: int | Decimal
    ) -> None:
        item = QueuedMessage.new(_old_message(number), T0)

        assert rows.queued_from_row(rows.queued_row(item)) == item
