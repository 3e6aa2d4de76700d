"""`--add-noqa`: directives on every finding's line, merged into existing ones, never inside a
string, files rewritten atomically in their own encoding, newline style and permissions."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dlx_lint import add_noqa as add_noqa_module
from dlx_lint import cli
from dlx_lint.add_noqa import add_noqa_to_source

LOAD = "import torch\n\ndef f(p):\n    return torch.load(p){comment}\n"  # DLX025 on row 4


def run(capsys, *args):
    code = cli.main(["check", "--no-cache", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_adds_a_directive_and_the_rerun_is_clean(tmp_path, capsys):
    path = tmp_path / "a.py"
    path.write_text(LOAD.format(comment=""))
    code, out, err = run(capsys, "--add-noqa", str(path))
    assert code == 0 and out == ""
    assert err.strip().endswith("Added 1 noqa directive.")
    assert path.read_text() == LOAD.format(comment="  # noqa: DLX025")
    assert run(capsys, str(path))[0] == 0
    code, _, err = run(capsys, "--add-noqa", str(path))  # idempotent
    assert "Added 0 noqa directives." in err and path.read_text() == LOAD.format(comment="  # noqa: DLX025")


@pytest.mark.parametrize(
    "existing, expected",
    [
        ("  # noqa: E501", "  # noqa: E501, DLX025"),
        ("  # noqa:E501,W291  # why", "  # noqa:E501,W291, DLX025  # why"),
        ("  # type: ignore", "  # type: ignore  # noqa: DLX025"),
        ("   \t", "  # noqa: DLX025"),  # trailing whitespace goes
    ],
)
def test_merges_into_existing_comments(tmp_path, capsys, existing, expected):
    path = tmp_path / "a.py"
    path.write_text(LOAD.format(comment=existing))
    run(capsys, "--add-noqa", str(path))
    assert path.read_text() == LOAD.format(comment=expected)
    assert run(capsys, str(path))[0] == 0


def test_several_codes_on_one_line_are_sorted_and_a_unused_noqa_finding_gets_none(tmp_path, capsys):
    from .conftest import REPO

    path = tmp_path / "train.py"
    source = (REPO / "examples" / "train_bad.py").read_text() + "z = 1  # noqa: DLX016\n"
    path.write_text(source)
    before = json.loads(run(capsys, "--extend-select", "DLX901", "--output-format", "json", str(path))[1])
    rows: dict[int, set[str]] = {}
    for d in before:
        rows.setdefault(d["noqa_row"], set()).add(d["code"])
    last = len(source.splitlines())
    assert rows[last] == {"DLX901"}
    (shared_row, codes), = [(row, codes) for row, codes in rows.items() if len(codes) > 1]
    run(capsys, "--extend-select", "DLX901", "--add-noqa", str(path))
    lines = path.read_text().splitlines()
    assert lines[shared_row - 1].endswith("  # noqa: " + ", ".join(sorted(codes)))
    assert lines[-1] == "z = 1  # noqa: DLX016"  # DLX901 findings never get a directive
    assert sum("# noqa: DLX" in line for line in lines) == len(rows)
    after = json.loads(run(capsys, "--extend-select", "DLX901", "--output-format", "json", str(path))[1])
    assert [d["code"] for d in after] == ["DLX901"]


def test_crlf_bom_latin1_and_permissions_are_kept(tmp_path, capsys):
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(LOAD.format(comment="").replace("\n", "\r\n").encode())
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + LOAD.format(comment="").encode())
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n" + LOAD.format(comment="  # caf\xe9").encode("latin-1"))
    os.chmod(crlf, 0o755)
    run(capsys, "--add-noqa", str(tmp_path))
    assert crlf.read_bytes() == LOAD.format(comment="  # noqa: DLX025").replace("\n", "\r\n").encode()
    assert stat.S_IMODE(os.stat(crlf).st_mode) == 0o755
    assert bom.read_bytes() == b"\xef\xbb\xbf" + LOAD.format(comment="  # noqa: DLX025").encode()
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\n" + LOAD.format(comment="  # caf\xe9  # noqa: DLX025").encode("latin-1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bom.py", "crlf.py", "latin.py"]  # no temporary files left
    assert run(capsys, str(tmp_path))[0] == 0


@pytest.mark.parametrize(
    "template, fixed",
    [
        ('import torch\n\ndef f(p):\n    return torch.load(p, map_location="""\ncpu"""){comment}\n', 5),
        ("import torch\n\ndef f(p):\n    return torch.load(p) \\\n        if p else None{comment}\n", 5),
        ('import torch\n\ndef f(p):\n    return (torch.load(p),{comment}\n            "x")\n', 4),
    ],
    ids=["multi-line string", "backslash continuation", "inside brackets"],
)
def test_never_writes_inside_a_string_or_after_a_backslash(tmp_path, capsys, template, fixed):
    path = tmp_path / "a.py"
    path.write_text(template.format(comment=""))
    run(capsys, "--add-noqa", str(path))
    assert path.read_text() == template.format(comment="  # noqa: DLX025")
    assert path.read_text().splitlines()[fixed - 1].endswith("# noqa: DLX025")
    compile(path.read_text(), str(path), "exec")
    assert run(capsys, str(path))[0] == 0


def test_a_row_that_cannot_take_a_comment_is_skipped_and_reported():
    source = 'x = """\nabc\n"""\n'
    text, changed, skipped = add_noqa_to_source(source, {1: {"DLX025"}, 3: {"DLX016"}})
    assert text == 'x = """\nabc\n"""  # noqa: DLX016\n' and changed == 1
    assert skipped == [(1, "the line ends inside a string or a continuation, where a comment cannot go")]
    assert add_noqa_to_source("x = 1\ry = 2\n", {1: {"DLX025"}})[1] == 0  # lone CR: not edited


def test_an_edit_that_would_change_the_code_is_refused(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text(LOAD.format(comment=""))
    calls = iter([[(1, "before")], [(1, "after")]])
    monkeypatch.setattr(add_noqa_module, "_code_tokens", lambda text: next(calls))
    code, _, err = run(capsys, "--add-noqa", str(path))
    assert code == 0 and "would change the code" in err and "Added 0 noqa directives." in err
    assert path.read_text() == LOAD.format(comment="")


def test_notebooks_are_reported_not_edited(tmp_path, capsys):
    notebook = tmp_path / "nb.ipynb"
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "import torch\ntorch.load('m.pt')\n"},
    ]}
    notebook.write_text(json.dumps(document))
    before = notebook.read_bytes()
    code, _, err = run(capsys, "--add-noqa", str(notebook))
    assert code == 0 and "notebooks are not edited" in err
    assert notebook.read_bytes() == before


def test_add_noqa_refuses_stdin_and_show_settings(capsys):
    code, _, err = run(capsys, "--add-noqa", "-")
    assert code == 2 and "cannot be used with standard input" in err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "--add-noqa", "--show-settings"])
    assert exit_info.value.code == 2
