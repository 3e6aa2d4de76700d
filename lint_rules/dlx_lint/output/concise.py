"""The ``concise`` format (ruff's): one line per diagnostic.

``path:row:col: CODE message`` for Python files and ``path:cell N:row:col: CODE message`` for
notebooks, where ``N`` is the 0-based index of the cell among all cells. Rows and columns are
1-based (columns in code points). Paths are shown relative to the working directory when they
lie below it. A safely fixable diagnostic shows ``[*]`` after its code.
"""

from __future__ import annotations

from typing import Sequence

from ..diagnostics import Applicability, Diagnostic

SUMMARY = True


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """One diagnostic as one line (no newline)."""
    from ..engine import display_path

    where = display_path(diagnostic.filename)
    if diagnostic.cell is not None:
        where += f":cell {diagnostic.cell}"
    fixable = diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.SAFE
    marker = " [*]" if fixable else ""
    return f"{where}:{diagnostic.row}:{diagnostic.column}: {diagnostic.code}{marker} {diagnostic.message}"


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """All diagnostics, one per line, in the given order."""
    return "".join(format_diagnostic(d) + "\n" for d in diagnostics)
