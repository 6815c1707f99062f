"""Erasure: a customer's values with their personal data taken out, the amounts kept.

``RetentionService.forget(customer_id)`` gives the customer a pseudonym and has the store
pass every value it keeps about them (and every value of others that names them) through
an :class:`Erasure`. What goes: the profile (name, email, phone, time zone, birthday,
tags, preferences), the name, email and phone of every profile they had before (see
:meth:`Erasure.knowing`), in any case, wherever they appear in the host's words kept of
them (:meth:`Erasure.text`), and their emails and phones in the values the program reads
or looks up, which keep a name (:meth:`Erasure.value`: a tag "rose" stays), the
customer id itself (replaced by the pseudonym wherever a value names the customer, so
totals and liabilities still add up per pseudonymous customer), free text in events and
commands (a custom event's attributes, the reasons given with redemptions, holds and
adjustments, where a consent came from, a complaint's words and its resolution, a
survey's comment, what a task's owner wrote when closing it, a wish's note, a reason for
cancelling a subscription), the preferences the customer gave (favourites,
restrictions, interests, industry), and the facts a decision's trace showed about the
customer. What stays: amounts, points, dates, event ids, skus, tags, channels, payment
methods and categories (but for an email or phone in them), severities, scores,
compensation, the program's own words (with the customer's id, where they name the
customer, and contact details taken out of them). Other customers' values change only
where they name the customer: a referrer's id, custbond's words quoting it.

These are pure functions on values; each store finds the rows and writes them back.

>>> from custbond import Customer
>>> erasure = Erasure("c-1", "erased-1")
>>> erasure.customer(Customer("c-1", name="Ada", email="ada@example.com")) == Customer("erased-1")
True
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from custbond._frozen import FrozenMap, empty_map
from custbond.bonds.customization import Preferences, Wish
from custbond.bonds.held import Held
from custbond.bonds.occasions import Occasion
from custbond.bonds.subscriptions import Subscription
from custbond.commands import (
    AddOccasion,
    AddWish,
    Adjust,
    CancelSubscription,
    CloseTask,
    Input,
    Invite,
    NotifyIncident,
    PlaceHold,
    Redeem,
    SaveCustomer,
    SetConsent,
    SetPreferences,
)
from custbond.customers import Customer
from custbond.effects import (
    AdjustPoints,
    CancelMessage,
    FinishTask,
    HoldPoints,
    NoteSurvey,
    OpenTask,
    QueueMessage,
    RecordConsent,
    RedeemPoints,
    RewardReferral,
    SetCase,
    SetHeld,
    SetReferrer,
    SetSchedule,
    UpdateProfile,
)
from custbond.events import (
    ComplaintFiled,
    ComplaintResolved,
    ContactMade,
    CustomEvent,
    Purchase,
    Referral,
    SurveyResponse,
)
from custbond.ledger import Entry, EntryKind
from custbond.messaging.message import (
    AUTOMATIC_PREFIX,
    MessageStatus,
    QueuedMessage,
    is_automatic,
    key_part,
    shortened_key,
)
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.recovery.case import CaseStep, RecoveryCase
from custbond.rules.trace import Step, Trace
from custbond.tasks import Task

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


@functools.lru_cache(maxsize=64)
def _whole_word(word: str) -> re.Pattern[str]:
    """``word`` where it is not part of a longer id: no letter, digit, "-", "_" or "."
    right before or after it."""
    return re.compile(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])")


@functools.lru_cache(maxsize=64)
def _key_part(word: str) -> re.Pattern[str]:
    """``word`` as one whole part of a key made of parts joined by colons."""
    return re.compile(rf"(?<![^:]){re.escape(word)}(?![^:])")


def _literal(text: str) -> str:
    """``text`` as a replacement in ``re.sub``, where a backslash is special."""
    return text.replace("\\", "\\\\")


# -- Finding the customer's details in a text ----------------------------------------------
#
# Texts are compared caselessly as Unicode folds case (``str.casefold``: "ß" is "ss", "İ"
# is "i" and a combining dot) and decomposed (an accented letter typed as one character
# or as two is the same); the Turkish dotted and dotless i also match i. A pattern is
# matched on the folded text, and each match is mapped back to the characters of the
# text it came from: folding changes lengths, and what is kept is the text as written.

# A character that goes on a word: a letter, a digit, "_", or an accent on one.
_WORD = r"[\w\u0300-\u036f]"
# An i, dotted, dotless or plain, in a folded text (where "İ" is "i" and a combining dot).
_ANY_I = "[i\u0131]\u0307?"


@functools.lru_cache(maxsize=1024)
def _fold_char(char: str) -> str:
    """One character as caseless matching sees it: decomposed, case-folded, decomposed."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", char).casefold())


def _fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` folded for caseless matching, and for each character of the result the
    index of the character of ``text`` it comes from (None: one to one)."""
    if text.isascii():
        return text.lower(), None
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        part = _fold_char(char)
        folded.append(part)
        origin.extend([index] * len(part))
    return "".join(folded), origin


def _caseless(text: str) -> str:
    """The regular expression of ``text``, folded, for a folded text."""
    parts: list[str] = []
    for char in _fold(text)[0]:
        if char in "i\u0131":
            parts.append(_ANY_I)
        elif not (char == "\u0307" and parts and parts[-1] == _ANY_I):  # the dot of an İ
            parts.append(re.escape(char))
    return "".join(parts)


@functools.lru_cache(maxsize=64)
def _any_of(texts: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of ``texts`` (a customer's names, emails and phones, or what a host wrote) in a
    folded text (see :func:`_fold`), longest first; None when there is nothing to look
    for. A name or a host's words match in any case where they are not part of a longer
    word ("Ann" is not in "Annual") nor of an email address; an email as a whole address
    (see ``_EMAIL_AT``); a phone number however it is written (see :func:`_phone`)."""
    texts = tuple(text for text in texts if text.strip())
    if not texts:
        return None
    longest_first = sorted(set(texts), key=lambda text: len(_fold(text)[0]), reverse=True)
    return re.compile("|".join(f"(?:{_pattern(text)})" for text in longest_first))


def _pattern(text: str) -> str:
    """The regular expression of one text for :func:`_any_of`."""
    phone = _phone(text)
    if phone is not None:
        return phone
    if _is_email(text):
        return _EMAIL_AT.format(_caseless(text))
    pattern = _caseless(text)
    if _is_word(text[0]):
        pattern = f"(?<!{_WORD})(?<!@)" + pattern
    if _is_word(text[-1]):
        pattern += f"(?!{_WORD}){_NOT_IN_AN_ADDRESS}"
    return pattern


# A word right before an "@", or before a dotted part that ends in one, is in an email
# address: "rose" in "jim.rose@example.com" or "rose.lee@example.com" is someone else's.
_NOT_IN_AN_ADDRESS = r"(?![\w.+\-]*@)"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


# An email address is a whole one: what comes right before it would make it a longer
# local part ("jim.bob@shop.com" is not "bob@shop.com"), or right after a longer domain
# ("bob@shop.com.au", "bob@shop.com-mail.net"); a full stop that ends a sentence is not.
_EMAIL_AT = r"(?<![\w.+\-]){}(?![\w\-]|\.[\w\-])"


def _is_email(text: str) -> bool:
    return re.fullmatch(r"[^\s@]+@[^\s@]+", text) is not None


# What people write between the digits of a phone number.
_GAP = r"[\s().\-/]*"
# A text of these is a phone number when it has at least _PHONE_DIGITS digits (fewer are
# not told from other numbers).
_PHONE_TEXT = re.compile(r"\s*\+?[0-9\s().\-/]+")
_PHONE_DIGITS = 5
# A number written nationally is matched when its national part has at least this many
# digits: shorter ones are too much like order numbers and amounts.
_NATIONAL_DIGITS = 7
# The two-digit country calling codes (ITU-T E.164); those of 1 and 7 have one digit,
# every other three. No code is the start of another.
_TWO_DIGIT_CODES = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
})  # fmt: skip
# Not right after another country code ("+1 20 7946 0958" is not "020 7946 0958").
_NOT_AFTER_A_CODE = "".join(
    rf"(?<!{prefix}[0-9]{{{size}}}{gap})"
    for prefix in (r"\+", "00")
    for size in (1, 2, 3)
    for gap in ("", r"[\s.\-]")
)


def _phone(text: str) -> str | None:
    """The regular expression of a phone number (None when ``text`` is not one): its
    digits with or without the spaces, dashes, dots and brackets between them. Saved
    with its country code ("+44 20 7946 0958"), it also matches after "00" or without
    the "+" ("0044 20 7946 0958", "44 20 7946 0958"), with a "(0)" after the code, and
    written nationally: the national number alone or after a trunk "0" ("020 7946 0958",
    "(020) 7946 0958" but for its first bracket, "20 7946 0958"), but not right after
    another country code. Saved nationally ("020 7946 0958"), it also matches with any
    country code before the national number ("+44 20 7946 0958"). A national number
    shorter than ``_NATIONAL_DIGITS`` digits is matched only as saved."""
    if _PHONE_TEXT.fullmatch(text) is None:
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) < _PHONE_DIGITS:
        return None
    code, national = _phone_parts(text.strip(), digits)
    forms = []
    if code is None:
        forms.append(rf"(?<![0-9])\+?{_GAP.join(digits)}(?![0-9])")
    else:
        forms.append(
            rf"(?<![0-9])(?:(?:\+|00){_GAP})?{_GAP.join(code)}{_GAP}(?:0{_GAP})?"
            rf"{_GAP.join(national)}(?![0-9])"
        )
    if len(national) >= _NATIONAL_DIGITS:
        number = _GAP.join(national)
        forms.append(rf"{_NOT_AFTER_A_CODE}(?<![0-9+])(?:0{_GAP})?{number}(?![0-9])")
        if code is None:  # which country it is in is not known
            forms.append(
                rf"(?<![0-9])(?:\+|00){_GAP}[0-9]{{1,3}}{_GAP}(?:0{_GAP})?{number}(?![0-9])"
            )
    return "|".join(forms)


def _phone_parts(text: str, digits: str) -> tuple[str | None, str]:
    """A phone number's country code, if it shows one ("+44", "0044"), and its national
    significant number: the digits after the code, or after a trunk "0" ("020 ...");
    (None, "") when it shows neither."""
    if text.startswith("+") or digits.startswith("00"):
        number = digits if text.startswith("+") else digits[2:]
        if number and number[0] != "0":
            size = 1 if number[0] in "17" else 2 if number[:2] in _TWO_DIGIT_CODES else 3
            return number[:size], number[size:]
    elif digits.startswith("0"):
        return None, digits[1:]
    return None, ""


def _without(texts: tuple[str, ...], text: str) -> str:
    """``text`` with each of ``texts`` in it (see :func:`_any_of`) erased: a match that
    covers part of a character's folding ("ß" is "ss") takes the whole character."""
    pattern = _any_of(texts)
    if pattern is None:
        return text
    folded, origin = _fold(text)
    spans: list[list[int]] = []
    for match in pattern.finditer(folded):
        start, end = match.span()
        if origin is not None and end > start:
            start, end = origin[start], origin[end - 1] + 1
        if spans and start < spans[-1][1]:  # in a character a match before took
            spans[-1][1] = max(end, spans[-1][1])
        elif end > start:
            spans.append([start, end])
    if not spans:
        return text
    pieces: list[str] = []
    at = 0
    for start, end in spans:
        pieces += (text[at:start], ERASED)
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


@functools.lru_cache(maxsize=64)
def _contacts(texts: tuple[str, ...]) -> tuple[str, ...]:
    """The email addresses and phone numbers among ``texts`` (a customer's names left
    out: they are words that the program's own values may be, too)."""
    return tuple(text for text in texts if _is_contact(text))


def _is_contact(text: str) -> bool:
    return _is_email(text) or _phone(text) is not None


def _details(customer: Customer) -> tuple[str, ...]:
    """A profile's contact details: its name, email and phone, those it has."""
    return tuple(text for text in (customer.name, customer.email, customer.phone) if text)


def _erased(text: str | None) -> str | None:
    """Free text a person wrote about the customer, erased (None stays None: there was
    nothing to erase, and ``ERASED`` marks that something was)."""
    return None if text is None else ERASED


@attrs.frozen
class Erasure:
    """Takes ``customer_id``'s personal data out of values, naming them ``pseudonym``."""

    customer_id: str
    pseudonym: str
    # The name, email and phone of every profile the customer had: erased wherever they
    # appear (in any case) inside the texts kept of them.
    redact: tuple[str, ...] = ()
    # The program's time zone: what the customer's dates are reckoned in once their own
    # zone is gone with the profile (a subscription's, as a replay would reckon them).
    zone: str = "UTC"

    @classmethod
    def of(cls, customer: Customer, pseudonym: str, *, zone: str = "UTC") -> Erasure:
        """The erasure of ``customer``, whose contact details are redacted from texts;
        ``zone`` is the program's time zone."""
        return cls(customer.id, pseudonym, _details(customer), zone)

    def knowing(self, records: Iterable[LogRecord]) -> Erasure:
        """This erasure, redacting also the name, email and phone of every profile the
        customer had before (an address they changed after it bounced is in the
        outbox's reasons), read from ``records``: the log records that a store passes
        through :meth:`log_record` (the customer's own among them). A store calls it
        first, and erases with what it returns."""
        found = list(self.redact)
        for record in records:
            if record.outcome.customer_id != self.customer_id:
                continue
            profiles = [
                effect.customer
                for effect in record.outcome.effects
                if isinstance(effect, UpdateProfile)
            ]
            if isinstance(record.input, SaveCustomer):
                profiles.append(record.input.customer)
            for profile in profiles:
                if profile.id == self.customer_id:
                    found.extend(_details(profile))
        redact = tuple(dict.fromkeys(found))
        return self if redact == self.redact else attrs.evolve(self, redact=redact)

    def _id(self, value: str) -> str:
        return self.pseudonym if value == self.customer_id else value

    def text(self, text: str) -> str:
        """A short text a host wrote about the customer and that is kept (a visit's place,
        an appointment's service, who handled a complaint, a task's reason, an occasion's
        label): the id becomes the pseudonym where it stands as a word of its own (not
        inside another id: "cmp-7" stays when customer "7" is erased, as event ids do),
        the customer's names, emails and phones are erased in any case. (A host may name
        the customer any way there; custbond's own words are erased by :meth:`words`.)"""
        return _without(self.redact, self._renamed(text))

    def value(self, text: str) -> str:
        """A value the program reads or looks up, which erasure keeps as the host gave it
        so that the erased log replays to the same state (an item's tags, a channel, a
        payment method, a complaint's or a survey answer's category, the id of what a
        complaint, an answer or a task is about): only the customer's email addresses
        and phone numbers, in any case and however written, are erased from it, and the
        id where it is one of them. Their names stay: a customer called Rose does not
        take the "rose" tag with her, nor a customer "42" the size "42"."""
        if _is_contact(self.customer_id):
            text = self._renamed(text)
        return _without(_contacts(self.redact), text)

    def _renamed(self, text: str) -> str:
        """``text`` with the pseudonym where the id stands as a word of its own."""
        if self.customer_id in text:  # the pattern only when it may match
            pseudonym = self.pseudonym
            text = _whole_word(self.customer_id).sub(lambda _: pseudonym, text)
        return text

    def words(self, text: str, renamed: Mapping[str, str] | None = None) -> str:
        """custbond's own words about the customer (a trace's line, why a message was not
        sent): the id becomes the pseudonym where custbond names the customer, quoting
        their id (``referred by 'c-1'``) or in a key of theirs (``renamed``: the keys
        the record names, and what they became); contact details a host gave are
        erased. A number that is merely equal to the id ("earned 42 points") stays."""
        return _without(self.redact, self.named(text, renamed))

    def named(self, text: str, renamed: Mapping[str, str] | None = None) -> str:
        """``text`` with the pseudonym where custbond's words name the customer: their
        id quoted (as custbond quotes it, ``'c-1'``), and the keys in ``renamed``."""
        if renamed:
            for old in sorted(renamed, key=len, reverse=True):  # not a part of a longer one
                text = text.replace(old, renamed[old])
        quoted = repr(self.customer_id)
        return text.replace(quoted, repr(self.pseudonym)) if quoted in text else text

    def customer(self, customer: Customer) -> Customer:
        """The profile of the erased customer: the pseudonym and nothing else."""
        if customer.id != self.customer_id:
            return customer
        return Customer(self.pseudonym)

    def state(self, state: CustomerState) -> CustomerState:
        """The erased customer's state under the pseudonym with an empty profile; another
        customer's state with the erased customer, if they referred them, renamed."""
        if state.id == self.customer_id:
            # Consents stay (a replay of the erased log gives them again), where they
            # came from erased (a host's words, which may say where the customer was);
            # nothing is sent to an erased customer anyway.
            consents = {
                key: attrs.evolve(consent, source=ERASED)
                for key, consent in state.consents.items()
            }
            schedule = {
                self._schedule_name(name): at
                for name, at in state.schedule.items()
                if name not in _BIRTHDAY_PLANS
            }
            cases = {key: self.case(case) for key, case in state.cases.items()}
            state = attrs.evolve(
                state,
                customer=self.customer(state.customer),
                consents=FrozenMap(consents) if consents else empty_map(),
                schedule=FrozenMap(schedule) if schedule else empty_map(),
                cases=FrozenMap(cases) if cases else empty_map(),
                surveys=tuple(map(self.survey, state.surveys)),
                held=self.held(state.held),
            )
        if state.referred_by == self.customer_id:
            state = attrs.evolve(state, referred_by=self.pseudonym)
        return state

    def _schedule_name(self, name: str) -> str:
        """A name in the customer's schedule: a custom occasion's with its label erased."""
        if name.startswith(_CUSTOM_OCCASION):
            return _CUSTOM_OCCASION + self.text(name.removeprefix(_CUSTOM_OCCASION))
        return name

    def held(self, held: Held) -> Held:
        """What the erased customer's bonds hold: preferences forgotten, the notes on
        their wish list and the reasons they gave for cancelling erased (products,
        plans and dates stay, and so do the names of personal occasions, labels such as
        "wedding anniversary", with the customer's id and contact details taken out)."""
        for part in ("wishes", "subscriptions"):
            items = getattr(held, part)
            for key, value in items.items():
                held = held.with_item(part, key, self.held_value(part, value))
        for name, occasion in held.occasions.items():  # by their names, which may change
            held = held.with_item("occasions", name, None)
            held = held.with_item("occasions", self.text(name), self.held_value("", occasion))
        return attrs.evolve(held, preferences=Preferences())

    def held_value(self, part: str, value: Any) -> Any:
        """One item of what the erased customer's bonds hold (see :meth:`held`)."""
        if part == "preferences":
            return Preferences()
        if isinstance(value, Wish):
            return attrs.evolve(value, note=_erased(value.note))
        if isinstance(value, Subscription):
            # Its dates stay; the zone they were reckoned in was the customer's.
            return attrs.evolve(value, cancel_reason=_erased(value.cancel_reason), zone=self.zone)
        if isinstance(value, Occasion):  # a label, with the customer's details taken out
            return attrs.evolve(value, name=self.text(value.name))
        return value

    def case(self, case: RecoveryCase) -> RecoveryCase:
        """A recovery case of the erased customer: the complaint's words and the
        resolution erased; the values a host filled in (the category, the channel, what
        it is about) as :meth:`value` keeps them, as in the complaint's event, and the
        timeline as :meth:`_case_step` says: so that the erased log replays to it."""
        return attrs.evolve(
            case,
            category=self.value(case.category),
            text=_erased(case.text),
            resolution=_erased(case.resolution),
            channel=self._optional_value(case.channel),
            about=self._optional_value(case.about),
            timeline=tuple(map(self._case_step, case.timeline)),
        )

    def _case_step(self, step: CaseStep) -> CaseStep:
        """A step of a case's timeline: one custbond wrote of the program's words and
        the complaint's values as :meth:`value` keeps them (as a replay writes it again
        of the erased complaint: a follow-up owner called like the customer stays), any
        other (who acknowledged it, a step custbond does not know) as :meth:`text`."""
        erase = self.value if step.what in _PROGRAM_STEPS else self.text
        detail = erase(step.detail)
        return step if detail == step.detail else step._replace(detail=detail)

    def survey(self, answer: SurveyResponse) -> SurveyResponse:
        """A survey answer of the erased customer: renamed, its comment erased."""
        erased = self.input(answer)
        assert isinstance(erased, SurveyResponse)
        return erased

    def task(self, task: Task) -> Task:
        """A task about the erased customer: renamed, the reason without their id, names
        and contact details, what it is about as :meth:`value` keeps it, the owner's
        result erased (what an owner writes about a
        customer is theirs to forget). Its key is renamed where custbond made it of the
        customer's id (keep-in-touch, occasion and review tasks: ``contact:<id>:...``),
        and stays where it made it of event ids, which erasure keeps: either way the
        erased log replays to the same tasks."""
        if task.customer_id != self.customer_id:
            return task
        return attrs.evolve(
            task,
            key=self.task_key(task.key),
            customer_id=self.pseudonym,
            reason=self.text(task.reason),
            about=self._optional_value(task.about),
            result=_erased(task.result),
        )

    def task_key(self, key: str) -> str:
        """A task's key with the customer's id, where it is one of the key's parts
        (between colons), replaced by the pseudonym; as escaped by :func:`message_key`
        where the id has a ":" or "%", and as it is (keys made before ids were escaped);
        an occasion's label in it erased (see :meth:`_occasion_key`)."""
        escaped = key_part(self.customer_id)
        if escaped != self.customer_id:
            key = _key_part(escaped).sub(_literal(key_part(self.pseudonym)), key)
        return self._occasion_key(_key_part(self.customer_id).sub(_literal(self.pseudonym), key))

    def _occasion_key(self, key: str) -> str:
        """An occasion task's key (``occasion:<id>:<plan>:<when>``, see
        :func:`message_key`), whose plan names an occasion the host added
        (``occasion:custom:<label>``): the label erased as :meth:`_schedule_name`
        erases it, so that the key is the one a replay of the erased log makes (and
        names nobody). A key shortened to a digest is left as it is."""
        parts = key.split(":")
        if len(parts) != 4 or parts[0] != "occasion" or parts[1] != key_part(self.pseudonym):
            return key
        plan = parts[2].replace("%3A", ":").replace("%25", "%")  # as key_part escaped it
        erased = self._schedule_name(plan)
        if erased == plan:
            return key
        return shortened_key(":".join((parts[0], parts[1], key_part(erased), parts[3])))

    def _optional_text(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def _optional_value(self, text: str | None) -> str | None:
        return None if text is None else self.value(text)

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
            changes["source"] = ERASED
        elif isinstance(item, Redeem | PlaceHold | Adjust):
            changes["reason"] = ERASED
        elif isinstance(item, ComplaintFiled):
            changes["text"] = _erased(item.text)
        elif isinstance(item, ComplaintResolved):
            changes["resolution"] = _erased(item.resolution)
        elif isinstance(item, SurveyResponse):
            changes["comment"] = _erased(item.comment)
        elif isinstance(item, NotifyIncident):
            changes["what"] = self.text(item.what)
        elif isinstance(item, ContactMade | AddWish):
            changes["note"] = _erased(item.note)
        elif isinstance(item, SetPreferences):
            changes["preferences"] = Preferences()
        elif isinstance(item, CancelSubscription):
            changes["reason"] = _erased(item.reason)
        elif isinstance(item, AddOccasion):
            changes["occasion"] = self.held_value("occasions", item.occasion)
        changes.update(self._filled_in(item))
        return attrs.evolve(item, **changes)

    def _filled_in(self, item: Input) -> dict[str, Any]:
        """The short texts a host filled in on ``item``, those erasure changes: the values
        the program reads or looks up (:data:`_VALUES`, an item's tags) as :meth:`value`
        keeps them, the host's words about the customer (:data:`_WORDS`) as :meth:`text`
        does."""
        changes: dict[str, Any] = {}
        for names, erase in ((_VALUES, self.value), (_WORDS, self.text)):
            for name in names:
                text = getattr(item, name, None)
                if text and erase(text) != text:
                    changes[name] = erase(text)
        lines = getattr(item, "items", ())
        tagged = tuple(
            attrs.evolve(line, tags=frozenset(map(self.value, line.tags))) for line in lines
        )
        if tagged != lines:
            changes["items"] = tagged
        return changes

    def fitted(self, again: Input, first: Input) -> Erasure:
        """This erasure, redacting also the parts of ``again``'s texts that ``first``
        shows erased, for telling whether ``again`` is ``first`` (a logged input this
        erasure's customer was named in, erased since) delivered again: it is when
        ``fitted(again, first).input(again)`` equals ``first``. The contact details that
        were erased from ``first`` are gone from the store, so they are read back from
        ``again``: where ``first`` has ``erased`` inside a text, ``again`` has them."""
        found = list(self.redact)
        _gaps_between(self.input(again), first, found)
        redact = tuple(dict.fromkeys(found))
        return self if redact == self.redact else attrs.evolve(self, redact=redact)

    def outcome(self, outcome: Outcome, renamed: Mapping[str, str] | None = None) -> Outcome:
        """An outcome: renamed, profile updates emptied, the trace's facts dropped.
        ``renamed``: keys its trace may name (a task's) and what they became, besides
        those of its effects."""
        own = outcome.customer_id == self.customer_id
        effects = tuple(self._effect(effect, own=own) for effect in outcome.effects)
        if not own:  # another's that names the customer: where custbond's words do
            trace = Trace([self._named_step(step) for step in outcome.trace])
            return attrs.evolve(outcome, effects=effects, trace=trace)
        # The reasons a host gave (with a redemption, a hold, an adjustment) and the
        # words of a complaint, a resolution, a survey answer or a task's result are
        # echoed by the effects and may be by the trace's words: erased from both.
        reasons = {
            effect.reason
            for effect in effects
            if isinstance(effect, _HOST_REASON_EFFECTS) and effect.reason != ERASED
        }
        reasons.update(
            text
            for effect in outcome.effects
            for text in _free_texts(effect)
            if text and text != ERASED
        )
        effects = tuple(
            attrs.evolve(effect, reason=ERASED)
            if isinstance(effect, _HOST_REASON_EFFECTS)
            else effect
            for effect in effects
        )
        keys = {**_keys(outcome.effects, effects), **(renamed or {})}
        steps = []
        for step in outcome.trace:
            # The host's words as written, before the id is renamed in them.
            text = _without(tuple(sorted(reasons)), step.text)
            if step.rule is None:  # a rule's words are the program's
                text = self.named(text, keys)
            steps.append(Step(step.verdict, _without(self.redact, text), step.rule))
        return attrs.evolve(
            outcome,
            customer_id=self.pseudonym,
            effects=effects,
            trace=Trace(steps),
            entries=tuple(self.entry(entry) for entry in outcome.entries),
        )

    def _named_step(self, step: Step) -> Step:
        """A step of another customer's trace: custbond's words renamed where they name
        the erased customer (``referred by 'c-1'``), nothing else changed."""
        if step.rule is not None:
            return step
        text = self.named(step.text)
        return step if text == step.text else step._replace(text=text)

    def _effect(self, effect: Any, *, own: bool) -> Any:
        """An effect of an outcome: the erased customer's own (``own``), or another's
        that names them."""
        if isinstance(effect, UpdateProfile):
            return UpdateProfile(self.customer(effect.customer))
        if isinstance(effect, RewardReferral | SetReferrer):
            return attrs.evolve(effect, referrer_id=self._id(effect.referrer_id))
        if not own:  # another customer's consents, messages, cases and tasks are theirs
            return effect
        if isinstance(effect, RecordConsent):
            return attrs.evolve(effect, source=ERASED)
        if isinstance(effect, SetCase):
            return SetCase(self.case(effect.case))
        if isinstance(effect, NoteSurvey):
            return NoteSurvey(self.survey(effect.answer))
        if isinstance(effect, OpenTask):
            return attrs.evolve(
                effect,
                key=self.task_key(effect.key),
                reason=self.text(effect.reason),
                about=self._optional_value(effect.about),
            )
        if isinstance(effect, FinishTask):
            return attrs.evolve(
                effect, key=self.task_key(effect.key), result=_erased(effect.result)
            )
        if isinstance(effect, QueueMessage):
            return attrs.evolve(effect, key=self.key(effect.key), context=empty_map())
        if isinstance(effect, CancelMessage):
            return attrs.evolve(effect, key=self.key(effect.key))
        if isinstance(effect, SetSchedule) and effect.name in _BIRTHDAY_PLANS and effect.at:
            return SetSchedule(effect.name, None)  # the birthday is gone with the profile
        if isinstance(effect, SetHeld):
            key = self.text(effect.key) if effect.part == "occasions" else effect.key
            return SetHeld(effect.part, key, self.held_value(effect.part, effect.value))
        if isinstance(effect, SetSchedule) and effect.name.startswith(_CUSTOM_OCCASION):
            return attrs.evolve(effect, name=self._schedule_name(effect.name))
        return effect

    def key(self, key: str) -> str:
        """A message key, which may be made of the customer's id (a host's keys too):
        with the pseudonym wherever the id appears, and as short as a key must be. The
        prefix of custbond's own keys stays as it is (an id like "bond" would take it
        apart), so that they stay apart from a host's. An id with a ":" or "%" stands
        escaped in a key made by :func:`message_key`; that form goes too.

        Wherever the id appears, not only where it is a whole part between colons: a
        host's key may name the customer in any way ("receipt-ann@example.com"), and an
        erased customer's keys must not keep it. The cost is that a longer word holding
        the id is renamed too (customer "ann"'s key "gift:anna:ann" becomes
        "gift:erased-1a:erased-1"): only the erased customer's own keys change.
        """
        head = AUTOMATIC_PREFIX if is_automatic(key) else ""
        erased = key[len(head) :]
        escaped = key_part(self.customer_id)
        if escaped != self.customer_id:
            erased = erased.replace(escaped, key_part(self.pseudonym))
        erased = head + erased.replace(self.customer_id, self.pseudonym)
        return erased if erased == key else shortened_key(erased)

    def log_record(self, record: LogRecord) -> LogRecord:
        """A log record: its input and its outcome erased. A log key made of the
        customer's id (an incident's notice) is made again from the erased input, as is
        the outcome's key."""
        item, renamed = record.input, None
        if isinstance(item, CloseTask) and record.outcome.customer_id == self.customer_id:
            # A task of the erased customer: the owner's result erased, its key renamed
            # as the task's is (and so where the trace names it).
            renamed = {item.task_key: self.task_key(item.task_key)}
            item = attrs.evolve(item, task_key=renamed[item.task_key], result=_erased(item.result))
        else:
            item = self.input(item)
        outcome = self.outcome(record.outcome, renamed)
        key = record.key
        if key is not None and isinstance(item, NotifyIncident | Invite | CloseTask):
            if outcome.key == key[1]:
                outcome = attrs.evolve(outcome, key=item.log_key[1])
            key = item.log_key
        return attrs.evolve(record, key=key, input=item, outcome=outcome)

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
            reason=None if item.reason is None else self.words(item.reason),
        )
        if not item.status.final:
            erased = attrs.evolve(erased, status=MessageStatus.SUPPRESSED, reason=ERASED_REASON)
        return erased


# The values a host fills in that the program reads (a purchase's channel and payment
# method: rules' facts) or looks up (what a complaint, an answer or a task is about) or
# counts by (a category): kept as given but for the customer's email and phone.
_VALUES = ("channel", "payment", "category", "about")
# The short texts a host writes about the customer (a visit's place, an appointment's
# service, who made a contact or handled a complaint): their names go too.
_WORDS = ("location", "service", "by")
# The steps of a case's timeline whose details custbond writes of the program's words
# and the complaint's values (its category and severity, the compensation, the follow-up's
# owner, a template's name); an acknowledgement's names who gave it, a host's words.
_PROGRAM_STEPS = frozenset(
    {
        "filed",
        "resolved",
        "follow-up",
        "survey",
        "survey answered",
        "apology",
        "escalated",
        "severity raised",
    }
)
# The schedule's plans made of the customer's birthday (the greeting, the owner's task).
_BIRTHDAY_PLANS = ("birthday", "occasion:birthday")
# The schedule's plans of the occasions a host added: named after them.
_CUSTOM_OCCASION = "occasion:custom:"


def _keys(effects: Iterable[Any], erased: Iterable[Any]) -> dict[str, str]:
    """The keys of ``effects`` (of tasks and messages) that erasure changed in
    ``erased``, and what they became."""
    return {
        effect.key: after.key
        for effect, after in zip(effects, erased, strict=True)
        if isinstance(effect, OpenTask | FinishTask | QueueMessage | CancelMessage)
        and effect.key != after.key
    }


def _gaps_between(mine: Any, erased: Any, found: list[str]) -> None:
    """Add to ``found`` the parts of the texts in ``mine`` (an input, or a part of one)
    that ``erased`` (the same, erased) shows as ``ERASED``: field by field, item by
    item (the items of a set, any with any)."""
    if mine == erased:
        return
    if isinstance(mine, str) and isinstance(erased, str):
        found.extend(_gaps(erased, mine) or ())
    elif attrs.has(type(mine)) and type(mine) is type(erased):
        for field in attrs.fields(type(mine)):
            _gaps_between(getattr(mine, field.name), getattr(erased, field.name), found)
    elif isinstance(mine, tuple) and isinstance(erased, tuple) and len(mine) == len(erased):
        for item, other in zip(mine, erased, strict=True):
            _gaps_between(item, other, found)
    elif isinstance(mine, frozenset) and isinstance(erased, frozenset):
        for item in mine - erased:
            for other in erased - mine:
                _gaps_between(item, other, found)


def _gaps(erased: str, text: str) -> list[str] | None:
    """The parts of ``text`` that ``erased`` has ``ERASED`` in place of, when ``erased``
    is ``text`` with some (non-empty) parts of it so replaced; None when it is not. The
    parts are found leftmost first, which finds them whenever they are there."""
    pieces = erased.split(ERASED)
    if len(pieces) < 2:  # nothing erased in it
        return None
    head, *middle, tail = pieces
    end = len(text) - len(tail)
    if not text.startswith(head) or not text.endswith(tail) or end < len(head):
        return None
    at, gaps = len(head), []
    for piece in middle:
        found = text.find(piece, at + 1, end)
        if found < 0:
            return None
        gaps.append(text[at:found])
        at = found + len(piece)
    if at >= end:
        return None
    gaps.append(text[at:end])
    return gaps


def _free_texts(effect: Any) -> tuple[str | None, ...]:
    """The free text a person wrote that ``effect`` carries (a complaint's words, a
    resolution, a survey comment, a task's result, where a consent came from)."""
    if isinstance(effect, SetCase):
        return (effect.case.text, effect.case.resolution)
    if isinstance(effect, NoteSurvey):
        return (effect.answer.comment,)
    if isinstance(effect, FinishTask):
        return (effect.result,)
    if isinstance(effect, RecordConsent):
        return (effect.source,)
    if isinstance(effect, SetHeld):
        value = effect.value
        if isinstance(value, Preferences):  # as the trace describes them
            return (value.describe(), *value.favourites, *value.interests, value.industry)
        if isinstance(value, Wish):
            return (value.note,)
        if isinstance(value, Subscription):
            return (value.cancel_reason,)
    return ()
