"""The ``sarif`` format: a SARIF 2.1.0 log (GitHub code scanning, Azure DevOps, IDE viewers).

One run. ``tool.driver.rules`` describes every rule of this version (id = code, name =
kebab-case name, short description = summary, full description = "what it does", help =
the full Markdown explanation, ``helpUri``, default level); each result points at its rule by
``ruleId`` and ``ruleIndex``.

Columns: the SARIF default ``columnKind`` is ``utf16CodeUnits``, while dlx-lint counts
columns in Unicode code points (the two differ only after a character outside the Basic
Multilingual Plane, e.g. an emoji, on the same line). The run declares
``"columnKind": "unicodeCodePoints"`` rather than re-reading every file to convert; regions are
``startLine``/``startColumn``/``endLine``/``endColumn``, 1-based, end column exclusive (as
SARIF defines it).

Paths inside the working directory are relative URIs with ``uriBaseId`` ``%SRCROOT%``
(declared in ``originalUriBaseIds`` as the working directory); others are absolute ``file:``
URIs. Notebook findings carry no region (their rows count within a cell, not within the
``.ipynb`` JSON): the cell is in the message and in the result's ``properties.cell``.
A diagnostic's fix, when it has one, becomes a SARIF ``fix`` with its replacements.
"""

from __future__ import annotations

import json
import os
import pathlib
import textwrap
import urllib.parse
from typing import Any, Sequence

from ..diagnostics import Diagnostic, Fix, Severity, rule_url

SUMMARY = False

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://github.com/dlx-lint/dlx-lint"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

CATEGORIES = (("DLX0", "correctness"), ("DLX1", "performance"), ("DLX3", "deprecated-api"), ("DLX9", "meta"))


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """The SARIF log as indented JSON, ending with a newline."""
    return json.dumps(build_log(diagnostics), indent=2, ensure_ascii=False) + "\n"


def build_log(diagnostics: Sequence[Diagnostic], base: str | None = None) -> dict[str, Any]:
    """The SARIF log object.

    Args:
        diagnostics: the findings, in output order.
        base: the directory relative URIs are resolved against (default: working directory).
    """
    from .. import __version__
    from ..registry import all_rules

    base = os.path.abspath(base or os.getcwd())
    rules = [_rule_descriptor(rule) for rule in all_rules()]
    index = {descriptor["id"]: position for position, descriptor in enumerate(rules)}
    for diagnostic in diagnostics:  # codes the engine reports without a rule module (DLX999)
        if diagnostic.code not in index:
            index[diagnostic.code] = len(rules)
            rules.append(_internal_descriptor(diagnostic))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "dlx-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": pathlib.Path(base).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index[d.code], base) for d in diagnostics],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule_descriptor(rule) -> dict[str, Any]:
    from ..explain import render_markdown

    what = textwrap.dedent(rule.what).strip()
    why = textwrap.dedent(rule.why).strip()
    category = next((name for prefix, name in CATEGORIES if rule.code.startswith(prefix)), "other")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what},
        "help": {"text": f"{what}\n\nWhy is this bad? {why}", "markdown": render_markdown(rule)},
        "helpUri": rule_url(rule.code, rule.name),
        "defaultConfiguration": {"enabled": rule.enabled_by_default, "level": LEVELS[rule.severity]},
        "properties": {"tags": [category]},
    }


def _internal_descriptor(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "id": diagnostic.code,
        "name": diagnostic.name,
        "shortDescription": {"text": "dlx-lint failed on this file"},
        "helpUri": diagnostic.url or INFORMATION_URI,
        "defaultConfiguration": {"level": "error"},
    }


def _result(diagnostic: Diagnostic, rule_index: int, base: str) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": artifact_location(diagnostic.filename, base)}
    text = diagnostic.message
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
    }
    if diagnostic.cell is None:
        location["region"] = _region(diagnostic.row, diagnostic.column, diagnostic.end_row, diagnostic.end_column)
    else:
        text = f"cell {diagnostic.cell}: {text}"
        result["properties"] = {"cell": diagnostic.cell}
    result["message"] = {"text": text}
    result["locations"] = [{"physicalLocation": location}]
    if diagnostic.fix is not None and diagnostic.fix.edits and diagnostic.cell is None:
        result["fixes"] = [_fix(diagnostic.fix, location["artifactLocation"])]
    return result


def _region(row: int, column: int, end_row: int, end_column: int) -> dict[str, int]:
    end_row = max(end_row, row)
    if end_row == row:
        end_column = max(end_column, column)
    return {"startLine": row, "startColumn": column, "endLine": end_row, "endColumn": max(end_column, 1)}


def _fix(fix: Fix, artifact: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": {"text": fix.message or "apply the fix"},
        "artifactChanges": [{
            "artifactLocation": artifact,
            "replacements": [
                {
                    "deletedRegion": _region(edit.row, edit.column, edit.end_row, edit.end_column),
                    "insertedContent": {"text": edit.content},
                }
                for edit in fix.edits
            ],
        }],
    }


def artifact_location(path: str, base: str) -> dict[str, str]:
    """A SARIF ``artifactLocation``: a relative URI below `base` (with ``uriBaseId``), else an
    absolute ``file:`` URI. Characters outside the URI grammar are percent-encoded."""
    if path == "-":
        return {"uri": "stdin"}
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:
        relative = os.pardir
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": pathlib.Path(absolute).as_uri()}
    return {"uri": urllib.parse.quote(relative.replace(os.sep, "/")), "uriBaseId": SRCROOT}
