"""Hover: the rule's short explanation over a flagged range or over a code in ``# noqa:``,
followed by the expert hover (`expert.hover`: parameter and memory estimates, concept notes).

The text comes from the engine (`dlx_lint.explain.render_hover`: title, message, what, why,
how to fix, link to the full documentation; `dlx_lint.expert.hover`); this module only finds
which rule the cursor is on and joins the parts.
"""

from __future__ import annotations

import re
from typing import Sequence

from lsprotocol import types

from dlx_lint.explain import render_hover
from dlx_lint.registry import find_rule
from dlx_lint.suppression import parse_noqa

from .convert import UTF16, client_column, code_point_column, strip_line_break
from .documents import PublishedFile

_SELECTOR = re.compile(r"[A-Za-z0-9_-]+")
_SEPARATOR = "\n\n---\n\n"


def _contains(range_: types.Range, position: types.Position) -> bool:
    start, end = range_.start, range_.end
    after_start = (position.line, position.character) >= (start.line, start.character)
    before_end = (position.line, position.character) < (end.line, end.character)
    on_empty = (start.line, start.character) == (end.line, end.character) == (position.line, position.character)
    return after_start and (before_end or on_empty)


def hover_for_diagnostics(published: PublishedFile | None, position: types.Position) -> tuple[str, types.Range] | None:
    """Markdown for every diagnostic whose range holds `position` (the first range is
    returned with it), or None.

    Args:
        published: the diagnostics last published for the document.
        position: the cursor (0-based line, column in the client's encoding).
    """
    if published is None:
        return None
    parts: list[str] = []
    first_range = None
    for engine, lsp in zip(published.diagnostics, published.lsp):
        if not _contains(lsp.range, position):
            continue
        rule = find_rule(engine.code)
        if rule is None:  # DLX999 internal error has no rule page
            parts.append(f"**{engine.code}** {engine.message}")
        else:
            parts.append(render_hover(rule, engine.message))
        first_range = first_range or lsp.range
    if not parts:
        return None
    return _SEPARATOR.join(dict.fromkeys(parts)), first_range


def hover_for_noqa(line: str, position: types.Position, encoding: str = UTF16) -> tuple[str, types.Range] | None:
    """Markdown for the rule code or name under the cursor inside a ``# noqa:`` comment.

    Args:
        line: the current text of the cursor's line.
        position: the cursor (0-based line, column in the client's encoding).
        encoding: the negotiated position encoding.
    """
    text = strip_line_break(line)
    if "noqa" not in text.lower():
        return None
    directive = parse_noqa(text + "\n").get(1)
    if directive is None or directive.is_bare:
        return None
    cursor = code_point_column(text, position.character, encoding)
    start = directive.column - 1
    end = directive.end_column - 1
    colon = text.find(":", start, end)
    if colon == -1:
        return None
    for match in _SELECTOR.finditer(text, colon + 1, end):
        if match.start() <= cursor < match.end() or cursor == match.end():
            rule = find_rule(match.group())
            if rule is None:
                return None
            range_ = types.Range(
                start=types.Position(line=position.line, character=client_column(text, match.start(), encoding)),
                end=types.Position(line=position.line, character=client_column(text, match.end(), encoding)),
            )
            return render_hover(rule), range_
    return None


def hover(
    published: PublishedFile | None,
    lines: Sequence[str],
    position: types.Position,
    *,
    encoding: str = UTF16,
    markdown: bool = True,
) -> types.Hover | None:
    """The hover for a position: a flagged range first, then a ``# noqa:`` code.

    Args:
        published: the diagnostics last published for the document (may be None).
        lines: the document's current lines.
        position: the cursor.
        encoding: the negotiated position encoding.
        markdown: the client renders Markdown (else the same text is sent as plain text).
    """
    found = hover_for_diagnostics(published, position)
    if found is None and 0 <= position.line < len(lines):
        found = hover_for_noqa(lines[position.line], position, encoding)
    if found is None:
        return None
    value, range_ = found
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=value), range=range_)


def combine(rules: types.Hover | None, expert: tuple[str, types.Range] | None, *, markdown: bool = True) -> types.Hover | None:
    """One hover from the rule part and the expert part (either may be None): the rule
    explanation first, then the expert text; the rule part's range wins."""
    if expert is None:
        return rules
    text, range_ = expert
    if rules is None:
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        return types.Hover(contents=types.MarkupContent(kind=kind, value=text), range=range_)
    contents = rules.contents
    assert isinstance(contents, types.MarkupContent)
    return types.Hover(contents=types.MarkupContent(kind=contents.kind, value=contents.value + _SEPARATOR + text), range=rules.range)
