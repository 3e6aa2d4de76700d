"""dlx-lint: a linter for deep-learning (PyTorch) code.

Public API (stable):
    lint_source(path, source, settings=None) -> list[Diagnostic]
    lint_bytes(path, data, settings=None) -> list[Diagnostic]
    Settings, Diagnostic, Severity, Fix, Edit, Applicability
    all_rules(), find_rule(code_or_name)
"""

from .diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
from .engine import lint_bytes, lint_source
from .registry import all_rules, find_rule
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Applicability",
    "Diagnostic",
    "Edit",
    "Fix",
    "Settings",
    "Severity",
    "__version__",
    "all_rules",
    "find_rule",
    "lint_bytes",
    "lint_source",
]
