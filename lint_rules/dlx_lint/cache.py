"""The result cache: a rerun on unchanged files reads each file once and parses nothing.

Where: ``--cache-dir``, else the ``cache-dir`` of the configuration that applies to the working
directory, else ``.dlx_lint_cache`` next to that configuration's ``pyproject.toml`` (the
project root), else in the working directory. The folder holds a ``.gitignore`` (``*``) and a
``CACHEDIR.TAG``, so it is never committed or backed up.

Key of a file's entry: its absolute path, then
- the SHA-256 of its bytes (content, not modification time: a checkout or a touch that keeps
  the bytes keeps the entry; any change to the bytes misses);
- a fingerprint of the settings that shape its results: the codes enabled for it (after
  per-file ignores), the severity overrides and the target torch version;
- the dlx-lint version and a fingerprint of the installed package's modules (size and
  modification time of each ``.py`` file), so an upgrade or an edited rule in a development
  checkout never reads old results: they select the cache file
  (``<version>/results-<fingerprint>.json``).

An entry stores the file's complete diagnostics, every field of `Diagnostic` including its
`Fix` and `Edit`\\ s (see `encode_diagnostic`), without the file name, which is filled in from
the current spelling of the path when read. Files that could not be read, and files where a
rule failed (DLX999), are not stored.

Concurrency: the cache file is replaced atomically (`dlx_lint.atomic.write_atomic`); before
writing, the entries on disk are read again and merged with this run's (this run wins), so
concurrent runs never corrupt the cache and rarely lose each other's entries. A cache file
that cannot be read or parsed is ignored (and rewritten). Entries unused for
`MAX_AGE_DAYS` are dropped when the cache is written.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import sys
import time
from typing import Any, Iterable

from .diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
from .settings import Settings

CACHE_DIR_NAME = ".dlx_lint_cache"
FORMAT = 1
MAX_AGE_DAYS = 30
NOT_CACHED_CODES = frozenset({"DLX999"})

_GITIGNORE = "# Automatically created by dlx-lint.\n*\n"
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by dlx-lint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def resolve_cache_dir(resolver, explicit: str | None = None) -> str:
    """The cache directory for a run started in the working directory.

    Args:
        resolver: the run's `dlx_lint.config.SettingsResolver`.
        explicit: ``--cache-dir``, which wins.

    Raises:
        dlx_lint.config.ConfigError: a configuration file on the way up is invalid.
    """
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    config = resolver.config_for(os.getcwd())
    if config is not None and config.cache_dir:
        return config.cache_dir
    root = config.root if config is not None else os.getcwd()
    return os.path.join(root, CACHE_DIR_NAME)


def content_key(data: bytes) -> str:
    """The content part of an entry's key: the SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def package_fingerprint() -> str:
    """``version-hash`` of the installed dlx-lint: the version plus the size and modification
    time of every module file of the package."""
    from . import __version__

    root = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256(__version__.encode())
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                status = os.stat(path)
                digest.update(f"{os.path.relpath(path, root)}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


class Cache:
    """The entries of one cache directory for this version of dlx-lint.

    Use `lookup` and `store` while linting, then `save` once.

    Attributes:
        directory: the cache directory (created on `save`).
        path: the cache file inside it.
    """

    def __init__(self, directory: str) -> None:
        from . import __version__

        self.directory = directory
        self.path = os.path.join(directory, __version__, f"results-{package_fingerprint()}.json")
        self._entries: dict[str, list] = self._read()
        self._changed = False
        self._today = int(time.time() // 86400)
        self._settings_keys: dict[tuple[int, frozenset], str] = {}

    def _read(self) -> dict[str, list]:
        try:
            with open(self.path, "rb") as handle:
                document = json.loads(handle.read())
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("entries"), dict):
            return {}
        return document["entries"]

    def key(self, path: str, content: str, settings: Settings) -> str:
        """The full key of `path` with content hash `content` under `settings`."""
        enabled = settings.enabled_codes(path)
        memo = (id(settings), enabled)
        settings_key = self._settings_keys.get(memo)
        if settings_key is None:
            shape = {
                "enabled": sorted(enabled),
                "severity": [[selector, severity.value] for selector, severity in settings.severity_overrides],
                "target_torch_version": settings.target_torch_version,
            }
            settings_key = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
            self._settings_keys[memo] = settings_key
        return f"{content}-{settings_key}"

    def lookup(self, path: str, key: str) -> list[Diagnostic] | None:
        """The cached diagnostics of `path` (with `path` as their file name), or None on a
        miss or an unreadable entry."""
        entry = self._entries.get(os.path.abspath(path))
        if not entry or entry[0] != key:
            return None
        try:
            diagnostics = [decode_diagnostic(item, path) for item in entry[2]]
        except (KeyError, TypeError, ValueError):
            return None
        if entry[1] != self._today:
            entry[1] = self._today
            self._changed = True
        return diagnostics

    def store(self, path: str, key: str, diagnostics: Iterable[Diagnostic]) -> None:
        """Remember the diagnostics of `path` under `key` (skipped when one is a DLX999, or
        when a diagnostic cannot be written as JSON)."""
        diagnostics = list(diagnostics)
        if any(d.code in NOT_CACHED_CODES for d in diagnostics):
            return
        try:
            encoded = [encode_diagnostic(d) for d in diagnostics]
            json.dumps(encoded)
        except (TypeError, ValueError):
            return
        self._entries[os.path.abspath(path)] = [key, self._today, encoded]
        self._changed = True

    def save(self) -> None:
        """Write the cache if anything changed, merged with what other runs wrote meanwhile.

        A failure to write (read-only checkout, full disk) prints one warning line on stderr
        and is otherwise ignored: the cache is an optimisation.
        """
        if not self._changed:
            return
        from .atomic import write_atomic

        merged = self._read()
        merged.update(self._entries)
        oldest = self._today - MAX_AGE_DAYS
        merged = {path: entry for path, entry in merged.items() if isinstance(entry, list) and len(entry) == 3 and entry[1] >= oldest}
        document = {"format": FORMAT, "entries": merged}
        try:
            _prepare_directory(self.directory)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        except OSError as error:
            sys.stderr.write(f"dlx-lint: warning: cannot write the cache in {self.directory}: {error.strerror or error}\n")
            return
        self._changed = False


def _prepare_directory(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        marker = os.path.join(directory, name)
        if not os.path.exists(marker):
            with open(marker, "w", encoding="utf-8") as handle:
                handle.write(text)


# --- (de)serialising diagnostics ----------------------------------------------------------------


def encode_diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    """Every field of `diagnostic` except ``filename``, as JSON-ready values (enums by value,
    the fix and its edits as objects). Field-driven, so fields added to `Diagnostic`, `Fix`
    or `Edit` are carried along as long as their values are JSON data."""
    return {
        field.name: _plain(getattr(diagnostic, field.name))
        for field in dataclasses.fields(Diagnostic)
        if field.name != "filename"
    }


def decode_diagnostic(data: dict[str, Any], filename: str) -> Diagnostic:
    """The inverse of `encode_diagnostic`, with `filename` filled in.

    Raises:
        KeyError, TypeError, ValueError: `data` is not an encoded diagnostic.
    """
    values = dict(data)
    values["severity"] = Severity(values["severity"])
    fix = values.get("fix")
    if fix is not None:
        fix = dict(fix)
        fix["applicability"] = Applicability(fix["applicability"])
        fix["edits"] = tuple(Edit(**edit) for edit in fix["edits"])
        values["fix"] = Fix(**fix)
    return Diagnostic(filename=filename, **values)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


# --- linting with the cache -------------------------------------------------------------------


def lint_cached(tasks: list[tuple[str, Settings]], jobs: int | None, cache: Cache) -> list[Diagnostic]:
    """Lint ``(path, settings)`` pairs, answering unchanged files from `cache`.

    Every file is read once here and hashed; a hit returns the stored diagnostics without
    parsing. The misses are linted by `dlx_lint.runner.lint_files_keyed` (in worker processes
    when there are enough of them), which reads each again and reports the hash of what it
    linted, so a file edited in between is stored under its new contents. The cache is saved
    before returning.

    Returns:
        Diagnostics sorted by `Diagnostic.sort_key`.
    """
    from .runner import lint_files_keyed, read_bytes

    results: list[Diagnostic] = []
    misses: list[tuple[str, Settings]] = []
    for path, settings in tasks:
        try:
            data = read_bytes(path)
        except OSError:
            misses.append((path, settings))
            continue
        cached = cache.lookup(path, cache.key(path, content_key(data), settings))
        if cached is None:
            misses.append((path, settings))
        else:
            results.extend(cached)
    settings_of = dict(misses)
    for path, content, diagnostics in lint_files_keyed(misses, jobs):
        results.extend(diagnostics)
        if content is not None:
            cache.store(path, cache.key(path, content, settings_of[path]), diagnostics)
    cache.save()
    results.sort(key=Diagnostic.sort_key)
    return results
