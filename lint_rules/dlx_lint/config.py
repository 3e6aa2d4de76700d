"""Configuration: ``[tool.dlx-lint]`` in ``pyproject.toml`` plus command-line overrides.

Discovery follows ruff: for each file, walk up from its directory and use the first
``pyproject.toml`` that has a ``[tool.dlx-lint]`` table (a ``pyproject.toml`` without the table is
passed over). No such file means the defaults. ``--config PATH`` replaces discovery with one file
for every path. Command-line flags win over the file: ``--select`` replaces its ``select``,
``--extend-select`` and ``--ignore`` add to its lists.

Keys of ``[tool.dlx-lint]``::

    select = ["DLX0"]                 # codes, code prefixes, kebab-case names or "ALL"
    extend-select = ["DLX027"]
    ignore = ["unguarded-log"]
    exclude = ["generated/*"]         # replaces the (empty) default list
    extend-exclude = ["legacy/*"]
    target-torch-version = "2.4"      # oldest PyTorch release the code must run on
    cache-dir = ".cache/dlx-lint"     # relative to this file's directory
    extend-safe-fixes = ["DLX025"]    # apply these rules' unsafe fixes with plain --fix
    extend-unsafe-fixes = ["DLX020"]  # apply these rules' safe fixes only with --unsafe-fixes
    [tool.dlx-lint.per-file-ignores]
    "tests/*" = ["DLX025"]
    [tool.dlx-lint.severity]
    DLX017 = "warning"                # error | warning | info; keys are selectors too
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Severity
from .settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
TABLE = "dlx-lint"

_LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "extend-safe-fixes", "extend-unsafe-fixes")
_TABLE_KEYS = ("per-file-ignores", "severity")
_KNOWN_KEYS = _LIST_KEYS + _TABLE_KEYS + ("target-torch-version", "cache-dir")
_TORCH_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$")


class ConfigError(Exception):
    """A configuration problem the user must fix; ``str()`` is one line naming the file (or
    the command-line flag) and the problem."""


@dataclass(frozen=True)
class FileConfig:
    """What one ``[tool.dlx-lint]`` table says (values as written, already type-checked).

    Attributes:
        path: absolute path of the ``pyproject.toml``.
        select: None when the key is absent (the defaults apply).
        extend_select, ignore, exclude, extend_exclude: selector or glob lists.
        per_file_ignores: ``(glob, selectors)`` pairs in file order.
        target_torch_version: ``(major, minor)`` or None.
        severity: ``(selector, severity)`` pairs in file order.
        cache_dir: the ``cache-dir`` key made absolute (relative to the file's directory), or
            None.
        extend_safe_fixes, extend_unsafe_fixes: selectors of rules whose fixes change
            applicability (unsafe -> safe, safe -> unsafe).
    """

    path: str
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target_torch_version: tuple[int, int] | None = None
    severity: tuple[tuple[str, Severity], ...] = ()
    cache_dir: str | None = None
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()

    @property
    def root(self) -> str:
        """The directory holding the ``pyproject.toml``: globs are relative to it."""
        return os.path.dirname(self.path)


@dataclass(frozen=True)
class Overrides:
    """Settings given on the command line (or by an editor); they win over the file.

    Attributes:
        select: replaces the file's ``select`` when not None.
        extend_select, ignore: added to the file's lists.
        exclude: replaces the file's ``exclude`` when not None.
        extend_exclude: added to the file's ``extend-exclude``.
        target_torch_version: replaces the file's value when not None.
        cross_file: turn on cross-file inference (``--cross-file``; the editor's ``crossFile``).
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    target_torch_version: tuple[int, int] | None = None
    cross_file: bool = False


def parse_torch_version(text: str) -> tuple[int, int]:
    """Parse ``"2.4"`` (or ``"2.4.1"``; the patch level is ignored) into ``(2, 4)``.

    Raises:
        ValueError: for anything else, with a message saying what is expected.
    """
    match = _TORCH_VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid torch version {text!r} (expected MAJOR.MINOR, e.g. \"2.4\")")
    return int(match.group(1)), int(match.group(2))


def read_pyproject(path: str) -> dict[str, Any] | None:
    """Read a ``pyproject.toml`` and return its ``[tool.dlx-lint]`` table, or None without one.

    Args:
        path: path of the file.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML.
    """
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {_one_line(str(error))}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    tool = document.get("tool")
    if not isinstance(tool, dict):
        return None
    table = tool.get(TABLE)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] must be a table")
    return table


def load_config(path: str, *, require_table: bool = False) -> FileConfig | None:
    """Load and check the ``[tool.dlx-lint]`` table of one ``pyproject.toml``.

    Args:
        path: path of the file (made absolute).
        require_table: return an empty `FileConfig` instead of None when the table is absent
            (used for ``--config``, where the file is the config whatever it holds).

    Returns:
        The checked configuration, or None when the file has no table.

    Raises:
        ConfigError: unreadable file, bad TOML, unknown key, wrong type, bad severity or
            version, or a selector that names no rule.
    """
    path = os.path.abspath(path)
    table = read_pyproject(path)
    if table is None:
        return FileConfig(path) if require_table else None
    return _check_table(path, table)


def _check_table(path: str, table: dict[str, Any]) -> FileConfig:
    where = f"{path}: [tool.{TABLE}]"
    for key in table:
        if key not in _KNOWN_KEYS:
            close = difflib.get_close_matches(key.replace("_", "-"), _KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
    lists = {key: _string_list(where, key, table[key]) for key in _LIST_KEYS if key in table}
    per_file = _per_file_ignores(where, table.get("per-file-ignores", {}))
    severity = _severity_table(where, table.get("severity", {}))
    version = None
    if "target-torch-version" in table:
        value = table["target-torch-version"]
        if not isinstance(value, str):
            raise ConfigError(f"{where}: target-torch-version must be a string like \"2.4\", not {_type_name(value)}")
        try:
            version = parse_torch_version(value)
        except ValueError as error:
            raise ConfigError(f"{where}: target-torch-version: {error}") from None
    cache_dir = None
    if "cache-dir" in table:
        value = table["cache-dir"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: cache-dir must be a non-empty string (a directory), not {_type_name(value)}")
        cache_dir = os.path.normpath(os.path.join(os.path.dirname(path), os.path.expanduser(value)))
    config = FileConfig(
        path=path,
        cache_dir=cache_dir,
        select=lists.get("select"),
        extend_select=lists.get("extend-select", ()),
        ignore=lists.get("ignore", ()),
        exclude=lists.get("exclude", ()),
        extend_exclude=lists.get("extend-exclude", ()),
        per_file_ignores=per_file,
        target_torch_version=version,
        severity=severity,
        extend_safe_fixes=lists.get("extend-safe-fixes", ()),
        extend_unsafe_fixes=lists.get("extend-unsafe-fixes", ()),
    )
    _check_selectors(where, config)
    return config


def _string_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: {key} must be a list of strings, not {_type_name(value)}")
    return tuple(value)


def _per_file_ignores(where: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [rules], not {_type_name(value)}")
    pairs = []
    for pattern, selectors in value.items():
        pairs.append((pattern, _string_list(where, f"per-file-ignores.{pattern!r}", selectors)))
    return tuple(pairs)


def _severity_table(where: str, value: Any) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: severity must be a table of rule = \"error|warning|info\", not {_type_name(value)}")
    pairs = []
    for selector, level in value.items():
        if not isinstance(level, str):
            raise ConfigError(f"{where}: severity.{selector} must be a string (error, warning or info), not {_type_name(level)}")
        try:
            pairs.append((selector, Severity.parse(level)))
        except ValueError as error:
            raise ConfigError(f"{where}: severity.{selector}: {error}") from None
    return tuple(pairs)


def _check_selectors(where: str, config: FileConfig) -> None:
    from .registry import UnknownRuleError, resolve_selector

    groups: list[tuple[str, tuple[str, ...]]] = [
        ("select", config.select or ()),
        ("extend-select", config.extend_select),
        ("ignore", config.ignore),
        ("severity", tuple(selector for selector, _ in config.severity)),
        ("extend-safe-fixes", config.extend_safe_fixes),
        ("extend-unsafe-fixes", config.extend_unsafe_fixes),
    ]
    groups += [(f"per-file-ignores.{pattern!r}", selectors) for pattern, selectors in config.per_file_ignores]
    for key, selectors in groups:
        for selector in selectors:
            try:
                resolve_selector(selector)
            except UnknownRuleError as error:
                raise ConfigError(f"{where}: {key}: {error}") from None


def _type_name(value: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_settings(config: FileConfig | None, overrides: Overrides = Overrides()) -> Settings:
    """Combine a file's configuration (None = defaults) with command-line overrides.

    Raises:
        ConfigError: a command-line selector names no rule.
    """
    from .registry import UnknownRuleError, resolve_selectors

    for flag, selectors in (("--select", overrides.select or ()), ("--extend-select", overrides.extend_select), ("--ignore", overrides.ignore)):
        try:
            resolve_selectors(selectors)
        except UnknownRuleError as error:
            raise ConfigError(f"{flag}: {error}") from None
    base = config or FileConfig(path="")
    exclude = base.exclude if overrides.exclude is None else overrides.exclude
    return Settings(
        select=overrides.select if overrides.select is not None else base.select,
        extend_select=base.extend_select + overrides.extend_select,
        ignore=base.ignore + overrides.ignore,
        per_file_ignores=base.per_file_ignores,
        exclude=exclude + base.extend_exclude + overrides.extend_exclude,
        target_torch_version=overrides.target_torch_version or base.target_torch_version,
        severity_overrides=base.severity,
        project_root=base.root if config is not None else None,
        extend_safe_fixes=base.extend_safe_fixes,
        extend_unsafe_fixes=base.extend_unsafe_fixes,
        cross_file=overrides.cross_file,
    )


@dataclass
class SettingsResolver:
    """Maps a directory to the `Settings` for the files directly inside it.

    Hierarchical discovery is cached per directory, and one `Settings` object is built per
    configuration file, so resolving thousands of files reads each ``pyproject.toml`` once.
    Call it with a directory (``resolver(dirname)``) or use `for_file`.

    Attributes:
        overrides: command-line settings applied on top of every file's configuration.
        config_path: an explicit ``pyproject.toml`` (``--config``) used for every path; turns
            discovery off.
    """

    overrides: Overrides = field(default_factory=Overrides)
    config_path: str | None = None
    _by_directory: dict[str, FileConfig | None] = field(default_factory=dict, repr=False)
    _settings: dict[str, Settings] = field(default_factory=dict, repr=False)
    _explicit: FileConfig | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.config_path is not None:
            if not os.path.isfile(self.config_path):
                raise ConfigError(f"{self.config_path}: config file not found")
            self._explicit = load_config(self.config_path, require_table=True)

    def __call__(self, directory: str) -> Settings:
        """Settings for the files in `directory`.

        Raises:
            ConfigError: a configuration file on the way up is invalid.
        """
        config = self.config_for(directory)
        key = config.path if config is not None else ""
        settings = self._settings.get(key)
        if settings is None:
            settings = build_settings(config, self.overrides)
            self._settings[key] = settings
        return settings

    def config_for(self, directory: str) -> FileConfig | None:
        """The configuration that applies to the files in `directory` (the ``--config`` file
        when given), or None for the defaults.

        Raises:
            ConfigError: a configuration file on the way up is invalid.
        """
        return self._explicit if self.config_path is not None else self.find(directory)

    def for_file(self, path: str) -> Settings:
        """Settings for one file (by its directory)."""
        return self(os.path.dirname(os.path.abspath(path)))

    def default(self) -> Settings:
        """Settings for paths that are not files on disk (stdin without a filename)."""
        return self(os.getcwd())

    def find(self, directory: str) -> FileConfig | None:
        """The nearest configuration at or above `directory`, or None.

        Raises:
            ConfigError: a ``pyproject.toml`` met on the way up is invalid.
        """
        directory = os.path.abspath(directory)
        visited: list[str] = []
        found: FileConfig | None = None
        current = directory
        while True:
            if current in self._by_directory:
                found = self._by_directory[current]
                break
            visited.append(current)
            candidate = os.path.join(current, PYPROJECT)
            if os.path.isfile(candidate):
                found = load_config(candidate)
                if found is not None:
                    break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for seen in visited:
            self._by_directory[seen] = found
        return found
