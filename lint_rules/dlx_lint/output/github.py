"""The ``github`` format: GitHub Actions workflow commands, one annotation per diagnostic.

``::error title=dlx-lint (DLX001),file=PATH,line=R,col=C,endLine=R2,endColumn=C2::MESSAGE``

The command is ``error``, ``warning`` or ``notice`` after the diagnostic's severity. Escaping
follows the Actions toolkit (``@actions/core`` ``command.ts``): in the message ``%``, CR and LF
become ``%25``, ``%0D``, ``%0A``; property values additionally escape ``:`` and ``,`` (``%3A``,
``%2C``). ``file`` is the absolute path (GitHub maps it onto the workspace); the message starts
with the concise ``path:row:col: CODE`` so the raw log reads like the default output. Notebook
diagnostics carry no line properties (rows are relative to a cell, not to the ``.ipynb`` file);
the cell is in the message.
"""

from __future__ import annotations

import os
from typing import Sequence

from ..diagnostics import Diagnostic, Severity

SUMMARY = False

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """One workflow command (no newline)."""
    from .concise import format_diagnostic as concise_line

    properties = [("title", f"dlx-lint ({diagnostic.code})"), ("file", os.path.abspath(diagnostic.filename))]
    if diagnostic.cell is None:
        properties += [
            ("line", str(diagnostic.row)),
            ("col", str(diagnostic.column)),
            ("endLine", str(diagnostic.end_row)),
            ("endColumn", str(diagnostic.end_column)),
        ]
    joined = ",".join(f"{name}={escape_property(value)}" for name, value in properties)
    return f"::{COMMANDS[diagnostic.severity]} {joined}::{escape_data(concise_line(diagnostic))}"


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """All annotations, one per line."""
    return "".join(format_diagnostic(d) + "\n" for d in diagnostics)
