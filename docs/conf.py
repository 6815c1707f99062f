"""Sphinx configuration: MyST Markdown pages, the furo theme, autodoc for the API page.

Build with ``make docs`` (``sphinx -b html -W docs docs/_build/html``).
"""

from importlib.metadata import version as _version

project = "custbond"
author = "The custbond developers"
copyright = "the custbond developers"
release = _version("custbond")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",  # the {doctest} directive, which Sybil also runs
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "conftest.py", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}

html_theme = "furo"
html_title = "custbond"
