"""Fixing Jupyter notebooks: edits on the joined code of the cells, applied back to each cell,
and written into the notebook's own JSON text.

The engine lints the code cells joined in order, with IPython syntax blanked
(`dlx_lint.notebook`). A fix found there is mapped back to one cell: every edit must fall
inside a single cell, must not touch a line that was blanked (a magic or shell line, whose
real text differs), and the cell must use ``\\n`` line breaks. Other fixes are not applied.
Statements inserted after a cell's last statement are edits at the end of its last line, and
statements inserted before a cell's first statement are edits at the start of its first line
(`dlx_lint.fixes.build`), so every insertion has one cell.

Writing back changes only the ``source`` value of the changed cells, in the layout the file
already uses (a list of lines with the same indentation, or one string), so indentation, key
order, outputs, metadata and the final newline of the file are untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring

import libcst as cst

from ..diagnostics import Diagnostic, Edit
from ..engine import lint_python_source
from ..parsing import parse_module
from ..notebook import CodeCell, NotebookError, _cell_lines, _to_cell, parse_notebook
from ..settings import Settings
from .apply import LineIndex, choose, modified_rows

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class NotebookFile:
    """A notebook as read from disk.

    Attributes:
        raw: the JSON text (without a byte-order mark).
        bom: whether the file started with a UTF-8 byte-order mark.
        sources: code cell index (among all cells) -> source text, in order; empty for a
            notebook whose language is not Python.
        layout: code cell index -> (start, end) offsets of its ``source`` value in `raw`.
    """

    raw: str
    bom: bool
    sources: dict[int, str]
    layout: dict[int, tuple[int, int]]


def load(data: bytes) -> NotebookFile:
    """Read a notebook for fixing.

    Raises:
        NotebookError: not a readable nbformat 4 notebook.
    """
    if parse_notebook(data) is None:  # validates; None: not a Python notebook
        return NotebookFile(data.decode("utf-8-sig"), data.startswith(b"\xef\xbb\xbf"), {}, {})
    raw = data.decode("utf-8-sig")
    document = json.loads(raw)
    sources: dict[int, str] = {}
    for index, cell in enumerate(document["cells"]):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        sources[index] = "".join(source) if isinstance(source, list) else source
    return NotebookFile(raw, data.startswith(b"\xef\xbb\xbf"), sources, _source_layout(raw))


@dataclass
class _Part:
    """A code cell that takes part in the joined source."""

    index: int
    blanked: tuple[str, ...]
    original: tuple[str, ...]
    first_row: int  # 1-based row of its first line in the joined source
    mappable: bool  # `\n` line breaks only

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.blanked) - 1


class NotebookDocument:
    """The code cells of a notebook being fixed (see `dlx_lint.fixer.Document`)."""

    def __init__(self, path: str, notebook: NotebookFile, settings: Settings,
                 sources: dict[int, str] | None = None, allowed_broken: frozenset | None = None) -> None:
        self.path = path
        self.notebook = notebook
        self.settings = settings
        self.sources = dict(notebook.sources if sources is None else sources)
        self.key = tuple(self.sources.items())
        self.parts: list[_Part] = []
        self.broken: set[int] = set()
        texts = []
        row = 1
        for index, source in self.sources.items():
            blanked = _cell_lines(source)
            if not blanked:
                continue
            text = "\n".join(blanked) + "\n"
            try:
                parse_module(text)
            except (cst.ParserSyntaxError, RecursionError):
                self.broken.add(index)
                continue
            original = _original_lines(source)
            mappable = "\r" not in source and len(original) == len(blanked)
            self.parts.append(_Part(index, blanked, original, row, mappable))
            texts.append(text)
            row += len(blanked)
        self.text = "".join(texts)
        self.allowed_broken = frozenset(self.broken) if allowed_broken is None else allowed_broken
        cells = {p.index: CodeCell(p.index, p.blanked, p.original if p.mappable else ()) for p in self.parts}
        self.row_map = [(cells[p.index], r) for p in self.parts for r in range(1, len(p.blanked) + 1)]
        self._part_of_row = [p for p in self.parts for _ in p.blanked]
        self._diagnostics: list[Diagnostic] | None = None

    # ------------------------------------------------------------------ the Document protocol

    def diagnostics(self) -> list[Diagnostic]:
        if self._diagnostics is None:
            self._diagnostics = lint_python_source(self.path, self.text, self.settings) if self.parts else []
        return self._diagnostics

    def report(self, diagnostic: Diagnostic) -> Diagnostic:
        if not self.row_map or diagnostic.row < 1:
            return diagnostic
        return _to_cell(diagnostic, self.row_map)

    def compiles(self) -> bool:
        from ..fixer import compiles

        return compiles(self.text, top_level_await=True)

    def valid(self, must_compile: bool) -> bool:
        from ..fixer import compiles, parses

        if not self.broken <= self.allowed_broken:
            return False
        return parses(self.text) and (not must_compile or compiles(self.text, top_level_await=True))

    def apply(self, diagnostics) -> tuple["NotebookDocument", list[Diagnostic]]:
        index = LineIndex(self.text)
        mapped: list[tuple[Diagnostic, list]] = []
        for diagnostic in diagnostics:
            edits = self._cell_edits(index, diagnostic)
            if edits is not None:
                mapped.append((diagnostic, edits))
        chosen, _ = choose(index, [d.fix for d, _ in mapped])  # type: ignore[misc]
        by_cell: dict[int, list[tuple[int, int, int, int, str]]] = {}
        for i in chosen:
            for cell, edit in mapped[i][1]:
                entries = by_cell.setdefault(cell, [])
                if edit not in entries:
                    entries.append(edit)
        sources = dict(self.sources)
        for cell, edits in by_cell.items():
            sources[cell] = _apply_to_cell(self.sources[cell], edits)
        new = NotebookDocument(self.path, self.notebook, self.settings, sources, self.allowed_broken)
        return new, [mapped[i][0] for i in sorted(chosen)]

    # ------------------------------------------------------------------ writing

    def notebook_bytes(self) -> bytes:
        """The notebook file with the changed cells' sources rewritten in place."""
        raw = self.notebook.raw
        changed = [i for i, s in self.sources.items() if s != self.notebook.sources.get(i)]
        prefix = b"\xef\xbb\xbf" if self.notebook.bom else b""
        if not changed:
            return prefix + raw.encode("utf-8")
        ascii_only = raw.isascii() and "\\u" in raw
        pieces = []
        cursor = 0
        for cell in sorted(changed, key=lambda i: self.notebook.layout[i][0]):
            start, end = self.notebook.layout[cell]
            pieces.append(raw[cursor:start])
            pieces.append(_format_source(raw[start:end], self.sources[cell], ascii_only))
            cursor = end
        pieces.append(raw[cursor:])
        return prefix + "".join(pieces).encode("utf-8")

    # ------------------------------------------------------------------ mapping

    def _cell_edits(self, index: LineIndex, diagnostic: Diagnostic) -> list | None:
        """The fix's edits as (cell, (row, column, end_row, end_column, content)) in cell
        coordinates, or None when the fix cannot be applied to the cells."""
        fix = diagnostic.fix
        if fix is None or not self.parts:
            return None
        result = []
        for edit in fix.edits:
            located = self._locate(index, edit)
            if located is None:
                return None
            result.append(located)
        return result

    def _part_at(self, row: int) -> _Part | None:
        if 1 <= row <= len(self._part_of_row):
            return self._part_of_row[row - 1]
        return None

    def _locate(self, index: LineIndex, edit: Edit):
        total = len(self._part_of_row)
        insertion = edit.row == edit.end_row and edit.column == edit.end_column
        part = self._part_at(edit.row)
        if part is None:
            # Only the end of the last cell lies past the last row.
            part = self._part_at(total) if edit.row == total + 1 and edit.column == 1 else None
            if part is None:
                return None
            start = (len(part.blanked) + 1, 1)
        else:
            start = (edit.row - part.first_row + 1, edit.column)
        if insertion:
            end = start
        elif part.first_row <= edit.end_row <= part.last_row:
            end = (edit.end_row - part.first_row + 1, edit.end_column)
        elif edit.end_row == part.last_row + 1 and edit.end_column == 1:
            end = (len(part.blanked) + 1, 1)  # up to the end of the cell
        else:
            return None  # crosses cells
        if not part.mappable:
            return None
        for row in modified_rows(index, edit):
            local = row - part.first_row
            if 0 <= local < len(part.blanked) and part.blanked[local] != part.original[local]:
                return None  # a blanked magic or shell line
        return part.index, (start[0], start[1], end[0], end[1], edit.content)


def _original_lines(source: str) -> tuple[str, ...]:
    lines = _LINE_BREAK.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


def _apply_to_cell(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    """Apply cell-coordinate edits to a cell's real source (``\\n`` line breaks)."""
    canonical = "\n".join(_original_lines(source)) + "\n"
    index = LineIndex(canonical)
    spans = sorted(
        ((index.offset(r, c), index.offset(er, ec), content) for r, c, er, ec, content in edits),
        key=lambda s: (s[0], s[1]),
    )
    parts = []
    cursor = 0
    for start, end, content in spans:
        parts.append(canonical[cursor:start])
        parts.append(content)
        cursor = max(cursor, end)
    parts.append(canonical[cursor:])
    result = "".join(parts)
    if not source.endswith("\n") and result.endswith("\n"):
        result = result[:-1]
    return result


# ---------------------------------------------------------------------------- JSON layout


def _format_source(old: str, source: str, ascii_only: bool) -> str:
    """`source` as a JSON value in the layout of `old` (the value it replaces)."""
    dump = lambda text: json.dumps(text, ensure_ascii=ascii_only)  # noqa: E731
    if not old.startswith("["):
        return dump(source)
    lines = source.splitlines(keepends=True)
    inner = old[1:-1]
    if not inner.strip():
        return "[" + ", ".join(dump(line) for line in lines) + "]"
    lead = inner[: len(inner) - len(inner.lstrip())]
    tail = inner[len(inner.rstrip()):]
    if not lines:
        return "[]"
    return "[" + lead + ("," + lead).join(dump(line) for line in lines) + tail + "]"


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _source_layout(raw: str) -> dict[int, tuple[int, int]]:
    """Cell index -> (start, end) of the ``source`` value of each cell in the JSON text."""
    layout: dict[int, tuple[int, int]] = {}
    top = _Scanner(raw).value(0)
    cells = top.children.get("cells") if isinstance(top.children, dict) else None
    if cells is None or not isinstance(cells.children, list):
        return layout
    for index, cell in enumerate(cells.children):
        if isinstance(cell.children, dict) and "source" in cell.children:
            value = cell.children["source"]
            layout[index] = (value.start, value.end)
    return layout


@dataclass
class _Value:
    start: int
    end: int
    children: object = None  # dict for objects, list for arrays


class _Scanner:
    """Just enough of a JSON parser to know where each value starts and ends (the text was
    already validated by `json.loads`)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _skip(self, i: int) -> int:
        return _WHITESPACE.match(self.text, i).end()  # type: ignore[union-attr]

    def value(self, i: int) -> _Value:
        text = self.text
        i = self._skip(i)
        char = text[i]
        if char == "{":
            members: dict[str, _Value] = {}
            j = self._skip(i + 1)
            if text[j] == "}":
                return _Value(i, j + 1, members)
            while True:
                key, j = scanstring(text, j + 1)
                j = self._skip(j)  # at ':'
                member = self.value(j + 1)
                members[key] = member
                j = self._skip(member.end)
                if text[j] == "}":
                    return _Value(i, j + 1, members)
                j = self._skip(j + 1)  # past ','
        if char == "[":
            items: list[_Value] = []
            j = self._skip(i + 1)
            if text[j] == "]":
                return _Value(i, j + 1, items)
            while True:
                item = self.value(j)
                items.append(item)
                j = self._skip(item.end)
                if text[j] == "]":
                    return _Value(i, j + 1, items)
                j = j + 1
        if char == '"':
            _, end = scanstring(text, i + 1)
            return _Value(i, end)
        for literal in ("true", "false", "null"):
            if text.startswith(literal, i):
                return _Value(i, i + len(literal))
        match = _NUMBER.match(text, i)
        if match is None:  # pragma: no cover - json.loads accepted the text
            raise NotebookError("invalid notebook: unexpected JSON")
        return _Value(i, match.end())
