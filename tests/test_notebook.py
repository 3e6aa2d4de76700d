"""Notebooks: code cells linted together, diagnostics mapped back to (cell, row)."""

from __future__ import annotations

import json

import pytest

from dlx_lint.notebook import blank_ipython_syntax, lint_notebook, parse_notebook
from dlx_lint.registry import rules_by_code
from dlx_lint.settings import Settings

from .conftest import CASES

ALL = Settings(select=("ALL",))


def notebook(*cells, language="python", nbformat=4) -> bytes:
    """nbformat JSON; a cell is ("code"|"markdown"|"raw", source) with source a str or list."""
    return json.dumps({
        "nbformat": nbformat,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "k", "language": language}, "language_info": {"name": language}},
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source, **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, source in cells
        ],
    }).encode()


def needs(code):
    return pytest.mark.skipif(code not in rules_by_code(), reason=f"{code} is not implemented yet")


NAN_CELL = 'print(x == float("nan"))\n'  # DLX016 at column 7 once `x` is a tensor from an earlier cell


def test_magics_are_blanked_keeping_line_count():
    lines = ["%matplotlib inline", "x = (1", "     % 2)", "for f in fs:", "    !echo {f}", "files = !ls", "torch.nn?", "y = 3"]
    assert blank_ipython_syntax(lines) == ["", "x = (1", "     % 2)", "for f in fs:", "    pass", "", "", "y = 3"]


def test_percent_inside_a_triple_quoted_string_is_kept():
    lines = ['s = """', "%not a magic", '"""', "!still_magic"]
    assert blank_ipython_syntax(lines) == ['s = """', "%not a magic", '"""', ""]


def test_parse_notebook_keeps_all_cell_indexes_and_skips_cell_magics():
    data = notebook(
        ("markdown", "# title"),
        ("code", ["import torch\n", "x = 1"]),
        ("raw", "raw text"),
        ("code", "%%bash\nthis is not python\n"),
        ("code", ""),
        ("code", "!pip install torch\ny = 2\n"),
        ("code", "%%writefile train.py\nimport torch\n"),
    )
    parsed = parse_notebook(data)
    assert [(cell.index, cell.lines) for cell in parsed.cells] == [
        (1, ("import torch", "x = 1")),
        (5, ("", "y = 2")),
    ]


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 3", "%%capture output", "%%prun -s cumulative", "%%debug"])
def test_python_cell_magic_bodies_are_linted_with_the_magic_line_blanked(magic):
    data = notebook(("code", "import torch\nx = torch.zeros(3)\n"), ("code", magic + "\n" + NAN_CELL))
    (cell,) = [cell for cell in parse_notebook(data).cells if cell.index == 1]
    assert cell.lines[0] == "" and cell.original[0] == magic
    diagnostics = lint_notebook("nb.ipynb", data, ALL)
    # The finding keeps its row within the cell: the magic line still counts.
    assert [(d.code, d.cell, d.row, d.column) for d in diagnostics] == [("DLX016", 1, 2, 7)]


@needs("DLX016")
def test_syntax_error_in_one_cell_does_not_hide_the_others():
    data = notebook(
        ("markdown", "# setup"),
        ("code", "import torch\nx = torch.zeros(3)\n"),
        ("code", "\ny = (\n"),
        ("markdown", "## check"),
        ("code", "%matplotlib inline\n" + NAN_CELL),
    )
    diagnostics = lint_notebook("nb.ipynb", data, ALL)
    assert [(d.code, d.cell) for d in diagnostics] == [("DLX900", 2), ("DLX016", 4)]
    syntax, nan = diagnostics
    assert 1 <= syntax.row <= 2  # relative to the cell, never to the joined source
    assert syntax.message.startswith("SyntaxError")
    assert (nan.row, nan.column, nan.end_row, nan.noqa_row) == (2, 7, 2, 2)
    assert nan.filename == "nb.ipynb"


@needs("DLX016")
def test_names_from_earlier_cells_are_known_and_noqa_is_per_cell_row():
    data = notebook(
        ("code", "import torch\nx = torch.zeros(3)\n"),
        ("code", NAN_CELL + 'print(x == float("nan"))  # noqa: DLX016\n'),
    )
    diagnostics = lint_notebook("nb.ipynb", data, ALL)
    assert [(d.code, d.cell, d.row) for d in diagnostics] == [("DLX016", 1, 1)]


@needs("DLX016")
def test_syntax_error_reported_only_when_dlx900_is_enabled():
    data = notebook(("code", "import torch\nx = torch.zeros(3)\n"), ("code", "y = (\n"), ("code", NAN_CELL))
    diagnostics = lint_notebook("nb.ipynb", data, Settings(select=("ALL",), ignore=("syntax-error",)))
    assert [d.code for d in diagnostics] == ["DLX016"]


def test_the_labelled_notebook_case_maps_to_cells():
    path = CASES / "304_hard_notebook_two_bugs.ipynb"
    if not path.is_file():
        pytest.skip("shared cases not available")
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    implemented = rules_by_code()
    wanted = {(e["cell"], e["line"], e["rule"]) for e in expected if e["rule"] in implemented}
    diagnostics = lint_notebook(str(path), path.read_bytes(), ALL)
    # The case is labelled for the catalog's correctness rules; performance hints (DLX1xx,
    # e.g. DLX101 on its DataLoaders) are not part of its labels (shared/cases/README.md).
    found = {(d.cell, d.row, d.code) for d in diagnostics if not d.code.startswith("DLX1")}
    assert found == wanted
    assert wanted, "the notebook's rules are implemented"


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3"),
        (json.dumps({"nbformat": 4, "metadata": {}}).encode(), "no 'cells' list"),
        (json.dumps({"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "source": 3}]}).encode(), "cell 0"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_notebooks_give_one_io_error(data, fragment):
    (diagnostic,) = lint_notebook("nb.ipynb", data, ALL)
    assert diagnostic.code == "DLX902"
    assert fragment in diagnostic.message
    assert (diagnostic.row, diagnostic.column, diagnostic.cell) == (1, 1, None)


def test_unreadable_notebook_silent_when_io_error_ignored():
    assert lint_notebook("nb.ipynb", b"{", Settings(ignore=("DLX902",))) == []


def test_non_python_and_empty_notebooks_give_nothing():
    assert lint_notebook("nb.ipynb", notebook(("code", "x <- 1 +"), language="R"), ALL) == []
    assert lint_notebook("nb.ipynb", notebook(), ALL) == []
    assert lint_notebook("nb.ipynb", notebook(("markdown", "# only text")), ALL) == []


def test_cell_magic_with_invalid_python_is_not_a_syntax_error():
    data = notebook(("code", "import torch\n"), ("code", "%%bash\nfor x in (; do\n"), ("code", "y = ("))
    diagnostics = lint_notebook("nb.ipynb", data, ALL)
    assert [(d.code, d.cell) for d in diagnostics] == [("DLX900", 2)]
