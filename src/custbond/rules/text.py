"""The text form of conditions: :func:`parse_condition` reads what ``str(condition)`` writes.

The text is untrusted (it comes from configuration files and admin screens), so it is read
by a small hand-written tokenizer and a recursive-descent parser, and nothing in it is ever
run as Python. It can name the documented facts (:data:`custbond.rules.facts.FACTS`),
literal values, and comparisons joined by ``and``, ``or`` and ``not``; anything else is a
:class:`~custbond.errors.RuleSyntaxError` that says where and why.

The grammar, lowest precedence first::

    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [op operand]          op: == != < <= > >= in, not in
    operand    := fact | literal | list | "(" or_expr ")"
    fact       := NAME "." NAME ["(" arguments ")"]
    literal    := integer | decimal | string | "true" | "false"
    list       := "[" literal ("," literal)* [","] "]"

Parentheses group conditions, not values: ``(event.amount) >= 1`` is an error.
"""

from __future__ import annotations

import difflib
import keyword
import re
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from custbond.errors import InvalidInput, RuleSyntaxError
from custbond.rules.conditions import (
    MAX_DIGITS,
    MAX_INT,
    MAX_MEMBERS,
    MAX_TEXT,
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    Literal,
    Not,
    format_literal,
)
from custbond.rules.facts import FACTS, Kind

__all__ = ["parse_condition"]

MAX_LENGTH = 2000
"""The longest text a condition may be, in characters."""
MAX_DEPTH = 32
"""How deeply parentheses and ``not`` may nest, counted together."""

_MAX_INT_DIGITS = len(str(MAX_INT))

_NAMESPACES = frozenset(name.partition(".")[0] for name in FACTS)
_WORDS = frozenset({"and", "or", "not", "in", "true", "false"})
# Python keywords, so "lambda: 1" or "a if b else c" get the message about operators.
_PYTHON_WORDS = frozenset(keyword.kwlist) - {"True", "False", "None"} - _WORDS
_PYTHON_VALUES = {
    "True": "write true",
    "False": "write false",
    "None": "there is no None: a missing fact makes comparisons false, except != and not in",
}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_MEMBERSHIP = frozenset({"in", "not in"})
_PUNCTUATION = frozenset({"(", ")", "[", "]", ",", "."})
_ONLY_COMPARISONS = "only comparisons joined by and/or/not are allowed"
_OPERATOR_HINTS = {
    "&": "write 'and'",
    "&&": "write 'and'",
    "|": "write 'or'",
    "||": "write 'or'",
    "~": "write 'not'",
    "!": "write 'not'",
    "=": "compare with '=='",
    "is": "compare with '==' or '!='",
}
_FACTS_HINT = "the facts are listed in custbond.rules.FACTS"
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]")
_OPERATORS = (
    # Two characters first, so "<=" is not read as "<" then "=".
    *("==", "!=", "<=", ">=", "**", "//", "<<", ">>", ":=", "->", "&&", "||"),
    *"<>=()[]{},.:;+-*/%@&|~^!",
)
_SPACE = frozenset(" \t\r\n")


def parse_condition(text: str, *, source: str | None = None) -> Condition:
    """The condition written as ``text``: the inverse of ``str(condition)``.

    ``source`` says where the text came from (a file and key path); errors name it.
    Raises :class:`~custbond.errors.RuleSyntaxError` for text that is not a condition.

    >>> from custbond.rules import customer, event
    >>> condition = parse_condition("event.amount >= 50 and customer.tier in ['gold', 'silver']")
    >>> condition == (event.amount >= 50) & customer.tier.is_in(["gold", "silver"])
    True
    >>> parse_condition("'coffee' in event.tags") == event.has_tag("coffee")
    True
    >>> try:
    ...     parse_condition("event.amount >= 9**9")
    ... except RuleSyntaxError as error:
    ...     print(f"column {error.column}: {error.problem}")
    column 18: only comparisons joined by and/or/not are allowed
    """
    given: object = text
    if not isinstance(given, str):
        raise InvalidInput("text", given, "a condition written as a string")
    if len(given) > MAX_LENGTH:
        problem = f"the condition is longer than {MAX_LENGTH} characters"
        raise RuleSyntaxError(given, MAX_LENGTH, problem, source=source)
    if not given.strip():
        hint = "write true for a condition that always holds"
        raise RuleSyntaxError(given, 0, "the condition is empty", hint=hint, source=source)
    return _Parser(given, _Lexer(given, source).tokens(), source).parse()


# -- tokens --------------------------------------------------------------------------------


@attrs.frozen
class _Token:
    """One token: ``kind`` is "name", "number", "string", "op" or "end"."""

    kind: str
    text: str
    offset: int
    value: str = ""  # a string token's value, its escapes resolved

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def is_word(self, *words: str) -> bool:
        return self.kind == "name" and self.text in words

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the condition"
        shown = self.text if len(self.text) <= 20 else self.text[:17] + "..."
        return repr(shown)


class _Lexer:
    """Splits the text into tokens. Every error points at the character that caused it."""

    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.source = source
        self.at = 0

    def error(self, offset: int, problem: str, hint: str | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(self.text, offset, problem, hint=hint, source=self.source)

    def tokens(self) -> list[_Token]:
        found: list[_Token] = []
        while True:
            while self.at < len(self.text) and self.text[self.at] in _SPACE:
                self.at += 1
            if self.at == len(self.text):
                found.append(_Token("end", "", self.at))
                return found
            found.append(self.token())

    def token(self) -> _Token:
        char = self.text[self.at]
        if char in "'\"":
            return self.string()
        if char.isascii() and char.isdigit():
            return self.number()
        name = _NAME.match(self.text, self.at)
        if name:
            return self.take("name", name.end())
        for operator in _OPERATORS:
            if self.text.startswith(operator, self.at):
                return self.take("op", self.at + len(operator))
        raise self.error(self.at, f"unexpected character {char!r}")

    def take(self, kind: str, end: int) -> _Token:
        token = _Token(kind, self.text[self.at : end], self.at)
        self.at = end
        return token

    def number(self) -> _Token:
        match = _NUMBER.match(self.text, self.at)
        assert match is not None  # called on a digit
        if _NUMBER_TAIL.match(self.text, match.end()):
            raise self.error(
                self.at,
                "a number is digits with an optional decimal part",
                hint="write numbers like 42, -3 or 12.50 (no exponents or suffixes)",
            )
        return self.take("number", match.end())

    def string(self) -> _Token:
        start, quote = self.at, self.text[self.at]
        chars: list[str] = []
        at = start + 1
        while True:
            char = self.text[at : at + 1]
            if char in ("", "\n"):  # the end of the text or of the line
                hint = f"end it with {quote} on the same line (write \\n for a line break)"
                raise self.error(start, "unterminated string", hint=hint)
            if char == quote:
                break
            if char == "\\":
                at += 1
                if self.text[at : at + 1] in ("", "\n"):
                    continue  # reported as an unterminated string
                char = self.escape(at)
            chars.append(char)
            at += 1
        if len(chars) > MAX_TEXT:
            raise self.error(start, f"a string of more than {MAX_TEXT} characters")
        self.at = at + 1
        return _Token("string", self.text[start : self.at], start, "".join(chars))

    def escape(self, at: int) -> str:
        """What the escape whose backslash is just before ``at`` stands for."""
        char = self.text[at]
        if char not in _ESCAPES:
            raise self.error(
                at - 1,
                f"unknown escape '\\{char}' in a string",
                hint="the escapes are \\\\, \\', \\\", \\n, \\r and \\t",
            )
        return _ESCAPES[char]


# -- operands ------------------------------------------------------------------------------


@attrs.frozen
class _FactRef:
    """A fact as written: ``event.count(tag='coffee')``."""

    name: str
    args: tuple[tuple[str, Literal], ...]
    offset: int

    @property
    def kind(self) -> Kind:
        return FACTS[self.name].kind


@attrs.frozen
class _Value:
    """A literal: ``50``, ``12.50``, ``'gold'``, ``true``."""

    value: Literal
    offset: int


@attrs.frozen
class _List:
    """A list of literals, only allowed after ``in`` and ``not in``."""

    values: frozenset[Literal]
    offset: int


@attrs.frozen
class _Group:
    """A condition in parentheses."""

    condition: Condition
    offset: int


_Operand: TypeAlias = _FactRef | _Value | _List | _Group


# -- the parser ----------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule.

    Nesting is counted in ``depth`` and bounded by :data:`MAX_DEPTH`, so deeply nested
    text is an error long before Python's recursion limit.
    """

    def __init__(self, text: str, tokens: list[_Token], source: str | None) -> None:
        self.text = text
        self.tokens = tokens
        self.source = source
        self.index = 0
        self.depth = 0

    def parse(self) -> Condition:
        condition = self.or_expr()
        end = self.peek()
        if end.kind != "end":
            raise self.unexpected(end, opened=None)
        return condition

    # -- helpers ---------------------------------------------------------------------------

    def error(self, offset: int, problem: str, hint: str | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(self.text, offset, problem, hint=hint, source=self.source)

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def previous(self) -> _Token:
        return self.tokens[self.index - 1]

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            problem = f"the condition is nested more than {MAX_DEPTH} levels deep"
            raise self.error(token.offset, problem, hint="parentheses and 'not' count together")

    def expected(self, what: str, token: _Token) -> RuleSyntaxError:
        """``what`` was expected where ``token`` is."""
        if token.kind == "end":
            return self.error(token.offset, f"{what} was expected after {self.previous().text!r}")
        if self.is_forbidden(token):
            return self.forbidden(token)
        return self.error(token.offset, f"{what} was expected, found {token.describe()}")

    def is_forbidden(self, token: _Token) -> bool:
        """An operator or Python keyword that has no place in a condition."""
        if token.kind == "op":
            return token.text not in _COMPARISONS and token.text not in _PUNCTUATION
        return token.kind == "name" and token.text in _PYTHON_WORDS

    def forbidden(self, token: _Token) -> RuleSyntaxError:
        return self.error(token.offset, _ONLY_COMPARISONS, _OPERATOR_HINTS.get(token.text))

    def unexpected(self, token: _Token, opened: _Token | None) -> RuleSyntaxError:
        """``token`` follows a complete condition, inside the parenthesis ``opened``."""
        if token.kind == "end" and opened is not None:
            return self.error(opened.offset, "'(' was never closed")
        if token.is_op(")") and opened is None:
            return self.error(token.offset, "unmatched ')'")
        if self.is_forbidden(token):
            return self.forbidden(token)
        if opened is not None:
            return self.error(token.offset, f"')' was expected, found {token.describe()}")
        hint = "join conditions with 'and' or 'or'"
        return self.error(token.offset, f"unexpected {token.describe()}", hint=hint)

    # -- conditions ------------------------------------------------------------------------

    def or_expr(self) -> Condition:
        parts = [self.and_expr()]
        while self.peek().is_word("or"):
            self.next()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else AnyOf(parts)

    def and_expr(self) -> Condition:
        parts = [self.not_expr()]
        while self.peek().is_word("and"):
            self.next()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else AllOf(parts)

    def not_expr(self) -> Condition:
        # A loop rather than recursion: "not not not ..." costs no stack.
        count = 0
        while self.peek().is_word("not"):
            self.enter(self.next())
            count += 1
        condition = self.comparison()
        for _ in range(count):
            condition = Not(condition)
        self.depth -= count
        return condition

    def comparison(self) -> Condition:
        start = self.peek().offset
        left = self.operand("a condition")
        op = self.comparison_op()
        if op is None:
            if self.is_forbidden(self.peek()):  # "event.amount + 1 >= 2"
                raise self.forbidden(self.peek())
            return self.alone(left)
        right = self.operand("a value")
        second = self.peek()
        if self.comparison_op() is not None:
            raise self.error(
                second.offset,
                "chained comparisons are not allowed",
                hint="join two comparisons with 'and'",
            )
        return self.compare(left, op, right, start)

    def comparison_op(self) -> str | None:
        """The comparison operator at this point, consumed; ``None`` when there is none."""
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.next()
            return token.text
        if token.is_word("in"):
            self.next()
            return "in"
        if token.is_word("not") and self.peek(1).is_word("in"):
            self.next()
            self.next()
            return "not in"
        return None

    # -- operands --------------------------------------------------------------------------

    def operand(self, what: str) -> _Operand:
        token = self.peek()
        found: _Operand
        if token.is_op("("):
            found = self.group()
        elif token.is_op("["):
            found = self.list_of_values()
        elif token.kind == "name" and token.text in _NAMESPACES:
            found = self.fact()
        else:
            found = self.literal(what)
        self.no_postfix()
        return found

    def group(self) -> _Group:
        opened = self.next()
        self.enter(opened)
        condition = self.or_expr()
        if not self.peek().is_op(")"):
            raise self.unexpected(self.peek(), opened)
        self.next()
        self.depth -= 1
        return _Group(condition, opened.offset)

    def no_postfix(self) -> None:
        """Attribute access, subscripts and calls, after anything but a namespace."""
        token = self.peek()
        if token.is_op("."):
            problem = f"'.' is only allowed after a namespace ({', '.join(sorted(_NAMESPACES))})"
            raise self.error(token.offset, problem)
        if token.is_op("["):
            raise self.error(token.offset, "subscripts are not allowed")
        if token.is_op("("):
            raise self.error(token.offset, "only facts that take arguments can be called")

    def literal(self, what: str) -> _Value:
        token = self.peek()
        if token.kind == "name":
            self.check_name(token)
        value = self.maybe_literal()
        if value is None:
            raise self.expected(what, token)
        return value

    def maybe_literal(self) -> _Value | None:
        """The literal at this point, consumed; ``None`` (nothing consumed) when there is none."""
        token = self.peek()
        if token.kind == "string":
            self.next()
            return _Value(token.value, token.offset)
        if token.kind == "number":
            self.next()
            return _Value(self.number(token, sign=""), token.offset)
        if token.is_op("-") and self.peek(1).kind == "number":
            digits = self.peek(1)
            if digits.offset == token.offset + 1:  # "-3", not "- 3"
                self.index += 2
                return _Value(self.number(digits, sign="-"), token.offset)
        if token.is_word("true", "false"):
            self.next()
            return _Value(token.text == "true", token.offset)
        return None

    def number(self, token: _Token, sign: str) -> int | Decimal:
        # The digits are counted before converting: int() of a huge string is slow.
        whole, point, fraction = token.text.partition(".")
        offset = token.offset - len(sign)
        if len(whole) > 1 and whole.startswith("0"):
            hint = f"write {sign}{whole.lstrip('0') or '0'}{point}{fraction}"
            raise self.error(offset, "a number cannot start with 0", hint=hint)
        out_of_range = f"numbers must be between {-MAX_INT} and {MAX_INT}"
        if len(whole) > _MAX_INT_DIGITS:
            raise self.error(offset, out_of_range)
        if point:
            if len((whole + fraction).lstrip("0")) > MAX_DIGITS:
                problem = f"a decimal number of more than {MAX_DIGITS} digits"
                raise self.error(offset, problem)
            return Decimal(sign + token.text)  # from the text, exact: never via float
        value = int(sign + whole)
        if abs(value) > MAX_INT:
            raise self.error(offset, out_of_range)
        return value

    def list_of_values(self) -> _List:
        opened = self.next()
        values: list[Literal] = []
        while not self.peek().is_op("]"):
            value = self.maybe_literal()
            if value is None:
                raise self.bad_member(self.peek(), opened)
            values.append(value.value)
            if len(values) > MAX_MEMBERS:
                raise self.error(opened.offset, f"a list of more than {MAX_MEMBERS} values")
            if self.peek().is_op(","):
                self.next()
            elif not self.peek().is_op("]"):
                raise self.bad_member(self.peek(), opened, after_value=True)
        self.next()
        if not values:
            raise self.error(opened.offset, "a list needs at least one value")
        return _List(frozenset(values), opened.offset)

    def bad_member(self, token: _Token, opened: _Token, after_value: bool = False) -> Exception:
        if token.kind == "end":
            return self.error(opened.offset, "'[' was never closed")
        if after_value:
            return self.error(token.offset, f"',' or ']' was expected, found {token.describe()}")
        problem = "a list holds values: strings, numbers, true or false"
        return self.error(token.offset, f"{problem}; found {token.describe()}")

    # -- facts -----------------------------------------------------------------------------

    def check_name(self, token: _Token) -> None:
        """A name that is neither a namespace nor a literal: always an error."""
        name = token.text
        if name.startswith("_"):
            raise self.error(token.offset, f"names starting with '_' are not allowed: {name!r}")
        if name in _PYTHON_WORDS or name in _WORDS:
            return  # a literal, or reported as what was expected instead
        if name in _PYTHON_VALUES:
            raise self.error(token.offset, f"unknown name {name!r}", _PYTHON_VALUES[name])
        if self.peek(1).is_op(".") and self.peek(2).kind == "name":
            dotted = f"{name}.{self.peek(2).text}"
            raise self.error(token.offset, f"unknown namespace {name!r}", _suggest(dotted))
        raise self.error(token.offset, f"unknown name {name!r}", _suggest(name))

    def fact(self) -> _FactRef:
        namespace = self.next()
        example = next(name for name in FACTS if name.startswith(f"{namespace.text}."))
        hint = f"name a fact, like {example}; {_FACTS_HINT}"
        if not self.peek().is_op("."):
            problem = f"{namespace.text!r} is a namespace, not a fact"
            raise self.error(namespace.offset, problem, hint=hint)
        self.next()
        token = self.next()
        if token.kind != "name":
            problem = f"a fact name was expected after '{namespace.text}.'"
            raise self.error(token.offset, problem, hint=hint)
        if token.text.startswith("_"):
            problem = f"names starting with '_' are not allowed: {token.text!r}"
            raise self.error(token.offset, problem)
        name = f"{namespace.text}.{token.text}"
        if name not in FACTS:
            raise self.error(namespace.offset, f"unknown fact {name!r}", _suggest(name))
        args: tuple[tuple[str, Literal], ...] = ()
        if self.peek().is_op("("):
            if not FACTS[name].params:
                raise self.error(self.peek().offset, f"{name} takes no arguments")
            args = self.arguments(name)
        return _FactRef(name, args, namespace.offset)

    def arguments(self, fact: str) -> tuple[tuple[str, Literal], ...]:
        opened = self.next()
        params = [param.name for param in FACTS[fact].params]
        args: dict[str, Literal] = {}
        while not self.peek().is_op(")"):
            token = self.peek()
            if token.kind == "name" and self.peek(1).is_op("="):
                name = self.argument_name(fact, params, args)
            elif len(params) == 1 and not args:
                name = params[0]
            elif len(params) == 1:
                raise self.error(token.offset, f"{fact} takes one argument")
            else:
                hint = f"write {fact}({'=..., '.join(params)}=...)"
                raise self.error(token.offset, f"{fact} takes named arguments", hint=hint)
            args[name] = self.argument_value(opened)
            if self.peek().is_op(","):
                self.next()
            elif not self.peek().is_op(")"):
                if self.peek().kind == "end":
                    raise self.error(opened.offset, "'(' was never closed")
                found = self.peek().describe()
                raise self.error(self.peek().offset, f"',' or ')' was expected, found {found}")
        self.next()
        return tuple(args.items())

    def argument_value(self, opened: _Token) -> Literal:
        value = self.maybe_literal()
        if value is not None:
            return value.value
        token = self.peek()
        if token.kind == "end":
            raise self.error(opened.offset, "'(' was never closed")
        problem = "an argument is a string, a number, true or false"
        raise self.error(token.offset, f"{problem}; found {token.describe()}")

    def argument_name(self, fact: str, params: list[str], args: dict[str, Literal]) -> str:
        token = self.next()
        self.next()  # "="
        if token.text.startswith("_"):
            problem = f"names starting with '_' are not allowed: {token.text!r}"
            raise self.error(token.offset, problem)
        if token.text not in params:
            hint = f"its arguments are: {', '.join(params)}"
            raise self.error(token.offset, f"{fact} has no argument {token.text!r}", hint=hint)
        if token.text in args:
            raise self.error(token.offset, f"argument {token.text!r} is given twice")
        return token.text

    # -- meaning ---------------------------------------------------------------------------

    def alone(self, operand: _Operand) -> Condition:
        """An operand with no comparison: a group, a true/false fact, or ``true``."""
        if isinstance(operand, _Group):
            return operand.condition
        if isinstance(operand, _FactRef):
            if operand.kind is Kind.FLAG:
                return self.build(operand, "==", True, operand.offset)
            problem = f"{operand.name} is {operand.kind.value}, not a condition"
            raise self.error(operand.offset, problem, hint=_compare_hint(operand))
        if isinstance(operand, _Value) and operand.value is True:
            return Always()
        hint = "compare a fact with it; true alone is the condition that always holds"
        raise self.error(operand.offset, "a value alone is not a condition", hint=hint)

    def compare(self, left: _Operand, op: str, right: _Operand, start: int) -> Condition:
        if isinstance(left, _Group) or isinstance(right, _Group):
            group = left if isinstance(left, _Group) else right
            raise self.error(group.offset, "a condition in parentheses cannot be compared")
        if isinstance(left, _List):
            raise self.error(left.offset, "a list can only follow 'in' or 'not in'")
        if isinstance(left, _FactRef) and isinstance(right, _FactRef):
            problem = "a fact can only be compared with a value, not with another fact"
            raise self.error(right.offset, problem)
        if isinstance(right, _FactRef):
            assert isinstance(left, _Value)
            return self.value_first(left, op, right, start)
        if not isinstance(left, _FactRef):
            raise self.error(start, "one side of a comparison must be a fact")
        return self.fact_first(left, op, right, start)

    def value_first(self, value: _Value, op: str, fact: _FactRef, start: int) -> Condition:
        """``50 <= event.amount`` and ``'coffee' in event.tags``."""
        if op not in _MEMBERSHIP:
            return self.fact_first(fact, _FLIPPED[op], value, start)
        if fact.kind is not Kind.SET:
            problem = f"{fact.name} is not a set: a value can only be 'in' a fact that is a set"
            hint = f"to compare {fact.name} with several values, write {fact.name} {op} [...]"
            raise self.error(fact.offset, problem, hint=hint)
        return self.build(fact, "has" if op == "in" else "lacks", value.value, start)

    def fact_first(self, fact: _FactRef, op: str, right: _Value | _List, start: int) -> Condition:
        if fact.kind is Kind.SET:
            problem = f"{fact.name} is a set of strings: test whether it holds a value"
            raise self.error(fact.offset, problem, hint=_compare_hint(fact))
        if op in _MEMBERSHIP and not isinstance(right, _List):
            hint = f"write {op} ['a', 'b']"
            raise self.error(right.offset, f"{op!r} needs a list on its right", hint=hint)
        if isinstance(right, _List):
            if op not in _MEMBERSHIP:
                raise self.error(right.offset, "a list can only follow 'in' or 'not in'")
            return self.build(fact, op, right.values, start)
        return self.build(fact, op, right.value, start)

    def build(self, fact: _FactRef, op: str, value: Any, start: int) -> Compare:
        try:
            return Compare(fact.name, op, value, fact.args)
        except InvalidInput as error:
            # The value as the condition writes it: 7.5, not Decimal('7.5').
            literal = isinstance(error.value, str | int | Decimal | frozenset)
            shown = format_literal(error.value) if literal else repr(error.value)
            problem = f"{error.field} must be {error.expected}; got {shown}"
            raise self.error(start, problem) from None


def _suggest(name: str) -> str:
    """A hint naming the facts closest to ``name``."""
    short = name.rpartition(".")[2]
    same_short = [fact for fact in FACTS if fact.rpartition(".")[2] == short]
    close = difflib.get_close_matches(name, [*FACTS, *_NAMESPACES], n=3)
    matches = list(dict.fromkeys([*same_short, *close]))[:3]
    if not matches:
        return _FACTS_HINT
    return f"did you mean {' or '.join(matches)}? {_FACTS_HINT}"


def _compare_hint(fact: _FactRef) -> str:
    examples = {
        Kind.NUMBER: f"{fact.name} >= 1",
        Kind.TEXT: f"{fact.name} == 'x'",
        Kind.WEEKDAY: f"{fact.name} == 'MO'",
        Kind.SET: f"'x' in {fact.name} or 'x' not in {fact.name}",
        Kind.FLAG: fact.name,
        Kind.ANY: f"{fact.name} == 'x'",
    }
    return f"write {examples[fact.kind]}"
