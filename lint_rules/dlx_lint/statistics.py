"""``--statistics``: how many findings each rule produced, and how many of them are fixable.

Text (ruff's layout, tab-separated)::

    3	DLX001	[*] missing-zero-grad
    1	DLX025	    torch-load-without-weights-only

``[*]`` marks a rule with at least one safely fixable finding; the closing lines are the
usual ``Found N errors.`` and, when some are fixable, ``[*] K fixable with the `--fix`
option.`` With ``--output-format json`` the same data is a JSON array of objects with
``code``, ``name``, ``count``, ``fixable_count`` and ``fixable`` (every finding fixable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from .diagnostics import Applicability, Diagnostic


@dataclass(frozen=True)
class RuleCount:
    """Findings of one rule.

    Attributes:
        code, name: the rule.
        count: its findings.
        fixable_count: those with a safe fix.
    """

    code: str
    name: str
    count: int
    fixable_count: int


def is_fixable(diagnostic: Diagnostic) -> bool:
    """Whether the diagnostic has a fix that ``--fix`` applies (a safe one)."""
    return diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.SAFE


def count_by_rule(diagnostics: Sequence[Diagnostic]) -> list[RuleCount]:
    """One entry per rule with findings, most findings first, then by code."""
    counts: dict[str, list] = {}
    for diagnostic in diagnostics:
        entry = counts.setdefault(diagnostic.code, [diagnostic.name, 0, 0])
        entry[1] += 1
        entry[2] += is_fixable(diagnostic)
    result = [RuleCount(code, name, count, fixable) for code, (name, count, fixable) in counts.items()]
    result.sort(key=lambda entry: (-entry.count, entry.code))
    return result


def render_text(diagnostics: Sequence[Diagnostic], *, quiet: bool = False, unsafe: bool = False) -> str:
    """The text table plus the summary lines (the latter unless `quiet`), the fix line as in
    the normal report (with the count of fixes hidden behind ``--unsafe-fixes``)."""
    from .cli import summary_line
    from .fix_command import fixable_hint

    entries = count_by_rule(diagnostics)
    width = max((len(str(entry.count)) for entry in entries), default=1)
    any_fixable = any(entry.fixable_count for entry in entries)
    lines = []
    for entry in entries:
        marker = ("[*] " if entry.fixable_count else "    ") if any_fixable else ""
        lines.append(f"{entry.count:>{width}}\t{entry.code}\t{marker}{entry.name}")
    if not quiet:
        lines.append(summary_line(len(diagnostics)))
        hint = fixable_hint(diagnostics, unsafe=unsafe)
        if hint:
            lines.append(hint)
    return "".join(line + "\n" for line in lines)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    """The JSON array, indented, ending with a newline."""
    data = [
        {"code": e.code, "name": e.name, "count": e.count, "fixable_count": e.fixable_count, "fixable": e.fixable_count == e.count}
        for e in count_by_rule(diagnostics)
    ]
    return json.dumps(data, indent=2) + "\n"
