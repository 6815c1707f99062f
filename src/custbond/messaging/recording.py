"""RecordingNotifier: keeps what it is given, for tests, scripts and demos."""

from __future__ import annotations

from collections.abc import Callable

from custbond.messaging.notifier import Delivery, Outgoing

__all__ = ["RecordingNotifier"]


class RecordingNotifier:
    """A notifier that sends nothing and keeps every message it is given in ``sent``
    (in order; a retry appears again, with the same key and the next ``attempt``).

    ``answer``, when given, decides how each send goes (return a :class:`Delivery`, or
    raise): a test can make sends fail.

    >>> from custbond.messaging import Delivery, Outgoing, MessageKind
    >>> notifier = RecordingNotifier(answer=lambda message: Delivery.retry("busy"))
    >>> message = Outgoing(key="k", customer_id="c-1", channel="sms",
    ...                    kind=MessageKind.TRANSACTIONAL, template="reminder",
    ...                    to="+15550100", subject=None, body="See you at 10", attempt=1)
    >>> notifier.send(message).detail, len(notifier.sent), len(notifier.delivered)
    ('busy', 1, 0)
    """

    def __init__(self, answer: Callable[[Outgoing], Delivery] | None = None) -> None:
        self.answer = answer
        self.sent: list[Outgoing] = []
        self.delivered: list[Outgoing] = []  # those whose send answered "sent"

    def send(self, message: Outgoing) -> Delivery:
        self.sent.append(message)
        delivery = Delivery.sent() if self.answer is None else self.answer(message)
        if delivery.status == "sent":
            self.delivered.append(message)
        return delivery
