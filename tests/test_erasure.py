"""Erasure: service.forget() takes a customer's personal data out of every store, and
keeps their amounts under a pseudonym."""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import postgres
from custbond import (
    Appointment,
    Birthday,
    Cadence,
    Customer,
    CustomerState,
    CustomEvent,
    FixedClock,
    InvalidInput,
    LineItem,
    MemoryStore,
    Occasion,
    OccasionPolicy,
    Plan,
    PointsPerSpend,
    Preferences,
    Program,
    Purchase,
    Referral,
    RetentionService,
    Return,
    SocialPolicy,
    SQLiteStore,
    Store,
    StructuralPolicy,
    Visit,
)
from custbond import ledger as ledgers
from custbond._frozen import FrozenMap
from custbond.bonds.referrals import ReferralPolicy
from custbond.commands import CloseTask, Input, NotifyIncident, log_key
from custbond.effects import Effect, FinishTask, NoteSurvey, OpenTask, SetCase
from custbond.erasure import ERASED, Erasure
from custbond.events import ComplaintFiled, ComplaintResolved, SurveyResponse
from custbond.messaging import Message
from custbond.outcome import Outcome
from custbond.recovery.case import RecoveryCase
from custbond.recovery.compensation import Compensation
from custbond.storage._rowlog import RowLog
from custbond.storage._schema import TABLES
from custbond.tasks import Task
from custbond.vouchers import VoucherOffer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADA = Customer(
    "ada@example.com",  # hosts do use emails as ids
    name="Ada Lovelace",
    email="ada@example.com",
    phone="+44 20 7946 0958",
    time_zone="Europe/London",
    birthday=Birthday(12, 10),
    tags=frozenset({"vip"}),
    preferences={"milk": "oat"},
)
PERSONAL = ("Ada Lovelace", "ada@example.com", "+44 20 7946 0958", "Lovelace")
PROGRAM = Program(
    earn=PointsPerSpend(points=10),
    currency="GBP",
    referrals=ReferralPolicy(
        referrer_points=500,
        referee_points=200,
        referrer_gift=VoucherOffer("thank-you cake", sku="cake"),
    ),
)


def _memory(tmp_path: Path) -> Store:
    return MemoryStore()


def _sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "erasure.db")


def _postgres(tmp_path: Path) -> Store:
    return postgres.make_store()


STORES = [
    pytest.param(_memory, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_postgres, id="postgres", marks=pytest.mark.postgres),
]


class Shop:
    """Ada's history: a profile, purchases, a return, free text, a referral of Bea."""

    def __init__(self, store: Store) -> None:
        self.clock = FixedClock(T0)
        self.service = RetentionService(PROGRAM, store, self.clock)
        self.n = 0

    def at(self) -> datetime:
        self.clock.advance(timedelta(days=1))
        return self.clock.now()

    def buy(self, customer_id: str, amount: str, purchase_id: str | None = None) -> Purchase:
        self.n += 1
        purchase = Purchase(
            id=purchase_id or f"o-{self.n}",
            customer_id=customer_id,
            at=self.at(),
            amount=Decimal(amount),
            currency="GBP",
            items=(LineItem("scone", 1, Decimal(amount)),),
        )
        self.service.record(purchase)
        return purchase

    def ada_history(self) -> None:
        service = self.service
        service.save_customer(ADA)
        self.buy(ADA.id, "30.00", "o-ada-1")
        self.buy(ADA.id, "12.00", "o-ada-2")
        service.record(
            Return(
                id="ret-1",
                customer_id=ADA.id,
                at=self.at(),
                purchase_id="o-ada-2",
                amount=Decimal("12.00"),
            )
        )
        service.record(
            CustomEvent(
                id="ev-1",
                customer_id=ADA.id,
                at=self.at(),
                name="note",
                attributes={"said": "call Ada Lovelace on +44 20 7946 0958"},
            )
        )
        service.record(
            Visit(id="v-1", customer_id=ADA.id, at=self.at(), location="Ada Lovelace's flat")
        )
        self.n += 1
        # Values rules read (tags, channel, payment) keep a name, but not an email or
        # a phone number (tests/test_erasure_matching.py).
        service.record(
            Purchase(
                id="o-ada-3",
                customer_id=ADA.id,
                at=self.at(),
                amount=Decimal("4.00"),
                currency="GBP",
                items=(LineItem("card", 1, Decimal("4.00"), tags={"for ADA@EXAMPLE.COM"}),),
                channel="phone +44 20 7946 0958",
                payment="paypal ada@example.com",
            )
        )
        service.adjust(ADA.id, 5, reason="goodwill-for-Ada-Lovelace", key="adj-1")
        service.redeem(ADA.id, 50, key="red-1", reason="Lovelace-birthday-cake")
        service.hold(ADA.id, 20, key="hold-1", expires_at=self.at() + timedelta(days=1))
        service.capture("hold-1")
        service.record(Referral(id="ref-1", customer_id="bea", at=self.at(), referrer_id=ADA.id))
        self.buy("bea", "25.00")
        # Messaging: a consent, a queued message (its key made of the id, its context
        # naming her), and an appointment.
        service.set_consent(
            ADA.id, "email", granted=True, source="form filled in by Ada Lovelace", key="k-1"
        )
        service.queue(
            Message(
                key=f"note:{ADA.id}",
                customer_id=ADA.id,
                template="broadcast",
                context={"title": "For Ada Lovelace", "text": "call +44 20 7946 0958"},
            )
        )
        service.record(
            Appointment(
                id="ap-1",
                customer_id=ADA.id,
                at=self.at(),
                starts_at=self.at() + timedelta(days=2),
                service="a cut for Ada Lovelace",
            )
        )

    def ada_complaints(self) -> None:
        """A complaint in Ada's words naming her, its resolution, her survey comment, a
        task about her closed with what its owner wrote about her, an incident's notice
        (its log key made of her id): in her state, the log, the outcomes' effects and
        traces, and the tasks' table.

        Written through the store, as the service would: it keeps the values whatever
        decides them."""
        store = self.service.store
        filed_at, resolved_at = self.at(), self.at()
        words = "Ada Lovelace here: my scone was cold. Call me on +44 20 7946 0958."
        filed = ComplaintFiled(
            id="cmp-1",
            customer_id=ADA.id,
            at=filed_at,
            category="cold food",
            severity="high",
            channel="phone +44 20 7946 0958",
            about="o-ada-1",
            text=words,
        )
        case = RecoveryCase.open(
            id="cmp-1",
            category="cold food",
            severity="high",
            filed_at=filed_at,
            channel=filed.channel,
            about="o-ada-1",
            text=words,
        )
        resolution = "Sent Ada Lovelace a new scone and a voucher."
        given = Compensation("GBP", voucher=Decimal("5.00"))
        resolved = ComplaintResolved(
            id="res-1",
            customer_id=ADA.id,
            at=resolved_at,
            complaint_id="cmp-1",
            resolution=resolution,
            compensation=given,
            by="Sam",
        )
        # An acknowledgement's detail names who gave it: a host's words, which may name her.
        acknowledged = case.then(resolved_at, "acknowledged", f"by Sam for {ADA.name}")
        closed_case = attrs.evolve(
            acknowledged.then(resolved_at, "resolved", given.describe()),
            resolved_at=resolved_at,
            resolution=resolution,
            given=given,
        )
        answer = SurveyResponse(
            id="srv-1",
            customer_id=ADA.id,
            at=self.at(),
            scale="nps",
            score=3,
            comment="Still cold. Ada Lovelace",
            about="cmp-1",
        )
        task_key = "cmp-1:follow-up"  # as custbond makes it: of the complaint's id
        task = Task(
            key=task_key,
            customer_id=ADA.id,
            owner="customer care",
            due_at=self.at(),
            reason=f"call {ADA.name} ({ADA.phone}) about cmp-1",
            created_at=resolved_at,
            kind="follow_up",
            about="cmp-1",
        )
        result = "Spoke to Ada Lovelace: she is happy again."
        closed_at = self.at()
        done = attrs.evolve(task, closed_at=closed_at, result=result)
        incident = NotifyIncident(
            incident_id="inc-1",
            customer_id=ADA.id,
            at=self.at(),
            what="the ovens failed",
            severity="medium",
        )
        opened = OpenTask(task_key, task.owner, task.due_at, task.reason, task.kind, task.about)
        happened: list[tuple[Input, tuple[Effect, ...], str]] = [
            (filed, (SetCase(case),), f"complaint: {words}"),
            (resolved, (SetCase(closed_case), opened), f"resolved: {resolution}"),
            (answer, (NoteSurvey(answer),), f"survey: {answer.comment}"),
            (incident, (), f"incident inc-1 told to {ADA.id}"),
            (
                CloseTask(task_key=task_key, result=result),
                (FinishTask(task_key, closed_at, result),),
                f"closed: {result}",
            ),
        ]
        with store.unit_of_work() as uow:
            state = uow.load(ADA.id)
            assert state is not None
            state = attrs.evolve(state, cases=FrozenMap({"cmp-1": closed_case}), surveys=(answer,))
            uow.save(state, ())
            for item, effects, note in happened:
                key = log_key(item)
                balance = ledgers.balance(state.ledger, self.clock.now())
                outcome = Outcome(
                    ADA.id, None if key is None else key[1], self.clock.now(), effects, (note,),
                    (), balance,
                )  # fmt: skip
                uow.append(key, item, self.clock.now(), outcome)
            assert uow.add_task(task)
            uow.update_task(done)


def _strings(value: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Every string held anywhere inside ``value`` (a store's insides)."""
    seen = set() if seen is None else seen
    if isinstance(value, str):
        yield value
        return
    if id(value) in seen or isinstance(value, int | float | Decimal | datetime | array):
        return
    seen.add(id(value))
    if isinstance(value, dict | FrozenMap):
        for key, item in value.items():
            yield from _strings(key, seen)
            yield from _strings(item, seen)
    elif isinstance(value, list | tuple | set | frozenset | RowLog):
        for item in value:
            yield from _strings(item, seen)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _strings(getattr(value, field.name), seen)
    elif hasattr(value, "__dict__"):
        yield from _strings(vars(value), seen)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            yield from _strings(getattr(value, name, None), seen)


def _everything(store: Store) -> list[str]:
    """Every text a store keeps: each table's every value, or the memory store's insides."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as connection:
            return [
                str(value)
                for table in TABLES
                for row in connection.execute(f"SELECT * FROM {table}")
                for value in row
            ]
    if isinstance(store, MemoryStore):
        return list(_strings(vars(store)))
    import sqlalchemy  # noqa: PLC0415 - only with the postgres extra

    found = []
    with store.engine.connect() as connection:  # type: ignore[attr-defined]
        for table in TABLES:  # this store's tenant's rows (other tests share the tables)
            where = "" if table == "custbond_schema" else " WHERE tenant = :tenant"
            rows = connection.execute(
                sqlalchemy.text(f"SELECT * FROM {table}{where}"),
                {"tenant": store.tenant},  # type: ignore[attr-defined]
            )
            found.extend(str(value) for row in rows for value in row)
    return found


def _found(store: Store, needle: str) -> list[str]:
    return [text for value in _everything(store) for text in _decoded(value) if needle in text]


def _decoded(text: str) -> Iterator[str]:
    """``text``, and if it is JSON (a database store's rows), every string inside it."""
    yield text
    if text[:1] in ("[", "{"):
        with suppress(ValueError):
            yield from _json_strings(json.loads(text))


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)


@pytest.fixture(params=STORES)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Shop:
    make: Callable[[Path], Store] = request.param
    return Shop(make(tmp_path))


class TestForget:
    def test_nothing_personal_is_left_in_any_table(self, shop: Shop) -> None:
        shop.ada_history()
        shop.ada_complaints()
        for needle in (*PERSONAL, "scone was cold", "a new scone", "Still cold", "happy again"):
            assert _found(shop.service.store, needle), f"{needle!r} was there to begin with"

        assert shop.service.forget(ADA.id) is True

        for needle in (*PERSONAL, "scone was cold", "a new scone", "Still cold", "happy again"):
            assert [] == _found(shop.service.store, needle)

    def test_the_amounts_stay_under_the_pseudonym(self, shop: Shop) -> None:
        shop.ada_history()
        before = shop.service.balance(ADA.id)
        statement = shop.service.statement(ADA.id)

        shop.service.forget(ADA.id, pseudonym="erased-1")

        assert before == shop.service.balance("erased-1")
        kept = shop.service.statement("erased-1")
        assert [(e.kind, e.points, e.at) for e in statement] == [
            (e.kind, e.points, e.at) for e in kept
        ]
        assert {ERASED} == {e.reason for e in kept if e.kind.value in ("adjusted", "redeemed")}
        assert Customer("erased-1") == shop.service.customer("erased-1")

    def test_the_old_id_is_gone_and_a_second_call_changes_nothing(self, shop: Shop) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")
        everything = _everything(shop.service.store)

        assert shop.service.forget(ADA.id) is False
        assert everything == _everything(shop.service.store)
        assert shop.service.forget("never-seen") is False

    def test_a_pseudonym_forgotten_again_loses_what_came_since_and_keeps_its_id(
        self, shop: Shop
    ) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")
        balance = shop.service.balance("erased-1")
        shop.service.record(
            CustomEvent(
                id="note-1",
                customer_id="erased-1",
                at=shop.clock.now(),
                name="till note",
                attributes={"said": "call Ada Lovelace back"},
            )
        )
        assert _found(shop.service.store, "call Ada Lovelace back")

        assert shop.service.forget("erased-1") is True

        assert not _found(shop.service.store, "call Ada Lovelace back")
        assert shop.service.balance("erased-1") == balance  # the host's pseudonym still finds it

    def test_a_profile_cannot_be_saved_back_onto_a_pseudonym(self, shop: Shop) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")
        everything = _everything(shop.service.store)

        with pytest.raises(InvalidInput, match="not erased") as raised:
            shop.service.save_customer(attrs.evolve(ADA, id="erased-1"))

        assert raised.value.field == "customer.id"
        assert everything == _everything(shop.service.store)

    def test_complaints_surveys_and_tasks_keep_their_facts_under_the_pseudonym(
        self, shop: Shop
    ) -> None:
        shop.ada_history()
        shop.ada_complaints()

        shop.service.forget(ADA.id, pseudonym="erased-1")

        with shop.service.store.unit_of_work(write=False) as uow:
            state = uow.load("erased-1")
            tasks = list(uow.tasks(customer_id="erased-1", open_only=False))
            notice = uow.logged(("incident", json.dumps(["inc-1", "erased-1"])))
            old_notice = uow.logged(("incident", json.dumps(["inc-1", ADA.id])))
            closing = uow.logged(("close_task", "cmp-1:follow-up"))
        assert state is not None
        case = state.cases["cmp-1"]
        assert (ERASED, ERASED, "high", "resolved") == (
            case.text, case.resolution, case.severity, case.status,
        )  # fmt: skip
        assert Compensation("GBP", voucher=Decimal("5.00")) == case.given
        assert ["by Sam for erased", case.given.describe()] == [
            step.detail for step in case.timeline[-2:]
        ]
        [answer] = state.surveys
        assert ("erased-1", ERASED, 3) == (answer.customer_id, answer.comment, answer.score)
        [task] = tasks
        assert ("cmp-1:follow-up", "erased-1", ERASED) == (  # keys of event ids stay
            task.key,
            task.customer_id,
            task.result,
        )
        assert "call erased (erased) about cmp-1" == task.reason
        assert old_notice is None
        assert notice is not None
        assert closing is not None
        assert isinstance(notice.input, NotifyIncident)
        assert ("erased-1", json.dumps(["inc-1", "erased-1"])) == (
            notice.input.customer_id, notice.outcome.key,
        )  # fmt: skip
        assert CloseTask(task_key="cmp-1:follow-up", result=ERASED) == closing.input
        logged = {
            type(r.input): r for r in shop.service.log() if r.outcome.customer_id == "erased-1"
        }
        filed = logged[ComplaintFiled]
        assert isinstance(filed.input, ComplaintFiled)
        assert (ERASED, "phone erased") == (filed.input.text, filed.input.channel)
        assert [f"complaint: {ERASED}"] == [step.text for step in filed.outcome.trace]
        resolved = logged[ComplaintResolved]
        assert isinstance(resolved.input, ComplaintResolved)
        assert ERASED == resolved.input.resolution
        set_case, opened = resolved.outcome.effects
        assert isinstance(set_case, SetCase)
        assert isinstance(opened, OpenTask)
        assert (ERASED, "cmp-1:follow-up") == (set_case.case.resolution, opened.key)

    def test_who_the_customer_referred_names_the_pseudonym(self, shop: Shop) -> None:
        shop.ada_history()

        shop.service.forget(ADA.id, pseudonym="erased-1")

        referral = next(r.input for r in shop.service.log() if isinstance(r.input, Referral))
        assert "erased-1" == referral.referrer_id
        with shop.service.store.unit_of_work(write=False) as uow:
            bea = uow.load("bea")
        assert bea is not None
        assert "erased-1" == bea.referred_by

    def test_the_log_is_erased_too(self, shop: Shop) -> None:
        shop.ada_history()

        shop.service.forget(ADA.id, pseudonym="erased-1")

        records = list(shop.service.log())
        mine = [r for r in records if r.outcome.customer_id == "erased-1"]
        # profile, 3 purchases, return, note, visit, adjust, redeem, hold, capture,
        # consent, appointment
        assert len(mine) == 13
        note = next(r.input for r in mine if isinstance(r.input, CustomEvent))
        assert {} == note.attributes
        assert all(not step.values for r in mine for step in r.outcome.trace)

    def test_an_event_delivered_again_returns_its_erased_outcome(self, shop: Shop) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")
        first = next(r for r in shop.service.log() if r.key == ("event", "o-ada-1"))
        assert isinstance(first.input, Purchase)
        again = attrs.evolve(first.input, customer_id=ADA.id)

        assert first.outcome == shop.service.record(again)
        assert [] == _found(shop.service.store, ADA.id)

    def test_a_new_event_for_the_old_id_starts_a_new_customer(self, shop: Shop) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")

        shop.buy(ADA.id, "10.00")

        assert 100 == shop.service.balance(ADA.id).available

    def test_a_pseudonym_must_be_new(self, shop: Shop) -> None:
        shop.ada_history()

        shop.service.forget("bea", pseudonym="erased-bea")
        with pytest.raises(InvalidInput) as unmarked:
            shop.service.forget(ADA.id, pseudonym="ada-2")
        with pytest.raises(InvalidInput) as taken:
            shop.service.forget(ADA.id, pseudonym="erased-bea")

        assert ("pseudonym", "pseudonym") == (unmarked.value.field, taken.value.field)
        assert "Ada Lovelace" == shop.service.customer(ADA.id).name

    def test_the_erased_log_replays_to_the_same_state_but_voucher_codes(self, shop: Shop) -> None:
        shop.ada_history()
        shop.service.forget(ADA.id, pseudonym="erased-1")
        fresh = RetentionService(PROGRAM, MemoryStore(), FixedClock(T0))

        fresh.replay(shop.service.log())

        with shop.service.store.unit_of_work() as mine, fresh.store.unit_of_work() as theirs:
            for customer_id in ("erased-1", "bea"):
                kept, replayed = mine.load(customer_id), theirs.load(customer_id)
                assert kept is not None
                assert replayed is not None
                # A voucher's code is made from its customer's id, which is now another.
                assert _without_codes(kept) == _without_codes(replayed)


def _without_codes(state: CustomerState) -> tuple[Any, ...]:
    vouchers = sorted(
        attrs.astuple(attrs.evolve(voucher, code="-"), recurse=False)
        for voucher in state.vouchers.values()
    )
    return (attrs.evolve(state, vouchers=FrozenMap()), vouchers)


class TestErasureValues:
    def test_another_customers_values_are_left_alone(self) -> None:
        erasure = Erasure("ada", "erased-1")
        bea = Customer("bea", name="Bea")

        assert bea is erasure.customer(bea)
        purchase = Purchase(id="o-1", customer_id="bea", at=T0, amount=Decimal(1), currency="GBP")
        assert purchase is erasure.input(purchase)
        task = Task(
            key="t-1", customer_id="bea", owner="sam", due_at=T0, reason="call", created_at=T0
        )
        assert task is erasure.task(task)

    def test_free_text_that_was_never_given_stays_none(self) -> None:
        erasure = Erasure("ada", "erased-1", ("Ada",))
        filed = ComplaintFiled(id="c", customer_id="ada", at=T0, category="x", severity="low")
        case = RecoveryCase.open(id="c", category="x", severity="low", filed_at=T0)
        answer = SurveyResponse(id="s", customer_id="ada", at=T0, scale="csat", score=2)

        assert attrs.evolve(filed, customer_id="erased-1") == erasure.input(filed)
        assert case == erasure.case(case)
        assert attrs.evolve(answer, customer_id="erased-1") == erasure.survey(answer)

    def test_an_incidents_notice_of_another_customer_keeps_its_key(self) -> None:
        erasure = Erasure("ada", "erased-1")
        notice = NotifyIncident(
            incident_id="inc-1", customer_id="bea", at=T0, what="outage", severity="low"
        )

        assert notice is erasure.input(notice)


class TestAnotherConnection:
    def test_a_store_that_read_the_customer_before_never_gives_back_the_erased_state(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "two.db"
        with SQLiteStore(path) as first, SQLiteStore(path) as second:
            one, two = Shop(first), Shop(second)
            one.service.save_customer(ADA)
            one.buy(ADA.id, "50.00")
            assert "Ada Lovelace" == two.service.customer(ADA.id).name  # kept by the second

            one.service.forget(ADA.id)
            one.buy(ADA.id, "1.00")  # the id again, a new customer: its row starts anew
            one.buy(ADA.id, "1.00")

            assert two.service.customer(ADA.id).name is None
            assert 20 == two.service.balance(ADA.id).available


ZOE = Customer("zoë@example.com", name="Zoë Brontë", email="zoë@example.com", phone="+33 1 23")


class TestWhatEarlierStepsMissed:
    def test_an_id_and_a_name_beyond_ascii_are_erased_everywhere(self, shop: Shop) -> None:
        shop.service.save_customer(ZOE)
        shop.buy(ZOE.id, "10.00")
        shop.service.record(
            Referral(id="ref-z", customer_id="bea", at=shop.at(), referrer_id=ZOE.id)
        )
        shop.buy("bea", "25.00")
        assert _found(shop.service.store, "Zoë Brontë")

        shop.service.forget(ZOE.id)

        for needle in ("Zoë Brontë", ZOE.id, "+33 1 23"):
            assert [] == _found(shop.service.store, needle)
        with shop.service.store.unit_of_work(write=False) as uow:
            bea = uow.load("bea")
        assert bea is not None
        assert bea.referred_by is not None
        assert bea.referred_by.startswith("erased-")

    def test_a_referrers_gift_does_not_name_the_referee(self, shop: Shop) -> None:
        shop.buy("ada", "5.00")
        referee = "bea@example.org"
        shop.service.record(
            Referral(id="ref-b", customer_id=referee, at=shop.at(), referrer_id="ada")
        )
        shop.buy(referee, "25.00")
        assert [v.name for v in shop.service.vouchers("ada")] == ["thank-you cake"]

        shop.service.forget(referee)

        assert [] == _found(shop.service.store, referee)

    def test_a_keyed_profile_and_a_referral_sent_again_after_an_erasure_are_repeats(
        self, shop: Shop
    ) -> None:
        shop.service.save_customer(ADA, key="save-1")
        referral = Referral(id="ref-1", customer_id="bea", at=shop.at(), referrer_id=ADA.id)
        first = shop.service.record(referral)

        shop.service.forget(ADA.id)

        assert Customer(ADA.id) != shop.service.save_customer(ADA, key="save-1")  # no new one
        assert first.customer_id == shop.service.record(referral).customer_id
        assert shop.service.forget(ADA.id) is False


class TestWhatTheBondsHold:
    """Preferences, a wish's note, a reason for cancelling: the customer's own words,
    gone with them; the products, plans, dates and occasions' labels stay."""

    WORDS = ("analytical engines", "for Lovelace's mother", "moving to Byron's")

    def _bonded(self, shop: Shop) -> RetentionService:
        program = attrs.evolve(
            PROGRAM,
            social=SocialPolicy(default_owner="Sam", occasions=OccasionPolicy()),
            structure=StructuralPolicy(
                plans=[Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")]
            ),
        )
        service = RetentionService(program, shop.service.store, shop.clock)
        shop.service = service
        shop.ada_history()
        service.set_preferences(
            ADA.id, Preferences(restrictions={"nut-free"}, industry=self.WORDS[0]), key="p-1"
        )
        service.add_wish(ADA.id, "cake", key="w-1", note=self.WORDS[1])
        service.subscribe(ADA.id, "box", key="s-1")
        service.cancel_subscription(ADA.id, "box", key="s-2", reason=self.WORDS[2])
        service.add_occasion(ADA.id, Occasion(name="first lecture", month=12, day=10), key="o-1")
        return service

    def test_their_words_are_gone_from_every_table(self, shop: Shop) -> None:
        service = self._bonded(shop)
        for needle in self.WORDS:
            assert _found(service.store, needle), f"{needle!r} was there to begin with"
        assert service.forget(ADA.id, pseudonym="erased-9")
        for needle in (*self.WORDS, *PERSONAL):
            assert [] == _found(service.store, needle), needle
        held = service.subscriptions("erased-9")
        assert held["box"].cancel_reason == "erased"
        assert service.wish_list("erased-9")[0].sku == "cake"

    def test_the_erased_log_replays_to_what_the_bonds_hold(self, shop: Shop) -> None:
        service = self._bonded(shop)
        service.forget(ADA.id, pseudonym="erased-9")
        fresh = RetentionService(service.program, MemoryStore(), FixedClock(T0))
        fresh.replay(service.log())
        with service.store.unit_of_work() as mine, fresh.store.unit_of_work() as theirs:
            kept, replayed = mine.load("erased-9"), theirs.load("erased-9")
            assert kept is not None
            assert replayed is not None
            assert kept.held == replayed.held
            assert kept.schedule == replayed.schedule


class TestTasksMadeOfTheCustomersId:
    """Keep-in-touch, occasion and review tasks have keys made of the customer's id (an
    email address, here): erasure renames them, and the erased log replays to them."""

    def test_no_task_key_names_the_customer_after_forget(self, shop: Shop) -> None:
        program = attrs.evolve(
            PROGRAM,
            social=SocialPolicy(
                default_owner="Sam",
                cadence=Cadence(every=timedelta(days=30)),
                occasions=OccasionPolicy(),
            ),
        )
        service = RetentionService(program, shop.service.store, shop.clock)
        shop.service = service
        shop.ada_history()
        shop.clock.advance(timedelta(days=400))
        service.run_due()
        mine = [task for task in service.tasks("Sam") if task.customer_id == ADA.id]
        assert mine
        assert any(ADA.id in task.key for task in mine)
        first = mine[0]
        service.close_task(first.key, "spoke to her")
        service.forget(ADA.id, pseudonym="erased-7")
        assert [] == _found(service.store, ADA.id)
        renamed = first.key.replace(ADA.id, "erased-7")
        assert service.close_task(renamed, "spoke to her").customer_id == "erased-7"  # a repeat
        fresh = RetentionService(program, MemoryStore(), FixedClock(T0))
        fresh.replay(service.log())
        kept = sorted(task.key for task in service.tasks("Sam", open_only=False))
        replayed = sorted(task.key for task in fresh.tasks("Sam", open_only=False))
        # All but her birthday's: the birthday went with the profile, so a replay has none.
        assert [key for key in kept if "erased-7" in key and "birthday" not in key] == [
            key for key in replayed if "erased-7" in key
        ]
