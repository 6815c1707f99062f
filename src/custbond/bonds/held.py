"""What a customer's social, customization and structural bonds hold, as one value.

:class:`Held` sits in :class:`~custbond.program.CustomerState` (``state.held``): the
customer's preferences, buying rhythms per product, accepted offers, wish list and saved
carts; subscriptions, autoresponder sequences (and the events that would make them leave
one they have not entered yet) and integrations; personal occasions, members' events they
were invited to and attended, and milestones already marked.
Every part but the preferences is a map by name, and every change to one goes through
:class:`~custbond.effects.SetHeld` (set an item, or drop it with None), so the pure core,
the stores and erasure each handle one kind of change.

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
>>> held = Held().with_item("attended", "tasting-1", at)
>>> held.attended["tasting-1"] == at, held.is_empty
(True, False)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from custbond._frozen import FrozenMap, empty_map
from custbond.bonds.customization import Preferences, SavedCart, Wish
from custbond.bonds.occasions import Occasion
from custbond.bonds.rhythm import Rhythm
from custbond.bonds.sequences import Enrollment
from custbond.bonds.structure import Integration
from custbond.bonds.subscriptions import Subscription
from custbond.errors import InvalidInput

__all__ = ["EMPTY", "PARTS", "Held"]

# The parts of Held that are maps, and what each holds.
PARTS: dict[str, type[Any]] = {
    "rhythms": Rhythm,  # sku -> the customer's buying rhythm for it
    "offers": datetime,  # personalised offer -> when it was accepted
    "wishes": Wish,  # sku -> wish
    "carts": SavedCart,  # cart id -> saved cart
    "subscriptions": Subscription,  # plan -> subscription
    "sequences": Enrollment,  # sequence -> enrollment
    "integrations": Integration,  # name -> integration
    "occasions": Occasion,  # name -> a personal occasion the host added
    "invited": datetime,  # members' event -> when it starts
    "attended": datetime,  # members' event -> when the customer came
    "marked": datetime,  # milestone -> when it was marked with a note
    # sequence -> events that would make the customer leave it, recorded before they
    # entered it: ((date, reason), ...), see custbond.bonds.sequences.remember()
    "leavings": tuple,
}


@attrs.frozen
class Held:
    """What the customer's social, customization and structural bonds hold (see the
    module's docstring). Empty for a customer who has none of it."""

    preferences: Preferences = attrs.field(factory=Preferences)
    rhythms: FrozenMap[str, Rhythm] = attrs.field(factory=empty_map)
    offers: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    wishes: FrozenMap[str, Wish] = attrs.field(factory=empty_map)
    carts: FrozenMap[str, SavedCart] = attrs.field(factory=empty_map)
    subscriptions: FrozenMap[str, Subscription] = attrs.field(factory=empty_map)
    sequences: FrozenMap[str, Enrollment] = attrs.field(factory=empty_map)
    integrations: FrozenMap[str, Integration] = attrs.field(factory=empty_map)
    occasions: FrozenMap[str, Occasion] = attrs.field(factory=empty_map)
    invited: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    attended: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    marked: FrozenMap[str, datetime] = attrs.field(factory=empty_map)
    # Last, with a default: a Held stored before it existed reads back without any.
    leavings: FrozenMap[str, tuple[tuple[datetime, str], ...]] = attrs.field(factory=empty_map)

    @property
    def is_empty(self) -> bool:
        return self is EMPTY or self == EMPTY

    def with_item(self, part: str, key: str, value: Any) -> Held:
        """This value with ``part[key]`` set to ``value`` (None: dropped); ``part``
        "preferences" replaces the preferences (``key`` is then ignored)."""
        if part == "preferences":
            if not isinstance(value, Preferences):
                raise InvalidInput("value", value, "Preferences")
            return attrs.evolve(self, preferences=value)
        kind = PARTS.get(part)
        if kind is None:
            raise InvalidInput("part", part, f"one of preferences, {', '.join(PARTS)}")
        if value is not None and not isinstance(value, kind):
            raise InvalidInput("value", value, f"a {kind.__name__} or None")
        items = dict(getattr(self, part))
        if value is None:
            items.pop(key, None)
        else:
            items[key] = value
        changed: dict[str, Any] = {part: FrozenMap(items) if items else empty_map()}
        return attrs.evolve(self, **changed)


EMPTY = Held()
"""Nothing held: the one value every customer without bonds shares (it never changes)."""
