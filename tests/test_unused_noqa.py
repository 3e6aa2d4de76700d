"""DLX901 unused-noqa, and where a `# noqa` comment counts for a finding on a line that cannot
take a comment (inside a multi-line string, after a backslash continuation)."""

from __future__ import annotations

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.registry import rules_by_code
from dlx_lint.suppression import comment_allowed_rows, noqa_rows

LOAD = "import torch\n\ndef f(p):\n    return torch.load(p){comment}\n"  # DLX025 on row 4
WITH_901 = Settings(extend_select=("DLX901",))


def found(source, settings=WITH_901, path="x.py"):
    return [(d.row, d.code, d.message) for d in lint_source(path, source, settings)]


def test_off_by_default():
    assert found(LOAD.format(comment="  # noqa: DLX016"), Settings()) == [(4, "DLX025", found(LOAD.format(comment=""))[0][2])]


def test_a_used_directive_is_not_reported():
    assert found(LOAD.format(comment="  # noqa: DLX025")) == []
    assert found(LOAD.format(comment="  # noqa: torch-load-without-weights-only")) == []


def test_an_unused_code_is_reported_at_the_directive():
    source = "import torch\nx = torch.zeros(3)  # noqa: DLX025\n"
    (diagnostic,) = lint_source("x.py", source, WITH_901)
    assert (diagnostic.code, diagnostic.row, diagnostic.column) == ("DLX901", 2, 21)
    assert diagnostic.end_column == len("x = torch.zeros(3)  # noqa: DLX025") + 1
    assert diagnostic.message == "unused `noqa` directive (unused: `DLX025`)"
    assert diagnostic.noqa_row == 2


def test_only_the_unused_codes_of_a_partly_used_directive_are_reported():
    (row, code, message), = found(LOAD.format(comment="  # noqa: DLX025, nan-equality"))
    assert (row, code) == (4, "DLX901") and message == "unused `noqa` directive (unused: `nan-equality`)"


def test_unknown_dlx_codes_are_reported_as_unknown_and_other_tools_codes_are_not():
    source = "import torch\nx = torch.zeros(3)  # noqa: DLX999, E501, F401, DLX0\n"
    (row, code, message), = found(source)
    assert message == "unused `noqa` directive (unknown: `DLX999`)"


@pytest.mark.parametrize("comment", ["  # noqa", "  # noqa: E501", "  # noqa: DLX016, DLX901", "  # noqa: DLX016, unused-noqa"])
def test_bare_foreign_and_self_exempt_directives_are_not_reported(comment):
    source = "import torch\nx = torch.zeros(3)" + comment + "\n"
    assert found(source) == []


def test_codes_of_rules_that_are_not_enabled_are_not_checkable(tmp_path):
    source = "import torch\nx = torch.zeros(3)  # noqa: DLX016\n"
    assert found(source, Settings(extend_select=("DLX901",), ignore=("DLX016",))) == []
    per_file = Settings(extend_select=("DLX901",), per_file_ignores=(("gen_*.py", ("DLX016",)),))
    assert found(source, per_file, path="gen_a.py") == []
    assert [code for _, code, _ in found(source, per_file, path="b.py")] == ["DLX901"]


def test_a_file_no_rule_applies_to_still_gets_its_directives_checked(monkeypatch):
    import libcst

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed a file no rule applies to")

    monkeypatch.setattr(libcst, "parse_module", no_parse)
    assert [code for _, code, _ in found("x = 1  # noqa: DLX025\n")] == ["DLX901"]
    assert found("x = 1  # noqa: E501\n") == []


def test_a_failing_rule_makes_its_codes_uncheckable(monkeypatch):
    rule = rules_by_code()["DLX025"]

    def crash(model):
        raise RuntimeError("boom")

    monkeypatch.setattr(rule, "check", crash)
    codes = [code for _, code, _ in found(LOAD.format(comment="  # noqa: DLX025"))]
    assert codes == ["DLX999"]


def test_unused_noqa_in_a_notebook_cell_is_reported_in_the_cell(tmp_path):
    import json

    from dlx_lint.notebook import lint_notebook

    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "import torch\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "x = 1\ny = torch.zeros(2)  # noqa: DLX016\n"},
    ]}
    (diagnostic,) = lint_notebook("n.ipynb", json.dumps(notebook).encode(), WITH_901)
    assert (diagnostic.code, diagnostic.cell, diagnostic.row) == ("DLX901", 1, 2)


# --- noqa rows for lines that cannot take a comment ------------------------------------------

STRING_SPAN = 'import torch\n\ndef f(p):\n    return torch.load(p, map_location="""\ncpu"""){comment}\n'
CONTINUATION = "import torch\n\ndef f(p):\n    return torch.load(p) \\\n        if p else None{comment}\n"


@pytest.mark.parametrize("template", [STRING_SPAN, CONTINUATION], ids=["multi-line string", "backslash"])
def test_a_finding_on_a_line_without_comment_place_uses_the_next_one(template):
    (diagnostic,) = lint_source("x.py", template.format(comment=""), Settings())
    assert (diagnostic.code, diagnostic.row, diagnostic.noqa_row) == ("DLX025", 4, 5)
    assert lint_source("x.py", template.format(comment="  # noqa: DLX025"), WITH_901) == []


def test_noqa_rows_maps_only_lines_that_cannot_take_a_comment():
    source = 'a = """\nx\ny"""\nb = (1,\n     2)\nc = 1 + \\\n    2\nd = "\\\ne"\n'
    assert noqa_rows(source) == {1: 3, 2: 3, 6: 7, 8: 9}
    assert comment_allowed_rows(source) == {3, 4, 5, 7, 9}
    assert noqa_rows("x = 1\ny = 2\n") == {}
    assert noqa_rows('x = """never closed\n') == {}
