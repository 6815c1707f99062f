"""The messaging verbs of :class:`~custbond.RetentionService`: consent, the outbox, the
dispatcher, broadcasts, and the messages custbond queues on its own.

Kept apart from the rest of the service, which mixes them in (:class:`OutboxVerbs`); the
pure parts (what to do with a due message, how a send went) are in
:mod:`custbond.messaging.dispatching`. See ``docs/messaging.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import attrs
from dateutil import tz

from custbond import _validate as v
from custbond._durations import shift
from custbond._same import same_value
from custbond._service_parts import ServiceParts
from custbond.commands import Input, SetConsent, Settle
from custbond.effects import CancelMessage, QueueMessage, RequestMessage
from custbond.erasure import ERASED_REASON, PSEUDONYM_PREFIX
from custbond.errors import CustbondError, IdempotencyConflict, InvalidInput, TemplateError
from custbond.events import Purchase
from custbond.ledger import EntryKind
from custbond.messaging import dispatching
from custbond.messaging.consent import Consent, allows
from custbond.messaging.message import (
    AUTOMATIC_PREFIX,
    Message,
    MessageKind,
    MessageStatus,
    QueuedMessage,
    _to_status,
    automatic_key,
    is_automatic,
    message_key,
)
from custbond.messaging.notifier import Delivery, DeliveryStatus, Notifier, Outgoing
from custbond.messaging.occasions import Send, local_moment
from custbond.messaging.policy import RetryPolicy
from custbond.messaging.templates import Rendered, Templates
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.rules.conditions import Check, Condition
from custbond.rules.facts import Facts, zone_of
from custbond.rules.rule import condition_of
from custbond.storage.ports import UnitOfWork

__all__ = ["Broadcast", "OutboxVerbs"]

T = TypeVar("T")


_BATCH = 500  # customers a broadcast takes to a unit of work, unless told


class OutboxVerbs(ServiceParts):
    """What :class:`~custbond.RetentionService` does with messages (mixed into it)."""

    # Given by the service (with the program, store and clock of ServiceParts).
    notifier: Notifier | None
    retry: RetryPolicy

    def _transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        raise NotImplementedError  # pragma: no cover - the service's

    def set_consent(
        self,
        customer_id: str,
        channel: str,
        *,
        granted: bool,
        source: str,
        key: str,
        kind: MessageKind | str = MessageKind.MARKETING,
    ) -> Outcome:
        """Record that the customer agreed (``granted=True``) or refused to be sent
        ``kind`` messages (marketing by default) on ``channel``; ``source`` says where
        the answer came from ("signup form", "unsubscribe link"). A customer not seen
        before is created. The latest answer per channel and kind counts; messages
        already queued are checked again when they are sent.
        """
        command = SetConsent(
            key=key,
            customer_id=customer_id,
            channel=channel,
            kind=kind,
            granted=granted,
            source=source,
        )
        return self._process(command, self.clock.now())

    def consents(self, customer_id: str) -> tuple[Consent, ...]:
        """The customer's consents (the latest answer per channel and kind)."""
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return tuple(state.consents[key] for key in sorted(state.consents))

    def queue(self, message: Message) -> QueuedMessage:
        """Put ``message`` in the outbox, for :meth:`dispatch` to send: a message of the
        host's own (an order confirmation, a note from the owner). Marketing to a
        customer who has not consented is kept as suppressed, with the reason.

        Queuing the same message again returns the one queued first; another message
        under the same key raises :class:`~custbond.IdempotencyConflict`. A key
        beginning with ``"custbond:"`` is refused: those are custbond's, for the messages
        it queues on its own. :class:`~custbond.NotFound` for a customer never seen.
        """
        if not isinstance(message, Message):
            raise InvalidInput("message", message, "a Message")
        if is_automatic(message.key):
            expected = (
                f"a key not beginning with {AUTOMATIC_PREFIX!r}"
                " (kept for the messages custbond queues on its own)"
            )
            raise InvalidInput("key", message.key, expected)
        self.program.messaging.templates.require("template", message.template, message.channel)
        now = self.clock.now()

        def work(uow: UnitOfWork) -> QueuedMessage:
            state = self._load(uow, message.customer_id)
            return self._enqueue(uow, state, message, now, strict=True)

        return self._transaction(work)

    def outbox(
        self, *, customer_id: str | None = None, status: MessageStatus | str | None = None
    ) -> tuple[QueuedMessage, ...]:
        """The messages in the outbox, in the order they were queued: all, or one
        customer's, or those in one ``status``."""
        wanted = None if status is None else _to_status(status)
        if customer_id is not None:
            v.identifier("customer_id", customer_id)
        with self.store.unit_of_work(write=False) as uow:
            found = uow.outbox() if customer_id is None else uow.messages_of(customer_id)
        return tuple(item for item in found if wanted is None or item.status is wanted)

    def dispatch(self, *, limit: int = 100) -> list[QueuedMessage]:
        """Deliver up to ``limit`` messages that are due, through the ``notifier``, and
        return each as it stands afterwards (sent, waiting for a retry, suppressed,
        dead, or waiting for the end of quiet hours).

        Each message is checked again when it is sent (consent, the address, quiet
        hours, frequency caps) and claimed in a unit of work of its own before the
        notifier sees it; how the send went is kept in another. A dispatcher that stops
        between the two leaves the message claimed: after the claim lapses
        (``retry.claim_for``) the next dispatch sends it again, with the same key.
        Failures for now are retried with backoff, up to ``retry.max_attempts`` sends.
        """
        notifier = self.notifier
        if notifier is None:
            raise InvalidInput("notifier", None, "a Notifier given to the RetentionService")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput("limit", limit, "a positive int")
        now = self.clock.now()
        with self.store.unit_of_work(write=False) as uow:
            due = [(item.key, item.customer_id) for item in uow.due_messages(now, limit)]
        results: list[QueuedMessage] = []
        for key, customer_id in due:
            # Each claim at the time it is made: a claim lasts claim_for from then, and
            # quiet hours and deadlines are judged then, however long sends before took.
            claimed = self._transaction(
                partial(self._claim, key=key, cid=customer_id, now=self.clock.now())
            )
            if claimed is None:  # taken by another dispatcher, or no longer due
                continue
            item, outgoing = claimed
            if outgoing is None:
                results.append(item)
                continue
            answer: object
            try:
                answer = notifier.send(outgoing)
            except Exception as error:  # a notifier's failure is one failed send
                answer = Delivery.retry(f"{type(error).__name__}: {error}")
            delivery = (
                answer
                if isinstance(answer, Delivery)
                else Delivery.retry(f"the notifier answered {answer!r}, not a Delivery")
            )
            results.append(
                self._transaction(partial(self._delivered, claimed=item, delivery=delivery))
            )
        return results

    def broadcast(
        self,
        key: str,
        template: str,
        *,
        channel: str = "email",
        kind: MessageKind | str = MessageKind.MARKETING,
        context: Mapping[str, Any] | None = None,
        segment: Condition | str | None = None,
        not_before: datetime | None = None,
        on: date | None = None,
        at: time = time(9),
        batch_size: int = _BATCH,
    ) -> Broadcast:
        """Queue the message ``template`` to every customer in ``segment`` (a condition
        on ``customer.*`` and ``state.*`` facts, as in rules: ``'"vegan" in
        customer.tags'``; everyone when None): news of a product or a service. Each
        customer's message is keyed ``f"custbond:{key}:{customer_id}"`` (in custbond's
        namespace, apart from the keys of :meth:`queue`), so a broadcast run again
        (after a crash half-way) queues nobody twice. Marketing (the default kind) to a
        customer without consent is kept as suppressed; frequency caps and quiet hours
        apply when it is sent. ``on`` sends it at ``at`` o'clock on that day in each
        customer's time zone; ``not_before`` at one moment for all.

        Customers are taken ``batch_size`` to a unit of work.
        """
        head = (v.identifier("key", key),)
        return self._broadcast(
            head,
            template,
            channel=channel,
            kind=kind,
            context=context,
            segment=segment,
            not_before=not_before,
            on=on,
            at=at,
            batch_size=batch_size,
        )

    def _broadcast(
        self,
        head: tuple[str, ...],
        template: str,
        *,
        channel: str,
        kind: MessageKind | str,
        context: Mapping[str, Any] | None,
        segment: Condition | str | None,
        not_before: datetime | None,
        on: date | None,
        at: time,
        batch_size: int,
    ) -> Broadcast:
        """:meth:`broadcast`, each customer's message keyed ``automatic_key(*head,
        customer_id)``: a host's broadcast's head is its key, one part, and a holiday's
        is three (``"holiday"``, its name, the day), so that no key a host gives can
        be a holiday greeting's."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", batch_size, "a positive int")
        if on is not None and not_before is not None:
            raise InvalidInput("not_before", not_before, "None when on is given")
        if on is not None and not isinstance(on, date):
            raise InvalidInput("on", on, "a date")
        if not isinstance(at, time) or at.tzinfo is not None:
            raise InvalidInput("at", at, "a datetime.time without a tzinfo (local)")
        send = Send(template=template, channel=channel, kind=kind)
        self.program.messaging.templates.require("template", send.template, send.channel)
        check = None if segment is None else _segment(segment)
        # Made once, to check the context and not_before before anything is queued.
        probe = Message(
            key=message_key(*head),
            customer_id="probe",
            template=send.template,
            context=context or {},
            not_before=not_before,
        )
        now = self.clock.now()
        with self.store.unit_of_work(write=False) as uow:
            customer_ids = list(uow.customer_ids())
        report = Broadcast()
        for start in range(0, len(customer_ids), batch_size):
            batch = customer_ids[start : start + batch_size]
            work = partial(
                self._broadcast_batch,
                batch=batch,
                head=head,
                send=send,
                probe=probe,
                check=check,
                when=(on, at),
                now=now,
            )
            report = report + self._transaction(work)
        return report

    def _broadcast_batch(
        self,
        uow: UnitOfWork,
        *,
        batch: Sequence[str],
        head: tuple[str, ...],
        send: Send,
        probe: Message,
        check: Check | None,
        when: tuple[date | None, time],
        now: datetime,
    ) -> Broadcast:
        uow.prefetch_customers(batch)
        queued = suppressed = outside = 0
        for customer_id in batch:
            state = uow.load(customer_id)
            if state is None:  # pragma: no cover - erased since the ids were read
                continue
            zone = zone_of(state, self.program.time_zone)
            if check is not None and check(Facts(None, state, now, zone)) is not None:
                outside += 1
                continue
            day, at = when
            not_before = probe.not_before if day is None else local_moment(day, at, zone)
            message = Message(
                key=automatic_key(*head, customer_id),
                customer_id=customer_id,
                template=send.template,
                channel=send.channel,
                kind=send.kind,
                context=probe.context,
                not_before=not_before,
            )
            item = self._enqueue(uow, state, message, now)
            if item.status is MessageStatus.SUPPRESSED:
                suppressed += 1
            else:
                queued += 1
        return Broadcast(queued, suppressed, outside)

    def _schedule_everyone(
        self, now: datetime
    ) -> tuple[list[Outcome], list[tuple[str, CustbondError]]]:
        """Put every customer on the schedule of greetings, notices, keep-in-touch,
        personal occasion and review tasks, once for each setting of them: a customer
        gets on it with their next event, and this reaches those who have none (known
        before the setting, or idle since).
        A shared counter remembers the pass, by what the setting says."""
        policy, social = self.program.messaging, self.program.social
        parts: tuple[object, ...] = (policy.birthday, policy.points_expiring)
        if social is not None and social.cadence is not None:  # else as before the cadence
            parts = (*parts, social.default_owner, social.cadence)
        if social is not None and (social.occasions or social.reviews):  # else as before
            parts = (*parts, social.default_owner, social.occasions, social.reviews)
        setting = repr(parts).encode()
        done = f"schedule {hashlib.sha256(setting).hexdigest()[:16]}"
        with self.store.unit_of_work(write=False) as uow:
            if uow.counter(done):
                return [], []
            customer_ids = list(uow.customer_ids())
        # Settling puts them on it (and does what is due for them by now). One that fails
        # is put on it at their next event; the pass is done for the others.
        outcomes, failed = self._settle_each(customer_ids, now)
        self._transaction(partial(_count_once, name=done))
        return outcomes, failed

    def _settle_each(
        self, customer_ids: Sequence[str], now: datetime
    ) -> tuple[list[Outcome], list[tuple[str, CustbondError]]]:
        """Settle each customer in a unit of work of their own; the outcomes, and the
        customers whose settling failed, with why."""
        outcomes: list[Outcome] = []
        failed: list[tuple[str, CustbondError]] = []
        for customer_id in customer_ids:
            try:
                outcomes.append(self._process(Settle(customer_id=customer_id), now))
            except CustbondError as error:
                failed.append((customer_id, error))
        return outcomes, failed

    def _holiday_greetings(self, now: datetime) -> None:
        """Queue the greetings of holidays that fall today or tomorrow (in the program's
        time zone), once each: in time for 9 o'clock (or the holiday's hour) in every
        customer's zone. A shared counter remembers each holiday greeted."""
        zone = tz.gettz(self.program.time_zone)
        today = now.astimezone(zone).date()
        for holiday in self.program.messaging.holidays:
            day = holiday.next_day(today)
            if day is None or (day - today).days > 1:
                continue
            done = f"holiday {holiday.name} {day.isoformat()}"
            with self.store.unit_of_work(write=False) as uow:
                if uow.counter(done):
                    continue
            self._broadcast(
                ("holiday", holiday.name, day.isoformat()),
                holiday.template,
                channel=holiday.channel,
                kind=holiday.kind,
                context={"holiday": holiday.name},
                segment=None,
                not_before=None,
                on=day,
                at=holiday.at,
                batch_size=_BATCH,
            )
            self._transaction(partial(_count_once, name=done))

    def _requested_message(
        self, effect: RequestMessage, item: Input, event_id: str, outcome: Outcome
    ) -> Message:
        """The message a rule asked for on the event ``event_id``: keyed by the event,
        the rule, the template and the channel, so that one request is queued once. Its
        context: the event's id, the points it earned, the balance after it; for a
        purchase also its amount and the items suggested with it (as for thank-you)."""
        earned = sum(e.points for e in outcome.entries if e.kind is EntryKind.EARNED)
        context: dict[str, Any] = {
            "event": event_id,
            "points": earned,
            "balance": outcome.balance.available,
        }
        if isinstance(item, Purchase):
            related = self.program.messaging.suggestions(line.sku for line in item.items)
            context["amount"] = item.amount
            context["related"] = related
            context["suggestions"] = f"You might also like: {related}." if related else ""
        return Message(
            key=automatic_key(event_id, effect.rule, effect.template, effect.channel),
            customer_id=outcome.customer_id,
            template=effect.template,
            channel=effect.channel,
            kind=effect.kind,
            context=context,
        )

    def _enqueue(
        self,
        uow: UnitOfWork,
        state: CustomerState,
        message: Message,
        now: datetime,
        *,
        strict: bool = False,
    ) -> QueuedMessage:
        """Queue ``message`` for the customer in ``state``, once per key. A message of
        the host's (``strict``) under a key used for another raises; one custbond asks
        for again (the profile changed since, or a template) is the one queued first:
        under its key (:func:`~custbond.messaging.message.automatic_key`) there is never
        a host's."""
        found = uow.queued(message.key)
        if found is not None:
            differing = [
                field.name
                for field in attrs.fields(Message)
                if not same_value(getattr(found.message, field.name), getattr(message, field.name))
            ]
            if differing and strict:
                raise IdempotencyConflict(message.key, differing)
            return found
        allowed, why = allows(state.consents, message.channel, message.kind)
        if state.id.startswith(PSEUDONYM_PREFIX):
            allowed, why = False, ERASED_REASON
        if allowed:
            item = QueuedMessage.new(message, now)
        else:
            item = QueuedMessage.suppressed(message, now, why)
        uow.enqueue(item)
        return item

    def _claim(
        self, uow: UnitOfWork, *, key: str, cid: str, now: datetime
    ) -> tuple[QueuedMessage, Outgoing | None] | None:
        """Take the message ``key`` for sending, or settle it without sending (suppress,
        wait); None when it is not due any more. The customer's row is read first, so
        a database store locks it before the message's (the order events take)."""
        customer_id = cid
        state = uow.load(customer_id)
        item = uow.queued(key)
        if item is None or item.customer_id != customer_id or not item.is_due(now):
            return None
        policy = self.program.messaging
        others: Sequence[QueuedMessage] = ()
        if policy.caps:  # what the caps count: the longest one's window, back from now
            since = min(shift(now, cap.per, back=True) for cap in policy.caps)
            others = uow.messages_of(customer_id, since=since)
        # No customer: the message is suppressed before the zone is needed.
        zone = UTC if state is None else zone_of(state, self.program.time_zone)
        screening = dispatching.screen(
            item,
            None if state is None else state.customer,
            None if state is None else state.consents,
            now,
            policy=policy,
            retry=self.retry,
            zone=zone,
            others=others,
        )
        if screening.action == "wait":
            updated = dispatching.wait(item, screening)
            uow.update_queued(updated)
            return updated, None
        if screening.action != "send":
            updated = dispatching.give_up(item, screening)
            uow.update_queued(updated)
            return updated, None
        assert state is not None
        message = item.message
        rendered = _render(policy.templates, message, state.customer.name or "there")
        if isinstance(rendered, str):  # why no attempt can render it: a dead letter
            updated = dispatching.give_up(item, dispatching.Screening("dead", rendered))
            uow.update_queued(updated)
            return updated, None
        updated = dispatching.claim(item, now, self.retry)
        uow.update_queued(updated)
        outgoing = Outgoing(
            key=message.key,
            customer_id=message.customer_id,
            channel=message.channel,
            kind=message.kind,
            template=message.template,
            to=dispatching.address_of(state.customer, message.channel),
            subject=rendered.subject,
            body=rendered.body,
            attempt=updated.attempts,
        )
        return updated, outgoing

    def _delivered(
        self, uow: UnitOfWork, *, claimed: QueuedMessage, delivery: Delivery
    ) -> QueuedMessage:
        """Keep how the send of ``claimed`` went, unless its claim lapsed and another
        dispatcher has taken the message since (that one's answer counts). A message
        suppressed while it was being sent (its appointment cancelled) that went out all
        the same is kept as sent: the customer has it."""
        item = uow.queued(claimed.key)
        if item is None or item.attempts != claimed.attempts:
            return claimed if item is None else item
        now = self.clock.now()
        if item.status is MessageStatus.SENDING:
            updated = dispatching.settle(item, delivery, now, self.retry)
        elif delivery.status is DeliveryStatus.SENT and item.status is not MessageStatus.SENT:
            # Suppressed (cancelled), put off (quiet hours) or given up by another
            # dispatcher while this one's send went out: the customer has it.
            updated = attrs.evolve(item, status=MessageStatus.SENT, sent_at=now)
        else:
            return item
        uow.update_queued(updated)
        return updated

    def _carry_out_messages(
        self,
        uow: UnitOfWork,
        state: CustomerState,
        item: Input,
        outcome: Outcome,
        now: datetime,
    ) -> None:
        """Queue (or cancel) the messages an event's decision asked for, in its unit of
        work."""
        for effect in outcome.effects:
            if isinstance(effect, RequestMessage) and outcome.key is not None:
                message = self._requested_message(effect, item, outcome.key, outcome)
                self._enqueue(uow, state, message, now)
            elif isinstance(effect, QueueMessage):
                self._enqueue(uow, state, _queued_message(effect, state.id), now)
            elif isinstance(effect, CancelMessage):
                _cancel(uow, effect, state.id)


@attrs.frozen
class Broadcast:
    """What :meth:`RetentionService.broadcast` did: messages ``queued``, kept as
    ``suppressed`` (no consent), and customers ``outside`` the segment."""

    queued: int = 0
    suppressed: int = 0
    outside: int = 0

    def __add__(self, other: Broadcast) -> Broadcast:
        return Broadcast(
            self.queued + other.queued,
            self.suppressed + other.suppressed,
            self.outside + other.outside,
        )


def _segment(segment: Condition | str) -> Check:
    """The check of a broadcast's segment: a condition on the customer, not an event."""
    condition = condition_of(segment)
    for leaf in condition.comparisons():
        if leaf.fact.startswith("event."):
            raise InvalidInput(
                "segment", segment, "a condition on customer.* and state.* facts (no event)"
            )
    return condition.compile()


def _render(templates: Templates, message: Message, name: str) -> Rendered | str:
    """``message`` rendered for a customer called ``name``, or why it cannot be: a
    number in its context too long to write out (one kept from before contexts were
    bounded: writing out 1E+999999999 takes a billion characters), or whatever rendering
    raised (a TemplateError; a host's Templates that raise). Such a message must not stay
    pending and due first: every dispatch would stop at it, and no message after it
    would be sent."""
    where = f"template {message.template!r} ({message.channel}) could not be rendered"
    for key, value in message.context.items():
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            try:
                v.writable_number(f"context[{key!r}]", value)
            except InvalidInput as error:
                return (
                    f"{where}: {error.field} is {error.value!r}, too long to write out (a"
                    f" number may have at most {v.LONGEST_NUMBER} digits before its point"
                    f" and {v.LONGEST_NUMBER} after it)"
                )
    values = {**message.context, "name": name}
    try:
        return templates.render(message.template, message.channel, values)
    except Exception as error:  # any failure: see above
        return _unrenderable(error, message)


def _unrenderable(error: Exception, message: Message) -> str:
    """Why ``message`` cannot be rendered: a TemplateError says it; anything else is
    named with the template and the channel."""
    if isinstance(error, TemplateError):
        return str(error)
    said = str(error)
    failure = f"{type(error).__name__}: {said}" if said else type(error).__name__
    return f"template {message.template!r} ({message.channel}) could not be rendered: {failure}"


def _count_once(uow: UnitOfWork, *, name: str) -> None:
    uow.add_to_counter(name, 1)


def _queued_message(effect: QueueMessage, customer_id: str) -> Message:
    return Message(
        key=effect.key,
        customer_id=customer_id,
        template=effect.template,
        channel=effect.channel,
        kind=effect.kind,
        context=effect.context,
        not_before=effect.not_before,
        not_after=effect.not_after,
    )


def _cancel(uow: UnitOfWork, effect: CancelMessage, customer_id: str) -> None:
    """Suppress the message ``effect.key`` of the customer, unless it is final already."""
    found = uow.queued(effect.key)
    if found is not None and found.customer_id == customer_id and not found.status.final:
        uow.update_queued(
            attrs.evolve(found, status=MessageStatus.SUPPRESSED, reason=effect.reason)
        )
