"""The custbond error family.

Every error custbond raises derives from :class:`CustbondError`, so a host can catch the
whole family in one place. Errors about bad input also derive from :class:`ValueError`,
and lookups that find nothing also derive from :class:`LookupError`, so code that already
catches the builtins keeps working. Every message names the field, the value and what was
expected.

>>> from custbond import InvalidInput
>>> try:
...     raise InvalidInput("amount", -1, "a non-negative Decimal")
... except ValueError as error:
...     print(error)
amount must be a non-negative Decimal; got -1
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = [
    "CustbondError",
    "HoldAlreadyCaptured",
    "HoldAlreadyReleased",
    "HoldError",
    "HoldExpired",
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidInput",
    "NotFound",
    "RuleSyntaxError",
]


class CustbondError(Exception):
    """The root of every error custbond raises."""


class InvalidInput(CustbondError, ValueError):
    """A value was not what the field expects. Nothing was changed.

    >>> InvalidInput("points", 0, "a positive int").field
    'points'
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} must be {expected}; got {value!r}")


class IdempotencyConflict(CustbondError):
    """The same idempotency key arrived again with different content.

    ``fields`` names the fields that differ from what was first accepted under ``key``.

    >>> error = IdempotencyConflict("o-1", ["amount"])
    >>> print(error)
    key 'o-1' was already used with different content (differs in: amount)
    """

    def __init__(self, key: str, fields: Sequence[str]) -> None:
        self.key = key
        self.fields = tuple(fields)
        differs = ", ".join(self.fields) or "kind"
        super().__init__(
            f"key {key!r} was already used with different content (differs in: {differs})"
        )


class InsufficientPoints(CustbondError):
    """A customer does not have enough available points. Nothing was changed.

    >>> print(InsufficientPoints("c-1", requested=500, available=120))
    customer 'c-1' has 120 available points; 500 were requested
    """

    def __init__(self, customer_id: str, *, requested: int, available: int) -> None:
        self.customer_id = customer_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"customer {customer_id!r} has {available} available points; "
            f"{requested} were requested"
        )


class NotFound(CustbondError, LookupError):
    """Something a call refers to does not exist.

    >>> print(NotFound("customer", "c-404"))
    no customer with id 'c-404'
    """

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} with id {key!r}")


class HoldError(CustbondError):
    """A hold was asked to resolve again after it had resolved. A hold resolves once."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"hold {key!r} {message}")


class HoldAlreadyCaptured(HoldError):
    """The hold was already captured (for ``points``)."""

    def __init__(self, key: str, points: int) -> None:
        self.points = points
        super().__init__(key, f"was already captured for {points} points")


class HoldAlreadyReleased(HoldError):
    """The hold was already released; its points went back to the customer."""

    def __init__(self, key: str) -> None:
        super().__init__(key, "was already released")


class HoldExpired(HoldError):
    """The hold expired before it was captured; its points went back to the customer."""

    def __init__(self, key: str, expired_at: datetime) -> None:
        self.expired_at = expired_at
        super().__init__(key, f"expired at {expired_at.isoformat()}")


class RuleSyntaxError(CustbondError, ValueError):
    """A condition written as text could not be read, or asks for something outside what
    conditions may use. Nothing was evaluated.

    ``offset`` is where in ``text`` the problem is (0-based); ``line`` and ``column`` say
    the same for people (1-based). ``hint`` says what would be accepted there, and
    ``source`` where the text came from (a file and key path), when known.

    >>> error = RuleSyntaxError("event.amount >= ", 16, "a value was expected after '>='")
    >>> print(error)
    condition 'event.amount >= ', line 1, column 17: a value was expected after '>='
    >>> (error.line, error.column)
    (1, 17)
    """

    def __init__(
        self,
        text: str,
        offset: int,
        problem: str,
        *,
        hint: str | None = None,
        source: str | None = None,
    ) -> None:
        self.text = text
        self.offset = offset
        self.problem = problem
        self.hint = hint
        self.source = source
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        shown = text if len(text) <= 80 else text[:77] + "..."
        where = f"condition {shown!r}, line {self.line}, column {self.column}"
        if source:
            where = f"{source}: {where}"
        message = f"{where}: {problem}"
        if hint:
            message += f" (hint: {hint})"
        super().__init__(message)
