"""Fixing files on disk: read, fix, re-encode, write atomically, in parallel.

Writing keeps everything but the edited text: the encoding (UTF-8, a byte-order mark, a PEP 263
coding cookie), the line endings (edits only touch their spans, and inserted lines use the line
break of the line they join), the file's permission bits and, where allowed, its owner. The new
contents go to a temporary file in the same directory, which then replaces the original with
``os.replace`` (atomic on POSIX and Windows), so a crash or a full disk never leaves a
half-written file. A file whose size, modification time or bytes changed since it was read, a
read-only file and a path that leads out of the project through a symbolic link are not
written; the outcome says so (`dlx_lint.atomic.replace_if_unchanged`).
"""

from __future__ import annotations

import difflib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..fixer import AppliedFix, fix_notebook, fix_source
from ..runner import read_bytes
from ..settings import Settings

NOTEBOOK_SUFFIX = ".ipynb"


@dataclass
class FileOutcome:
    """What fixing one file did.

    Attributes:
        path: the file's path as discovered.
        applied: the fixes applied (for ``--diff`` and standard input: that would be
            applied); empty when the file could not be written.
        diagnostics: what remains to report: the diagnostics of the fixed text, plus
            ``DLX999`` reports of dropped fixes; the plain lint result when the file could not
            be fixed at all (unreadable, not decodable).
        diff: a unified diff of the change (empty when nothing changed or not asked for).
        written: whether the file was rewritten.
        problem: why a changed file was not written (changed on disk, cannot encode or write).
        new_data: the new contents (stdin only; None otherwise).
    """

    path: str
    applied: list[AppliedFix] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    diff: str = ""
    written: bool = False
    problem: str | None = None
    new_data: bytes | None = None

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def fix_data(path: str, data: bytes, settings: Settings, *, unsafe: bool, want_diff: bool) -> FileOutcome:
    """Fix already-read contents of `path` (a notebook by its suffix); nothing is written.

    Returns:
        The outcome, with `new_data` set to the fixed bytes (the input when unchanged).
    """
    from ..engine import DecodeError, decode_source
    from ..runner import lint_data

    if path.endswith(NOTEBOOK_SUFFIX):
        from ..notebook import NotebookError

        try:
            new, result = fix_notebook(path, data, settings, unsafe=unsafe)
        except NotebookError:
            return FileOutcome(path, diagnostics=lint_data(path, data, settings), new_data=data)
        diff = _notebook_diff(path, data, new) if want_diff and result.changed else ""
        return FileOutcome(path, result.applied, result.remaining + result.errors, diff, new_data=new)
    try:
        decoded = decode_source(data)
    except DecodeError:
        return FileOutcome(path, diagnostics=lint_data(path, data, settings), new_data=data)
    result = fix_source(path, decoded.text, settings, unsafe=unsafe)
    outcome = FileOutcome(path, result.applied, result.remaining + result.errors, new_data=data)
    if not result.changed:
        return outcome
    try:
        outcome.new_data = result.text.encode(decoded.encoding)
    except UnicodeEncodeError:
        outcome.problem = f"the fixed text cannot be encoded as {decoded.encoding}; not written"
        outcome.applied = []
        outcome.diagnostics = lint_data(path, data, settings)
        return outcome
    if want_diff:
        outcome.diff = unified_diff(path, decoded.text, result.text)
    return outcome


def fix_file(path: str, settings: Settings, *, unsafe: bool, write: bool, want_diff: bool) -> FileOutcome:
    """Read, fix and (when `write`) atomically rewrite one file."""
    from ..engine import IO_ERROR, io_error_diagnostic

    try:
        before = os.stat(path)
        data = read_bytes(path)
    except OSError as error:
        diagnostics = [io_error_diagnostic(path, error, settings)] if IO_ERROR in settings.enabled_codes(path) else []
        return FileOutcome(path, diagnostics=diagnostics)
    outcome = fix_data(path, data, settings, unsafe=unsafe, want_diff=want_diff)
    new = outcome.new_data
    outcome.new_data = None  # not needed by callers of files; keeps results small across processes
    if write and outcome.changed and outcome.problem is None and new is not None and new != data:
        from ..atomic import project_root

        outcome.problem = write_atomically(path, new, data, before, project_root(path, settings.project_root))
        outcome.written = outcome.problem is None
        if not outcome.written:
            # Nothing changed on disk: report the file as it is.
            from ..runner import lint_data

            outcome.applied = []
            outcome.diagnostics = lint_data(path, data, settings)
    return outcome


def write_atomically(path: str, data: bytes, expected: bytes, before: os.stat_result, root: str | None = None) -> str | None:
    """Replace the file at `path` with `data` if it may be written and still holds `expected`
    (`dlx_lint.atomic.replace_if_unchanged`: not read-only, not a link out of the project
    `root`, unchanged since `before`).

    Returns:
        None on success, else a one-line reason the file was left alone.
    """
    from ..atomic import replace_if_unchanged

    return replace_if_unchanged(path, data, expected, before, root)


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff between two texts, labelled with `path`."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), path, path)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _notebook_diff(path: str, old: bytes, new: bytes) -> str:
    """Unified diffs of the changed cells' sources, one per cell."""
    from .notebook import load

    before, after = load(old), load(new)
    parts = []
    for index, source in after.sources.items():
        if before.sources.get(index) != source:
            parts.append(unified_diff(f"{path}:cell {index}", before.sources.get(index, ""), source))
    return "".join(parts)


# Below this many files the work runs in this process (as `dlx_lint.runner`).
MIN_FILES_PER_PROCESS = 8
MAX_CHUNK = 32


def fix_files(tasks: list[tuple[str, Settings]], *, unsafe: bool, write: bool, want_diff: bool,
              jobs: int | None = None) -> list[FileOutcome]:
    """Fix many files, in worker processes when there are enough of them.

    Returns:
        One outcome per task, in the order of `tasks`.
    """
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    workers = min(jobs, len(tasks) // MIN_FILES_PER_PROCESS)
    options = (unsafe, write, want_diff)
    if workers <= 1:
        return _fix_chunk((tasks, options))
    from ..registry import all_rules

    all_rules()
    size = max(1, min(MAX_CHUNK, -(-len(tasks) // (workers * 4))))
    chunks = [(tasks[start:start + size], options) for start in range(0, len(tasks), size)]
    try:
        executor = ProcessPoolExecutor(max_workers=workers)
    except (OSError, NotImplementedError, ImportError):
        return _fix_chunk((tasks, options))
    outcomes: list[FileOutcome] = []
    with executor:
        for part in executor.map(_fix_chunk, chunks):
            outcomes.extend(part)
    return outcomes


def _fix_chunk(work) -> list[FileOutcome]:
    tasks, (unsafe, write, want_diff) = work
    return [fix_file(path, settings, unsafe=unsafe, write=write, want_diff=want_diff) for path, settings in tasks]
