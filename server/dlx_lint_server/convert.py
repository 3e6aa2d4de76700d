"""Engine values -> LSP values, and the only place that converts columns between code points
and the client's position encoding (UTF-16 code units by default, as LSP requires).

The engine counts columns in Unicode code points, 1-based, end exclusive
(`dlx_lint.diagnostics`). LSP counts them 0-based in the negotiated encoding: UTF-16 code
units unless the client offered UTF-8 or UTF-32 (``general.positionEncodings``). A character
outside the Basic Multilingual Plane (an emoji) is one code point but two UTF-16 units, so a
finding after it on the same line moves right by one unit per such character.
"""

from __future__ import annotations

from typing import Any, Sequence

from lsprotocol import types

from dlx_lint.diagnostics import Diagnostic, Edit, Fix, Severity

SOURCE = "dlx-lint"

UTF16 = types.PositionEncodingKind.Utf16.value
UTF8 = types.PositionEncodingKind.Utf8.value
UTF32 = types.PositionEncodingKind.Utf32.value

ENGINE_TO_LSP_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}

# Editor setting values (`severity` map) -> LSP severities; LSP has a Hint level the engine lacks.
SETTING_TO_LSP_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def _units(char: str, encoding: str) -> int:
    code_point = ord(char)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        if code_point < 0x80:
            return 1
        if code_point < 0x800:
            return 2
        return 3 if code_point < 0x10000 else 4
    return 2 if code_point > 0xFFFF else 1


def strip_line_break(line: str) -> str:
    """The line without its trailing ``\\n``, ``\\r\\n`` or ``\\r``."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def client_column(line: str, code_point_column: int, encoding: str = UTF16) -> int:
    """Convert a 0-based code-point column to a 0-based column in the client's encoding.

    Args:
        line: the text of the line (a line break at its end is ignored).
        code_point_column: 0-based column in code points; clamped to the line's length.
        encoding: ``"utf-16"`` (LSP's default), ``"utf-8"`` or ``"utf-32"``.

    Returns:
        The column in UTF-16 code units (or UTF-8 bytes, or code points).
    """
    text = strip_line_break(line)
    column = max(0, min(code_point_column, len(text)))
    if encoding == UTF32:
        return column
    return sum(_units(char, encoding) for char in text[:column])


def code_point_column(line: str, client_col: int, encoding: str = UTF16) -> int:
    """Convert a 0-based column in the client's encoding to a 0-based code-point column.

    A column that falls inside a character (half of a surrogate pair) maps to that
    character's start; a column past the end of the line maps to the line's end.

    Args:
        line: the text of the line (a line break at its end is ignored).
        client_col: 0-based column in UTF-16 code units (or UTF-8 bytes, or code points).
        encoding: ``"utf-16"``, ``"utf-8"`` or ``"utf-32"``.
    """
    text = strip_line_break(line)
    if encoding == UTF32:
        return max(0, min(client_col, len(text)))
    units = 0
    for index, char in enumerate(text):
        width = _units(char, encoding)
        if units + width > client_col:
            return index
        units += width
    return len(text)


def to_position(lines: Sequence[str], row: int, column: int, encoding: str = UTF16) -> types.Position:
    """An LSP position for an engine position (1-based row, 1-based code-point column).

    Rows past the end of `lines` are clamped to the end of the last line, so a finding at the
    end of a file without a final newline stays inside the document.
    """
    line_index = row - 1
    if line_index < 0:
        return types.Position(line=0, character=0)
    if line_index >= len(lines):
        if not lines:
            return types.Position(line=0, character=0)
        last = len(lines) - 1
        return types.Position(line=last, character=client_column(lines[last], 1 << 30, encoding))
    return types.Position(line=line_index, character=client_column(lines[line_index], column - 1, encoding))


def to_range(lines: Sequence[str], row: int, column: int, end_row: int, end_column: int, encoding: str = UTF16) -> types.Range:
    """An LSP range for an engine span (1-based rows, 1-based code-point columns, end exclusive)."""
    return types.Range(start=to_position(lines, row, column, encoding), end=to_position(lines, end_row, end_column, encoding))


def from_position(lines: Sequence[str], position: types.Position, encoding: str = UTF16) -> tuple[int, int]:
    """The engine position (1-based row, 1-based code-point column) of an LSP position."""
    if position.line >= len(lines):
        return position.line + 1, 1
    return position.line + 1, code_point_column(lines[position.line], position.character, encoding) + 1


def lsp_severity(diagnostic: Diagnostic, overrides: dict[str, str] | None = None) -> types.DiagnosticSeverity:
    """The LSP severity of a diagnostic: the editor's `severity` setting for its code when
    given (``error``, ``warning``, ``information``, ``hint``), else the engine's severity
    (``info`` becomes Information)."""
    if overrides:
        chosen = overrides.get(diagnostic.code)
        if chosen is not None and chosen in SETTING_TO_LSP_SEVERITY:
            return SETTING_TO_LSP_SEVERITY[chosen]
    return ENGINE_TO_LSP_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Warning)


def text_edit(lines: Sequence[str], edit: Edit, encoding: str = UTF16) -> types.TextEdit:
    """An LSP text edit for an engine `Edit` (code-point columns converted)."""
    return types.TextEdit(
        range=to_range(lines, edit.row, edit.column, edit.end_row, edit.end_column, encoding),
        new_text=edit.content,
    )


def fix_data(lines: Sequence[str], fix: Fix, encoding: str = UTF16) -> dict[str, Any]:
    """The JSON form of a fix stored in a diagnostic's ``data`` (ranges already in the
    client's encoding), so a code action needs no re-lint."""
    return {
        "message": fix.message,
        "applicability": fix.applicability.value,
        "edits": [_range_edit_json(text_edit(lines, edit, encoding)) for edit in fix.edits],
    }


def _range_edit_json(edit: types.TextEdit) -> dict[str, Any]:
    start, end = edit.range.start, edit.range.end
    return {
        "range": {"start": {"line": start.line, "character": start.character}, "end": {"line": end.line, "character": end.character}},
        "newText": edit.new_text,
    }


def text_edits_from_data(edits: Any) -> list[types.TextEdit]:
    """Text edits from the ``data.fix.edits`` JSON written by `fix_data`.

    Raises:
        KeyError, TypeError, ValueError: the JSON does not have that shape (a client that
            altered ``data``); callers treat that as "no fix".
    """
    result = []
    for item in edits:
        start, end = item["range"]["start"], item["range"]["end"]
        result.append(types.TextEdit(
            range=types.Range(
                start=types.Position(line=int(start["line"]), character=int(start["character"])),
                end=types.Position(line=int(end["line"]), character=int(end["character"])),
            ),
            new_text=str(item["newText"]),
        ))
    return result


def to_lsp_diagnostic(
    diagnostic: Diagnostic,
    lines: Sequence[str],
    *,
    version: int | None,
    severity_overrides: dict[str, str] | None = None,
    encoding: str = UTF16,
) -> types.Diagnostic:
    """Convert one engine diagnostic for the document whose text is `lines`.

    Args:
        diagnostic: the engine's diagnostic (rows relative to the document or cell).
        lines: the linted text's lines (with or without line breaks).
        version: the document version the diagnostic was computed for (stored in ``data``).
        severity_overrides: the editor's code -> severity map.
        encoding: the negotiated position encoding.

    Returns:
        The LSP diagnostic with ``code``, ``codeDescription.href``, ``source``, severity, the
        Deprecated tag for DLX3xx codes, and in ``data``: the rule name, the document version,
        the 0-based row of its ``# noqa`` comment (or null) and the fix (or null).
    """
    noqa_line = diagnostic.noqa_row - 1 if diagnostic.noqa_row is not None else None
    data = {
        "name": diagnostic.name,
        "version": version,
        "noqaLine": noqa_line,
        "fix": fix_data(lines, diagnostic.fix, encoding) if diagnostic.fix is not None else None,
    }
    # DLX3xx is the code range of deprecated APIs (README: rule codes).
    tags = [types.DiagnosticTag.Deprecated] if diagnostic.code.startswith("DLX3") else None
    return types.Diagnostic(
        range=to_range(lines, diagnostic.row, diagnostic.column, diagnostic.end_row, diagnostic.end_column, encoding),
        message=diagnostic.message,
        severity=lsp_severity(diagnostic, severity_overrides),
        code=diagnostic.code,
        code_description=types.CodeDescription(href=diagnostic.url) if diagnostic.url else None,
        source=SOURCE,
        tags=tags,
        data=data,
    )
