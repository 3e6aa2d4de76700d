"""``# noqa`` comments: which rows suppress which codes.

Syntax (as flake8 and ruff): ``# noqa`` suppresses every finding on its row;
``# noqa: DLX001, missing-zero-grad`` suppresses the listed codes or rule names (comma- or
space-separated, case-insensitive). The comment must be a real comment: occurrences of
``noqa`` inside strings are ignored (the tokenizer tells them apart).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Za-z0-9_-]+(?:[,\s]+[A-Za-z0-9_-]+)*))?",
    re.IGNORECASE,
)

ALL = "*"


@dataclass(frozen=True)
class NoqaDirective:
    """One ``# noqa`` comment.

    Attributes:
        row: 1-based row of the comment.
        column: 1-based column (code points) where ``noqa``'s ``#`` starts.
        end_column: 1-based exclusive end column of the directive.
        codes: the selectors listed (as written), empty for a bare ``# noqa``.
    """

    row: int
    column: int
    end_column: int
    codes: tuple[str, ...]

    @property
    def is_bare(self) -> bool:
        return not self.codes


def parse_noqa(source: str) -> dict[int, NoqaDirective]:
    """Row -> directive for every ``# noqa`` comment in `source`.

    Uses the tokenizer to find real comments; when the tokenizer cannot process the file (for
    example Python 3.12 f-strings on an older interpreter), falls back to scanning lines, which
    may also match ``# noqa`` text inside a string.
    """
    if "noqa" not in source and "NOQA" not in source.upper():
        return {}
    try:
        comments = _comments_by_tokenizer(source)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        comments = _comments_by_lines(source)
    directives: dict[int, NoqaDirective] = {}
    for row, column, text in comments:
        match = _NOQA.search(text)
        if match is None:
            continue
        codes_text = match.group("codes") or ""
        codes = tuple(c for c in re.split(r"[,\s]+", codes_text) if c)
        directives[row] = NoqaDirective(row, column + match.start() + 1, column + match.end() + 1, codes)
    return directives


def _comments_by_tokenizer(source: str) -> list[tuple[int, int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found.append((token.start[0], token.start[1], token.string))
    return found


def _comments_by_lines(source: str) -> list[tuple[int, int, str]]:
    found = []
    for row, line in enumerate(source.splitlines(), start=1):
        index = line.find("#")
        while index != -1:
            if re.match(r"#\s*noqa", line[index:], re.IGNORECASE):
                found.append((row, index, line[index:]))
                break
            index = line.find("#", index + 1)
    return found


def is_suppressed(directive: NoqaDirective | None, code: str, name: str) -> bool:
    """Whether `directive` (on the diagnostic's row) suppresses the rule `code`/`name`."""
    if directive is None:
        return False
    if directive.is_bare:
        return True
    lowered = {c.lower() for c in directive.codes}
    return code.lower() in lowered or name.lower() in lowered


# --- where a `# noqa` comment for a row goes --------------------------------------------------

_MULTILINE_HINTS = ('"""', "'''", "\\\n", "\\\r")


def noqa_rows(source: str) -> dict[int, int]:
    """Rows whose line does not end where a comment is legal -> the row whose comment counts
    for them (rows not in the result map to themselves).

    A line that ends inside a multi-line string, or with a backslash continuation, cannot take
    a comment; as in ruff, a finding on such a line is suppressed by (and ``--add-noqa`` writes
    to) the first following line that can: the line where the string or the continuation
    ends. Lines inside brackets can take comments and map to themselves.

    Returns an empty mapping when the source has no multi-line string or continuation, or
    when the tokenizer cannot process it.
    """
    if not any(hint in source for hint in _MULTILINE_HINTS):
        return {}
    scanned = _comment_rows(source)
    if scanned is None:
        return {}
    legal, last_row = scanned
    mapping: dict[int, int] = {}
    pending: list[int] = []
    for row in range(1, last_row + 1):
        if row in legal:
            for waiting in pending:
                mapping[waiting] = row
            pending.clear()
        else:
            pending.append(row)
    return mapping


def comment_allowed_rows(source: str) -> set[int] | None:
    """Rows whose line ends where a comment may be appended (not inside a string, not after a
    backslash continuation); None when the tokenizer cannot process the source."""
    scanned = _comment_rows(source)
    return None if scanned is None else scanned[0]


def _comment_rows(source: str) -> tuple[set[int], int] | None:
    """(rows ending in a NEWLINE, NL or COMMENT token, last row seen), or None."""
    rows: set[int] = set()
    last_row = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            last_row = max(last_row, token.end[0])
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                rows.add(token.start[0])
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return None
    return rows, last_row


# --- unused directives (DLX901) -------------------------------------------------------------

_DLX_CODE = re.compile(r"DLX\d{3}", re.IGNORECASE)


@dataclass(frozen=True)
class UnusedNoqa:
    """A directive that lists codes it does not need.

    Attributes:
        directive: the ``# noqa`` comment.
        unused: selectors (as written) of enabled rules that reported nothing on its row.
        unknown: selectors shaped like a dlx-lint code (``DLX`` + 3 digits) that name no rule.
    """

    directive: NoqaDirective
    unused: tuple[str, ...]
    unknown: tuple[str, ...]

    def message(self) -> str:
        """``unused `noqa` directive (unused: `DLX016`; unknown: `DLX999`)``."""
        parts = []
        if self.unused:
            parts.append("unused: " + ", ".join(f"`{code}`" for code in self.unused))
        if self.unknown:
            parts.append("unknown: " + ", ".join(f"`{code}`" for code in self.unknown))
        return f"unused `noqa` directive ({'; '.join(parts)})"


def find_unused(
    directives: dict[int, NoqaDirective],
    used: dict[int, set[str]],
    checkable: frozenset[str],
    lookup,
    exempt: frozenset[str],
) -> list[UnusedNoqa]:
    """The directives that list codes suppressing nothing.

    Args:
        directives: row -> directive, from `parse_noqa`.
        used: directive row -> codes it suppressed in this run.
        checkable: codes whose absence can be trusted: enabled rules that did not fail.
        lookup: ``selector -> Rule | None`` (a code in any case, or a rule name).
        exempt: codes that, when listed, exempt the whole directive (the unused-noqa rule
            itself: ``# noqa: DLX901`` keeps a deliberately broad directive quiet).

    A bare ``# noqa`` is never reported: it speaks to every linter on the line (ruff, flake8...),
    so dlx-lint cannot tell it is unused. Selectors of other tools (``E501``, ``F401``) are
    ignored for the same reason; rules that are not enabled (or whose check failed) are not
    checkable, so their codes are left alone.
    """
    found: list[UnusedNoqa] = []
    for row in sorted(directives):
        directive = directives[row]
        if directive.is_bare:
            continue
        rules = [(selector, lookup(selector)) for selector in directive.codes]
        if any(rule is not None and rule.code in exempt for _, rule in rules):
            continue
        suppressed = used.get(row, set())
        unused: list[str] = []
        unknown: list[str] = []
        reported: set[str] = set()
        for selector, rule in rules:
            if rule is None:
                if _DLX_CODE.fullmatch(selector):
                    unknown.append(selector)
                continue
            if rule.code in checkable and rule.code not in suppressed and rule.code not in reported:
                reported.add(rule.code)
                unused.append(selector)
        if unused or unknown:
            found.append(UnusedNoqa(directive, tuple(unused), tuple(unknown)))
    return found
