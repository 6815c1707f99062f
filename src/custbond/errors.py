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
    "CouponNotValid",
    "CustbondError",
    "HoldAlreadyCaptured",
    "HoldAlreadyReleased",
    "HoldError",
    "HoldExpired",
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidInput",
    "NotFound",
    "OutOfStock",
    "RewardError",
    "RewardLimitReached",
    "RuleFileError",
    "RuleSyntaxError",
    "SchemaVersionError",
    "StorageError",
    "TemplateError",
    "TransactionConflict",
    "VoucherAlreadyUsed",
    "VoucherCancelled",
    "VoucherError",
    "VoucherExpired",
]


class CustbondError(Exception):
    """The root of every error custbond raises.

    Every error of the family can be pickled, with its fields and notes: a worker
    process can hand one to its parent.

    >>> import pickle
    >>> error = pickle.loads(pickle.dumps(InvalidInput("points", 0, "a positive int")))
    >>> error.field, str(error)
    ('points', 'points must be a positive int; got 0')
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> CustbondError:
        error = super().__new__(cls, *args)
        error.__dict__["_made_with"] = (args, kwargs)  # what __init__ is given, for pickling
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self.__dict__.get("_made_with", (self.args, {}))
        state = {key: value for key, value in self.__dict__.items() if key != "_made_with"}
        return (_rebuild, (type(self), args, kwargs, state))


def _rebuild(
    cls: type[CustbondError], args: tuple[Any, ...], kwargs: dict[str, Any], state: dict[str, Any]
) -> CustbondError:
    """An error of ``cls`` made again as it was first made, then given its state."""
    error = cls(*args, **kwargs)
    error.__dict__.update(state)
    return error


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


class VoucherError(CustbondError):
    """A voucher cannot be used or cancelled as asked. Nothing was changed."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"voucher {code!r} {message}")


class VoucherAlreadyUsed(VoucherError):
    """The voucher was used already (at ``used_at``): vouchers are single use.

    >>> from datetime import datetime, timezone
    >>> print(VoucherAlreadyUsed("AB12", datetime(2026, 3, 2, tzinfo=timezone.utc)))
    voucher 'AB12' was already used at 2026-03-02T00:00:00+00:00
    """

    def __init__(self, code: str, used_at: datetime | None) -> None:
        self.used_at = used_at
        when = "" if used_at is None else f" at {used_at.isoformat()}"
        super().__init__(code, f"was already used{when}")


class VoucherCancelled(VoucherError):
    """The voucher was cancelled."""

    def __init__(self, code: str) -> None:
        super().__init__(code, "was cancelled")


class VoucherExpired(VoucherError):
    """The voucher expired (at ``expired_at``) before it was used."""

    def __init__(self, code: str, expired_at: datetime) -> None:
        self.expired_at = expired_at
        super().__init__(code, f"expired at {expired_at.isoformat()}")


class RewardError(CustbondError):
    """A reward of the catalog cannot be redeemed now. Nothing was changed."""

    def __init__(self, reward: str, message: str) -> None:
        self.reward = reward
        super().__init__(f"reward {reward!r} {message}")


class OutOfStock(RewardError):
    """Every one of the reward's ``stock`` has been taken.

    >>> print(OutOfStock("mug", 50))
    reward 'mug' is out of stock (all 50 taken)
    """

    def __init__(self, reward: str, stock: int) -> None:
        self.stock = stock
        super().__init__(reward, f"is out of stock (all {stock} taken)")


class RewardLimitReached(RewardError):
    """The customer has taken the reward as many times as one customer may."""

    def __init__(self, reward: str, limit: int) -> None:
        self.limit = limit
        times = "once" if limit == 1 else f"{limit} times"
        super().__init__(reward, f"can be taken {times} per customer, and was")


class CouponNotValid(CustbondError):
    """A coupon cannot be used now: ``why`` says so. Nothing was changed.

    >>> print(CouponNotValid("SPRING10", "expired at 2026-04-01T00:00:00+00:00"))
    coupon 'SPRING10' expired at 2026-04-01T00:00:00+00:00
    """

    def __init__(self, code: str, why: str) -> None:
        self.code = code
        self.why = why
        super().__init__(f"coupon {code!r} {why}")


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


class RuleFileError(CustbondError, ValueError):
    """A rule file (TOML) could not be read into a program. Nothing was loaded.

    ``file`` is the path as given (``None`` for TOML text), ``key`` the key path of the
    value at fault (``"rules[3].when"``: indexes count from 0), and ``line`` and
    ``column`` where in the file the problem is (1-based); each is ``None`` when unknown.
    ``problem`` says what is wrong. The message names all that is known.

    >>> error = RuleFileError("unknown fact 'customer.teir'", file="rules.toml",
    ...                       key="rules[3].when", line=12, column=27)
    >>> print(error)
    rules.toml, rules[3].when, line 12, column 27: unknown fact 'customer.teir'
    >>> print(RuleFileError("not valid TOML: invalid value", line=2, column=7))
    line 2, column 7: not valid TOML: invalid value
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.key = key
        self.line = line
        self.column = None if line is None else column
        where = [part for part in (file, key) if part]
        if line is not None:
            where.append(f"line {line}")
            if self.column is not None:
                where.append(f"column {self.column}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class StorageError(CustbondError):
    """A store could not be opened or used: a bad connection string, a database that
    cannot be reached, a schema this version of custbond does not know.

    >>> print(StorageError("path", "/no/such/dir/x.db", "a file in a directory that exists"))
    path must be a file in a directory that exists; got '/no/such/dir/x.db'
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} must be {expected}; got {value!r}")


class SchemaVersionError(StorageError):
    """The database holds a schema newer than this version of custbond knows: it was
    written by a later release. Nothing was read or changed; upgrade custbond.

    >>> SchemaVersionError(3, 2).found
    3
    """

    def __init__(self, found: int, known: int) -> None:
        self.field, self.value = "schema version", found
        self.expected = f"at most {known} (this release of custbond)"
        self.found = found
        self.known = known
        Exception.__init__(
            self,
            f"schema version must be at most {known} (this release of custbond); got {found}: "
            "the database was written by a newer release, upgrade custbond to use it",
        )


class TransactionConflict(StorageError):
    """A unit of work lost a race with another one and was rolled back: the same event
    was committed first by another process, or the database broke a deadlock. Nothing of
    it was kept. :class:`~custbond.RetentionService` retries it by itself; a host sees
    this error only when the race was lost several times in a row.

    >>> print(TransactionConflict("the event log already holds ('event', 'o-1')"))
    the unit of work lost a race and was rolled back: the event log already holds ('event', 'o-1')
    """

    def __init__(self, why: str) -> None:
        self.why = why
        self.field, self.value, self.expected = "unit of work", why, "not to lose a race"
        Exception.__init__(self, f"the unit of work lost a race and was rolled back: {why}")


class TemplateError(CustbondError, ValueError):
    """A message template cannot be made or rendered: ``template`` (on ``channel``, when
    the problem is with one channel's text) and what is wrong (``problem``): a value it
    needs is missing, a placeholder is malformed, no template has that name.

    >>> print(TemplateError("welcome", "sms", "no value for $name (given: points)"))
    template 'welcome' (sms): no value for $name (given: points)
    """

    def __init__(self, template: str, channel: str | None, problem: str) -> None:
        self.template = template
        self.channel = channel
        self.problem = problem
        where = f"template {template!r}" + (f" ({channel})" if channel else "")
        super().__init__(f"{where}: {problem}")


def raise_first(failed: list[tuple[str, CustbondError]], what: str) -> None:
    """For work done customer by customer, where one failing does not stop the others:
    raise the first error, with a note naming every customer ``what`` failed for
    (``"run_due(): settling"``). Nothing when none failed."""
    if not failed:
        return
    first = failed[0][1]
    names = ", ".join(repr(customer_id) for customer_id, _ in failed)
    first.add_note(f"{what} failed for {len(failed)} customers: {names}")
    raise first
