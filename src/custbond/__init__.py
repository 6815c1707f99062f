"""custbond: customer-retention primitives.

Loyalty points kept as lots (pending, expiring, held, clawed back on returns), with a
pure core that decides and a thin service that records. See the docs for a tour.

>>> import custbond
>>> "RetentionService" in custbond.__all__
True
"""

from custbond.activity import Activity
from custbond.clock import Clock, FixedClock, SystemClock
from custbond.commands import (
    Adjust,
    CancelRedemption,
    CaptureHold,
    PlaceHold,
    Redeem,
    ReleaseHold,
    SaveCustomer,
    Settle,
)
from custbond.customers import Birthday, Customer
from custbond.errors import (
    CustbondError,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldError,
    HoldExpired,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    RuleSyntaxError,
)
from custbond.events import CustomEvent, Event, LineItem, Purchase, Return, Signup, Visit
from custbond.ledger import (
    Balance,
    Draw,
    Entry,
    EntryKind,
    ExpiryRounding,
    Hold,
    Ledger,
    Lot,
    PointsPolicy,
)
from custbond.outcome import Outcome
from custbond.program import (
    AddStamps,
    AddTag,
    AdjustPoints,
    CapturePoints,
    CountUse,
    CustomerState,
    Decision,
    EarnPoints,
    Effect,
    HoldPoints,
    NotePurchase,
    NoteVisit,
    PointsPerSpend,
    Program,
    RedeemPoints,
    ReleasePoints,
    RequestMessage,
    RestorePoints,
    ReversePoints,
    SetTier,
    UpdateProfile,
)
from custbond.rules import Rule, Trace
from custbond.service import RetentionService
from custbond.storage import LogRecord, MemoryStore, Store, UnitOfWork

__version__ = "0.1.0.dev0"

__all__ = [
    "Activity",
    "AddStamps",
    "AddTag",
    "Adjust",
    "AdjustPoints",
    "Balance",
    "Birthday",
    "CancelRedemption",
    "CaptureHold",
    "CapturePoints",
    "Clock",
    "CountUse",
    "CustbondError",
    "CustomEvent",
    "Customer",
    "CustomerState",
    "Decision",
    "Draw",
    "EarnPoints",
    "Effect",
    "Entry",
    "EntryKind",
    "Event",
    "ExpiryRounding",
    "FixedClock",
    "Hold",
    "HoldAlreadyCaptured",
    "HoldAlreadyReleased",
    "HoldError",
    "HoldExpired",
    "HoldPoints",
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidInput",
    "Ledger",
    "LineItem",
    "LogRecord",
    "Lot",
    "MemoryStore",
    "NotFound",
    "NotePurchase",
    "NoteVisit",
    "Outcome",
    "PlaceHold",
    "PointsPerSpend",
    "PointsPolicy",
    "Program",
    "Purchase",
    "Redeem",
    "RedeemPoints",
    "ReleaseHold",
    "ReleasePoints",
    "RequestMessage",
    "RestorePoints",
    "RetentionService",
    "Return",
    "ReversePoints",
    "Rule",
    "RuleSyntaxError",
    "SaveCustomer",
    "SetTier",
    "Settle",
    "Signup",
    "Store",
    "SystemClock",
    "Trace",
    "UnitOfWork",
    "UpdateProfile",
    "Visit",
]
