"""The ``custbond`` command: check rule files, explain them, and simulate them over a CSV of
past purchases.

``custbond check FILE...`` loads each rule file and says ``ok`` or what is wrong (with the
file, key, line and column); ``custbond explain FILE`` prints the program in words; and
``custbond simulate FILE --purchases CSV`` replays the purchases through the program and
sums up what it would have given. ``docs/cli.md`` describes them, and the CSV format.

:func:`main` is the entry point of the installed ``custbond`` script and of
``python -m custbond``; it returns the exit status: 0 when all is well, 1 when a file
or the data has a problem (reported without a traceback), 2 for a usage error.

>>> main(["check", "no-such-file.toml"])
no-such-file.toml: cannot be read: No such file or directory
1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from custbond import __version__
from custbond._csv_history import read_purchases
from custbond._explain import explain, summary
from custbond._simulation import Simulation, points_earned, simulate
from custbond.errors import CustbondError, InvalidInput, RuleFileError
from custbond.events import Purchase
from custbond.outcome import Outcome
from custbond.program import Program
from custbond.rules.files import load_program

__all__ = ["main"]

_DOCS = "The commands and the CSV format are described in docs/cli.md."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``custbond`` command with ``argv`` (default: the process's arguments) and
    return its exit status: 0 ok, 1 a problem found in a file or the data, 2 a usage
    error (argparse's own)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help and --version (0), or a usage error (2)
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except BrokenPipeError:  # the reader went away (`custbond ... | head`): stop quietly
        # As the docs of the signal module advise: point stdout at devnull, so that the
        # interpreter's own flush at exit does not fail as well.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as error:  # the output cannot be written (a full disk): say so, once
        if error.filename is not None:  # a file the command reads: its own error line
            raise  # pragma: no cover - the commands report the files they read
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        _error(f"the output cannot be written: {error.strerror or error}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custbond",
        description="Check, explain and simulate custbond rule files (TOML).",
        epilog=_DOCS,
    )
    parser.add_argument("--version", action="version", version=f"custbond {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="check rule files",
        description="Load each rule file and say 'ok' or what is wrong with it.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="a rule file (TOML)")
    check.set_defaults(command=_check)

    explain_ = commands.add_parser(
        "explain",
        help="print a program in words",
        description="Print the program of a rule file in words: its settings, its rules in "
        "the order they are considered for each event type, and its other parts.",
    )
    explain_.add_argument("file", metavar="FILE", help="a rule file (TOML)")
    explain_.set_defaults(command=_explain)

    simulate_ = commands.add_parser(
        "simulate",
        help="replay past purchases through a program",
        description="Replay the purchases of a CSV file through the program of a rule "
        "file, in time order, and sum up what the program would have given.",
        epilog=_DOCS,
    )
    simulate_.add_argument("file", metavar="FILE", help="a rule file (TOML)")
    simulate_.add_argument(
        "--purchases", required=True, metavar="CSV", help="the purchases, as a CSV file"
    )
    simulate_.add_argument("--trace", action="store_true", help="show each purchase's trace")
    simulate_.add_argument("--json", action="store_true", help="print the summary as JSON")
    simulate_.add_argument(
        "--top",
        type=_count,
        default=10,
        metavar="N",
        help="how many of the customers with the most points to show (default: 10)",
    )
    simulate_.set_defaults(command=_simulate)
    return parser


def _count(text: str) -> int:
    """A whole number of at least 0, for ``--top``."""
    if not (text.isascii() and text.isdigit()):  # 0 to 9 only: not "²", nor other scripts' digits
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0; got {text!r}")
    return int(text)


# -- the commands --------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            program = load_program(Path(file))
        except (RuleFileError, OSError) as error:
            print(_problem(file, error))
            status = 1
        else:
            print(f"{file}: ok ({summary(program)})")
    return status


def _explain(args: argparse.Namespace) -> int:
    program = _load(args.file)
    if program is None:
        return 1
    print(f"{args.file}: {summary(program)}")
    print()
    print("\n".join(explain(program)))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    program = _load(args.file)
    if program is None:
        return 1
    try:
        purchases = read_purchases(args.purchases, currency=program.currency)
    except (InvalidInput, OSError) as error:
        _error(_problem(args.purchases, error))
        for more in getattr(error, "__notes__", ()):  # the file's other problems
            _error(more)
        return 1
    events: list[dict[str, Any]] = []

    def keep(purchase: Purchase, outcome: Outcome) -> None:
        events.append(_event_json(purchase, outcome))

    on_outcome: Callable[[Purchase, Outcome], None] | None = None
    if args.trace:
        on_outcome = keep if args.json else _print_trace
    try:
        result = simulate(program, purchases, on_outcome=on_outcome)
    except CustbondError as error:  # a purchase the program refuses: say which, stop
        which = ", ".join(getattr(error, "__notes__", ()))  # the purchase, when known
        _error(f"{args.purchases}, {which}: {error}" if which else str(error))
        return 1
    if args.json:
        report = _simulation_json(result, args, events if args.trace else None)
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(_simulation_lines(result, args)))
    return 0


# -- problems ------------------------------------------------------------------------------


def _load(file: str) -> Program | None:
    """The program of the rule file ``file``; None, with the problem reported, when it
    cannot be loaded."""
    try:
        return load_program(Path(file))
    except (RuleFileError, OSError) as error:
        _error(_problem(file, error))
        return None


def _problem(file: str, error: CustbondError | OSError) -> str:
    """What is wrong with ``file``, in one line that names it. A RuleFileError names the
    file already, and so do the errors of reading a CSV history."""
    if isinstance(error, OSError):
        return f"{file}: cannot be read: {error.strerror or error}"
    return str(error)


def _error(message: str) -> None:
    print(f"custbond: error: {message}", file=sys.stderr)


# -- simulate's report ---------------------------------------------------------------------


def _print_trace(purchase: Purchase, outcome: Outcome) -> None:
    print(_event_head(purchase, outcome))
    for step in outcome.trace:
        print(f"  {step}")
    print()


def _event_head(purchase: Purchase, outcome: Outcome) -> str:
    return (
        f"{purchase.id}: {purchase.customer_id}, {purchase.at.isoformat()}, "
        f"{purchase.amount} {purchase.currency}: {_points(points_earned(outcome))}"
    )


def _points(points: int) -> str:
    return "1 point" if points == 1 else f"{points} points"


def _simulation_lines(result: Simulation, args: argparse.Namespace) -> list[str]:
    """The summary of a simulation, for people."""
    currency = result.currency
    lines = [f"Simulated {args.file} over {args.purchases}"]
    if result.first_at is None or result.last_at is None:
        return [*lines, "Purchases: none"]
    customers = "1 customer" if result.customers == 1 else f"{result.customers} customers"
    lines += [
        f"Purchases: {result.purchases} by {customers}, from {result.first_at.isoformat()} "
        f"to {result.last_at.isoformat()}",
        f"Spend: {result.spend} {currency}",
        f"Points issued: {result.points}" + _worth(result),
    ]
    if result.stamps:
        given = ", ".join(f"{card} {stamps}" for card, stamps in result.stamps)
        lines.append(f"Stamps given: {given}")
    if result.vouchers:
        issued = ", ".join(
            f"{tally.name} {tally.issued}"
            + ("" if tally.value is None else f" (worth up to {tally.value} {currency})")
            for tally in result.vouchers
        )
        lines.append(f"Vouchers issued: {issued}")
    lines += ["", *_rules_table(result)]
    if result.tiers:
        lines += ["", "Customers per tier at the end:"]
        lines += _table([(tier or "no tier", str(count)) for tier, count in result.tiers], "<>")
    if args.top:
        lines += ["", "Customers with the most points:", *_top_table(result, args.top)]
    return lines


def _worth(result: Simulation) -> str:
    value = result.points_value
    if value is None:
        return ""
    return (
        f", worth up to {value.value} {result.currency} at the catalog's best rate "
        f"({value.reward!r}: {value.reward_points} points for {value.reward_value} "
        f"{result.currency})"
    )


def _top_table(result: Simulation, top: int) -> list[str]:
    """The ``top`` customers with the most points (and their tiers, if the program has
    any)."""
    rows = [
        (
            tally.customer_id,
            f"{tally.purchases} purchase{'s' if tally.purchases != 1 else ''}",
            f"{tally.spend} {result.currency}",
            _points(tally.points),
            *((tally.tier or "no tier",) if result.tiers else ()),
        )
        for tally in result.by_customer[:top]
    ]
    return _table(rows, "<>>><" if result.tiers else "<>>>")


def _rules_table(result: Simulation) -> list[str]:
    """Each rule for purchases: how often it fired, the points it added, and the stamps it
    gave (a column only when some rule gives stamps); "-" for a rule that gives none."""
    stamps = any(tally.stamps is not None for tally in result.rules)
    head = ("rule", "fired", "points added", *(("stamps",) if stamps else ()))
    rows = [
        (
            tally.name,
            str(tally.fired),
            _or_dash(tally.points),
            *((_or_dash(tally.stamps),) if stamps else ()),
        )
        for tally in result.rules
    ]
    table = _table([head, *rows], "<>>>" if stamps else "<>>")
    return ["Rules for purchases, in the order they are considered:", *table]


def _or_dash(number: int | None) -> str:
    return "-" if number is None else str(number)


def _table(rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Rows as lines indented by two spaces, each column aligned as ``align`` says: one
    ``<`` (left) or ``>`` (right) per column."""
    if not rows:
        return []
    widths = [max(len(row[index]) for row in rows) for index in range(len(align))]
    return [
        "  "
        + "  ".join(
            cell.ljust(width) if side == "<" else cell.rjust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ).rstrip()
        for row in rows
    ]


def _event_json(purchase: Purchase, outcome: Outcome) -> dict[str, Any]:
    return {
        "id": purchase.id,
        "customer_id": purchase.customer_id,
        "at": purchase.at.isoformat(),
        "amount": str(purchase.amount),
        "points": points_earned(outcome),
        "trace": [str(step) for step in outcome.trace],
    }


def _simulation_json(
    result: Simulation, args: argparse.Namespace, events: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The summary of a simulation as JSON values: Decimals and times as strings."""
    value = result.points_value
    report: dict[str, Any] = {
        "program": args.file,
        "purchases_file": args.purchases,
        "currency": result.currency,
        "purchases": result.purchases,
        "customers": result.customers,
        "first_at": None if result.first_at is None else result.first_at.isoformat(),
        "last_at": None if result.last_at is None else result.last_at.isoformat(),
        "spend": str(result.spend),
        "points": result.points,
        "points_value": None
        if value is None
        else {
            "value": str(value.value),
            "reward": value.reward,
            "reward_points": value.reward_points,
            "reward_value": str(value.reward_value),
        },
        "stamps": dict(result.stamps),
        "vouchers": [
            {
                "name": tally.name,
                "issued": tally.issued,
                "value": None if tally.value is None else str(tally.value),
            }
            for tally in result.vouchers
        ],
        "rules": [
            {
                "name": tally.name,
                "fired": tally.fired,
                "points_added": tally.points,
                "stamps": tally.stamps,
            }
            for tally in result.rules
        ],
        "tiers": [{"tier": tier, "customers": count} for tier, count in result.tiers],
        "top_customers": [
            {
                "customer_id": tally.customer_id,
                "purchases": tally.purchases,
                "spend": str(tally.spend),
                "points": tally.points,
                "tier": tally.tier,
            }
            for tally in result.by_customer[: args.top]
        ],
    }
    if events is not None:
        report["events"] = events
    return report
