"""The bonds that keep a customer. The financial bond on top of the rules engine: punch
cards, vouchers, tiers and a rewards catalog, achievements and quotes; the social bond:
relationship owners, keep-in-touch cadences, calls after events, notes of appreciation,
personal occasions, regular reviews and members' events; the customization bond:
preferences, content chosen by preference, next-need prediction, cross-sell, wish lists
and saved carts; the structural bond: subscriptions, autoresponder sequences and
integrations; and the bond profile that scores all four.

>>> from custbond.bonds import PunchCard, VoucherOffer
>>> PunchCard("cuts", stamps=9, reward=VoucherOffer("free cut", sku="haircut")).stamps
9
"""

from custbond.bonds.achievements import Achievement, AchievementStatus
from custbond.bonds.baskets import BasketIndex, Suggestion
from custbond.bonds.cards import PunchCard, Voucher, VoucherOffer, VoucherStatus, voucher_code
from custbond.bonds.catalog import Reward, RewardStock
from custbond.bonds.coupons import Coupon, coupon_codes, coupons
from custbond.bonds.customization import (
    Choice,
    Content,
    CustomizationPolicy,
    Preferences,
    SavedCart,
    Wish,
    choose,
)
from custbond.bonds.held import Held
from custbond.bonds.occasions import Occasion, OccasionPolicy
from custbond.bonds.profile import Bond, BondLevel, BondProfile, BondStrength, Fact
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.rhythm import NextNeed, NextNeedPolicy, Rhythm, predict
from custbond.bonds.sequences import Enrollment, Sequence, SequenceStep
from custbond.bonds.social import (
    Cadence,
    CallAfter,
    KeyReview,
    MembersEvent,
    Milestone,
    SocialPolicy,
)
from custbond.bonds.structure import Integration, StructuralPolicy
from custbond.bonds.subscriptions import Plan, Subscription, SubscriptionStatus
from custbond.bonds.tiers import Level, Standing, TierChange, TierLadder, TierStatus

__all__ = [
    "Achievement",
    "AchievementStatus",
    "BasketIndex",
    "Bond",
    "BondLevel",
    "BondProfile",
    "BondStrength",
    "Cadence",
    "CallAfter",
    "Choice",
    "Content",
    "Coupon",
    "CustomizationPolicy",
    "Enrollment",
    "Fact",
    "Held",
    "Integration",
    "KeyReview",
    "Level",
    "MembersEvent",
    "Milestone",
    "NextNeed",
    "NextNeedPolicy",
    "Occasion",
    "OccasionPolicy",
    "Plan",
    "Preferences",
    "PunchCard",
    "ReferralPolicy",
    "Reward",
    "RewardStock",
    "Rhythm",
    "SavedCart",
    "Sequence",
    "SequenceStep",
    "SocialPolicy",
    "Standing",
    "StructuralPolicy",
    "Subscription",
    "SubscriptionStatus",
    "Suggestion",
    "TierChange",
    "TierLadder",
    "TierStatus",
    "Voucher",
    "VoucherOffer",
    "VoucherStatus",
    "Wish",
    "choose",
    "coupon_codes",
    "coupons",
    "predict",
    "voucher_code",
]
