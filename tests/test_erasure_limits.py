"""forget()'s former known limits: an erased customer's message keys (the id renamed
wherever it appears; another customer's keys left alone), the memory store's outbox
rewritten only where the erased customer's messages are, and a second forget() of a
pseudonym erasing what an earlier erasure left of the free text while changing nothing
else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from custbond import (
    Customer,
    FixedClock,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Store,
)
from custbond.bonds.occasions import Occasion, OccasionPolicy
from custbond.bonds.social import SocialPolicy
from custbond.customers import Birthday
from custbond.erasure import ERASED, Erasure
from custbond.messaging.message import Message, message_key
from custbond.messaging.occasions import Greeting
from custbond.messaging.policy import MessagingPolicy
from custbond.testing.contract import store_machine
from test_erasure import STORES

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
ANN = Customer("ann", name="Ann Lee", email="ann@example.com")
ANNA = Customer("anna", name="Anna Berg", email="anna@example.com")


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> RetentionService:
    make: Callable[[Path], Store] = request.param
    return RetentionService(Program(), make(tmp_path), FixedClock(T0))


# -- message keys: the id renamed wherever it appears ------------------------------------

# Parts and ids of a few letters, so that one is often a part of another ("an", "ann").
_PARTS = st.text(alphabet="an-:%", min_size=1, max_size=4)
_IDS = st.text(alphabet="an-", min_size=1, max_size=3)


class TestMessageKeysAfterForget:
    @given(customer_id=_IDS, parts=st.lists(_PARTS | _IDS, min_size=1, max_size=4))
    @example(customer_id="ann", parts=["gift", "anna", "ann"])
    def test_a_host_key_keeps_nothing_of_the_id(self, customer_id: str, parts: list[str]) -> None:
        # A host's key may name the customer in any way, not only as a whole part.
        key = message_key(*parts)

        erased = Erasure(customer_id, "erased-1").key(key)

        if customer_id in key:
            assert key != erased
        if "erased-1" not in erased:
            assert customer_id not in erased

    def test_the_erased_customers_keys_lose_the_id_even_inside_a_longer_word_on_every_store(
        self, service: RetentionService
    ) -> None:
        service.save_customer(ANN)
        service.save_customer(ANNA)
        service.queue(Message(key="receipt-ann-7", customer_id="ann", template="welcome"))
        service.broadcast("anna", "welcome", kind="transactional")

        service.forget("ann", pseudonym="erased-1")

        mine = sorted(item.key for item in service.outbox(customer_id="erased-1"))
        theirs = sorted(item.key for item in service.outbox(customer_id="anna"))
        assert ["custbond:erased-1a:erased-1", "receipt-erased-1-7"] == mine
        assert ["custbond:anna:anna"] == theirs  # another customer's keys are left alone


# -- the memory store's outbox: only the erased customer's messages ----------------------


class _Unscannable(dict[str, Any]):
    """The memory store's outbox, refusing to be walked: erasure must reach the erased
    customer's messages by their keys, not by going through everyone's."""

    def _walked(self, *args: object) -> Any:
        raise AssertionError("forget() walked every customer's messages")

    __iter__ = items = keys = values = copy = _walked


class TestMemoryStoreForgetsOnlyTheCustomersMessages:
    def test_forget_reaches_the_customers_messages_by_key_and_leaves_the_rest(self) -> None:
        store = MemoryStore()
        service = RetentionService(Program(), store, FixedClock(T0))
        for customer in (ANN, ANNA):
            service.save_customer(customer)
        for n in range(3):
            for customer in (ANN, ANNA):
                later = T0 + timedelta(days=n + 1)
                service.queue(
                    Message(
                        key=message_key("note", customer.id, str(n)),
                        customer_id=customer.id,
                        template="welcome",
                        not_before=later,
                    )
                )
        theirs = service.outbox(customer_id="anna")
        store._outbox = _Unscannable(store._outbox)

        service.forget("ann", pseudonym="erased-1")

        store._outbox = dict(dict.items(store._outbox))
        assert theirs == service.outbox(customer_id="anna")
        assert [message_key("note", "erased-1", str(n)) for n in range(3)] == [
            item.key for item in service.outbox(customer_id="erased-1")
        ]
        assert not service.outbox(customer_id="ann")
        with store.unit_of_work(write=False) as uow:  # the erased ones are never sent
            due = uow.due_messages(T0 + timedelta(days=5), 10)
        assert [item.key for item in theirs] == [item.key for item in due]


# -- the store contract's machine catches a forget() that is subtly wrong -----------------


class _NamesLeftInTasks(MemoryStore):
    """Renames the erased customer's tasks but leaves their names in what a task says."""

    def _forget_tasks(self, erasure: Erasure) -> None:
        super()._forget_tasks(attrs.evolve(erasure, redact=()))


class _ForgetsByPrefix(MemoryStore):
    """Finds the erased customer's profile as ``customer_id LIKE 'c-1%'`` would: the
    profile of customer "c-10" is erased too."""

    def _forget(self, erasure: Erasure) -> None:
        old = erasure.customer_id
        for other in [key for key in self._customers if key != old and key.startswith(old)]:
            self._customers[other] = Customer(other)
        super()._forget(erasure)


class _SecondForgetDropsMessages(MemoryStore):
    """Moves the customer's messages to the pseudonym, then drops what is listed under
    the old id: right the first time, and a second forget() of the pseudonym loses them
    from ``messages_of``."""

    def _forget(self, erasure: Erasure) -> None:
        super()._forget(erasure)
        self._messages_of.pop(erasure.customer_id, None)


class TestTheMachineFindsAWrongForget:
    @pytest.mark.parametrize(
        ("make_store", "found"),
        [
            (_NamesLeftInTasks, r"task\(|tasks\("),
            (_ForgetsByPrefix, r"load\("),
            (_SecondForgetDropsMessages, r"messages_of\("),
        ],
        ids=["names-left-in-tasks", "another-customers-profile", "second-forget"],
    )
    def test_a_store_whose_forget_is_wrong_fails_the_machine(
        self, make_store: Callable[[], Store], found: str
    ) -> None:
        machine = store_machine(make_store)
        quick = settings(machine.TestCase.settings, phases=[Phase.generate])  # no shrinking

        with pytest.raises(AssertionError, match=found):
            run_state_machine_as_test(machine, settings=quick)


# -- when an erased customer is next due --------------------------------------------------


class TestAnErasedCustomersNextDueTime:
    def test_a_customer_whose_birthday_was_next_is_not_listed_as_due_on_it(
        self, store_factory: Callable[[Path], Store], tmp_path: Path
    ) -> None:
        store = store_factory(tmp_path)
        program = Program(messaging=MessagingPolicy(birthday=Greeting()))
        service = RetentionService(program, store, FixedClock(T0))
        service.save_customer(attrs.evolve(ANN, birthday=Birthday(4, 10)))
        with store.unit_of_work(write=False) as uow:
            assert ["ann"] == list(uow.due(datetime(2026, 4, 10, 9, tzinfo=UTC)))

        service.forget("ann", pseudonym="erased-1")

        with store.unit_of_work(write=False) as uow:
            erased = uow.load("erased-1")
            due = list(uow.due(datetime(2027, 12, 31, tzinfo=UTC)))
        assert erased is not None
        assert (None, []) == (erased.next_due_at, due)


@pytest.fixture(params=STORES)
def store_factory(request: pytest.FixtureRequest) -> Callable[[Path], Store]:
    make: Callable[[Path], Store] = request.param
    return make


# -- forget() of a pseudonym: what an earlier erasure left of free text goes ---------------

# Where a consent came from, as erasure before this release left it: the customer's
# details taken out of the text, the rest of it kept (now the whole source goes).
_HALF_ERASED = "double opt-in by erased at 12 Rose Street"


def _snapshot(store: Store) -> str:
    """Everything the port gives back, as text: states, statements, log, records,
    outbox and tasks."""
    with store.unit_of_work(write=False) as uow:
        found: list[object] = [list(uow.log()), list(uow.outbox())]
        found.append(list(uow.tasks(open_only=False)))
        found.extend(
            (customer_id, uow.load(customer_id), list(uow.entries(customer_id)))
            for customer_id in uow.customer_ids()
        )
        found.append(uow.purchase("o-1"))
    return repr(found)


def _ann_history(service: RetentionService) -> None:
    service.save_customer(ANN)
    service.set_consent("ann", "email", granted=True, source="signup by Ann Lee", key="k-1")
    service.record(
        Purchase(id="o-1", customer_id="ann", at=T0, amount=Decimal("12.00"), currency="USD")
    )
    service.queue(Message(key=message_key("note", "ann"), customer_id="ann", template="welcome"))


class TestForgettingAPseudonymAgain:
    def test_a_consent_source_an_earlier_erasure_left_half_erased_goes_whole(
        self, service: RetentionService
    ) -> None:
        _ann_history(service)
        service.forget("ann", pseudonym="erased-1")
        # What an earlier release's erasure left of a consent: its source half erased.
        service.set_consent("erased-1", "sms", granted=True, source=_HALF_ERASED, key="k-2")
        before = _snapshot(service.store)
        assert _HALF_ERASED in before

        assert service.forget("erased-1") is True

        after = _snapshot(service.store)
        assert before.replace(_HALF_ERASED, ERASED) == after  # and nothing else changed
        with service.store.unit_of_work(write=False) as uow:
            state = uow.load("erased-1")
        assert state is not None
        assert {ERASED} == {consent.source for consent in state.consents.values()}

    def test_forgetting_a_pseudonym_with_nothing_recorded_since_changes_nothing(
        self, service: RetentionService
    ) -> None:
        _ann_history(service)
        service.forget("ann", pseudonym="erased-1")
        before = _snapshot(service.store)

        assert service.forget("erased-1") is True
        assert service.forget("erased-1") is True

        assert before == _snapshot(service.store)
        assert service.forget("ann") is False  # the old id is no one's now


# -- an occasion's task: its key names the occasion ----------------------------------------


class TestAnOccasionTaskAfterForget:
    def test_its_key_loses_the_name_in_the_occasions_label_as_a_replay_makes_it(
        self, service: RetentionService
    ) -> None:
        social = SocialPolicy(
            default_owner="sam", occasions=OccasionPolicy(birthday=False, first_purchase=False)
        )
        service = RetentionService(Program(social=social), service.store, service.clock)
        service.save_customer(Customer("ann", name="Annabel Zed"))
        service.add_occasion(
            "ann", Occasion(name="Annabel Zed wedding", month=4, day=20), key="o-1"
        )
        service.clock.set(datetime(2026, 4, 19, 12, tzinfo=UTC))  # type: ignore[attr-defined]
        service.run_due()

        service.forget("ann", pseudonym="erased-1")

        with service.store.unit_of_work(write=False) as uow:
            [task] = uow.tasks(customer_id="erased-1", open_only=False)
            log = repr(list(uow.log()))
        label = "occasion:custom:erased wedding"
        assert message_key("occasion", "erased-1", label, "20260420T090000") == task.key
        assert "personal occasion: erased wedding on 2026-04-20" == task.reason
        assert "Annabel" not in log
