"""The ``gitlab`` format: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array with one object per diagnostic holding the fields GitLab documents as required:
``description``, ``check_name``, ``fingerprint``, ``severity`` (``info``, ``minor``,
``major``, ``critical``, ``blocker``) and ``location.path`` with ``location.lines.begin``
(plus ``lines.end``). Paths are relative to ``$CI_PROJECT_DIR`` when GitLab sets it, else to
the working directory, with ``/`` separators.

Severity: error -> ``major``, warning -> ``minor``, info -> ``info``.

The fingerprint identifies a finding across runs, so GitLab can tell new findings from old
ones: a SHA-256 of path, cell, code and message (not the row, so that edits above a finding
keep its identity), plus a counter for repeats of the same finding in one file.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Sequence

from ..diagnostics import Diagnostic, Severity
from ._paths import relative_posix

SUMMARY = False

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """The report (``[]`` when there is nothing), indented, ending with a newline."""
    base = os.environ.get("CI_PROJECT_DIR") or None
    seen: dict[str, int] = {}
    issues: list[dict[str, Any]] = []
    for diagnostic in diagnostics:
        path = relative_posix(diagnostic.filename, base)
        identity = "\0".join((path, "" if diagnostic.cell is None else str(diagnostic.cell), diagnostic.code, diagnostic.message))
        repeat = seen.get(identity, 0)
        seen[identity] = repeat + 1
        fingerprint = hashlib.sha256(f"{identity}\0{repeat}".encode("utf-8")).hexdigest()[:32]
        where = f"cell {diagnostic.cell}: " if diagnostic.cell is not None else ""
        issues.append({
            "type": "issue",
            "description": f"{where}{diagnostic.code} {diagnostic.message}",
            "check_name": diagnostic.code,
            "fingerprint": fingerprint,
            "severity": SEVERITIES[diagnostic.severity],
            "location": {"path": path, "lines": {"begin": diagnostic.row, "end": max(diagnostic.row, diagnostic.end_row)}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
