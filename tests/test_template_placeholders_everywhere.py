"""Every template a program asks for is checked against the values its message is given:
a rule's ``Message``, the recovery messages (apology, survey, incident notice) and the
bonds' messages (need and cart reminders, invitations, subscription reminders, sequence
steps), as the messages the ``MessagingPolicy`` sends on its own already were.

Before, only that these templates exist was checked: one with a misspelt placeholder
(``$pionts``), or a rule sending a template made for another message (``points_expiring``
asks for ``$expires_on``, which a rule's message never has), built a program whose every
such message then went dead at ``dispatch()``. Now the program is refused when it is made,
naming the field that sends the message, the template, the channel and the placeholder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    Customer,
    CustomizationPolicy,
    FixedClock,
    IncidentDeclared,
    InvalidInput,
    LineItem,
    MembersEvent,
    MemoryStore,
    MessagingPolicy,
    NextNeedPolicy,
    Plan,
    Program,
    Purchase,
    RecordingNotifier,
    RecoveryPolicy,
    RetentionService,
    Rule,
    Sequence,
    SequenceStep,
    SocialPolicy,
    StructuralPolicy,
    SurveyInvite,
    Visit,
)
from custbond.errors import RuleFileError
from custbond.messaging.templates import DEFAULT_TEMPLATES, Template
from custbond.rules.effects import Message
from custbond.rules.files import load_program
from custbond.rules.rule import EVENT_NAMES

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
RULE_VALUES = ("event", "points", "balance")
PURCHASE_VALUES = ("amount", "related", "suggestions")

Build = Callable[[dict[str, dict[str, Template]]], Program]


def _messaging(templates: dict[str, dict[str, Template]]) -> MessagingPolicy:
    return MessagingPolicy(templates=DEFAULT_TEMPLATES.override(templates))


def _rule_on(*on: str) -> Build:
    rule = Rule("promo", on=list(on), then=[Message("promo", channel="sms")])
    return lambda templates: Program(rules=[rule], messaging=_messaging(templates))


def _recovery(policy: RecoveryPolicy) -> Build:
    return lambda templates: Program(recovery=policy, messaging=_messaging(templates))


def _customization(policy: CustomizationPolicy) -> Build:
    return lambda templates: Program(customization=policy, messaging=_messaging(templates))


def _social(templates: dict[str, dict[str, Template]]) -> Program:
    return Program(social=SocialPolicy(), messaging=_messaging(templates))


BOX = Plan(
    name="box",
    every="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9",
    remind_before=timedelta(days=2),
    template="box_soon",
)
ONBOARDING = Sequence(
    name="onboarding",
    on="Purchase",
    steps=[
        SequenceStep(after=timedelta(0), template="welcome"),
        SequenceStep(after=timedelta(days=3), template="day_three"),
    ],
)


def _structure(templates: dict[str, dict[str, Template]]) -> Program:
    structure = StructuralPolicy(plans=[BOX], sequences=[ONBOARDING])
    ours = {
        "box_soon": {"*": Template("Hi $name, your $plan comes $when.")},
        "day_three": {"*": Template("Hi $name, day three of $sequence.")},
        **templates,
    }
    return Program(structure=structure, messaging=_messaging(ours))


# Each kind of template a program asks for: the field that sends it, the template and its
# channel, the values its message is given besides $name, and a program sending it built
# with some templates in place of the defaults.
SENDERS = [
    pytest.param(
        "rules['promo'].then",
        "promo",
        "sms",
        (*RULE_VALUES, *PURCHASE_VALUES),
        _rule_on("Purchase"),
        id="rule-on-purchases",
    ),
    pytest.param(
        "rules['promo'].then",
        "promo",
        "sms",
        RULE_VALUES,
        _rule_on("Purchase", "Visit", "Signup", "CustomEvent"),
        id="rule-on-several-events",
    ),
    pytest.param(
        "recovery.apology",
        "apology",
        "email",
        ("complaint", "category", "offer"),
        _recovery(RecoveryPolicy()),
        id="apology",
    ),
    pytest.param(
        "recovery.survey.send",
        "survey",
        "email",
        ("complaint", "category", "scale"),
        _recovery(RecoveryPolicy(survey=SurveyInvite())),
        id="survey",
    ),
    pytest.param(
        "recovery.incident_notice",
        "incident_notice",
        "email",
        ("incident", "what", "severity"),
        _recovery(RecoveryPolicy()),
        id="incident-notice",
    ),
    pytest.param(
        "customization.need_reminder",
        "next_need",
        "email",
        ("sku", "expected_on"),
        _customization(CustomizationPolicy(next_need=NextNeedPolicy())),
        id="need-reminder",
    ),
    pytest.param(
        "customization.cart_reminder",
        "saved_cart",
        "email",
        ("cart", "items", "until"),
        _customization(CustomizationPolicy(remind_cart_before=timedelta(days=7))),
        id="cart-reminder",
    ),
    pytest.param(
        "social.invitation",
        "invitation",
        "email",
        ("event", "when"),
        _social,
        id="invitation",
    ),
    pytest.param(
        "structure.plans['box']",
        "box_soon",
        "email",
        ("plan", "when"),
        _structure,
        id="plan-reminder",
    ),
    pytest.param(
        "structure.sequences['onboarding'].steps[1]",
        "day_three",
        "email",
        ("sequence",),
        _structure,
        id="sequence-step",
    ),
]
PARAMETERS = ("field", "template", "channel", "values", "build")


class TestEveryTemplateAskedForIsCheckedAgainstItsValues:
    @pytest.mark.parametrize(PARAMETERS, SENDERS)
    def test_a_misspelt_placeholder_is_refused_naming_field_template_channel_placeholder(
        self, field: str, template: str, channel: str, values: tuple[str, ...], build: Build
    ) -> None:
        wrong = {template: {channel: Template("Hi $name, $pionts for you", subject="Hi")}}

        with pytest.raises(InvalidInput) as raised:
            build(wrong)

        assert (raised.value.field, raised.value.value) == (
            f"templates.{template}.{channel}.body",
            "$pionts",
        )
        names = ", ".join(f"${value}" for value in sorted({"name", *values}))
        assert raised.value.expected.startswith(
            f"a text whose placeholders are among the values {field} sends it with on "
            f"{channel!r}: {names}"
        )

    def test_the_template_for_any_channel_is_checked_when_the_channel_has_none(self) -> None:
        wrong = {"promo": {"email": Template("Hi $name"), "*": Template("${name}: $nmae")}}

        with pytest.raises(InvalidInput) as raised:
            _rule_on("Visit")(wrong)  # sent on sms

        assert raised.value.field == "templates.promo.*.body"
        assert "rules['promo'].then sends it with on 'sms'" in raised.value.expected
        assert "(did you mean $name?)" in raised.value.expected

    @pytest.mark.parametrize(PARAMETERS, SENDERS)
    def test_a_template_using_every_value_its_message_is_given_is_accepted(
        self, field: str, template: str, channel: str, values: tuple[str, ...], build: Build
    ) -> None:
        text = " ".join(f"${{{value}}}" for value in ("name", *values))

        program = build({template: {channel: Template(text, subject=text)}})

        assert program.messaging.templates.find(template, channel).names == {"name", *values}

    @pytest.mark.parametrize(PARAMETERS, SENDERS)
    def test_templates_for_other_channels_may_use_any_value(
        self, field: str, template: str, channel: str, values: tuple[str, ...], build: Build
    ) -> None:
        other = "fax"  # no message here is sent on it
        ours = {template: {channel: Template("Hi $name"), other: Template("$anything")}}

        program = build(ours)

        assert program.messaging.templates.has(template, other)

    def test_the_subject_is_checked_too(self) -> None:
        wrong = {"apology": {"email": Template("Hi $name", subject="Sorry, $first_name")}}

        with pytest.raises(InvalidInput) as raised:
            _recovery(RecoveryPolicy())(wrong)

        assert (raised.value.field, raised.value.value) == (
            "templates.apology.email.subject",
            "$first_name",
        )

    def test_the_error_reads_as_one_sentence_naming_everything(self) -> None:
        wrong = {"promo": {"sms": Template("Hi $name, $pionts points for you!")}}

        with pytest.raises(InvalidInput) as raised:
            _rule_on("Purchase")(wrong)

        assert str(raised.value) == (
            "templates.promo.sms.body must be a text whose placeholders are among the values "
            "rules['promo'].then sends it with on 'sms': $amount, $balance, $event, $name, "
            "$points, $related, $suggestions (did you mean $points?); got '$pionts'"
        )

    def test_a_step_of_a_sequence_is_named_by_its_place(self) -> None:
        wrong = {"welcome": {"email": Template("Hi $name, welcome to $sequnce")}}

        with pytest.raises(InvalidInput) as raised:
            _structure(wrong)

        assert "structure.sequences['onboarding'].steps[0] sends it" in raised.value.expected
        assert "(did you mean $sequence?)" in raised.value.expected


class TestRuleMessages:
    def test_a_rule_on_purchases_and_visits_may_not_use_what_only_a_purchase_gives(
        self,
    ) -> None:
        ours = {"promo": {"sms": Template("Hi $name, thanks for spending $amount")}}

        assert _rule_on("Purchase")(ours).rules[0].name == "promo"
        with pytest.raises(InvalidInput) as raised:
            _rule_on("Purchase", "Visit")(ours)

        assert raised.value.value == "$amount"
        assert "$balance, $event, $name, $points;" in str(raised.value)

    def test_a_rule_sending_a_template_made_for_another_message_is_refused(self) -> None:
        """The default ``points_expiring`` template asks for ``$expires_on``: a rule's
        message never has it, so every such message went dead."""
        rule = Rule("nudge", on="Visit", then=[Message("points_expiring")])

        with pytest.raises(InvalidInput) as raised:
            Program(rules=[rule])

        assert raised.value.field == "templates.points_expiring.email.subject"
        assert raised.value.value == "$expires_on"
        assert "rules['nudge'].then sends it with on 'email'" in raised.value.expected

    def test_a_rule_sending_a_default_template_it_gives_the_values_of_is_accepted(
        self,
    ) -> None:
        rules = [
            Rule("thanks", on="Purchase", then=[Message("thank_you")]),
            Rule("hello", on=["Visit", "Signup"], then=[Message("welcome")]),
            Rule("text", on="Visit", then=[Message("thank_you", channel="sms")]),
        ]

        assert len(Program(rules=rules).rules) == 3

    def test_the_values_of_a_rules_message_depend_only_on_whether_it_fires_on_purchases_only(
        self,
    ) -> None:
        from custbond.messaging.policy import rule_message_values  # noqa: PLC0415

        assert rule_message_values({"Purchase"}) == (*RULE_VALUES, *PURCHASE_VALUES)
        assert rule_message_values({"Visit"}) == RULE_VALUES
        assert rule_message_values({"Purchase", "Return"}) == RULE_VALUES

    @given(
        on=st.sets(st.sampled_from(EVENT_NAMES), min_size=1),
        used=st.sets(
            st.sampled_from(["name", *RULE_VALUES, *PURCHASE_VALUES, "pionts", "expires_on"])
        ),
    )
    def test_a_rules_template_is_accepted_exactly_when_every_firing_gives_its_values(
        self, on: set[str], used: set[str]
    ) -> None:
        text = "Hi " + " ".join(f"${value}" for value in sorted(used))
        allowed = {"name", *RULE_VALUES} | (set(PURCHASE_VALUES) if on == {"Purchase"} else set())

        if used <= allowed:
            assert _rule_on(*on)({"promo": {"sms": Template(text)}}).rules[0].on == on
        else:
            with pytest.raises(InvalidInput, match=r"^templates\.promo\.sms\.body must be"):
                _rule_on(*on)({"promo": {"sms": Template(text)}})


class TestDefaultsAndRuleFiles:
    def test_a_program_sending_every_kind_of_message_with_the_defaults_is_accepted(
        self,
    ) -> None:
        program = Program(
            rules=[
                Rule("thanks", on="Purchase", then=[Message("thank_you")]),
                Rule("hello", on="Signup", then=[Message("welcome", channel="sms")]),
            ],
            recovery=RecoveryPolicy(survey=SurveyInvite()),
            customization=CustomizationPolicy(
                next_need=NextNeedPolicy(), remind_cart_before=timedelta(days=7)
            ),
            social=SocialPolicy(),
            structure=StructuralPolicy(
                plans=[Plan(name="box", every="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9")],
                sequences=[Sequence(name="hello", on="Signup", steps=[ONBOARDING.steps[0]])],
            ),
        )

        assert program.messaging.templates is DEFAULT_TEMPLATES

    def test_a_misspelt_placeholder_of_a_rules_message_is_refused_when_the_file_loads(
        self,
    ) -> None:
        text = """\
[[rules]]
name = "promo"
on = "Visit"
then = [{ type = "message", template = "promo" }]

[messaging.templates.promo.email]
subject = "For you"
body = "Hi $name, you have $balanse points."
"""
        with pytest.raises(RuleFileError) as raised:
            load_program(text)

        assert (raised.value.key, raised.value.line) == ("messaging.templates.promo.email.body", 8)
        assert "(did you mean $balance?); got '$balanse'" in str(raised.value)
        assert "rules['promo'].then sends it with on 'email'" in str(raised.value)

    def test_a_template_whose_name_has_a_dot_is_named_at_its_own_text(self) -> None:
        text = """\
[[rules]]
name = "promo"
on = "Visit"
then = [{ type = "message", template = "promo.v2" }]

[messaging.templates."promo.v2".email]
subject = "For you"
body = "Hi $name, you have $balanse points."
"""
        with pytest.raises(RuleFileError) as raised:
            load_program(text)

        assert raised.value.line == 8
        assert 'messaging.templates."promo.v2".email.body' == raised.value.key

    def test_a_default_template_a_rules_message_cannot_fill_is_named_when_the_file_loads(
        self,
    ) -> None:
        text = """\
[[rules]]
name = "nudge"
on = "Visit"
then = [{ type = "message", template = "points_expiring" }]
"""
        with pytest.raises(RuleFileError) as raised:
            load_program(text)

        assert str(raised.value) == (
            "messaging.templates.points_expiring.email.subject: must be a text whose "
            "placeholders are among the values rules['nudge'].then sends it with on 'email': "
            "$balance, $event, $name, $points; got '$expires_on'"
        )

    def test_a_misspelt_placeholder_of_a_recovery_message_is_refused_when_the_file_loads(
        self,
    ) -> None:
        text = """\
[recovery]
apologize_when = "filed"

[messaging.templates.apology.email]
subject = "Sorry"
body = "Hi $name, we are sorry. $ofer"
"""
        with pytest.raises(RuleFileError) as raised:
            load_program(text)

        assert (raised.value.key, raised.value.line) == (
            "messaging.templates.apology.email.body",
            6,
        )
        assert "recovery.apology sends it with on 'email'" in str(raised.value)
        assert "(did you mean $offer?); got '$ofer'" in str(raised.value)


# -- the values checked are those the messages get --------------------------------------


def _contexts(service: RetentionService) -> dict[str, frozenset[str]]:
    """The values every message of each template in the outbox has, with the ``name``
    each message gets when it is rendered."""
    found: dict[str, frozenset[str]] = {}
    for item in service.outbox():
        values = frozenset({"name", *item.message.context})
        found[item.message.template] = found.get(item.message.template, values) & values
    return found


def _declared(program: Program) -> dict[str, frozenset[str]]:
    """The values the program checks each template against, by template (one template
    has one set of values however many fields send it, in these programs)."""
    from custbond.messaging.policy import rule_message_values  # noqa: PLC0415

    declared: dict[str, frozenset[str]] = {}
    recovery = () if program.recovery is None else program.recovery.messages()
    for _field, template, _channel, values in (*recovery, *program._bond_templates()):
        assert declared.setdefault(template, frozenset({"name", *values})) == frozenset(
            {"name", *values}
        )
    for rule in program.rules:
        for effect in rule.then:
            if isinstance(effect, Message):
                values = frozenset({"name", *rule_message_values(rule.on)})
                assert declared.setdefault(effect.template, values) == values
    return declared


def _pie(at: datetime, order: str, customer: str = "c") -> Purchase:
    pie = LineItem(sku="pie", quantity=1, unit_price=Decimal("5.00"), tags={"pie"})
    return Purchase(
        id=order, customer_id=customer, at=at, amount=Decimal("5.00"), currency="USD", items=[pie]
    )


def _service(program: Program, clock: FixedClock) -> RetentionService:
    service = RetentionService(program, MemoryStore(), clock, notifier=RecordingNotifier())
    service.save_customer(Customer("c", email="ann@example.com", phone="+15550100"))
    for channel in ("email", "sms"):
        service.set_consent("c", channel, granted=True, source="form", key=f"consent-{channel}")
    return service


def test_the_values_of_rule_messages_are_those_they_are_queued_with() -> None:
    templates = {
        "bought": {"*": Template("$name")},
        "came": {"*": Template("$name")},
    }
    program = Program(
        rules=[
            Rule("bought", on="Purchase", then=[Message("bought")]),
            Rule("came", on=["Visit", "Purchase"], then=[Message("came")]),
        ],
        messaging=_messaging(templates),
    )
    clock = FixedClock(T0)
    service = _service(program, clock)
    service.record(Visit(id="v-1", customer_id="c", at=clock.now()))
    service.record(_pie(clock.now(), "o-1"))

    contexts = _contexts(service)

    # "came" fired on both: the values checked are those its every firing had.
    assert sorted(item.message.template for item in service.outbox()) == ["bought", "came", "came"]
    assert contexts == _declared(program)


def test_the_values_of_recovery_messages_are_those_they_are_queued_with() -> None:
    program = Program(recovery=RecoveryPolicy(survey=SurveyInvite(after=timedelta(0))))
    clock = FixedClock(T0)
    service = _service(program, clock)
    service.record(
        ComplaintFiled(id="k-1", customer_id="c", at=clock.now(), category="late", severity="high")
    )
    service.record(
        ComplaintAcknowledged(id="a-1", customer_id="c", at=clock.now(), complaint_id="k-1")
    )
    service.record(
        ComplaintResolved(
            id="r-1", customer_id="c", at=clock.now(), complaint_id="k-1", resolution="done"
        )
    )
    service.declare_incident(
        IncidentDeclared(id="i-1", at=clock.now(), what="the oven broke", customer_ids=["c"])
    )

    contexts = _contexts(service)

    assert set(contexts) == {"apology", "survey", "incident_notice"}
    assert contexts == _declared(program)


def test_the_values_of_the_bonds_messages_are_those_they_are_queued_with() -> None:
    program = Program(
        customization=CustomizationPolicy(
            next_need=NextNeedPolicy(tags={"pie"}, skus=set()),
            remind_cart_before=timedelta(days=7),
        ),
        social=SocialPolicy(),
        structure=StructuralPolicy(plans=[BOX], sequences=[ONBOARDING]),
        messaging=_messaging(
            {
                "box_soon": {"*": Template("Hi $name, your $plan comes $when.")},
                "day_three": {"*": Template("Hi $name, day three of $sequence.")},
            }
        ),
    )
    clock = FixedClock(T0)
    service = _service(program, clock)
    for fortnight in range(4):
        clock.set(T0 + timedelta(weeks=2 * fortnight))
        service.record(_pie(clock.now(), f"o-{fortnight}"))
    service.save_cart("c", "cart", list(_pie(clock.now(), "x").items), key="cart")
    service.subscribe("c", "box", key="sub")
    service.invite(MembersEvent(id="ev", name="Tasting", at=clock.now() + timedelta(days=3)))
    for _ in range(100):  # the days to the cart's reminder, step by step
        clock.advance(timedelta(days=1))
        service.run_due()

    contexts = _contexts(service)

    declared = _declared(program)
    sent = {"next_need", "saved_cart", "invitation", "box_soon", "welcome", "day_three"}
    assert set(contexts) == sent
    assert contexts == declared
