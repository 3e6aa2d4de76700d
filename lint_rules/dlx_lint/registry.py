"""Discovers the rule modules and resolves user selectors (codes, prefixes, names) to codes."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Iterable

from .rule import Rule


class UnknownRuleError(ValueError):
    """A selector (in `--select`, `ignore`, a `# noqa` is exempt) names no rule."""


@functools.lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """One instance of every rule class in `dlx_lint.rules`, sorted by code.

    Raises:
        RuntimeError: if two rules share a code or a name (a packaging bug).
    """
    from . import rules as rules_pkg

    found: list[Rule] = []
    for info in pkgutil.iter_modules(rules_pkg.__path__):
        module = importlib.import_module(f"{rules_pkg.__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
                and "code" in vars(value)
            ):
                found.append(value())
    found.sort(key=lambda r: r.code)
    codes = [r.code for r in found]
    names = [r.name for r in found]
    if len(set(codes)) != len(codes) or len(set(names)) != len(names):
        raise RuntimeError("duplicate rule code or name in dlx_lint.rules")
    return tuple(found)


@functools.lru_cache(maxsize=1)
def rules_by_code() -> dict[str, Rule]:
    """Code -> rule."""
    return {r.code: r for r in all_rules()}


@functools.lru_cache(maxsize=1)
def _name_to_code() -> dict[str, str]:
    return {r.name: r.code for r in all_rules()}


def find_rule(code_or_name: str) -> Rule | None:
    """The rule with this code (any case) or kebab-case name, or None."""
    text = code_or_name.strip()
    by_code = rules_by_code()
    if text.upper() in by_code:
        return by_code[text.upper()]
    code = _name_to_code().get(text.lower())
    return by_code[code] if code else None


def resolve_selector(selector: str) -> frozenset[str]:
    """Codes matched by one selector: ``ALL``, a code, a code prefix (``DLX0``), or a name.

    Raises:
        UnknownRuleError: if the selector matches no rule.
    """
    text = selector.strip()
    if not text:
        raise UnknownRuleError("empty rule selector")
    codes = rules_by_code()
    if text.upper() == "ALL":
        return frozenset(codes)
    rule = find_rule(text)
    if rule is not None:
        return frozenset({rule.code})
    upper = text.upper()
    if upper.startswith("DLX"):
        matched = frozenset(c for c in codes if c.startswith(upper))
        if matched:
            return matched
    raise UnknownRuleError(f"unknown rule selector {selector!r} (see `dlx-lint rule --all`)")


def resolve_selectors(selectors: Iterable[str]) -> frozenset[str]:
    """Union of `resolve_selector` over several selectors.

    Raises:
        UnknownRuleError: naming the first selector that matches nothing.
    """
    result: set[str] = set()
    for selector in selectors:
        result |= resolve_selector(selector)
    return frozenset(result)


def default_codes() -> frozenset[str]:
    """Codes of the rules enabled when the user selects nothing."""
    return frozenset(r.code for r in all_rules() if r.enabled_by_default)
