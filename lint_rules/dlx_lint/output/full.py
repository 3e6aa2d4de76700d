"""The ``full`` format: the concise line, then a code frame, then the fix title if any.

::

    train.py:14:9: DLX001 `optimizer.step()` runs in a loop that never clears gradients ...
       |
    13 |     for x, y in loader:
    14 |         loss = criterion(model(x), y)
       |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ DLX001
    15 |         loss.backward()
       |
       = help: Clear the gradients with `optimizer.zero_grad()` (safe fix)

One line of context is shown on each side; a range over several lines shows at most
`MAX_RANGE_LINES` of them. Tabs show as four spaces and East Asian wide characters as two
columns, so the carets line up in a terminal. The frame needs the file's text: each file with
findings is read once more after linting (``sources`` supplies texts that cannot be re-read,
such as standard input). A file that cannot be read gets the header line only.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Mapping, Sequence

from ..diagnostics import Diagnostic

SUMMARY = True
NEEDS_SOURCES = True

CONTEXT = 1
MAX_RANGE_LINES = 5
TAB = "    "

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def render(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    """Every diagnostic with its frame, separated by blank lines.

    Args:
        diagnostics: the findings, in output order.
        sources: path -> text for files that must not be re-read (standard input).
    """
    reader = _SourceReader(sources or {})
    blocks = [format_diagnostic(d, reader.lines(d)) for d in diagnostics]
    return "".join(block + "\n" for block in blocks)


def format_diagnostic(diagnostic: Diagnostic, lines: Sequence[str] | None) -> str:
    """The block for one diagnostic (several lines, no trailing newline).

    Args:
        diagnostic: the finding.
        lines: the text of its file (or of its notebook cell), split into lines without
            line breaks; None when unavailable.
    """
    from .concise import format_diagnostic as concise_line

    parts = [concise_line(diagnostic)]
    if lines and 1 <= diagnostic.row <= len(lines):
        parts.extend(_frame(diagnostic, lines))
    if diagnostic.fix is not None:
        applicability = diagnostic.fix.applicability.value
        parts.append(f"{' ' * _gutter_width(diagnostic, lines)} = help: {diagnostic.fix.message} ({applicability} fix)")
    return "\n".join(parts) + "\n"


def _gutter_width(diagnostic: Diagnostic, lines: Sequence[str] | None) -> int:
    last = min(len(lines or ()), max(diagnostic.row, diagnostic.end_row) + CONTEXT)
    return len(str(max(last, diagnostic.row)))


def _frame(diagnostic: Diagnostic, lines: Sequence[str]) -> list[str]:
    width = _gutter_width(diagnostic, lines)
    blank = f"{' ' * width} |"
    end_row = min(max(diagnostic.end_row, diagnostic.row), len(lines))
    shown_end = min(end_row, diagnostic.row + MAX_RANGE_LINES - 1)
    first = max(1, diagnostic.row - CONTEXT)
    last = min(len(lines), shown_end + CONTEXT)
    out = [blank]
    for row in range(first, last + 1):
        text = lines[row - 1]
        out.append(f"{row:>{width}} | {_expand(text)}".rstrip())
        if row == diagnostic.row:
            line_end = len(text) + 1
            stop = diagnostic.end_column if end_row == row else line_end
            start_col = min(max(diagnostic.column, 1), line_end)
            stop = min(max(stop, start_col + 1), line_end + 1)
            offset = _display_width(text[: start_col - 1])
            carets = max(1, _display_width(text[start_col - 1 : stop - 1]))
            out.append(f"{blank} {' ' * offset}{'^' * carets} {diagnostic.code}")
        if row == shown_end and shown_end < end_row:
            out.append(f"{blank} ...")
    out.append(blank)
    return out


def _expand(text: str) -> str:
    return text.replace("\t", TAB)


def _display_width(text: str) -> int:
    width = 0
    for char in text:
        if char == "\t":
            width += len(TAB)
        elif unicodedata.combining(char):
            continue
        else:
            width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


class _SourceReader:
    """Reads each file at most once; notebooks are split into their cells."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = dict(sources)
        self._files: dict[str, list[str] | None] = {}
        self._notebooks: dict[str, dict[int, list[str]] | None] = {}

    def lines(self, diagnostic: Diagnostic) -> list[str] | None:
        path = diagnostic.filename
        if diagnostic.cell is not None:
            if path not in self._notebooks:
                self._notebooks[path] = self._read_notebook(path)
            cells = self._notebooks[path]
            return None if cells is None else cells.get(diagnostic.cell)
        if path not in self._files:
            self._files[path] = self._read_source(path)
        return self._files[path]

    def _text(self, path: str) -> bytes | None:
        if path in self._sources:
            return self._sources[path].encode("utf-8")
        if path == "-":
            return None
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def _read_source(self, path: str) -> list[str] | None:
        from ..engine import DecodeError, decode_source

        data = self._text(path)
        if data is None:
            return None
        try:
            text = decode_source(data).text
        except DecodeError:
            return None
        return _split(text)

    def _read_notebook(self, path: str) -> dict[int, list[str]] | None:
        data = self._text(path)
        if data is None:
            return None
        try:
            document = json.loads(data.decode("utf-8-sig"))
            cells = document["cells"]
        except (ValueError, KeyError, TypeError):
            return None
        result: dict[int, list[str]] = {}
        for index, cell in enumerate(cells if isinstance(cells, list) else ()):
            source = cell.get("source", "") if isinstance(cell, dict) else ""
            if isinstance(source, list):
                source = "".join(part for part in source if isinstance(part, str))
            if isinstance(source, str):
                result[index] = _split(source)
        return result


def _split(text: str) -> list[str]:
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
