"""Wiring: the pygls server, its LSP features, and the guard that keeps it alive.

Every handler is wrapped by `guarded`: an exception is logged (stderr and
``window/logMessage``) and the request gets an empty answer, so no request or notification
can take the server down or surface a Python traceback as a protocol error.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import logging
import sys
import threading
from typing import Any, Callable
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path, uri_scheme

from dlx_lint import __version__

from . import code_actions, expert as expert_module, framing, hover as hover_module
from .convert import UTF16
from .documents import DocumentStore, Target
from .linting import NotebookJob, Outcome, TextJob, lint_job, split_lines
from .notebooks import snapshot_cells
from .settings import SECTION, SettingsStore

logger = logging.getLogger("dlx_lint_server")

PYTHON_LANGUAGE_IDS = ("python", "ipython")
PYTHON_SUFFIXES = (".py", ".pyi")
PYPROJECT_GLOB = "**/pyproject.toml"
RETRY_AFTER_MS = 1000
WATCHER_REGISTRATION_ID = "dlx-lint-pyproject-watcher"

NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(notebook=kind, cells=[types.NotebookCellLanguage(language="python")])
        for kind in ("jupyter-notebook", "interactive")
    ],
    save=True,
)


def guarded(default: Any = None) -> Callable:
    """Wrap a handler (sync or async) so an exception is logged and `default` returned."""

    def decorate(handler: Callable) -> Callable:
        if inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def async_wrapper(*args, **kwargs):
                try:
                    return await handler(*args, **kwargs)
                except Exception:
                    logger.exception("dlx-lint: %s failed", handler.__name__)
                    return default
            return async_wrapper

        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception:
                logger.exception("dlx-lint: %s failed", handler.__name__)
                return default
        return wrapper

    return decorate


class ClientLogHandler(logging.Handler):
    """Forwards log records to the client as ``window/logMessage`` (from any thread)."""

    LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, server: "DlxLintServer") -> None:
        super().__init__()
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed():
            return
        try:
            message = self.format(record)
            kind = self.LEVELS.get(record.levelno, types.MessageType.Error if record.levelno > logging.ERROR else types.MessageType.Log)
            params = types.LogMessageParams(type=kind, message=message)
            loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:  # logging must never raise
            pass


class _Answered:
    """Marks a request already answered with an error while it was being read."""


INVALID_REQUEST = -32600


class DlxLintProtocol(LanguageServerProtocol):
    """pygls' protocol, plus an error response for a request whose params cannot be read
    and for a request that is not JSON-RPC 2.0 (no or another ``jsonrpc`` member).

    pygls reports the first only as an out-of-band error and drops the second with a log
    line, so the client would wait forever for the answer; JSON-RPC asks for Invalid Params
    (-32602) and Invalid Request (-32600) responses.
    """

    def structure_message(self, data: dict[str, Any]):
        if (isinstance(data, dict) and "jsonrpc" in data and "method" in data and "params" not in data
                and isinstance(data["method"], str) and self.get_message_type(data["method"]) is None):
            # `params` may be omitted (JSON-RPC 2.0, 4.2); pygls' generic message types require
            # it, which turned an unknown method without params into an Internal Error.
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                logger.warning("dlx-lint: invalid %s request: %s", data.get("method"), error)
                self._send_response(data["id"], error=types.ResponseError(code=error.code, message=f"{error.message}: cannot read the parameters of {data.get('method')}"))
                return _Answered()
            raise

    def handle_message(self, message):
        if isinstance(message, _Answered):
            return
        if isinstance(message, dict) or getattr(message, "jsonrpc", None) != self.VERSION:
            if isinstance(message, dict):
                request = "id" in message and "method" in message
                request_id, method = message.get("id"), message.get("method")
            else:
                request = hasattr(message, "id") and hasattr(message, "method")
                request_id, method = getattr(message, "id", None), getattr(message, "method", None)
            if request:
                logger.warning("dlx-lint: %s request %r is not JSON-RPC 2.0", method, request_id)
                self._send_response(request_id, error=types.ResponseError(
                    code=INVALID_REQUEST, message='Invalid Request: "jsonrpc": "2.0" is required'))
            else:
                logger.warning("dlx-lint: ignored a message that is not JSON-RPC 2.0")
            return
        super().handle_message(message)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        """pygls keeps the future of every handler it runs under an id in
        ``_request_futures`` (so ``$/cancelRequest`` can find it), but removes it only for
        client requests, when the response is sent. Notifications (``didChange``: pygls'
        built-in handler is a generator) and the user handlers that built-in handlers chain
        to get a fresh id each and were never removed: about 2 KB leaked per keystroke.
        Here every other future is removed once it is done."""
        if not (isinstance(callback, functools.partial) and callback.func == self._send_handler_result):
            inner = callback

            def callback(future, _inner=inner, _id=msg_id):
                if self._request_futures.get(_id) is future:
                    del self._request_futures[_id]
                _inner(future)

        super()._execute_handler(msg_id, handler, callback, args, kwargs)


class DlxLintServer(LanguageServer):
    """The dlx-lint language server: documents, settings and the lint worker.

    Attributes:
        settings: editor settings and ``pyproject.toml`` discovery.
        store: open documents, debounce timers, the lint worker, published results.
        loop: the event loop (set on the first message; used by the log handler).
    """

    def __init__(self) -> None:
        super().__init__("dlx-lint", __version__, notebook_document_sync=NOTEBOOK_SYNC, protocol_cls=DlxLintProtocol)
        self.settings = SettingsStore()
        self.store = DocumentStore(self.snapshot, lint_job, self.publish)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reported_problems: set[str] = set()
        self.watching_files = False
        self.expert = expert_module.ExpertService()

    def start_io(self, stdin=None, stdout=None) -> None:
        """Serve on standard input/output until ``exit`` or end of input, reading frames with
        `framing.read_messages` (which recovers from malformed frames) instead of pygls' reader."""
        self._stop_event = threading.Event()
        reader = framing.BlockingReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        handle = framing.dispatch(self.protocol, self.report_server_error, JsonRpcException)
        try:
            asyncio.run(framing.read_messages(reader, handle, self._stop_event))
        except BrokenPipeError:
            logger.error("dlx-lint: the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def report_server_error(self, error: Exception, source) -> None:
        """Log protocol-level errors (unreadable JSON, ...) instead of pygls' default popup:
        the client's misbehaviour is no news for the user."""
        logger.error("dlx-lint: protocol error (%s): %s", getattr(source, "__name__", source), error)

    # -- helpers -----------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The negotiated position encoding (``utf-16`` unless the client asked otherwise)."""
        try:
            value = self.workspace.position_encoding
        except RuntimeError:
            return UTF16
        return getattr(value, "value", value) or UTF16

    def document(self, uri: str):
        """The open text document (or notebook cell) for `uri`, or None (never read from disk)."""
        try:
            return self.workspace.text_documents.get(unquote(uri))
        except RuntimeError:
            return None

    @staticmethod
    def engine_path(uri: str) -> tuple[str, str | None]:
        """(path given to the engine, file-system path or None). Untitled documents and
        non-file URIs get no file-system path, hence no ``pyproject.toml`` lookup."""
        if uri_scheme(uri) == "file":
            path = to_fs_path(uri)
            if path:
                return path, path
        return uri, None

    def client_supports(self, dotted: str) -> bool:
        """Whether a client capability (dotted path, e.g. ``workspace.configuration``) is true."""
        try:
            current: Any = self.client_capabilities
        except AttributeError:  # before `initialize`
            return False
        for part in dotted.split("."):
            current = getattr(current, part, None)
            if current is None:
                return False
        return bool(current)

    def notify_problems(self, problems: list[str] | tuple[str, ...]) -> None:
        """Show each settings/configuration problem once (``window/showMessage``) and log it."""
        for problem in problems:
            if problem in self.reported_problems:
                continue
            self.reported_problems.add(problem)
            logger.warning("%s", problem)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"dlx-lint: {problem}"))

    def apply_log_level(self) -> None:
        """Set the server's logger to the `logLevel` setting."""
        logging.getLogger("dlx_lint_server").setLevel(self.settings.editor.log_level)

    # -- linting -----------------------------------------------------------------------

    def snapshot(self, target: Target):
        """The lint job for a target's current text (on the event loop)."""
        encoding = self.encoding
        path, fs_path = self.engine_path(target.uri)
        effective = self.settings.resolve(fs_path)
        self.notify_problems([m.removeprefix("dlx-lint: ") for m in self.settings.pending_messages])
        self.settings.pending_messages.clear()
        if target.is_notebook:
            notebook = self.workspace.get_notebook_document(notebook_uri=target.uri)
            if notebook is None:
                return None
            cells = snapshot_cells(notebook, self.workspace)
            return NotebookJob(target.uri, notebook.version, cells, path, effective, encoding)
        document = self.document(target.uri)
        if document is None:
            return None
        return TextJob(target, target.uri, document.version, document.source, path, effective, encoding)

    def publish(self, target: Target, outcome: Outcome) -> None:
        """Send an outcome's diagnostics (called only while it is current). A lint whose
        cross-file lookups ran out of time is repeated once for that version, a second later,
        when jedi has usually answered in the background."""
        if outcome.incomplete and target.retried_version != outcome.version:
            target.retried_version = outcome.version
            self.store.request_lint(target.uri, RETRY_AFTER_MS)
        published_uris = set()
        pull = self.pull_mode and not target.is_notebook
        for file in outcome.files:
            self.store.remember(file)
            published_uris.add(file.uri)
            if not pull:
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=file.uri, diagnostics=file.lsp, version=file.version)
                )
        if pull and self.client_supports("workspace.diagnostics.refresh_support"):
            self.workspace_diagnostic_refresh(None)
        if target.is_notebook:
            for gone in target.cell_uris - published_uris:
                self.clear(gone)
            target.cell_uris = published_uris

    def clear(self, uri: str) -> None:
        """Publish an empty diagnostic list for `uri` and forget its results."""
        self.store.published.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @property
    def pull_mode(self) -> bool:
        """The client pulls diagnostics (``textDocument/diagnostic``): text documents are
        then answered on request and not pushed (pushing too would show them twice).
        Notebook cells are always pushed."""
        try:
            return self.client_supports("text_document.diagnostic")
        except RuntimeError:
            return False

    def relint_all(self) -> None:
        """Re-lint every open document now (settings or configuration files changed)."""
        for uri in list(self.store.targets):
            self.store.request_lint(uri, 0)

    def refresh_inlay_hints(self) -> None:
        """Ask the client to re-request inlay hints (settings changed), when it supports that."""
        if self.client_supports("workspace.inlay_hint.refresh_support"):
            self.workspace_inlay_hint_refresh(None)

    def linted_module(self, uri: str, text: str):
        """The lint thread's parse of `text` for `uri`, when its last parse was of that text
        (libcst trees are immutable, so sharing it across threads is safe), else None."""
        target = self.store.targets.get(uri)
        layout = getattr(getattr(target, "cache", None), "layout", None)
        if layout is not None and layout.text == text:
            return layout.module
        return None

    async def run_expert(self, uri: str, document, work, wait: float):
        """Run `work(analysis, lines, encoding)` on the expert thread for the document's
        current text; None when the text does not parse or the answer takes longer than
        `wait` seconds (the work then finishes in the background and fills the caches)."""
        path, fs_path = self.engine_path(uri)
        settings = self.settings.resolve(fs_path).engine
        text = document.source
        lines = split_lines(text)
        encoding = self.encoding
        module = self.linted_module(uri, text)
        expert = self.expert

        def run():
            analysis = expert.analysis(uri, text, path, settings, module)
            return None if analysis is None else work(analysis, lines, encoding)

        future = asyncio.get_running_loop().run_in_executor(expert.executor, run)
        try:
            return await asyncio.wait_for(asyncio.shield(future), wait)
        except asyncio.TimeoutError:
            logger.info("dlx-lint: expert request for %s took longer than %.1f s", uri, wait)
            return None

    def is_python(self, document: types.TextDocumentItem) -> bool:
        """A Python document by language id, or by file suffix when the id is missing."""
        language = (document.language_id or "").lower()
        return language in PYTHON_LANGUAGE_IDS or unquote(document.uri).lower().endswith(PYTHON_SUFFIXES)

    async def pull_configuration(self) -> None:
        """Ask the client for the ``dlx-lint`` section (``workspace/configuration``)."""
        if not self.client_supports("workspace.configuration"):
            return
        result = await self.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
        if result is not None and len(result) == 1:
            # null (the client knows no such section) leaves only the initialization options.
            editor = self.settings.update_editor(result[0])
            self.apply_log_level()
            self.notify_problems(editor.problems)


def create_server() -> DlxLintServer:
    """Build a server with every feature registered (a fresh instance per call)."""
    server = DlxLintServer()
    expert_module.configure_cross_file()

    @server.feature(types.INITIALIZE)
    @guarded()
    def initialize(ls: DlxLintServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        expert_module.use_workspace_folders(params)
        if params.initialization_options is not None:
            editor = ls.settings.update_editor(params.initialization_options, initialization=True)
            ls.apply_log_level()
            ls.notify_problems(editor.problems)

    @server.feature(types.INITIALIZED)
    @guarded()
    async def initialized(ls: DlxLintServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        if ls.client_supports("workspace.did_change_watched_files.dynamic_registration"):
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(
                    id=WATCHER_REGISTRATION_ID,
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        watchers=[types.FileSystemWatcher(glob_pattern=PYPROJECT_GLOB)]
                    ),
                )
            ]))
            ls.watching_files = True
        before = ls.settings.editor
        ls.store.hold()
        try:
            await ls.pull_configuration()
        finally:
            ls.store.release()
        if ls.settings.editor != before:
            ls.relint_all()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: DlxLintServer, params: types.DidOpenTextDocumentParams) -> None:
        if not ls.is_python(params.text_document):
            return
        ls.store.open(params.text_document.uri)
        ls.store.request_lint(params.text_document.uri, 0)
        _path, fs_path = ls.engine_path(params.text_document.uri)
        if fs_path is not None and ls.settings.editor.cross_file:
            ls.expert.executor.submit(expert_module.warm_up, fs_path, ls.settings.resolve(fs_path).engine)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: DlxLintServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.settings.editor.lint_on_change:
            ls.store.request_lint(uri, ls.settings.editor.debounce_ms)
        else:
            ls.store.invalidate(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded()
    def did_save(ls: DlxLintServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if unquote(uri).endswith("pyproject.toml"):
            ls.settings.reload_files()
            ls.relint_all()
            return
        ls.store.request_lint(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls: DlxLintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.expert.forget(uri)
        if ls.store.close(uri) is not None:
            if ls.pull_mode:  # the client forgets pulled diagnostics of closed documents
                ls.store.published.pop(uri, None)
            else:
                ls.clear(uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    @guarded()
    def notebook_did_open(ls: DlxLintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        ls.store.open(uri, is_notebook=True)
        ls.store.request_lint(uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    @guarded()
    def notebook_did_change(ls: DlxLintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        structure = params.change.cells.structure if params.change.cells else None
        for closed in (structure.did_close or []) if structure else []:
            ls.clear(closed.uri)
        if ls.settings.editor.lint_on_change:
            ls.store.request_lint(uri, ls.settings.editor.debounce_ms)
        else:
            ls.store.invalidate(uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    @guarded()
    def notebook_did_save(ls: DlxLintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.store.request_lint(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    @guarded()
    def notebook_did_close(ls: DlxLintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        target = ls.store.close(params.notebook_document.uri)
        cells = set(target.cell_uris) if target else set()
        cells |= {cell.uri for cell in params.cell_text_documents}
        for cell_uri in cells:
            ls.clear(cell_uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    async def did_change_configuration(ls: DlxLintServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if ls.client_supports("workspace.configuration"):
            ls.store.hold()  # documents opened meanwhile must be linted with the new settings
            try:
                await ls.pull_configuration()
            finally:
                ls.store.release()
        elif isinstance(settings, dict):
            editor = ls.settings.update_editor(settings)
            ls.apply_log_level()
            ls.notify_problems(editor.problems)
        ls.relint_all()
        ls.refresh_inlay_hints()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded()
    def did_change_watched_files(ls: DlxLintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(unquote(change.uri).endswith("pyproject.toml") for change in params.changes):
            ls.settings.reload_files()
            ls.relint_all()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded()
    async def hover(ls: DlxLintServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        document = ls.document(uri)
        if document is None:
            return None
        formats = getattr(getattr(getattr(ls.client_capabilities, "text_document", None), "hover", None), "content_format", None)
        markdown = not formats or types.MarkupKind.Markdown in formats
        rules = hover_module.hover(
            ls.store.published.get(uri), split_lines(document.source), params.position,
            encoding=ls.encoding, markdown=markdown,
        )
        position = params.position
        found = await ls.run_expert(uri, document, lambda analysis, lines, encoding: expert_module.hover(analysis, lines, position, encoding),
                                    expert_module.HOVER_WAIT_SECONDS)
        return hover_module.combine(rules, found, markdown=markdown)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    @guarded(default=[])
    async def inlay_hint(ls: DlxLintServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        if not ls.settings.editor.inlay_parameter_counts:
            return []
        uri = params.text_document.uri
        document = ls.document(uri)
        if document is None:
            return []
        range_ = params.range
        hints = await ls.run_expert(uri, document, lambda analysis, lines, encoding: expert_module.inlay_hints(analysis, lines, range_, encoding),
                                    expert_module.INLAY_SECONDS + expert_module.HOVER_WAIT_SECONDS)
        return hints or []

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, code_actions.FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )
    @guarded(default=[])
    async def code_action(ls: DlxLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        document = ls.document(uri)
        if document is None:
            return []
        editor = ls.settings.editor
        context = code_actions.ActionContext(
            uri=uri,
            version=document.version,
            lines=split_lines(document.source),
            encoding=ls.encoding,
            document_changes=ls.client_supports("workspace.workspace_edit.document_changes"),
            fix_enabled=editor.fix_violation_enabled,
            disable_enabled=editor.disable_rule_comment_enabled,
            unsafe_fixes=editor.unsafe_fixes,
        )
        only = params.context.only
        published = ls.store.published.get(uri)
        actions: list[types.CodeAction] = []
        if code_actions.wants(only, types.CodeActionKind.QuickFix.value):
            actions += code_actions.quick_fixes(context, params.context.diagnostics, published)
        if code_actions.wants(only, code_actions.FIX_ALL_KIND):
            current = await fresh_diagnostics(ls, uri, document)
            action = code_actions.fix_all(context, current)
            if action is not None:
                actions.append(action)
        return actions

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="dlx-lint", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    @guarded(default=types.RelatedFullDocumentDiagnosticReport(items=[]))
    async def pull_diagnostics(ls: DlxLintServer, params: types.DocumentDiagnosticParams):
        uri = params.text_document.uri
        document = ls.document(uri)
        if document is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        published = await ls.store.results_for(uri, document.version, lint_if_idle=ls.settings.editor.lint_on_change)
        if published is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id is not None and params.previous_result_id == published.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=published.result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=published.lsp, result_id=published.result_id)

    @server.feature(types.SHUTDOWN)
    @guarded()
    def shutdown(ls: DlxLintServer, params: None) -> None:
        ls.store.shutdown()
        ls.expert.shutdown()

    return server


async def fresh_diagnostics(ls: DlxLintServer, uri: str, document) -> list[types.Diagnostic]:
    """The LSP diagnostics of `uri` for its current version: the published ones when they are
    current, else a lint run now (text documents; notebook cells use what was published)."""
    published = ls.store.published.get(uri)
    if published is not None and published.version == document.version:
        return published.lsp
    target = ls.store.targets.get(uri)
    if target is None or target.is_notebook:
        return published.lsp if published is not None else []
    job = ls.snapshot(target)
    if job is None:
        return []
    outcome = await ls.store.run_now(job)
    if outcome is None or not outcome.files:
        return []
    return outcome.files[0].lsp


def tune_garbage_collector() -> None:
    """Make full garbage collections rare in this long-running process.

    A libcst tree of a 5,000-line module is millions of objects; with the default thresholds
    the cyclic collector walks them every few edits, which tripled the 95th-percentile
    didChange -> publishDiagnostics latency (benchmarks/bench_lsp_latency.py). Objects that
    exist after start-up (modules, the rule registry) are frozen out of collection; cycles
    are still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def main() -> int:
    """Run the server on standard input/output until the client exits it.

    Returns:
        0 (pygls exits the process itself on ``exit``).
    """
    logging.basicConfig(level=logging.WARNING, format="dlx-lint-server %(levelname)s %(name)s: %(message)s")
    server = create_server()
    tune_garbage_collector()
    handler = ClientLogHandler(server)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger("dlx_lint_server").addHandler(handler)
    logging.getLogger("dlx_lint_server").setLevel(logging.WARNING)
    server.start_io()
    return 0
