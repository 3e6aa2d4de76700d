"""dlx-lint: a linter for deep-learning (PyTorch) code.

Public API (stable):
    lint_source(path, source, settings=None) -> list[Diagnostic]
    lint_bytes(path, data, settings=None) -> list[Diagnostic]
    fix_source(path, text, settings=None, *, unsafe=False) -> FixResult
    Settings, Diagnostic, Severity, Fix, Edit, Applicability
    all_rules(), find_rule(code_or_name)

The names are imported on first use (PEP 562), so ``import dlx_lint`` stays cheap and
``dlx-lint --version`` or ``--help`` does not pay for loading libcst.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Applicability": "diagnostics",
    "Diagnostic": "diagnostics",
    "Edit": "diagnostics",
    "Fix": "diagnostics",
    "Severity": "diagnostics",
    "Settings": "settings",
    "all_rules": "registry",
    "find_rule": "registry",
    "fix_source": "fixer",
    "lint_bytes": "engine",
    "lint_source": "engine",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from .diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
    from .engine import lint_bytes, lint_source
    from .fixer import fix_source
    from .registry import all_rules, find_rule
    from .settings import Settings


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        # Keep `import dlx_lint; dlx_lint.engine` working as with an eager package.
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
