"""Reading a customer's state into the facts their bond profile is scored on.

:func:`bond_profile` is what ``service.bond_profile(customer_id)`` gives: the four facts
values of :mod:`custbond.bonds.profile`, read from the customer's
:class:`~custbond.program.CustomerState` and the program at ``now``, scored. Where a
fact needs history the state does not keep, it says so here:

- ``purchases_90d`` counts the days with spend in the last 90 days when the program
  keeps spend per day (rules on rolling spend, tiers); otherwise every purchase when
  the first of them is within 90 days, else 1 when the last one is (a lower bound).
- ``days_since_contact`` counts whole days since the last personal contact
  (:class:`~custbond.ContactMade`); ``occasions_known`` the personal occasions known
  (a birthday in the profile, the anniversary of a first purchase when the program's
  social policy marks it, and those the host added).
- ``subscriptions`` counts the active ones (not paused, not cancelled);
  ``months_subscribed`` is the longest of them since it started, in whole months.
- ``saved_carts`` counts the carts still kept now (one past its window is gone, whether
  or not ``run_due()`` has dropped it yet).

Everything is read as it stands at ``now`` (:func:`as_of`): a tier review that has
fallen due is carried out first, as ``tier_status()`` does, and a punch card whose stamps
have lapsed (:meth:`~custbond.bonds.PunchCard.lapsed`, on the program's calendar) counts
as not started. So the profile does not depend on whether ``run_due()`` has run.

>>> from datetime import datetime, timezone
>>> from custbond import Customer, Program
>>> from custbond.program import CustomerState
>>> now = datetime(2026, 5, 1, tzinfo=timezone.utc)
>>> print(bond_profile(CustomerState(Customer("c-1")), Program(), now).describe())
c-1 at 2026-05-01 00:00+00:00: held by no bond
  financial      ..........    0  none      no tier ladder; no points; ...
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from custbond import ledger as ledgers
from custbond.bonds.cards import PunchCard
from custbond.bonds.profile import (
    BondProfile,
    CustomizationFacts,
    FinancialFacts,
    SocialFacts,
    StructuralFacts,
    profile,
)
from custbond.bonds.subscriptions import SubscriptionStatus
from custbond.program import CustomerState, Program
from custbond.vouchers import VoucherStatus

__all__ = ["as_of", "bond_profile", "facts_of"]

_RECENT = timedelta(days=90)

Facts = tuple[FinancialFacts, SocialFacts, CustomizationFacts, StructuralFacts]


def bond_profile(
    state: CustomerState, program: Program, now: datetime, *, open_tasks: int = 0
) -> BondProfile:
    """The customer's bond profile at ``now`` (``open_tasks``: their owner's open tasks
    about them, which the store keeps apart from the state)."""
    financial, social, customization, structural = facts_of(
        state, program, now, open_tasks=open_tasks
    )
    return profile(
        state.id,
        now,
        financial=financial,
        social=social,
        customization=customization,
        structural=structural,
    )


def as_of(state: CustomerState, program: Program, now: datetime) -> CustomerState:
    """The customer's state as it stands at ``now``: with the tier reviews that have
    fallen due by then carried out (a tier kept, or ended), as ``tier_status()`` reads
    it, whether or not ``run_due()`` has carried them out in the store yet."""
    review = program.review(state, now)
    if not review.effects:
        return state
    projected, _ = program.apply(state, review, now)
    return projected


def facts_of(
    state: CustomerState, program: Program, now: datetime, *, open_tasks: int = 0
) -> Facts:
    """The four facts values of the customer's bond profile at ``now`` (see the
    module's docstring)."""
    state = as_of(state, program, now)
    return (
        _financial(state, program, now),
        _social(state, program, now, open_tasks),
        _customization(state, program, now),
        _structural(state, program, now),
    )


def _financial(state: CustomerState, program: Program, now: datetime) -> FinancialFacts:
    ladder = program.tiers
    rank = 0 if ladder is None else ladder.rank(state.tier) + 1
    tiers = 0 if ladder is None else len(ladder.levels)
    to_go = size = None
    for card in program.cards:
        left = max(card.stamps - _stamps(state, program, card, now), 0)
        if to_go is None or left < to_go:
            to_go, size = left, card.stamps
    vouchers = sum(
        1
        for voucher in state.vouchers.values()
        if voucher.status is VoucherStatus.ISSUED
        and (voucher.expires_at is None or voucher.expires_at > now)
    )
    return FinancialFacts(
        tier=state.tier if rank else None,
        tier_rank=rank,
        tiers=tiers,
        points=max(ledgers.balance(state.ledger, now).available, 0),
        points_for_reward=min((reward.points for reward in program.catalog), default=None),
        stamps_to_go=to_go,
        card_size=size,
        vouchers=vouchers,
        purchases_90d=_recent_purchases(state, now),
    )


def _stamps(state: CustomerState, program: Program, card: PunchCard, now: datetime) -> int:
    """The stamps on ``card`` now: none once they have lapsed (the next stamp starts the
    card again), whether or not ``run_due()`` ran since."""
    started = state.card_started.get(card.name)
    if card.lapsed(started, now, program.time_zone):
        return 0
    return state.stamps.get(card.name, 0)


def _recent_purchases(state: CustomerState, now: datetime) -> int:
    activity = state.activity
    last = activity.last_purchase_at
    if last is None or now - last > _RECENT:
        return 0
    if activity.daily:
        since = (now - _RECENT).date()
        return sum(1 for day in activity.daily if day[0] >= since and day[1] > 0) or 1
    first = activity.first_purchase_at
    return activity.purchases if first is not None and now - first <= _RECENT else 1


def _social(state: CustomerState, program: Program, now: datetime, open_tasks: int) -> SocialFacts:
    social = program.social
    owner = state.owner if social is None else social.owner_of(state.owner)
    contact = state.last_contact_at
    cadence = None
    if social is not None and social.cadence is not None:
        # The days of the gap that began at the last contact, as the keep-in-touch task
        # counts them (a month from 31 January is 28), not a month forward from now.
        cadence = social.cadence.days_from(contact or now)
    occasions = len(state.held.occasions) + (state.customer.birthday is not None)
    rules = None if social is None else social.occasions
    if rules is not None and rules.first_purchase and state.activity.first_purchase_at:
        occasions += 1
    return SocialFacts(
        owner=owner,
        days_since_contact=None if contact is None else max((now - contact).days, 0),
        cadence_days=cadence or None,
        events_attended=len(state.held.attended),
        occasions_known=occasions,
        open_tasks=open_tasks,
    )


def _customization(state: CustomerState, program: Program, now: datetime) -> CustomizationFacts:
    held = state.held
    need = None if program.customization is None else program.customization.next_need
    predicted = 0
    if need is not None:
        predicted = sum(1 for rhythm in held.rhythms.values() if need.predict(rhythm) is not None)
    return CustomizationFacts(
        preferences_known=held.preferences.known,
        restrictions_known=len(held.preferences.restrictions),
        offers_accepted=len(held.offers),
        wishes=len(held.wishes),
        saved_carts=sum(1 for cart in held.carts.values() if cart.is_kept(now)),
        predicted_needs=predicted,
    )


def _structural(state: CustomerState, program: Program, now: datetime) -> StructuralFacts:
    held, structure = state.held, program.structure
    plans = {} if structure is None else {plan.name: plan for plan in structure.plans}
    sequences = {} if structure is None else {seq.name: seq for seq in structure.sequences}
    # A paused subscription holds nobody while it is paused; a cancelled one never again.
    active = [
        sub for sub in held.subscriptions.values() if sub.status is SubscriptionStatus.ACTIVE
    ]
    paid = sum(1 for sub in active if sub.plan in plans and plans[sub.plan].is_paid)
    months = 0
    for sub in active:
        span = relativedelta(now, sub.started_at)
        months = max(months, span.years * 12 + span.months)
    return StructuralFacts(
        subscriptions=len(active),
        paid_subscriptions=paid,
        months_subscribed=months,
        integrations=sum(1 for item in held.integrations.values() if item.in_use),
        sequences=sum(
            1
            for name, item in held.sequences.items()
            if item.is_active and name in sequences and item.sent < len(sequences[name].steps)
        ),
    )
