"""The ``json`` format: a JSON array with one object per diagnostic (ruff's field names).

Each object has ``code``, ``name``, ``message``, ``severity`` (``error|warning|info``),
``filename`` (as given), ``location`` and ``end_location`` (``{"row", "column"}``, 1-based,
columns in code points; relative to the cell for notebooks), ``fix`` (null, or
``{"applicability", "message", "edits": [{"content", "location", "end_location"}]}``), ``url``,
``noqa_row`` (null when the diagnostic cannot be suppressed) and ``cell`` (0-based index among
all cells of a notebook, else null).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..diagnostics import Diagnostic, Fix

SUMMARY = False


def to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """The JSON object of one diagnostic."""
    return {
        "code": diagnostic.code,
        "name": diagnostic.name,
        "message": diagnostic.message,
        "severity": diagnostic.severity.value,
        "filename": diagnostic.filename,
        "location": {"row": diagnostic.row, "column": diagnostic.column},
        "end_location": {"row": diagnostic.end_row, "column": diagnostic.end_column},
        "fix": _fix(diagnostic.fix),
        "url": diagnostic.url,
        "noqa_row": diagnostic.noqa_row,
        "cell": diagnostic.cell,
    }


def _fix(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "applicability": fix.applicability.value,
        "message": fix.message,
        "edits": [
            {
                "content": edit.content,
                "location": {"row": edit.row, "column": edit.column},
                "end_location": {"row": edit.end_row, "column": edit.end_column},
            }
            for edit in fix.edits
        ],
    }


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """The JSON array, indented, ending with a newline (``[]`` when there is nothing)."""
    return json.dumps([to_dict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
