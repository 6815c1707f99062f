"""Messaging: what custbond says to customers, queued with the change that caused it and
delivered by a notifier the host plugs in. See ``docs/messaging.md`` and
``docs/notifiers.md``.

>>> from custbond.messaging import Message
>>> Message(key="k-1", customer_id="c-1", template="welcome").channel
'email'
"""

from custbond.messaging.consent import Consent, allows, consent_key
from custbond.messaging.log_notifier import LoggingNotifier
from custbond.messaging.message import Message, MessageKind, MessageStatus, QueuedMessage
from custbond.messaging.notifier import Delivery, DeliveryStatus, Notifier, Outgoing
from custbond.messaging.occasions import ExpiryNotice, Greeting, Holiday, Reminder, Send
from custbond.messaging.policy import FrequencyCap, MessagingPolicy, QuietHours, RetryPolicy
from custbond.messaging.recording import RecordingNotifier
from custbond.messaging.smtp import SMTPNotifier
from custbond.messaging.templates import Rendered, Template, Templates

__all__ = [
    "Consent",
    "Delivery",
    "DeliveryStatus",
    "ExpiryNotice",
    "FrequencyCap",
    "Greeting",
    "Holiday",
    "LoggingNotifier",
    "Message",
    "MessageKind",
    "MessageStatus",
    "MessagingPolicy",
    "Notifier",
    "Outgoing",
    "QueuedMessage",
    "QuietHours",
    "RecordingNotifier",
    "Reminder",
    "Rendered",
    "RetryPolicy",
    "SMTPNotifier",
    "Send",
    "Template",
    "Templates",
    "allows",
    "consent_key",
]
