"""Messaging: what custbond says to customers, queued with the change that caused it and
delivered by a notifier the host plugs in. See ``docs/messaging.md``."""

from custbond.messaging.consent import Consent, allows, consent_key
from custbond.messaging.message import Message, MessageKind, MessageStatus, QueuedMessage
from custbond.messaging.notifier import Delivery, DeliveryStatus, Notifier, Outgoing
from custbond.messaging.recording import RecordingNotifier

__all__ = [
    "Consent",
    "Delivery",
    "DeliveryStatus",
    "Message",
    "MessageKind",
    "MessageStatus",
    "Notifier",
    "Outgoing",
    "QueuedMessage",
    "RecordingNotifier",
    "allows",
    "consent_key",
]
