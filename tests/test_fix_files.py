"""Fixing files and notebooks on disk: encodings, line endings, permissions, atomic writes,
files changed meanwhile, and the notebook's JSON layout."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dlx_lint import Settings
from dlx_lint.fixer import fix_notebook
from dlx_lint.fixes import files
from dlx_lint.fixes.files import fix_file, write_atomically

ALL = Settings(select=("ALL",))
BUG = "x = torch.zeros(3)\nx.cuda()\n"
FIXED = "x = torch.zeros(3)\nx = x.cuda()\n"


def _fix(path, **options):
    return fix_file(str(path), ALL, unsafe=options.get("unsafe", False), write=options.get("write", True), want_diff=options.get("diff", False))


def test_a_fixed_file_is_written_and_reports_what_remains(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("import torch\n" + BUG + "y = torch.load('p')\n")
    outcome = _fix(path)
    assert outcome.written and [a.code for a in outcome.applied] == ["DLX020"]
    assert path.read_text() == "import torch\n" + FIXED + "y = torch.load('p')\n"
    assert [d.code for d in outcome.diagnostics] == ["DLX025"]  # unsafe: not applied
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]  # no temporary file left


def test_nothing_is_written_when_nothing_applies(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("import torch\ny = torch.load('p')\n")
    before = os.stat(path).st_mtime_ns
    outcome = _fix(path)
    assert not outcome.written and os.stat(path).st_mtime_ns == before


def test_diff_mode_writes_nothing(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("import torch\n" + BUG)
    outcome = _fix(path, write=False, diff=True)
    assert not outcome.written and path.read_text() == "import torch\n" + BUG
    assert "-x.cuda()\n+x = x.cuda()\n" in outcome.diff


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfimport torch\n" + BUG.encode(),  # UTF-8 with a byte-order mark
        "# -*- coding: latin-1 -*-\nimport torch\n# caf\u00e9\n".encode("latin-1") + BUG.encode(),
        b"import torch\r\n" + BUG.replace("\n", "\r\n").encode(),
    ],
    ids=["bom", "pep263-latin-1", "crlf"],
)
def test_encoding_and_line_endings_are_kept(tmp_path, data):
    path = tmp_path / "a.py"
    path.write_bytes(data)
    assert _fix(path).written
    new = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    assert new == data.replace(b"x.cuda()", b"x = x.cuda()")
    assert new.count(newline) == data.count(newline)


def test_permissions_are_kept(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("import torch\n" + BUG)
    os.chmod(path, 0o640)
    assert _fix(path).written
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_symbolic_link_is_followed(tmp_path):
    target = tmp_path / "real.py"
    target.write_text("import torch\n" + BUG)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert _fix(link).written
    assert link.is_symlink() and target.read_text() == "import torch\n" + FIXED


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text("import torch\n" + BUG)
    real = files.fix_data

    def edit_meanwhile(*args, **kwargs):
        outcome = real(*args, **kwargs)
        path.write_text("import torch\n# edited by someone else\n" + BUG)
        return outcome

    monkeypatch.setattr(files, "fix_data", edit_meanwhile)
    outcome = _fix(path)
    assert not outcome.written and "changed on disk" in outcome.problem
    assert path.read_text() == "import torch\n# edited by someone else\n" + BUG
    assert not outcome.applied and [d.code for d in outcome.diagnostics] == ["DLX020"]


def test_write_atomically_checks_contents_too(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"one")
    before = os.stat(path)
    assert write_atomically(str(path), b"two", b"ONE", before) is not None  # same size, other bytes
    assert path.read_bytes() == b"one"
    assert write_atomically(str(path), b"two", b"one", before) is None
    assert path.read_bytes() == b"two"


def test_a_fixed_text_that_cannot_be_encoded_is_not_written(tmp_path, monkeypatch):
    import dlx_lint.fixes.files as module
    from dlx_lint.fixer import FixResult, AppliedFix

    path = tmp_path / "a.py"
    data = "# -*- coding: ascii -*-\nimport torch\n".encode("ascii") + BUG.encode()
    path.write_bytes(data)
    monkeypatch.setattr(module, "fix_source", lambda *a, **k: FixResult("x = '\u00e9'\n", [AppliedFix("DLX020", "t")]))
    outcome = _fix(path)
    assert not outcome.written and "cannot be encoded" in outcome.problem and path.read_bytes() == data


def test_an_unreadable_file_reports_an_io_error(tmp_path):
    outcome = _fix(tmp_path / "missing.py")
    assert [d.code for d in outcome.diagnostics] == ["DLX902"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_named_pipe_is_reported_and_not_opened_for_writing(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    outcome = _fix(tmp_path / "pipe.py")
    assert [(d.code, d.message) for d in outcome.diagnostics] == [("DLX902", "cannot read file: not a regular file")]
    assert not outcome.written and stat.S_ISFIFO(os.stat(tmp_path / "pipe.py").st_mode)


# ------------------------------------------------------------------------------ notebooks


def _notebook(cells, indent=1):
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return (json.dumps(document, indent=indent, ensure_ascii=False) + "\n").encode("utf-8")


def _code(source, outputs=()):
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": list(outputs), "source": source}


def test_notebook_fixes_keep_layout_outputs_and_magics(tmp_path):
    output = {"name": "stdout", "output_type": "stream", "text": ["caf\u00e9\n"]}
    data = _notebook([
        {"cell_type": "markdown", "metadata": {}, "source": ["# Notes \u00e9\n"]},
        _code(["%matplotlib inline\n", "import torch"], [output]),
        _code(["x = torch.zeros(3)\n", "!nvidia-smi\n", "x.cuda()\n", "v = x.sum().item()\n", "print(v == float('nan'))"]),
    ])
    new, result = fix_notebook("n.ipynb", data, ALL)
    assert [a.code for a in result.applied] == ["DLX020", "DLX016"]
    expected = _notebook([
        {"cell_type": "markdown", "metadata": {}, "source": ["# Notes \u00e9\n"]},
        _code(["%matplotlib inline\n", "import torch\n", "import math"], [output]),
        _code(["x = torch.zeros(3)\n", "!nvidia-smi\n", "x = x.cuda()\n", "v = x.sum().item()\n", "print(math.isnan(v))"]),
    ])
    assert new == expected


@pytest.mark.parametrize("indent", [1, 2, 4])
def test_notebook_indentation_and_string_sources_are_kept(indent):
    data = _notebook([_code("import torch\nx = torch.zeros(3)\nx.cuda()\n")], indent=indent)
    new, _ = fix_notebook("n.ipynb", data, ALL)
    assert new == _notebook([_code("import torch\nx = torch.zeros(3)\nx = x.cuda()\n")], indent=indent)


def test_a_notebook_without_fixes_is_byte_identical():
    data = b"\xef\xbb\xbf" + _notebook([_code(["import torch\n", "y = torch.load('p')"])])
    new, result = fix_notebook("n.ipynb", data, ALL)
    assert new == data and not result.applied


def test_a_fix_touching_a_blanked_magic_line_is_not_applied():
    # The eval loop contains a shell line: wrapping it in `with torch.no_grad():` would have to
    # re-indent a line whose real text is not Python.
    data = _notebook([_code([
        "import torch\n", "def run(net, val_loader, opt, loader):\n", "    for x in loader:\n",
        "        opt.zero_grad(); net(x).sum().backward(); opt.step()\n", "    net.eval()\n",
        "    for x in val_loader:\n", "        !echo step\n", "        print(net(x))",
    ])])
    new, result = fix_notebook("n.ipynb", data, ALL, unsafe=True)
    assert new == data and not result.applied
    assert any(d.code == "DLX010" for d in result.remaining)
    assert result.passes == 1  # an unmappable fix does not make the loop spin


def test_notebook_diagnostics_after_fixing_are_relative_to_cells():
    data = _notebook([_code(["import torch"]), _code(["y = torch.load('p')"])])
    _, result = fix_notebook("n.ipynb", data, ALL)
    (remaining,) = result.remaining
    assert (remaining.cell, remaining.row, remaining.code) == (1, 1, "DLX025")
    assert remaining.fix.edits[0].row == 1  # the fix is relative to the cell too


def test_a_cell_that_does_not_parse_stays_in_what_remains_after_fixing(tmp_path):
    # The fix loop skips broken cells; their DLX900 used to vanish from the result, so
    # `--fix` reported "0 remaining" and exited 0 on a notebook that does not run.
    data = _notebook([_code(["import torch\n", "x = torch.zeros(3)\n", "x.cuda()\n"]), _code(["def f(:\n"])])
    new, result = fix_notebook("n.ipynb", data, ALL)
    assert [fix.code for fix in result.applied] == ["DLX020"]
    assert [(d.code, d.cell, d.row) for d in result.remaining] == [("DLX900", 1, 1)]
    path = tmp_path / "n.ipynb"
    path.write_bytes(data)
    outcome = _fix(path)
    assert outcome.written and [d.code for d in outcome.diagnostics] == ["DLX900"]


def test_fix_file_on_a_notebook(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_bytes(_notebook([_code(["import torch\n", "x = torch.zeros(3)\n", "x.cuda()"])]))
    outcome = _fix(path, diff=True)
    assert outcome.written
    assert json.loads(path.read_text())["cells"][0]["source"][-1] == "x = x.cuda()"
    assert f"--- {path}:cell 0" in outcome.diff and "+x = x.cuda()" in outcome.diff
