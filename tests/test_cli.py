"""The ``custbond`` command: ``check``, ``explain`` and ``simulate``, called through
``main([...])`` in a temporary directory, so that file names print as they were given."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from custbond.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "rules"
DOCS = ROOT / "docs" / "cli.md"

# Points per dollar, doubled on Tuesdays (in New York), 5 points per pastry on top, a coffee
# card of 3 stamps, silver from 30 USD spent (x1.5 after that), and a catalog that prices a
# point at 5 cents.
PROGRAM = """\
[program]
currency = "USD"
time_zone = "America/New_York"

[[rules]]
name = "double tuesdays"
on = "Purchase"
when = "local.weekday == 'TU'"
then = [{ type = "multiplier", factor = "2" }]

[[rules]]
name = "pastry bonus"
on = "Purchase"
then = [{ type = "points_per_item", points = 5, tag = "pastry" }]

[[cards]]
name = "coffee"
stamps = 3
tag = "coffee"
reward = { name = "free coffee", sku = "latte", value = "4.50" }

[tiers]
levels = [{ name = "silver", spend = "30", multiplier = "1.5" }]

[[rewards]]
name = "5 off"
points = 100
offer = { name = "5 off", value = "5.00" }
"""

# 2026-05-04 is a Monday. The last purchase comes first in the file; o-3 has two items.
PURCHASES = """\
id,customer_id,at,amount,sku,quantity,unit_price,tags
o-4,ada,2026-05-06T09:00:00-04:00,13.50,latte,3,4.50,coffee
o-1,ada,2026-05-04T09:00:00-04:00,9.00,latte,2,4.50,coffee
o-2,ada,2026-05-05T09:00:00-04:00,12.40,,,,
o-3,bob,2026-05-05T10:00:00-04:00,7.50,latte,1,4.50,coffee
o-3,bob,2026-05-05T10:00:00-04:00,7.50,croissant,1,3.00,pastry|bakery
"""


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestCheck:
    def test_says_ok_with_what_each_file_holds(self, capsys: pytest.CaptureFixture[str]) -> None:
        coffee = str(EXAMPLES / "coffee_bar.toml")
        write("program.toml", PROGRAM)

        status, out, err = run(capsys, "check", coffee, "program.toml")

        assert (0, "") == (status, err)
        assert [
            f"{coffee}: ok (0 rules, 1 card)",
            "program.toml: ok (2 rules, 1 card, 1 tier level, 1 reward)",
        ] == out.splitlines()

    def test_every_example_rule_file_is_ok(self, capsys: pytest.CaptureFixture[str]) -> None:
        files = sorted(str(path) for path in EXAMPLES.glob("*.toml"))

        status, out, _ = run(capsys, "check", *files)

        assert 0 == status
        assert [f"{file}: ok" for file in files] == [
            line.split(" (")[0] for line in out.splitlines()
        ]

    def test_names_the_file_key_line_and_column_of_a_problem_and_fails(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("typo.toml", '[[rules]]\nname = "x"\non = "Purchase"\nprority = 1\nthen = []\n')
        write("good.toml", PROGRAM)

        status, out, err = run(capsys, "check", "typo.toml", "good.toml")

        assert (1, "") == (status, err)
        assert [
            'typo.toml, rules[0].prority, line 4, column 1: unknown key "prority" in a rule '
            '(hint: did you mean "priority"?)',
            "good.toml: ok (2 rules, 1 card, 1 tier level, 1 reward)",
        ] == out.splitlines()

    def test_reports_a_value_at_fault_with_its_expectation(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("expiry.toml", '[points]\nexpire_after = "12 monts"\n')

        status, out, _ = run(capsys, "check", "expiry.toml")

        assert 1 == status
        assert (
            "expiry.toml, points.expire_after, line 2, column 16: must be a duration: ISO 8601 "
            '("P14D", "PT3H"), words ("14 days") or { seconds = N }; got "12 monts"\n'
        ) == out

    def test_a_missing_file_is_reported_without_a_traceback(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out, err = run(capsys, "check", "missing.toml")

        assert (1, "") == (status, err)
        assert "missing.toml: cannot be read: No such file or directory\n" == out

    def test_a_directory_is_reported_as_unreadable(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("rules").mkdir()

        status, out, _ = run(capsys, "check", "rules")

        assert 1 == status
        assert out.startswith("rules: cannot be read: ")

    def test_without_a_file_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, "check")

        assert (2, "") == (status, out)
        assert "the following arguments are required: FILE" in err


class TestExplain:
    def test_tells_the_coffee_bar_card_in_words(self, capsys: pytest.CaptureFixture[str]) -> None:
        coffee = str(EXAMPLES / "coffee_bar.toml")

        status, out, err = run(capsys, "explain", coffee)

        assert (0, "") == (status, err)
        lines = out.splitlines()
        assert f"{coffee}: 0 rules, 1 card" == lines[0]
        for line in [
            "Currency: USD",
            "Time zone: America/Chicago",
            "Points: available at once; they never expire; a return never takes the balance "
            "below zero",
            "Rules for Purchase, in the order they are considered:",
            "  1. card coffee",
            "     gives: 1 stamp on card 'coffee' per item tagged 'coffee' bought",
            "Punch cards:",
            "  coffee: 10 stamps (one per item tagged 'coffee' bought) fill it, for "
            "'free coffee' (coffee, worth up to 5.50 USD, valid for 3 months); stamps lapse "
            "1 year after the first",
        ]:
            assert line in lines

    def test_lists_rules_by_descending_priority_then_name_per_event_type(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(
            "order.toml",
            """\
[[groups]]
name = "promos"
take = "best"

[[rules]]
name = "b"
on = "Purchase"
then = [{ type = "fixed_points", points = 1 }]
priority = 5
group = "promos"

[[rules]]
name = "a"
on = ["Purchase", "Visit"]
when = "state.visits >= 3"
then = [{ type = "fixed_points", points = 2 }, { type = "tag", tag = "regular" }]
priority = 5
group = "promos"
limits = [{ times = 1, per = "week" }, { budget = 100 }]

[[rules]]
name = "z"
on = "Purchase"
then = [{ type = "multiplier", factor = "3" }]
priority = 10
exclusive = true
window = { starts = 2026-06-01T00:00:00Z, ends = 2026-07-01T00:00:00Z }
description = "June triples."

[[rules]]
name = "m"
on = "Purchase"
then = [{ type = "points_per_spend", points = 2, per = "5", sku = "beans" }]
""",
        )

        status, out, _ = run(capsys, "explain", "order.toml")

        assert 0 == status
        text = out.split("Rules for Purchase, in the order they are considered:\n")[1]
        assert (
            """\
  1. z (priority 10; exclusive: when it applies, no lower rule does but the base rule)
     open: from 2026-06-01T00:00:00+00:00, until 2026-07-01T00:00:00+00:00
     gives: spend points x3
     about: June triples.
  2. a (priority 5; group 'promos')
     when: state.visits >= 3
     gives: 2 points; tag 'regular'
     limits: once per calendar week; a budget of 100 points
  3. b (priority 5; group 'promos')
     gives: 1 point
  4. m
     gives: points, 2 per 5 USD on items 'beans'
  5. points per spend
     gives: points, 1 per 1 USD

Rules for Visit, in the order they are considered:
  1. a (priority 5; group 'promos')
     when: state.visits >= 3
     gives: 2 points; tag 'regular'
     limits: once per calendar week; a budget of 100 points

Groups:
  promos: only the rule that gives the most applies (points, or else money off)
"""
            == text
        )

    def test_tells_tiers_catalog_coupons_achievements_and_referrals(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(
            "parts.toml",
            PROGRAM
            + """
[[coupons]]
code = "SPRING"
discount = { percent = "15", tag = "pastry" }
ends = 2026-06-21T00:00:00-04:00
uses = 500

[[achievements]]
name = "regular"
target = 8
counts = "visits"
per = "month"
points = 40
tag = "regular"

[referrals]
referrer_points = 300
referee_gift = { name = "welcome pastry", sku = "croissant" }
when = "event.amount >= 15"
""",
        )

        status, out, _ = run(capsys, "explain", "parts.toml")

        assert 0 == status
        assert (
            """\
Tiers, from the lowest up (reached on a rolling 1 year; kept 1 year, then reviewed after \
a grace of 30 days; customers are told 30 days before a review that would lower them):
  silver: 30 USD spent; spend points x1.5

Catalog:
  5 off: 100 points for '5 off' (5.00 USD off)

Coupons:
  SPRING: discount 15% on items tagged 'pastry'; until 2026-06-21T00:00:00-04:00; \
500 uses in all; once per customer

Achievements:
  regular: 8 visits in a calendar month give 40 points and tag 'regular'

Referrals: on the referee's first purchase where event.amount >= 15, the referrer gets \
300 points; the referee gets 'welcome pastry' (croissant)
"""
            in out
        )

    def test_tells_cashback_and_a_money_budget(self, capsys: pytest.CaptureFixture[str]) -> None:
        write(
            "card.toml",
            '[[rules]]\nname = "harbour card"\non = "Purchase"\n'
            "when = \"event.payment == 'harbour'\"\n"
            'then = [{ type = "cashback", percent = "2", valid_for = "P3M" }]\n'
            'limits = [{ money_budget = "500.00" }]\n',
        )

        status, out, _ = run(capsys, "explain", "card.toml")

        assert 0 == status
        assert (
            "  1. harbour card\n"
            "     when: event.payment == 'harbour'\n"
            "     gives: cashback 2%, as a money voucher (rounded down, valid for 3 months)\n"
            "     limits: a budget of 500.00 USD\n"
        ) in out

    def test_a_bad_rule_file_is_an_error_on_stderr(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("bad.toml", '[program]\ncurrency = "usd"\n')

        status, out, err = run(capsys, "explain", "bad.toml")

        assert (1, "") == (status, out)
        assert err.startswith("custbond: error: bad.toml, program.currency, line 2, column 12: ")


class TestSimulate:
    def test_sums_up_what_the_program_gave(self, capsys: pytest.CaptureFixture[str]) -> None:
        # o-1 (Monday): 9 points, 2 stamps. o-2 (Tuesday): 12.4 x2 = 24. o-3 (Tuesday):
        # (7.5 + 5 for the pastry) x2 = 25, 1 stamp. o-4: 13 points, 3 stamps fill ada's
        # card (2 + 3 = 5 of 3): a voucher. Her 34.90 spent make her silver after it.
        # Points: 9 + 24 + 25 + 13 = 71, worth 71 x 5.00 / 100 = 3.55 at the catalog's rate.
        # Added by double tuesdays: (24 - 12) + (25 - 12) = 25; by the pastry bonus:
        # 25 - 15 = 10; by points per spend: 9 + 24 + (25 - 10) + 13 = 61.
        write("program.toml", PROGRAM)
        write("purchases.csv", PURCHASES)

        status, out, err = run(capsys, "simulate", "program.toml", "--purchases", "purchases.csv")

        assert (0, "") == (status, err)
        assert (
            """\
Simulated program.toml over purchases.csv
Purchases: 4 by 2 customers, from 2026-05-04T09:00:00-04:00 to 2026-05-06T09:00:00-04:00
Spend: 42.40 USD
Points issued: 71, worth up to 3.55 USD at the catalog's best rate ('5 off': 100 points \
for 5.00 USD)
Stamps given: coffee 6
Vouchers issued: free coffee 1 (worth up to 4.50 USD)

Rules for purchases, in the order they are considered:
  rule              fired  points added  stamps
  card coffee           3             -       6
  double tuesdays       2            25       -
  pastry bonus          1            10       -
  points per spend      4            61       -
  tier silver           0             0       -

Customers per tier at the end:
  silver   1
  no tier  1

Customers with the most points:
  ada  3 purchases  34.90 USD  46 points  silver
  bob   1 purchase   7.50 USD  25 points  no tier
"""
            == out
        )

    def test_json_gives_the_same_summary_with_decimals_as_strings(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write("purchases.csv", PURCHASES)

        status, out, _ = run(
            capsys,
            "simulate",
            "program.toml",
            "--purchases",
            "purchases.csv",
            "--json",
            "--top",
            "1",
        )

        assert 0 == status
        report = json.loads(out)
        assert {
            "program": "program.toml",
            "purchases_file": "purchases.csv",
            "currency": "USD",
            "purchases": 4,
            "customers": 2,
            "first_at": "2026-05-04T09:00:00-04:00",
            "last_at": "2026-05-06T09:00:00-04:00",
            "spend": "42.40",
            "points": 71,
            "points_value": {
                "value": "3.55",
                "reward": "5 off",
                "reward_points": 100,
                "reward_value": "5.00",
            },
            "stamps": {"coffee": 6},
            "vouchers": [{"name": "free coffee", "issued": 1, "value": "4.50"}],
            "rules": [
                {"name": "card coffee", "fired": 3, "points_added": None, "stamps": 6},
                {"name": "double tuesdays", "fired": 2, "points_added": 25, "stamps": None},
                {"name": "pastry bonus", "fired": 1, "points_added": 10, "stamps": None},
                {"name": "points per spend", "fired": 4, "points_added": 61, "stamps": None},
                {"name": "tier silver", "fired": 0, "points_added": 0, "stamps": None},
            ],
            "tiers": [{"tier": "silver", "customers": 1}, {"tier": None, "customers": 1}],
            "top_customers": [
                {
                    "customer_id": "ada",
                    "purchases": 3,
                    "spend": "34.90",
                    "points": 46,
                    "tier": "silver",
                }
            ],
        } == report

    def test_trace_shows_each_purchase_in_time_order(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write("purchases.csv", PURCHASES)

        status, out, _ = run(
            capsys, "simulate", "program.toml", "--purchases", "purchases.csv", "--trace"
        )

        assert 0 == status
        traces = out.split("Simulated program.toml")[0]
        heads = [line for line in traces.splitlines() if line and not line.startswith("  ")]
        assert [
            "o-1: ada, 2026-05-04T09:00:00-04:00, 9.00 USD: 9 points",
            "o-2: ada, 2026-05-05T09:00:00-04:00, 12.40 USD: 24 points",
            "o-3: bob, 2026-05-05T10:00:00-04:00, 7.50 USD: 25 points",
            "o-4: ada, 2026-05-06T09:00:00-04:00, 13.50 USD: 13 points",
        ] == heads
        assert "  double tuesdays: fired: spend points x2\n" in traces

    def test_json_trace_gives_each_purchase_its_trace(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write("purchases.csv", PURCHASES)

        status, out, _ = run(
            capsys, "simulate", "program.toml", "--purchases", "purchases.csv", "--json", "--trace"
        )

        assert 0 == status
        events = json.loads(out)["events"]
        assert [("o-1", 9), ("o-2", 24), ("o-3", 25), ("o-4", 13)] == [
            (event["id"], event["points"]) for event in events
        ]
        assert {
            "id": "o-3",
            "customer_id": "bob",
            "at": "2026-05-05T10:00:00-04:00",
            "amount": "7.50",
        } == {key: events[2][key] for key in ("id", "customer_id", "at", "amount")}
        assert "double tuesdays: fired: spend points x2" in events[2]["trace"]

    def test_an_empty_history_simulates_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        write("program.toml", PROGRAM)
        write("purchases.csv", "id,customer_id,at,amount\n")

        status, out, _ = run(capsys, "simulate", "program.toml", "--purchases", "purchases.csv")

        assert (0, "Simulated program.toml over purchases.csv\nPurchases: none\n") == (status, out)

    def test_a_missing_history_is_an_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        write("program.toml", PROGRAM)

        status, out, err = run(capsys, "simulate", "program.toml", "--purchases", "gone.csv")

        assert (1, "") == (status, out)
        assert "custbond: error: gone.csv: cannot be read: No such file or directory\n" == err

    def test_a_bad_rule_file_stops_before_the_history_is_read(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out, err = run(capsys, "simulate", "gone.toml", "--purchases", "gone.csv")

        assert (1, "") == (status, out)
        assert "custbond: error: gone.toml: cannot be read: No such file or directory\n" == err

    @pytest.mark.parametrize(
        "top", ["\u00b2", "\u0663", "-1"], ids=["superscript", "arabic", "negative"]
    )
    def test_top_takes_digits_0_to_9_only(
        self, top: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write("h.csv", HEADER + GOOD)

        status, out, err = run(
            capsys, "simulate", "program.toml", "--purchases", "h.csv", "--top", top
        )

        assert (2, "") == (status, out)
        assert f"argument --top: must be a whole number of at least 0; got {top!r}" in err

    def test_needs_the_purchases(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, "simulate", "program.toml")

        assert (2, "") == (status, out)
        assert "the following arguments are required: --purchases" in err


HEADER = "id,customer_id,at,amount,currency,sku,quantity,unit_price,tags\n"
GOOD = "o-1,ada,2026-05-04T09:00:00-04:00,9.00,USD,latte,2,4.50,coffee\n"
AT = "an ISO 8601 date-time with a UTC offset, such as 2026-05-05T09:30:00-04:00"

BAD_HISTORIES = {
    "naive time": (
        HEADER + "o-1,ada,2026-05-04T09:00:00,9.00,,,,,\n",
        f"h.csv, row 2, column 'at' must be {AT} (a time without one is ambiguous); "
        "got '2026-05-04T09:00:00'",
    ),
    "a date only": (
        HEADER + "o-1,ada,2026-05-04,9.00,,,,,\n",
        f"h.csv, row 2, column 'at' must be {AT} (a time without one is ambiguous); "
        "got '2026-05-04'",
    ),
    "not a time": (
        HEADER + GOOD + "o-2,ada,yesterday,9.00,,,,,\n",
        f"h.csv, row 3, column 'at' must be {AT}; got 'yesterday'",
    ),
    "a decimal comma": (
        HEADER + 'o-1,ada,2026-05-04T09:00:00Z,"9,00",,,,,\n',
        "h.csv, row 2, column 'amount' must be a decimal number such as 12.40; got '9,00'",
    ),
    "a float's exponent": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9e0,,,,,\n",
        "h.csv, row 2, column 'amount' must be a decimal number such as 12.40; got '9e0'",
    ),
    "a negative amount": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,-9.00,,,,,\n",
        "h.csv, row 2, column 'amount' must be a decimal number such as 12.40; got '-9.00'",
    ),
    "more cents than the currency has": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.005,,,,,\n",
        "h.csv, row 2, column 'amount' must be an amount with at most 2 decimal places in "
        "USD; got '9.005'",
    ),
    "another currency": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,EUR,,,,\n",
        "h.csv, row 2, column 'currency' must be the program's USD; got 'EUR'",
    ),
    "no customer": (
        HEADER + "o-1,,2026-05-04T09:00:00Z,9.00,,,,,\n",
        "h.csv, row 2, column 'customer_id' must be a non-empty string of at most 200 "
        "characters, not padded with spaces; got ''",
    ),
    "items that do not add up": (
        HEADER + GOOD + "o-1,ada,2026-05-04T09:00:00-04:00,9.00,USD,scone,1,3.00,\n",
        "h.csv, row 2, column 'amount' must be the total of the items on rows 2, 3 "
        "(12.00); got '9.00'",
    ),
    "an item that is not the amount": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,latte,1,4.50,\n",
        "h.csv, row 2, column 'amount' must be the total of the items on row 2 (4.50); got '9.00'",
    ),
    "a sku padded with spaces": (
        HEADER + 'o-1,ada,2026-05-04T09:00:00Z,4.50,,"latte ",1,4.50,\n',
        "h.csv, row 2, column 'sku' must be a non-empty string of at most 200 characters, "
        "not padded with spaces; got 'latte '",
    ),
    "rows of one purchase that disagree": (
        HEADER + GOOD + "o-1,ada,2026-05-04T10:00:00-04:00,9.00,USD,latte,2,4.50,coffee\n",
        "h.csv, row 3, column 'at' must be the same as on row 2 "
        "('2026-05-04T09:00:00-04:00'): rows with the same id are one purchase; "
        "got '2026-05-04T10:00:00-04:00'",
    ),
    "a second row without an item": (
        HEADER + GOOD + "o-1,ada,2026-05-04T09:00:00-04:00,9.00,USD,,,,\n",
        "h.csv, row 3, column 'sku' must be a sku: rows with the same id are one purchase, "
        "one item per row; got ''",
    ),
    "an item without a sku": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,,2,4.50,\n",
        "h.csv, row 2, column 'sku' must be a sku: the row gives the quantity and unit_price "
        "of an item; got ''",
    ),
    "no quantity": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,latte,0,4.50,\n",
        "h.csv, row 2, column 'quantity' must be a whole number from 1 to 999999999 (1 "
        "when empty); got '0'",
    ),
    "a quantity too large": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,latte," + "9" * 5000 + ",4.50,\n",
        "h.csv, row 2, column 'quantity' must be a whole number from 1 to 999999999 (1 "
        f"when empty); got '{'9' * 5000}'",
    ),
    "a time at the end of the calendar": (
        HEADER + "o-1,ada,9999-12-31T23:30:00-01:00,9.00,,,,,\n",
        f"h.csv, row 2, column 'at' must be {AT}, in the years 1900 to 8999; "
        "got '9999-12-31T23:30:00-01:00'",
    ),
    "no unit price": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,latte,2,,\n",
        "h.csv, row 2, column 'unit_price' must be a decimal number such as 4.50 (the price "
        "of one item); got ''",
    ),
    "an empty tag": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00,,latte,2,4.50,coffee||hot\n",
        "h.csv, row 2, column 'tags' must be tags separated by '|', such as coffee|hot; "
        "got 'coffee||hot'",
    ),
    "a missing field": (
        HEADER + "o-1,ada,2026-05-04T09:00:00Z,9.00\n",
        "h.csv, row 2 must be 9 fields, one for each column of the header; "
        "got 'o-1,ada,2026-05-04T09:00:00Z,9.00'",
    ),
    "a missing column": (
        "id,customer_id,amount\n",
        "h.csv, row 1 must be a header row with the columns id, customer_id, at, amount and "
        "any of currency, channel, payment, sku, quantity, unit_price, tags (missing: at); "
        "got 'id,customer_id,amount'",
    ),
    "an unknown column": (
        "id,customer_id,at,amount,chanel\n",
        "h.csv, row 1 must be a header row with the columns id, customer_id, at, amount and "
        "any of currency, channel, payment, sku, quantity, unit_price, tags (unknown column "
        "'chanel'); got 'id,customer_id,at,amount,chanel'",
    ),
    "an empty file": (
        "",
        "h.csv must be a header row with the columns id, customer_id, at, amount and any of "
        "currency, channel, payment, sku, quantity, unit_price, tags; got ''",
    ),
}


class TestBadHistories:
    @pytest.mark.parametrize(
        ("history", "message"), BAD_HISTORIES.values(), ids=list(BAD_HISTORIES)
    )
    def test_a_bad_row_names_file_row_column_value_and_expectation(
        self, history: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write("h.csv", history)

        status, out, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert (1, "") == (status, out)
        assert f"custbond: error: {message}\n" == err

    def test_every_bad_row_is_reported_in_row_order_each_on_a_line_of_its_own(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write(
            "h.csv",
            HEADER
            + GOOD
            + "o-2,ada,2026-05-04T09:00:00,9.00,,,,,\n"  # no offset
            + "o-3,bea,2026-05-04T09:00:00Z\n"  # too few fields
            + "o-4,bea,2026-05-04T09:00:00Z,9,00,,,,,\n",  # a decimal comma: one too many
        )

        status, out, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert (1, "") == (status, out)
        assert [
            f"custbond: error: h.csv, row 3, column 'at' must be {AT} (a time without one is "
            "ambiguous); got '2026-05-04T09:00:00'",
            "custbond: error: h.csv, row 4 must be 9 fields, one for each column of the "
            "header; got 'o-3,bea,2026-05-04T09:00:00Z'",
            "custbond: error: h.csv, row 5 must be 9 fields, one for each column of the "
            "header; got 'o-4,bea,2026-05-04T09:00:00Z,9,00,,,,,'",
        ] == err.splitlines()

    def test_each_bad_row_of_a_purchase_of_several_rows_is_reported(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write(
            "h.csv",
            HEADER
            + "o-1,ada,2026-05-04T09:00:00Z,13.50,USD,latte,1,4.50,coffee\n"
            + "o-2,bea,2026-05-04T09:00:00Z,9.00,USD,latte,x,4.50,coffee\n"
            + "o-1,ada,2026-05-04T09:00:00Z,13.50,USD,latte,y,4.50,coffee\n"
            + "o-2,bea,2026-05-04T09:00:00,9.00,USD,latte,2,4.50,coffee\n",
        )

        status, _, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        quantity = "column 'quantity' must be a whole number from 1 to 999999999 (1 when empty)"
        assert 1 == status
        assert [
            f"custbond: error: h.csv, row 3, {quantity}; got 'x'",
            f"custbond: error: h.csv, row 4, {quantity}; got 'y'",
            "custbond: error: h.csv, row 5, column 'at' must be the same as on row 3 "
            "('2026-05-04T09:00:00Z'): rows with the same id are one purchase; "
            "got '2026-05-04T09:00:00'",
        ] == err.splitlines()

    def test_a_row_is_numbered_by_the_line_it_starts_on_as_an_editor_shows_it(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write(
            "h.csv",
            "id,customer_id,at,amount,channel\n"
            'o-1,ada,2026-05-04T09:00:00Z,1.00,"app\nstore"\n'  # a value over two lines
            "   \n"  # spaces alone: skipped, like a blank line
            "o-2,ada,2026-05-04T09:00:00,1.00,app\n",
        )

        status, _, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert 1 == status
        assert err.startswith("custbond: error: h.csv, row 5, column 'at' must be")

    def test_each_row_without_an_id_is_named_for_it_and_rows_of_empty_fields_are_skipped(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        write(
            "h.csv",
            "id,customer_id,at,amount\n"
            ",ada,2026-05-04T09:00:00Z,1.00\n"
            ",bea,2026-05-05T09:00:00Z,2.00\n"
            ",,,\n",  # what a spreadsheet writes below its last row
        )

        status, _, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        empty = "column 'id' must be a non-empty string of at most 200 characters"
        assert 1 == status
        assert [
            f"custbond: error: h.csv, row 2, {empty}, not padded with spaces; got ''",
            f"custbond: error: h.csv, row 3, {empty}, not padded with spaces; got ''",
        ] == err.splitlines()

    def test_a_file_with_very_many_bad_rows_reports_the_first_twenty(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write("program.toml", PROGRAM)
        bad = "".join(f"o-{n},ada,2026-05-04T09:00:00,9.00,,,,,\n" for n in range(2, 27))
        write("h.csv", HEADER + GOOD + bad)

        status, _, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        lines = err.splitlines()
        assert (1, 21) == (status, len(lines))
        assert lines[0].startswith("custbond: error: h.csv, row 3, column 'at'")
        assert lines[19].startswith("custbond: error: h.csv, row 22, column 'at'")
        assert "custbond: error: and 5 more problems" == lines[20]

    def test_text_that_is_not_utf8_names_its_row(self, capsys: pytest.CaptureFixture[str]) -> None:
        write("program.toml", PROGRAM)
        Path("h.csv").write_bytes(b"id,customer_id,at,amount\no-1,\xe9mile,x,1\n")

        status, _, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert 1 == status
        assert "custbond: error: h.csv, row 2 must be UTF-8 text; got b'\\xe9'\n" == err


class TestHistories:
    def test_optional_columns_and_spaces_after_commas_are_read(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(
            "program.toml",
            PROGRAM
            + """
[[rules]]
name = "app orders"
on = "Purchase"
when = "event.channel == 'app' and event.payment == 'card'"
then = [{ type = "fixed_points", points = 7 }]
""",
        )
        write(
            "h.csv",
            "id, customer_id, at, amount, channel, payment\n"
            "o-1, ada, 2026-05-04T09:00:00Z, 1.00, app, card\n"
            "\n"
            "o-2, ada, 2026-05-04T10:00:00Z, 1.00, store, card\n",
        )

        status, out, _ = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert 0 == status
        assert "Points issued: 9, " in out  # 1 + 7, and 1
        assert re.search(r"^  app orders +1 +7 +-$", out, re.MULTILINE)


class TestSimulateAtTheEdges:
    def test_durations_that_carry_a_purchase_past_the_calendar_are_one_line(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(
            "program.toml",
            '[tiers]\nkeep_for = "999 years"\ngrace = "999 years"\n'
            '[[tiers.levels]]\nname = "gold"\nspend = "100"\n',
        )
        write("h.csv", "id,customer_id,at,amount\no-1,ada,8999-12-31T00:00:00Z,500.00\n")

        status, out, err = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert (1, "") == (status, out)
        assert err.startswith(
            "custbond: error: h.csv, purchase 'o-1': at must be a time the program's durations"
        )
        assert 1 == len(err.splitlines())

    def test_points_beyond_28_digits_are_valued_to_the_cent(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(
            "program.toml",
            "[earn]\npoints = 100000000000000000000000000000\n"
            '[[rewards]]\nname = "5 off"\npoints = 100\n'
            'offer = { name = "5 off", value = "5.00" }\n',
        )
        write("h.csv", "id,customer_id,at,amount\no-1,ada,2025-03-03T08:15:00-05:00,9.00\n")

        status, out, _ = run(capsys, "simulate", "program.toml", "--purchases", "h.csv")

        assert 0 == status
        assert "worth up to 45000000000000000000000000000.00 USD" in out


def test_python_m_custbond_prints_its_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "custbond", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert (0, "") == (done.returncode, done.stderr)
    assert done.stdout.startswith("usage: custbond [-h] [--version] COMMAND ...")
    for command in ("check", "explain", "simulate"):
        assert command in done.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_that_cannot_be_written_is_one_line_not_a_traceback() -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "custbond", "explain", str(EXAMPLES / "pie_shop.toml")],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
        )

    assert 1 == done.returncode
    assert "custbond: error: the output cannot be written: No space left on device\n" == (
        done.stderr
    )


def test_a_reader_that_goes_away_stops_the_output_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "custbond", "explain", str(EXAMPLES / "subscription_box.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the first line
    _, err = process.communicate(timeout=60)

    assert (1, "") == (process.returncode, err)


def test_the_session_in_the_docs_prints_what_it_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/cli.md saves files (a line ending in a `name`: before a code block) and runs
    commands (`$ custbond ...` in console blocks); each prints what the page shows."""
    page = DOCS.read_text(encoding="utf-8")
    for name, text in re.findall(r"`([\w.]+)`:\n\n```\w*\n(.*?)```", page, re.DOTALL):
        write(name, text)
    sessions = re.findall(r"```console\n(.*?)```", page, re.DOTALL)
    assert sessions
    for session in sessions:
        for command, shown in re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", session, re.MULTILINE):
            argv = shlex.split(command)
            assert "custbond" == argv[0]
            main(argv[1:])
            captured = capsys.readouterr()
            assert shown == captured.out + captured.err, command


def test_explain_describes_the_bonds_of_a_program(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", str(EXAMPLES / "pie_shop.toml"))
    assert 0 == status
    assert "\nSocial bond:\n  default owner: Maya\n" in out
    assert "  tenth-order: a note of appreciation at the 10th purchase\n" in out
    assert "\nCustomization bond:\n  saved carts kept for 90 days, a reminder 7 days" in out
    status, out, _ = run(capsys, "explain", str(EXAMPLES / "subscription_box.toml"))
    assert "\nStructural bond:\n  pie-box (25.00 each time): FREQ=MONTHLY;BYMONTHDAY=-1" in out
    assert "  newsletter: on each CustomEvent 'newsletter', welcome at once" in out
