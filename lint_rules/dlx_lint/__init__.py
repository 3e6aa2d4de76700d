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

import os as _os
import sys as _sys


def _drop_working_directory_from_path() -> None:
    """Under ``python -m dlx_lint``, take the working directory off the front of ``sys.path``.

    Python puts it there for ``-m``, so a checked project's ``argparse.py`` or ``json.py`` (or a
    ``libcst`` folder) would be imported, that is run, in place of the real module as soon as
    dlx-lint imports it: the VS Code client starts ``python -m dlx_lint server`` in the
    workspace folder, and people type ``python -m dlx_lint check .`` in their project. The
    ``dlx-lint`` console script does not add it. The entry stays when dlx_lint itself was
    found there (running from ``lint_rules/``) and under ``-P`` / ``PYTHONSAFEPATH`` (nothing
    was added). While the package of ``-m`` is being imported, ``sys.argv[0]`` is ``"-m"``.
    """
    if _sys.argv[:1] != ["-m"] or not _sys.path or getattr(_sys.flags, "safe_path", False):
        return
    first = _os.path.abspath(_sys.path[0] or _os.curdir)
    home = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    if first == _os.path.abspath(_os.getcwd()) and first != home:
        del _sys.path[0]


_drop_working_directory_from_path()

import importlib  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

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
