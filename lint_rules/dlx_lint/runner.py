"""Lint many paths: discover files, read them, lint them (in parallel), gather the results.

Discovery recurses into directories and picks ``.py``, ``.pyi`` and ``.ipynb`` files, skipping
version-control, cache, build and virtual-environment directories and whatever the applicable
configuration's ``exclude`` globs match. Paths named explicitly are always linted (as in ruff
without ``--force-exclude``), whatever their extension. The result is sorted by
`Diagnostic.sort_key`, so it is the same for any number of jobs.
"""

from __future__ import annotations

import errno
import fnmatch
import gc
import os
import stat
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, Union

from .diagnostics import Diagnostic
from .settings import Settings

PYTHON_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"

SKIPPED_DIRECTORIES = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pytest_cache", ".ruff_cache", ".svn", ".tox", ".venv", ".dlx_lint_cache", "__pycache__",
    "__pypackages__", "build", "dist", "node_modules", "site-packages", "venv",
})

# Below this many files the work runs in this process: starting workers would cost more.
MIN_FILES_PER_PROCESS = 8
# Each worker task lints this many files at most (fewer when there are few files per job).
MAX_CHUNK = 64

Resolver = Union[Settings, Callable[[str], Settings]]
"""Settings for the entries of a directory: a callable taking the directory, or one `Settings`."""


class PathNotFoundError(FileNotFoundError):
    """A path given by the user does not exist; ``str()`` is a one-line message."""


def lint_paths(
    paths: Iterable[str], settings_resolver: Resolver, jobs: int | None = None, *, cache=None, force_exclude: bool = False
) -> list[Diagnostic]:
    """Lint files and directory trees.

    Args:
        paths: files or directories, as the user wrote them (diagnostics keep that spelling;
            discovered files are joined to it and normalised).
        settings_resolver: the `Settings` for the entries of a directory (called with the
            directory path), or one `Settings` for everything.
        jobs: worker processes; None means ``os.cpu_count()``; 1 lints in this process.
        cache: a `dlx_lint.cache.Cache` answering unchanged files, or None to lint everything.
        force_exclude: apply ``exclude`` to files named explicitly too (see `discover`).

    Returns:
        All diagnostics, sorted by `Diagnostic.sort_key`; an unreadable file contributes one
        ``DLX902 io-error`` (when enabled) and the run goes on.

    Raises:
        PathNotFoundError: a given path does not exist (checked before any linting).
        dlx_lint.config.ConfigError: a configuration file met during discovery is invalid.
    """
    resolve = _as_callable(settings_resolver)
    tasks = list(discover(paths, resolve, force_exclude=force_exclude))
    if cache is not None:
        from .cache import lint_cached

        return lint_cached(tasks, jobs, cache)
    return lint_files(tasks, jobs)


def discover(paths: Iterable[str], settings_resolver: Resolver, *, force_exclude: bool = False) -> Iterator[tuple[str, Settings]]:
    """Yield ``(file path, settings)`` for every file to lint, each file once.

    Args:
        paths: files or directories as given.
        settings_resolver: as for `lint_paths`.
        force_exclude: skip explicitly named files that an ``exclude`` glob matches (by
            default a named file is always linted; tools such as pre-commit name every file,
            so they need this for ``exclude`` to apply).

    Raises:
        PathNotFoundError: a given path does not exist.
    """
    resolve = _as_callable(settings_resolver)
    roots = [os.path.normpath(path) for path in paths]
    for root in roots:
        if not os.path.exists(root):
            raise PathNotFoundError(f"{root}: no such file or directory")
    seen: set[str] = set()
    for root in roots:
        if os.path.isdir(root):
            found = _walk(root, resolve, seen)
        elif force_exclude and is_excluded_with_parents(root, resolve(os.path.dirname(os.path.abspath(root)))):
            found = iter(())
        else:
            found = iter([root]) if _first_visit(root, seen) else iter(())
        for path in found:
            yield path, resolve(os.path.dirname(os.path.abspath(path)))


def _walk(root: str, resolve: Callable[[str], Settings], seen: set[str]) -> Iterator[str]:
    if not _first_visit(root, seen):
        return
    settings = resolve(os.path.abspath(root))
    try:
        with os.scandir(root) as iterator:
            entries = sorted(iterator, key=lambda entry: entry.name)
    except OSError:
        # An unreadable directory: its files cannot be listed, so there is nothing to report
        # on; ruff behaves the same.
        return
    for entry in entries:
        path = os.path.join(root, entry.name) if root != os.curdir else entry.name
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if entry.name in SKIPPED_DIRECTORIES or _is_virtualenv(path) or is_excluded(path, settings):
                continue
            yield from _walk(path, resolve, seen)
        elif entry.name.endswith(PYTHON_SUFFIXES + (NOTEBOOK_SUFFIX,)):
            if not is_excluded(path, settings) and _first_visit(path, seen):
                yield path


def _first_visit(path: str, seen: set[str]) -> bool:
    key = os.path.realpath(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def is_excluded(path: str, settings: Settings) -> bool:
    """Whether an ``exclude`` glob of `settings` matches `path`.

    A glob matches the path relative to the project root (the configuration's directory, else
    the working directory) with ``/`` separators, or the base name: ``"generated"``,
    ``"legacy/*"`` and ``"*_pb2.py"`` all work; a trailing ``/`` and a leading ``**/`` are
    allowed.
    """
    if not settings.exclude:
        return False
    absolute = os.path.abspath(path)
    root = settings.project_root or os.getcwd()
    candidates = [os.path.basename(absolute)]
    relative = os.path.relpath(absolute, root) if os.path.splitdrive(absolute)[0] == os.path.splitdrive(root)[0] else ""
    if relative and not relative.startswith(".."):
        candidates.append(relative.replace(os.sep, "/"))
    for pattern in settings.exclude:
        pattern = pattern.rstrip("/")
        patterns = (pattern, pattern[3:]) if pattern.startswith("**/") else (pattern,)
        if any(fnmatch.fnmatchcase(candidate, p) for candidate in candidates for p in patterns):
            return True
    return False


def is_excluded_with_parents(path: str, settings: Settings) -> bool:
    """Whether `path`, or a folder it lies in below the project root, is excluded: what
    ``--force-exclude`` applies to a file named on the command line, so that ``exclude =
    ["generated"]`` skips ``generated/x.py`` there as it does when folders are walked."""
    if not settings.exclude:
        return False
    if is_excluded(path, settings):
        return True
    root = os.path.abspath(settings.project_root or os.getcwd())
    folder = os.path.dirname(os.path.abspath(path))
    while folder != root and os.path.dirname(folder) != folder:
        if os.path.relpath(folder, root).startswith(".."):
            return False  # outside the project: only the file itself counts
        if is_excluded(folder, settings):
            return True
        folder = os.path.dirname(folder)
    return False


def _as_callable(resolver: Resolver) -> Callable[[str], Settings]:
    if isinstance(resolver, Settings):
        return lambda _directory: resolver
    return resolver


def lint_files(tasks: list[tuple[str, Settings]], jobs: int | None = None) -> list[Diagnostic]:
    """Lint ``(path, settings)`` pairs, in worker processes when there are enough of them.

    Args:
        tasks: files with their settings.
        jobs: worker processes; None means ``os.cpu_count()``.

    Returns:
        Diagnostics sorted by `Diagnostic.sort_key`.
    """
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    workers = min(jobs, len(tasks) // MIN_FILES_PER_PROCESS)
    results: list[Diagnostic] = []
    if workers <= 1:
        results = _lint_chunk(tasks)
    else:
        results = _lint_parallel(tasks, workers)
    results.sort(key=Diagnostic.sort_key)
    return results


BATCH_GC_THRESHOLD = 50_000
"""Allocations between young-generation collections in a batch run (CPython's default: 700)."""


def tune_gc_for_batch() -> None:
    """Collect garbage less often, for a process that only lints (the CLI and its workers;
    never called for an application using the API).

    libcst builds about a million short-lived nodes per megabyte of source, nearly all freed
    by reference counting; CPython's default schedule (a collection every 700 allocations)
    keeps scanning them anyway, about 8% of a run on the corpus sample
    (benchmarks/bench_corpus.py). Objects alive now (modules, rules, tables) are moved out of
    the collector's reach with `gc.freeze` (Python docs, gc.freeze: frozen objects are
    ignored by all future collections; forked workers then share their pages too).
    """
    gc.freeze()
    gc.set_threshold(BATCH_GC_THRESHOLD, 20, 20)


def _lint_parallel(tasks: list, workers: int, chunk_function: Callable[[list], list] | None = None) -> list:
    """Run `chunk_function` (default `_lint_chunk`) over chunks of `tasks` in `workers`
    processes; the results are concatenated in task order."""
    from .registry import all_rules

    chunk_function = chunk_function or _lint_chunk
    all_rules()  # load the rules once here: forked workers inherit them
    size = max(1, min(MAX_CHUNK, -(-len(tasks) // (workers * 4))))
    chunks = [tasks[start : start + size] for start in range(0, len(tasks), size)]
    try:
        executor = ProcessPoolExecutor(max_workers=workers, initializer=tune_gc_for_batch)
    except (OSError, NotImplementedError, ImportError):  # no process support here
        return chunk_function(tasks)
    results: list = []
    with executor:
        for chunk_result in executor.map(chunk_function, chunks):
            results.extend(chunk_result)
    return results


def lint_files_keyed(tasks: list[tuple[str, Settings]], jobs: int | None = None) -> list[tuple[str, str | None, list[Diagnostic]]]:
    """Like `lint_files`, for the cache: per file, ``(path, content hash, diagnostics)``.

    The hash (`dlx_lint.cache.content_key`) is of the bytes that were linted, None when the
    file could not be read. Results are in task order, diagnostics sorted per file.
    """
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    workers = min(jobs, len(tasks) // MIN_FILES_PER_PROCESS)
    if workers <= 1:
        return _lint_keyed_chunk(tasks)
    return _lint_parallel(tasks, workers, _lint_keyed_chunk)


def _lint_keyed_chunk(tasks: list[tuple[str, Settings]]) -> list[tuple[str, str | None, list[Diagnostic]]]:
    from .cache import content_key

    results = []
    for path, settings in tasks:
        try:
            data = read_bytes(path)
        except OSError:
            results.append((path, None, lint_file(path, settings)))
            continue
        diagnostics = lint_data(path, data, settings)
        diagnostics.sort(key=Diagnostic.sort_key)
        results.append((path, content_key(data), diagnostics))
    return results


def _lint_chunk(tasks: list[tuple[str, Settings]]) -> list[Diagnostic]:
    """Lint a list of files in this process (the unit of work sent to a worker)."""
    results: list[Diagnostic] = []
    for path, settings in tasks:
        results.extend(lint_file(path, settings))
    return results


def lint_file(path: str, settings: Settings) -> list[Diagnostic]:
    """Read and lint one file (a notebook by its ``.ipynb`` suffix, else Python source).

    Returns:
        Its diagnostics; one ``DLX902 io-error`` (when enabled) if it cannot be read.
    """
    from .engine import IO_ERROR, io_error_diagnostic

    try:
        data = read_bytes(path)
    except OSError as error:
        if IO_ERROR in settings.enabled_codes(path):
            return [io_error_diagnostic(path, error, settings)]
        return []
    return lint_data(path, data, settings)


def lint_data(path: str, data: bytes, settings: Settings) -> list[Diagnostic]:
    """Lint already-read contents of `path` (used for stdin too)."""
    if path.endswith(NOTEBOOK_SUFFIX):
        from .notebook import lint_notebook

        return lint_notebook(path, data, settings)
    from .engine import lint_bytes

    return lint_bytes(path, data, settings)


class NotARegularFileError(OSError):
    """The path names a FIFO, socket or device: reading it could block forever or never end."""


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The contents of a regular file (at most `limit` + 1 bytes when `limit` is given, so a
    caller can tell a file over the limit).

    The file is opened non-blocking and checked with fstat before reading, so a FIFO named
    ``train.py`` is refused instead of waiting for a writer that never comes.

    Raises:
        NotARegularFileError: the path is a FIFO, socket or device (``strerror`` says so).
        OSError: the file cannot be read (permissions, vanished, a directory...).
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(errno.EINVAL, "not a regular file", path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb") as handle:
            descriptor = -1
            return handle.read() if limit is None else handle.read(limit + 1)
    finally:
        if descriptor >= 0:
            os.close(descriptor)
