"""``--add-noqa``: write a ``# noqa: CODE`` comment on every line with a finding, to adopt
dlx-lint on a large codebase and fix the findings later.

Each finding's comment goes on its ``noqa_row`` (the line itself, or the first following line
that can take a comment when the line ends inside a multi-line string or after a backslash;
see `dlx_lint.suppression.noqa_rows`). An existing ``# noqa: A, B`` there keeps its codes and
gets the missing ones appended (``# noqa: A, B, DLX001``); a bare ``# noqa`` already
suppresses everything. A line that still cannot take a comment is skipped and reported.

The edited text must tokenize to the same code tokens as before (only comments differ) and
every edited line must carry a directive listing its codes; otherwise the file is left as it
was and reported. Files are rewritten atomically (`dlx_lint.atomic.replace_if_unchanged`), in
their own encoding (a UTF-8 BOM stays), newline style and permissions; a file whose bytes are
not those that were linted (edited meanwhile), a read-only file and a link out of the project
are left alone and reported. Notebooks are not edited
(their cells live inside JSON); their findings are reported as skipped. DLX901 (unused-noqa)
findings never get a directive.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterable

from .diagnostics import Diagnostic
from .runner import read_bytes
from .suppression import comment_allowed_rows, parse_noqa

EXCLUDED_CODES = frozenset({"DLX901"})
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass
class AddNoqaReport:
    """What `add_noqa` did.

    Attributes:
        added: number of lines that got a new directive or new codes in an existing one.
        files: number of files rewritten.
        skipped: one-line messages (``path:row: reason`` or ``path: reason``) for findings
            that got no directive.
    """

    added: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)


def add_noqa(diagnostics: Iterable[Diagnostic], linted: dict[str, str | None] | None = None,
             roots: dict[str, str | None] | None = None) -> AddNoqaReport:
    """Add directives for `diagnostics` to their files (see the module docstring).

    Args:
        diagnostics: findings from a lint run of files on disk.
        linted: path -> `dlx_lint.cache.content_key` of the bytes that were linted; a file
            whose bytes differ now is not edited (its rows may have moved). None: not checked.
        roots: path -> configured project root (`Settings.project_root`), for
            `dlx_lint.atomic.project_root`.

    Returns:
        The counts and the skipped findings. A file that cannot be read, decoded or written
        is reported in `AddNoqaReport.skipped`; nothing is raised for it.
    """
    from .engine import DecodeError, decode_source

    report = AddNoqaReport()
    wanted: dict[str, dict[int, set[str]]] = {}
    notebooks: set[str] = set()
    for diagnostic in diagnostics:
        if diagnostic.code in EXCLUDED_CODES or diagnostic.noqa_row is None or diagnostic.filename == "-":
            continue
        if diagnostic.cell is not None:
            notebooks.add(diagnostic.filename)
            continue
        wanted.setdefault(diagnostic.filename, {}).setdefault(diagnostic.noqa_row, set()).add(diagnostic.code)
    for path in sorted(notebooks):
        report.skipped.append(f"{path}: notebooks are not edited; add `# noqa` comments in the cells by hand")
    from .atomic import project_root, replace_if_unchanged
    from .cache import content_key

    for path in sorted(wanted):
        try:
            before = os.stat(path)
            data = read_bytes(path)
            decoded = decode_source(data)
        except (OSError, DecodeError) as error:
            report.skipped.append(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}")
            continue
        if linted is not None and linted.get(path) != content_key(data):
            report.skipped.append(f"{path}: changed on disk since it was linted; not edited")
            continue
        text, added, skipped = add_noqa_to_source(decoded.text, wanted[path])
        report.skipped.extend(f"{path}:{row}: {reason}" for row, reason in skipped)
        if not added:
            continue
        try:
            new = text.encode(decoded.encoding)
        except UnicodeEncodeError as error:
            report.skipped.append(f"{path}: cannot write: {error}")
            continue
        problem = replace_if_unchanged(path, new, data, before, project_root(path, (roots or {}).get(path)))
        if problem is not None:
            report.skipped.append(f"{path}: {problem.replace('being fixed', 'being edited')}")
            continue
        report.added += added
        report.files += 1
    return report


def add_noqa_to_source(text: str, wanted: dict[int, set[str]]) -> tuple[str, int, list[tuple[int, str]]]:
    """Add directives to one source text.

    Args:
        text: the decoded source (line breaks as in the file).
        wanted: 1-based row -> codes to suppress on it.

    Returns:
        ``(new text, lines changed, [(row, reason skipped)])``; the text is unchanged when
        nothing could be added safely.
    """
    skipped: list[tuple[int, str]] = []
    if "\r" in text.replace("\r\n", ""):
        return text, 0, [(row, "lines end with a lone CR (classic Mac OS); not edited") for row in sorted(wanted)]
    allowed = comment_allowed_rows(text)
    if allowed is None:
        return text, 0, [(row, "the file cannot be tokenized; not edited") for row in sorted(wanted)]
    lines = _LINE.findall(text)
    directives = parse_noqa(text)
    changed = 0
    for row in sorted(wanted):
        codes = sorted(wanted[row])
        if not 1 <= row <= len(lines):
            skipped.append((row, "no such line"))
            continue
        if row not in allowed:
            skipped.append((row, "the line ends inside a string or a continuation, where a comment cannot go"))
            continue
        body, ending = _split_ending(lines[row - 1])
        directive = directives.get(row)
        if directive is not None:
            if directive.is_bare:
                continue
            listed = {code.upper() for code in directive.codes} | _codes_of_names(directive.codes)
            missing = [code for code in codes if code not in listed]
            if not missing:
                continue
            cut = directive.end_column - 1
            body = body[:cut] + ", " + ", ".join(missing) + body[cut:]
        else:
            body = body.rstrip(" \t") + "  # noqa: " + ", ".join(codes)
        lines[row - 1] = body + ending
        changed += 1
    if not changed:
        return text, 0, skipped
    result = "".join(lines)
    problem = _verify(text, result, wanted, skipped)
    if problem is not None:
        return text, 0, [(row, problem) for row in sorted(wanted)]
    return result, changed, skipped


def _split_ending(line: str) -> tuple[str, str]:
    if line.endswith("\r\n"):
        return line[:-2], "\r\n"
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


def _codes_of_names(selectors: Iterable[str]) -> set[str]:
    from .registry import find_rule

    codes = set()
    for selector in selectors:
        rule = find_rule(selector)
        if rule is not None:
            codes.add(rule.code)
    return codes


def _verify(before: str, after: str, wanted: dict[int, set[str]], skipped: list[tuple[int, str]]) -> str | None:
    """None when `after` differs from `before` in comments only and carries the directives;
    else why the edit is refused."""
    try:
        if _code_tokens(before) != _code_tokens(after):
            return "adding the comment would change the code; not edited"
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return "the edited file cannot be tokenized; not edited"
    directives = parse_noqa(after)
    skipped_rows = {row for row, _ in skipped}
    for row, codes in wanted.items():
        if row in skipped_rows:
            continue
        directive = directives.get(row)
        if directive is None:
            return "the comment would not be read as a `# noqa` directive; not edited"
        if directive.is_bare:
            continue
        listed = {code.upper() for code in directive.codes} | _codes_of_names(directive.codes)
        if not set(codes) <= listed:
            return "the comment would not be read as a `# noqa` directive; not edited"
    return None


def _code_tokens(text: str) -> list[tuple[int, str]]:
    ignored = (tokenize.COMMENT, tokenize.NL)
    return [
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type not in ignored
    ]
