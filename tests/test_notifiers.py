"""The shipped notifiers: LoggingNotifier, and SMTPNotifier against a real SMTP server.

The SMTP tests run aiosmtpd on the loopback interface, in a thread of this process: the
notifier talks real SMTP over a real socket, and the server keeps what it receives.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from custbond.errors import InvalidInput
from custbond.messaging.log_notifier import LoggingNotifier
from custbond.messaging.message import MessageKind
from custbond.messaging.notifier import Delivery, DeliveryStatus, Outgoing
from custbond.messaging.smtp import SMTPNotifier

SENDER = "Shop <shop@example.com>"


def _outgoing(**changes: Any) -> Outgoing:
    fields: dict[str, Any] = {
        "key": "welcome:c-1",
        "customer_id": "c-1",
        "channel": "email",
        "kind": MessageKind.TRANSACTIONAL,
        "template": "welcome",
        "to": "ada@example.com",
        "subject": "Welcome to our rewards program",
        "body": "Hi Ada,\n\nWelcome!",
        "attempt": 1,
    }
    fields.update(changes)
    return Outgoing(**fields)


class TestLoggingNotifier:
    def test_logs_one_line_naming_the_message_and_answers_sent(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="custbond.messages")

        delivery = LoggingNotifier().send(_outgoing(attempt=2))

        assert Delivery.sent("logged") == delivery
        assert [
            (
                "custbond.messages",
                logging.INFO,
                "message welcome:c-1 attempt 2: email transactional 'welcome' to customer c-1, "
                "subject 'Welcome to our rewards program'",
            )
        ] == caplog.record_tuples

    def test_leaves_the_address_and_the_body_out_at_info(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="custbond.messages")

        LoggingNotifier().send(_outgoing(to="ada@example.com", body="Your code is 1234"))

        assert "ada@example.com" not in caplog.text
        assert "1234" not in caplog.text

    def test_logs_the_body_at_debug(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="custbond.messages")

        LoggingNotifier().send(_outgoing(body="Your code is 1234"))

        assert [logging.INFO, logging.DEBUG] == [record.levelno for record in caplog.records]
        assert "message welcome:c-1 body: Your code is 1234" == caplog.records[1].getMessage()
        assert "ada@example.com" not in caplog.text

    def test_a_message_without_subject_logs_none(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="custbond.messages")

        LoggingNotifier().send(
            _outgoing(channel="sms", kind=MessageKind.MARKETING, to="+15550100", subject=None)
        )

        assert (
            caplog.records[0]
            .getMessage()
            .endswith("sms marketing 'welcome' to customer c-1, subject None")
        )

    def test_logs_on_the_logger_and_at_the_level_given(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="shop.outbox")

        LoggingNotifier(logging.getLogger("shop.outbox"), level=logging.WARNING).send(_outgoing())

        assert [("shop.outbox", logging.WARNING), ("shop.outbox", logging.DEBUG)] == [
            (record.name, record.levelno) for record in caplog.records
        ]

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            pytest.param({"logger": "custbond.messages"}, "logger", id="logger-name"),
            pytest.param({"level": "INFO"}, "level", id="level-name"),
            pytest.param({"level": 0}, "level", id="level-notset"),
            pytest.param({"level": True}, "level", id="level-bool"),
        ],
    )
    def test_rejects_bad_arguments(self, arguments: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            LoggingNotifier(**arguments)

        assert field == caught.value.field


class TestSMTPNotifierArguments:
    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            pytest.param({"host": ""}, "host", id="empty-host"),
            pytest.param({"host": "smtp example.com"}, "host", id="host-with-space"),
            pytest.param({"host": 25}, "host", id="int-host"),
            pytest.param({"port": 0}, "port", id="port-0"),
            pytest.param({"port": 65536}, "port", id="port-65536"),
            pytest.param({"port": "25"}, "port", id="str-port"),
            pytest.param({"port": True}, "port", id="bool-port"),
            pytest.param({"sender": "shop"}, "sender", id="sender-no-at"),
            pytest.param({"sender": "shop@"}, "sender", id="sender-no-domain"),
            pytest.param({"sender": "@example.com"}, "sender", id="sender-no-local-part"),
            pytest.param({"sender": "Shop <shop>"}, "sender", id="named-sender-no-at"),
            pytest.param({"sender": "a@b@example.com"}, "sender", id="sender-two-ats"),
            pytest.param({"sender": "shop@example.com\nBcc: x@y.z"}, "sender", id="injection"),
            pytest.param({"sender": None}, "sender", id="no-sender"),
            pytest.param({"starttls": "yes"}, "starttls", id="str-starttls"),
            pytest.param({"username": "", "password": "x"}, "username", id="empty-username"),
            pytest.param({"username": "shop"}, "password", id="username-without-password"),
            pytest.param({"password": "secret"}, "username", id="password-without-username"),
            pytest.param({"username": "shop", "password": 5}, "password", id="int-password"),
            pytest.param({"timeout": 0}, "timeout", id="timeout-0"),
            pytest.param({"timeout": -1.0}, "timeout", id="negative-timeout"),
            pytest.param({"timeout": float("inf")}, "timeout", id="infinite-timeout"),
            pytest.param({"timeout": float("nan")}, "timeout", id="nan-timeout"),
            pytest.param({"timeout": "10"}, "timeout", id="str-timeout"),
            pytest.param({"timeout": True}, "timeout", id="bool-timeout"),
            pytest.param(
                {"starttls": True, "ssl_context": "default"}, "ssl_context", id="not-a-context"
            ),
            pytest.param(
                {"ssl_context": ssl.create_default_context()},
                "ssl_context",
                id="context-without-starttls",
            ),
        ],
    )
    def test_rejects_bad_arguments(self, arguments: dict[str, Any], field: str) -> None:
        given: dict[str, Any] = {"host": "smtp.example.com", "sender": "shop@example.com"}
        given.update(arguments)

        with pytest.raises(InvalidInput) as caught:
            SMTPNotifier(**given)

        assert field == caught.value.field

    def test_never_shows_the_password(self) -> None:
        notifier = SMTPNotifier(
            "smtp.example.com", 587, sender=SENDER, starttls=True, username="shop", password="pw1"
        )

        assert "pw1" not in repr(notifier)
        with pytest.raises(InvalidInput) as caught:
            SMTPNotifier("smtp.example.com", sender=SENDER, username="shop", password=b"pw1")  # type: ignore[arg-type]
        assert "pw1" not in str(caught.value)

    def test_starttls_checks_certificates_by_default(self) -> None:
        notifier = SMTPNotifier("smtp.example.com", 587, sender=SENDER, starttls=True)

        assert notifier.ssl_context is not None
        assert ssl.CERT_REQUIRED == notifier.ssl_context.verify_mode
        assert notifier.ssl_context.check_hostname

    def test_the_message_id_is_made_from_the_key_in_the_senders_domain(self) -> None:
        notifier = SMTPNotifier("smtp.example.com", sender=SENDER)

        message_id = notifier.message_id("welcome:c-1")

        assert message_id == notifier.message_id("welcome:c-1")
        assert message_id != notifier.message_id("welcome:c-2")
        assert message_id.startswith("<")
        assert message_id.endswith("@example.com>")
        assert 32 == len(message_id.removeprefix("<").split("@")[0])


# -- a real SMTP server on the loopback interface -------------------------------------------


@attrs.define
class Mailbox:
    """An aiosmtpd handler that keeps what it receives, and answers ``replies`` instead of
    accepting when asked: ``replies[("RCPT", address)] = "550 no such user"``."""

    envelopes: list[Envelope] = attrs.Factory(list)
    replies: dict[tuple[str, str], str] = attrs.Factory(dict)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if ("MAIL", address) in self.replies:
            return self.replies["MAIL", address]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if ("RCPT", address) in self.replies:
            return self.replies["RCPT", address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if ("DATA", address) in self.replies:
                return self.replies["DATA", address]
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[EmailMessage]:
        """The messages received, parsed."""
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


class LoopbackController(Controller):
    """An aiosmtpd Controller on 127.0.0.1 and a port the system picks (port 0).

    Controller.start() connects to its own port once listening, to check the server
    answers; with port 0 it must learn the port first. ``_trigger_server`` is the hook
    aiosmtpd's controllers override for that connection.
    """

    def __init__(self, handler: Any, **smtp_parameters: Any) -> None:
        super().__init__(
            handler, hostname="127.0.0.1", port=0, server_hostname="mail.test", **smtp_parameters
        )

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def server(mailbox: Mailbox) -> Iterator[LoopbackController]:
    controller = LoopbackController(mailbox)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def notifier(server: LoopbackController) -> SMTPNotifier:
    return SMTPNotifier("127.0.0.1", server.port, sender=SENDER, timeout=5)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound, so nothing else takes it, but not listening:
    connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (into its backlog) and never says a
    word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        yield listening.getsockname()[1]


class TestSMTPDelivery:
    def test_delivers_from_the_sender_to_the_address(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        delivery = notifier.send(_outgoing())

        assert Delivery.sent(notifier.message_id("welcome:c-1")) == delivery
        [envelope] = mailbox.envelopes
        assert "shop@example.com" == envelope.mail_from
        assert ["ada@example.com"] == envelope.rcpt_tos
        [received] = mailbox.received
        assert SENDER == received["From"]
        assert "ada@example.com" == received["To"]
        assert "Welcome to our rewards program" == received["Subject"]
        assert notifier.message_id("welcome:c-1") == received["Message-ID"]
        assert "1" == received["X-Custbond-Attempt"]
        assert "text/plain" == received.get_content_type()
        assert "Hi Ada,\r\n\r\nWelcome!\r\n" == received.get_content()  # as on the wire

    def test_an_address_smtp_would_read_as_another_fails_for_good_and_mails_nobody(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        # Customer refuses such an address; an Outgoing made by hand must not mail "eve".
        delivery = notifier.send(_outgoing(to="eve,ada@example.com"))

        assert delivery == Delivery.failed("not one email address: 'eve,ada@example.com'")
        assert mailbox.envelopes == []

    def test_a_retry_carries_the_same_message_id_and_counts_the_attempt(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        notifier.send(_outgoing(attempt=1))
        notifier.send(_outgoing(attempt=2))
        notifier.send(_outgoing(key="welcome:c-2", attempt=1))

        first, retry, other = mailbox.received
        assert first["Message-ID"] == retry["Message-ID"]
        assert first["Message-ID"] != other["Message-ID"]
        assert ["1", "2", "1"] == [message["X-Custbond-Attempt"] for message in mailbox.received]

    def test_sends_text_beyond_ascii_as_utf8(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        delivery = notifier.send(
            _outgoing(to="Zoë Ørsted <zoe@example.com>", subject="Zoë, ça va?", body="Hi Zoë ☕")
        )

        assert DeliveryStatus.SENT == delivery.status
        [received] = mailbox.received
        assert "Zoë Ørsted <zoe@example.com>" == received["To"]
        assert "Zoë, ça va?" == received["Subject"]
        assert "utf-8" == received.get_content_charset()
        assert "Hi Zoë ☕\r\n" == received.get_content()
        assert ["zoe@example.com"] == mailbox.envelopes[0].rcpt_tos

    def test_a_message_without_subject_has_an_empty_one(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        notifier.send(_outgoing(subject=None))

        assert "" == mailbox.received[0]["Subject"]

    @pytest.mark.parametrize(
        ("refused", "reply", "status"),
        [
            pytest.param(("RCPT", "ada@example.com"), "550 no such user", "failed", id="rcpt-550"),
            pytest.param(("RCPT", "ada@example.com"), "451 try later", "retry", id="rcpt-451"),
            pytest.param(("RCPT", "ada@example.com"), "452 mailbox full", "retry", id="rcpt-452"),
            pytest.param(("MAIL", "shop@example.com"), "553 not allowed", "failed", id="mail-553"),
            pytest.param(("MAIL", "shop@example.com"), "421 too busy", "retry", id="mail-421"),
            pytest.param(("DATA", "ada@example.com"), "554 spam", "failed", id="data-554"),
            pytest.param(("DATA", "ada@example.com"), "451 try later", "retry", id="data-451"),
        ],
    )
    def test_a_refusal_is_a_failure_for_good_if_5xx_and_for_now_if_4xx(
        self,
        notifier: SMTPNotifier,
        mailbox: Mailbox,
        refused: tuple[str, str],
        reply: str,
        status: str,
    ) -> None:
        mailbox.replies[refused] = reply

        delivery = notifier.send(_outgoing())

        assert status == delivery.status
        assert reply in delivery.detail
        assert [] == mailbox.envelopes

    def test_a_refused_recipient_is_named_in_the_detail(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        mailbox.replies["RCPT", "ada@example.com"] = "550 no such user"

        assert Delivery.failed("recipient refused: 550 no such user") == notifier.send(_outgoing())

    def test_a_refused_connection_is_retried(self, closed_port: int) -> None:
        notifier = SMTPNotifier("127.0.0.1", closed_port, sender=SENDER)

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.RETRY == delivery.status
        assert f"cannot connect to 127.0.0.1:{closed_port}: ConnectionRefusedError" in (
            delivery.detail
        )

    def test_a_server_that_never_answers_is_retried_after_the_timeout(
        self, silent_port: int
    ) -> None:
        notifier = SMTPNotifier("127.0.0.1", silent_port, sender=SENDER, timeout=0.05)

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.RETRY == delivery.status
        assert "timed out" in delivery.detail

    def test_starttls_against_a_server_without_it_fails_for_good(
        self, server: LoopbackController, mailbox: Mailbox
    ) -> None:
        notifier = SMTPNotifier("127.0.0.1", server.port, sender=SENDER, starttls=True)

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.FAILED == delivery.status
        assert "STARTTLS" in delivery.detail
        assert [] == mailbox.envelopes

    @pytest.mark.parametrize(
        "changes",
        [
            pytest.param({"channel": "sms", "to": "+15550100"}, id="sms"),
            pytest.param({"channel": "push", "to": None}, id="push"),
        ],
    )
    def test_a_channel_other_than_email_fails_for_good(
        self, notifier: SMTPNotifier, mailbox: Mailbox, changes: dict[str, Any]
    ) -> None:
        delivery = notifier.send(_outgoing(**changes))

        assert (
            Delivery.failed(f"SMTPNotifier sends email only; got channel {changes['channel']!r}")
            == delivery
        )
        assert [] == mailbox.envelopes

    def test_a_message_without_address_fails_for_good(
        self, notifier: SMTPNotifier, mailbox: Mailbox
    ) -> None:
        assert Delivery.failed("no email address") == notifier.send(_outgoing(to=None))
        assert [] == mailbox.envelopes

    @pytest.mark.parametrize(
        "changes",
        [
            pytest.param({"to": "ada@example.com\nBcc: eve@example.com"}, id="address"),
            pytest.param({"subject": "Hi\r\nBcc: eve@example.com"}, id="subject"),
        ],
    )
    def test_a_line_break_in_a_header_fails_for_good_and_injects_nothing(
        self, notifier: SMTPNotifier, mailbox: Mailbox, changes: dict[str, Any]
    ) -> None:
        delivery = notifier.send(_outgoing(**changes))

        assert DeliveryStatus.FAILED == delivery.status
        assert delivery.detail.startswith("cannot make an email of it: ")
        assert [] == mailbox.envelopes


# -- STARTTLS, with a certificate made for the test ------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: it makes the test's certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts the test's certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (b"shop", b"s3cret") == tuple(auth_data)
    return AuthResult(success=good, handled=False)


@pytest.fixture
def tls_server(mailbox: Mailbox, certificate: tuple[Path, Path]) -> Iterator[LoopbackController]:
    """A server that takes no mail before STARTTLS, and takes a login after it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    controller = LoopbackController(
        mailbox, require_starttls=True, tls_context=context, authenticator=_authenticate
    )
    controller.start()
    yield controller
    controller.stop()


class TestSTARTTLS:
    def test_delivers_over_starttls_with_a_context_that_trusts_the_server(
        self, tls_server: LoopbackController, mailbox: Mailbox, trusting: ssl.SSLContext
    ) -> None:
        notifier = SMTPNotifier(
            "127.0.0.1", tls_server.port, sender=SENDER, starttls=True, ssl_context=trusting
        )

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.SENT == delivery.status
        assert ["ada@example.com"] == mailbox.envelopes[0].rcpt_tos

    def test_without_starttls_the_server_refuses_for_good(
        self, tls_server: LoopbackController, mailbox: Mailbox
    ) -> None:
        notifier = SMTPNotifier("127.0.0.1", tls_server.port, sender=SENDER)

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.FAILED == delivery.status
        assert delivery.detail.startswith("530 ")
        assert [] == mailbox.envelopes

    def test_a_server_certificate_the_context_does_not_trust_is_retried(
        self, tls_server: LoopbackController, mailbox: Mailbox
    ) -> None:
        notifier = SMTPNotifier("127.0.0.1", tls_server.port, sender=SENDER, starttls=True)

        delivery = notifier.send(_outgoing())

        assert DeliveryStatus.RETRY == delivery.status
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.detail
        assert [] == mailbox.envelopes

    @pytest.mark.parametrize(
        ("password", "status"),
        [pytest.param("s3cret", "sent", id="right"), pytest.param("guess", "failed", id="wrong")],
    )
    def test_logs_in_after_starttls(
        self,
        tls_server: LoopbackController,
        mailbox: Mailbox,
        trusting: ssl.SSLContext,
        password: str,
        status: str,
    ) -> None:
        notifier = SMTPNotifier(
            "127.0.0.1",
            tls_server.port,
            sender=SENDER,
            starttls=True,
            ssl_context=trusting,
            username="shop",
            password=password,
        )

        delivery = notifier.send(_outgoing())

        assert status == delivery.status
        assert (1 if status == "sent" else 0) == len(mailbox.envelopes)
        if status == "failed":
            assert delivery.detail.startswith("535 ")
