"""The public Python API (`dlx_lint`): argument checking and notebook paths."""

from __future__ import annotations

import json

import pytest

from dlx_lint import Settings, fix_source, lint_bytes, lint_source

BUG = "import torch\nx = torch.zeros(3)\nx.cuda()\n"  # DLX020 on line 3


def _notebook_text(*sources: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# notes"}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s} for s in sources]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1) + "\n"


def test_a_single_selector_string_is_one_selector_not_its_letters():
    assert Settings(select="DLX020").select == ("DLX020",)
    assert [d.code for d in lint_source("a.py", BUG + "y = torch.load('p')\n", Settings(select="DLX020"))] == ["DLX020"]
    assert Settings(ignore=["DLX020"]).ignore == ("DLX020",)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"select": 20}, "Settings.select must be a rule selector"),
        ({"ignore": ["DLX020", 3]}, "Settings.ignore must be a rule selector"),
        ({"target_torch_version": "2.6"}, "Settings.target_torch_version must be a (major, minor) pair"),
        ({"target_torch_version": (2, 6, 1)}, "Settings.target_torch_version must be a (major, minor) pair"),
    ],
)
def test_wrong_types_raise_a_clear_type_error(options, fragment):
    with pytest.raises(TypeError) as raised:
        Settings(**options)
    assert fragment in str(raised.value)


def test_lint_source_reads_an_ipynb_path_as_a_notebook():
    text = _notebook_text("import torch\n", "x = torch.zeros(3)\nx.cuda()\n")
    assert [(d.code, d.cell, d.row) for d in lint_source("train.ipynb", text)] == [("DLX020", 2, 2)]
    assert [(d.code, d.cell, d.row) for d in lint_bytes("train.ipynb", text.encode())] == [("DLX020", 2, 2)]


def test_lint_source_reports_an_ipynb_text_that_is_not_a_notebook():
    (diagnostic,) = lint_source("train.ipynb", BUG)
    assert diagnostic.code == "DLX902" and "not JSON" in diagnostic.message


def test_fix_source_on_an_ipynb_path_returns_the_fixed_notebook_json():
    text = _notebook_text("import torch\n", "x = torch.zeros(3)\nx.cuda()\n")
    result = fix_source("train.ipynb", text)
    assert [fix.code for fix in result.applied] == ["DLX020"]
    cells = json.loads(result.text)["cells"]
    assert "".join(cells[2]["source"]) == "x = torch.zeros(3)\nx = x.cuda()\n"
    assert cells[0]["source"] == "# notes" and result.remaining == []


@pytest.mark.parametrize(("ignore", "reported"), [((), True), (("DLX900",), False), (("syntax-error",), False), (("DLX9",), False), (("ALL",), False)])
def test_a_syntax_error_is_reported_whatever_select_narrows_to(ignore, reported):
    # `--select DLX020` on a file that does not parse used to say "All checks passed!".
    settings = Settings(select=("DLX020",), ignore=ignore)
    assert [d.code for d in lint_source("broken.py", "import torch\ndef f(:\n", settings)] == (["DLX900"] if reported else [])
