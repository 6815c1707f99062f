"""The structural bond: what the customer has built into their routine with you.

A subscription box that arrives on the last day of every month, a newsletter's
autoresponder that welcomes and then teaches, a portal account or an API key the
customer's own tools depend on: each makes leaving cost something. This module holds
the program's side (:class:`StructuralPolicy`: the plans one may subscribe to and the
autoresponder sequences) and the integrations a customer relies on
(:class:`Integration`); :mod:`custbond.bonds.subscriptions` and
:mod:`custbond.bonds.sequences` hold the rest, :mod:`custbond.bonds.structure_desk`
puts them to work.

>>> from decimal import Decimal
>>> box = Plan(name="pie-box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9",
...            price=Decimal("25.00"))
>>> StructuralPolicy(plans=[box]).plan("pie-box").is_paid
True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from custbond import _validate as v
from custbond.bonds.sequences import Sequence
from custbond.bonds.subscriptions import Plan
from custbond.errors import NotFound

__all__ = ["Integration", "StructuralPolicy"]


@attrs.frozen(kw_only=True)
class Integration:
    """Something of yours the customer's work runs on (``name``: "portal", "api-key",
    "label-printer"), in use since ``adopted_at`` (the date they adopted it), until
    ``dropped_at`` if they stopped."""

    name: str = attrs.field(validator=v.is_identifier)
    adopted_at: datetime = attrs.field(validator=v.is_moment)
    dropped_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)

    @property
    def in_use(self) -> bool:
        return self.dropped_at is None

    def describe(self) -> str:
        since = f"{self.name} since {self.adopted_at.date().isoformat()}"
        if self.dropped_at is None:
            return since
        return f"{since}, dropped {self.dropped_at.date().isoformat()}"


def _plans(value: Any) -> tuple[Plan, ...]:
    plans = v.instances("plans", value, Plan, "a Plan")
    v.distinct("plans", plans, Plan, "a Plan", plural="plans")
    return plans


def _sequences(value: Any) -> tuple[Sequence, ...]:
    sequences = v.instances("sequences", value, Sequence, "a Sequence")
    v.distinct("sequences", sequences, Sequence, "a Sequence", plural="sequences")
    return sequences


@attrs.frozen(kw_only=True)
class StructuralPolicy:
    """The structural bond of a program: the subscription ``plans`` customers may hold
    and the autoresponder ``sequences`` events enter them into."""

    plans: tuple[Plan, ...] = attrs.field(default=(), converter=_plans)
    sequences: tuple[Sequence, ...] = attrs.field(default=(), converter=_sequences)

    def plan(self, name: str) -> Plan:
        """The plan called ``name``; :class:`~custbond.NotFound` if there is none."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise NotFound("plan", name)

    def describe(self) -> str:
        lines = [plan.describe() for plan in self.plans]
        lines.extend(sequence.describe() for sequence in self.sequences)
        return "; ".join(lines) or "no plans, no sequences"
