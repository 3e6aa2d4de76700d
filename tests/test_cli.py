"""The `dlx-lint` command: exit codes and errors as subprocesses, output shapes in process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import pytest

from dlx_lint import cli
from dlx_lint.registry import all_rules, rules_by_code

LATIN1_NO_COOKIE = b'import torch\nname = "caf\xe9"\n'  # one DLX902 io-error (needs no rule)
NAN_SOURCE = 'import torch\nx = torch.zeros(3)\nprint(x == float("nan"))\n'  # DLX016 at 3:7
CLEAN_SOURCE = "import torch\n\nx = torch.zeros(3)\n"

needs_nan_rule = pytest.mark.skipif("DLX016" not in rules_by_code(), reason="DLX016 is not implemented yet")


def run(*args, cwd=None, stdin=None):
    """Run `python -m dlx_lint ARGS` and return the completed process (text mode)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "dlx_lint", *args],
        cwd=cwd, input=stdin, capture_output=True, env=env, timeout=120,
    )


def out(process) -> str:
    return process.stdout.decode("utf-8")


def err(process) -> str:
    return process.stderr.decode("utf-8")


def assert_one_line_error(process, fragment):
    assert process.returncode == 2, (out(process), err(process))
    message = err(process)
    assert "Traceback" not in message
    assert message.count("\n") == 1, message
    assert fragment in message


@pytest.fixture
def project(tmp_path):
    (tmp_path / "clean.py").write_text(CLEAN_SOURCE)
    (tmp_path / "bad.py").write_bytes(LATIN1_NO_COOKIE)
    return tmp_path


# --- exit codes (subprocess) -------------------------------------------------------------


def test_exit_0_without_findings(project):
    process = run("check", "clean.py", cwd=project)
    assert process.returncode == 0
    assert out(process) == "All checks passed!\n"


def test_exit_1_with_findings_and_ruff_style_lines(project):
    process = run("check", cwd=project)
    assert process.returncode == 1
    lines = out(process).splitlines()
    assert lines[0].startswith("bad.py:1:1: DLX902 not valid utf-8")
    assert lines[-1] == "Found 1 error."


def test_exit_zero_flag(project):
    process = run("check", "--exit-zero", cwd=project)
    assert process.returncode == 0 and "DLX902" in out(process)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["check", "--select", "DLX999"], "--select: unknown rule selector 'DLX999'"),
        (["check", "--ignore", "not-a-rule"], "--ignore: unknown rule selector 'not-a-rule'"),
        (["check", "missing_dir"], "missing_dir: no such file or directory"),
        (["check", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["check", "--jobs", "0"], "expected a positive integer"),
        (["check", "--target-torch-version", "two"], "invalid torch version"),
        (["check", "--output-format", "xml"], "invalid choice: 'xml'"),
        (["check", "--config", "nowhere.toml"], "nowhere.toml: config file not found"),
        (["check", "-", "clean.py"], "cannot be combined"),
        (["check", "--fix", "--add-noqa", "clean.py"], "--add-noqa cannot be combined with --fix"),
        (["check", "--diff", "--add-noqa", "clean.py"], "--add-noqa cannot be combined with --diff"),
        (["check", "--fix", "--statistics", "clean.py"], "--statistics cannot be combined with --fix"),
        (["check", "--add-noqa", "--statistics", "clean.py"], "--statistics cannot be combined with --add-noqa"),
        (["rule", "DLX998"], "unknown rule 'DLX998'"),
        (["rule"], "give either a rule code or name, or --all"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_exit_2_with_one_line_message(project, args, fragment):
    assert_one_line_error(run(*args, cwd=project), fragment)


def test_rule_explains_the_internal_error_code(project):
    # DLX999 appears in reports (a rule that failed, a dropped fix); looking it up must work.
    process = run("rule", "DLX999", cwd=project)
    assert process.returncode == 0 and out(process).startswith("# DLX999 internal-error\n")
    assert "please report it" in out(process)


def test_exit_2_for_a_bad_configuration_file(project):
    (project / "pyproject.toml").write_text("[tool.dlx-lint]\nselect = ['DLX001'\n")
    process = run("check", cwd=project)
    assert_one_line_error(process, "pyproject.toml: invalid TOML")
    assert str(project) in err(process)


def test_exit_2_even_with_exit_zero(project):
    assert run("check", "--exit-zero", "--select", "DLX999", cwd=project).returncode == 2


def test_no_subcommand_prints_help_and_exits_2():
    process = run()
    assert process.returncode == 2 and "check" in err(process)


def test_version():
    from dlx_lint import __version__

    assert out(run("version")) == f"dlx-lint {__version__}\n"
    assert out(run("--version")) == f"dlx-lint {__version__}\n"


def test_parallel_output_is_identical_to_serial(tmp_path):
    for index in range(24):
        package = tmp_path / f"pkg{index % 3}"
        package.mkdir(exist_ok=True)
        if index % 3 == 0:
            (package / f"m{index:02}.py").write_bytes(LATIN1_NO_COOKIE)
        elif index % 3 == 1:
            (package / f"m{index:02}.py").write_text(NAN_SOURCE)
        else:
            (package / f"m{index:02}.py").write_text("import torch\nx = (\n")
    for output_format in ("concise", "json"):
        serial = run("check", "--jobs", "1", "--output-format", output_format, cwd=tmp_path)
        parallel = run("check", "--jobs", "2", "--output-format", output_format, cwd=tmp_path)
        assert serial.returncode == parallel.returncode == 1
        assert out(serial) == out(parallel)
        assert out(serial).count("DLX902") == 8


def test_stdin_with_filename_uses_its_configuration(project):
    (project / "pyproject.toml").write_text("[tool.dlx-lint.per-file-ignores]\n'generated/*' = ['io-error']\n")
    reported = run("check", "-", "--stdin-filename", "src/x.py", cwd=project, stdin=LATIN1_NO_COOKIE)
    assert reported.returncode == 1
    assert out(reported).startswith("src/x.py:1:1: DLX902 ")
    ignored = run("check", "--stdin-filename", "generated/x.py", cwd=project, stdin=LATIN1_NO_COOKIE)
    assert ignored.returncode == 0, out(ignored)


def test_stdin_without_filename_is_named_dash(project):
    process = run("check", "-", "--output-format", "json", cwd=project, stdin=LATIN1_NO_COOKIE)
    assert process.returncode == 1
    assert [d["filename"] for d in json.loads(out(process))] == ["-"]


def test_stdin_notebook_by_filename(project):
    process = run("check", "--stdin-filename", "nb.ipynb", cwd=project, stdin=b"{broken")
    assert process.returncode == 1
    assert out(process).startswith("nb.ipynb:1:1: DLX902 invalid notebook: not JSON")


def test_config_flag_selects_the_file(project):
    (project / "conf.toml").write_text("[tool.dlx-lint]\nignore = ['DLX902']\n")
    assert run("check", "--config", "conf.toml", cwd=project).returncode == 0
    assert run("check", cwd=project).returncode == 1


def test_cli_does_not_import_pygls_and_help_does_not_load_libcst(project):
    script = textwrap.dedent("""
        import sys
        from dlx_lint import cli
        cli.main(["version"])
        assert "libcst" not in sys.modules, "libcst loaded for `version`"
        cli.main(["check", "--quiet", "clean.py", "bad.py"])
        assert "libcst" in sys.modules
        assert not [m for m in sys.modules if m.split(".")[0] in ("pygls", "lsprotocol")], "pygls imported"
        print("ok")
    """)
    process = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines()[-1] == "ok"


# --- in process: output shapes, rule subcommand, server dispatch ------------------------


def call(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@needs_nan_rule
def test_json_fields(capsys, tmp_path):
    path = tmp_path / "nan.py"
    path.write_text(NAN_SOURCE)
    code, stdout, _ = call(capsys, "check", "--output-format", "json", str(path))
    assert code == 1
    (item,) = json.loads(stdout)
    assert set(item) == {"code", "name", "message", "severity", "filename", "location", "end_location", "fix", "url", "noqa_row", "cell"}
    assert item["code"] == "DLX016" and item["name"] == "nan-equality"
    assert item["filename"] == str(path)
    assert item["location"] == {"row": 3, "column": 7}
    assert item["end_location"]["row"] == 3 and item["end_location"]["column"] > 7
    assert item["severity"] in ("error", "warning", "info")
    assert item["cell"] is None and item["noqa_row"] == 3
    # The fix, with 1-based rows and columns like the diagnostic (ruff's shape).
    assert item["fix"] == {
        "applicability": "safe",
        "message": "Use `torch.isnan(x)`",
        "edits": [{"content": "torch.isnan(x", "location": {"row": 3, "column": 7}, "end_location": {"row": 3, "column": 23}}],
    }
    assert item["url"].startswith("https://") and "dlx016" in item["url"]


def test_json_empty_list_and_no_summary(capsys, tmp_path):
    (tmp_path / "clean.py").write_text(CLEAN_SOURCE)
    code, stdout, _ = call(capsys, "check", "--output-format", "json", str(tmp_path))
    assert code == 0 and json.loads(stdout) == []


def test_severity_override_in_json(capsys, project):
    (project / "pyproject.toml").write_text("[tool.dlx-lint.severity]\nDLX9 = 'warning'\n")
    code, stdout, _ = call(capsys, "check", "--output-format", "json", str(project / "bad.py"))
    assert [d["severity"] for d in json.loads(stdout)] == ["warning"]


@needs_nan_rule
def test_concise_notebook_lines_name_the_cell(capsys, tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# intro"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "import torch\nx = torch.zeros(3)\n"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["y = 1\n", 'print(x == float("nan"))']},
        ],
    }))
    code, stdout, _ = call(capsys, "check", str(path))
    assert code == 1
    assert stdout.splitlines() == [
        f"{path}:cell 2:2:7: DLX016 {stdout.split(' DLX016 ', 1)[1].splitlines()[0]}",
        "Found 1 error.",
        "[*] 1 fixable with the `--fix` option.",
    ]
    assert " DLX016 [*] " in stdout  # the fix maps into the cell, so the finding is fixable


@needs_nan_rule
def test_selectors_by_code_prefix_and_name(capsys, tmp_path):
    (tmp_path / "nan.py").write_text(NAN_SOURCE)
    (tmp_path / "bad.py").write_bytes(LATIN1_NO_COOKIE)

    def codes(*flags):
        code, stdout, _ = call(capsys, "check", "--output-format", "json", *flags, str(tmp_path))
        return sorted(d["code"] for d in json.loads(stdout))

    assert codes() == ["DLX016", "DLX902"]
    assert codes("--select", "DLX016") == ["DLX016"]
    assert codes("--select", "nan-equality") == ["DLX016"]
    assert codes("--select", "DLX9") == ["DLX902"]
    assert codes("--select", "DLX016,io-error") == ["DLX016", "DLX902"]
    assert codes("--select", "DLX016", "--extend-select", "DLX902") == ["DLX016", "DLX902"]
    assert codes("--ignore", "nan-equality") == ["DLX902"]
    assert codes("--ignore", "DLX0", "--ignore", "DLX902") == []


def test_quiet_drops_the_summary(capsys, project):
    code, stdout, _ = call(capsys, "check", "--quiet", str(project / "bad.py"))
    assert code == 1
    assert stdout.count("\n") == 1 and "Found" not in stdout
    code, stdout, _ = call(capsys, "check", "-q", str(project / "clean.py"))
    assert code == 0 and stdout == ""


def test_rule_explanation_has_the_sections(capsys):
    code, stdout, _ = call(capsys, "rule", "DLX900")
    assert code == 0
    assert stdout.startswith("# DLX900 syntax-error")
    assert "## What it does" in stdout and "## Why is this bad?" in stdout
    code, by_name, _ = call(capsys, "rule", "syntax-error")
    assert by_name == stdout


def test_rule_all_lists_every_rule(capsys):
    code, stdout, _ = call(capsys, "rule", "--all")
    lines = stdout.splitlines()
    assert code == 0 and len(lines) == len(all_rules())
    for line, rule in zip(lines, all_rules()):
        assert line.split()[:3] == [rule.code, rule.name, rule.severity.value]
        assert rule.summary in line


def test_rule_all_json(capsys):
    code, stdout, _ = call(capsys, "rule", "--all", "--output-format", "json")
    items = json.loads(stdout)
    assert [item["code"] for item in items] == [rule.code for rule in all_rules()]
    assert {"code", "name", "severity", "summary"} <= set(items[0])
    code, stdout, _ = call(capsys, "rule", "io-error", "--output-format", "json")
    assert json.loads(stdout)["explanation"].startswith("# DLX902 io-error")


def test_server_missing_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dlx_lint_server", None)  # makes the import fail
    code, stdout, stderr = call(capsys, "server")
    assert code == 2
    assert stderr.startswith("dlx-lint: error: the language server is not available") and stderr.count("\n") == 1


def test_server_dispatches_to_the_server_package(capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("dlx_lint_server")
    fake.main = lambda: calls.append("started") or 0
    monkeypatch.setitem(sys.modules, "dlx_lint_server", fake)
    code, _, _ = call(capsys, "server", "--stdio")
    assert code == 0 and calls == ["started"]


def test_options_and_paths_may_be_mixed(capsys, project):
    code, stdout, _ = call(capsys, "check", str(project / "clean.py"), "--select", "DLX902", str(project / "bad.py"))
    assert code == 1 and "DLX902" in stdout
