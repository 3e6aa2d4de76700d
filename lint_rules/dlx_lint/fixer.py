"""Fix-all: apply fixes, re-parse, re-lint, repeat until nothing changes.

`fix_source` is the library entry point for Python text (the CLI's ``--fix`` and the language
server's fix-all call it); `fix_notebook` does the same for the bytes of a ``.ipynb`` file.

One pass lints the text, takes the applicable fixes (safe ones; unsafe ones too with
``unsafe=True``; display-only ones never), applies those that do not overlap (the others wait
for the next pass, see `dlx_lint.fixes.apply`) and checks the result. Passes repeat until no
fix applies, the text repeats, or `MAX_PASSES` is reached.

Guarantees:
- Suppressed findings have no fix, and no fix changes a line whose ``# noqa`` names its rule
  (the engine drops such fixes).
- The result parses: after each pass the text must parse with libcst, and compile with
  CPython when the original did. A fix that breaks this is dropped and reported as a
  ``DLX999`` diagnostic naming its rule (a bug in dlx-lint); it is never part of the result.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, Sequence

import libcst as cst

from .diagnostics import Applicability, Diagnostic, Fix, Severity, rule_url
from .engine import INTERNAL_ERROR, NOTEBOOK_SUFFIX, lint_python_source
from .fixes.apply import apply_fixes
from .parsing import parse_module
from .settings import Settings

MAX_PASSES = 10


class AppliedFix(NamedTuple):
    """One applied fix: the rule code and the fix's title."""

    code: str
    title: str


@dataclass
class FixResult:
    """What fixing one text did.

    Attributes:
        text: the fixed text (the input when nothing applied).
        applied: the fixes applied, in order, over all passes.
        remaining: the diagnostics of the fixed text (what is left to do by hand).
        errors: ``DLX999`` diagnostics for fixes that were dropped because their result did
            not parse (positions are those of the finding in the text it was offered for).
        passes: lint passes run.
    """

    text: str
    applied: list[AppliedFix] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    passes: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def applies(fix: Fix | None, unsafe: bool) -> bool:
    """Whether `--fix` applies a fix: safe ones always, unsafe ones with ``--unsafe-fixes``,
    display-only ones never."""
    if fix is None:
        return False
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


class Document(Protocol):
    """What the fix loop needs from a text (a Python file or a notebook's cells)."""

    key: object

    def diagnostics(self) -> list[Diagnostic]: ...

    def apply(self, diagnostics: Sequence[Diagnostic]) -> tuple["Document", list[Diagnostic]]: ...

    def valid(self, must_compile: bool) -> bool: ...

    def compiles(self) -> bool: ...

    def report(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic as callers see it (notebooks: relative to its cell)."""
        ...


class PythonDocument:
    """A Python source text being fixed."""

    def __init__(self, path: str, text: str, settings: Settings) -> None:
        self.path = path
        self.text = text
        self.key = text
        self.settings = settings
        self._diagnostics: list[Diagnostic] | None = None

    def diagnostics(self) -> list[Diagnostic]:
        if self._diagnostics is None:
            self._diagnostics = lint_python_source(self.path, self.text, self.settings)
        return self._diagnostics

    def apply(self, diagnostics: Sequence[Diagnostic]) -> tuple["PythonDocument", list[Diagnostic]]:
        text, chosen = apply_fixes(self.text, [d.fix for d in diagnostics])  # type: ignore[misc]
        return PythonDocument(self.path, text, self.settings), [diagnostics[i] for i in sorted(chosen)]

    def valid(self, must_compile: bool) -> bool:
        return parses(self.text) and (not must_compile or compiles(self.text))

    def compiles(self) -> bool:
        return compiles(self.text)

    def report(self, diagnostic: Diagnostic) -> Diagnostic:
        return diagnostic


def parses(text: str) -> bool:
    """Whether libcst parses `text`."""
    try:
        parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return False
    return True


def compiles(text: str, *, top_level_await: bool = False) -> bool:
    """Whether CPython compiles `text` (catches what the grammar allows but the compiler
    rejects, e.g. a name used before its ``global`` declaration)."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if top_level_await else 0
    try:
        compile(text, "<dlx-lint fix>", "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def fix_source(path: str, text: str, settings: Settings | None = None, *, unsafe: bool = False,
               max_passes: int = MAX_PASSES) -> FixResult:
    """Fix one file's text until stable: Python source, or a notebook's JSON when `path` ends
    in ``.ipynb`` (as `fix_notebook`; `text` of the result is then the new JSON and the
    diagnostics are cell-relative).

    Args:
        path: the file's path (settings lookups and diagnostics).
        text: the source text.
        settings: effective settings (which rules run, `extend-safe-fixes`...); defaults
            when None.
        unsafe: also apply unsafe fixes (``--unsafe-fixes``).
        max_passes: bound on lint-and-fix passes.

    Returns:
        The fixed text, what was applied, what remains, and dropped-fix errors.

    Raises:
        dlx_lint.notebook.NotebookError: an ``.ipynb`` text that is not a readable notebook.
    """
    if path.endswith(NOTEBOOK_SUFFIX):
        data, result = fix_notebook(path, text.encode("utf-8"), settings, unsafe=unsafe, max_passes=max_passes)
        result.text = data.decode("utf-8")
        return result
    document = PythonDocument(path, text, settings or Settings())
    _, result = run(document, unsafe=unsafe, max_passes=max_passes)
    return result


def run(document: Document, *, unsafe: bool, max_passes: int) -> tuple[Document, FixResult]:
    """The fix loop over any `Document`.

    Args:
        document: the text to fix.
        unsafe: also apply unsafe fixes.
        max_passes: bound on passes.

    Returns:
        (the final document, the result).
    """
    applied: list[AppliedFix] = []
    errors: list[Diagnostic] = []
    blocked: set = set()
    must_compile = document.compiles()
    seen = {document.key}
    passes = 0
    for _ in range(max_passes):
        passes += 1
        candidates = [d for d in document.diagnostics() if applies(d.fix, unsafe) and _fix_key(d) not in blocked]
        if not candidates:
            break
        new, taken = document.apply(candidates)
        if not taken:
            break  # nothing can be applied (in a notebook: no fix maps to the cells)
        if not new.valid(must_compile):
            new, taken = _without_broken(document, taken, must_compile, blocked, errors)
            if not taken:
                continue  # every fix of this pass was broken and is blocked; retry the rest
        applied.extend(AppliedFix(d.code, d.fix.message) for d in taken)  # type: ignore[union-attr]
        document = new
        if document.key in seen:
            break  # fixes undo each other: stop rather than loop
        seen.add(document.key)
    remaining = [document.report(d) for d in document.diagnostics()]
    text = document.text  # type: ignore[attr-defined]
    return document, FixResult(text, applied, remaining, errors, passes)


def _without_broken(document: Document, taken: list[Diagnostic], must_compile: bool, blocked: set,
                    errors: list[Diagnostic]) -> tuple[Document, list[Diagnostic]]:
    """Re-apply a pass without the fixes whose result does not parse on its own; if the rest
    still breaks together, apply only the first (the others wait for the next pass)."""
    good = []
    for diagnostic in taken:
        alone, _ = document.apply([diagnostic])
        if alone.valid(must_compile):
            good.append(diagnostic)
        else:
            blocked.add(_fix_key(diagnostic))
            errors.append(broken_fix_error(document.report(diagnostic)))
    while good:
        new, chosen = document.apply(good)
        if new.valid(must_compile):
            return new, chosen
        good = good[:1] if len(good) > 1 else []
        if not good:
            break
    return document, []


def _fix_key(diagnostic: Diagnostic) -> tuple:
    fix = diagnostic.fix
    assert fix is not None
    return (diagnostic.code, fix.message, tuple(edit.content for edit in fix.edits))


def broken_fix_error(diagnostic: Diagnostic) -> Diagnostic:
    """The ``DLX999`` diagnostic reporting a dropped fix, at the finding's position."""
    title = diagnostic.fix.message if diagnostic.fix is not None else ""
    return dataclasses.replace(
        diagnostic,
        code=INTERNAL_ERROR,
        name="internal-error",
        message=(
            f"the fix of {diagnostic.code} ({title}) would produce code that does not parse or compile; "
            "it was not applied (a dlx-lint bug: please report it)"
        ),
        severity=Severity.ERROR,
        fix=None,
        url=rule_url(INTERNAL_ERROR, "internal-error"),
        noqa_row=None,
    )


def fix_notebook(path: str, data: bytes, settings: Settings | None = None, *, unsafe: bool = False,
                 max_passes: int = MAX_PASSES) -> tuple[bytes, FixResult]:
    """Fix the code cells of a notebook until stable.

    Args:
        path: the notebook's path.
        data: the file's bytes.
        settings: effective settings.
        unsafe: also apply unsafe fixes.

    Returns:
        (the new bytes, identical to `data` when nothing changed: only the ``source`` of
        changed cells is rewritten, in the file's own JSON layout; the result, whose `text` is
        the joined code of the cells and whose diagnostics are relative to cells).

    Raises:
        dlx_lint.notebook.NotebookError: the bytes are not a notebook that can be read.
    """
    from .fixes.notebook import NotebookDocument, load

    from .notebook import lint_notebook

    settings = settings or Settings()
    document = NotebookDocument(path, load(data), settings)
    final, result = run(document, unsafe=unsafe, max_passes=max_passes)
    new_data = final.notebook_bytes()  # type: ignore[attr-defined]
    # The fix loop sees only the cells that parse; what remains is what `check` reports on the
    # result, including a DLX900 for each cell that does not parse (it used to vanish, and a
    # notebook with a broken cell passed `--fix` with exit status 0).
    result.remaining = lint_notebook(path, new_data, settings)
    return new_data, result
