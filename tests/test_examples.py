"""The examples run, and tell the story they claim to tell, so they can never rot."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    path = str(EXAMPLES / name)
    argv = sys.argv
    sys.argv = [path]  # as if run from the command line, without arguments
    try:
        runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = argv
    return capsys.readouterr().out.splitlines()


@pytest.fixture(scope="module")
def coffee_bar() -> list[str]:
    """The demo's output, run the way ``make demo`` runs it: as a script."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "coffee_bar.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.splitlines()


def line_after(lines: list[str], start: str) -> str:
    """The line that follows the first line starting with ``start``."""
    for index, line in enumerate(lines):
        if line.startswith(start):
            return lines[index + 1]
    raise AssertionError(f"no line starts with {start!r}")


class TestCoffeeBar:
    def test_points_arrive_pending(self, coffee_bar: list[str]) -> None:
        first = "Mon 02 Mar 2026 08:05  order-001: flat-white, 3.80 EUR, earns 38 points"
        assert first in coffee_bar
        assert "available   0 | pending  38 | held  0" in line_after(coffee_bar, first)

    def test_points_become_available_after_the_return_window(self, coffee_bar: list[str]) -> None:
        balance = line_after(coffee_bar, "Mon 16 Mar 2026 09:00")
        assert "available  38 | pending 350 |" in balance
        assert "38 valid through 31 Mar 2027" in balance

    def test_a_return_claws_back_the_points_of_its_order(self, coffee_bar: list[str]) -> None:
        assert "Tue 17 Mar 2026 12:30  she returns the beans of order-004: -165 points" in (
            coffee_bar
        )
        assert any(
            line.endswith("reversed   -165    -165       return-001  returned")
            for line in coffee_bar
        )

    def test_her_complaint_is_answered_with_an_apology_and_a_voucher(
        self, coffee_bar: list[str]
    ) -> None:
        # Two opening hours from 08:22; the apology goes out when the barista answers.
        assert "to be answered by 10:22" in line_after(coffee_bar, "Thu 02 Apr 2026 08:22")
        assert "mail to maya@example.com: We are sorry" in line_after(
            coffee_bar, "Thu 02 Apr 2026 08:47"
        )
        assert "Thu 02 Apr 2026 08:52  resolved: a 3.80 EUR voucher for her next flat white" in (
            coffee_bar
        )

    def test_she_redeems_and_pays_with_held_points(self, coffee_bar: list[str]) -> None:
        assert "available 185 | pending 143 | held  0" in line_after(
            coffee_bar, "Wed 01 Apr 2026 08:30  a free flat white"
        )
        assert "| held 42 |" in line_after(coffee_bar, "Thu 02 Apr 2026 07:50")
        assert "available 143 | pending 143 | held  0" in line_after(
            coffee_bar, "Thu 02 Apr 2026 08:02"
        )

    def test_the_rest_expire_a_year_later(self, coffee_bar: list[str]) -> None:
        assert "Sun 02 May 2027 03:00  the nightly run_due() writes down 324 expired points:" in (
            coffee_bar
        )
        assert "lifetime: earned 569, redeemed 80, reversed 165, expired 324" in " ".join(
            coffee_bar
        )
        expired = [line for line in coffee_bar if "  expired  " in line]
        assert len(expired) == 7
        assert expired[-1].startswith(" 28  2027-05-01 00:00  expired     -38")

    def test_three_regulars_are_held_by_points_by_a_person_and_a_box_and_by_nothing(
        self, coffee_bar: list[str]
    ) -> None:
        summaries = [line.strip() for line in coffee_bar if " at 2026-04-10 08:00+02:00: " in line]
        assert [line.split(": ", 1)[1] for line in summaries] == [
            "held by financial (moderate, 30)",
            "held by social (strong, 60) and structural (moderate, 50)",
            "held by no bond",
        ]
        assert "Held by no bond, or by one weak bond: tom." in coffee_bar

    def test_the_state_survives_a_restart_in_a_new_process(self, coffee_bar: list[str]) -> None:
        before = line_after(coffee_bar, "The till's process ends. Everything is in corner_bean.db")
        after = line_after(coffee_bar, "A new process opens corner_bean.db and finds Maya Okafor")
        assert "available 248 | pending  76 | held  0" in before
        assert before == after

    def test_the_statement_lists_every_entry(self, coffee_bar: list[str]) -> None:
        header = coffee_bar.index("The statement of Maya Okafor, every entry kept:")
        rows = coffee_bar[header + 2 :]
        assert [int(row.split()[0]) for row in rows] == list(range(1, 29))

    def test_custbond_writes_to_her_welcome_apology_birthday_and_expiring_points(
        self, coffee_bar: list[str]
    ) -> None:
        mail = [line.strip() for line in coffee_bar if line.strip().startswith("mail to")]
        assert [
            "mail to maya@example.com: Welcome to our rewards program",
            "mail to maya@example.com: We are sorry",
            "mail to maya@example.com: Happy birthday!",
            "mail to maya@example.com: Your points expire on 2027-04-01",
        ] == mail
        assert "mail to maya@example.com: Happy birthday!" in line_after(
            coffee_bar, "Mon 14 Sep 2026 09:00  her birthday"
        )

    def test_the_story_is_short_and_the_same_every_time(
        self, coffee_bar: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert len(coffee_bar) <= 120
        assert run_example("coffee_bar.py", capsys) == coffee_bar
