"""Jupyter notebooks (``.ipynb``, nbformat 4): lint the code cells together, report per cell.

Jupyter runs cells in order in one namespace, so the code cells are joined, in order, into one
Python source and linted once with `dlx_lint.engine.lint_python_source`; names defined in
earlier cells are then known to later ones. Each diagnostic is mapped back to its cell: ``cell`` is the
0-based index among *all* cells (markdown and raw cells count), ``row``/``end_row``/``noqa_row``
are 1-based within that cell. Columns are unchanged (code points).

IPython syntax is not Python: a cell whose first line is a cell magic is skipped whole unless
the magic runs its body as Python in the notebook's namespace (``%%time``, ``%%timeit``,
``%%capture``, ``%%prun``, ``%%debug``: the magic line is blanked and the body linted); line
magics, shell escapes and help lines (``%matplotlib inline``, ``!pip install x``,
``files = !ls``, ``obj?``) are blanked (``pass`` when indented), keeping the line count.
A code cell that does not parse on its own is reported as ``DLX900`` (position within the
cell) and left out of the joined source, so one broken cell does not hide the others.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from .diagnostics import Diagnostic
from .engine import (
    IO_ERROR, MAX_SOURCE_CHARS, SYNTAX_ERROR, applicable_rules, file_diagnostic, lint_python_source,
    syntax_error_diagnostic, too_large_diagnostic,
)
from .parsing import parse_module
from .settings import Settings

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# `x = !ls`, `a, b = %sx ls`: an assignment whose value is a magic or shell command.
_MAGIC_ASSIGN = re.compile(r"^[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
# Cell magics whose body is Python run in the notebook's namespace (IPython's built-in magics
# docs: https://ipython.readthedocs.io/en/stable/interactive/magics.html): the body is linted
# with the magic line blanked. Others (%%bash, %%html, %%writefile, %%sql...) are not Python.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
# `obj?`, `obj.attr??`, `?obj`, `??obj`: IPython help.
_HELP = re.compile(r"^(\?{1,2}\s*[\w.*]+|[\w.*]+\s*\?{1,2})\s*$")


class NotebookError(ValueError):
    """The bytes are not a notebook this module can read (message is one line)."""


@dataclass(frozen=True)
class CodeCell:
    """One code cell prepared for linting.

    Attributes:
        index: 0-based index among all cells of the notebook.
        lines: the cell's lines with IPython syntax blanked (no line-break characters).
        original: the cell's real lines (same count), when known; a fix may not touch a line
            where the two differ.
    """

    index: int
    lines: tuple[str, ...]
    original: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The cell as a Python module text (ends with a newline)."""
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class Notebook:
    """The code cells of a Python notebook, in order."""

    cells: tuple[CodeCell, ...]


def parse_notebook(data: bytes) -> Notebook | None:
    """Read nbformat 4 JSON.

    Args:
        data: the file's bytes (UTF-8, a BOM is allowed).

    Returns:
        The code cells, or None when the notebook's language is not Python (nothing to lint).

    Raises:
        NotebookError: not UTF-8, not JSON, not nbformat 4, or cells of the wrong shape.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError("invalid notebook: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"invalid notebook: not JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(document, dict):
        raise NotebookError("invalid notebook: the top level is not a JSON object")
    version = document.get("nbformat")
    if version != 4:
        shown = "missing" if version is None else repr(version)
        raise NotebookError(f"unsupported notebook: nbformat {shown} (only nbformat 4 is supported)")
    if not _is_python(document.get("metadata")):
        return None
    raw_cells = document.get("cells")
    if not isinstance(raw_cells, list):
        raise NotebookError("invalid notebook: no 'cells' list")
    cells = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict):
            raise NotebookError(f"invalid notebook: cell {index} is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"invalid notebook: cell {index} has a source that is not text")
        cell = code_cell(index, source)
        if cell is not None:
            cells.append(cell)
    return Notebook(tuple(cells))


def code_cell(index: int, source: str) -> CodeCell | None:
    """Prepare one code cell's source for linting (IPython syntax blanked).

    Args:
        index: the cell's 0-based index among all cells of its notebook.
        source: the cell's text.

    Returns:
        The cell, or None for an empty cell or one that starts with a cell magic whose body
        is not Python (``%%bash``, ``%%writefile``).
    """
    lines = _cell_lines(source)
    if not lines:
        return None
    # The real lines let a fix refuse to touch a line whose IPython syntax was blanked.
    original = tuple(_LINE_BREAK.split(source))[: len(lines)]
    return CodeCell(index, lines, original if "\r" not in source else ())


def _is_python(metadata: Any) -> bool:
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(field), str):
            return table[field].strip().lower() in ("python", "python3", "ipython", "ipython3")
    return True


def _cell_lines(source: str) -> tuple[str, ...]:
    """The cell's lines with IPython-only syntax blanked; () for an empty cell or one under a
    cell magic whose body is not Python."""
    if not source.strip():
        return ()
    lines = _LINE_BREAK.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    first_index = next((index for index, line in enumerate(lines) if line.strip()), 0)
    first_code = lines[first_index].strip()
    if first_code.startswith("%%"):
        if _cell_magic_name(first_code) not in PYTHON_CELL_MAGICS:
            return ()
        lines = lines[:first_index] + [""] + lines[first_index + 1:]
    return tuple(blank_ipython_syntax(lines))


def _cell_magic_name(first_line: str) -> str:
    return first_line[2:].split(None, 1)[0] if first_line[2:].strip() else ""


def blank_ipython_syntax(lines: list[str]) -> list[str]:
    """Replace IPython-only lines by empty lines (``pass`` when indented), keeping the count.

    Only lines that start a logical line count: a ``%`` that continues an expression inside
    brackets (``(a\\n % b)``), a string or after a backslash is Python's modulo, and stays.
    """
    result = []
    scanner = _LineScanner()
    for line in lines:
        if scanner.at_line_start and _is_ipython_line(line.strip()):
            indent = line[: len(line) - len(line.lstrip())]
            result.append(indent + "pass" if indent else "")
            continue
        scanner.feed(line)
        result.append(line)
    return result


def _is_ipython_line(stripped: str) -> bool:
    if not stripped:
        return False
    if stripped[0] in "%!":
        return True
    return bool(_MAGIC_ASSIGN.match(stripped) or _HELP.match(stripped.split("#", 1)[0].strip() or "#"))


class _LineScanner:
    """Tracks, line by line, whether the next line starts a new logical line (not inside
    brackets, a triple-quoted string, or after a backslash)."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None  # the open triple quote, if any
        self.backslash = False

    @property
    def at_line_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line: str) -> None:
        self.backslash = False
        i, n = 0, len(line)
        while i < n:
            if self.quote is not None:
                end = line.find(self.quote, i)
                while end > 0 and _escaped(line, end):
                    end = line.find(self.quote, end + 1)
                if end == -1:
                    return
                i = end + 3
                self.quote = None
                continue
            char = line[i]
            if char == "#":
                return
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char in "'\"":
                if line.startswith(char * 3, i):
                    self.quote = char * 3
                    i += 3
                    continue
                i = _skip_string(line, i + 1, char)
                continue
            elif char == "\\" and i == n - 1:
                self.backslash = True
            i += 1


def _escaped(line: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and line[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _skip_string(line: str, i: int, quote: str) -> int:
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            return i + 1
        i += 1
    return i


def lint_notebook(path: str, data: bytes, settings: Settings) -> list[Diagnostic]:
    """Lint a notebook's bytes.

    Args:
        path: the notebook's path (for per-file ignores and in the diagnostics).
        data: the file's contents.
        settings: the effective settings.

    Returns:
        Diagnostics with ``cell`` set and rows relative to their cell, sorted; a single
        ``DLX902`` for an unreadable notebook; nothing for a non-Python notebook.
    """
    enabled = settings.enabled_codes(path)
    try:
        notebook = parse_notebook(data)
    except NotebookError as error:
        return [notebook_error(path, str(error), settings)] if IO_ERROR in enabled else []
    if notebook is None:
        return []
    return lint_cells(path, notebook.cells, settings)


def lint_cells(path: str, cells: tuple[CodeCell, ...] | list[CodeCell], settings: Settings) -> list[Diagnostic]:
    """Lint code cells together, in order, as Jupyter runs them (the core of `lint_notebook`,
    also used by the language server for LSP notebook documents).

    Args:
        path: the notebook's path or URI (for per-file ignores and in the diagnostics).
        cells: the code cells from `code_cell` / `parse_notebook`, in notebook order.
        settings: the effective settings.

    Returns:
        Diagnostics with ``cell`` set and rows relative to their cell, sorted; a cell that
        does not parse gets ``DLX900`` and is left out of the joined source.
    """
    enabled = settings.enabled_codes(path)
    if not cells:
        return []
    joined = "".join(cell.text for cell in cells)
    if not _needs_parse(joined, enabled):
        return []
    if len(joined) > MAX_SOURCE_CHARS:
        if IO_ERROR not in enabled:
            return []
        return [dataclasses.replace(too_large_diagnostic(path, len(joined), settings), cell=cells[0].index)]
    diagnostics: list[Diagnostic] = []
    good: list[CodeCell] = []
    for cell in cells:
        try:
            parse_module(cell.text)
        except cst.ParserSyntaxError as error:
            if SYNTAX_ERROR in enabled:
                diagnostic = syntax_error_diagnostic(path, error, settings)
                row = min(diagnostic.row, len(cell.lines))
                diagnostics.append(dataclasses.replace(diagnostic, cell=cell.index, row=row, end_row=row))
            continue
        except (RecursionError, MemoryError):
            continue
        good.append(cell)
    if good:
        source = "".join(cell.text for cell in good)
        row_map = [(cell, row) for cell in good for row in range(1, len(cell.lines) + 1)]
        for diagnostic in lint_python_source(path, source, settings):
            diagnostics.append(_to_cell(diagnostic, row_map))
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def _to_cell(diagnostic: Diagnostic, row_map: list[tuple[CodeCell, int]]) -> Diagnostic:
    """Map a diagnostic on the joined source back to its cell."""
    last = len(row_map)
    cell, row = row_map[min(max(diagnostic.row, 1), last) - 1]
    end_cell, end_row = row_map[min(max(diagnostic.end_row, 1), last) - 1]
    end_column = diagnostic.end_column
    if end_cell is not cell:  # never for a parsed statement; clamp to the cell's end anyway
        end_row = len(cell.lines)
        end_column = len(cell.lines[-1]) + 1
    noqa_row = None
    if diagnostic.noqa_row is not None:
        noqa_cell, noqa_row = row_map[min(max(diagnostic.noqa_row, 1), last) - 1]
        if noqa_cell is not cell:
            noqa_row = None
    fix = _fix_to_cell(diagnostic.fix, cell, row_map) if diagnostic.fix is not None else None
    return dataclasses.replace(
        diagnostic, cell=cell.index, row=row, end_row=end_row, end_column=end_column, noqa_row=noqa_row, fix=fix
    )


def _fix_to_cell(fix, cell: CodeCell, row_map: list[tuple[CodeCell, int]]):
    """The fix with rows relative to `cell`, or None if an edit leaves the cell or touches a
    line whose IPython syntax was blanked. A position just past the cell's last line (an
    insertion after its last statement) becomes row ``len(lines) + 1``, column 1."""
    edits = []
    for edit in fix.edits:
        start = _cell_position(edit.row, edit.column, cell, row_map)
        end = _cell_position(edit.end_row, edit.end_column, cell, row_map)
        if start is None or end is None:
            return None
        touched = range(start[0], end[0] + (0 if end[1] == 1 and end[0] > start[0] else 1))
        if start == end and edit.content.endswith(("\n", "\r")) and start[1] == 1:
            touched = range(0)
        if any(not cell.original or cell.lines[r - 1] != cell.original[r - 1] for r in touched if r <= len(cell.lines)):
            return None
        edits.append(dataclasses.replace(edit, row=start[0], column=start[1], end_row=end[0], end_column=end[1]))
    return dataclasses.replace(fix, edits=tuple(edits))


def _cell_position(row: int, column: int, cell: CodeCell, row_map: list[tuple[CodeCell, int]]) -> tuple[int, int] | None:
    if 1 <= row <= len(row_map) and row_map[row - 1][0] is cell:
        return row_map[row - 1][1], column
    if column == 1 and 2 <= row <= len(row_map) + 1:
        previous, previous_row = row_map[row - 2]
        if previous is cell and previous_row == len(cell.lines):
            return len(cell.lines) + 1, 1
    return None


def _needs_parse(source: str, enabled: frozenset[str]) -> bool:
    """The engine's prefilter, so a notebook that never mentions torch is treated exactly
    like such a ``.py`` file (not parsed)."""
    return bool(applicable_rules(source, enabled))


def notebook_error(path: str, message: str, settings: Settings) -> Diagnostic:
    """A ``DLX902 io-error`` diagnostic at the notebook's start (cell unset)."""
    return file_diagnostic(IO_ERROR, path, message, settings)
