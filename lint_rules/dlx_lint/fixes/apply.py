"""Applying text edits: positions to offsets, the overlap policy, and the result text.

Positions are those of `dlx_lint.diagnostics.Edit`: 1-based rows, 1-based code-point columns,
end exclusive; rows are separated by ``\\r\\n``, ``\\r`` or ``\\n`` (as Python and libcst count
them). A position past the end of the text is clamped to the end (libcst's code ranges end one
row past a file without a final newline).

Overlap policy (ruff's): fixes are taken in order of their first edit; a fix is applied only if
none of its edits overlaps an edit already taken in this pass, otherwise it waits for the next
pass (the text is re-linted in between, so its positions are recomputed). An edit identical to
one already taken (two fixes adding the same import) counts as applied, not as a conflict. Two
different insertions at the same point conflict; edits that merely touch do not.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..diagnostics import Edit, Fix

_NEWLINE = re.compile(r"\r\n?|\n")


class LineIndex:
    """Row/column <-> offset conversion for one text.

    Args:
        text: the text; rows split at ``\\r\\n``, ``\\r`` and ``\\n``.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def offset(self, row: int, column: int) -> int:
        """Offset of a 1-based row and 1-based column (clamped to the text)."""
        if row < 1:
            return 0
        if row > len(self.starts):
            return len(self.text)
        return min(self.starts[row - 1] + max(column, 1) - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based row, 1-based column) of an offset."""
        row = bisect.bisect_right(self.starts, offset)
        return row, offset - self.starts[row - 1] + 1

    def line(self, row: int) -> str:
        """The text of a 1-based row without its line break ("" past the end)."""
        if row < 1 or row > len(self.starts):
            return ""
        start = self.starts[row - 1]
        end = self.starts[row] if row < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def newline_of(self, row: int) -> str | None:
        """The line break ending a 1-based row, None for the last line without one."""
        if row < 1 or row >= len(self.starts):
            return None
        start = self.starts[row - 1]
        end = self.starts[row]
        line = self.text[start:end]
        return line[len(line.rstrip("\r\n")):]


@dataclass(frozen=True)
class Span:
    """An edit in offsets: replace ``text[start:end]`` with `content`."""

    start: int
    end: int
    content: str


def to_spans(index: LineIndex, edits: Iterable[Edit]) -> list[Span]:
    """Edits as offset spans, sorted by (start, end)."""
    spans = [
        Span(index.offset(e.row, e.column), index.offset(e.end_row, e.end_column), e.content) for e in edits
    ]
    spans.sort(key=lambda s: (s.start, s.end))
    return spans


def conflict(a: Span, b: Span) -> bool:
    """Whether two edits cannot both be applied (overlap, or two insertions at one point)."""
    if a.start < b.end and b.start < a.end:
        return True
    return a.start == a.end == b.start == b.end


def spans_overlap(spans: Sequence[Span]) -> bool:
    """Whether any two of `spans` conflict (they must be sorted by start)."""
    for first, second in zip(spans, spans[1:]):
        if conflict(first, second):
            return True
    return False


def choose(index: LineIndex, fixes: Sequence[Fix]) -> tuple[list[int], list[Span]]:
    """Pick the fixes of one pass under the overlap policy.

    Args:
        index: the text's line index.
        fixes: candidate fixes.

    Returns:
        (indexes of the chosen fixes in `fixes`, the distinct spans to apply, sorted).
    """
    order = sorted(range(len(fixes)), key=lambda i: _first_offset(index, fixes[i]))
    taken: list[Span] = []
    chosen: list[int] = []
    for i in order:
        spans = to_spans(index, fixes[i].edits)
        if spans_overlap(spans):
            continue  # a malformed fix: never applied
        new = [s for s in spans if s not in taken]
        if any(conflict(s, t) for s in new for t in taken):
            continue
        taken.extend(new)
        chosen.append(i)
    taken.sort(key=lambda s: (s.start, s.end))
    return chosen, taken


def _first_offset(index: LineIndex, fix: Fix) -> tuple[int, int]:
    if not fix.edits:
        return (len(index.text), 0)
    return min((index.offset(e.row, e.column), index.offset(e.end_row, e.end_column)) for e in fix.edits)


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    """The text with non-overlapping spans (sorted by start) applied."""
    parts = []
    cursor = 0
    for span in spans:
        parts.append(text[cursor:span.start])
        parts.append(span.content)
        cursor = max(cursor, span.end)
    parts.append(text[cursor:])
    return "".join(parts)


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, list[int]]:
    """Apply as many of `fixes` as the overlap policy allows.

    Returns:
        (new text, indexes of the applied fixes in `fixes`).
    """
    index = LineIndex(text)
    chosen, spans = choose(index, fixes)
    return apply_spans(text, spans), chosen


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply the edits of one fix (they must not overlap).

    Raises:
        ValueError: two edits overlap.
    """
    index = LineIndex(text)
    spans = to_spans(index, edits)
    if spans_overlap(spans):
        raise ValueError("overlapping edits")
    return apply_spans(text, spans)


def modified_rows(index: LineIndex, edit: Edit) -> range:
    """Rows whose existing text an edit changes: none for an insertion of whole lines at a
    line start or after a line's end, else the rows it spans (a range ending at column 1 of a
    row does not change that row)."""
    if edit.row == edit.end_row and edit.column == edit.end_column:
        at_line_start = edit.column == 1 and edit.content.endswith(("\n", "\r"))
        at_line_end = edit.column == len(index.line(edit.row)) + 1 and edit.content.startswith(("\n", "\r"))
        if at_line_start or at_line_end or edit.content == "":
            return range(0)
        return range(edit.row, edit.row + 1)
    last = edit.end_row - 1 if edit.end_column == 1 and edit.end_row > edit.row else edit.end_row
    return range(edit.row, last + 1)
