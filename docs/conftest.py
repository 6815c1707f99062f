"""Run the examples in the docs as tests, with Sybil.

Every ```python block of a page is executed, and a block that starts with ``>>>`` is
checked as a doctest. The blocks of one page share a namespace and run in order, so a
page can tell a story; each page starts from an empty namespace.
"""

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

from sybil import Sybil
from sybil.parsers.myst import (
    ClearNamespaceParser,
    DocTestDirectiveParser,
    PythonCodeBlockParser,
    SkipParser,
)

OPTIONS = ELLIPSIS | NORMALIZE_WHITESPACE

pytest_collect_file = Sybil(
    parsers=[
        PythonCodeBlockParser(doctest_optionflags=OPTIONS),
        DocTestDirectiveParser(optionflags=OPTIONS),
        SkipParser(),
        ClearNamespaceParser(),
    ],
    patterns=["*.md"],
    excludes=["_build/*"],
).pytest()
