"""``dlx-lint check --fix / --unsafe-fixes / --diff / --show-fixes``: output, files written,
exit codes (ruff's semantics), and the fixable summary without ``--fix``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlx_lint import cli

SAFE_ONLY = "import torch\nx = torch.zeros(3)\nx.cuda()\n"
SAFE_FIXED = "import torch\nx = torch.zeros(3)\nx = x.cuda()\n"
MIXED = "import torch\nx = torch.zeros(3)\nx.cuda()\ny = torch.load('p')\n"


def call(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_summary_without_fix_counts_fixable_and_hidden_fixes(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(MIXED)
    code, out, _ = call(capsys, "check", str(path))
    assert code == 1
    lines = out.splitlines()
    assert " DLX020 [*] " in lines[0] and " DLX025 " in lines[1] and "[*]" not in lines[1]
    assert lines[-2:] == [
        "Found 2 errors.",
        "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    code, out, _ = call(capsys, "check", "--unsafe-fixes", str(path))
    assert out.splitlines()[-1] == "[*] 2 fixable with the `--fix` option."
    path.write_text("import torch\ny = torch.load('p')\n")
    code, out, _ = call(capsys, "check", str(path))
    assert out.splitlines()[-1] == "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)."


def test_fix_writes_and_exits_zero_when_nothing_remains(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(SAFE_ONLY)
    code, out, _ = call(capsys, "check", "--fix", str(path))
    assert code == 0
    assert path.read_text() == SAFE_FIXED
    assert out == "Found 1 error (1 fixed, 0 remaining).\n"
    code, out, _ = call(capsys, "check", "--fix", str(path))
    assert code == 0 and out == "All checks passed!\n"


def test_fix_exits_one_when_findings_remain_and_hints_at_unsafe_fixes(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(MIXED)
    code, out, _ = call(capsys, "check", "--fix", str(path))
    assert code == 1
    lines = out.splitlines()
    assert " DLX025 " in lines[0]
    assert lines[1:] == [
        "Found 2 errors (1 fixed, 1 remaining).",
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    code, out, _ = call(capsys, "check", "--fix", "--unsafe-fixes", "--show-fixes", str(path))
    assert code == 0
    assert "y = torch.load('p', weights_only=True)" in path.read_text()
    assert out.splitlines() == [
        "Fixed 1 error:",
        f"- {path}:",
        "    1 × DLX025 (torch-load-without-weights-only)",
        "",
        "Found 1 error (1 fixed, 0 remaining).",
    ]


def test_exit_zero_with_fix(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(MIXED)
    code, _, _ = call(capsys, "check", "--fix", "--exit-zero", str(path))
    assert code == 0


def test_diff_prints_and_writes_nothing(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(MIXED)
    code, out, err = call(capsys, "check", "--diff", str(path))
    assert code == 1
    assert path.read_text() == MIXED
    assert out.splitlines() == [
        f"--- {path}",
        f"+++ {path}",
        "@@ -1,4 +1,4 @@",
        " import torch",
        " x = torch.zeros(3)",
        "-x.cuda()",
        "+x = x.cuda()",
        " y = torch.load('p')",
    ]
    assert err == "Would fix 1 error.\n"
    path.write_text(SAFE_FIXED)
    code, out, err = call(capsys, "check", "--diff", str(path))
    assert code == 0 and out == "" and err == "No errors would be fixed.\n"


def test_fix_json_output_lists_what_remains(capsys, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(MIXED)
    code, out, _ = call(capsys, "check", "--fix", "--output-format", "json", str(path))
    assert code == 1
    (item,) = json.loads(out)
    assert item["code"] == "DLX025"
    assert item["fix"]["applicability"] == "unsafe"
    assert item["fix"]["edits"] == [{"content": ", weights_only=True", "location": {"row": 4, "column": 19}, "end_location": {"row": 4, "column": 19}}]


def test_fix_a_directory_in_parallel(capsys, tmp_path):
    for i in range(20):
        (tmp_path / f"m{i:02}.py").write_text(SAFE_ONLY if i % 2 else MIXED)
    code, out, _ = call(capsys, "check", "--fix", "--jobs", "2", str(tmp_path))
    assert code == 1
    assert all((tmp_path / f"m{i:02}.py").read_text().count("x = x.cuda()") == 1 for i in range(20))
    assert out.splitlines()[-2] == "Found 30 errors (20 fixed, 10 remaining)."


def test_fix_from_stdin_prints_the_fixed_source(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "dlx_lint", "check", "--fix", "-", "--stdin-filename", str(tmp_path / "a.py")],
        input=MIXED.encode(), capture_output=True, check=False,
    )
    assert run.returncode == 1
    assert run.stdout.decode() == MIXED.replace("x.cuda()", "x = x.cuda()")
    assert " DLX025 " in run.stderr.decode()
    assert "Found 2 errors (1 fixed, 1 remaining)." in run.stderr.decode()


def test_diff_from_stdin(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "dlx_lint", "check", "--diff", "-"],
        input=SAFE_ONLY.encode(), capture_output=True, check=False,
    )
    assert run.returncode == 1 and "+x = x.cuda()" in run.stdout.decode()


def test_a_file_that_cannot_be_written_is_reported(capsys, tmp_path, monkeypatch):
    from dlx_lint.fixes import files

    path = tmp_path / "a.py"
    path.write_text(SAFE_ONLY)
    monkeypatch.setattr(files, "write_atomically", lambda *args: "cannot write: read-only file system")
    code, out, err = call(capsys, "check", "--fix", str(path))
    assert code == 1
    assert err == f"dlx-lint: error: {path}: cannot write: read-only file system\n"
    assert " DLX020 [*] " in out and path.read_text() == SAFE_ONLY


def test_a_notebook_is_fixed_in_place(capsys, tmp_path):
    path = tmp_path / "n.ipynb"
    document = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["import torch\n", "x = torch.zeros(3)\n", "x.cuda()"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    code, out, _ = call(capsys, "check", "--fix", str(path))
    assert code == 0
    document["cells"][0]["source"][-1] = "x = x.cuda()"
    assert path.read_text() == json.dumps(document, indent=1) + "\n"


def test_help_documents_the_fix_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    for option in ("--fix", "--unsafe-fixes", "--diff", "--show-fixes"):
        assert option in out
