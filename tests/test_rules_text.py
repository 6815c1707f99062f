"""The text form of conditions: what parses, what is refused and why, and the round trip
``parse_condition(str(condition)) == condition``."""

from __future__ import annotations

import builtins
import contextlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from custbond.errors import InvalidInput, RuleSyntaxError
from custbond.rules.conditions import (
    MAX_INT,
    MAX_MEMBERS,
    MAX_TEXT,
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    Not,
    customer,
    event,
    local,
    state,
)
from custbond.rules.text import MAX_DEPTH, MAX_LENGTH, parse_condition
from custbond.testing.strategies import conditions

BIRTHDAY = Compare("local.is_birthday", "==", True)
GOLD = customer.tier == "gold"
APP = event.channel == "app"
BIG = event.amount >= 50


def _error(text: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as raised:
        parse_condition(text)
    return raised.value


class TestGoodText:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param(
                "event.amount >= 50 and customer.tier == 'gold' and local.weekday == 'TU'",
                BIG & GOLD & (local.weekday == "TU"),
                id="the-example",
            ),
            pytest.param("event.amount >= 50", BIG, id="fact-first"),
            pytest.param("50 <= event.amount", BIG, id="flipped-less-or-equal"),
            pytest.param("50 > event.amount", event.amount < 50, id="flipped-greater"),
            pytest.param("0 == state.visits", state.visits == 0, id="flipped-equal"),
            pytest.param("'x' != customer.tier", customer.tier != "x", id="flipped-not-equal"),
            pytest.param("'coffee' in event.tags", event.has_tag("coffee"), id="in-a-set"),
            pytest.param(
                "'vip' not in customer.tags", customer.tags.lacks("vip"), id="not-in-a-set"
            ),
            pytest.param(
                "customer.tier in ['gold', 'silver']",
                customer.tier.is_in(["gold", "silver"]),
                id="in-a-list",
            ),
            pytest.param(
                "customer.tier not in ['gold',]",
                customer.tier.not_in(["gold"]),
                id="not-in-a-list-with-a-trailing-comma",
            ),
            pytest.param(
                "local.weekday in ['SA', 'SU']", local.weekday.is_in(["SA", "SU"]), id="weekdays"
            ),
            pytest.param(
                "event.count(tag='coffee') >= 2",
                event.count(tag="coffee") >= 2,
                id="keyword-argument",
            ),
            pytest.param(
                "event.count(tag='coffee', sku='A1') >= 2",
                event.count(sku="A1", tag="coffee") >= 2,
                id="keyword-arguments-in-any-order",
            ),
            pytest.param(
                "customer.preference('diet') == 'vegan'",
                customer.preference("diet") == "vegan",
                id="positional-argument",
            ),
            pytest.param(
                "customer.preference(key='diet') == 'vegan'",
                customer.preference("diet") == "vegan",
                id="the-same-argument-named",
            ),
            pytest.param(
                "state.spent_within(days=30) >= 100",
                state.spent_within(days=30) >= 100,
                id="number-argument",
            ),
            pytest.param("state.stamps('coffee') >= 9", state.stamps("coffee") >= 9, id="stamps"),
            pytest.param(
                "not (event.channel == 'app' or customer.tier == 'gold') and event.amount >= 50",
                ~(APP | GOLD) & BIG,
                id="not-a-group-and",
            ),
            pytest.param(
                "event.channel == 'app' or customer.tier == 'gold' and event.amount >= 50",
                APP | (GOLD & BIG),
                id="and-binds-tighter-than-or",
            ),
            pytest.param(
                "not event.channel == 'app' and customer.tier == 'gold'",
                ~APP & GOLD,
                id="not-binds-tighter-than-and",
            ),
            pytest.param(
                "(event.channel == 'app' and customer.tier == 'gold') and event.amount >= 50",
                AllOf((APP, GOLD, BIG)),
                id="and-is-flat",
            ),
            pytest.param("((((event.amount >= 50))))", BIG, id="parentheses"),
            pytest.param("local.is_birthday", BIRTHDAY, id="a-flag-alone"),
            pytest.param("not local.is_birthday", Not(BIRTHDAY), id="not-a-flag"),
            pytest.param("not not local.is_birthday", Not(Not(BIRTHDAY)), id="not-not"),
            pytest.param(
                "local.is_birthday == false",
                Compare("local.is_birthday", "==", False),
                id="a-flag-compared",
            ),
            pytest.param("true", Always(), id="true-alone"),
            pytest.param(
                "event.amount >= 12.50",
                event.amount >= Decimal("12.50"),
                id="decimal-keeps-its-places",
            ),
            pytest.param("event.amount > -0.5", event.amount > Decimal("-0.5"), id="negative"),
            pytest.param("event.amount > -3", event.amount > -3, id="negative-integer"),
            pytest.param(
                "event.amount in [1, 2.50]",
                event.amount.is_in([1, Decimal("2.50")]),
                id="numbers-in-a-list",
            ),
            pytest.param(
                "event.attribute(name='size') == 3",
                event.attribute("size") == 3,
                id="any-kind",
            ),
            pytest.param(
                'customer.tier == "it\'s \\"quoted\\""',
                customer.tier == 'it\'s "quoted"',
                id="double-quotes",
            ),
            pytest.param(
                "customer.tier == 'a\\\\b\\'c\\nd\\te'",
                customer.tier == "a\\b'c\nd\te",
                id="escapes",
            ),
            pytest.param(
                "event.amount >= 50\n  and customer.tier == 'gold'\r\n\tor local.is_birthday",
                (BIG & GOLD) | BIRTHDAY,
                id="several-lines",
            ),
            pytest.param("event . amount>=50", BIG, id="spacing-is-free"),
        ],
    )
    def test_text_gives_the_condition(self, text: str, expected: Condition) -> None:
        assert expected == parse_condition(text)

    def test_decimals_are_never_floats(self) -> None:
        parsed = parse_condition("event.amount >= 0.1")
        assert isinstance(parsed, Compare)
        assert Decimal("0.1") == parsed.value
        assert isinstance(parsed.value, Decimal)

    def test_a_decimal_of_thirty_digits_is_kept_exactly(self) -> None:
        digits = "123456789012345.123456789012345"
        parsed = parse_condition(f"event.amount < -{digits}")
        assert isinstance(parsed, Compare)
        assert Decimal(f"-{digits}") == parsed.value

    def test_parsing_runs_no_python(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("the parser ran Python")

        for name in ("eval", "exec", "compile", "__import__"):
            monkeypatch.setattr(builtins, name, refuse)
        text = "event.amount >= 50 and not (customer.tier in ['gold'] or 'x' in event.tags)"
        assert isinstance(parse_condition(text), AllOf)


BAD_TEXTS = [
    # (text, what the problem says, column)
    pytest.param("", "the condition is empty", 1, id="empty"),
    pytest.param("  \n ", "the condition is empty", 1, id="only-spaces"),
    pytest.param("event.amount >=", "a value was expected after '>='", 16, id="no-value"),
    pytest.param("event.amount >= 1 and", "a condition was expected after 'and'", 22, id="and-"),
    pytest.param("not", "a condition was expected after 'not'", 4, id="not-alone"),
    pytest.param(
        "and event.amount >= 1", "a condition was expected, found 'and'", 1, id="and-first"
    ),
    pytest.param("(event.amount >= 1", "'(' was never closed", 1, id="unclosed-parenthesis"),
    pytest.param("(event.amount >= 1 x", "')' was expected, found 'x'", 20, id="unclosed-then-x"),
    pytest.param("event.amount >= 1)", "unmatched ')'", 18, id="unmatched-parenthesis"),
    pytest.param("()", "a condition was expected, found ')'", 2, id="empty-parentheses"),
    pytest.param(
        "event.amount >= 1 customer.tier == 'a'", "unexpected 'customer'", 19, id="trailing"
    ),
    pytest.param("customer.tier == 'gold", "unterminated string", 18, id="unterminated"),
    pytest.param("customer.tier == 'a\nb'", "unterminated string", 18, id="string-over-lines"),
    pytest.param("customer.tier == 'a\\", "unterminated string", 18, id="backslash-at-the-end"),
    pytest.param("customer.tier == 'a\\x41'", "unknown escape '\\x'", 20, id="unknown-escape"),
    pytest.param("event.amount >= 1 $", "unexpected character '$'", 19, id="unknown-character"),
    pytest.param("customer.tier == \u2019a\u2019", "character '\u2019'", 18, id="curly-quote"),
    pytest.param("event.amount >= 007", "a number cannot start with 0", 17, id="leading-zeros"),
    pytest.param("event.amount >= 1e5", "digits with an optional decimal part", 17, id="exponent"),
    pytest.param(
        "event.amount >= 1.", "digits with an optional decimal part", 17, id="bare-point"
    ),
    pytest.param("event.amount >= 1.2.3", "digits with an optional", 17, id="two-points"),
    pytest.param("event.amount >= - 3", "only comparisons joined by and/or/not", 17, id="minus"),
    pytest.param("amount >= 1", "unknown name 'amount'", 1, id="unknown-name"),
    pytest.param("evnt.amount >= 1", "unknown namespace 'evnt'", 1, id="unknown-namespace"),
    pytest.param("event.ammount >= 1", "unknown fact 'event.ammount'", 1, id="unknown-fact"),
    pytest.param("event >= 1", "'event' is a namespace, not a fact", 1, id="namespace-alone"),
    pytest.param("event. >= 1", "a fact name was expected after 'event.'", 8, id="event-dot"),
    pytest.param("True", "unknown name 'True'", 1, id="python-true"),
    pytest.param("event.amount == None", "unknown name 'None'", 17, id="python-none"),
    pytest.param("_x == 1", "names starting with '_' are not allowed: '_x'", 1, id="underscore"),
    pytest.param(
        "event.__class__", "names starting with '_' are not allowed: '__class__'", 7, id="dunder"
    ),
    pytest.param("event.count(_a=1) > 1", "starting with '_'", 13, id="underscore-argument"),
    pytest.param("'x'.upper", "'.' is only allowed after a namespace", 4, id="method-of-a-string"),
    pytest.param(
        "event.amount.real >= 1", "'.' is only allowed after", 13, id="attribute-of-fact"
    ),
    pytest.param("event.skus[0] == 'a'", "subscripts are not allowed", 11, id="subscript"),
    pytest.param("event.amount() >= 1", "event.amount takes no arguments", 13, id="call-a-fact"),
    pytest.param(
        "(true)(1)", "only facts that take arguments can be called", 7, id="call-a-group"
    ),
    pytest.param("print(1)", "unknown name 'print'", 1, id="call-a-function"),
    pytest.param(
        "event.count(foo=1) > 1", "event.count has no argument 'foo'", 13, id="bad-keyword"
    ),
    pytest.param(
        "event.count(tag='a', tag='b') > 1", "argument 'tag' is given twice", 22, id="twice"
    ),
    pytest.param("event.count('a') > 1", "event.count takes named arguments", 13, id="positional"),
    pytest.param(
        "customer.preference('a', 'b') == 'x'",
        "customer.preference takes one argument",
        26,
        id="two-positional",
    ),
    pytest.param(
        "event.count(tag=event.amount) > 1", "an argument is a string, a number", 17, id="fact-arg"
    ),
    pytest.param("event.count(tag='a' > 1", "',' or ')' was expected, found '>'", 21, id="no-)"),
    pytest.param("event.count(tag='a'", "'(' was never closed", 12, id="arguments-unclosed"),
    pytest.param(
        "event.count() > 1", "event.count must be at least one argument", 1, id="no-arguments"
    ),
    pytest.param(
        "state.spent_within(days=0) > 1", "must be a positive whole number", 1, id="zero-days"
    ),
    pytest.param(
        "state.spent_within(days=1, months=1) > 1", "exactly one argument", 1, id="days-and-months"
    ),
    pytest.param("event.amount == 'ten'", "event.amount == must be a number", 1, id="wrong-kind"),
    pytest.param("local.weekday == 'MONDAY'", "must be a weekday", 1, id="not-a-weekday"),
    pytest.param(
        "local.hour >= 25",
        "local.hour >= must be a whole number from 0 to 23; got 25",
        1,
        id="hour-past-the-day",
    ),
    pytest.param(
        "event.amount > 5 and local.hour == 7.5",
        "local.hour == must be a whole number from 0 to 23; got 7.5",
        22,
        id="half-an-hour",
    ),
    pytest.param(
        "local.month in [12, 13]",
        "local.month in must be a whole number from 1 to 12; got 13",
        1,
        id="thirteenth-month",
    ),
    pytest.param(
        "customer.tier > 'a'", "customer.tier > must be one of ==", 1, id="ordering-text"
    ),
    pytest.param("local.is_birthday > false", "must be one of ==, !=", 1, id="ordering-a-flag"),
    pytest.param("9**9**9", "only comparisons joined by and/or/not are allowed", 2, id="power"),
    pytest.param("event.amount + 1 >= 2", "only comparisons joined", 14, id="plus"),
    pytest.param("event.amount >= 1 & local.is_birthday", "only comparisons", 19, id="ampersand"),
    pytest.param("event.amount = 5", "only comparisons joined", 14, id="single-equals"),
    pytest.param("event.amount is 5", "only comparisons joined", 14, id="is"),
    pytest.param("lambda: 1", "only comparisons joined by and/or/not", 1, id="lambda"),
    pytest.param("true if true else true", "only comparisons joined", 6, id="if-else"),
    pytest.param("(x := 1)", "unknown name 'x'", 2, id="walrus"),
    pytest.param("1 < event.amount < 2", "chained comparisons are not allowed", 18, id="chained"),
    pytest.param("event.amount", "event.amount is a number, not a condition", 1, id="bare-fact"),
    pytest.param(
        "event.tags", "event.tags is a set of strings, not a condition", 1, id="bare-set"
    ),
    pytest.param("false", "a value alone is not a condition", 1, id="false-alone"),
    pytest.param("50", "a value alone is not a condition", 1, id="number-alone"),
    pytest.param("1 == 1", "one side of a comparison must be a fact", 1, id="two-values"),
    pytest.param("event.amount == event.quantity", "not with another fact", 17, id="two-facts"),
    pytest.param("(true) == true", "a condition in parentheses cannot be", 1, id="group-compared"),
    pytest.param("(event.amount) >= 1", "event.amount is a number, not a", 2, id="fact-in-group"),
    pytest.param("event.tags == 'a'", "event.tags is a set of strings", 1, id="set-compared"),
    pytest.param("'a' in customer.tier", "customer.tier is not a set", 8, id="in-not-a-set"),
    pytest.param("customer.tier in 'a'", "'in' needs a list on its right", 18, id="in-a-string"),
    pytest.param("customer.tier == ['a']", "a list can only follow 'in'", 18, id="list-after-=="),
    pytest.param("['a'] in event.tags", "a list can only follow 'in'", 1, id="list-on-the-left"),
    pytest.param("['a'] == ['a']", "a list can only follow 'in'", 1, id="two-lists"),
    pytest.param("['a']", "a value alone is not a condition", 1, id="list-alone"),
    pytest.param("customer.tier in []", "a list needs at least one value", 18, id="empty-list"),
    pytest.param("customer.tier in ['a'", "'[' was never closed", 18, id="unclosed-list"),
    pytest.param("customer.tier in ['a' 'b']", "',' or ']' was expected", 23, id="no-comma"),
    pytest.param("customer.tier in [['a']]", "a list holds values", 19, id="nested-list"),
    pytest.param(
        "customer.tier in [customer.tier]", "a list holds values", 19, id="fact-in-a-list"
    ),
]


class TestBadText:
    @pytest.mark.parametrize(("text", "problem", "column"), BAD_TEXTS)
    def test_bad_text_is_refused_where_it_goes_wrong(
        self, text: str, problem: str, column: int
    ) -> None:
        error = _error(text)
        assert problem in error.problem
        assert column == error.column

    def test_an_unknown_fact_suggests_close_matches_and_the_registry(self) -> None:
        error = _error("event.ammount >= 1")
        assert error.hint is not None
        assert "event.amount" in error.hint
        assert "custbond.rules.FACTS" in error.hint

    def test_an_unknown_name_suggests_the_facts_it_may_mean(self) -> None:
        error = _error("tags == 'a'")
        assert error.hint is not None
        assert "event.tags" in error.hint
        assert "customer.tags" in error.hint

    def test_errors_name_their_source(self) -> None:
        with pytest.raises(RuleSyntaxError) as raised:
            parse_condition("event.amount >=", source="rules.yaml: coffee-club.when")
        assert "rules.yaml: coffee-club.when" == raised.value.source
        assert str(raised.value).startswith("rules.yaml: coffee-club.when: condition")

    def test_a_problem_on_a_later_line_has_its_line_and_column(self) -> None:
        error = _error("event.amount >= 1\nand customer.tier = 'a'")
        assert (2, 19) == (error.line, error.column)

    def test_wrong_values_keep_the_message_of_the_comparison(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            event.amount == "ten"  # noqa: B015 - builds a Compare, which raises
        assert str(raised.value) == _error("event.amount == 'ten'").problem

    def test_text_that_is_not_a_string_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="a condition written as a string"):
            parse_condition(b"true")  # type: ignore[arg-type]


SANDBOX_ESCAPES = [
    pytest.param("().__class__.__bases__[0].__subclasses__()", id="subclasses"),
    pytest.param("9**9**9", id="power-tower"),
    pytest.param("event.amount >= 9**9**9", id="power-tower-as-a-value"),
    pytest.param("__import__('os').system('x')", id="import"),
    pytest.param("event.__class__", id="dunder-of-a-namespace"),
    pytest.param("(" * 10_000 + "event.amount >= 1" + ")" * 10_000, id="10000-parentheses"),
    pytest.param("(" * 600 + "event.amount >= 1" + ")" * 600, id="600-parentheses"),
    pytest.param("not " * 400 + "local.is_birthday", id="400-nots"),
    pytest.param("event.amount >= " + "9" * 100_000, id="100000-digits"),
    pytest.param("event.amount >= " + "9" * 1_900, id="1900-digits"),
    pytest.param("event.amount >= 0." + "1" * 1_900, id="1900-decimal-digits"),
    pytest.param("lambda: 1", id="lambda"),
    pytest.param("[x for x in ()]", id="comprehension"),
    pytest.param("customer.tier == f'{1}'", id="f-string"),
    pytest.param("customer.tier == 'a'.join(['b'])", id="method-call"),
    pytest.param("open('/etc/passwd')", id="open"),
    pytest.param("event.amount.__class__.__mro__", id="dunder-chain"),
    pytest.param("[" * 1_000 + "]" * 1_000, id="nested-lists"),
    pytest.param("event.count(tag='" + "a" * 1_900 + "') >= 1", id="huge-argument"),
]


class TestSandboxEscapes:
    @pytest.mark.parametrize("text", SANDBOX_ESCAPES)
    def test_escape_attempts_are_syntax_errors(self, text: str) -> None:
        with pytest.raises(RuleSyntaxError):
            parse_condition(text)


class TestLimits:
    def test_text_of_the_longest_length_is_read(self) -> None:
        text = "event.amount >= 50".ljust(MAX_LENGTH)
        assert BIG == parse_condition(text)

    def test_longer_text_is_refused_before_it_is_read(self) -> None:
        error = _error("event.amount >= 50".ljust(MAX_LENGTH + 1))
        assert f"longer than {MAX_LENGTH} characters" in error.problem
        assert MAX_LENGTH + 1 == error.column

    def test_parentheses_nest_as_deep_as_the_limit(self) -> None:
        text = "(" * MAX_DEPTH + "event.amount >= 50" + ")" * MAX_DEPTH
        assert BIG == parse_condition(text)

    def test_parentheses_nested_deeper_are_refused(self) -> None:
        text = "(" * (MAX_DEPTH + 1) + "event.amount >= 50" + ")" * (MAX_DEPTH + 1)
        error = _error(text)
        assert f"nested more than {MAX_DEPTH} levels" in error.problem
        assert MAX_DEPTH + 1 == error.column

    def test_nots_nested_deeper_than_the_limit_are_refused(self) -> None:
        error = _error("not " * (MAX_DEPTH + 1) + "local.is_birthday")
        assert f"nested more than {MAX_DEPTH} levels" in error.problem

    def test_nots_and_parentheses_count_together(self) -> None:
        half = MAX_DEPTH // 2
        deepest = "(not " * half + "local.is_birthday" + ")" * half
        assert isinstance(parse_condition(deepest), Not)
        with pytest.raises(RuleSyntaxError, match="nested more than"):
            parse_condition("not " + deepest)

    def test_side_by_side_groups_do_not_add_up(self) -> None:
        group = "(" * MAX_DEPTH + "event.amount >= 50" + ")" * MAX_DEPTH
        assert AllOf((BIG, BIG)) == parse_condition(f"{group} and {group}")

    @pytest.mark.parametrize(
        ("digits", "expected"),
        [
            pytest.param(str(MAX_INT - 1), MAX_INT - 1, id="less"),
            pytest.param(str(MAX_INT), MAX_INT, id="equal"),
            pytest.param(f"-{MAX_INT}", -MAX_INT, id="equal-negative"),
        ],
    )
    def test_integers_up_to_the_limit_are_read(self, digits: str, expected: int) -> None:
        assert (event.amount >= expected) == parse_condition(f"event.amount >= {digits}")

    @pytest.mark.parametrize(
        "digits",
        [
            pytest.param(str(MAX_INT + 1), id="greater"),
            pytest.param(f"-{MAX_INT + 1}", id="greater-negative"),
            pytest.param("1" + "0" * 100, id="many-digits"),
        ],
    )
    def test_integers_beyond_the_limit_are_refused(self, digits: str) -> None:
        error = _error(f"event.amount >= {digits}")
        assert "numbers must be between" in error.problem
        assert 17 == error.column

    def test_decimals_of_thirty_digits_are_read(self) -> None:
        parsed = parse_condition("event.amount >= 0." + "1" * 30)
        assert isinstance(parsed, Compare)
        assert Decimal("0." + "1" * 30) == parsed.value

    def test_decimals_of_more_digits_are_refused(self) -> None:
        error = _error("event.amount >= 0." + "1" * 31)
        assert "more than 30 digits" in error.problem

    def test_leading_zeros_of_a_fraction_are_not_digits_that_count(self) -> None:
        parsed = parse_condition("event.amount >= 0.0000000001")
        assert isinstance(parsed, Compare)
        assert Decimal("1E-10") == parsed.value

    def test_strings_up_to_the_limit_are_read(self) -> None:
        value = "a" * MAX_TEXT
        assert (customer.tier == value) == parse_condition(f"customer.tier == '{value}'")

    def test_longer_strings_are_refused(self) -> None:
        error = _error(f"customer.tier == '{'a' * (MAX_TEXT + 1)}'")
        assert f"a string of more than {MAX_TEXT} characters" in error.problem
        assert 18 == error.column

    def test_escapes_count_as_one_character(self) -> None:
        value = "\\n" * MAX_TEXT
        assert (customer.tier == "\n" * MAX_TEXT) == parse_condition(f"customer.tier == '{value}'")

    def test_lists_up_to_the_limit_are_read(self) -> None:
        values = [str(number) for number in range(MAX_MEMBERS)]
        text = f"customer.tier in [{', '.join(map(repr, values))}]"
        assert customer.tier.is_in(values) == parse_condition(text)

    def test_longer_lists_are_refused_even_with_repeated_values(self) -> None:
        values = ", ".join(["'a'"] * (MAX_MEMBERS + 1))
        error = _error(f"customer.tier in [{values}]")
        assert f"a list of more than {MAX_MEMBERS} values" in error.problem
        assert 18 == error.column


# -- round trip ----------------------------------------------------------------------------

ROUND_TRIPS = [
    pytest.param(BIG & GOLD & (local.weekday == "TU"), id="the-example"),
    pytest.param(event.has_tag("coffee") | ~APP, id="has-or-not"),
    pytest.param(~(APP | GOLD) & BIG, id="not-a-group"),
    pytest.param(AllOf((APP, AnyOf((GOLD, BIG)))), id="or-inside-and"),
    pytest.param(AnyOf((AllOf((APP, GOLD)), BIG)), id="and-inside-or"),
    pytest.param(Not(Not(AllOf((APP, GOLD)))), id="not-not-a-group"),
    pytest.param(Not(Always()), id="not-true"),
    pytest.param(AllOf((Always(), Always())), id="true-and-true"),
    pytest.param(BIRTHDAY, id="a-flag"),
    pytest.param(Compare("local.is_birthday", "!=", True), id="a-flag-not-true"),
    pytest.param(event.attribute("vip") == True, id="any-kind-true"),  # noqa: E712
    pytest.param(customer.tags.lacks("it's"), id="lacks-a-quote"),
    pytest.param(customer.tier.is_in(["a\\b", 'say "hi"', "tab\there", "cr\rlf"]), id="strings"),
    pytest.param(event.count(sku="A1", tag="coffee") >= 2, id="two-arguments"),
    pytest.param(state.spent_within(months=12) > Decimal("99.99"), id="decimal"),
    pytest.param(event.amount == Decimal("-0.00"), id="negative-zero"),
    pytest.param(event.amount == Decimal("1E+2"), id="decimal-with-an-exponent"),
    pytest.param(event.amount <= Decimal("1E-20"), id="tiny-decimal"),
    pytest.param(event.attribute("n").is_in([1, Decimal("2.5"), "x", False]), id="mixed-list"),
    pytest.param(customer.preference("diet").not_in(["vegan"]), id="not-in"),
]


_PIECES = (
    "event.amount", "customer.tier", "event.tags", "local.is_birthday", "event.count",
    "customer.preference", "event", ".", "(", ")", "[", "]", ",", "=", "==", "!=", "<",
    ">=", "in", "not", "and", "or", "true", "false", "'a'", "'b\\n'", "1", "-2", "0.5",
    "tag", "key", "_x", "**", "-", "x",
)  # fmt: skip


class TestRoundTrip:
    @pytest.mark.parametrize("condition", ROUND_TRIPS)
    def test_the_text_of_a_condition_reads_back_as_it(self, condition: Condition) -> None:
        assert condition == parse_condition(str(condition))

    @given(conditions())
    def test_the_text_of_any_condition_reads_back_as_it(self, condition: Condition) -> None:
        text = str(condition)
        assume(len(text) <= MAX_LENGTH)
        assert condition == parse_condition(text)

    @given(st.text(max_size=100))
    def test_any_text_is_a_condition_or_a_syntax_error(self, text: str) -> None:
        with contextlib.suppress(RuleSyntaxError):
            assert isinstance(parse_condition(text), Condition)

    @given(st.lists(st.sampled_from(_PIECES), max_size=12))
    def test_any_tokens_are_a_condition_or_a_syntax_error(self, pieces: list[str]) -> None:
        with contextlib.suppress(RuleSyntaxError):
            assert isinstance(parse_condition(" ".join(pieces)), Condition)
