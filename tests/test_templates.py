"""Message templates: placeholders, safe rendering, template sets and the defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from dateutil import tz

from custbond.errors import InvalidInput, TemplateError
from custbond.messaging.templates import (
    ANY_CHANNEL,
    DEFAULT_TEMPLATES,
    Rendered,
    Template,
    Templates,
)

NAIVE = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - naive on purpose: it must be rejected


class TestTemplate:
    def test_names_are_the_placeholders_of_subject_and_body(self) -> None:
        template = Template("Hi $name, ${points} points, $$5 off", subject="For $title")

        assert frozenset({"name", "points", "title"}) == template.names

    def test_a_template_without_placeholders_has_no_names(self) -> None:
        assert frozenset() == Template("Hello, costs $$5").names

    def test_renders_both_placeholder_forms_and_the_dollar_escape(self) -> None:
        template = Template("Hi $name, save $$5 on ${item}s", subject="For $name")

        rendered = template.render({"name": "Ada", "item": "bagel"})

        assert Rendered("For Ada", "Hi Ada, save $5 on bagels") == rendered

    def test_a_template_without_subject_renders_none_for_it(self) -> None:
        assert Rendered(None, "Hi Ada") == Template("Hi $name").render({"name": "Ada"})

    def test_a_value_that_holds_a_placeholder_is_not_expanded_again(self) -> None:
        rendered = Template("Hi $name").render({"name": "$secret ${secret}", "secret": "x"})

        assert "Hi $secret ${secret}" == rendered.body

    def test_values_the_template_does_not_use_are_ignored(self) -> None:
        rendered = Template("Hi $name").render({"name": "Ada", "unused": object()})

        assert "Hi Ada" == rendered.body

    def test_a_dot_after_a_placeholder_is_text_not_attribute_access(self) -> None:
        assert "Ada.upper" == Template("$name.upper").render({"name": "Ada"}).body

    def test_braces_with_a_format_spec_are_text_not_formatting(self) -> None:
        template = Template("{name:>10} {0} $name")

        assert "{name:>10} {0} Ada" == template.render({"name": "Ada"}).body

    def test_line_breaks_in_values_become_spaces_in_the_subject_only(self) -> None:
        template = Template("$text", subject="About $text")

        rendered = template.render({"text": "one\r\ntwo\nthree"})

        assert Rendered("About one two three", "one\r\ntwo\nthree") == rendered

    def test_is_frozen_and_hashable(self) -> None:
        template = Template("Hi $name", subject="Hello")

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            template.body = "Bye"  # type: ignore[misc]
        assert hash(Template("Hi $name", subject="Hello")) == hash(template)


class TestValues:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("Ada", "Ada", id="str"),
            pytest.param("", "", id="empty-str"),
            pytest.param(None, "", id="none-reads-as-nothing"),
            pytest.param(120, "120", id="int"),
            pytest.param(-3, "-3", id="negative-int"),
            pytest.param(True, "True", id="bool"),
            pytest.param(Decimal("12.50"), "12.50", id="decimal-keeps-its-places"),
            pytest.param(Decimal("1E+2"), "100", id="decimal-never-in-exponent-notation"),
            pytest.param(date(2026, 3, 2), "2026-03-02", id="date-iso"),
            pytest.param(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "2026-03-02 09:00", id="utc"),
            pytest.param(
                datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-5))),
                "2026-03-02 09:00",
                id="datetime-in-its-own-offset",
            ),
            pytest.param(
                datetime(2026, 7, 1, 18, 30, 59, tzinfo=tz.gettz("Europe/Paris")),
                "2026-07-01 18:30",
                id="datetime-in-its-own-zone-to-the-minute",
            ),
        ],
    )
    def test_renders_each_kind_of_value(self, value: Any, expected: str) -> None:
        assert f"[{expected}]" == Template("[$x]").render({"x": value}).body

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param(1.5, "must be a str, int, bool, finite Decimal", id="float"),
            pytest.param(Decimal("NaN"), "finite Decimal", id="nan"),
            pytest.param(Decimal("Infinity"), "finite Decimal", id="infinity"),
            pytest.param(NAIVE, "timezone-aware datetime", id="naive-datetime"),
            pytest.param(["a"], "must be a str, int, bool", id="list"),
            pytest.param(object(), "must be a str, int, bool", id="object"),
        ],
    )
    def test_rejects_a_value_it_cannot_write(self, value: Any, expected: str) -> None:
        templates = Templates({"note": {"sms": Template("[$x]")}})

        with pytest.raises(TemplateError) as caught:
            templates.render("note", "sms", {"x": value})

        assert ("note", "sms") == (caught.value.template, caught.value.channel)
        assert caught.value.problem.startswith("the value for $x ")
        assert expected in caught.value.problem

    def test_a_missing_value_names_it_and_the_values_given_sorted(self) -> None:
        templates = Templates({"welcome": {"sms": Template("Hi $name, $points points")}})

        with pytest.raises(TemplateError) as caught:
            templates.render("welcome", "sms", {"points": 5, "extra": "x"})

        assert "template 'welcome' (sms): no value for $name (given: extra, points)" == str(
            caught.value
        )

    def test_a_missing_value_with_nothing_given_says_so(self) -> None:
        with pytest.raises(TemplateError, match=r"no value for \$name \(given: nothing\)"):
            Template("Hi ${name}").render({})

    def test_a_missing_value_in_the_subject_is_reported_too(self) -> None:
        with pytest.raises(TemplateError, match=r"no value for \$title"):
            Template("Hi", subject="$title").render({"name": "Ada"})

    def test_values_must_be_a_mapping(self) -> None:
        with pytest.raises(InvalidInput, match="values must be a mapping"):
            Template("Hi").render(["name"])  # type: ignore[arg-type]


class TestMalformedTemplates:
    @pytest.mark.parametrize(
        ("body", "near", "line", "column"),
        [
            pytest.param("Save $5 today", "$5 today", 1, 6, id="dollar-then-digit"),
            pytest.param("Total: $", "$", 1, 8, id="dollar-at-the-end"),
            pytest.param("Hi $ name", "$ name", 1, 4, id="dollar-then-space"),
            pytest.param("Hi ${1x}", "${1x}", 1, 4, id="braced-not-an-identifier"),
            pytest.param("Hi ${name", "${name", 1, 4, id="brace-not-closed"),
            pytest.param("Hi ${name.upper}", "${name.upper", 1, 4, id="attribute-access"),
            pytest.param("Hi ${}", "${}", 1, 4, id="empty-braces"),
            pytest.param("Hi $name\nand $-", "$-", 2, 5, id="on-the-second-line"),
        ],
    )
    def test_a_malformed_placeholder_is_rejected_with_where(
        self, body: str, near: str, line: int, column: int
    ) -> None:
        with pytest.raises(TemplateError) as caught:
            Template(body)

        error = caught.value
        assert (body, None) == (error.template, error.channel)
        assert error.problem.startswith(
            f"malformed placeholder {near!r} at line {line}, column {column} of the body: "
        )
        assert "$$ for a dollar sign" in error.problem

    def test_a_malformed_placeholder_in_the_subject_says_subject(self) -> None:
        with pytest.raises(TemplateError, match="column 5 of the subject"):
            Template("Hi", subject="Win $100")

    def test_a_long_template_is_named_by_its_beginning(self) -> None:
        body = "Dear customer, " * 5 + "$"

        with pytest.raises(TemplateError) as caught:
            Template(body)

        assert body[:37] + "..." == caught.value.template

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            pytest.param({"body": ""}, "body", id="empty-body"),
            pytest.param({"body": None}, "body", id="no-body"),
            pytest.param({"body": b"Hi"}, "body", id="bytes-body"),
            pytest.param({"body": "Hi", "subject": ""}, "subject", id="empty-subject"),
            pytest.param({"body": "Hi", "subject": "a\nb"}, "subject", id="two-line-subject"),
            pytest.param({"body": "Hi", "subject": "a\rb"}, "subject", id="cr-in-subject"),
            pytest.param({"body": "Hi", "subject": 5}, "subject", id="int-subject"),
        ],
    )
    def test_rejects_a_body_or_subject_that_is_not_text(
        self, fields: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            Template(**fields)

        assert field == caught.value.field


def _sample() -> Templates:
    return Templates(
        {
            "welcome": {
                "email": Template("Hi $name, welcome", subject="Welcome"),
                ANY_CHANNEL: Template("Welcome, $name", subject="Hello"),
            },
            "reminder": {"sms": Template("See you at $when")},
        }
    )


class TestTemplates:
    def test_renders_the_template_of_the_channel(self) -> None:
        rendered = _sample().render("welcome", "email", {"name": "Ada"})

        assert Rendered("Welcome", "Hi Ada, welcome") == rendered

    def test_falls_back_to_the_any_channel_template(self) -> None:
        rendered = _sample().render("welcome", "push", {"name": "Ada"})

        assert Rendered("Hello", "Welcome, Ada") == rendered

    def test_an_unknown_name_is_an_error_listing_the_known_names(self) -> None:
        with pytest.raises(TemplateError) as caught:
            _sample().render("birthday", "email", {"name": "Ada"})

        assert (
            "template 'birthday' (email): no template of that name; known: reminder, welcome"
            == str(caught.value)
        )

    def test_a_channel_without_template_or_fallback_is_an_error_listing_channels(self) -> None:
        with pytest.raises(TemplateError) as caught:
            _sample().render("reminder", "email", {"when": "10:00"})

        assert (
            "template 'reminder' (email): no template of that name for this channel; known: sms"
            == str(caught.value)
        )

    def test_find_returns_the_template_a_render_would_use(self) -> None:
        templates = _sample()

        assert templates.templates["welcome"][ANY_CHANNEL] == templates.find("welcome", "sms")

    @pytest.mark.parametrize(
        ("name", "channel", "expected"),
        [
            pytest.param("welcome", "email", True, id="own-channel"),
            pytest.param("welcome", "sms", True, id="through-the-fallback"),
            pytest.param("reminder", "sms", True, id="only-channel"),
            pytest.param("reminder", "email", False, id="no-channel-no-fallback"),
            pytest.param("birthday", "email", False, id="unknown-name"),
        ],
    )
    def test_has(self, name: str, channel: str, expected: bool) -> None:
        assert expected == _sample().has(name, channel)

    def test_names(self) -> None:
        assert frozenset({"welcome", "reminder"}) == _sample().names

    def test_override_replaces_per_name_and_channel_and_keeps_the_rest(self) -> None:
        templates = _sample()

        custom = templates.override(
            {"welcome": {"email": Template("Yo $name")}, "birthday": {"sms": Template("HBD")}}
        )

        assert "Yo Ada" == custom.render("welcome", "email", {"name": "Ada"}).body
        assert "Welcome, Ada" == custom.render("welcome", "sms", {"name": "Ada"}).body
        assert "HBD" == custom.render("birthday", "sms", {}).body
        assert "See you at 10" == custom.render("reminder", "sms", {"when": 10}).body
        assert _sample() == templates  # unchanged

    def test_override_takes_another_template_set(self) -> None:
        other = Templates({"reminder": {ANY_CHANNEL: Template("At $when")}})

        custom = _sample().override(other)

        assert "See you at 9" == custom.render("reminder", "sms", {"when": 9}).body
        assert "At 9" == custom.render("reminder", "email", {"when": 9}).body

    def test_override_checks_what_it_is_given(self) -> None:
        with pytest.raises(InvalidInput, match=r"templates\['welcome'\]\['sms'\] must be"):
            _sample().override({"welcome": {"sms": "Hi $name"}})  # type: ignore[dict-item]

    def test_is_a_value_equal_by_content_and_hashable(self) -> None:
        assert _sample() == _sample()
        assert hash(_sample()) == hash(_sample())
        assert Templates(_sample()) == _sample()

    def test_is_immutable(self) -> None:
        templates = _sample()

        with pytest.raises(TypeError):
            templates.templates["birthday"] = {}  # type: ignore[index]

    def test_repr_names_the_templates(self) -> None:
        assert "Templates(names=['reminder', 'welcome'])" == repr(_sample())

    @pytest.mark.parametrize(
        ("templates", "field"),
        [
            pytest.param(["welcome"], "templates", id="not-a-mapping"),
            pytest.param({"": {"sms": Template("Hi")}}, "template name", id="empty-name"),
            pytest.param({" welcome": {"sms": Template("Hi")}}, "template name", id="padded"),
            pytest.param({5: {"sms": Template("Hi")}}, "template name", id="int-name"),
            pytest.param({"welcome": {}}, "templates['welcome']", id="no-channels"),
            pytest.param(
                {"welcome": Template("Hi")}, "templates['welcome']", id="template-no-map"
            ),
            pytest.param(
                {"welcome": {"": Template("Hi")}},
                "channel of template 'welcome'",
                id="empty-channel",
            ),
            pytest.param(
                {"welcome": {"sms": "Hi"}}, "templates['welcome']['sms']", id="not-a-template"
            ),
        ],
    )
    def test_rejects_a_malformed_set(self, templates: Any, field: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            Templates(templates)

        assert field == caught.value.field

    @pytest.mark.parametrize(
        ("name", "channel", "field"),
        [
            pytest.param("", "sms", "template name", id="empty-name"),
            pytest.param("welcome", "", "channel", id="empty-channel"),
            pytest.param("welcome", None, "channel", id="no-channel"),
        ],
    )
    def test_render_checks_the_name_and_channel(self, name: Any, channel: Any, field: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            _sample().render(name, channel, {"name": "Ada"})

        assert field == caught.value.field


# The values each default template uses besides `name`, as a host fills them in.
DEFAULT_VALUES: dict[str, dict[str, Any]] = {
    "welcome": {},
    "thank_you": {"suggestions": "You might also like: the oat latte."},
    "birthday": {},
    "holiday": {"holiday": "New Year"},
    "appointment_reminder": {"when": datetime(2026, 3, 2, 9, 0, tzinfo=tz.gettz("Europe/Paris"))},
    "points_expiring": {"points": 120, "expires_on": date(2026, 4, 1)},
    "broadcast": {"title": "Spring menu", "text": "Our spring menu is here."},
    "apology": {"offer": "We have refunded 40.00 USD."},
    "survey": {},
    "incident_notice": {"what": "your order is running two days late"},
    "next_need": {"sku": "cherry-pie", "expected_on": date(2026, 3, 16)},
    "saved_cart": {"cart": "c-1", "items": "cherry-pie, cream", "until": date(2026, 6, 1)},
    "invitation": {"event": "Pie tasting night", "when": "2026-12-03 18:00"},
}


class TestDefaults:
    def test_defaults_is_the_default_set(self) -> None:
        assert DEFAULT_TEMPLATES is Templates.defaults()

    def test_the_default_set_has_the_documented_names(self) -> None:
        assert frozenset(DEFAULT_VALUES) == DEFAULT_TEMPLATES.names

    @pytest.mark.parametrize("name", sorted(DEFAULT_VALUES))
    def test_each_has_an_email_an_sms_and_a_fallback(self, name: str) -> None:
        channels = DEFAULT_TEMPLATES.templates[name]

        assert {"email", "sms", ANY_CHANNEL} == set(channels)
        assert channels["email"].subject is not None
        assert channels[ANY_CHANNEL].subject is not None
        assert channels["sms"].subject is None

    @pytest.mark.parametrize("name", sorted(DEFAULT_VALUES))
    @pytest.mark.parametrize("channel", ["email", "sms", "push"])
    def test_each_renders_with_its_documented_values(self, name: str, channel: str) -> None:
        values = {"name": "Ada", **DEFAULT_VALUES[name]}

        rendered = DEFAULT_TEMPLATES.render(name, channel, values)

        assert "$" not in rendered.body
        assert "{" not in rendered.body
        assert rendered.body.strip() == rendered.body

    @pytest.mark.parametrize("name", sorted(DEFAULT_VALUES))
    def test_each_uses_only_its_documented_values(self, name: str) -> None:
        for template in DEFAULT_TEMPLATES.templates[name].values():
            assert template.names <= {"name", *DEFAULT_VALUES[name]}

    @pytest.mark.parametrize("name", sorted(DEFAULT_VALUES))
    def test_subjects_hold_no_name_since_a_logging_notifier_logs_them(self, name: str) -> None:
        for template in DEFAULT_TEMPLATES.templates[name].values():
            if template.subject is not None:
                assert "name" not in Template(template.subject).names

    @pytest.mark.parametrize("name", sorted(DEFAULT_VALUES))
    def test_an_sms_fits_in_one_text_message(self, name: str) -> None:
        values = {"name": "Bartholomew", **DEFAULT_VALUES[name]}

        assert len(DEFAULT_TEMPLATES.render(name, "sms", values).body) <= 160

    def test_welcome_by_email(self) -> None:
        rendered = DEFAULT_TEMPLATES.render("welcome", "email", {"name": "Ada"})

        assert "Welcome to our rewards program" == rendered.subject
        assert rendered.body.startswith("Hi Ada,\n\nWelcome to our rewards program!")

    def test_a_customer_without_a_name_is_greeted_as_there(self) -> None:
        rendered = DEFAULT_TEMPLATES.render("birthday", "sms", {"name": "there"})

        assert "Happy birthday, there! Have a wonderful day." == rendered.body

    def test_thank_you_without_suggestions_leaves_one_blank_line(self) -> None:
        rendered = DEFAULT_TEMPLATES.render(
            "thank_you", "email", {"name": "Ada", "suggestions": ""}
        )

        assert (
            "Hi Ada,\n\nThank you for shopping with us, we hope you enjoy your purchase!\n\n"
            "See you soon!"
        ) == rendered.body

    def test_thank_you_with_suggestions_puts_them_before_the_sign_off(self) -> None:
        rendered = DEFAULT_TEMPLATES.render(
            "thank_you", "email", {"name": "Ada", "suggestions": "You might also like: tea."}
        )

        assert rendered.body.endswith("your purchase!\nYou might also like: tea.\nSee you soon!")

    def test_an_appointment_is_written_in_its_own_time_zone(self) -> None:
        when = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).astimezone(tz.gettz("Europe/Paris"))

        rendered = DEFAULT_TEMPLATES.render(
            "appointment_reminder", "sms", {"name": "Ada", "when": when}
        )

        assert "Hi Ada, a reminder of your appointment on 2026-03-02 09:00. See you then!" == (
            rendered.body
        )
