"""What the service returns for each event or command it accepts."""

from __future__ import annotations

from datetime import datetime

import attrs

from custbond.effects import Effect
from custbond.ledger import Balance, Entry
from custbond.rules.trace import Trace, as_trace

__all__ = ["Outcome"]


@attrs.frozen
class Outcome:
    """The result of one accepted event or command.

    ``key`` is the idempotency key it was accepted under (``None`` for :meth:`run_due`),
    ``at`` when the service processed it, ``effects`` and ``trace`` what was decided and
    why, ``entries`` the ledger entries written (including any clearing or expiry that
    became due first), and ``balance`` the customer's balance afterwards. Delivering the
    same event again returns this same value.
    """

    customer_id: str
    key: str | None
    at: datetime
    effects: tuple[Effect, ...]
    trace: Trace = attrs.field(converter=as_trace)
    entries: tuple[Entry, ...]
    balance: Balance

    @property
    def points(self) -> int:
        """The net change to the customer's total points."""
        return sum(entry.points for entry in self.entries)
