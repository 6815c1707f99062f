"""SMTPNotifier: sends email through an SMTP server, with the standard library only.

Each send opens a connection (STARTTLS and login when asked), hands over one message and
closes it. The message's ``Message-ID`` is made from its dedupe key, so a retry after a
crash carries the same id as the first attempt, and mail systems that deduplicate by
``Message-ID`` can drop the copy; the header ``X-Custbond-Attempt`` counts the attempts.

How the server answers becomes a :class:`~custbond.messaging.notifier.Delivery`, never an
exception: a 5xx reply (no such mailbox, relaying denied, authentication failed) is a
failure for good; a 4xx reply (mailbox busy, try later), a refused or dropped connection
and a timeout are failures for now, which the dispatcher retries.

>>> notifier = SMTPNotifier("smtp.example.com", 587, sender="Shop <shop@example.com>",
...                         starttls=True, username="shop", password="secret")
>>> from custbond.messaging.message import MessageKind
>>> from custbond.messaging.notifier import Outgoing
>>> delivery = notifier.send(Outgoing(key="k-1", customer_id="c-1", channel="sms",
...                                   kind=MessageKind.TRANSACTIONAL, template="welcome",
...                                   to="+15550100", subject=None, body="Hi", attempt=1))
>>> delivery.status, delivery.detail
(<DeliveryStatus.FAILED: 'failed'>, "SMTPNotifier sends email only; got channel 'sms'")
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.messaging.notifier import Delivery, Outgoing

__all__ = ["SMTPNotifier"]

_ADDRESS = re.compile(r"[^@\s<>\"]+@([^@\s<>\"]+)")
_HOST = re.compile(r"[^\s/]+")


def _sender(value: Any) -> tuple[str, str]:
    """``value`` and the domain of its address: ``shop@example.com`` or ``Shop
    <shop@example.com>``."""
    if isinstance(value, str) and "\r" not in value and "\n" not in value:
        _, address = parseaddr(value)
        match = _ADDRESS.fullmatch(address)
        if match is not None:
            return value, match.group(1)
    raise InvalidInput(
        "sender", value, "an email address such as 'shop@example.com' or 'Shop <shop@example.com>'"
    )


def _one_recipient(to: str) -> str | None:
    """The one address ``to`` names (``"Zoë <zoe@example.com>"`` names
    ``zoe@example.com``), or None when it names several or none: a header read as
    ``"eve,ada@example.com"`` would mail ``eve`` too.

    >>> _one_recipient("Zoë <zoe@example.com>"), _one_recipient("eve,ada@example.com")
    ('zoe@example.com', None)
    """
    found = getaddresses([to])
    if len(found) != 1 or not v.one_email_address(found[0][1]):
        return None
    return found[0][1]


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {said}".strip()


def _answer(code: int, detail: str) -> Delivery:
    """A 5xx reply is a failure for good, anything else one for now."""
    return Delivery.failed(detail) if 500 <= code <= 599 else Delivery.retry(detail)


class SMTPNotifier:
    """A notifier that sends ``"email"`` messages through the SMTP server at
    ``host``:``port``, from ``sender``.

    ``starttls=True`` upgrades each connection to TLS before anything else is said,
    checking the server's certificate with ``ssl_context`` (by default
    :func:`ssl.create_default_context`: the system's trusted certificates, and the host
    name); a server that does not offer STARTTLS then fails the send for good.
    ``username`` and ``password`` log in (give both or neither; use them with STARTTLS,
    or on a connection that cannot be overheard). ``timeout`` is in seconds, per
    connection and per reply.

    Messages on any channel other than ``"email"``, or without an address, fail for
    good: pair this notifier with others by channel in the host's own notifier.
    """

    __slots__ = (
        "_domain",
        "_password",
        "host",
        "port",
        "sender",
        "ssl_context",
        "starttls",
        "timeout",
        "username",
    )

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not isinstance(host, str) or not _HOST.fullmatch(host):
            raise InvalidInput("host", host, "a host name or IP address, without spaces")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise InvalidInput("port", port, "an int from 1 to 65535")
        self.sender, self._domain = _sender(sender)
        if not isinstance(starttls, bool):
            raise InvalidInput("starttls", starttls, "True or False")
        if username is not None:
            v.identifier("username", username)
        if password is not None and not isinstance(password, str):
            raise InvalidInput("password", "***", "a string or None")
        if (username is None) != (password is None):
            field, given = ("password", None) if password is None else ("username", None)
            raise InvalidInput(field, given, "a string when the other of username and password is")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout < float("inf")
        ):
            raise InvalidInput("timeout", timeout, "a positive number of seconds")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise InvalidInput("ssl_context", ssl_context, "an ssl.SSLContext or None")
        if ssl_context is not None and not starttls:
            raise InvalidInput("ssl_context", ssl_context, "None unless starttls=True")
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = float(timeout)
        # Made once: loading the system's trusted certificates takes a moment.
        self.ssl_context = (ssl_context or ssl.create_default_context()) if starttls else None

    def message_id(self, key: str) -> str:
        """The ``Message-ID`` of every attempt at the message whose dedupe key is ``key``.

        >>> SMTPNotifier("localhost", sender="shop@example.com").message_id("welcome:c-1")
        '<...@example.com>'
        """
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return f"<{digest}@{self._domain}>"

    def build(self, message: Outgoing) -> EmailMessage:
        """The email :meth:`send` hands over for ``message`` (whose ``to`` is set).

        Raises :class:`ValueError` when a header cannot hold the address or subject (a
        line break in either).
        """
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Message-ID"] = self.message_id(message.key)
        email["X-Custbond-Attempt"] = str(message.attempt)
        email.set_content(message.body, subtype="plain", charset="utf-8")
        return email

    def send(self, message: Outgoing) -> Delivery:
        """Send ``message`` by email; what went wrong, if anything, is in the
        :class:`~custbond.messaging.notifier.Delivery` (see the module docstring). On
        success, its ``detail`` is the ``Message-ID``."""
        if message.channel != "email":
            return Delivery.failed(
                f"SMTPNotifier sends email only; got channel {message.channel!r}"
            )
        if message.to is None:
            return Delivery.failed("no email address")
        try:
            email = self.build(message)
        except (ValueError, TypeError) as error:
            return Delivery.failed(f"cannot make an email of it: {error}")
        recipient = _one_recipient(message.to)
        if recipient is None:  # smtplib would mail whatever it parses the header as
            return Delivery.failed(f"not one email address: {message.to!r}")
        try:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as error:  # the server's greeting refused us
            return _answer(
                error.smtp_code, f"connecting: {_reply(error.smtp_code, error.smtp_error)}"
            )
        except (OSError, smtplib.SMTPException) as error:  # refused, unreachable, timed out
            return Delivery.retry(f"cannot connect to {self.host}:{self.port}: {error!r}")
        try:
            return self._send(connection, email, recipient)
        finally:
            connection.close()

    def _send(self, connection: smtplib.SMTP, email: EmailMessage, to: str) -> Delivery:
        try:
            if self.starttls:
                connection.starttls(context=self.ssl_context)
            if self.username is not None and self._password is not None:
                connection.login(self.username, self._password)
            # To the one address given, not to whatever the To header parses as.
            connection.send_message(email, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as error:
            replies = [(code, text) for code, text in error.recipients.values()]
            detail = "recipient refused: " + "; ".join(
                _reply(code, text) for code, text in replies
            )
            # Failed for good only when no recipient may be accepted later.
            if replies and all(500 <= code <= 599 for code, _ in replies):
                return Delivery.failed(detail)
            return Delivery.retry(detail)
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, ...
            return _answer(error.smtp_code, _reply(error.smtp_code, error.smtp_error))
        except smtplib.SMTPNotSupportedError as error:  # no STARTTLS, no SMTPUTF8
            return Delivery.failed(f"the server does not support it: {error}")
        except (OSError, smtplib.SMTPException) as error:  # dropped, timed out, bad TLS
            return Delivery.retry(f"{type(error).__name__}: {error}")
        # The server has the message: a goodbye lost changes nothing.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.quit()
        return Delivery.sent(str(email["Message-ID"]))

    def __repr__(self) -> str:
        return (
            f"SMTPNotifier({self.host!r}, {self.port}, sender={self.sender!r}, "
            f"starttls={self.starttls}, username={self.username!r})"
        )
