"""Effective settings for linting one file, and how they pick the enabled rules."""

from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass, field

from .diagnostics import Applicability, Severity
from .registry import default_codes, resolve_selector, resolve_selectors


ALWAYS_REPORTED = "DLX900"
"""syntax-error: enabled unless ignored explicitly (by code, prefix, name or ``ALL``)."""

_STRING_TUPLE_FIELDS = ("select", "extend_select", "ignore", "exclude", "extend_safe_fixes", "extend_unsafe_fixes")


@dataclass(frozen=True)
class Settings:
    """What the engine needs to know besides the source text.

    Built by `dlx_lint.config` from `[tool.dlx-lint]` and command-line flags, or by the
    language server from editor settings. Selectors are codes (``DLX001``), prefixes
    (``DLX0``), kebab-case names (``missing-zero-grad``) or ``ALL``.

    Attributes:
        select: replaces the default rule set when given.
        extend_select: added to the selected set.
        ignore: removed from the selected set.
        per_file_ignores: ``(glob, selectors)`` pairs; a glob matches the path relative to
            `project_root` (POSIX separators) or the file's base name.
        exclude: globs of paths not to lint when discovering files (explicitly named files are
            linted anyway, as in ruff without `--force-exclude`).
        target_torch_version: the oldest PyTorch release the code must run on, ``(major,
            minor)``; ``None`` when unset (rules-catalog.md, clause 18).
        severity_overrides: ``(selector, severity)`` pairs applied in order.
        project_root: directory of the `pyproject.toml` the settings came from, if any.
        extend_safe_fixes: selectors of rules whose unsafe fixes are treated as safe.
        extend_unsafe_fixes: selectors of rules whose safe fixes are treated as unsafe (wins
            over `extend_safe_fixes` for a rule named in both). Display-only fixes stay so.
        cross_file: follow names imported from other modules of the workspace with jedi
            (`dlx_lint.crossfile`), so rules see what a helper of another file returns.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    target_torch_version: tuple[int, int] | None = None
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    project_root: str | None = None
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()
    cross_file: bool = False
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        """Normalise the string-tuple fields (selectors, exclude globs) given as one string or a
        list to tuples.

        Raises:
            TypeError: such a field is not a string or a sequence of strings, or
                `target_torch_version` is not a ``(major, minor)`` pair of integers. (Without
                this, ``select="DLX025"`` was read as the selectors ``D``, ``L``, ``X``...)
        """
        for name in _STRING_TUPLE_FIELDS:
            value = getattr(self, name)
            if value is None and name == "select":
                continue
            if isinstance(value, str):
                value = (value,)
            elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(item, str) for item in value):
                value = tuple(value)
            else:
                raise TypeError(f"Settings.{name} must be a rule selector or a sequence of them (e.g. ('DLX025',)), not {value!r}")
            object.__setattr__(self, name, value)
        target = self.target_torch_version
        if target is not None:
            if not (isinstance(target, (tuple, list)) and len(target) == 2 and all(isinstance(part, int) and not isinstance(part, bool) for part in target)):
                raise TypeError(f"Settings.target_torch_version must be a (major, minor) pair such as (2, 6), not {target!r}")
            object.__setattr__(self, "target_torch_version", tuple(target))

    def validate(self) -> None:
        """Resolve every selector once.

        Raises:
            dlx_lint.registry.UnknownRuleError: naming the first unknown selector.
        """
        resolve_selectors(self.select or ())
        resolve_selectors(self.extend_select)
        resolve_selectors(self.ignore)
        for _, selectors in self.per_file_ignores:
            resolve_selectors(selectors)
        for selector, _ in self.severity_overrides:
            resolve_selector(selector)
        resolve_selectors(self.extend_safe_fixes)
        resolve_selectors(self.extend_unsafe_fixes)

    def base_codes(self) -> frozenset[str]:
        """Enabled codes before per-file ignores (``DLX900`` is always among them unless
        ``ignore`` names it)."""
        cached = self._cache.get("base")
        if cached is None:
            chosen = set(resolve_selectors(self.select) if self.select is not None else default_codes())
            chosen |= resolve_selectors(self.extend_select)
            ignored = resolve_selectors(self.ignore)
            chosen -= ignored
            if ALWAYS_REPORTED not in ignored:
                # As in ruff: a file that does not parse is never "All checks passed!", whatever
                # `select` narrows to; only an explicit ignore (or per-file ignore) hides it.
                chosen.add(ALWAYS_REPORTED)
            cached = frozenset(chosen)
            self._cache["base"] = cached
        return cached

    def enabled_codes(self, filename: str) -> frozenset[str]:
        """Codes enabled for one file (selection minus matching per-file ignores)."""
        codes = self.base_codes()
        if not self.per_file_ignores:
            return codes
        ignored: set[str] = set()
        candidates = _match_candidates(filename, self.project_root)
        for pattern, selectors in self.per_file_ignores:
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                ignored |= resolve_selectors(selectors)
        return codes - ignored

    def fix_applicability(self, code: str, applicability: Applicability) -> Applicability:
        """The applicability of a fix of rule `code` after `extend-safe-fixes` and
        `extend-unsafe-fixes`."""
        if not self.extend_safe_fixes and not self.extend_unsafe_fixes:
            return applicability
        cached = self._cache.get("fix-lists")
        if cached is None:
            cached = (resolve_selectors(self.extend_safe_fixes), resolve_selectors(self.extend_unsafe_fixes))
            self._cache["fix-lists"] = cached
        safe, unsafe = cached
        if applicability is Applicability.SAFE and code in unsafe:
            return Applicability.UNSAFE
        if applicability is Applicability.UNSAFE and code in safe and code not in unsafe:
            return Applicability.SAFE
        return applicability

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The user's severity for a code, else `default`."""
        result = default
        for selector, severity in self.severity_overrides:
            if code in resolve_selector(selector):
                result = severity
        return result


@functools.lru_cache(maxsize=4096)
def _match_candidates(filename: str, root: str | None) -> tuple[str, ...]:
    path = os.path.abspath(filename)
    candidates = [os.path.basename(path), filename.replace(os.sep, "/")]
    if root:
        try:
            rel = os.path.relpath(path, root)
        except ValueError:  # another drive on Windows
            rel = None
        if rel and not rel.startswith(".."):
            candidates.append(rel.replace(os.sep, "/"))
    return tuple(candidates)
