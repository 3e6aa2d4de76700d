"""Which documents are open, when to lint them (debounced per document, off the event loop)
and which results may still be published.

Every open text document or notebook is a *target*. Each open, change, save or settings
change bumps the target's generation and (re)starts its debounce timer; when the timer fires,
the current text is snapshotted on the event loop and linted on a single worker thread. A
result is published only if the target's generation is still the one it was started for, so a
result computed for version N is dropped once version N+1 has arrived (even if N's lint
finishes later), and nothing is published after a close. A job whose generation is already
stale when the worker picks it up is skipped without linting, so a burst of changes costs one
lint, not one per keystroke.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Sequence

from lsprotocol import types

from dlx_lint.diagnostics import Diagnostic

logger = logging.getLogger(__name__)


@dataclass
class PublishedFile:
    """The diagnostics last published for one URI (a text document or a notebook cell).

    Attributes:
        uri: the document or cell URI.
        version: the version the diagnostics were computed for.
        lines: the linted text, split into lines (line breaks kept).
        diagnostics: the engine's diagnostics, parallel to `lsp`.
        lsp: the LSP diagnostics sent to the client.
        result_id: identifies this result for pull diagnostics (``previousResultId``).
    """

    uri: str
    version: int | None
    lines: Sequence[str]
    diagnostics: list[Diagnostic]
    lsp: list[types.Diagnostic]
    result_id: str = ""


@dataclass
class Target:
    """An open text document or notebook.

    Attributes:
        uri: document or notebook URI.
        is_notebook: a notebook (its cells are published separately).
        generation: bumped on every event that makes earlier results stale.
        timer: the pending debounce timer, if any.
        cache: per-document state of the engine's incremental linter (owned by the lint
            thread while a job runs).
        cell_uris: for a notebook, the cell URIs published last time (to clear removed cells).
        running: a lint job for this target is queued or running.
        retried_version: the document version last re-linted because cross-file lookups ran
            out of time (at most one retry per version).
    """

    uri: str
    is_notebook: bool
    generation: int = 0
    timer: asyncio.TimerHandle | None = None
    cache: Any = None
    cell_uris: set[str] = field(default_factory=set)
    running: bool = False
    retried_version: Any = None


# snapshot(target) -> job or None; runs on the event loop, must be quick.
SnapshotFn = Callable[[Target], Any]
# lint(job) -> outcome; runs on the worker thread.
LintFn = Callable[[Any], Any]
# publish(target, outcome); runs on the event loop.
PublishFn = Callable[[Target, Any], None]


class DocumentStore:
    """Targets, their debounce timers, the lint worker and the last published results.

    Args:
        snapshot: captures what to lint for a target (called on the event loop).
        lint: lints a snapshot (called on the worker thread; must not raise).
        publish: sends an outcome to the client (called on the event loop, only when the
            outcome is still current).
    """

    def __init__(self, snapshot: SnapshotFn, lint: LintFn, publish: PublishFn) -> None:
        self._snapshot = snapshot
        self._lint = lint
        self._publish = publish
        self.targets: dict[str, Target] = {}
        self.published: dict[str, PublishedFile] = {}
        # One worker: jobs run in order and share nothing; a stale job is skipped at start.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlx-lint")
        self._tasks: set[asyncio.Task] = set()
        self._waiters: dict[str, list[asyncio.Future]] = {}
        self._result_counter = 0
        self._holds = 0
        self._held: set[str] = set()

    def open(self, uri: str, *, is_notebook: bool = False) -> Target:
        """Start tracking a document (re-opening resets it)."""
        old = self.targets.get(uri)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        target = Target(uri=uri, is_notebook=is_notebook, generation=(old.generation + 1 if old else 0))
        self.targets[uri] = target
        return target

    def close(self, uri: str) -> Target | None:
        """Stop tracking a document: cancels its timer and makes in-flight results stale.

        Returns:
            The removed target (its `cell_uris` tell which cells to clear), or None.
        """
        target = self.targets.pop(uri, None)
        if target is None:
            return None
        target.generation += 1
        if target.timer is not None:
            target.timer.cancel()
            target.timer = None
        self.published.pop(uri, None)
        for cell_uri in target.cell_uris:
            self.published.pop(cell_uri, None)
        self.wake(uri)
        return target

    def request_lint(self, uri: str, delay_ms: float = 0) -> None:
        """(Re)schedule a lint of `uri` after `delay_ms` milliseconds; earlier results and
        pending timers for it become stale. Unknown URIs are ignored."""
        target = self.targets.get(uri)
        if target is None:
            return
        target.generation += 1
        if target.timer is not None:
            target.timer.cancel()
        loop = asyncio.get_running_loop()
        target.timer = loop.call_later(max(0.0, delay_ms) / 1000.0, self._start, uri, target.generation)

    def invalidate(self, uri: str) -> None:
        """Make pending and running results for `uri` stale without scheduling a lint
        (a change while linting on change is off)."""
        target = self.targets.get(uri)
        if target is not None:
            target.generation += 1
            target.running = False  # a job still running has become stale
            if target.timer is not None:
                target.timer.cancel()
                target.timer = None
            self.wake(uri)

    def is_current(self, uri: str, generation: int) -> bool:
        """Whether a job started for `generation` may still publish (thread-safe read)."""
        target = self.targets.get(uri)
        return target is not None and target.generation == generation

    def hold(self) -> None:
        """Keep lints from starting (settings are being fetched from the client): a result
        computed with the old settings would be published as the document's current one."""
        self._holds += 1

    def release(self) -> None:
        """Undo one `hold`; when none is left, lint what was held back."""
        self._holds = max(0, self._holds - 1)
        if self._holds == 0:
            held, self._held = self._held, set()
            for uri in held:
                self.request_lint(uri, 0)

    def _start(self, uri: str, generation: int) -> None:
        target = self.targets.get(uri)
        if target is None or target.generation != generation:
            return
        target.timer = None
        if self._holds:
            self._held.add(uri)
            return
        try:
            job = self._snapshot(target)
        except Exception:
            logger.exception("dlx-lint: cannot read %s for linting", uri)
            return
        if job is None:
            return
        target.running = True
        task = asyncio.ensure_future(self._run(target, generation, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, target: Target, generation: int, job: Any) -> None:
        loop = asyncio.get_running_loop()
        uri = target.uri

        def work():
            if not self.is_current(uri, generation):
                return None  # superseded while queued: skip the work
            return self._lint(job)

        try:
            outcome = await loop.run_in_executor(self.executor, work)
        except Exception:
            logger.exception("dlx-lint: linting %s failed", uri)
            return
        finally:
            if self.is_current(uri, generation):
                target.running = False
        if not self.is_current(uri, generation):
            return  # superseded: the newer job publishes and wakes the waiters
        try:
            if outcome is not None:  # None: the engine failed (logged); keep the old result
                self._publish(target, outcome)
        except Exception:
            logger.exception("dlx-lint: publishing diagnostics for %s failed", uri)
        finally:
            self.wake(uri)

    def remember(self, published: PublishedFile) -> None:
        """Store a result as the latest for its URI, with a fresh result id, and wake the
        requests waiting for it."""
        self._result_counter += 1
        published.result_id = str(self._result_counter)
        self.published[published.uri] = published
        self.wake(published.uri)

    def wake(self, uri: str) -> None:
        """Resolve every `results_for` call waiting on `uri`."""
        for waiter in self._waiters.pop(uri, []):
            if not waiter.done():
                waiter.set_result(None)

    async def results_for(self, uri: str, version: int | None, *, lint_if_idle: bool = True, timeout: float = 60.0) -> PublishedFile | None:
        """The latest result for `uri`, waiting for one computed for `version` when a lint
        is pending or running (pull diagnostics answer with current results).

        Args:
            uri: a text document URI (notebook cells: whatever was published last).
            version: the document's current version.
            lint_if_idle: start a lint now when none is pending and the result is stale.
            timeout: give up waiting after this many seconds and return what there is.
        """
        published = self.published.get(uri)
        target = self.targets.get(uri)
        if (published is not None and published.version == version) or target is None:
            return published
        if target.timer is None and not target.running:
            if not lint_if_idle:
                return published
            self.request_lint(uri, 0)
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(uri, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            logger.warning("dlx-lint: no result for %s after %.0f s", uri, timeout)
        return self.published.get(uri)

    async def run_now(self, job: Any) -> Any:
        """Lint a snapshot on the worker thread and return the outcome without publishing
        (for requests that need results for the current text, e.g. fix-all).

        Raises:
            Whatever the lint function raises (it should not).
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._lint, job)

    def shutdown(self) -> None:
        """Cancel timers and stop the worker (pending jobs are dropped)."""
        for target in self.targets.values():
            if target.timer is not None:
                target.timer.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
