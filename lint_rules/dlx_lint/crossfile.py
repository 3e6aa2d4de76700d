"""Cross-file inference: find where a name imported from another workspace module is defined,
with jedi, and analyse that definition with a `SemanticModel` of its file.

`WorkspaceResolver` implements `dlx_lint.semantic.resolver.Resolver`. For a qualified name
such as ``utils.make_optimizer`` (from ``from utils import make_optimizer``) it asks jedi to
``goto`` the name in a two-line synthetic script placed at the importing file's path (so
relative imports and the project's layout resolve as they would for that file), keeps the
answer only if it is a class or function in a ``.py`` file under the workspace root, and
returns that definition with the (cached) semantic model of its file.

Safety: jedi is a static analyser and never imports Python source; here it also never loads
compiled extensions of the workspace or of site-packages: the project's ``sys_path`` is the
workspace only, ``load_unsafe_extensions`` is off (jedi then imports compiled modules only from
the environment's base path), that base path is reduced to the standard library
(`_StdlibEnvironment`), and ``jedi.settings.auto_import_modules`` (modules jedi imports
directly) is emptied. Inspection of builtins runs in jedi's own subprocess, never in ours, so
jedi's temporary ``sys.path`` swaps cannot disturb imports on other threads.

Bounded:

* one lookup (jedi, then parsing the file it points to) runs at most `call_timeout` seconds as
  far as the caller is concerned (both run on a dedicated thread; a lookup that times out keeps
  running and its answer is cached for the next request);
* `request` opens a per-request budget (seconds of waiting on jedi, thread-local, shared by the
  nested resolutions a request triggers); once spent, unresolved names stay unknown;
* answers are cached per (importing directory, name) and validated by the target file's
  modification time and size; a file's semantic model is cached by its content hash (SHA-256),
  so an unchanged file is parsed once.

Without jedi installed, `resolver_for` returns None and everything stays single-file.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import logging
import os
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .semantic.resolver import Definition
from .runner import read_bytes

if TYPE_CHECKING:
    from .semantic.model import SemanticModel
    from .settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT = 10.0
"""Seconds one jedi lookup may take (the CLI: generous, so results do not depend on load)."""

PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", ".hg")
MAX_FILE_BYTES = 1_250_000  # as dlx_lint.engine.MAX_SOURCE_CHARS
_NEGATIVE_TTL = 2.0  # seconds a "not found" answer is trusted (a new file may appear)


@dataclass
class ResolverStats:
    """What cross-file resolution cost (for the benchmark and debugging).

    Attributes:
        lookups: `definition` calls that reached the resolver.
        jedi_calls: lookups that ran jedi (cache misses).
        jedi_seconds: time spent waiting for jedi.
        timeouts: lookups abandoned because of the call timeout or the request budget.
        cache_hits: lookups answered from the cache.
        parsed_files: workspace files parsed into semantic models.
        parse_seconds: time spent parsing them and building their models.
    """

    lookups: int = 0
    jedi_calls: int = 0
    jedi_seconds: float = 0.0
    timeouts: int = 0
    cache_hits: int = 0
    parsed_files: int = 0
    parse_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict:
        with self._lock:
            return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


@dataclass(frozen=True)
class _Answer:
    path: str
    line: int
    name: str
    stamp: tuple[int, int]


class _ModelEntry:
    __slots__ = ("stamp", "digest", "model")

    def __init__(self, stamp: tuple[int, int], digest: str, model: "SemanticModel | None") -> None:
        self.stamp = stamp
        self.digest = digest
        self.model = model


_local = threading.local()


class WorkspaceResolver:
    """Resolves imported names of one workspace with jedi (see module docstring).

    Args:
        root: the workspace root; only definitions in files below it are returned.
        call_timeout: seconds to wait for one jedi lookup.
        request_budget: default seconds of jedi waiting per `request` (None: unlimited).

    Attributes:
        stats: cumulative costs.
    """

    def __init__(self, root: str, *, call_timeout: float = DEFAULT_CALL_TIMEOUT, request_budget: float | None = None) -> None:
        import jedi  # the optional dependency: ImportError reaches resolver_for

        self.root = os.path.realpath(root)
        self.call_timeout = call_timeout
        self.request_budget = request_budget
        self.stats = ResolverStats()
        jedi.settings.auto_import_modules = []  # never import a module to analyse it
        search = [self.root] + [os.path.join(self.root, d) for d in ("src", "lib") if os.path.isdir(os.path.join(self.root, d))]
        self._search = search
        self._project = jedi.Project(self.root, sys_path=search, smart_sys_path=True, load_unsafe_extensions=False)
        self._environment = _stdlib_environment()
        self._answers: dict[tuple[str, str], _Answer | float] = {}
        self._pending: dict[tuple[str, str], concurrent.futures.Future] = {}
        self._models: dict[str, _ModelEntry] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ requests

    @contextlib.contextmanager
    def request(self, budget: float | None = None) -> Iterator[None]:
        """Bound the jedi waiting of everything resolved on this thread inside the block to
        `budget` seconds (default: `request_budget`). Nested requests keep the outer budget."""
        if getattr(_local, "deadline", None) is not None:
            yield
            return
        seconds = budget if budget is not None else self.request_budget
        _local.deadline = time.perf_counter() + seconds if seconds is not None else float("inf")
        try:
            yield
        finally:
            _local.deadline = None

    def warm_up(self) -> None:
        """Start jedi's subprocess and load the builtins in the background (the first lookup
        otherwise pays about half a second)."""
        _executor().submit(self._goto_safely, os.path.join(self.root, "__dlx_lint_warm_up__.py"), "os.path")

    # ------------------------------------------------------------------ the Resolver protocol

    def definition(self, model: "SemanticModel", qualname: str) -> Definition | None:
        """The workspace class or function `qualname` (imported by `model`'s file) denotes."""
        importing = _real_file(model.path)
        if importing is None or not qualname or qualname.startswith("torch."):
            return None
        if not qualname.startswith(".") and not self._may_be_local(qualname, importing):
            return None
        self.stats.add(lookups=1)
        answer = self._answer(importing, qualname)
        if answer is None:
            return None
        target = self._model(answer.path)
        if target is None:
            return None
        node = _definition_named(target, answer.name, answer.line)
        if node is None:
            return None
        return Definition(target, node, answer.path)

    # ------------------------------------------------------------------ jedi answers

    def _may_be_local(self, qualname: str, importing: str) -> bool:
        """Whether the top-level module of an absolute name exists in the workspace (checked
        on disk before asking jedi, so library names cost nothing)."""
        top = qualname.split(".", 1)[0]
        directories = [os.path.dirname(importing)] + self._search
        for directory in directories:
            if os.path.isfile(os.path.join(directory, top + ".py")) or os.path.isdir(os.path.join(directory, top)):
                return True
        return False

    def _answer(self, importing: str, qualname: str) -> _Answer | None:
        key = (os.path.dirname(importing), qualname)
        with self._lock:
            cached = self._answers.get(key)
            if isinstance(cached, _Answer) and _stamp(cached.path) == cached.stamp:
                self.stats.add(cache_hits=1)
                return cached
            if isinstance(cached, float) and time.monotonic() - cached < _NEGATIVE_TTL:
                self.stats.add(cache_hits=1)
                return None
            future = self._pending.get(key)
            if future is None:
                future = _executor().submit(self._goto_safely, importing, qualname)
                self._pending[key] = future
                future.add_done_callback(lambda done, key=key: self._store(key, done))
                self.stats.add(jedi_calls=1)
        timeout = self.call_timeout
        deadline = getattr(_local, "deadline", None)
        if deadline is not None:
            timeout = min(timeout, deadline - time.perf_counter())
        if timeout <= 0:
            self.stats.add(timeouts=1)
            return None
        started = time.perf_counter()
        try:
            result = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            self.stats.add(timeouts=1, jedi_seconds=time.perf_counter() - started)
            return None
        self.stats.add(jedi_seconds=time.perf_counter() - started)
        return result

    def _store(self, key: tuple[str, str], future: concurrent.futures.Future) -> None:
        with self._lock:
            self._pending.pop(key, None)
            try:
                result = future.result()
            except Exception:  # _goto_safely does not raise; be safe anyway
                result = None
            self._answers[key] = result if result is not None else time.monotonic()

    def _goto_safely(self, importing: str, qualname: str) -> _Answer | None:
        try:
            answer = self._goto(importing, qualname)
        except Exception:  # jedi failing on odd code must not break linting
            logger.debug("dlx-lint: jedi could not resolve %s from %s", qualname, importing, exc_info=True)
            return None
        if answer is not None:
            # Parse the target here, on the jedi thread, so the caller's timeout bounds it too
            # (a 5,000-line module takes most of a second); `definition` then hits the cache.
            self._model(answer.path)
        return answer

    def _goto(self, importing: str, qualname: str) -> _Answer | None:
        import jedi

        for code in _synthetic_scripts(qualname):
            lines = code.split("\n")
            script = jedi.Script(code, path=importing, project=self._project, environment=self._environment)
            for name in script.goto(len(lines), len(lines[-1]), follow_imports=True):
                if name.type not in ("class", "function") or name.module_path is None or name.line is None:
                    continue
                path = os.path.realpath(str(name.module_path))
                if not path.endswith(".py") or not (path == self.root or path.startswith(self.root + os.sep)):
                    continue
                stamp = _stamp(path)
                if stamp is None:
                    continue
                return _Answer(path, name.line, name.name, stamp)
        return None

    # ------------------------------------------------------------------ models of other files

    def _model(self, path: str) -> "SemanticModel | None":
        stamp = _stamp(path)
        if stamp is None:
            return None
        with self._lock:
            entry = self._models.get(path)
            if entry is not None and entry.stamp == stamp:
                return entry.model
        started = time.perf_counter()
        try:
            data = read_bytes(path, MAX_FILE_BYTES)
        except OSError:
            return None
        if len(data) > MAX_FILE_BYTES:
            return None
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            entry = self._models.get(path)
            if entry is not None and entry.digest == digest:
                entry.stamp = stamp  # touched, not changed
                return entry.model
        model = self._parse(path, data)
        self.stats.add(parsed_files=1, parse_seconds=time.perf_counter() - started)
        with self._lock:
            self._models[path] = _ModelEntry(stamp, digest, model)
        return model

    def _parse(self, path: str, data: bytes) -> "SemanticModel | None":
        from .engine import DecodeError, decode_source
        from .parsing import parse_module
        from .semantic.model import SemanticModel

        try:
            text = decode_source(data).text
            module = parse_module(text)
        except (DecodeError, cst.ParserSyntaxError, RecursionError):
            return None
        return SemanticModel(module, text, path, None, resolver=self)


def _synthetic_scripts(qualname: str) -> list[str]:
    """Two-line scripts whose last name is `qualname`: ``from a.b import c`` then ``c``, and,
    for names reached through attributes (``pkg.module.Class`` imported as ``import pkg``),
    ``import a`` then ``a.b.c``."""
    dots = len(qualname) - len(qualname.lstrip("."))
    rest = qualname[dots:]
    if not rest:
        return []
    parts = rest.split(".")
    scripts = []
    if len(parts) >= 2 or dots:
        module = "." * dots + ".".join(parts[:-1])
        scripts.append(f"from {module} import {parts[-1]}\n{parts[-1]}")
    if dots and len(parts) >= 2:
        scripts.append(f"from {'.' * dots} import {parts[0]}\n{rest}")
    elif not dots and len(parts) >= 2:
        scripts.append(f"import {parts[0]}\n{rest}")
    return scripts


def _definition_named(model: "SemanticModel", name: str, line: int) -> cst.CSTNode | None:
    candidates = [node for node in list(model.classdefs) + list(model.functions) if node.name.value == name]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    from .positions import compute_spans

    spans = compute_spans(model.module, [node.name for node in candidates])
    for node in candidates:
        span = spans.get(node.name)
        if span is not None and span[0] == line:
            return node
    return None


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def _real_file(path: str) -> str | None:
    if not path or path.startswith(("<", "-")) or "://" in path:
        return None
    absolute = os.path.realpath(path)
    return absolute if os.path.isfile(absolute) else None


def _stdlib_environment():
    """jedi's same-interpreter environment (inspection in jedi's subprocess) whose *safe*
    base path is the standard library only: compiled extensions elsewhere are never imported."""
    from jedi.api.environment import SameEnvironment

    class _StdlibEnvironment(SameEnvironment):
        def get_sys_path(self):
            paths = sysconfig.get_paths()
            return list(dict.fromkeys([paths["stdlib"], paths["platstdlib"]]))

    return _StdlibEnvironment()


_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that runs jedi (jedi is not thread-safe)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlx-lint-jedi")
        return _EXECUTOR


# --------------------------------------------------------------------------- per-process registry

_RESOLVERS: dict[str, WorkspaceResolver | None] = {}
_ROOTS: dict[str, str] = {}
_REGISTRY_LOCK = threading.Lock()
_CONFIG = {"call_timeout": DEFAULT_CALL_TIMEOUT, "request_budget": None}
_WARNED = False


def configure(*, call_timeout: float | None = None, request_budget: float | None = None) -> None:
    """Set the limits of resolvers created from now on and of existing ones (the language
    server uses short ones; the CLI keeps the defaults)."""
    with _REGISTRY_LOCK:
        if call_timeout is not None:
            _CONFIG["call_timeout"] = call_timeout
        _CONFIG["request_budget"] = request_budget
        for resolver in _RESOLVERS.values():
            if resolver is not None:
                if call_timeout is not None:
                    resolver.call_timeout = call_timeout
                resolver.request_budget = request_budget


_WORKSPACE_FOLDERS: list[str] = []


def add_workspace_roots(paths: list[str]) -> None:
    """Declare the editor's workspace folders (the language server passes the client's
    ``workspaceFolders``/``rootUri``): a file below one belongs to the deepest such folder."""
    with _REGISTRY_LOCK:
        for path in paths:
            real = os.path.realpath(path)
            if os.path.isdir(real) and real not in _WORKSPACE_FOLDERS:
                _WORKSPACE_FOLDERS.append(real)
        _ROOTS.clear()


def _below(directory: str, root: str) -> bool:
    return directory == root or directory.startswith(root.rstrip(os.sep) + os.sep)


def workspace_root(path: str, settings: "Settings | None" = None) -> str:
    """The workspace a file belongs to: the configuration's project root when the file lies
    below it; else the deepest editor workspace folder holding it (`add_workspace_roots`);
    else the nearest directory above it with a project marker (``.git``, ``pyproject.toml``,
    ``setup.py``...); else the directory above its top-level package (the highest directory
    of ``__init__.py`` files above it), or its own directory."""
    directory = os.path.dirname(os.path.realpath(path))
    root = settings.project_root if settings is not None else None
    if root:
        real = os.path.realpath(root)
        if _below(directory, real):
            return real
    with _REGISTRY_LOCK:
        known = _ROOTS.get(directory)
        folders = [f for f in _WORKSPACE_FOLDERS if _below(directory, f)]
    if known is not None:
        return known
    if folders:
        return max(folders, key=len)
    current = directory
    found = None
    while True:
        if any(os.path.exists(os.path.join(current, marker)) for marker in PROJECT_MARKERS):
            found = current
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if found is None:
        found = directory
        while os.path.isfile(os.path.join(found, "__init__.py")) and os.path.dirname(found) != found:
            found = os.path.dirname(found)
    with _REGISTRY_LOCK:
        _ROOTS[directory] = found
    return found


def resolver_for(path: str, settings: "Settings | None" = None) -> WorkspaceResolver | None:
    """The process's resolver for the workspace of `path`, or None when `path` is not a file
    on disk or jedi is not installed (warned once)."""
    global _WARNED
    if _real_file(path) is None:
        return None
    root = workspace_root(path, settings)
    with _REGISTRY_LOCK:
        if root in _RESOLVERS:
            return _RESOLVERS[root]
    try:
        resolver: WorkspaceResolver | None = WorkspaceResolver(root, call_timeout=_CONFIG["call_timeout"],  # type: ignore[arg-type]
                                                               request_budget=_CONFIG["request_budget"])
    except ImportError:
        if not _WARNED:
            _WARNED = True
            logger.warning("dlx-lint: cross-file inference needs jedi (pip install jedi); continuing without it")
        resolver = None
    with _REGISTRY_LOCK:
        return _RESOLVERS.setdefault(root, resolver)


def _forget_after_fork() -> None:
    """A forked worker (``--jobs``) inherits neither the jedi thread nor jedi's subprocess:
    start from scratch there instead of waiting on a thread that does not exist."""
    global _EXECUTOR, _EXECUTOR_LOCK, _REGISTRY_LOCK
    _EXECUTOR = None
    _EXECUTOR_LOCK = threading.Lock()
    _REGISTRY_LOCK = threading.Lock()
    _RESOLVERS.clear()
    _ROOTS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def all_stats() -> dict[str, dict]:
    """Root -> `ResolverStats.snapshot()` of every resolver of this process."""
    with _REGISTRY_LOCK:
        return {root: r.stats.snapshot() for root, r in _RESOLVERS.items() if r is not None}
