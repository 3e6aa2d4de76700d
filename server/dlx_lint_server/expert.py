"""Expert hovers and parameter-count inlay hints: a thin adapter over `dlx_lint.expert`.

The engine does the work (`dlx_lint.expert.hover.expert_hover`, `params.estimate_calls`);
this module keeps, per document, the parsed file's semantic model and hover targets for the
text they were built from (an `Analysis`, rebuilt when the text changes; the lint thread's
parse is reused when it is of the same text), runs requests on one worker thread (never on the
event loop), and converts positions with `convert` (the only code-point/UTF-16 conversion).

Limits: an estimate stops after `HOVER_SECONDS` (its Markdown then says so), cross-file
lookups during a hover share a budget of `HOVER_SECONDS`, and the handler waits at most
`HOVER_WAIT_SECONDS` for the worker before answering without the expert part.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

import libcst as cst
from lsprotocol import types

from dlx_lint.engine import MAX_SOURCE_CHARS, build_model
from dlx_lint.parsing import parse_module
from dlx_lint.expert.hover import expert_hover
from dlx_lint.expert.locate import HoverTargets
from dlx_lint.expert.memory import short_count
from dlx_lint.expert.params import estimate_calls, is_candidate
from dlx_lint.settings import Settings

from .convert import UTF16, from_position, to_position, to_range

logger = logging.getLogger(__name__)

HOVER_SECONDS = 0.5
HOVER_WAIT_SECONDS = 1.5
INLAY_SECONDS = 1.0
LINT_CROSS_FILE_BUDGET = 2.0
LOOKUP_TIMEOUT = 0.5
_CACHED_DOCUMENTS = 8


@dataclass
class Analysis:
    """What expert requests need for one document text.

    Attributes:
        digest: SHA-1 of the text it was built from.
        model: the semantic model (with the cross-file resolver when enabled).
        targets: hoverable nodes and their spans.
        call_spans: spans of module-constructing calls (for inlay hints), built on first use.
    """

    digest: str
    model: Any
    targets: HoverTargets
    call_spans: dict | None = None


class ExpertService:
    """Per-document analyses and the worker thread expert requests run on."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlx-lint-expert")
        self._analyses: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    def forget(self, uri: str) -> None:
        with self._lock:
            self._analyses.pop(uri, None)

    def analysis(self, uri: str, text: str, path: str, settings: Settings, module: cst.Module | None = None) -> Analysis | None:
        """The analysis of `text` (cached per document; `module` is a parse of the same text
        to reuse). None when the text does not parse."""
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest() + ("+x" if settings.cross_file else "")
        with self._lock:
            found = self._analyses.get(uri)
            if found is not None and found.digest == digest:
                self._analyses.move_to_end(uri)
                return found
        if module is None:
            if len(text) > MAX_SOURCE_CHARS:
                return None
            try:
                module = parse_module(text)
            except (cst.ParserSyntaxError, RecursionError):
                return None
        model = build_model(module, text, path, settings)
        analysis = Analysis(digest, model, HoverTargets(model))
        with self._lock:
            self._analyses[uri] = analysis
            self._analyses.move_to_end(uri)
            while len(self._analyses) > _CACHED_DOCUMENTS:
                self._analyses.popitem(last=False)
        return analysis


def hover(analysis: Analysis, lines: Sequence[str], position: types.Position, encoding: str = UTF16) -> tuple[str, types.Range] | None:
    """The expert hover at an LSP position (runs on the worker thread)."""
    row, column = from_position(lines, position, encoding)
    request = getattr(analysis.model.resolver, "request", None)
    if request is not None:
        with request(HOVER_SECONDS):
            found = expert_hover(analysis.model, row, column - 1, targets=analysis.targets, time_limit=HOVER_SECONDS)
    else:
        found = expert_hover(analysis.model, row, column - 1, targets=analysis.targets, time_limit=HOVER_SECONDS)
    if found is None:
        return None
    markdown, (start_row, start_col, end_row, end_col) = found
    return markdown, to_range(lines, start_row, start_col + 1, end_row, end_col + 1, encoding)


def inlay_hints(analysis: Analysis, lines: Sequence[str], range_: types.Range, encoding: str = UTF16) -> list[types.InlayHint]:
    """Parameter counts after the module-constructing calls inside `range_` (worker thread).

    A hint reads `` 45.1M params`` (``≥`` when some size is not static; ``×3`` when the call
    builds several modules, e.g. in a loop); its tooltip holds the exact count."""
    model = analysis.model
    if analysis.call_spans is None:
        from dlx_lint.positions import compute_spans

        candidates = [target.node for target in analysis.targets.of_kind("call") if is_candidate(model, target.node)]  # type: ignore[arg-type]
        analysis.call_spans = compute_spans(model.module, candidates)
    first = range_.start.line + 1
    last = range_.end.line + 1
    calls = [call for call, span in analysis.call_spans.items() if first <= span[2] <= last]
    if not calls:
        return []
    request = getattr(model.resolver, "request", None)
    if request is not None:
        with request(INLAY_SECONDS):
            estimates = estimate_calls(model, calls, time_limit=INLAY_SECONDS)
    else:
        estimates = estimate_calls(model, calls, time_limit=INLAY_SECONDS)
    hints = []
    for call, estimate in estimates.items():
        if estimate.count <= 0:
            continue
        span = analysis.call_spans[call]
        prefix = "" if estimate.exact else "≥"
        times = f" ×{estimate.times}" if estimate.times > 1 and not estimate.label.endswith("different sizes)") else ""
        label = f"{prefix}{short_count(estimate.count)} params{times}"
        tooltip = f"{estimate.count:,} parameters" + ("" if estimate.exact else " counted; some sizes are not static")
        hints.append(types.InlayHint(
            position=to_position(lines, span[2], span[3] + 1, encoding),
            label=label,
            kind=types.InlayHintKind.Type,
            padding_left=True,
            tooltip=tooltip,
        ))
    hints.sort(key=lambda h: (h.position.line, h.position.character))
    return hints


def warm_up(path: str, settings: Settings) -> None:
    """Create the workspace's resolver and start jedi ahead of the first lookup (worker thread)."""
    if not settings.cross_file:
        return
    from dlx_lint import crossfile

    resolver = crossfile.resolver_for(path, settings)
    if resolver is not None:
        resolver.warm_up()


def configure_cross_file() -> None:
    """The server's cross-file limits: short lookups, a budget per lint (hovers and inlay
    hints open their own, shorter ones)."""
    from dlx_lint import crossfile

    crossfile.configure(call_timeout=LOOKUP_TIMEOUT, request_budget=LINT_CROSS_FILE_BUDGET)


def use_workspace_folders(params: types.InitializeParams) -> None:
    """Tell cross-file inference the client's workspace folders (its project roots)."""
    from pygls.uris import to_fs_path

    from dlx_lint import crossfile

    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    paths = [to_fs_path(uri) for uri in uris if uri.startswith("file:")]
    if not paths and params.root_path:
        paths = [params.root_path]
    crossfile.add_workspace_roots([p for p in paths if p])


def cross_file_timeouts() -> int:
    """Lookups abandoned so far by every resolver of the process (a lint whose count grew may
    have missed cross-file facts; the server re-lints it once)."""
    from dlx_lint import crossfile

    return sum(stats.get("timeouts", 0) for stats in crossfile.all_stats().values())
