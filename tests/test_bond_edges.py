"""Edges of the social, customization and structural bonds found in review: each test
is a case that once went wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import attrs

from custbond import (
    Birthday,
    Customer,
    CustomizationPolicy,
    FixedClock,
    LineItem,
    MembersEvent,
    MemoryStore,
    MessagingPolicy,
    Occasion,
    OccasionPolicy,
    Plan,
    Program,
    Purchase,
    RetentionService,
    Sequence,
    SequenceStep,
    SocialPolicy,
    StructuralPolicy,
)
from test_structural import TEMPLATES  # the defaults, and the box's reminder

T0 = datetime(2026, 5, 8, 7, tzinfo=UTC)


def _service(program: Program, at: datetime = T0) -> RetentionService:
    return RetentionService(program, MemoryStore(), FixedClock(at))


def _buy(service: RetentionService, order: str, customer: str = "c") -> None:
    service.record(
        Purchase(
            id=order,
            customer_id=customer,
            at=service.clock.now(),
            amount=Decimal("5.00"),
            currency="USD",
            items=(LineItem(sku="pie", quantity=1, unit_price=Decimal("5.00")),),
        )
    )


def _onboarding(steps: int) -> Program:
    sequence = Sequence(
        name="onboard",
        on="Purchase",
        steps=[
            SequenceStep(after=timedelta(days=day), template="welcome") for day in range(steps)
        ],
    )
    return Program(structure=StructuralPolicy(sequences=[sequence]))


def test_a_sequence_entered_on_a_purchase_sends_its_first_step_with_it() -> None:
    service = _service(_onboarding(1))
    service.set_consent("c", "email", granted=True, source="form", key="consent")
    _buy(service, "p-1")
    assert [q.message.key for q in service.outbox()] == ["custbond:sequence:onboard:c:0"]


def test_a_customer_past_steps_the_program_dropped_can_still_buy() -> None:
    service = _service(_onboarding(2))
    _buy(service, "p-1")
    service.clock.set(T0 + timedelta(days=2))  # type: ignore[attr-defined]
    service.run_due()
    shorter = RetentionService(_onboarding(1), service.store, service.clock)
    _buy(shorter, "p-2")
    assert shorter.bond_profile("c").structural.score == 0
    assert shorter.run_due() == []


def test_a_subscription_to_a_plan_no_longer_offered_can_be_cancelled() -> None:
    box = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")
    service = _service(Program(structure=StructuralPolicy(plans=[box])))
    service.subscribe("c", "box", key="sub")
    withdrawn = RetentionService(Program(), service.store, service.clock)
    withdrawn.cancel_subscription("c", "box", key="cancel", reason="the box is gone")
    assert withdrawn.subscriptions("c")["box"].status == "cancelled"
    assert withdrawn.bond_profile("c").structural.score == 0


def test_the_first_purchase_is_no_anniversary_of_itself() -> None:
    social = SocialPolicy(default_owner="sam", occasions=OccasionPolicy(at=time(9)))
    service = _service(Program(social=social))
    _buy(service, "p-1")  # at 07:00, before the occasions' 09:00
    service.clock.set(T0 + timedelta(hours=3))  # type: ignore[attr-defined]
    service.run_due()
    assert service.tasks("sam") == ()
    service.clock.set(datetime(2027, 5, 6, 7, tzinfo=UTC))  # type: ignore[attr-defined]
    service.run_due()
    (task,) = service.tasks("sam")
    assert (
        task.reason
        == "personal occasion: anniversary of the first purchase on 2027-05-08 (1 year)"
    )


def test_a_birthday_task_does_not_tell_the_age_and_a_custom_birthday_is_its_own() -> None:
    social = SocialPolicy(default_owner="sam", occasions=OccasionPolicy(first_purchase=False))
    service = _service(Program(social=social))
    service.save_customer(Customer("c", birthday=Birthday(month=5, day=20, year=1977)))
    service.add_occasion("c", Occasion(name="birthday", month=7, day=1), key="occ")  # her dog's
    service.clock.set(datetime(2026, 7, 1, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    service.run_due()
    reasons = sorted(task.reason for task in service.tasks("sam"))
    assert reasons == [
        "personal occasion: birthday on 2026-05-20",
        "personal occasion: birthday on 2026-07-01",
    ]


def test_an_occasion_named_after_the_customer_loses_their_name_on_erasure() -> None:
    social = SocialPolicy(default_owner="sam", occasions=OccasionPolicy())
    service = _service(Program(social=social))
    service.save_customer(Customer("ann", name="Annabel Zed"))
    service.add_occasion("ann", Occasion(name="Annabel Zed wedding", month=9, day=1), key="o")
    service.forget("ann", pseudonym="erased-1")
    with service.store.unit_of_work(write=False) as uow:
        state = uow.load("erased-1")
        records = list(uow.log())
    assert state is not None
    assert "Annabel Zed" not in repr((state.held, state.schedule))
    assert "Annabel Zed" not in repr([(record.input, record.outcome) for record in records])


def test_an_invitation_after_erasure_goes_to_a_new_customer_with_the_old_id() -> None:
    service = _service(Program(social=SocialPolicy()))
    service.save_customer(Customer("ann-smith"))
    evening = MembersEvent(id="ev", name="Evening", at=T0 + timedelta(days=3))
    service.invite(evening)
    service.forget("ann-smith", pseudonym="erased-1")
    assert not [key for key in (r.key for r in service.log()) if key and "ann-smith" in key[1]]
    service.save_customer(Customer("ann-smith"))
    assert service.invite(evening).invited == ("ann-smith",)


def test_a_due_reminder_survives_a_change_made_before_run_due() -> None:
    weekly = Plan(
        name="box",
        every="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9",
        remind_before=timedelta(days=2),
        template="box_soon",
    )
    program = Program(
        messaging=MessagingPolicy(templates=TEMPLATES),
        structure=StructuralPolicy(plans=[weekly]),
    )
    service = _service(program, datetime(2026, 3, 2, 12, tzinfo=UTC))
    service.subscribe("c", "box", key="sub")
    service.clock.set(datetime(2026, 3, 7, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    service.skip_delivery("c", "box", date(2026, 3, 16), key="skip")
    service.run_due()
    assert [q.message.key for q in service.outbox()] == [
        "custbond:subscription:c:box:20260309T090000"
    ]


def test_the_profile_counts_neither_a_lapsed_cart_nor_a_paused_subscription() -> None:
    box = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9", price=Decimal("9"))
    program = Program(
        customization=CustomizationPolicy(cart_window=timedelta(days=30)),
        structure=StructuralPolicy(plans=[box]),
    )
    service = _service(program)
    item = LineItem(sku="pie", quantity=1, unit_price=Decimal("5.00"))
    service.save_cart("c", "cart", [item], key="cart")
    service.subscribe("c", "box", key="sub")
    service.pause_subscription("c", "box", key="pause")
    service.clock.set(T0 + timedelta(days=200))  # type: ignore[attr-defined]
    profile = service.bond_profile("c")
    assert (profile.customization.score, profile.structural.score) == (0, 0)
    assert attrs.has(type(profile))


def test_buying_a_wished_item_takes_it_off_even_without_a_customization_policy() -> None:
    service = _service(Program())
    service.add_wish("c", "pie", key="wish")
    _buy(service, "p-1")
    assert service.wish_list("c") == ()
