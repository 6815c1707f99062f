"""The financial bond on top of the rules engine: punch cards and vouchers.

>>> from custbond.bonds import PunchCard, VoucherOffer
>>> PunchCard("cuts", stamps=9, reward=VoucherOffer("free cut", sku="haircut")).stamps
9
"""

from custbond.bonds.cards import PunchCard, Voucher, VoucherOffer, VoucherStatus, voucher_code

__all__ = ["PunchCard", "Voucher", "VoucherOffer", "VoucherStatus", "voucher_code"]
