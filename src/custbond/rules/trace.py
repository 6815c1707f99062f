"""The trace of a decision: for every rule considered, what happened to it and why.

A :class:`Trace` is a tuple of :class:`Step` values, and ``str(trace)`` reads as a short
report, one line per step:

>>> trace = Trace((
...     Step(Verdict.FIRED, "12 points (1 per 1 USD on 12.40 USD)", rule="points"),
...     Step(Verdict.FAILED, "local.weekday == 'TU'", rule="double tuesdays",
...          values=(("local.weekday", "MO"),)),
... ))
>>> print(trace)
points: fired: 12 points (1 per 1 USD on 12.40 USD)
double tuesdays: not applied: local.weekday == 'TU' is false (local.weekday is 'MO')
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = ["Step", "Trace", "Verdict"]


class Verdict(enum.StrEnum):
    """What happened to a rule, or ``NOTE`` for a step that is not about one rule."""

    FIRED = "fired"
    NOTHING = "nothing"  # its condition held, but it gives nothing for this event
    FAILED = "failed"  # its condition did not hold
    LIMITED = "limited"  # one of its limits was reached
    OUTSIDE = "outside"  # the event fell outside the rule's window
    STOPPED = "stopped"  # an exclusive rule above it fired
    OUTDONE = "outdone"  # its group took another rule instead
    NOTE = "note"


def show(value: Any) -> str:
    """A fact's value as a trace shows it."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return "[" + ", ".join(map(show, value)) + "]"
    return repr(value)


class Step(NamedTuple):
    """One line of a trace.

    ``text`` says what happened: for ``FIRED`` what the rule gave, for ``NOTHING`` what it
    would have given (points per item, with 0 bought), for ``FAILED`` the part
    of the condition that did not hold (and ``values`` the facts it read, with their
    values), for ``LIMITED``, ``OUTSIDE``, ``STOPPED`` and ``OUTDONE`` what stopped it.
    A named tuple: a decision makes one for every rule it considers.
    """

    verdict: Verdict
    text: str
    rule: str | None = None
    values: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        verdict, text, rule = self.verdict, self.text, self.rule
        if verdict is Verdict.NOTE:
            return text if rule is None else f"{rule}: {text}"
        if verdict is Verdict.FIRED:
            return f"{rule}: fired: {text}"
        if verdict is Verdict.NOTHING:
            return f"{rule}: gave nothing: {text}"
        if verdict is Verdict.FAILED:
            found = ", ".join(f"{fact} is {show(value)}" for fact, value in self.values)
            return f"{rule}: not applied: {text} is false" + (f" ({found})" if found else "")
        if verdict is Verdict.OUTSIDE:
            return f"{rule}: not applied: outside its window ({text})"
        if verdict is Verdict.STOPPED:
            return f"{rule}: not considered: {text}"
        return f"{rule}: not applied: {text}"


class Trace(tuple[Step, ...]):
    """The steps of a decision, in the order they were taken. ``str()`` gives a report."""

    __slots__ = ()

    def __str__(self) -> str:
        return "\n".join(map(str, self))

    def __repr__(self) -> str:
        return f"Trace({tuple.__repr__(self)})"

    def fired(self) -> tuple[str, ...]:
        """The names of the rules that fired."""
        return tuple(step.rule for step in self if step.verdict is Verdict.FIRED and step.rule)


def note(text: str) -> Step:
    """A step that is not about one rule."""
    return Step(Verdict.NOTE, text)


def as_trace(steps: Iterable[Step | str]) -> Trace:
    """``steps`` as a Trace; plain strings become notes."""
    if isinstance(steps, Trace):
        return steps
    return Trace(note(step) if isinstance(step, str) else step for step in steps)
