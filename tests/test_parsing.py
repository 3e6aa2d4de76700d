"""Syntax errors are reported with CPython's message and position when both parsers refuse a
text (libcst alone points at the next statement and lists every token it expected)."""

from __future__ import annotations

import pytest

from dlx_lint import Settings, lint_source

ALL = Settings(select=("ALL",))


@pytest.mark.parametrize(
    ("source", "row", "column", "message"),
    [
        ("import torch\nx = (1,\ny = 2\n", 2, 5, "'(' was never closed"),
        ("import torch\nx = [1, 2\n\n\ndef g():\n    pass\n", 2, 5, "'[' was never closed"),
        ("import torch\nif x\n    y = 1\n", 2, 5, "expected ':'"),
        ('import torch\nprint("abc\n', 2, 7, "unterminated string literal (detected at line 2)"),
    ],
)
def test_syntax_error_uses_cpython_message_and_position(source, row, column, message):
    (diagnostic,) = lint_source("bad.py", source, ALL)
    assert (diagnostic.code, diagnostic.row, diagnostic.column, diagnostic.message) == ("DLX900", row, column, f"SyntaxError: {message}")


def test_syntax_newer_than_the_running_python_is_still_linted():
    # libcst parses PEP 695 / PEP 701 syntax whatever the interpreter; CPython's refusal alone
    # must not turn a valid file into a DLX900.
    source = "import torch\n\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n\n\nx = torch.zeros(3)\nx.cuda()\n"
    assert [d.code for d in lint_source("new.py", source, ALL)] == ["DLX020"]
