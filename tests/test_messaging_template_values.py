"""The templates of the messages custbond sends on its own may only use the values those
messages are given, which are known: a misspelt placeholder is refused when the policy is
made (or the rule file loaded), not found when every such message dies at send time.

From a bug hunt (finding 7): a ``points_expiring`` template saying ``$pionts`` loaded, and
every notice then went dead with "no value for $pionts (given: expires_on, name, points)".
A host's own messages (``queue()``, ``broadcast()``) may carry any values: their templates
are not checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Appointment,
    Birthday,
    Customer,
    ExpiryNotice,
    FixedClock,
    Greeting,
    Holiday,
    InvalidInput,
    MemoryStore,
    MessagingPolicy,
    PointsPolicy,
    Program,
    Purchase,
    RecordingNotifier,
    Reminder,
    RetentionService,
    Send,
    Signup,
)
from custbond.errors import RuleFileError
from custbond.messaging import Message
from custbond.messaging.policy import _GIVEN
from custbond.messaging.templates import DEFAULT_TEMPLATES, Template
from custbond.rules.files import load_program

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
CHRISTMAS = Holiday("christmas", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")

# Each message sent on its own: the policy's field, how it is switched on, the template it
# uses by default and its channel, and the values it is given besides $name.
OCCASIONS = [
    pytest.param("welcome", Send(template="welcome"), "welcome", "email", (), id="welcome"),
    pytest.param(
        "thank_you",
        Send(template="thank_you"),
        "thank_you",
        "email",
        ("points", "amount", "related", "suggestions"),
        id="thank_you",
    ),
    pytest.param(
        "appointment_reminder",
        Reminder(before=timedelta(hours=24)),
        "appointment_reminder",
        "sms",
        ("when", "service"),
        id="appointment_reminder",
    ),
    pytest.param("birthday", Greeting(), "birthday", "email", (), id="birthday"),
    pytest.param("holidays", [CHRISTMAS], "holiday", "email", ("holiday",), id="holidays"),
    pytest.param(
        "points_expiring",
        ExpiryNotice(within=timedelta(days=30)),
        "points_expiring",
        "email",
        ("points", "expires_on"),
        id="points_expiring",
    ),
]


def _policy(field: str, occasion: Any, templates: dict[str, dict[str, Template]]) -> Any:
    return MessagingPolicy(templates=DEFAULT_TEMPLATES.override(templates), **{field: occasion})


def _sender(field: str) -> str:
    return "messaging.holidays['christmas']" if field == "holidays" else f"messaging.{field}"


class TestTemplatesOfMessagesSentOnTheirOwn:
    @pytest.mark.parametrize(("field", "occasion", "name", "channel", "values"), OCCASIONS)
    def test_a_placeholder_the_message_is_not_given_is_refused_naming_it(
        self, field: str, occasion: Any, name: str, channel: str, values: tuple[str, ...]
    ) -> None:
        wrong = {name: {channel: Template("Hi $name, $pionts for you")}}

        with pytest.raises(InvalidInput) as raised:
            _policy(field, occasion, wrong)

        assert raised.value.field == f"templates.{name}.{channel}.body"
        assert raised.value.value == "$pionts"
        names = ", ".join(f"${value}" for value in sorted({"name", *values}))
        assert raised.value.expected.startswith(
            f"a text whose placeholders are among the values {_sender(field)} sends it "
            f"with on {channel!r}: {names}"
        )

    @pytest.mark.parametrize(("field", "occasion", "name", "channel", "values"), OCCASIONS)
    def test_a_template_using_every_value_the_message_is_given_is_accepted(
        self, field: str, occasion: Any, name: str, channel: str, values: tuple[str, ...]
    ) -> None:
        text = " ".join(f"${{{value}}}" for value in ("name", *values))

        policy = _policy(field, occasion, {name: {channel: Template(text, subject=text)}})

        assert policy.templates.has(name, channel)

    def test_the_default_templates_serve_every_message_sent_on_its_own(self) -> None:
        policy = MessagingPolicy(
            welcome=Send(template="welcome"),
            thank_you=Send(template="thank_you", channel="sms"),
            appointment_reminder=Reminder(before=timedelta(hours=2), channel="push"),
            birthday=Greeting(),
            holidays=[CHRISTMAS],
            points_expiring=ExpiryNotice(within=timedelta(days=30), channel="sms"),
        )

        assert policy.templates is DEFAULT_TEMPLATES

    def test_the_error_suggests_the_value_meant(self) -> None:
        wrong = {"points_expiring": {"email": Template("$pionts expire", subject="Points")}}

        with pytest.raises(InvalidInput) as raised:
            _policy("points_expiring", ExpiryNotice(within=timedelta(days=30)), wrong)

        assert str(raised.value) == (
            "templates.points_expiring.email.body must be a text whose placeholders are "
            "among the values messaging.points_expiring sends it with on 'email': "
            "$expires_on, $name, $points (did you mean $points?); got '$pionts'"
        )

    def test_a_subject_is_checked_too_and_a_braced_placeholder_is_shown_as_written(
        self,
    ) -> None:
        wrong = {"welcome": {"email": Template("Hi $name", subject="Hi ${first_name}")}}

        with pytest.raises(InvalidInput) as raised:
            _policy("welcome", Send(template="welcome"), wrong)

        assert (raised.value.field, raised.value.value) == (
            "templates.welcome.email.subject",
            "${first_name}",
        )

    def test_the_template_for_any_channel_is_checked_when_the_channel_has_none(self) -> None:
        wrong = {"invite_code": {"*": Template("Hi $name, your code: $code")}}

        with pytest.raises(InvalidInput) as raised:
            _policy("welcome", Send(template="invite_code", channel="push"), wrong)

        assert raised.value.field == "templates.invite_code.*.body"
        assert "sends it with on 'push'" in raised.value.expected

    def test_templates_for_other_channels_and_of_messages_switched_off_are_not_checked(
        self,
    ) -> None:
        ours = {
            "welcome": {"sms": Template("Hi $name, your code: $code")},  # welcome is by email
            "points_expiring": {"email": Template("$anything")},  # no notices sent
            "receipt": {"*": Template("Order $order: $total")},  # the host's own
        }

        policy = _policy("welcome", Send(template="welcome"), ours)

        assert policy.templates.has("receipt", "email")

    def test_a_hosts_own_message_with_values_of_its_own_is_queued_and_sent(self) -> None:
        ours = {"receipt": {"*": Template("Order $order: $total", subject="Your receipt")}}
        policy = _policy("welcome", Send(template="welcome"), ours)
        notifier = RecordingNotifier()
        service = RetentionService(
            Program(messaging=policy), MemoryStore(), FixedClock(T0), notifier=notifier
        )
        service.save_customer(Customer("c-1", email="ann@example.com"))
        context = {"order": "o-1", "total": Decimal("12.40")}
        service.queue(Message(key="r-1", customer_id="c-1", template="receipt", context=context))

        service.dispatch()

        assert [message.body for message in notifier.sent] == ["Order o-1: 12.40"]

    @given(st.sets(st.sampled_from(["name", "points", "expires_on", "pionts", "amount", "when"])))
    def test_a_notice_template_is_accepted_exactly_when_its_values_are_those_given(
        self, used: set[str]
    ) -> None:
        text = "Hi " + " ".join(f"${value}" for value in sorted(used))
        templates = {"points_expiring": {"email": Template(text)}}
        notice = ExpiryNotice(within=timedelta(days=30))

        if used <= {"name", "points", "expires_on"}:
            assert _policy("points_expiring", notice, templates).points_expiring == notice
        else:
            with pytest.raises(InvalidInput, match=r"^templates\.points_expiring\.email\.body"):
                _policy("points_expiring", notice, templates)


class TestRuleFiles:
    def test_a_misspelt_placeholder_of_a_notice_is_found_when_the_file_is_loaded(self) -> None:
        text = """\
[points]
expire_after = "2 months"
[messaging]
points_expiring = { within = "30 days" }
[messaging.templates.points_expiring.email]
subject = "Your points"
body = "Hi $name, $pionts of your points expire on $expires_on."
"""
        with pytest.raises(RuleFileError) as raised:
            load_program(text)

        assert raised.value.key == "messaging.templates.points_expiring.email.body"
        assert raised.value.line == 7
        assert "(did you mean $points?); got '$pionts'" in str(raised.value)

    def test_a_template_of_the_hosts_own_messages_loads_with_any_values(self) -> None:
        program = load_program("""\
[messaging]
welcome = { template = "welcome" }
[messaging.templates.receipt.email]
subject = "Your receipt"
body = "Order $order: $total"
""")

        assert program.messaging.templates.has("receipt", "email")


def test_the_values_checked_are_those_custbond_gives_each_message_it_sends_on_its_own() -> None:
    """Keeps the policy's table (``_GIVEN``) and the contexts the program makes in step:
    each message sent on its own, queued for real, gets exactly the values checked."""
    policy = MessagingPolicy(
        welcome=Send(template="welcome"),
        thank_you=Send(template="thank_you"),
        appointment_reminder=Reminder(before=timedelta(hours=24)),
        birthday=Greeting(),
        holidays=[Holiday("spring", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3")],
        points_expiring=ExpiryNotice(within=timedelta(days=30)),
    )
    program = Program(messaging=policy, points=PointsPolicy(expire_after=timedelta(days=10)))
    clock = FixedClock(T0)
    service = RetentionService(program, MemoryStore(), clock, notifier=RecordingNotifier())
    service.save_customer(
        Customer("c-1", email="ann@example.com", birthday=Birthday(month=3, day=4))
    )
    service.record(Signup(id="s-1", customer_id="c-1", at=clock.now()))
    service.record(
        Purchase(id="o-1", customer_id="c-1", at=clock.now(), amount=Decimal(20), currency="USD")
    )
    service.record(
        Appointment(
            id="a-1", customer_id="c-1", at=clock.now(), starts_at=clock.now() + timedelta(days=3)
        )
    )
    service.run_due()
    clock.advance(timedelta(days=2))  # the birthday, 4 March at 09:00
    service.run_due()

    given_by_template = {
        item.message.template: frozenset(item.message.context) for item in service.outbox()
    }

    assert given_by_template == {
        "welcome": frozenset(_GIVEN["welcome"]),
        "thank_you": frozenset(_GIVEN["thank_you"]),
        "appointment_reminder": frozenset(_GIVEN["appointment_reminder"]),
        "birthday": frozenset(_GIVEN["birthday"]),
        "holiday": frozenset(_GIVEN["holidays"]),
        "points_expiring": frozenset(_GIVEN["points_expiring"]),
    }
