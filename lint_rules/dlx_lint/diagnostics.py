"""The values every front end consumes: severities, fixes and diagnostics.

Positions are 1-based rows and 1-based columns counted in Unicode code points, as ruff's JSON
output does. The language server converts columns to UTF-16 code units in one place
(`dlx_lint_server.convert`); nothing else in the package counts in UTF-16 or bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.Enum):
    """How sure a rule is that the code is wrong (see rules-catalog.md, section 1).

    `error`: almost surely computes the wrong thing or is unsafe; `warning`: very likely a bug
    but a legitimate use exists; `info`: hygiene or reproducibility advice.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @classmethod
    def parse(cls, text: str) -> "Severity":
        """Parse `error`, `warning`, `info` (also `information`, `hint`), case-insensitively.

        Raises:
            ValueError: for any other text.
        """
        lowered = text.strip().lower()
        aliases = {"information": "info", "hint": "info", "warn": "warning"}
        lowered = aliases.get(lowered, lowered)
        try:
            return cls(lowered)
        except ValueError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class Applicability(enum.Enum):
    """Whether a fix may be applied without review (ruff's model).

    `safe`: meaning preserved; `unsafe`: may change behaviour, applied only with
    `--unsafe-fixes` or an explicit quick fix; `display-only`: shown, never applied.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two positions (1-based rows, 1-based code-point columns;
    the end is exclusive) with `content`. An insertion has equal start and end."""

    row: int
    column: int
    end_row: int
    end_column: int
    content: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A set of non-overlapping edits that together repair one diagnostic.

    Edits are sorted by position and apply to the text the diagnostic was computed on, all
    together or not at all (`dlx_lint.fixes.apply.apply_edits`). For a notebook they are
    relative to the diagnostic's cell; row ``len(cell lines) + 1``, column 1, is the end of the
    cell. `message` is the fix's title ("Pass `training=self.training`").
    """

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding in one file.

    Attributes:
        code: rule code, e.g. ``"DLX001"``.
        name: kebab-case rule name, e.g. ``"missing-zero-grad"``.
        message: one sentence saying what is wrong and, where possible, what to do.
        severity: the rule's default severity, or the user's override.
        filename: the path as given on the command line (or the editor's document path).
        row, column: start, 1-based; column in code points.
        end_row, end_column: end (exclusive), 1-based; column in code points.
        noqa_row: the row on which a ``# noqa`` comment suppresses this diagnostic.
        cell: for notebooks, the 0-based index of the cell among all cells (markdown cells
            count); rows and columns are then relative to that cell. ``None`` for .py files.
        fix: the fix, when the rule offers one for this occurrence.
        url: the rule's documentation page.
    """

    code: str
    name: str
    message: str
    severity: Severity
    filename: str
    row: int
    column: int
    end_row: int
    end_column: int
    noqa_row: int | None = None
    cell: int | None = None
    fix: Fix | None = None
    url: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def sort_key(self) -> tuple:
        """Order used everywhere: file, cell, row, column, code."""
        return (self.filename, -1 if self.cell is None else self.cell, self.row, self.column, self.code)


DOCS_BASE_URL = "https://github.com/dlx-lint/dlx-lint/blob/main/docs/rules.md"


def rule_url(code: str, name: str) -> str:
    """The documentation address of a rule (an anchor in the generated rules page)."""
    return f"{DOCS_BASE_URL}#{code.lower()}-{name}"
