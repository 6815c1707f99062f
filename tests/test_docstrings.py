"""Every ``>>>`` example in custbond's docstrings runs, one test per module."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import custbond

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Modules that need an extra installed; their tests skip without it.
EXTRAS = {"custbond.testing": "hypothesis"}


def _module_names() -> list[str]:
    names = [custbond.__name__]
    # Subpackages that need a missing extra are still listed (and skipped below).
    walk = pkgutil.walk_packages(
        custbond.__path__, f"{custbond.__name__}.", onerror=lambda _: None
    )
    names.extend(info.name for info in walk)
    return sorted(names)


@pytest.mark.parametrize("name", _module_names())
def test_docstring_examples_run(name: str) -> None:
    for package, extra in EXTRAS.items():
        if name == package or name.startswith(f"{package}."):
            pytest.importorskip(extra)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    failed = sum(runner.run(test, out=report.write).failed for test in finder.find(module, name))
    assert failed == 0, report.getvalue()
