"""What :class:`~custbond.RetentionService` does for the social, customization and
structural bonds and the bond profile (mixed into the service, like the recovery verbs).
See ``docs/customization.md``, ``docs/structural.md``, ``docs/social.md`` and
``docs/bond-profile.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from custbond import _validate as v
from custbond._service_parts import ServiceParts
from custbond.bonds.baskets import BasketIndex, Suggestion
from custbond.bonds.customization import Choice, Content, Preferences, SavedCart, Wish, choose
from custbond.bonds.occasions import Occasion
from custbond.bonds.profile import BondProfile
from custbond.bonds.reading import bond_profile
from custbond.bonds.rhythm import NextNeed
from custbond.bonds.sequences import Enrollment
from custbond.bonds.social import MembersEvent
from custbond.bonds.structure import Integration
from custbond.bonds.subscriptions import Subscription, upcoming
from custbond.commands import (
    AddOccasion,
    AddWish,
    CancelSubscription,
    DropCart,
    Invite,
    PauseSubscription,
    RemoveWish,
    ResumeSubscription,
    SaveCart,
    SetPreferences,
    SkipDelivery,
    Subscribe,
)
from custbond.erasure import PSEUDONYM_PREFIX
from custbond.errors import CustbondError, InvalidInput, raise_first
from custbond.events import LineItem, Purchase
from custbond.rules.facts import zone_of

if TYPE_CHECKING:
    from custbond.outcome import Outcome
    from custbond.program import CustomerState

__all__ = ["BondVerbs", "Invitations"]


@attrs.frozen
class Invitations:
    """What :meth:`BondVerbs.invite` did: who was ``invited`` now, who had been
    ``already``, who the event is ``not_for`` (another tier, no matching tag), and
    the customer ids it does not know (``unknown``)."""

    invited: tuple[str, ...]
    already: tuple[str, ...]
    not_for: tuple[str, ...]
    unknown: tuple[str, ...]


class BondVerbs(ServiceParts):
    """Preferences, wish lists, saved carts, suggestions, subscriptions, occasions,
    invitations and bond profiles."""

    def _state(self, customer_id: str) -> CustomerState:
        with self.store.unit_of_work(write=False) as uow:
            return self._load(uow, customer_id)

    # -- customization ---------------------------------------------------------------------

    def set_preferences(self, customer_id: str, preferences: Preferences, *, key: str) -> Outcome:
        """The customer's favourites, restrictions, interests and industry from now on
        (one change per ``key``); a customer not seen before is created."""
        command = SetPreferences(key=key, customer_id=customer_id, preferences=preferences)
        return self._process(command, self.clock.now())

    def preferences(self, customer_id: str) -> Preferences:
        """What the customer likes and cannot have."""
        return self._state(customer_id).held.preferences

    def choose_for(
        self, customer_id: str, *, kind: str | None = None, limit: int = 3
    ) -> tuple[Choice, ...]:
        """The program's contents (of ``kind``) that suit the customer best: the article
        for their industry, the offer for their favourites; never one unsuitable for one
        of their restrictions (see :func:`~custbond.bonds.customization.choose`)."""
        return choose(self._contents(), self.preferences(customer_id), kind=kind, limit=limit)

    def add_wish(
        self, customer_id: str, sku: str, *, key: str, note: str | None = None
    ) -> Outcome:
        """Put ``sku`` on the customer's wish list (buying it takes it off); a customer
        not seen before is created."""
        command = AddWish(key=key, customer_id=customer_id, sku=sku, note=note)
        return self._process(command, self.clock.now())

    def remove_wish(self, customer_id: str, sku: str, *, key: str) -> Outcome:
        """Take ``sku`` off the customer's wish list."""
        return self._process(
            RemoveWish(key=key, customer_id=customer_id, sku=sku), self.clock.now()
        )

    def wish_list(self, customer_id: str) -> tuple[Wish, ...]:
        """The customer's wish list, oldest wish first."""
        wishes = self._state(customer_id).held.wishes.values()
        return tuple(sorted(wishes, key=lambda wish: (wish.added_at, wish.sku)))

    def save_cart(
        self, customer_id: str, cart_id: str, items: Iterable[LineItem], *, key: str
    ) -> Outcome:
        """Keep the cart ``cart_id`` for the program's window (90 days by default);
        saving it again replaces its items and starts the window again. A customer not
        seen before is created (a guest's cart)."""
        cart = v.instances("items", items, LineItem, "a LineItem")
        command = SaveCart(key=key, customer_id=customer_id, cart_id=cart_id, items=cart)
        return self._process(command, self.clock.now())

    def drop_cart(self, customer_id: str, cart_id: str, *, key: str) -> Outcome:
        """Drop the saved cart ``cart_id`` (bought or emptied)."""
        command = DropCart(key=key, customer_id=customer_id, cart_id=cart_id)
        return self._process(command, self.clock.now())

    def saved_carts(self, customer_id: str) -> tuple[SavedCart, ...]:
        """The customer's saved carts still kept now (a cart is gone at the end of its
        window, whether or not ``run_due()`` has dropped it yet), oldest first."""
        now = self.clock.now()
        carts = self._state(customer_id).held.carts.values()
        kept = (cart for cart in carts if cart.is_kept(now))
        return tuple(sorted(kept, key=lambda cart: (cart.saved_at, cart.id)))

    def next_needs(self, customer_id: str) -> tuple[NextNeed, ...]:
        """When the customer is expected to buy each product again, from their own
        intervals (see :mod:`custbond.bonds.rhythm`), soonest first. Empty without a
        ``next_need`` policy."""
        custom = self.program.customization
        need = None if custom is None else custom.next_need
        if need is None:
            return ()
        state = self._state(customer_id)
        return need.predictions(state.held.rhythms, zone=zone_of(state, self.program.time_zone))

    def basket_index(
        self, *, since: datetime | None = None, max_items: int = 10_000, max_neighbours: int = 50
    ) -> BasketIndex:
        """Items bought together across customers, from every purchase in the event
        log (since ``since``), in bounded memory (see :mod:`custbond.bonds.baskets`).
        Building it reads the whole log: build it now and then, and keep it."""
        if since is not None:
            v.aware("since", since)
        index = BasketIndex(max_items=max_items, max_neighbours=max_neighbours)
        for purchase in self._purchases(since):
            index.add(purchase)
        return index

    def _purchases(self, since: datetime | None) -> Iterator[Purchase]:
        with self.store.unit_of_work(write=False) as uow:
            for record in uow.log():
                item = record.input
                if isinstance(item, Purchase) and (since is None or item.at >= since):
                    yield item

    def suggestions_for(
        self, customer_id: str, index: BasketIndex, *, limit: int = 5
    ) -> tuple[Suggestion, ...]:
        """Cross-sell for the customer: what others bought together with the products
        they buy and wish for, leaving out what they already buy and the products of
        any of the program's contents unsuitable for one of their restrictions (the
        pecan pie, for a customer who eats gluten-free)."""
        held = self._state(customer_id).held
        preferences = held.preferences
        theirs = set(held.rhythms) | set(held.wishes) | preferences.favourites
        unsuitable = {
            sku
            for content in self._contents()
            if content.unsuitable_for & preferences.restrictions
            for sku in content.skus
        }
        exclude = set(held.rhythms) | unsuitable
        return index.cross_sell(sorted(theirs), limit=limit, exclude=sorted(exclude))

    def _contents(self) -> tuple[Content, ...]:
        custom = self.program.customization
        return () if custom is None else custom.contents

    # -- structural ------------------------------------------------------------------------

    def subscribe(self, customer_id: str, plan: str, *, key: str) -> Outcome:
        """Subscribe the customer to the program's ``plan`` (its next dates computed in
        the customer's time zone); a customer not seen before is created."""
        return self._process(
            Subscribe(key=key, customer_id=customer_id, plan=plan), self.clock.now()
        )

    def pause_subscription(
        self, customer_id: str, plan: str, *, key: str, until: datetime | None = None
    ) -> Outcome:
        """Pause the subscription until ``until`` (None: until resumed)."""
        command = PauseSubscription(key=key, customer_id=customer_id, plan=plan, until=until)
        return self._process(command, self.clock.now())

    def skip_delivery(self, customer_id: str, plan: str, on: date, *, key: str) -> Outcome:
        """Skip the subscription's occurrence on the local date ``on``."""
        command = SkipDelivery(key=key, customer_id=customer_id, plan=plan, on=on)
        return self._process(command, self.clock.now())

    def resume_subscription(self, customer_id: str, plan: str, *, key: str) -> Outcome:
        """Resume a paused subscription."""
        command = ResumeSubscription(key=key, customer_id=customer_id, plan=plan)
        return self._process(command, self.clock.now())

    def cancel_subscription(
        self, customer_id: str, plan: str, *, key: str, reason: str | None = None
    ) -> Outcome:
        """Cancel the subscription (``reason``: the customer's words, erased with them)."""
        command = CancelSubscription(key=key, customer_id=customer_id, plan=plan, reason=reason)
        return self._process(command, self.clock.now())

    def subscriptions(self, customer_id: str) -> Mapping[str, Subscription]:
        """The customer's subscriptions, by plan (cancelled ones too)."""
        return self._state(customer_id).held.subscriptions

    def upcoming(self, customer_id: str, plan: str, *, count: int = 3) -> tuple[datetime, ...]:
        """The next ``count`` occurrences of the customer's subscription to ``plan``
        (skipped ones and those in a pause left out)."""
        v.identifier("plan", plan)
        structure = self.program.structure
        if structure is None:
            raise InvalidInput("plan", plan, "a plan of the program (it has none)")
        held = self.subscriptions(customer_id).get(plan)
        if held is None:
            raise InvalidInput("plan", plan, f"a plan {customer_id} subscribes to")
        return upcoming(held, structure.plan(plan), after=self.clock.now(), count=count)

    def integrations(self, customer_id: str) -> tuple[Integration, ...]:
        """The integrations the customer adopted (dropped ones too), by the date adopted."""
        found = self._state(customer_id).held.integrations.values()
        return tuple(sorted(found, key=lambda item: (item.adopted_at, item.name)))

    def enrollments(self, customer_id: str) -> Mapping[str, Enrollment]:
        """Where the customer is in each autoresponder sequence they entered, by name."""
        return self._state(customer_id).held.sequences

    # -- social ----------------------------------------------------------------------------

    def add_occasion(self, customer_id: str, occasion: Occasion, *, key: str) -> Outcome:
        """A personal occasion of the customer's, marked every year by their owner (when
        the social policy marks custom occasions); a customer not seen before is
        created."""
        command = AddOccasion(key=key, customer_id=customer_id, occasion=occasion)
        return self._process(command, self.clock.now())

    def invite(
        self, event: MembersEvent, customer_ids: Iterable[str] | None = None
    ) -> Invitations:
        """Invite customers to a members' event: those named (every customer the store
        knows when None) that the event is for, each once however often the call is
        repeated (an invitation is kept in the log under the event and the customer).
        When inviting one fails, the others are still invited; the first error is
        raised at the end."""
        if not isinstance(event, MembersEvent):
            raise InvalidInput("event", event, "a MembersEvent")
        now = self.clock.now()
        if customer_ids is None:
            with self.store.unit_of_work(write=False) as uow:
                customer_ids = uow.customer_ids()
        invited: list[str] = []
        already: list[str] = []
        not_for: list[str] = []
        unknown: list[str] = []
        failed: list[tuple[str, CustbondError]] = []
        for customer_id in sorted(set(customer_ids)):
            command = Invite(event=event, customer_id=customer_id)
            with self.store.unit_of_work(write=False) as uow:
                state = uow.load(customer_id)
                told = state is not None and uow.logged(command.log_key) is not None
            if state is None or customer_id.startswith(PSEUDONYM_PREFIX):
                unknown.append(customer_id)
            elif told:
                already.append(customer_id)
            elif not event.is_for(tier=state.tier, tags=state.customer.tags):
                not_for.append(customer_id)
            else:
                try:
                    self._process(command, now)
                except CustbondError as error:
                    failed.append((customer_id, error))
                    continue
                invited.append(customer_id)
        raise_first(failed, "invite(): inviting")
        return Invitations(tuple(invited), tuple(already), tuple(not_for), tuple(unknown))

    # -- the bond profile ------------------------------------------------------------------

    def bond_profile(self, customer_id: str) -> BondProfile:
        """How strongly each of the four bonds holds the customer now, with the facts
        behind each score (see ``docs/bond-profile.md``)."""
        now = self.clock.now()
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
            open_tasks = len(uow.tasks(customer_id=customer_id, open_only=True))
        return bond_profile(state, self.program, now, open_tasks=open_tasks)

    def weakly_held(self) -> tuple[BondProfile, ...]:
        """The customers held by no bond, or by one weak bond and nothing else, by id:
        the ones to win back before they drift away."""
        with self.store.unit_of_work(write=False) as uow:
            ids = sorted(uow.customer_ids())
        found = []
        for customer_id in ids:
            if customer_id.startswith(PSEUDONYM_PREFIX):  # erased: nobody to win back
                continue
            profile = self.bond_profile(customer_id)
            if profile.is_weakly_held:
                found.append(profile)
        return tuple(found)
