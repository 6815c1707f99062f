"""Message templates: the words of a message, per template name and channel.

A :class:`Template` holds a body and, for channels that have one, a subject, with
placeholders in :class:`string.Template` syntax: ``$name`` or ``${name}``, and ``$$`` for a
dollar sign. Rendering only substitutes values: there is no attribute access, no format
specification and no expression, so a template from an untrusted editor can say nothing
but its own text and the values it is given (and a value that holds ``$name`` is not
expanded again).

:class:`Templates` keeps templates by name and channel, with the channel ``"*"`` standing
for any channel that has no template of its own. :meth:`Templates.defaults` is a short,
plain-text English set; a host replaces what it wants with :meth:`Templates.override`.

>>> from decimal import Decimal
>>> templates = Templates.defaults().override(
...     {"points_expiring": {"sms": Template("$name: $points pts expire $expires_on")}}
... )
>>> from datetime import date
>>> templates.render("points_expiring", "sms",
...                  {"name": "Ada", "points": 120, "expires_on": date(2026, 4, 1)}).body
'Ada: 120 pts expire 2026-04-01'
>>> templates.render("points_expiring", "push",
...                  {"name": "Ada", "points": 120, "expires_on": date(2026, 4, 1)}).subject
'Your points expire on 2026-04-01'
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from custbond import _validate as v
from custbond._frozen import FrozenMap
from custbond.errors import InvalidInput, TemplateError

__all__ = ["ANY_CHANNEL", "DEFAULT_TEMPLATES", "Rendered", "Template", "Templates"]

ANY_CHANNEL = "*"
"""The channel of a template that serves every channel without a template of its own."""

# string.Template's own pattern: the groups "escaped" ($$), "named" ($name), "braced"
# (${name}) and "invalid" (a "$" followed by none of these).
_PLACEHOLDER = string.Template.pattern
_LINE_BREAK = re.compile(r"[\r\n]+")
_EXCERPT = 40


def _excerpt(text: str) -> str:
    """``text`` shortened to name a template that has no name yet."""
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def _check_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A template text: a string whose every ``$`` starts a well-formed placeholder."""
    part = attribute.name
    if part == "subject":
        if value is None:
            return
        if not isinstance(value, str) or not value or _LINE_BREAK.search(value):
            raise InvalidInput("subject", value, "None or a non-empty string of one line")
    elif not isinstance(value, str) or not value:
        raise InvalidInput(part, value, "a non-empty string")
    for match in _PLACEHOLDER.finditer(value):
        if match.group("invalid") is None:
            continue
        at = match.start()  # the "$"
        line = value.count("\n", 0, at) + 1
        column = at - (value.rfind("\n", 0, at) + 1) + 1
        near = value[at : at + 12].split("\n", 1)[0]
        raise TemplateError(
            _excerpt(value),
            None,
            f"malformed placeholder {near!r} at line {line}, column {column} of the {part}: "
            "write $name or ${name} (a letter or _, then letters, digits or _), "
            "or $$ for a dollar sign",
        )


def _placeholders(text: str | None) -> frozenset[str]:
    if text is None:
        return frozenset()
    return frozenset(
        match.group("named") or match.group("braced")
        for match in _PLACEHOLDER.finditer(text)
        if match.group("named") or match.group("braced")
    )


def _as_text(key: str, value: Any, template: str, channel: str | None) -> str:
    """How a value reads in a message (see :meth:`Template.render`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):  # bool too: "True", "False"
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")  # never in exponent notation: 100, not 1E+2
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise TemplateError(
                template,
                channel,
                f"the value for ${key} must be a timezone-aware datetime; got {value!r}",
            )
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    raise TemplateError(
        template,
        channel,
        f"the value for ${key} must be a str, int, bool, finite Decimal, date, aware "
        f"datetime or None; got {value!r}",
    )


def _substitute(
    text: str,
    values: Mapping[str, Any],
    template: str,
    channel: str | None,
    *,
    one_line: bool,
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        key = match.group("named") or match.group("braced")
        if key not in values:
            given = ", ".join(sorted(values)) or "nothing"
            raise TemplateError(template, channel, f"no value for ${key} (given: {given})")
        rendered = _as_text(key, values[key], template, channel)
        return _LINE_BREAK.sub(" ", rendered) if one_line else rendered

    return _PLACEHOLDER.sub(replace, text)


@attrs.frozen
class Rendered:
    """A template filled in: the ``subject`` (None on channels without one) and the
    ``body``, ready to send."""

    subject: str | None = attrs.field(validator=v.is_optional_text)
    body: str = attrs.field(validator=attrs.validators.instance_of(str))


@attrs.frozen
class Template:
    """The text of one message on one channel: a ``body`` and, for channels that have
    one (email), a one-line ``subject``.

    Placeholders are ``$name`` or ``${name}``; ``$$`` is a dollar sign. A ``$`` that
    starts none of these raises :class:`~custbond.errors.TemplateError` saying where.

    >>> template = Template("Hi $name, 10% off: save $$5 on ${item}s", subject="For $name")
    >>> sorted(template.names)
    ['item', 'name']
    >>> template.render({"name": "Ada", "item": "bagel"}).body
    'Hi Ada, 10% off: save $5 on bagels'
    >>> Template("Save $5 today")
    Traceback (most recent call last):
    ...
    custbond.errors.TemplateError: template 'Save $5 today': malformed placeholder
    '$5 today' at line 1, column 6 of the body: write $name or ${name} (a letter or _,
    then letters, digits or _), or $$ for a dollar sign
    """

    body: str = attrs.field(validator=_check_text)
    subject: str | None = attrs.field(default=None, validator=_check_text)

    @property
    def names(self) -> frozenset[str]:
        """The names of the placeholders of the subject and the body."""
        return _placeholders(self.subject) | _placeholders(self.body)

    def render(self, values: Mapping[str, Any]) -> Rendered:
        """The template with its placeholders replaced by ``values``.

        A value is a str; an int or a bool (as ``str()`` writes it); a Decimal (in fixed
        notation: ``12.50``); a date (``2026-03-02``); a timezone-aware datetime, written
        ``2026-03-02 09:00`` in its own time zone (convert it to the customer's first); or
        None, which reads as nothing. Line breaks in a value put into the subject become
        spaces. Values the template does not use are ignored; a value it uses and is not
        given raises :class:`~custbond.errors.TemplateError`, naming the values given.

        >>> Template("Hi $name").render({"points": 5})
        Traceback (most recent call last):
        ...
        custbond.errors.TemplateError: template 'Hi $name': no value for $name (given: points)
        """
        return self._render(values, _excerpt(self.body), None)

    def _render(self, values: Mapping[str, Any], template: str, channel: str | None) -> Rendered:
        if not isinstance(values, Mapping):
            raise InvalidInput("values", values, "a mapping of placeholder names to values")
        subject = (
            None
            if self.subject is None
            else _substitute(self.subject, values, template, channel, one_line=True)
        )
        body = _substitute(self.body, values, template, channel, one_line=False)
        return Rendered(subject, body)


Entries = FrozenMap[str, FrozenMap[str, Template]]


def _to_entries(value: Any) -> Entries:
    """``{name: {channel: Template}}`` checked and frozen."""
    if isinstance(value, Templates):
        value = value.templates
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "templates", value, "a mapping of template names to {channel: Template} mappings"
        )
    entries: dict[str, FrozenMap[str, Template]] = {}
    for name, channels in value.items():
        v.identifier("template name", name)
        if not isinstance(channels, Mapping) or not channels:
            raise InvalidInput(
                f"templates[{name!r}]", channels, "a non-empty mapping of channels to Templates"
            )
        for channel, template in channels.items():
            v.identifier(f"channel of template {name!r}", channel)
            if not isinstance(template, Template):
                raise InvalidInput(f"templates[{name!r}][{channel!r}]", template, "a Template")
        entries[name] = channels if isinstance(channels, FrozenMap) else FrozenMap(channels)
    return FrozenMap(entries)


@attrs.frozen(repr=False)
class Templates:
    """An immutable set of templates, by name and channel: ``{name: {channel:
    Template}}``. A template on the channel ``"*"`` serves every channel of its name that
    has no template of its own.

    >>> templates = Templates({"welcome": {"*": Template("Hi $name", subject="Welcome")}})
    >>> templates.render("welcome", "push", {"name": "Ada"})
    Rendered(subject='Welcome', body='Hi Ada')
    >>> templates.has("welcome", "sms"), templates.has("birthday", "sms")
    (True, False)
    """

    templates: Mapping[str, Mapping[str, Template]] = attrs.field(converter=_to_entries)

    @classmethod
    def defaults(cls) -> Templates:
        """The default set (:data:`DEFAULT_TEMPLATES`): short, friendly, plain-text English
        messages, each with an ``"email"`` (subject and body), an ``"sms"`` (a short body)
        and a ``"*"`` template. ``$name`` is always given (the customer's name, or
        "there"); the other values each one uses:

        ========================  ======================================================
        ``welcome``               (name only)
        ``thank_you``             ``suggestions``: a line of related items, or ``""``;
                                  ``related``, ``points``, ``amount``
        ``birthday``              (name only)
        ``holiday``               ``holiday``: its name ("New Year")
        ``appointment_reminder``  ``when``: the start in the customer's time zone, as
                                  text (``2026-03-02 09:00``); ``service``
        ``points_expiring``       ``points``, ``expires_on`` (a date on the customer's
                                  calendar, as text)
        ``next_need``             ``sku``, ``expected_on`` (a date on the customer's
                                  calendar, as text)
        ``saved_cart``            ``cart``, ``items`` (the skus), ``until`` (a date on
                                  the customer's calendar, as text)
        ``invitation``            ``event`` (its name), ``when`` (local time)
        ``broadcast``             ``title``, ``text``
        ========================  ======================================================

        A date on the customer's calendar is the day in their time zone (the program's
        for a customer without one), written ``2026-03-02``. Subjects hold no personal
        value (not even the name): a
        :class:`~custbond.messaging.log_notifier.LoggingNotifier` logs them.
        """
        return DEFAULT_TEMPLATES

    @property
    def names(self) -> frozenset[str]:
        """The names of the templates."""
        return frozenset(self.templates)

    def find(self, name: str, channel: str) -> Template:
        """The template ``name`` for ``channel``, or for ``"*"`` when the channel has none.

        Raises :class:`~custbond.errors.TemplateError` when there is neither.
        """
        v.identifier("template name", name)
        v.identifier("channel", channel)
        channels = self.templates.get(name)
        if channels is None:
            known = ", ".join(sorted(self.templates)) or "none"
            raise TemplateError(name, channel, f"no template of that name; known: {known}")
        template = channels.get(channel) or channels.get(ANY_CHANNEL)
        if template is None:
            known = ", ".join(sorted(channels))
            raise TemplateError(
                name, channel, f"no template of that name for this channel; known: {known}"
            )
        return template

    def has(self, name: str, channel: str) -> bool:
        """Whether :meth:`render` finds a template ``name`` for ``channel``."""
        channels = self.templates.get(name)
        return channels is not None and (channel in channels or ANY_CHANNEL in channels)

    def require(self, field: str, name: str, channel: str) -> None:
        """Raise :class:`~custbond.InvalidInput` (naming ``field``) unless :meth:`has`
        finds ``name`` for ``channel``: for a message asked for before it is sent."""
        if self.has(name, channel):
            return
        known = sorted(other for other in self.templates if self.has(other, channel))
        expected = (
            f"a template of messaging.templates for channel {channel!r}; known: "
            f"{', '.join(known) or 'none'}"
        )
        channels = self.templates.get(name)
        if channels:
            expected += f" ({name!r} is only for {', '.join(map(repr, sorted(channels)))})"
        raise InvalidInput(field, name, expected)

    def require_values(self, sender: str, name: str, channel: str, given: Iterable[str]) -> None:
        """Raise :class:`~custbond.InvalidInput` if the template ``name`` for ``channel``
        (when there is one: see :meth:`has`) has a placeholder outside ``given``: for a
        message custbond sends on its own (``sender`` says which), whose values are known,
        so that a misspelt placeholder is found when the templates are set, not when every
        such message fails. The error names the template's name, channel and part, the
        first unknown placeholder, and the values it gets.

        >>> templates = Templates({"welcome": {"*": Template("Hi $nmae")}})
        >>> templates.require_values("messaging.welcome", "welcome", "email", ["name"])
        Traceback (most recent call last):
        ...
        custbond.errors.InvalidInput: templates.welcome.*.body must be a text whose
        placeholders are among the values messaging.welcome sends it with on 'email':
        $name (did you mean $name?); got '$nmae'
        """
        channels = self.templates.get(name)
        if channels is None:
            return
        used = channel if channel in channels else ANY_CHANNEL
        template = channels.get(used)
        if template is None:
            return
        known = frozenset(given)
        for part, text in (("subject", template.subject), ("body", template.body)):
            for match in _PLACEHOLDER.finditer(text or ""):
                placeholder = match.group("named") or match.group("braced")
                if placeholder is None or placeholder in known:
                    continue
                names = ", ".join(f"${value}" for value in sorted(known)) or "none"
                close = difflib.get_close_matches(placeholder, sorted(known), n=1)
                hint = f" (did you mean ${close[0]}?)" if close else ""
                expected = (
                    f"a text whose placeholders are among the values {sender} sends it "
                    f"with on {channel!r}: {names}{hint}"
                )
                raise InvalidInput(f"templates.{name}.{used}.{part}", match.group(0), expected)

    def render(self, name: str, channel: str, values: Mapping[str, Any]) -> Rendered:
        """The template ``name`` for ``channel`` (see :meth:`find`) filled in with
        ``values`` (see :meth:`Template.render`)."""
        return self.find(name, channel)._render(values, name, channel)

    def override(self, other: Templates | Mapping[str, Mapping[str, Template]]) -> Templates:
        """A new set: these templates, with those of ``other`` (a :class:`Templates` or a
        ``{name: {channel: Template}}`` mapping) in place of theirs, per name and channel.

        >>> custom = Templates.defaults().override({"birthday": {"sms": Template("HBD $name")}})
        >>> custom.render("birthday", "sms", {"name": "Ada"}).body
        'HBD Ada'
        >>> custom.render("birthday", "email", {"name": "Ada"}).subject
        'Happy birthday!'
        """
        merged = {name: dict(channels) for name, channels in self.templates.items()}
        for name, channels in _to_entries(other).items():
            merged.setdefault(name, {}).update(channels)
        return Templates(merged)

    def __repr__(self) -> str:
        return f"Templates(names={sorted(self.templates)!r})"


_SIGN_OFF = "\n\nSee you soon!"

DEFAULT_TEMPLATES = Templates(
    {
        "welcome": {
            "email": Template(
                "Hi $name,\n\nWelcome to our rewards program! You earn points with every "
                "purchase, and we will let you know when a reward is waiting for you." + _SIGN_OFF,
                subject="Welcome to our rewards program",
            ),
            "sms": Template(
                "Hi $name, welcome to our rewards program! Each purchase earns points."
            ),
            "*": Template(
                "Hi $name, welcome to our rewards program!",
                subject="Welcome to our rewards program",
            ),
        },
        "thank_you": {
            "email": Template(
                # $suggestions is a line of its own, or nothing: a blank line either way.
                "Hi $name,\n\nThank you for shopping with us, we hope you enjoy your purchase!"
                "\n$suggestions\nSee you soon!",
                subject="Thank you!",
            ),
            "sms": Template("Thank you for shopping with us, $name! See you soon."),
            "*": Template(
                "Hi $name, thank you for shopping with us!\n$suggestions\nSee you soon!",
                subject="Thank you!",
            ),
        },
        "birthday": {
            "email": Template(
                "Hi $name,\n\nHappy birthday from all of us! We hope you have a wonderful day."
                + _SIGN_OFF,
                subject="Happy birthday!",
            ),
            "sms": Template("Happy birthday, $name! Have a wonderful day."),
            "*": Template(
                "Happy birthday, $name! We hope you have a wonderful day.",
                subject="Happy birthday!",
            ),
        },
        "holiday": {
            "email": Template(
                "Hi $name,\n\nHappy $holiday from all of us, and thank you for being "
                "with us!" + _SIGN_OFF,
                subject="Happy $holiday!",
            ),
            "sms": Template("Happy $holiday, $name! Thank you for being with us."),
            "*": Template(
                "Happy $holiday, $name! Thank you for being with us.",
                subject="Happy $holiday!",
            ),
        },
        "appointment_reminder": {
            "email": Template(
                "Hi $name,\n\nThis is a reminder of your appointment on $when.\n"
                "If you cannot make it, please let us know." + _SIGN_OFF,
                subject="Reminder: your appointment on $when",
            ),
            "sms": Template("Hi $name, a reminder of your appointment on $when. See you then!"),
            "*": Template(
                "Hi $name, this is a reminder of your appointment on $when.",
                subject="Reminder: your appointment on $when",
            ),
        },
        "points_expiring": {
            "email": Template(
                "Hi $name,\n\n$points of your points expire on $expires_on. Use them before "
                "then, so that they do not go to waste!" + _SIGN_OFF,
                subject="Your points expire on $expires_on",
            ),
            "sms": Template(
                "Hi $name, $points of your points expire on $expires_on. Use them before then!"
            ),
            "*": Template(
                "Hi $name, $points of your points expire on $expires_on.",
                subject="Your points expire on $expires_on",
            ),
        },
        "apology": {
            "email": Template(
                "Hi $name,\n\nWe are sorry: we got this wrong, and it should not have "
                "happened. We are putting it right. $offer" + _SIGN_OFF,
                subject="We are sorry",
            ),
            "sms": Template("Hi $name, we are sorry: we got this wrong. We are putting it right."),
            "*": Template(
                "Hi $name, we are sorry: we got this wrong, and we are putting it right. $offer",
                subject="We are sorry",
            ),
        },
        "survey": {
            "email": Template(
                "Hi $name,\n\nWe recently put something right for you. How did we do? "
                "Your answer helps us do better." + _SIGN_OFF,
                subject="How did we do?",
            ),
            "sms": Template("Hi $name, how did we do? Your answer helps us do better."),
            "*": Template("Hi $name, how did we do?", subject="How did we do?"),
        },
        "incident_notice": {
            "email": Template(
                "Hi $name,\n\nWe want you to hear it from us first: $what. We are sorry "
                "for the trouble, and we are working on it." + _SIGN_OFF,
                subject="Something went wrong on our side",
            ),
            "sms": Template("Hi $name, a heads-up from us: $what. Sorry, we are on it."),
            "*": Template(
                "Hi $name, a heads-up from us: $what. We are sorry, and we are on it.",
                subject="Something went wrong on our side",
            ),
        },
        "next_need": {
            "email": Template(
                "Hi $name,\n\nBy our count you may be running low on $sku about now "
                "(around $expected_on). Shall we put some aside for you?" + _SIGN_OFF,
                subject="Time for more?",
            ),
            "sms": Template("Hi $name, running low on $sku? We can put some aside for you."),
            "*": Template(
                "Hi $name, you may be running low on $sku (around $expected_on).",
                subject="Time for more?",
            ),
        },
        "saved_cart": {
            "email": Template(
                "Hi $name,\n\nYour saved cart ($items) is kept until $until. After that "
                "we let it go." + _SIGN_OFF,
                subject="Your saved cart",
            ),
            "sms": Template("Hi $name, your saved cart is kept until $until."),
            "*": Template(
                "Hi $name, your saved cart ($items) is kept until $until.",
                subject="Your saved cart",
            ),
        },
        "invitation": {
            "email": Template(
                "Hi $name,\n\nYou are invited to $event on $when. We would love to see "
                "you there." + _SIGN_OFF,
                subject="You are invited",
            ),
            "sms": Template("Hi $name, you are invited to $event on $when."),
            "*": Template(
                "Hi $name, you are invited to $event on $when.", subject="You are invited"
            ),
        },
        "broadcast": {
            "email": Template("Hi $name,\n\n$text", subject="$title"),
            "sms": Template("$title: $text"),
            "*": Template("Hi $name,\n\n$text", subject="$title"),
        },
    }
)
"""The default templates (see :meth:`Templates.defaults`)."""
