"""Conditions: when a rule applies, as composable values compiled into plain functions.

Build them in Python from the fact namespaces and combine them with ``&``, ``|`` and
``~``; or write them as text (:func:`custbond.rules.parse_condition`), which gives the
same values. ``str(condition)`` is that text form again.

>>> from custbond.rules import customer, event, local
>>> gold_tuesdays = (event.amount >= 50) & (customer.tier == "gold") & (local.weekday == "TU")
>>> print(gold_tuesdays)
event.amount >= 50 and customer.tier == 'gold' and local.weekday == 'TU'
>>> print(event.has_tag("coffee") | ~(event.channel == "app"))
'coffee' in event.tags or not event.channel == 'app'

A condition is compiled once (:meth:`Condition.compile`) into a function of the facts
that returns ``None`` when the condition holds, and otherwise the part of it that failed,
so a trace can say which comparison stopped a rule without evaluating anything twice.
:meth:`Condition.evaluate` is a plain interpreter of the same meaning, kept simple on
purpose: the tests check the compiled form against it.

Missing values (a customer without a tier, a first purchase with no previous one) make
every comparison false except ``!=`` and ``not in``, which are true.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeAlias, cast

import attrs

from custbond._validate import MAX_AMOUNT
from custbond.errors import InvalidInput
from custbond.rules.facts import FACTS, WEEKDAYS, Facts, FactSpec, Kind

__all__ = [
    "AllOf",
    "Always",
    "AnyOf",
    "Compare",
    "Condition",
    "Fact",
    "Not",
    "customer",
    "event",
    "local",
    "state",
]

Literal: TypeAlias = int | Decimal | str | bool
Value: TypeAlias = Literal | frozenset[Any]
# A compiled condition: None when it holds, else the part of it that failed.
Check: TypeAlias = Callable[[Facts], "Condition | None"]

# Bounds on literals, so a rule cannot smuggle in a value that is costly to handle.
MAX_TEXT = 200
MAX_MEMBERS = 100
MAX_INT = 10**15
MAX_DIGITS = 30  # of a Decimal literal

ORDERING = ("<", "<=", ">", ">=")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda fact, values: fact in values,
    "not in": lambda fact, values: fact not in values,
    "has": lambda fact, value: value in fact,
    "lacks": lambda fact, value: value not in fact,
}
_ALLOWED_OPS: dict[Kind, tuple[str, ...]] = {
    Kind.NUMBER: ("==", "!=", *ORDERING, "in", "not in"),
    Kind.TEXT: ("==", "!=", "in", "not in"),
    Kind.WEEKDAY: ("==", "!=", "in", "not in"),
    Kind.SET: ("has", "lacks"),
    Kind.FLAG: ("==", "!="),
    Kind.ANY: ("==", "!=", *ORDERING, "in", "not in"),
}


class Condition:
    """What every condition can do. Subclasses are frozen attrs values."""

    __slots__ = ()

    def compile(self) -> Check:
        """A function of the facts: ``None`` when the condition holds, else what failed."""
        raise NotImplementedError

    def evaluate(self, facts: Facts) -> bool:
        """Whether the condition holds, by plain interpretation (slower than compiled)."""
        raise NotImplementedError

    def facts(self) -> frozenset[str]:
        """The names of the facts this condition reads."""
        return frozenset(leaf.fact for leaf in self.comparisons())

    def comparisons(self) -> tuple[Compare, ...]:
        """The comparisons this condition is made of, in order."""
        raise NotImplementedError

    def __and__(self, other: Condition | Fact) -> AllOf:
        return AllOf((self, as_condition(other)))

    def __rand__(self, other: Condition | Fact) -> AllOf:
        return AllOf((as_condition(other), self))

    def __or__(self, other: Condition | Fact) -> AnyOf:
        return AnyOf((self, as_condition(other)))

    def __ror__(self, other: Condition | Fact) -> AnyOf:
        return AnyOf((as_condition(other), self))

    def __invert__(self) -> Not:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError(
            "a condition has no truth value of its own: combine conditions with &, | and ~ "
            "(not with 'and', 'or', 'not'), and evaluate them through a rule"
        )


# -- literals ------------------------------------------------------------------------------


def _literal(field: str, value: Any) -> Literal:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise InvalidInput(field, value, f"a number between {-MAX_INT} and {MAX_INT}")
        return value
    if isinstance(value, Decimal):
        if (
            not value.is_finite()
            or value.copy_abs() > MAX_AMOUNT  # exact, where abs() would round
            or len(value.as_tuple().digits) > MAX_DIGITS
        ):
            raise InvalidInput(field, value, f"a finite Decimal of at most {MAX_DIGITS} digits")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise InvalidInput(field, value, f"a string of at most {MAX_TEXT} characters")
        return value
    if isinstance(value, float):
        raise InvalidInput(field, value, "an int or a Decimal (floats are inexact)")
    raise InvalidInput(field, value, "a number, a string, or true/false")


def _kind_of(value: Literal) -> Kind:
    if isinstance(value, bool):
        return Kind.FLAG
    if isinstance(value, int | Decimal):
        return Kind.NUMBER
    return Kind.TEXT


def _fits(kind: Kind, value: Literal) -> bool:
    if kind is Kind.ANY:
        return True
    if kind is Kind.WEEKDAY:
        return value in WEEKDAYS
    if kind is Kind.SET:
        return isinstance(value, str)
    return _kind_of(value) is kind


def _check_splits(where: str, op: str, value: Any, between: tuple[int, int]) -> None:
    """Refuse an ordering at an end of ``between`` that could never hold or always would:
    ``local.hour > 23``, ``local.hour <= 23``."""
    low, high = between
    holds = {(">", high): "never", ("<", low): "never", (">=", low): "always"}
    holds[("<=", high)] = "always"
    said = holds.get((op, value))
    if said is not None:
        expected = (
            f"a whole number from {low} to {high} that some of them pass and some fail"
            f" ({where} {value} would {said} hold)"
        )
        raise InvalidInput(where, value, expected)


def _within(between: tuple[int, int], value: Literal) -> bool:
    """Whether ``value`` is one of the whole numbers ``between`` bounds: ``local.hour >=
    25`` could never hold, and ``local.hour == 7.5`` neither."""
    low, high = between
    return isinstance(value, int | Decimal) and value == int(value) and low <= value <= high


def format_literal(value: Value) -> str:
    """A literal as the text form writes it."""
    if isinstance(value, frozenset):
        return "[" + ", ".join(map(format_literal, _sorted(value))) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = escaped.replace(char, escape)
    return "'" + escaped + "'"


def _sorted(values: frozenset[Any]) -> list[Any]:
    """Numbers by value (an int and a Decimal of one value print alike), then strings."""

    def key(item: Any) -> tuple[int, Any]:
        if isinstance(item, bool):
            return (2, item)
        if isinstance(item, int | Decimal):
            return (0, item)
        return (1, item)

    return sorted(values, key=key)


# -- comparisons ---------------------------------------------------------------------------


def _args(instance: Compare, attribute: Any, args: Any) -> None:
    spec = FACTS.get(instance.fact)
    if spec is None:
        return  # reported by the fact's own check
    given = dict(args)
    names = {param.name for param in spec.params}
    for name, value in args:
        if name not in names:
            expected = ", ".join(sorted(names)) or "no arguments"
            raise InvalidInput(f"{instance.fact}({name}=...)", value, f"one of: {expected}")
        param = next(param for param in spec.params if param.name == name)
        _literal(f"{instance.fact}({name}=...)", value)
        if not _fits(param.kind, value):
            raise InvalidInput(f"{instance.fact}({name}=...)", value, param.kind.value)
        if param.kind is Kind.NUMBER and not (isinstance(value, int) and value > 0):
            raise InvalidInput(f"{instance.fact}({name}=...)", value, "a positive whole number")
    for param in spec.params:
        if param.required and param.name not in given:
            raise InvalidInput(instance.fact, None, f"a value for its argument {param.name!r}")
    if spec.choose == "any" and not given:
        options = " and/or ".join(param.name for param in spec.params)
        raise InvalidInput(instance.fact, None, f"at least one argument: {options}")
    if spec.choose == "one" and len(given) != 1:
        options = " or ".join(param.name for param in spec.params)
        raise InvalidInput(instance.fact, dict(given), f"exactly one argument: {options}")


def _sorted_args(args: Iterable[tuple[str, Any]] | dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    items = args.items() if isinstance(args, dict) else args
    return tuple(sorted((name, value) for name, value in items if value is not None))


@attrs.frozen
class Compare(Condition):
    """``fact op value``: ``event.amount >= 50``, ``customer.tier in ['gold', 'silver']``,
    ``'coffee' in event.tags`` (op ``has``).

    ``fact`` is a documented fact's name (see :data:`custbond.rules.facts.FACTS`) and
    ``args`` its arguments, if it takes any. ``op`` is one of ``==``, ``!=``, ``<``,
    ``<=``, ``>``, ``>=``, ``in``, ``not in`` (value: a set of literals), ``has`` and
    ``lacks`` (for facts that are sets). Prefer the builders: ``event.amount >= 50``.
    """

    fact: str = attrs.field()
    op: str = attrs.field()
    value: Value = attrs.field()
    args: tuple[tuple[str, Any], ...] = attrs.field(
        default=(), converter=_sorted_args, validator=_args
    )
    # The getter and the printed form, made on first use: traces need both often.
    _cache: dict[str, Any] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    @fact.validator
    def _check_fact(self, attribute: Any, name: Any) -> None:
        if name not in FACTS:
            raise InvalidInput("fact", name, "one of the documented facts (custbond.rules.FACTS)")

    @op.validator
    def _check_op(self, attribute: Any, op: Any) -> None:
        spec = FACTS.get(self.fact)
        assert spec is not None
        allowed = _ALLOWED_OPS[spec.kind]
        if op not in allowed:
            raise InvalidInput(
                f"{self.fact} {op}", op, f"one of {', '.join(allowed)} ({spec.kind.value})"
            )

    @value.validator
    def _check_value(self, attribute: Any, value: Any) -> None:
        spec = FACTS[self.fact]
        where = f"{self.fact} {self.op}"
        if self.op in ("in", "not in"):
            if not isinstance(value, frozenset) or not value or len(value) > MAX_MEMBERS:
                raise InvalidInput(where, value, f"a list of 1 to {MAX_MEMBERS} values")
            members = value
        else:
            members = frozenset([value]) if not isinstance(value, frozenset) else value
            if isinstance(value, frozenset):
                raise InvalidInput(where, value, "a single value (lists go with 'in')")
        for member in members:
            _literal(where, member)
            if not _fits(spec.kind, member):
                expected = "a string" if spec.kind is Kind.SET else spec.kind.value
                raise InvalidInput(where, member, expected)
            if spec.between is not None and not _within(spec.between, member):
                low, high = spec.between
                raise InvalidInput(where, member, f"a whole number from {low} to {high}")
        if spec.between is not None and self.op in ORDERING:
            _check_splits(where, self.op, value, spec.between)
        if self.op in ORDERING and spec.kind is Kind.NUMBER and isinstance(value, bool):
            raise InvalidInput(where, value, spec.kind.value)

    # -- meaning -------------------------------------------------------------------------

    @property
    def spec(self) -> FactSpec:
        return FACTS[self.fact]

    def getter(self) -> Callable[[Facts], Any]:
        """The function reading this comparison's fact from the facts."""
        getter: Callable[[Facts], Any] | None = self._cache.get("getter")
        if getter is None:
            getter = self._cache["getter"] = self.spec.build(**dict(self.args))
        return getter

    def actual(self, facts: Facts) -> Any:
        """The fact's value in ``facts``: what a trace shows when the comparison fails."""
        return self.getter()(facts)

    def evaluate(self, facts: Facts) -> bool:
        found = self.actual(facts)
        if found is None and self.op not in ("!=", "not in"):
            return False
        try:
            return bool(_OPS[self.op](found, self.value))
        except TypeError:  # an attribute of another type than the value: not equal
            return self.op in ("!=", "not in")

    def compile(self) -> Check:
        get = self.getter()
        value = self.value
        leaf = self
        op = self.op
        may_fail = self.spec.optional or self.spec.kind is Kind.ANY
        if not may_fail:  # the common case, without guards: one call and one comparison
            if op == "==":
                return lambda facts: None if get(facts) == value else leaf
            if op == ">=":
                return lambda facts: None if get(facts) >= value else leaf
            if op == ">":
                return lambda facts: None if get(facts) > value else leaf
            if op == "<=":
                return lambda facts: None if get(facts) <= value else leaf
            if op == "<":
                return lambda facts: None if get(facts) < value else leaf
            if op == "in":
                members = cast(frozenset[Any], value)
                return lambda facts: None if get(facts) in members else leaf
            if op == "has":
                return lambda facts: None if value in get(facts) else leaf
        compare = _OPS[op]
        when_missing = None if op in ("!=", "not in") else leaf

        def check(facts: Facts) -> Condition | None:
            found = get(facts)
            if found is None:
                return when_missing
            try:
                return None if compare(found, value) else leaf
            except TypeError:
                return when_missing

        return check

    def comparisons(self) -> tuple[Compare, ...]:
        return (self,)

    def fact_text(self) -> str:
        """The fact as written: ``event.count(tag='coffee')``."""
        if not self.args:
            return self.fact
        text: str | None = self._cache.get("fact")
        if text is None:
            args = ", ".join(f"{name}={format_literal(value)}" for name, value in self.args)
            text = self._cache["fact"] = f"{self.fact}({args})"
        return text

    def __str__(self) -> str:
        text: str | None = self._cache.get("text")
        if text is None:
            text = self._cache["text"] = self._format()
        return text

    def _format(self) -> str:
        fact = self.fact_text()
        if self.op == "has":
            return f"{format_literal(self.value)} in {fact}"
        if self.op == "lacks":
            return f"{format_literal(self.value)} not in {fact}"
        if self.spec.kind is Kind.FLAG and self.op == "==" and self.value is True:
            return fact
        return f"{fact} {self.op} {format_literal(self.value)}"


# -- combinations --------------------------------------------------------------------------


def _flatten(kind: type[AllOf | AnyOf]) -> Callable[[Iterable[Any]], tuple[Condition, ...]]:
    def flatten(parts: Iterable[Any]) -> tuple[Condition, ...]:
        flat: list[Condition] = []
        for given in parts:
            part = as_condition(given)
            flat.extend(part.parts if isinstance(part, kind) else (part,))
        return tuple(flat)

    return flatten


def _all_of_parts(parts: Iterable[Any]) -> tuple[Condition, ...]:
    return _flatten(AllOf)(parts)


def _any_of_parts(parts: Iterable[Any]) -> tuple[Condition, ...]:
    return _flatten(AnyOf)(parts)


def _one_condition(part: Any) -> Condition:
    return as_condition(part)


def _two_or_more(instance: Any, attribute: Any, parts: tuple[Condition, ...]) -> None:
    if len(parts) < 2:
        raise InvalidInput(attribute.name, parts, "at least two conditions")


@attrs.frozen
class AllOf(Condition):
    """Every part holds (``a & b``; ``a and b`` in text). Parts are checked in order and
    the first that fails stops the check."""

    parts: tuple[Condition, ...] = attrs.field(converter=_all_of_parts, validator=_two_or_more)

    def evaluate(self, facts: Facts) -> bool:
        return all(part.evaluate(facts) for part in self.parts)

    def compile(self) -> Check:
        checks = [part.compile() for part in self.parts]
        combined = checks[-1]
        for check in reversed(checks[:-1]):
            combined = _both(check, combined)
        return combined

    def comparisons(self) -> tuple[Compare, ...]:
        return tuple(leaf for part in self.parts for leaf in part.comparisons())

    def __str__(self) -> str:
        return " and ".join(
            f"({part})" if isinstance(part, AnyOf) else str(part) for part in self.parts
        )


def _both(first: Check, rest: Check) -> Check:
    def both(facts: Facts) -> Condition | None:
        failed = first(facts)  # the first failure found is the answer
        return rest(facts) if failed is None else failed

    return both


@attrs.frozen
class AnyOf(Condition):
    """At least one part holds (``a | b``; ``a or b`` in text). When none does, the
    failure reported is the whole ``AnyOf``."""

    parts: tuple[Condition, ...] = attrs.field(converter=_any_of_parts, validator=_two_or_more)

    def evaluate(self, facts: Facts) -> bool:
        return any(part.evaluate(facts) for part in self.parts)

    def compile(self) -> Check:
        checks = tuple(part.compile() for part in self.parts)
        whole = self

        def check(facts: Facts) -> Condition | None:
            for part in checks:
                if part(facts) is None:
                    return None
            return whole

        return check

    def comparisons(self) -> tuple[Compare, ...]:
        return tuple(leaf for part in self.parts for leaf in part.comparisons())

    def __str__(self) -> str:
        return " or ".join(map(str, self.parts))


@attrs.frozen
class Not(Condition):
    """The part does not hold (``~a``; ``not a`` in text)."""

    part: Condition = attrs.field(converter=_one_condition)

    def evaluate(self, facts: Facts) -> bool:
        return not self.part.evaluate(facts)

    def compile(self) -> Check:
        inner = self.part.compile()
        whole = self
        return lambda facts: whole if inner(facts) is None else None

    def comparisons(self) -> tuple[Compare, ...]:
        return self.part.comparisons()

    def __str__(self) -> str:
        if isinstance(self.part, AllOf | AnyOf):
            return f"not ({self.part})"
        return f"not {self.part}"


@attrs.frozen
class Always(Condition):
    """Holds for every event: the condition of a rule without ``when``."""

    def evaluate(self, facts: Facts) -> bool:
        return True

    def compile(self) -> Check:
        return lambda facts: None

    def comparisons(self) -> tuple[Compare, ...]:
        return ()

    def __str__(self) -> str:
        return "true"


def as_condition(value: Any) -> Condition:
    """``value`` as a condition: conditions as they are, a true/false fact as ``fact``."""
    if isinstance(value, Condition):
        return value
    if isinstance(value, Fact):
        if FACTS[value.name].kind is not Kind.FLAG:
            raise InvalidInput(
                "condition", value.name, "a comparison (only true/false facts stand alone)"
            )
        return Compare(value.name, "==", True, value.args)
    raise InvalidInput("condition", value, "a condition (built from custbond.rules facts)")


# -- the builders --------------------------------------------------------------------------


def _members(values: Iterable[Any]) -> frozenset[Any]:
    if isinstance(values, str):  # 'gold' would become {'g', 'o', 'l', 'd'}
        raise InvalidInput("values", values, "a list of values, not a single string")
    return frozenset(values)


class Fact:
    """A fact about to be compared: ``event.amount`` in ``event.amount >= 50``.

    Comparison operators build :class:`Compare` conditions; ``is_in``/``not_in`` test
    membership in a list, ``has``/``lacks`` test a set fact for a member. A true/false
    fact (``local.is_birthday``) can stand alone as a condition.
    """

    __slots__ = ("args", "name")

    def __init__(self, name: str, args: tuple[tuple[str, Any], ...] = ()) -> None:
        if name not in FACTS:
            raise InvalidInput("fact", name, "one of the documented facts (custbond.rules.FACTS)")
        self.name = name
        self.args = args

    def _compare(self, op: str, value: Any) -> Compare:
        return Compare(self.name, op, value, self.args)

    def __eq__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value: Literal) -> Compare:
        return self._compare("<", value)

    def __le__(self, value: Literal) -> Compare:
        return self._compare("<=", value)

    def __gt__(self, value: Literal) -> Compare:
        return self._compare(">", value)

    def __ge__(self, value: Literal) -> Compare:
        return self._compare(">=", value)

    __hash__ = None  # type: ignore[assignment]  # == builds a condition

    def is_in(self, values: Iterable[Literal]) -> Compare:
        """The fact is one of ``values``: ``customer.tier.is_in(['gold', 'silver'])``."""
        return self._compare("in", _members(values))

    def not_in(self, values: Iterable[Literal]) -> Compare:
        """The fact is none of ``values``."""
        return self._compare("not in", _members(values))

    def has(self, value: str) -> Compare:
        """The fact (a set) contains ``value``: ``customer.tags.has('vip')``."""
        return self._compare("has", value)

    def lacks(self, value: str) -> Compare:
        """The fact (a set) does not contain ``value``."""
        return self._compare("lacks", value)

    def __and__(self, other: Condition | Fact) -> AllOf:
        return as_condition(self) & other

    def __or__(self, other: Condition | Fact) -> AnyOf:
        return as_condition(self) | other

    def __invert__(self) -> Not:
        return Not(as_condition(self))

    def __bool__(self) -> bool:
        raise TypeError(f"{self.name} has no truth value here: compare it (== >= ...) first")

    def __repr__(self) -> str:
        return f"<fact {self.name}>"


class _EventFacts:
    """``event.*``: the event being decided."""

    @property
    def type(self) -> Fact:
        return Fact("event.type")

    @property
    def amount(self) -> Fact:
        return Fact("event.amount")

    @property
    def channel(self) -> Fact:
        return Fact("event.channel")

    @property
    def payment(self) -> Fact:
        return Fact("event.payment")

    @property
    def quantity(self) -> Fact:
        return Fact("event.quantity")

    @property
    def skus(self) -> Fact:
        return Fact("event.skus")

    @property
    def tags(self) -> Fact:
        return Fact("event.tags")

    @property
    def name(self) -> Fact:
        return Fact("event.name")

    @property
    def location(self) -> Fact:
        return Fact("event.location")

    def count(self, *, sku: str | None = None, tag: str | None = None) -> Fact:
        return Fact("event.count", _sorted_args({"sku": sku, "tag": tag}))

    def spend(self, *, sku: str | None = None, tag: str | None = None) -> Fact:
        return Fact("event.spend", _sorted_args({"sku": sku, "tag": tag}))

    def attribute(self, name: str) -> Fact:
        return Fact("event.attribute", (("name", name),))

    def has_sku(self, sku: str) -> Compare:
        """The purchase has an item with this SKU."""
        return self.skus.has(sku)

    def has_tag(self, tag: str) -> Compare:
        """The purchase has an item with this tag."""
        return self.tags.has(tag)


class _CustomerFacts:
    """``customer.*``: the customer's profile and standing."""

    @property
    def tier(self) -> Fact:
        return Fact("customer.tier")

    @property
    def tags(self) -> Fact:
        return Fact("customer.tags")

    @property
    def birthday_month(self) -> Fact:
        return Fact("customer.birthday_month")

    @property
    def time_zone(self) -> Fact:
        return Fact("customer.time_zone")

    def preference(self, key: str) -> Fact:
        return Fact("customer.preference", (("key", key),))


class _StateFacts:
    """``state.*``: what the customer did before this event."""

    @property
    def purchases(self) -> Fact:
        return Fact("state.purchases")

    @property
    def spent(self) -> Fact:
        return Fact("state.spent")

    @property
    def visits(self) -> Fact:
        return Fact("state.visits")

    @property
    def days_since_last_purchase(self) -> Fact:
        return Fact("state.days_since_last_purchase")

    @property
    def balance(self) -> Fact:
        return Fact("state.balance")

    def spent_within(self, *, days: int | None = None, months: int | None = None) -> Fact:
        return Fact("state.spent_within", _sorted_args({"days": days, "months": months}))

    def stamps(self, card: str) -> Fact:
        return Fact("state.stamps", (("card", card),))


class _LocalFacts:
    """``local.*``: the event's time in the customer's time zone."""

    @property
    def weekday(self) -> Fact:
        return Fact("local.weekday")

    @property
    def hour(self) -> Fact:
        return Fact("local.hour")

    @property
    def day(self) -> Fact:
        return Fact("local.day")

    @property
    def month(self) -> Fact:
        return Fact("local.month")

    @property
    def is_birthday(self) -> Fact:
        return Fact("local.is_birthday")


event = _EventFacts()
customer = _CustomerFacts()
state = _StateFacts()
local = _LocalFacts()
