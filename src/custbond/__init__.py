"""custbond: customer-retention primitives.

Loyalty points kept as lots (pending, expiring, held, clawed back on returns), with a
pure core that decides and a thin service that records. See the docs for a tour.

>>> import custbond
>>> "RetentionService" in custbond.__all__
True
"""

from typing import TYPE_CHECKING, Any

from custbond.activity import Activity
from custbond.bonds import (
    Achievement,
    AchievementStatus,
    Level,
    PunchCard,
    TierLadder,
    TierStatus,
    Voucher,
    VoucherOffer,
    VoucherStatus,
)
from custbond.bonds.catalog import Reward
from custbond.bonds.coupons import Coupon
from custbond.bonds.quotes import Quote, QuotedDiscount
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.tiers import ChangeTier, KeepTier
from custbond.clock import Clock, FixedClock, SystemClock
from custbond.commands import (
    Adjust,
    CancelRedemption,
    CancelVoucher,
    CaptureHold,
    PlaceHold,
    Redeem,
    RedeemReward,
    ReleaseHold,
    SaveCustomer,
    Settle,
    UseCoupon,
    UseVoucher,
)
from custbond.customers import Birthday, Customer
from custbond.errors import (
    CouponNotValid,
    CustbondError,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldError,
    HoldExpired,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    OutOfStock,
    RewardError,
    RewardLimitReached,
    RuleFileError,
    RuleSyntaxError,
    SchemaVersionError,
    StorageError,
    TransactionConflict,
    VoucherAlreadyUsed,
    VoucherCancelled,
    VoucherError,
    VoucherExpired,
)
from custbond.events import (
    CustomEvent,
    Event,
    LineItem,
    Purchase,
    Referral,
    Return,
    Signup,
    Visit,
)
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
    AddToCounter,
    AdjustPoints,
    CapturePoints,
    CountCoupon,
    CountUse,
    CustomerState,
    Decision,
    EarnPoints,
    Effect,
    HoldPoints,
    IssueVoucher,
    MarkVoucher,
    NotePurchase,
    NoteVisit,
    PointsPerSpend,
    Program,
    RedeemPoints,
    ReleasePoints,
    RequestMessage,
    RestorePoints,
    ReversePoints,
    RewardReferral,
    SetCard,
    SetProgress,
    SetReferrer,
    SetTier,
    UpdateProfile,
)
from custbond.rules import Rule, Trace
from custbond.rules.files import dump_program, load_program
from custbond.service import RetentionService
from custbond.storage import LogRecord, MemoryStore, SQLiteStore, Store, UnitOfWork

if TYPE_CHECKING:
    from custbond.storage.sqlalchemy import SQLAlchemyStore as SQLAlchemyStore

__version__ = "0.1.0.dev0"

__all__ = [
    "Achievement",
    "AchievementStatus",
    "Activity",
    "AddStamps",
    "AddTag",
    "AddToCounter",
    "Adjust",
    "AdjustPoints",
    "Balance",
    "Birthday",
    "CancelRedemption",
    "CancelVoucher",
    "CaptureHold",
    "CapturePoints",
    "ChangeTier",
    "Clock",
    "CountCoupon",
    "CountUse",
    "Coupon",
    "CouponNotValid",
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
    "IssueVoucher",
    "KeepTier",
    "Ledger",
    "Level",
    "LineItem",
    "LogRecord",
    "Lot",
    "MarkVoucher",
    "MemoryStore",
    "NotFound",
    "NotePurchase",
    "NoteVisit",
    "OutOfStock",
    "Outcome",
    "PlaceHold",
    "PointsPerSpend",
    "PointsPolicy",
    "Program",
    "PunchCard",
    "Purchase",
    "Quote",
    "QuotedDiscount",
    "Redeem",
    "RedeemPoints",
    "RedeemReward",
    "Referral",
    "ReferralPolicy",
    "ReleaseHold",
    "ReleasePoints",
    "RequestMessage",
    "RestorePoints",
    "RetentionService",
    "Return",
    "ReversePoints",
    "Reward",
    "RewardError",
    "RewardLimitReached",
    "RewardReferral",
    "Rule",
    "RuleFileError",
    "RuleSyntaxError",
    "SQLiteStore",
    "SaveCustomer",
    "SchemaVersionError",
    "SetCard",
    "SetProgress",
    "SetReferrer",
    "SetTier",
    "Settle",
    "Signup",
    "StorageError",
    "Store",
    "SystemClock",
    "TierLadder",
    "TierStatus",
    "Trace",
    "TransactionConflict",
    "UnitOfWork",
    "UpdateProfile",
    "UseCoupon",
    "UseVoucher",
    "Visit",
    "Voucher",
    "VoucherAlreadyUsed",
    "VoucherCancelled",
    "VoucherError",
    "VoucherExpired",
    "VoucherOffer",
    "VoucherStatus",
    "dump_program",
    "load_program",
]


def __getattr__(name: str) -> Any:
    # SQLAlchemyStore (PostgreSQL) is imported on first use, as in custbond.storage: it
    # needs the `postgres` extra.
    if name == "SQLAlchemyStore":
        from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

        return SQLAlchemyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
