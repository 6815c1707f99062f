"""Achievements whose count targets are written as whole Decimals or strings.

A rule file has ``target = "5"`` (an amount written as a string, as spend targets are), a
script ``Decimal("5")``: five visits is five visits. They are taken as the int they are,
so the achievement equals the one written ``target = 5`` and a dumped program loads back
the same; a fraction of a visit is still refused, naming the field, the value and what
was expected."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import InvalidInput, Program, RuleFileError, dump_program, load_program
from custbond.bonds.achievements import Achievement


class TestAWholeNumberCountTarget:
    @pytest.mark.parametrize(
        "target",
        [Decimal("5"), Decimal("5.00"), Decimal("0.5E+1"), "5", " 5 ", "5.0"],
        ids=["decimal", "decimal-with-places", "decimal-exponent", "string", "padded", "5.0"],
    )
    @pytest.mark.parametrize("counts", ["visits", "purchases"])
    def test_is_taken_as_the_int_it_is(self, target: object, counts: str) -> None:
        achievement = Achievement("a", target=target, counts=counts, points=5)  # type: ignore[arg-type]

        assert (5, int) == (achievement.target, type(achievement.target))
        assert Achievement("a", target=5, counts=counts, points=5) == achievement

    def test_in_a_rule_file_loads_as_an_int_and_dumps_back_the_same(self) -> None:
        text = '[[achievements]]\nname = "regular"\ntarget = "5"\npoints = 10\n'

        (regular,) = load_program(text).achievements

        assert (5, int) == (regular.target, type(regular.target))
        program = Program(achievements=[regular])
        assert program == load_program(dump_program(program))
        assert "target = 5\n" in dump_program(program)

    def test_a_spend_target_written_as_a_string_is_the_amount(self) -> None:
        achievement = Achievement("big", target="250.50", counts="spend", points=5)

        assert Decimal("250.50") == achievement.target


class TestAFractionalCountTarget:
    @pytest.mark.parametrize(
        "target", [Decimal("2.5"), "2.5", Decimal("5.01")], ids=["decimal", "string", "5.01"]
    )
    def test_is_refused_naming_field_value_and_expectation(self, target: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            Achievement("a", target=target, counts="visits", points=5)  # type: ignore[arg-type]

        assert "target" == raised.value.field
        assert Decimal(str(target)) == raised.value.value
        assert "a positive int for visits (a count, not an amount" in raised.value.expected

    def test_too_long_to_write_out_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match=r"^target must be a finite Decimal of at most"):
            Achievement("a", target=Decimal("1E+5000"), counts="visits", points=5)

    def test_in_a_rule_file_is_refused_with_its_place(self) -> None:
        text = '[[achievements]]\nname = "regular"\ntarget = "2.5"\npoints = 10\n'

        with pytest.raises(
            RuleFileError,
            match=r"^achievements\[0\]\.target, line 3, column 10: must be a positive int for"
            r" visits .*; got 2\.5$",
        ):
            load_program(text)


@given(count=st.integers(min_value=1, max_value=10**6), places=st.integers(0, 4))
def test_any_whole_count_written_as_a_decimal_round_trips_through_a_rule_file(
    count: int, places: int
) -> None:
    written = Decimal(count).quantize(Decimal(1).scaleb(-places))
    achievement = Achievement("a", target=written, counts="purchases", points=1)

    program = Program(achievements=[achievement])

    assert count == achievement.target
    assert program == load_program(dump_program(program))
