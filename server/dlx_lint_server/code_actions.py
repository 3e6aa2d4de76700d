"""Code actions: the rule's fix, "Disable DLXnnn for this line", and fix-all.

Everything a quick fix needs travels in the diagnostic's ``data`` (written by
`dlx_lint_server.convert.to_lsp_diagnostic`): the fix's edits already in the client's
encoding, its applicability, and the line of the ``# noqa`` comment. No action re-lints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from lsprotocol import types

from dlx_lint.diagnostics import Applicability
from dlx_lint.suppression import parse_noqa

from .convert import SOURCE, UTF16, client_column, strip_line_break, text_edits_from_data
from .documents import PublishedFile

logger = logging.getLogger(__name__)

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"


@dataclass(frozen=True)
class ActionContext:
    """What the code action handlers need to know about the document and the client.

    Attributes:
        uri: the document (or notebook cell) URI.
        version: its current version (the edits are versioned when the client supports
            ``documentChanges``, so a stale edit is refused rather than misapplied).
        lines: its current lines.
        encoding: the negotiated position encoding.
        document_changes: the client accepts ``WorkspaceEdit.documentChanges``.
        fix_enabled: setting ``codeAction.fixViolation.enable``.
        disable_enabled: setting ``codeAction.disableRuleComment.enable``.
        unsafe_fixes: setting ``unsafeFixes`` (fix-all applies unsafe fixes too).
    """

    uri: str
    version: int | None
    lines: Sequence[str]
    encoding: str = UTF16
    document_changes: bool = False
    fix_enabled: bool = True
    disable_enabled: bool = True
    unsafe_fixes: bool = False


def workspace_edit(context: ActionContext, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    """Edits to one document, as ``documentChanges`` (versioned) when the client supports
    them, else as ``changes``."""
    if context.document_changes:
        return types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=context.uri, version=context.version),
                edits=list(edits),
            )
        ])
    return types.WorkspaceEdit(changes={context.uri: list(edits)})


def noqa_edit(line: str, line_index: int, code: str, encoding: str = UTF16) -> types.TextEdit | None:
    """The edit that makes `line` suppress `code`: extend an existing ``# noqa: ...`` (keeping
    its codes) or append ``  # noqa: CODE`` after the code and any other comment.

    Args:
        line: the line's current text (its ``\\n`` or ``\\r\\n`` is kept out of the edit).
        line_index: 0-based line number.
        code: the rule code to add.
        encoding: the negotiated position encoding.

    Returns:
        The edit, or None when the line already suppresses `code` (or every code) or ends
        with a backslash continuation, where a comment would be a syntax error.
    """
    text = strip_line_break(line)
    directive = parse_noqa(text + "\n").get(1)
    if directive is not None:
        if directive.is_bare or code.lower() in {c.lower() for c in directive.codes}:
            return None
        at = client_column(text, directive.end_column - 1, encoding)
        return types.TextEdit(
            range=types.Range(start=types.Position(line=line_index, character=at), end=types.Position(line=line_index, character=at)),
            new_text=f", {code}",
        )
    code_end = len(text.rstrip())
    if code_end == 0 or text.rstrip().endswith("\\"):
        return None
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=line_index, character=client_column(text, code_end, encoding)),
            end=types.Position(line=line_index, character=client_column(text, len(text), encoding)),
        ),
        new_text=f"  # noqa: {code}",
    )


def _data_of(diagnostic: types.Diagnostic, published: PublishedFile | None) -> dict[str, Any] | None:
    """The diagnostic's ``data``; when a client dropped it, the published diagnostic with
    the same code and range supplies it."""
    if isinstance(diagnostic.data, dict):
        return diagnostic.data
    if published is not None:
        for lsp in published.lsp:
            if lsp.code == diagnostic.code and lsp.range == diagnostic.range and isinstance(lsp.data, dict):
                return lsp.data
    return None


def _fix_title(code: str, fix: dict[str, Any]) -> str:
    title = f"{code}: {fix.get('message') or 'Apply fix'}"
    if fix.get("applicability") == Applicability.UNSAFE.value:
        title += " (unsafe: may change behaviour, review it)"
    return title


def quick_fixes(
    context: ActionContext,
    diagnostics: Iterable[types.Diagnostic],
    published: PublishedFile | None,
) -> list[types.CodeAction]:
    """Quick fixes for the diagnostics the client sent with the request.

    For each dlx-lint diagnostic: its fix when the rule offers one (preferred when safe;
    unsafe fixes are offered, not preferred, and say so; display-only fixes are not offered),
    then "Disable CODE for this line" when the diagnostic has a ``# noqa`` line.
    """
    fixes: list[types.CodeAction] = []
    disables: list[types.CodeAction] = []
    seen_disables: set[tuple[str, int]] = set()
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        code = diagnostic.code
        data = _data_of(diagnostic, published) or {}
        fix = data.get("fix")
        if context.fix_enabled and isinstance(fix, dict) and fix.get("applicability") != Applicability.DISPLAY_ONLY.value:
            try:
                edits = text_edits_from_data(fix.get("edits") or [])
            except (KeyError, TypeError, ValueError):
                logger.warning("dlx-lint: ignoring a malformed fix in the data of a %s diagnostic", code)
                edits = []
            if edits:
                fixes.append(types.CodeAction(
                    title=_fix_title(code, fix),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=fix.get("applicability") == Applicability.SAFE.value,
                    edit=workspace_edit(context, edits),
                ))
        noqa_line = data.get("noqaLine")
        if context.disable_enabled and isinstance(noqa_line, int) and 0 <= noqa_line < len(context.lines):
            if (code, noqa_line) in seen_disables:
                continue
            seen_disables.add((code, noqa_line))
            edit = noqa_edit(context.lines[noqa_line], noqa_line, code, context.encoding)
            if edit is not None:
                disables.append(types.CodeAction(
                    title=f"Disable {code} for this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=workspace_edit(context, [edit]),
                ))
    return fixes + disables


def _edit_key(edit: types.TextEdit) -> tuple[int, int, int, int]:
    r = edit.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def fix_all_edits(lsp_diagnostics: Iterable[types.Diagnostic], *, unsafe_fixes: bool = False) -> list[types.TextEdit]:
    """The edits of every applicable fix, without overlaps.

    Fixes are taken in document order; a fix any of whose edits overlaps an already chosen
    edit is left out whole (the next fix-all, after a re-lint, picks it up).

    Args:
        lsp_diagnostics: published diagnostics with fixes in their ``data``.
        unsafe_fixes: include unsafe fixes (safe ones always; display-only never).
    """
    allowed = {Applicability.SAFE.value} | ({Applicability.UNSAFE.value} if unsafe_fixes else set())
    candidates: list[list[types.TextEdit]] = []
    for diagnostic in lsp_diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        fix = data.get("fix")
        if not isinstance(fix, dict) or fix.get("applicability") not in allowed:
            continue
        try:
            edits = text_edits_from_data(fix.get("edits") or [])
        except (KeyError, TypeError, ValueError):
            continue
        if edits:
            candidates.append(sorted(edits, key=_edit_key))
    candidates.sort(key=lambda edits: _edit_key(edits[0]))
    chosen: list[types.TextEdit] = []
    for edits in candidates:
        if any(_overlaps(edit, other) for edit in edits for other in chosen):
            continue
        chosen.extend(edits)
    chosen.sort(key=_edit_key)
    return chosen


def _overlaps(a: types.TextEdit, b: types.TextEdit) -> bool:
    a_start, a_end = _edit_key(a)[:2], _edit_key(a)[2:]
    b_start, b_end = _edit_key(b)[:2], _edit_key(b)[2:]
    if a_start == a_end == b_start == b_end:
        return True  # two insertions at one point: their order would be ambiguous
    return a_start < b_end and b_start < a_end


def fix_all(context: ActionContext, lsp_diagnostics: Iterable[types.Diagnostic]) -> types.CodeAction | None:
    """The ``source.fixAll.dlx-lint`` action, or None when no applicable fix exists."""
    if not context.fix_enabled:
        return None
    edits = fix_all_edits(lsp_diagnostics, unsafe_fixes=context.unsafe_fixes)
    if not edits:
        return None
    return types.CodeAction(
        title="dlx-lint: Fix all auto-fixable problems",
        kind=FIX_ALL_KIND,
        edit=workspace_edit(context, edits),
    )


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a code action of `kind` was asked for (``context.only`` is a list of kind
    prefixes; None means every kind)."""
    if not only:
        return True
    return any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)
