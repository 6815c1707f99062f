"""The API reference (docs/api.md) says everything on it is importable from `custbond`: the
other way round, every name `custbond` exports must have an entry there, or a reader who
meets it in an example or a traceback cannot look it up.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import custbond

API_REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "api.md"

# An entry and the dotted path it documents: `.. autoclass:: custbond.Coupon`, or a value
# written out by hand: `.. data:: custbond.Effect`.
ENTRY = re.compile(
    r"^\.\. (?:auto(?:class|exception|function|data)|data)::[ \t]+(custbond(?:\.\w+)+)[ \t]*$",
    re.MULTILINE,
)


def _entries() -> list[str]:
    return ENTRY.findall(API_REFERENCE.read_text(encoding="utf-8"))


def _is_entry_for(target: str, name: str) -> bool:
    """Whether the entry for ``target`` documents ``custbond.<name>``: it is that path, or
    the same object under the submodule it is documented in (``custbond.recovery.Task``)."""
    if target == f"custbond.{name}":
        return True
    module, _, attribute = target.rpartition(".")
    if attribute != name:
        return False
    try:
        documented = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return documented is getattr(custbond, name)


def test_the_api_reference_has_entries() -> None:
    assert "custbond.RetentionService" in _entries()


def test_every_name_importable_from_custbond_has_an_entry_in_the_api_reference() -> None:
    entries = _entries()
    missing = [
        name
        for name in custbond.__all__
        if not any(_is_entry_for(target, name) for target in entries)
    ]
    assert not missing, (
        f"docs/api.md has no entry for {len(missing)} of the names in custbond.__all__; add "
        "an `.. autoclass:: custbond.<Name>` (autoexception, autofunction, data) for each, "
        f"in the section a reader would look in: {', '.join(missing)}"
    )
