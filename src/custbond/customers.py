"""Customers and their profiles.

A customer is known by an ``id`` the host chooses. The profile holds what custbond's
decisions may use: how to reach them, their time zone (for "Tuesday" and quiet hours),
their birthday, and their preferences.

>>> from custbond import Customer, Birthday
>>> ada = Customer("c-1", name="Ada", time_zone="Europe/London",
...                birthday=Birthday(month=2, day=29), tags={"oat-milk"})
>>> ada.birthday.in_year(2027)
datetime.date(2027, 2, 28)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from custbond import _validate as v
from custbond._frozen import empty_map
from custbond.errors import InvalidInput

__all__ = ["Birthday", "Customer"]


def _birthday_valid(instance: Birthday, attribute: Any, value: Any) -> None:
    v.calendar_day("birthday", instance.month, instance.day, instance.year)


@attrs.frozen
class Birthday:
    """A birthday: month and day, and the year when the customer shared it.

    29 February is allowed. In years without one, :meth:`in_year` celebrates on
    28 February, so the customer is never skipped.

    >>> Birthday(month=12, day=31, year=1990).in_year(2026)
    datetime.date(2026, 12, 31)
    """

    month: int = attrs.field(validator=_birthday_valid)
    day: int
    year: int | None = None

    def in_year(self, year: int) -> date:
        """The date on which this birthday falls in ``year``."""
        return v.in_year(self.month, self.day, year)


def _to_birthday(value: Any) -> Birthday | None:
    if value is None or isinstance(value, Birthday):
        return value
    if isinstance(value, date):
        return Birthday(month=value.month, day=value.day, year=value.year)
    raise InvalidInput("birthday", value, "a Birthday, a date or None")


@attrs.frozen
class Customer:
    """A customer and their profile.

    Only ``id`` is required: custbond creates a bare customer the first time an event names
    one, and the host fills in the profile when it has one.

    >>> Customer("c-2", email="bo@example.com").time_zone is None
    True
    """

    id: str = attrs.field(validator=v.is_identifier)
    name: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    email: str | None = attrs.field(default=None, kw_only=True)
    phone: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    time_zone: str | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_time_zone
    )
    birthday: Birthday | None = attrs.field(default=None, kw_only=True, converter=_to_birthday)
    tags: frozenset[str] = attrs.field(
        default=frozenset(), kw_only=True, converter=v.to_frozenset, validator=v.is_tags
    )
    preferences: Mapping[str, Any] = attrs.field(
        factory=empty_map,
        kw_only=True,
        converter=v.to_frozen_map,
        validator=v.is_scalar_map,
    )

    @email.validator
    def _check_email(self, attribute: object, value: str | None) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not v.one_email_address(value):
            raise InvalidInput("email", value, "an address like name@example.com, or None")
