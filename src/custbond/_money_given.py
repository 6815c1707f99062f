"""The fixed amounts of money a program gives, and the first one its currency cannot pay.

A program's author writes some amounts of money that are given as they are: the value of
a voucher (a rule's gift, a full card's reward, a catalog reward, an achievement's gift,
a referral's gifts) and a fixed discount (a rule's or a coupon's). Each must be payable
in the program's currency: ``"1.005"`` dollars cannot be taken off a bill or counted in
a money budget, so a program holding one is refused when it is made, rather than
rounded one way or another each time it is given.

Places are key paths as a rule file writes them (``("rules", 0, "then", 1, "offer",
"value")``), but for the catalog, which a file calls ``rewards``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from custbond import _validate as v
from custbond.bonds.achievements import Achievement
from custbond.bonds.cards import PunchCard
from custbond.bonds.catalog import Reward
from custbond.bonds.coupons import Coupon
from custbond.bonds.referrals import ReferralPolicy
from custbond.rules.effects import Discount, Gift
from custbond.rules.rule import Rule
from custbond.vouchers import VoucherOffer

Place = tuple[str | int, ...]


def unpayable(
    currency: str,
    *,
    rules: Sequence[Rule] = (),
    cards: Sequence[PunchCard] = (),
    catalog: Sequence[Reward] = (),
    achievements: Sequence[Achievement] = (),
    coupons: Sequence[Coupon] = (),
    referrals: ReferralPolicy | None = None,
) -> tuple[Place, Decimal] | None:
    """The place and amount of the first fixed amount with more decimal places than
    ``currency`` has; ``None`` when every one can be paid.

    >>> from custbond.bonds import PunchCard
    >>> card = PunchCard("coffee", stamps=9,
    ...                  reward=VoucherOffer("coffee", sku="latte", value=Decimal("4.505")))
    >>> unpayable("USD", cards=[card])
    (('cards', 0, 'reward', 'value'), Decimal('4.505'))
    >>> unpayable("BHD", cards=[card]) is None  # the dinar has three decimal places
    True
    """
    given = _fixed_money(
        rules=rules,
        cards=cards,
        catalog=catalog,
        achievements=achievements,
        coupons=coupons,
        referrals=referrals,
    )
    for place, amount in given:
        if not v.payable(amount, currency):
            return place, amount
    return None


def _fixed_money(
    *,
    rules: Sequence[Rule],
    cards: Sequence[PunchCard],
    catalog: Sequence[Reward],
    achievements: Sequence[Achievement],
    coupons: Sequence[Coupon],
    referrals: ReferralPolicy | None,
) -> Iterator[tuple[Place, Decimal]]:
    for index, rule in enumerate(rules):
        for at, effect in enumerate(rule.then):
            if isinstance(effect, Gift):
                yield from _offer(("rules", index, "then", at, "offer"), effect.offer)
            elif isinstance(effect, Discount) and effect.amount is not None:
                yield ("rules", index, "then", at, "amount"), effect.amount
    for index, card in enumerate(cards):
        yield from _offer(("cards", index, "reward"), card.reward)
    for index, reward in enumerate(catalog):
        yield from _offer(("catalog", index, "offer"), reward.offer)
    for index, achievement in enumerate(achievements):
        yield from _offer(("achievements", index, "gift"), achievement.gift)
    for index, coupon in enumerate(coupons):
        if coupon.discount is not None and coupon.discount.amount is not None:
            yield ("coupons", index, "discount", "amount"), coupon.discount.amount
    if referrals is not None:
        yield from _offer(("referrals", "referrer_gift"), referrals.referrer_gift)
        yield from _offer(("referrals", "referee_gift"), referrals.referee_gift)


def _offer(place: Place, offer: VoucherOffer | None) -> Iterator[tuple[Place, Decimal]]:
    if offer is not None and offer.value is not None:
        yield (*place, "value"), offer.value


def field_text(place: Place) -> str:
    """A place as the name of a field: ``rules[0].then[1].offer.value``.

    >>> field_text(("referrals", "referee_gift", "value"))
    'referrals.referee_gift.value'
    """
    text = str(place[0])
    for part in place[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
