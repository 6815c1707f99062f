"""Erasure: a customer's values with their personal data taken out, the amounts kept.

``RetentionService.forget(customer_id)`` gives the customer a pseudonym and has the store
pass every value it keeps about them (and every value of others that names them) through
an :class:`Erasure`. What goes: the profile (name, email, phone, time zone, birthday,
tags, preferences), the customer id itself (replaced by the pseudonym wherever it
appears, so totals and liabilities still add up per pseudonymous customer), free text
in events and commands (a custom event's attributes, the reasons given with redemptions,
holds and adjustments), and the facts a decision's trace showed about the customer. What
stays: amounts, points, dates, event ids, skus, the program's own words.

These are pure functions on values; each store finds the rows and writes them back.

>>> from custbond import Customer
>>> erasure = Erasure("c-1", "erased-1")
>>> erasure.customer(Customer("c-1", name="Ada", email="ada@example.com")) == Customer("erased-1")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from custbond._frozen import FrozenMap, empty_map
from custbond.commands import Adjust, Input, PlaceHold, Redeem, SaveCustomer, SetConsent
from custbond.customers import Customer
from custbond.effects import (
    AdjustPoints,
    CancelMessage,
    HoldPoints,
    QueueMessage,
    RecordConsent,
    RedeemPoints,
    RewardReferral,
    SetReferrer,
    SetSchedule,
    UpdateProfile,
)
from custbond.events import CustomEvent, Purchase, Referral
from custbond.ledger import Entry, EntryKind
from custbond.messaging.message import MessageStatus, QueuedMessage, message_key
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.rules.trace import Step, Trace

if TYPE_CHECKING:  # the stores import this module
    from custbond.storage.ports import LogRecord, Record

__all__ = ["ERASED", "PSEUDONYM_PREFIX", "Erasure"]

# Every pseudonym starts with it (RetentionService.forget() checks).
PSEUDONYM_PREFIX = "erased-"

# What free text reads as once erased.
ERASED = "erased"
# Why a message to an erased customer is not sent.
ERASED_REASON = "the customer was erased"

# Entries whose reason a host may have written (the others' reasons are the program's).
_HOST_REASONS = frozenset({EntryKind.ADJUSTED, EntryKind.REDEEMED, EntryKind.HELD})
_HOST_REASON_EFFECTS = (AdjustPoints, RedeemPoints, HoldPoints)


@attrs.frozen
class Erasure:
    """Takes ``customer_id``'s personal data out of values, naming them ``pseudonym``."""

    customer_id: str
    pseudonym: str
    # The profile's name, email and phone: erased wherever they appear inside free text.
    redact: tuple[str, ...] = ()

    @classmethod
    def of(cls, customer: Customer, pseudonym: str) -> Erasure:
        """The erasure of ``customer``, whose contact details are redacted from texts."""
        details = (customer.name, customer.email, customer.phone)
        found: tuple[str, ...] = tuple(text for text in details if text)
        return cls(customer.id, pseudonym, found)

    def _id(self, value: str) -> str:
        return self.pseudonym if value == self.customer_id else value

    def text(self, text: str) -> str:
        """Free text of the program's own that may name the customer (a trace's words):
        the id becomes the pseudonym, contact details are erased."""
        text = text.replace(self.customer_id, self.pseudonym)
        for detail in self.redact:
            text = text.replace(detail, ERASED)
        return text

    def customer(self, customer: Customer) -> Customer:
        """The profile of the erased customer: the pseudonym and nothing else."""
        if customer.id != self.customer_id:
            return customer
        return Customer(self.pseudonym)

    def state(self, state: CustomerState) -> CustomerState:
        """The erased customer's state under the pseudonym with an empty profile; another
        customer's state with the erased customer, if they referred them, renamed."""
        if state.id == self.customer_id:
            # Consents stay (a replay of the erased log gives them again), their sources
            # erased; nothing is sent to an erased customer anyway.
            consents = {
                key: attrs.evolve(consent, source=self.text(consent.source))
                for key, consent in state.consents.items()
            }
            schedule = {name: at for name, at in state.schedule.items() if name != "birthday"}
            state = attrs.evolve(
                state,
                customer=self.customer(state.customer),
                consents=FrozenMap(consents) if consents else empty_map(),
                schedule=FrozenMap(schedule) if schedule else empty_map(),
            )
        if state.referred_by == self.customer_id:
            state = attrs.evolve(state, referred_by=self.pseudonym)
        return state

    def entry(self, entry: Entry) -> Entry:
        """An entry of the erased customer's statement: a reason a host wrote is erased."""
        if entry.kind in _HOST_REASONS and entry.reason != ERASED:
            return entry._replace(reason=ERASED)
        return entry

    def input(self, item: Input) -> Input:
        """An event or command: the customer renamed, free text erased."""
        if isinstance(item, SaveCustomer):
            return attrs.evolve(item, customer=self.customer(item.customer))
        if isinstance(item, Referral):
            return attrs.evolve(
                item,
                customer_id=self._id(item.customer_id),
                referrer_id=self._id(item.referrer_id),
            )
        if not hasattr(item, "customer_id") or item.customer_id != self.customer_id:
            return item
        changes: dict[str, Any] = {"customer_id": self.pseudonym}
        if isinstance(item, CustomEvent):
            changes["attributes"] = {}
        elif isinstance(item, SetConsent):
            changes["source"] = self.text(item.source)
        elif isinstance(item, Redeem | PlaceHold | Adjust):
            changes["reason"] = ERASED
        # Short texts a host fills in (a channel, a payment method, a place, an item's
        # tags): kept, but with the customer's contact details taken out of them.
        for name in ("channel", "payment", "location", "service"):
            value = getattr(item, name, None)
            if value:
                changes[name] = self.text(value)
        items = getattr(item, "items", ())
        if items and self.redact:
            changes["items"] = tuple(
                attrs.evolve(line, tags=frozenset(map(self.text, line.tags))) for line in items
            )
        return attrs.evolve(item, **changes)

    def outcome(self, outcome: Outcome) -> Outcome:
        """An outcome: renamed, profile updates emptied, the trace's facts dropped."""
        own = outcome.customer_id == self.customer_id
        effects = tuple(self._effect(effect, own=own) for effect in outcome.effects)
        if not own:  # another's that names the customer
            trace = Trace([step._replace(text=self.text(step.text)) for step in outcome.trace])
            return attrs.evolve(outcome, effects=effects, trace=trace)
        # The reasons a host gave (with a redemption, a hold, an adjustment) are echoed
        # by the effects and the trace's words: erased from both.
        reasons = {
            effect.reason
            for effect in effects
            if isinstance(effect, _HOST_REASON_EFFECTS) and effect.reason != ERASED
        }
        effects = tuple(
            attrs.evolve(effect, reason=ERASED)
            if isinstance(effect, _HOST_REASON_EFFECTS)
            else effect
            for effect in effects
        )
        steps = []
        for step in outcome.trace:
            text = self.text(step.text)
            for reason in reasons:
                text = text.replace(reason, ERASED)
            steps.append(Step(step.verdict, text, step.rule))
        return attrs.evolve(
            outcome,
            customer_id=self.pseudonym,
            effects=effects,
            trace=Trace(steps),
            entries=tuple(self.entry(entry) for entry in outcome.entries),
        )

    def _effect(self, effect: Any, *, own: bool) -> Any:
        """An effect of an outcome: the erased customer's own (``own``), or another's
        that names them."""
        if isinstance(effect, UpdateProfile):
            return UpdateProfile(self.customer(effect.customer))
        if isinstance(effect, RecordConsent):
            return attrs.evolve(effect, source=self.text(effect.source))
        if isinstance(effect, RewardReferral | SetReferrer):
            return attrs.evolve(effect, referrer_id=self._id(effect.referrer_id))
        if not own:  # another customer's messages and schedule are theirs
            return effect
        if isinstance(effect, QueueMessage):
            return attrs.evolve(effect, key=self.key(effect.key), context=empty_map())
        if isinstance(effect, CancelMessage):
            return attrs.evolve(effect, key=self.key(effect.key))
        if isinstance(effect, SetSchedule) and effect.name == "birthday" and effect.at:
            return SetSchedule("birthday", None)  # the birthday is gone with the profile
        return effect

    def key(self, key: str) -> str:
        """A message key, which may be made of the customer's id: with the pseudonym in
        its place, and as short as a key must be."""
        erased = self.text(key)
        return erased if erased == key else message_key(erased)

    def log_record(self, record: LogRecord) -> LogRecord:
        """A log record: its input and its outcome erased."""
        return attrs.evolve(
            record, input=self.input(record.input), outcome=self.outcome(record.outcome)
        )

    def record(self, record: Record) -> Record:
        """A purchase, hold or redemption record of the erased customer, renamed."""
        if isinstance(record, PurchaseRecord):
            purchase = record.purchase
            if purchase.customer_id != self.customer_id:
                return record
            erased = self.input(purchase)
            assert isinstance(erased, Purchase)
            return attrs.evolve(record, purchase=erased)
        if (
            isinstance(record, HoldRecord | RedemptionRecord)
            and record.customer_id == self.customer_id
        ):
            return attrs.evolve(record, customer_id=self.pseudonym)
        return record

    def queued(self, item: QueuedMessage) -> QueuedMessage:
        """A message of the erased customer in the outbox: renamed, its values gone; one
        not yet sent is suppressed (and never will be)."""
        message = item.message
        if message.customer_id != self.customer_id:
            return item
        # The values go: never to be sent, they could only give the customer away (a
        # reminder's local time gives their zone, a host's text may name them).
        context: FrozenMap[str, Any] = empty_map()
        erased = attrs.evolve(
            item,
            message=attrs.evolve(
                message,
                key=self.key(message.key),
                customer_id=self.pseudonym,
                context=context,
            ),
            reason=None if item.reason is None else self.text(item.reason),
        )
        if not item.status.final:
            erased = attrs.evolve(erased, status=MessageStatus.SUPPRESSED, reason=ERASED_REASON)
        return erased
