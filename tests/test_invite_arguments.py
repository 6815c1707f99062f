"""invite() refuses ids it cannot use, before it invites anyone: a lone string (which
would be read letter by letter), something that is not a collection, an id that is not a
non-empty string; and an event that was used before with other content (the same id,
another date, name or audience) raises IdempotencyConflict and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Customer,
    FixedClock,
    IdempotencyConflict,
    InvalidInput,
    MembersEvent,
    MemoryStore,
    Program,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
NIGHT = MembersEvent(id="night", name="Colour night", at=datetime(2026, 2, 3, 18, tzinfo=UTC))


def _service(store: Store | None = None) -> RetentionService:
    service = RetentionService(
        Program(social=SocialPolicy()), store or MemoryStore(), clock=FixedClock(JAN_5)
    )
    for name in ("ben", "maya"):
        service.save_customer(Customer(name, email=f"{name}@example.org"))
        service.set_consent(name, "email", granted=True, source="salon", key=f"consent-{name}")
    return service


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest) -> RetentionService:
    make_store: Callable[[], Store] = request.param
    return _service(make_store())


def _invitations(service: RetentionService) -> list[dict[str, Any]]:
    return [
        dict(item.message.context)
        for item in service.outbox()
        if item.message.template == "invitation"
    ]


def _log_size(service: RetentionService) -> int:
    return sum(1 for _ in service.log())


class TestIdsThatCannotBeUsed:
    def test_a_lone_string_is_refused_not_read_letter_by_letter(
        self, service: RetentionService
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            service.invite(NIGHT, "maya")

        assert ("customer_ids", "maya") == (raised.value.field, raised.value.value)
        assert "not a string" in raised.value.expected
        assert [] == _invitations(service)

    @pytest.mark.parametrize(
        ("ids", "field", "value"),
        [
            (b"maya", "customer_ids", b"maya"),
            (7, "customer_ids", 7),
            ([1, "maya"], "customer_id", 1),
            (["maya", ""], "customer_id", ""),
            (["maya", "zoe "], "customer_id", "zoe "),
            (["maya", None], "customer_id", None),
        ],
        ids=["bytes", "an-int", "an-int-id", "an-empty-id", "a-padded-id", "a-none-id"],
    )
    def test_ids_that_cannot_be_used_are_refused_before_anyone_is_invited(
        self, service: RetentionService, ids: Any, field: str, value: Any
    ) -> None:
        before = _log_size(service)

        with pytest.raises(InvalidInput) as raised:
            service.invite(NIGHT, ids)

        assert (field, value) == (raised.value.field, raised.value.value)
        assert ([], before) == (_invitations(service), _log_size(service))

    def test_ids_may_come_as_any_collection_and_twice(self, service: RetentionService) -> None:
        ids = iter(["maya", "ben", "maya"])

        assert ("ben", "maya") == service.invite(NIGHT, ids).invited


class TestAnEventChangedUnderTheSameId:
    @pytest.mark.parametrize(
        ("change", "fields"),
        [
            ({"at": NIGHT.at + timedelta(days=7)}, ("at",)),
            ({"name": "Colour evening"}, ("name",)),
            ({"tags": {"vip"}}, ("tags",)),
            ({"tiers": {"gold"}, "name": "Gold night"}, ("name", "tiers")),
        ],
        ids=["moved", "renamed", "for-vips", "for-gold-renamed"],
    )
    def test_raises_idempotency_conflict_naming_what_differs_and_changes_nothing(
        self, service: RetentionService, change: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        service.invite(NIGHT, ["maya"])
        before = (_invitations(service), _log_size(service))
        changed = attrs.evolve(NIGHT, **change)

        with pytest.raises(IdempotencyConflict) as raised:
            service.invite(changed)  # ben, never invited, is not invited either

        assert ("night", fields) == (raised.value.key, raised.value.fields)
        assert any("'maya'" in note for note in raised.value.__notes__)
        assert before == (_invitations(service), _log_size(service))
        assert [{"event": "Colour night", "when": "2026-02-03 18:00"}] == before[0]

    def test_the_same_event_in_another_time_zone_is_the_same_event(
        self, service: RetentionService
    ) -> None:
        service.invite(NIGHT, ["maya"])
        paris = MembersEvent(
            id="night", name="Colour night", at=NIGHT.at.astimezone(ZoneInfo("Europe/Paris"))
        )

        again = service.invite(paris)

        assert (("ben",), ("maya",)) == (again.invited, again.already)


@given(
    ids=st.lists(st.sampled_from(["maya", "ben", "zoe", 3, "", None]), max_size=5),
)
def test_invite_either_refuses_the_ids_and_changes_nothing_or_answers_for_each_once(
    ids: list[Any],
) -> None:
    service = _service()
    if not all(isinstance(item, str) and item for item in ids):
        with pytest.raises(InvalidInput) as raised:
            service.invite(NIGHT, ids)
        assert "customer_id" == raised.value.field
        assert [] == _invitations(service)
        return
    answer = service.invite(NIGHT, ids)
    reported = [*answer.invited, *answer.already, *answer.not_for, *answer.unknown]
    assert sorted(set(ids)) == sorted(reported)
