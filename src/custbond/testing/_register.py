"""Registers strategies for custbond's types with Hypothesis (through its entry point)."""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    from custbond.testing.strategies import register_type_strategies

    register_type_strategies()
