"""The customization bond: knowing what each customer likes, and acting on it.

A pie shop that knows Maya orders gluten-free, a trade magazine that sends each reader
the article for their industry, a roaster that knows when Ben runs out of beans. This
module holds the values; :mod:`custbond.bonds.customization_desk` puts them to work.

- :class:`Preferences`: a customer's favourites, restrictions ("gluten-free",
  "nut-free"), interests and industry, set with ``service.set_preferences()``.
- :class:`Content` and :func:`choose`: mass customization, the content or offers that
  suit a customer's preferences (an unsuitable one is never chosen), each with the
  reasons it was chosen.
- :class:`Wish` and :class:`SavedCart`: a wish list, and carts kept for a window (90
  days by default) and then dropped, with an optional reminder before.
- :class:`CustomizationPolicy`: the program's choices (contents, next-need reminders,
  the saved carts' window).

>>> maya = Preferences(favourites={"cherry-pie"}, restrictions={"gluten-free"})
>>> pies = [Content(id="pecan", title="Pecan pie", unsuitable_for={"gluten-free"}),
...         Content(id="gf-cherry", title="Gluten-free cherry pie", skus={"cherry-pie"})]
>>> [choice.content.id for choice in choose(pies, maya)]
['gf-cherry']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.bonds.rhythm import NextNeedPolicy
from custbond.errors import InvalidInput
from custbond.events import LineItem
from custbond.messaging.occasions import Send

__all__ = [
    "Choice",
    "Content",
    "CustomizationPolicy",
    "Preferences",
    "SavedCart",
    "Wish",
    "choose",
]


@attrs.frozen(kw_only=True)
class Preferences:
    """What a customer likes and cannot have: ``favourites`` (products, by sku or
    name), ``restrictions`` ("gluten-free", "nut-free": content or offers marked
    unsuitable for one of them are never chosen), ``interests`` (topics) and their
    ``industry``. Personal data: erased with the customer.

    >>> Preferences(restrictions={"gluten-free"}, industry="bakery").known
    2
    """

    favourites: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    restrictions: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    interests: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    industry: str | None = attrs.field(default=None, validator=v.is_optional_text)

    @property
    def known(self) -> int:
        """How many things are known: each favourite, restriction and interest, and the
        industry."""
        industry = 0 if self.industry is None else 1
        return len(self.favourites) + len(self.restrictions) + len(self.interests) + industry

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(sorted(values))}"
            for label, values in (
                ("favourites", self.favourites),
                ("restrictions", self.restrictions),
                ("interests", self.interests),
            )
            if values
        ]
        if self.industry is not None:
            parts.append(f"industry: {self.industry}")
        return "; ".join(parts) or "no preferences known"


@attrs.frozen(kw_only=True)
class Content:
    """A piece of content or an offer to choose by preference: an article, a product,
    a personalised offer (``kind``). It suits readers in ``industries``, with
    ``interests``, who like ``skus``; it is never chosen for a customer with one of
    the restrictions it is ``unsuitable_for`` (a pecan pie for "nut-free").

    >>> Content(id="a-1", title="Pricing for bakeries", industries={"bakery"}).kind
    'article'
    """

    id: str = attrs.field(validator=v.is_identifier)
    title: str = attrs.field(validator=v.is_text)
    kind: str = attrs.field(default="article", validator=v.is_identifier)
    industries: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    interests: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    skus: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    unsuitable_for: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )

    def describe(self) -> str:
        return f"{self.kind} {self.id!r}: {self.title}"


@attrs.frozen
class Choice:
    """A content chosen for a customer: how well it fits (``score``) and why."""

    content: Content
    score: int
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.content.title} ({self.score}: {'; '.join(self.reasons)})"


# What each kind of match is worth when choosing: the industry is the strongest sign of
# what a reader needs, a favourite product the strongest of what a buyer wants.
INDUSTRY_POINTS = 3
FAVOURITE_POINTS = 3
INTEREST_POINTS = 2


def choose(
    contents: Iterable[Content],
    preferences: Preferences,
    *,
    kind: str | None = None,
    limit: int = 3,
) -> tuple[Choice, ...]:
    """The contents (of ``kind``, if given) that suit ``preferences`` best, at most
    ``limit``: each scores 3 for the customer's industry, 3 for each favourite it
    features and 2 for each interest; contents that match nothing are not chosen, and
    contents unsuitable for one of the customer's restrictions never are. Ties go to
    the content whose id sorts first, so the choice is the same every time.

    >>> news = [Content(id="bake", title="Ovens", industries={"bakery"}),
    ...         Content(id="law", title="Contracts", industries={"legal"})]
    >>> choose(news, Preferences(industry="bakery"))[0].describe()
    'Ovens (3: for the bakery industry)'
    """
    v.positive_int("limit", limit)
    if kind is not None:
        v.identifier("kind", kind)
    chosen = []
    for content in contents:
        if kind is not None and content.kind != kind:
            continue
        if content.unsuitable_for & preferences.restrictions:
            continue
        score, reasons = 0, []
        if preferences.industry is not None and preferences.industry in content.industries:
            score += INDUSTRY_POINTS
            reasons.append(f"for the {preferences.industry} industry")
        for favourite in sorted(content.skus & preferences.favourites):
            score += FAVOURITE_POINTS
            reasons.append(f"a favourite: {favourite}")
        for interest in sorted(content.interests & preferences.interests):
            score += INTEREST_POINTS
            reasons.append(f"interested in {interest}")
        if score:
            chosen.append(Choice(content, score, tuple(reasons)))
    chosen.sort(key=lambda choice: (-choice.score, choice.content.id))
    return tuple(chosen[:limit])


@attrs.frozen(kw_only=True)
class Wish:
    """A product on the customer's wish list since ``added_at``, with their ``note``
    (free text, erased with the customer). Buying it takes it off the list."""

    sku: str = attrs.field(validator=v.is_identifier)
    added_at: datetime = attrs.field(validator=v.is_moment)
    note: str | None = attrs.field(default=None, validator=v.is_optional_text)


def _line_items(value: Any) -> tuple[LineItem, ...]:
    return v.instances("items", value, LineItem, "a LineItem")


@attrs.frozen(kw_only=True)
class SavedCart:
    """A cart the customer saved at ``saved_at``: kept until ``expires_at`` (the
    program's window later) and dropped then; ``reminded`` once the reminder before
    that was queued."""

    id: str = attrs.field(validator=v.is_identifier)
    items: tuple[LineItem, ...] = attrs.field(converter=_line_items)
    saved_at: datetime = attrs.field(validator=v.is_moment)
    expires_at: datetime = attrs.field(validator=v.is_moment)
    reminded: bool = attrs.field(default=False)

    def __attrs_post_init__(self) -> None:
        if not self.items:
            raise InvalidInput("items", self.items, "at least one LineItem")
        if self.expires_at <= self.saved_at:
            raise InvalidInput("expires_at", self.expires_at, f"after {self.saved_at}")

    def is_kept(self, now: datetime) -> bool:
        """Whether the cart is still kept at ``now`` (it is dropped at ``expires_at``)."""
        return now < self.expires_at


def _optional_send(field: str) -> Any:
    def check(instance: object, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, Send):
            raise InvalidInput(field, value, "a Send or None")

    return check


def _contents(value: Any) -> tuple[Content, ...]:
    contents = v.instances("contents", value, Content, "a Content")
    v.distinct("contents", contents, Content, "a Content", key="id", plural="contents")
    return contents


@attrs.frozen(kw_only=True)
class CustomizationPolicy:
    """The customization bond of a program.

    ``contents`` are what :func:`choose` picks from (``service.choose_for()``);
    ``next_need`` predicts each customer's next purchase of a product from their own
    intervals and sends ``need_reminder`` before it (see
    :mod:`custbond.bonds.rhythm`); saved carts are kept for ``cart_window`` and
    ``cart_reminder`` is sent ``remind_cart_before`` their end (no reminder when
    either is None).

    >>> CustomizationPolicy().describe()
    'saved carts kept for 90 days'
    """

    contents: tuple[Content, ...] = attrs.field(default=(), converter=_contents)
    next_need: NextNeedPolicy | None = attrs.field(default=None)
    need_reminder: Send | None = attrs.field(
        default=Send(template="next_need", kind="marketing"),
        validator=_optional_send("need_reminder"),
    )
    cart_window: timedelta | relativedelta = attrs.field(
        default=timedelta(days=90), validator=v.is_duration
    )
    cart_reminder: Send | None = attrs.field(
        default=Send(template="saved_cart", kind="marketing"),
        validator=_optional_send("cart_reminder"),
    )
    remind_cart_before: timedelta | None = attrs.field(default=None)

    @next_need.validator
    def _check_next_need(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, NextNeedPolicy):
            raise InvalidInput("next_need", value, "a NextNeedPolicy or None")

    @remind_cart_before.validator
    def _check_remind(self, attribute: object, value: object) -> None:
        if value is None:
            return
        value = v.span("remind_cart_before", value)
        probe = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself
        if value <= timedelta(0) or shift(probe, self.cart_window) - value <= probe:
            window = describe_duration(self.cart_window)
            raise InvalidInput("remind_cart_before", value, f"a positive span under {window}")

    def cart_expires_at(self, saved_at: datetime) -> datetime:
        """When a cart saved at ``saved_at`` is dropped."""
        return shift(saved_at, self.cart_window)

    def cart_reminder_at(self, cart: SavedCart) -> datetime | None:
        """When the reminder of ``cart`` is due (None: no reminder)."""
        if self.cart_reminder is None or self.remind_cart_before is None:
            return None
        return cart.expires_at - self.remind_cart_before

    def describe(self) -> str:
        lines = [f"saved carts kept for {describe_duration(self.cart_window)}"]
        if self.remind_cart_before is not None and self.cart_reminder is not None:
            before = describe_duration(self.remind_cart_before)
            lines[0] += f", a reminder {before} before they are dropped"
        if self.contents:
            lines.append(f"{len(self.contents)} contents to choose from by preference")
        if self.next_need is not None:
            lines.append(self.next_need.describe())
        return "; ".join(lines)
