"""Output formats of ``dlx-lint check``: one module per format, registered in `FORMATS`.

A format module defines ``render(diagnostics) -> str`` (the whole output, ending with a newline
when not empty) and ``SUMMARY: bool`` (whether the CLI adds its "Found N errors." line after
it). A module that sets ``NEEDS_SOURCES = True`` (``full``) also takes ``sources``, a mapping
from path to text for files that cannot be read again (standard input). Adding a format is
one module plus one entry here; modules are imported only when used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FORMATS: dict[str, str] = {
    "concise": "concise",
    "full": "full",
    "json": "json_format",
    "json-lines": "json_lines",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
    "junit": "junit",
}
"""Format name (as given to ``--output-format``) -> module name in this package."""

DEFAULT_FORMAT = "concise"


def get_format(name: str) -> ModuleType:
    """The module rendering format `name`.

    Raises:
        KeyError: `name` is not in `FORMATS`.
    """
    return importlib.import_module(f"{__name__}.{FORMATS[name]}")
