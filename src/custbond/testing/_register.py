"""Registers strategies for custbond's types with Hypothesis (through its entry point)."""

from __future__ import annotations

from custbond.testing.strategies import register_type_strategies


def _hypothesis_setup_hook() -> None:
    register_type_strategies()
