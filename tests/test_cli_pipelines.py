"""`check` options for pipelines: --statistics, --show-settings, --force-exclude,
--no-default-path, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlx_lint import cli
from dlx_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
from dlx_lint.statistics import count_by_rule, render_json, render_text

NAN_SOURCE = 'import torch\nx = torch.zeros(3)\nprint(x == float("nan"))\nprint(x == float("nan"))\n'  # DLX016 twice
LOAD_SOURCE = "import torch\n\ndef f(p):\n    return torch.load(p)\n"  # DLX025


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nan.py").write_text(NAN_SOURCE)
    (tmp_path / "load.py").write_text(LOAD_SOURCE)
    return tmp_path


def call(capsys, *args):
    code = cli.main(["check", "--no-cache", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _diagnostic(code, name, fix=None):
    return Diagnostic(code=code, name=name, message="m", severity=Severity.ERROR, filename="a.py", row=1, column=1, end_row=1, end_column=2, fix=fix)


# --- --statistics ---------------------------------------------------------------------------


def test_statistics_counts_per_rule(project, capsys):
    code, out, _ = call(capsys, "--statistics")
    assert code == 1
    # DLX016's fix (torch.isnan on a known tensor) is safe; DLX025's (weights_only=True) is unsafe.
    assert out.splitlines() == [
        "2\tDLX016\t[*] nan-equality",
        "1\tDLX025\t    torch-load-without-weights-only",
        "Found 3 errors.",
        # As in the normal report: the unsafe fix is counted as hidden (it was left out).
        "[*] 2 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    assert call(capsys, "--statistics", "--unsafe-fixes")[1].splitlines()[-1] == "[*] 3 fixable with the `--fix` option."
    code, out, _ = call(capsys, "--statistics", "--output-format", "json")
    assert json.loads(out) == [
        {"code": "DLX016", "name": "nan-equality", "count": 2, "fixable_count": 2, "fixable": True},
        {"code": "DLX025", "name": "torch-load-without-weights-only", "count": 1, "fixable_count": 0, "fixable": False},
    ]
    code, out, _ = call(capsys, "--statistics", "--exit-zero", "--quiet")
    assert code == 0 and out.splitlines()[-1] == "1\tDLX025\t    torch-load-without-weights-only"


def test_statistics_counts_fixable_findings():
    safe = Fix(Applicability.SAFE, "fix", (Edit(1, 1, 1, 2, "y"),))
    unsafe = Fix(Applicability.UNSAFE, "fix", (Edit(1, 1, 1, 2, "y"),))
    diagnostics = [_diagnostic("DLX002", "b", safe), _diagnostic("DLX002", "b"), _diagnostic("DLX001", "a", unsafe)]
    assert [(e.code, e.count, e.fixable_count) for e in count_by_rule(diagnostics)] == [("DLX002", 2, 1), ("DLX001", 1, 0)]
    lines = render_text(diagnostics).splitlines()
    assert lines == [
        "2\tDLX002\t[*] b", "1\tDLX001\t    a", "Found 3 errors.",
        "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    assert json.loads(render_json([_diagnostic("DLX002", "b", safe)]))[0]["fixable"] is True


# --- --show-settings ------------------------------------------------------------------------


def test_show_settings_for_a_file(project, capsys):
    (project / "pyproject.toml").write_text(
        "[tool.dlx-lint]\nextend-select = ['DLX901']\ntarget-torch-version = '2.4'\n"
        "[tool.dlx-lint.per-file-ignores]\n'tests/*' = ['nan-equality']\n[tool.dlx-lint.severity]\nDLX025 = 'info'\n"
    )
    (project / "tests").mkdir()
    (project / "tests" / "t.py").write_text(NAN_SOURCE)
    code, out, _ = call(capsys, "--show-settings", "--output-format", "json", "tests/t.py")
    assert code == 0
    data = json.loads(out)
    assert data["config_file"] == str(project / "pyproject.toml")
    assert data["target_torch_version"] == "2.4" and data["extend_select"] == ["DLX901"]
    codes = {rule["code"]: rule["severity"] for rule in data["rules"]}
    assert "DLX016" not in codes and codes["DLX901"] == "info" and codes["DLX025"] == "info"
    assert data["cache_dir"] is None  # --no-cache
    code, out, _ = call(capsys, "--show-settings", "nan.py")
    assert code == 0 and out.startswith("# Settings for nan.py\n")
    assert "DLX016  nan-equality" in out and 'target-torch-version = "2.4"' in out
    code = cli.main(["check", "--show-settings", "--cache-dir", "c", "nan.py"])
    assert code == 0 and f'cache-dir = "{project / "c"}"' in capsys.readouterr().out
    assert not (project / "c").exists()  # nothing was linted or cached


def test_show_settings_of_a_missing_path_is_an_error(project, capsys):
    code, _, err = call(capsys, "--show-settings", "nowhere.py")
    assert code == 2 and err == "dlx-lint: error: nowhere.py: no such file or directory\n"


# --- --force-exclude and --no-default-path -----------------------------------------------------


def test_force_exclude_applies_exclude_to_named_files(project, capsys):
    (project / "pyproject.toml").write_text("[tool.dlx-lint]\nexclude = ['nan.py']\n")
    assert call(capsys, "nan.py", "--output-format", "json")[0] == 1  # named: linted
    code, out, _ = call(capsys, "--force-exclude", "nan.py", "load.py", "--output-format", "json")
    assert code == 1 and {d["filename"] for d in json.loads(out)} == {"load.py"}
    assert call(capsys, "--force-exclude", "nan.py")[0] == 0


@pytest.mark.parametrize("pattern", ["sub", "sub/", "deep", "**/deep"])
def test_force_exclude_applies_to_files_inside_an_excluded_folder(project, capsys, pattern):
    # pre-commit names files one by one; `exclude = ["generated"]` must skip what lies inside.
    (project / "pyproject.toml").write_text(f"[tool.dlx-lint]\nexclude = [{pattern!r}]\n")
    inner = project / "sub" / "deep" / "x.py"
    inner.parent.mkdir(parents=True)
    inner.write_text(LOAD_SOURCE)
    assert call(capsys, "sub/deep/x.py")[0] == 1  # named without --force-exclude: linted
    code, out, _ = call(capsys, "--force-exclude", "sub/deep/x.py", "load.py", "--output-format", "json")
    assert code == 1 and {d["filename"] for d in json.loads(out)} == {"load.py"}


def test_force_exclude_does_not_apply_folder_patterns_above_the_project(project, capsys):
    (project / "pyproject.toml").write_text(f"[tool.dlx-lint]\nexclude = [{project.name!r}]\n")
    code, out, _ = call(capsys, "--force-exclude", "load.py", "--output-format", "json")
    assert code == 1 and {d["filename"] for d in json.loads(out)} == {"load.py"}


def test_no_default_path_lints_nothing_without_paths(project, capsys):
    assert call(capsys)[0] == 1  # the current directory
    code, out, _ = call(capsys, "--no-default-path")
    assert code == 0 and out == "All checks passed!\n"
    code, out, _ = call(capsys, "--no-default-path", "load.py")
    assert code == 1 and "DLX025" in out


# --- one-line errors (subprocess: what a pipeline sees) -------------------------------------------


@pytest.mark.parametrize(
    "args, config, fragment",
    [
        (["--no-such-option"], None, "unrecognized arguments: --no-such-option"),
        (["--output-format", "sarif2"], None, "invalid choice: 'sarif2'"),
        (["gone.py"], None, "gone.py: no such file or directory"),
        ([], "[tool.dlx-lint]\nselect = ['DLX777']\n", "select: unknown rule selector 'DLX777'"),
        ([], "[tool.dlx-lint]\nignore = ['no-such-rule']\n", "ignore: unknown rule selector 'no-such-rule'"),
        ([], "[tool.dlx-lint]\ncache_dir = 'x'\n", "unknown key 'cache_dir' (did you mean 'cache-dir'?)"),
    ],
)
def test_errors_are_one_line_with_exit_2(project, args, config, fragment):
    if config is not None:
        (project / "pyproject.toml").write_text(config)
    process = subprocess.run([sys.executable, "-m", "dlx_lint", "check", *args], cwd=project, capture_output=True, text=True, timeout=120)
    assert process.returncode == 2, process.stderr
    assert process.stderr.count("\n") == 1 and "Traceback" not in process.stderr
    assert fragment in process.stderr
