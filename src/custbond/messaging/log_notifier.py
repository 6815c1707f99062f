"""LoggingNotifier: "sends" a message by logging it, for development and dry runs.

One line per send, at INFO by default, on the logger ``custbond.messages``: the message's
key, attempt, channel, kind, template, customer and subject. The address and the body are
left out of that line, since they may hold personal data; the body is logged on a second
line at DEBUG, for a developer who turns that on.

>>> import logging
>>> from custbond.messaging.message import MessageKind
>>> from custbond.messaging.notifier import Outgoing
>>> notifier = LoggingNotifier(logging.getLogger("shop.messages"))
>>> notifier.send(Outgoing(key="welcome:c-1", customer_id="c-1", channel="email",
...                        kind=MessageKind.TRANSACTIONAL, template="welcome",
...                        to="ada@example.com", subject="Welcome", body="Hi Ada",
...                        attempt=1))
Delivery(status=<DeliveryStatus.SENT: 'sent'>, detail='logged')
"""

from __future__ import annotations

import logging

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.messaging.notifier import Delivery, Outgoing

__all__ = ["LoggingNotifier"]

LOGGER_NAME = "custbond.messages"


class LoggingNotifier:
    """A notifier that logs each message instead of delivering it, and answers "sent".

    ``logger`` defaults to ``logging.getLogger("custbond.messages")``; ``level`` is the
    level of the line that describes the message (the body goes at DEBUG).
    """

    __slots__ = ("level", "logger")

    def __init__(self, logger: logging.Logger | None = None, *, level: int = logging.INFO) -> None:
        if logger is not None and not isinstance(logger, logging.Logger):
            raise InvalidInput("logger", logger, "a logging.Logger or None")
        self.logger = logging.getLogger(LOGGER_NAME) if logger is None else logger
        self.level = v.integer("level", level, minimum=1)

    def send(self, message: Outgoing) -> Delivery:
        """Log ``message`` (not its address or body, but at DEBUG) and answer
        ``Delivery.sent("logged")``."""
        self.logger.log(
            self.level,
            "message %s attempt %d: %s %s %r to customer %s, subject %r",
            message.key,
            message.attempt,
            message.channel,
            message.kind.value,
            message.template,
            message.customer_id,
            message.subject,
        )
        self.logger.debug("message %s body: %s", message.key, message.body)
        return Delivery.sent("logged")

    def __repr__(self) -> str:
        return f"LoggingNotifier({self.logger.name!r}, level={logging.getLevelName(self.level)})"
