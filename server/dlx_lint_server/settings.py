"""Editor settings (``initializationOptions``, ``workspace/didChangeConfiguration``,
``workspace/configuration``) and how they combine with ``pyproject.toml``.

Settings keys (all optional)::

    select, extendSelect, ignore      rule selectors: codes, prefixes, names or "ALL"
    severity                          {selector: "error" | "warning" | "information" | "hint"}
    unsafeFixes                       bool, default false: fix-all also applies unsafe fixes
    lintOnChange                      bool, default true; false lints on open and save only
    lintDebounceMs                    int, default 150: delay after the last change (ms)
    configurationPreference           "editorFirst" (default) | "filesystemFirst"
    logLevel                          "error" | "warning" | "info" | "debug" (default "warning")
    codeAction.fixViolation.enable          bool, default true
    codeAction.disableRuleComment.enable    bool, default true
    crossFile                         bool, default true: follow imports of workspace modules
                                      with jedi (rules and hovers; `dlx_lint.crossfile`)
    inlayHints.parameterCounts        bool, default false: parameter counts after layer and
                                      module constructor calls

The object may also be wrapped as ``{"dlx-lint": {...}}`` or ``{"settings": {...}}``
(what VS Code extensions usually send); dotted keys (``"codeAction.fixViolation.enable"``)
are accepted too. Unknown rule selectors are dropped and reported, never fatal.

``editorFirst``: the nearest ``[tool.dlx-lint]`` applies and the editor's ``select``
replaces its ``select`` while ``extendSelect``/``ignore`` add to it (as command-line flags
do); the editor's ``severity`` wins. ``filesystemFirst``: when a ``pyproject.toml`` with
``[tool.dlx-lint]`` is found, it alone decides the rule set and its severities; the editor's
settings apply only where no such file exists (and to codes the file gives no severity).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from dlx_lint.config import ConfigError, FileConfig, Overrides, SettingsResolver, build_settings
from dlx_lint.registry import UnknownRuleError, resolve_selector
from dlx_lint.settings import Settings

logger = logging.getLogger(__name__)

SECTION = "dlx-lint"
EDITOR_FIRST = "editorFirst"
FILESYSTEM_FIRST = "filesystemFirst"
SEVERITY_VALUES = ("error", "warning", "information", "info", "hint")
LOG_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG, "trace": logging.DEBUG}
DEFAULT_DEBOUNCE_MS = 150


@dataclass(frozen=True)
class EditorSettings:
    """Settings sent by the client, checked and normalised.

    Attributes:
        select: selectors replacing the default rule set, or None.
        extend_select, ignore: selectors added / removed.
        severity: rule code -> ``error``/``warning``/``information``/``hint`` (selectors
            already expanded to codes).
        unsafe_fixes: fix-all applies unsafe fixes too.
        lint_on_change: lint while typing (else on open and save only).
        debounce_ms: delay after the last change before linting, in milliseconds.
        configuration_preference: ``editorFirst`` or ``filesystemFirst``.
        log_level: a `logging` level number.
        fix_violation_enabled: offer the rules' fixes as code actions.
        disable_rule_comment_enabled: offer "Disable DLXnnn for this line".
        cross_file: cross-file inference with jedi (rules and hovers).
        inlay_parameter_counts: show parameter counts as inlay hints.
        problems: human-readable problems found while reading the settings (unknown rule
            selectors, wrong types); reported to the user once.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    unsafe_fixes: bool = False
    lint_on_change: bool = True
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    configuration_preference: str = EDITOR_FIRST
    log_level: int = logging.WARNING
    fix_violation_enabled: bool = True
    disable_rule_comment_enabled: bool = True
    cross_file: bool = True
    inlay_parameter_counts: bool = False
    problems: tuple[str, ...] = ()


def _unwrap(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    for key in (SECTION, "dlxLint", "dlx_lint", "settings"):
        inner = raw.get(key)
        if isinstance(inner, dict):
            return _unwrap(inner) if key == "settings" else inner
    return raw


def _lookup(raw: dict[str, Any], dotted: str) -> Any:
    """A value by dotted key, from nested objects or a flat dotted key."""
    if dotted in raw:
        return raw[dotted]
    current: Any = raw
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def parse_editor_settings(raw: Any) -> EditorSettings:
    """Read the client's settings object; never raises.

    Args:
        raw: the JSON value the client sent (any shape; non-objects mean defaults).

    Returns:
        Checked settings; values of the wrong type fall back to the default and unknown rule
        selectors are dropped, each noted in ``problems``. A ``select`` that is empty, or
        empty once unknown selectors are dropped, means the default rule set (not "no rules").
    """
    values = _unwrap(raw)
    problems: list[str] = []

    def boolean(key: str, default: bool) -> bool:
        value = _lookup(values, key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        problems.append(f"setting {key} must be true or false, not {value!r}")
        return default

    def selectors(key: str) -> tuple[str, ...] | None:
        value = _lookup(values, key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            problems.append(f"setting {key} must be a list of rule codes, not {value!r}")
            return None
        kept = []
        for item in value:
            if not isinstance(item, str):
                problems.append(f"setting {key}: {item!r} is not a rule code")
                continue
            try:
                resolve_selector(item)
            except UnknownRuleError:
                problems.append(f"setting {key}: unknown rule {item!r} ignored")
                continue
            kept.append(item)
        if key == "select" and not kept:
            # An empty `select` would silence every rule; editors show `[]` for "not set".
            if value:
                problems.append("setting select: no known rule left; the default rule set applies")
            return None
        return tuple(kept)

    severity: dict[str, str] = {}
    raw_severity = _lookup(values, "severity")
    if isinstance(raw_severity, dict):
        for selector, level in raw_severity.items():
            if not isinstance(level, str) or level.strip().lower() not in SEVERITY_VALUES:
                problems.append(f"setting severity.{selector}: {level!r} is not error, warning, information or hint")
                continue
            try:
                codes = resolve_selector(str(selector))
            except UnknownRuleError:
                problems.append(f"setting severity: unknown rule {selector!r} ignored")
                continue
            for code in codes:
                severity[code] = level.strip().lower()
    elif raw_severity is not None:
        problems.append(f"setting severity must be an object mapping rule codes to severities, not {raw_severity!r}")

    preference = _lookup(values, "configurationPreference")
    if preference not in (None, EDITOR_FIRST, FILESYSTEM_FIRST):
        problems.append(f"setting configurationPreference must be {EDITOR_FIRST} or {FILESYSTEM_FIRST}, not {preference!r}")
        preference = None
    log_level = _lookup(values, "logLevel")
    level_number = logging.WARNING
    if isinstance(log_level, str) and log_level.lower() in LOG_LEVELS:
        level_number = LOG_LEVELS[log_level.lower()]
    elif log_level is not None:
        problems.append(f"setting logLevel must be error, warning, info or debug, not {log_level!r}")
    debounce = _lookup(values, "lintDebounceMs")
    if debounce is None:
        debounce_ms = DEFAULT_DEBOUNCE_MS
    elif isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 10_000:
        debounce_ms = int(debounce)
    else:
        problems.append(f"setting lintDebounceMs must be a number of milliseconds between 0 and 10000, not {debounce!r}")
        debounce_ms = DEFAULT_DEBOUNCE_MS

    return EditorSettings(
        select=selectors("select"),
        extend_select=selectors("extendSelect") or (),
        ignore=selectors("ignore") or (),
        severity=severity,
        unsafe_fixes=boolean("unsafeFixes", False),
        lint_on_change=boolean("lintOnChange", True),
        debounce_ms=debounce_ms,
        configuration_preference=preference or EDITOR_FIRST,
        log_level=level_number,
        fix_violation_enabled=boolean("codeAction.fixViolation.enable", True),
        disable_rule_comment_enabled=boolean("codeAction.disableRuleComment.enable", True),
        cross_file=boolean("crossFile", True),
        inlay_parameter_counts=boolean("inlayHints.parameterCounts", False),
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class EffectiveSettings:
    """What linting one document uses.

    Attributes:
        engine: the engine's `Settings`.
        severity: code -> editor severity for the LSP conversion (may name ``hint``).
        config_path: the ``pyproject.toml`` that contributed, if any.
    """

    engine: Settings
    severity: dict[str, str]
    config_path: str | None = None


class SettingsStore:
    """Editor settings plus cached ``pyproject.toml`` discovery; resolves per document.

    Thread-safety: `resolve` is called from the event loop only (the result, a frozen
    `Settings`, is then handed to the lint thread).
    """

    def __init__(self) -> None:
        self.editor = EditorSettings()
        self._initialization: dict[str, Any] = {}
        self._configuration: dict[str, Any] = {}
        self._resolver = SettingsResolver()
        self._config_errors_reported: set[str] = set()
        self.pending_messages: list[str] = []

    def update_editor(self, raw: Any, *, initialization: bool = False) -> EditorSettings:
        """Take new settings from the client (see `parse_editor_settings`).

        ``initializationOptions`` are the base layer; settings from
        ``workspace/didChangeConfiguration`` or ``workspace/configuration`` replace the
        previous such settings and override the base key by key. So a client that sends an
        empty ``didChangeConfiguration`` right after start-up (Neovim does) keeps the
        initialization options.

        Args:
            raw: the client's JSON value (None or a non-object counts as empty).
            initialization: `raw` is the ``initializationOptions``.
        """
        if initialization:
            self._initialization = _unwrap(raw)
        else:
            self._configuration = _unwrap(raw)
        self.editor = parse_editor_settings({**self._initialization, **self._configuration})
        return self.editor

    def reload_files(self) -> None:
        """Forget cached ``pyproject.toml`` discovery (a file was created, changed or deleted)."""
        self._resolver = SettingsResolver()
        self._config_errors_reported.clear()

    def resolve(self, fs_path: str | None) -> EffectiveSettings:
        """Effective settings for a document.

        Args:
            fs_path: the document's file-system path, or None for untitled documents and
                non-file URIs (no ``pyproject.toml`` lookup then).

        Returns:
            The combination of the nearest ``[tool.dlx-lint]`` and the editor settings per
            ``configurationPreference``. A broken ``pyproject.toml`` is reported once (in
            `pending_messages`) and ignored.
        """
        editor = self.editor
        file_config: FileConfig | None = None
        if fs_path is not None:
            try:
                file_config = self._resolver.find(os.path.dirname(os.path.abspath(fs_path)))
            except ConfigError as error:
                message = str(error)
                if message not in self._config_errors_reported:
                    self._config_errors_reported.add(message)
                    self.pending_messages.append(f"dlx-lint: ignoring invalid configuration: {message}")
                file_config = None
        overrides = Overrides(select=editor.select, extend_select=editor.extend_select, ignore=editor.ignore,
                              cross_file=editor.cross_file)
        severity = dict(editor.severity)
        if file_config is not None and editor.configuration_preference == FILESYSTEM_FIRST:
            overrides = Overrides(cross_file=editor.cross_file)
            file_codes: set[str] = set()
            for selector, _ in file_config.severity:
                file_codes |= resolve_selector(selector)
            severity = {code: level for code, level in severity.items() if code not in file_codes}
        try:
            engine = build_settings(file_config, overrides)
        except ConfigError as error:  # selectors were checked already; be safe anyway
            logger.warning("settings: %s", error)
            engine = build_settings(file_config, Overrides(cross_file=editor.cross_file))
        return EffectiveSettings(engine=engine, severity=severity, config_path=file_config.path if file_config else None)
