"""What the service's mixins (the outbox's, recovery's and the bonds' verbs) are given by
:class:`~custbond.RetentionService`: its program, store and clock, and its one path for
every change and every read of a customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from custbond.clock import Clock
    from custbond.commands import Input
    from custbond.outcome import Outcome
    from custbond.program import CustomerState, Program
    from custbond.storage.ports import Store, UnitOfWork

__all__ = ["ServiceParts"]


class ServiceParts:
    """The parts of the service a mixin of its verbs reads."""

    program: Program
    store: Store
    clock: Clock

    def _process(self, item: Input, now: datetime) -> Outcome:
        raise NotImplementedError  # pragma: no cover - the service's

    def _load(self, uow: UnitOfWork, customer_id: str) -> CustomerState:
        raise NotImplementedError  # pragma: no cover - the service's
