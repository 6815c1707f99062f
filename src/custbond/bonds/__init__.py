"""The bonds that keep a customer. The financial bond on top of the rules engine: punch
cards, vouchers, tiers and a rewards catalog, achievements and quotes; the social bond:
relationship owners, keep-in-touch cadences and calls after events.

>>> from custbond.bonds import PunchCard, VoucherOffer
>>> PunchCard("cuts", stamps=9, reward=VoucherOffer("free cut", sku="haircut")).stamps
9
"""

from custbond.bonds.achievements import Achievement, AchievementStatus
from custbond.bonds.cards import PunchCard, Voucher, VoucherOffer, VoucherStatus, voucher_code
from custbond.bonds.catalog import Reward, RewardStock
from custbond.bonds.coupons import Coupon, coupon_codes, coupons
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.social import Cadence, CallAfter, SocialPolicy
from custbond.bonds.tiers import Level, Standing, TierChange, TierLadder, TierStatus

__all__ = [
    "Achievement",
    "AchievementStatus",
    "Cadence",
    "CallAfter",
    "Coupon",
    "Level",
    "PunchCard",
    "ReferralPolicy",
    "Reward",
    "RewardStock",
    "SocialPolicy",
    "Standing",
    "TierChange",
    "TierLadder",
    "TierStatus",
    "Voucher",
    "VoucherOffer",
    "VoucherStatus",
    "coupon_codes",
    "coupons",
    "voucher_code",
]
