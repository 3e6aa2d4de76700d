"""Parsing with libcst, guarded against input that would crash or exhaust the process.

libcst's native parser recurses on the C stack: about 1,500 nested parentheses, or 5,000
nested ``lambda:`` or an f-string holding deep brackets, overflow it and kill the whole
process with a segmentation fault (a Python ``try`` cannot catch that), and a few thousand
nested ``a if b else`` or ``**`` take gigabytes before they finish. CPython refuses all of
these files itself ("too many nested parentheses", more than 200; "maximum recursion depth
exceeded during ast construction", about 3,000 levels), so before libcst sees a text,
`parse_module` asks CPython's own parser (``compile(..., PyCF_ONLY_AST)``, which checks its
depth and fails cleanly) and turns those refusals into a `libcst.ParserSyntaxError`: the
callers then report DLX900 like any other syntax error, at CPython's position. Other
SyntaxErrors from CPython are not decisive (libcst accepts syntax newer than the running
interpreter's, e.g. PEP 695 generics on Python 3.11); for those, a bracket scan stands in for
the depth check, and CPython's message and position are used only when libcst refuses the
text too (CPython points at the unclosed bracket; libcst at the next statement, with a list of
every token it expected).

The check costs about a tenth of the parse (CPython's parser is written in C), and files that
never mention ``torch`` are not parsed at all.
"""

from __future__ import annotations

import ast
import re
import threading

import libcst as cst

MAX_BRACKET_DEPTH = 200
"""CPython's limit on nested brackets (``MAXLEVEL`` of its tokenizer)."""

_DEPTH_MESSAGES = ("too many nested paren", "too many levels of indentation", "too many indentation levels", "too complex")
# Strings (with any prefix), comments, and brackets; used only when CPython's parser stopped at
# an unrelated syntax error. F-strings are scanned as code, so brackets inside their
# replacement fields count (and so do their literal braces, which errs on the safe side).
_BRACKET_SCAN = re.compile(
    r"""\#[^\r\n]*"""
    r"""|(?<![A-Za-z0-9_])(?:[rRbBuU]|[rR][bB]|[bB][rR])?(?:'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)|\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)"""
    r"""|'(?:[^'\\\r\n]|\\.)*(?:'|$)|"(?:[^"\\\r\n]|\\.)*(?:"|$))"""
    r"""|[(\[{]|[)\]}]""",
    re.DOTALL | re.MULTILINE,
)


class TooDeeplyNested(cst.ParserSyntaxError):
    """The text nests deeper than CPython (and so dlx-lint) can parse."""


def parse_module(source: str) -> cst.Module:
    """`libcst.parse_module` behind CPython's depth checks (see the module docstring).

    Raises:
        libcst.ParserSyntaxError: the text does not parse; `TooDeeplyNested` (a subclass)
            when it nests too deeply, with CPython's message and position.
        RecursionError: libcst itself ran out of Python stack (rare after the check).
    """
    tree = _cpython_tree(source)
    cpython_error = tree if isinstance(tree, SyntaxError) else None
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        # CPython's message and position ("'(' was never closed" at the bracket) beat
        # libcst's ("expected one of !=, %, &..." on the next statement). Only used when both
        # parsers refuse the text: CPython may be older than the syntax libcst accepts.
        if cpython_error is not None and cpython_error.lineno:
            raise _positioned(source, cpython_error) from error
        raise
    except cst.CSTValidationError as error:
        # libcst's tokenizer takes some characters CPython rejects (U+13460 is no identifier
        # character in Python 3.11) and then fails building the node: a syntax error, not a
        # crash (found by tests/test_fuzz.py).
        if cpython_error is not None and cpython_error.lineno:
            raise _positioned(source, cpython_error) from None
        lines = source.splitlines(keepends=True) or [""]
        raise cst.ParserSyntaxError(str(error), lines=lines, raw_line=1, raw_column=0) from None
    if isinstance(tree, ast.Module):
        _LAST_PARSED.value = (module, _statement_lines(module, tree))
    return module


class _LastParsed(threading.local):
    value: tuple[cst.Module, tuple[int, ...] | None] | None = None


# The top-level statement lines of the module each thread parsed last (see `statement_lines`).
_LAST_PARSED = _LastParsed()


def statement_lines(module: cst.Module) -> tuple[int, ...] | None:
    """For the module this thread parsed last with `parse_module`: the row (1-based) where
    each top-level statement's code starts (its leading comment and blank lines included),
    taken from the CPython tree the depth check built anyway; None for any other module.

    `dlx_lint.positions` uses it to generate code only for the statements that hold findings
    instead of the whole file (libcst nodes cannot be weakly referenced, hence the
    one-entry, per-thread memo that keeps the module alive until the next parse or
    `forget_last_parsed`, which the engine calls once it is done with a file).
    """
    last = _LAST_PARSED.value
    return last[1] if last is not None and last[0] is module else None


def forget_last_parsed() -> None:
    """Drop this thread's memo of its last parse (see `statement_lines`)."""
    _LAST_PARSED.value = None


def _statement_lines(module: cst.Module, tree: ast.Module) -> tuple[int, ...] | None:
    """Start rows of `module.body`, matched to CPython's statements (a libcst simple-statement
    line holds one CPython statement per `;`-separated part); None when they do not match."""
    starts = []
    index = 0
    body = tree.body
    for statement in module.body:
        if index >= len(body):
            return None
        first = body[index]
        decorators = getattr(first, "decorator_list", None)
        row = decorators[0].lineno if decorators else first.lineno
        starts.append(row - len(statement.leading_lines))
        index += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return tuple(starts) if index == len(body) else None


def check_depth(source: str) -> SyntaxError | None:
    """Raise `TooDeeplyNested` when CPython refuses `source` for its depth (or, when CPython
    stops at another syntax error first, when its brackets nest more than 200 deep).

    Returns:
        CPython's other SyntaxError for `source`, if any (else None).
    """
    tree = _cpython_tree(source)
    return tree if isinstance(tree, SyntaxError) else None


def _cpython_tree(source: str) -> ast.Module | SyntaxError | None:
    """CPython's tree of `source`, or its (non-depth) SyntaxError, or None (NUL characters).

    Raises:
        TooDeeplyNested: as `check_depth`.
    """
    try:
        return compile(source, "<dlx-lint>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as error:
        message = str(error.msg or "")
        if any(fragment in message for fragment in _DEPTH_MESSAGES):
            raise _too_deep(source, message, error.lineno or 1, (error.offset or 1) - 1) from None
        _check_brackets(source)
        return error
    except RecursionError:
        raise _too_deep(source, "too deeply nested to parse (CPython refuses it too)", 1, 0) from None
    except MemoryError:
        raise _too_deep(source, "too deeply nested or too complex to parse (CPython refuses it too)", 1, 0) from None
    except ValueError:  # NUL characters: libcst reports them
        pass
    return None


def _check_brackets(source: str) -> None:
    if source.count("(") + source.count("[") + source.count("{") <= MAX_BRACKET_DEPTH:
        return
    depth = 0
    for match in _BRACKET_SCAN.finditer(source):
        token = match.group()
        if token in "([{":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                line = source.count("\n", 0, match.start()) + 1
                column = match.start() - (source.rfind("\n", 0, match.start()) + 1)
                raise _too_deep(source, "too many nested parentheses", line, column)
        elif token in ")]}":
            depth = max(0, depth - 1)


def _positioned(source: str, error: SyntaxError) -> cst.ParserSyntaxError:
    lines = source.splitlines(keepends=True) or [""]
    line = min(max(1, error.lineno or 1), len(lines))
    column = (error.offset or 1) - 1 if (error.lineno or 1) == line else 0
    return cst.ParserSyntaxError(str(error.msg or "invalid syntax"), lines=lines, raw_line=line, raw_column=max(0, column))


def _too_deep(source: str, message: str, line: int, column: int) -> TooDeeplyNested:
    lines = source.splitlines(keepends=True) or [""]
    line = min(max(1, line), len(lines))
    return TooDeeplyNested(message, lines=lines, raw_line=line, raw_column=max(0, column))
