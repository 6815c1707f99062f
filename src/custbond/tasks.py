"""Tasks: work custbond asks a person to do ("call to ask how it went").

A task has an ``owner`` (a person or a role: ``"duty manager"``, ``"customer care"``), a
customer it is about, a time it falls due and a ``reason`` a person reads. Decisions open
them (an escalated complaint, a follow-up after a resolved case, a detractor's survey
answer); the store keeps them in a table of their own so that an owner's list reads in
one query; :meth:`~custbond.RetentionService.tasks` lists them and
:meth:`~custbond.RetentionService.close_task` closes one, once.

>>> from datetime import datetime, timezone
>>> task = Task(key="follow-up:c-9", customer_id="c-1", owner="customer care",
...             due_at=datetime(2026, 3, 9, 10, tzinfo=timezone.utc),
...             reason="call to ask how it went", about="c-9",
...             created_at=datetime(2026, 3, 6, 10, tzinfo=timezone.utc))
>>> task.is_open
True
"""

from __future__ import annotations

from datetime import datetime

import attrs

from custbond import _validate as v

__all__ = ["Task"]


@attrs.frozen(kw_only=True)
class Task:
    """Something ``owner`` is to do about ``customer_id`` by ``due_at``, because of
    ``reason``; ``about`` names what it concerns (a complaint, a survey answer), ``kind``
    what opened it (``"escalation"``, ``"follow_up"``, ``"detractor"``). ``key`` is unique
    in the store: opening a task under a key already used changes nothing. A closed task
    has ``closed_at`` and the ``result`` its owner gave."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    owner: str = attrs.field(validator=v.is_identifier)
    due_at: datetime = attrs.field(validator=v.is_aware)
    reason: str = attrs.field(validator=v.is_text)
    created_at: datetime = attrs.field(validator=v.is_aware)
    kind: str = attrs.field(default="task", validator=v.is_identifier)
    about: str | None = attrs.field(default=None, validator=v.is_optional_text)
    closed_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    result: str | None = attrs.field(default=None, validator=v.is_optional_text)

    @property
    def is_open(self) -> bool:
        """Whether the task still waits for its owner."""
        return self.closed_at is None

    def describe(self) -> str:
        """One line for a person: who, what, by when."""
        state = "open" if self.closed_at is None else f"closed {self.closed_at.isoformat()}"
        return f"{self.owner}: {self.reason} (due {self.due_at.isoformat()}, {state})"
