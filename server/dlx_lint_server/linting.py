"""Running the engine for one snapshot (on the lint worker thread) and converting the result.

A snapshot is taken on the event loop (text, version, effective settings); `lint_job` runs on
the worker thread, calls the engine and returns what to publish. An engine crash is logged
and yields nothing (the previous diagnostics stay), never an exception to the client.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from dlx_lint.diagnostics import Diagnostic
from dlx_lint.engine import lint_python_source
from dlx_lint.incremental import IncrementalLinter

from .convert import UTF16, to_lsp_diagnostic
from .documents import PublishedFile, Target
from .notebooks import CellSnapshot, lint_notebook_cells
from .settings import EffectiveSettings

logger = logging.getLogger(__name__)

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines as LSP and Python's tokenizer count them (``\\n``, ``\\r\\n``, ``\\r``), each
    with its line break; unlike `str.splitlines`, form feeds and U+2028 do not end a line."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class TextJob:
    """A text document to lint.

    Attributes:
        target: the store's target (its `cache` holds the incremental linter).
        uri: the document URI.
        version: the document version.
        text: the document text.
        path: the path given to the engine (file path, or the URI for non-file documents).
        settings: effective settings.
        encoding: the negotiated position encoding.
    """

    target: Target
    uri: str
    version: int | None
    text: str
    path: str
    settings: EffectiveSettings
    encoding: str = UTF16


@dataclass(frozen=True)
class NotebookJob:
    """A notebook to lint (all its cells at one notebook version).

    Attributes:
        uri: the notebook URI.
        version: the notebook version.
        cells: the cells' snapshot.
        path: the path given to the engine.
        settings: effective settings.
        encoding: the negotiated position encoding.
    """

    uri: str
    version: int | None
    cells: tuple[CellSnapshot, ...]
    path: str
    settings: EffectiveSettings
    encoding: str = UTF16


@dataclass(frozen=True)
class Outcome:
    """What to publish: one entry per text document or notebook cell.

    Attributes:
        files: the results.
        incomplete: cross-file lookups ran out of time during this lint (a later lint, when
            jedi has answered in the background, may find more).
        version: the linted version (text documents).
    """

    files: tuple[PublishedFile, ...]
    incomplete: bool = False
    version: int | None = None


def _published(uri: str, version: int | None, text: str, diagnostics: list[Diagnostic], settings: EffectiveSettings, encoding: str) -> PublishedFile:
    lines = split_lines(text)
    lsp = [
        to_lsp_diagnostic(d, lines, version=version, severity_overrides=settings.severity, encoding=encoding)
        for d in diagnostics
    ]
    return PublishedFile(uri=uri, version=version, lines=lines, diagnostics=list(diagnostics), lsp=lsp)


def lint_text(job: TextJob) -> list[Diagnostic]:
    """The engine's diagnostics for a text document, reusing the document's parse cache.

    Raises:
        Exception: whatever the engine raises (callers log it).
    """
    linter = job.target.cache
    if not isinstance(linter, IncrementalLinter):
        linter = IncrementalLinter()
        job.target.cache = linter
    return linter.lint(job.path, job.text, job.settings.engine)


def lint_job(job: Any) -> Outcome | None:
    """Lint a `TextJob` or `NotebookJob`; None (and a logged error) when the engine fails."""
    try:
        if isinstance(job, TextJob):
            before = _timeouts() if job.settings.engine.cross_file else 0
            diagnostics = lint_text(job)
            incomplete = job.settings.engine.cross_file and _timeouts() > before
            return Outcome((_published(job.uri, job.version, job.text, diagnostics, job.settings, job.encoding),),
                           incomplete=incomplete, version=job.version)
        if isinstance(job, NotebookJob):
            by_cell = lint_notebook_cells(job.path, job.cells, job.settings.engine)
            files = []
            for cell in job.cells:
                if cell.uri in by_cell:
                    files.append(_published(cell.uri, cell.version, cell.text, by_cell[cell.uri], job.settings, job.encoding))
            return Outcome(tuple(files))
    except Exception:
        logger.exception("dlx-lint: the engine failed on %s", getattr(job, "uri", job))
        return None
    logger.error("dlx-lint: unknown lint job %r", job)
    return None


def _timeouts() -> int:
    from .expert import cross_file_timeouts

    return cross_file_timeouts()


def lint_once(path: str, text: str, settings: EffectiveSettings) -> list[Diagnostic]:
    """A plain (non-incremental) lint, for requests that need a fresh result."""
    return lint_python_source(path, text, settings.engine)
