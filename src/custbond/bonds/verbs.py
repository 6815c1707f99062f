"""What :class:`~custbond.RetentionService` does for the social, customization and
structural bonds and the bond profile (mixed into the service, like the recovery verbs).
See ``docs/customization.md``, ``docs/structural.md``, ``docs/social.md`` and
``docs/bond-profile.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from custbond import _validate as v
from custbond._same import same_value
from custbond._service_parts import ServiceParts
from custbond.bonds.baskets import BasketIndex, Suggestion
from custbond.bonds.customization import Choice, Content, Preferences, SavedCart, Wish, choose
from custbond.bonds.occasions import Occasion
from custbond.bonds.profile import BondProfile
from custbond.bonds.reading import as_of, bond_profile
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
from custbond.errors import CustbondError, IdempotencyConflict, InvalidInput, raise_first
from custbond.events import LineItem, Purchase
from custbond.rules.facts import zone_of

if TYPE_CHECKING:
    from custbond.outcome import Outcome
    from custbond.program import CustomerState

__all__ = ["BondVerbs", "Invitations"]


@attrs.frozen
class Invitations:
    """What :meth:`BondVerbs.invite` did: who was ``invited`` now, who had been
    ``already``, who the event is ``not_for`` (another tier, no matching tag), the
    customer ids it does not know (``unknown``), and who the event is for but was not
    invited because it had begun (``too_late``)."""

    invited: tuple[str, ...]
    already: tuple[str, ...]
    not_for: tuple[str, ...]
    unknown: tuple[str, ...]
    too_late: tuple[str, ...] = ()


class _Answer(enum.Enum):
    """Where :meth:`BondVerbs.invite` puts a customer, before inviting anyone."""

    INVITE = "invited"
    ALREADY = "already"
    NOT_FOR = "not_for"
    UNKNOWN = "unknown"
    TOO_LATE = "too_late"


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
        """Invite customers to a members' event: those named (an iterable of ids, not a
        lone string; every customer the store knows when None) that the event is for,
        each once however often the call is repeated (an invitation is kept in the log
        under the event and the customer). Each customer is read as they stand now: a
        tier that has ended is gone, whether or not ``run_due()`` has moved them down
        yet. Once the event has begun (its ``at`` is not after now) nobody more is
        invited: those it is for are reported ``too_late``.

        Raises :class:`~custbond.InvalidInput` for ids it cannot use, and
        :class:`~custbond.IdempotencyConflict` when a customer asked about was invited
        to an event of the same id with another name, date or audience; either before
        anyone is invited. When inviting one fails, the others are still invited; the
        first error is raised at the end."""
        if not isinstance(event, MembersEvent):
            raise InvalidInput("event", event, "a MembersEvent")
        named = None if customer_ids is None else _customer_ids(customer_ids)
        now = self.clock.now()
        if named is None:
            with self.store.unit_of_work(write=False) as uow:
                named = sorted(set(uow.customer_ids()))
        answers = {customer_id: self._answer(event, customer_id, now) for customer_id in named}
        _refuse_a_changed_event(event, answers)
        failed: list[tuple[str, CustbondError]] = []
        for customer_id, (answer, _) in answers.items():
            if answer is not _Answer.INVITE:
                continue
            try:
                self._process(Invite(event=event, customer_id=customer_id), now)
            except CustbondError as error:
                failed.append((customer_id, error))
        raise_first(failed, "invite(): inviting")

        def who(answer: _Answer) -> tuple[str, ...]:
            return tuple(cid for cid, (given, _) in answers.items() if given is answer)

        return Invitations(
            who(_Answer.INVITE),
            who(_Answer.ALREADY),
            who(_Answer.NOT_FOR),
            who(_Answer.UNKNOWN),
            who(_Answer.TOO_LATE),
        )

    def _answer(
        self, event: MembersEvent, customer_id: str, now: datetime
    ) -> tuple[_Answer, tuple[str, ...]]:
        """What inviting the customer to ``event`` at ``now`` comes to, and for one
        invited before, the fields in which the event they were invited to differs."""
        key = Invite(event=event, customer_id=customer_id).log_key
        with self.store.unit_of_work(write=False) as uow:
            state = uow.load(customer_id)
            prior = None if state is None else uow.logged(key)
        if state is None or customer_id.startswith(PSEUDONYM_PREFIX):
            return _Answer.UNKNOWN, ()
        if prior is not None:
            first = prior.input
            assert isinstance(first, Invite)  # the log keeps invitations apart
            return _Answer.ALREADY, _differing(first.event, event)
        # The tier as tier_status() reads it: a review that fell due is carried out.
        tier = as_of(state, self.program, now).tier
        if not event.is_for(tier=tier, tags=state.customer.tags):
            return _Answer.NOT_FOR, ()
        if event.at <= now:  # never sent once it has begun: nothing to invite to
            return _Answer.TOO_LATE, ()
        return _Answer.INVITE, ()

    # -- the bond profile ------------------------------------------------------------------

    def bond_profile(self, customer_id: str) -> BondProfile:
        """How strongly each of the four bonds holds the customer now, with the facts
        behind each score (see ``docs/bond-profile.md``). What has fallen due is read as
        done (a tier review, stamps that lapsed), whether or not ``run_due()`` ran."""
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


def _customer_ids(value: object) -> list[str]:
    """The ids ``invite()`` is given, distinct and sorted; a lone string would be read
    letter by letter, so it is refused with anything else that is not a collection."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput("customer_ids", value, "an iterable of customer ids, not a string")
    return sorted({v.identifier("customer_id", item) for item in value})


_EVENT_FIELDS = ("name", "at", "tiers", "tags")


def _differing(first: MembersEvent, again: MembersEvent) -> tuple[str, ...]:
    """The fields of ``again`` that differ from the event first invited to (a time is
    the same instant in any zone)."""
    return tuple(
        name
        for name in _EVENT_FIELDS
        if not same_value(getattr(first, name), getattr(again, name))
    )


def _refuse_a_changed_event(
    event: MembersEvent, answers: Mapping[str, tuple[_Answer, tuple[str, ...]]]
) -> None:
    """Raise :class:`~custbond.IdempotencyConflict` when a customer was invited to an
    event of ``event``'s id with other content: the host moved or changed the event
    under the same id, and those invited would keep the old one."""
    told = {customer_id: fields for customer_id, (_, fields) in answers.items() if fields}
    if not told:
        return
    differing = [name for name in _EVENT_FIELDS if any(name in f for f in told.values())]
    error = IdempotencyConflict(event.id, differing)
    names = ", ".join(repr(customer_id) for customer_id in told)
    error.add_note(
        f"invite(): invited to {event.id!r} as it was first given: {names};"
        " give a changed event a new id"
    )
    raise error
