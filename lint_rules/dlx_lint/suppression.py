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
