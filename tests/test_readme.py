"""The README's example is the first code a new user copies: it must run."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_readme_has_a_python_example() -> None:
    assert PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))


def test_every_python_block_in_the_readme_runs_and_its_asserts_hold() -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in PYTHON_BLOCK.findall(README.read_text(encoding="utf-8")):
        # Our own README, run as a test; rule text never reaches exec (see src/).
        exec(compile(block, str(README), "exec"), namespace)
