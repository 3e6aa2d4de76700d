"""The result cache: warm reruns read each file once and parse nothing; any change to the
bytes, the settings or dlx-lint misses; concurrent runs never corrupt it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from dlx_lint import cache as cache_module
from dlx_lint import cli, runner
from dlx_lint.cache import CACHE_DIR_NAME, decode_diagnostic, encode_diagnostic
from dlx_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity

NAN_SOURCE = 'import torch\nx = torch.zeros(3)\nprint(x == float("nan"))\n'  # DLX016
LOAD_SOURCE = "import torch\n\ndef f(p):\n    return torch.load(p)\n"  # DLX025


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.dlx-lint]\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "nan.py").write_text(NAN_SOURCE)
    (package / "load.py").write_text(LOAD_SOURCE)
    (package / "clean.py").write_text("import torch\n\nx = torch.zeros(3)\n")
    (package / "plain.py").write_text("x = 1\n")
    return tmp_path


def check(capsys, *args):
    code = cli.main(["check", "--jobs", "1", "--output-format", "json", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Spy:
    """Counts reads per file and parses; can forbid parsing."""

    def __init__(self, monkeypatch, forbid_parse=False):
        import libcst

        self.reads: Counter[str] = Counter()
        self.parses = 0
        # Unwrap an earlier spy of the same test, so spies replace each other, not stack.
        original_read = getattr(runner.read_bytes, "original", runner.read_bytes)
        original_parse = getattr(libcst.parse_module, "original", libcst.parse_module)

        def read_bytes(path):
            self.reads[os.path.abspath(path)] += 1
            return original_read(path)

        def parse_module(*args, **kwargs):
            if forbid_parse:
                raise AssertionError("parsed during a warm run")
            self.parses += 1
            return original_parse(*args, **kwargs)

        read_bytes.original = original_read
        parse_module.original = original_parse
        monkeypatch.setattr(runner, "read_bytes", read_bytes)
        monkeypatch.setattr(libcst, "parse_module", parse_module)


def test_warm_rerun_reads_each_file_once_and_parses_nothing(project, capsys, monkeypatch):
    cold = check(capsys, ".")
    assert cold[0] == 1 and {d["code"] for d in json.loads(cold[1])} == {"DLX016", "DLX025"}
    assert (project / CACHE_DIR_NAME / ".gitignore").read_text().splitlines()[-1] == "*"
    spy = Spy(monkeypatch, forbid_parse=True)

    def no_lint(*args, **kwargs):
        raise AssertionError("linted during a warm run")

    monkeypatch.setattr(runner, "lint_data", no_lint)
    warm = check(capsys, ".")
    assert warm == cold
    assert set(spy.reads.values()) == {1}
    assert set(spy.reads) == {str(project / "pkg" / name) for name in ("nan.py", "load.py", "clean.py", "plain.py")}


def test_only_changed_files_are_linted_again(project, capsys, monkeypatch):
    check(capsys, ".")
    (project / "pkg" / "clean.py").write_text(NAN_SOURCE)
    spy = Spy(monkeypatch)
    code, out, _ = check(capsys, ".")
    assert spy.parses == 1
    assert sorted(d["filename"] for d in json.loads(out)) == ["pkg/clean.py", "pkg/load.py", "pkg/nan.py"]


def test_settings_and_the_file_name_spelling(project, capsys, monkeypatch):
    check(capsys, ".")
    spy = Spy(monkeypatch, forbid_parse=True)
    code, out, _ = check(capsys, str(project / "pkg" / "nan.py"))  # another spelling, same file
    assert [d["filename"] for d in json.loads(out)] == [str(project / "pkg" / "nan.py")]
    spy = Spy(monkeypatch)
    code, out, _ = check(capsys, "--select", "DLX016", ".")
    assert spy.parses > 0 and [d["code"] for d in json.loads(out)] == ["DLX016"]
    (project / "pyproject.toml").write_text("[tool.dlx-lint.severity]\nDLX016 = 'info'\n")
    spy = Spy(monkeypatch)
    code, out, _ = check(capsys, "pkg/nan.py")
    assert spy.parses == 1 and json.loads(out)[0]["severity"] == "info"


def test_a_new_dlx_lint_build_does_not_read_old_results(project, capsys, monkeypatch):
    check(capsys, ".")
    monkeypatch.setattr(cache_module, "package_fingerprint", lambda: "another-build")
    spy = Spy(monkeypatch)
    check(capsys, ".")
    assert spy.parses == 3  # every file that mentions torch


def test_no_cache_and_cache_dir_and_the_cache_dir_setting(project, capsys):
    check(capsys, "--no-cache", ".")
    assert not (project / CACHE_DIR_NAME).exists()
    check(capsys, "--cache-dir", "elsewhere", ".")
    assert (project / "elsewhere" / "CACHEDIR.TAG").is_file() and not (project / CACHE_DIR_NAME).exists()
    (project / "pyproject.toml").write_text("[tool.dlx-lint]\ncache-dir = 'build/lint-cache'\n")
    (project / "pkg" / "sub").mkdir()
    os.chdir(project / "pkg" / "sub")
    check(capsys, "..")
    assert list((project / "build" / "lint-cache").rglob("results-*.json"))


def test_a_bad_cache_dir_setting_is_a_one_line_error(project, capsys):
    (project / "pyproject.toml").write_text("[tool.dlx-lint]\ncache-dir = 3\n")
    code, _, err = check(capsys, ".")
    assert code == 2 and err.count("\n") == 1 and "cache-dir must be a non-empty string" in err


def test_a_corrupt_cache_is_ignored_and_rewritten(project, capsys, monkeypatch):
    cold = check(capsys, ".")
    (cache_file,) = (project / CACHE_DIR_NAME).rglob("results-*.json")
    cache_file.write_text('{"format": 1, "entries": {"x": [')
    assert check(capsys, ".") == cold
    json.loads(cache_file.read_text())  # valid again
    document = json.loads(cache_file.read_text())
    some_path = next(iter(document["entries"]))
    document["entries"][some_path][2] = [{"nonsense": True}]
    cache_file.write_text(json.dumps(document))
    assert check(capsys, ".") == cold


def test_an_unwritable_cache_warns_and_the_run_goes_on(project, capsys):
    (project / "blocker").write_text("")
    code, out, err = check(capsys, "--cache-dir", str(project / "blocker" / "cache"), ".")
    assert code == 1 and json.loads(out)
    assert err.startswith("dlx-lint: warning: cannot write the cache in") and err.count("\n") == 1


def test_parallel_runs_store_and_answer_the_same(project, capsys):
    for index in range(20):
        (project / "pkg" / f"m{index:02}.py").write_text(NAN_SOURCE if index % 2 else LOAD_SOURCE)
    cold = cli.main(["check", "--jobs", "2", "--output-format", "json", "."]), capsys.readouterr().out
    warm = cli.main(["check", "--jobs", "2", "--output-format", "json", "."]), capsys.readouterr().out
    assert cold == warm and len(json.loads(warm[1])) == 22
    (cache_file,) = (project / CACHE_DIR_NAME).rglob("results-*.json")
    assert len(json.loads(cache_file.read_text())["entries"]) == 24


def test_internal_errors_are_not_cached(project, capsys, monkeypatch):
    from dlx_lint.registry import rules_by_code

    rule = rules_by_code()["DLX016"]
    with monkeypatch.context() as patch:
        patch.setattr(rule, "check", lambda model: (_ for _ in ()).throw(RuntimeError("boom")))
        code, out, _ = check(capsys, "pkg/nan.py")
        assert "DLX999" in {d["code"] for d in json.loads(out)}
    code, out, _ = check(capsys, "pkg/nan.py")
    assert [d["code"] for d in json.loads(out)] == ["DLX016"]


def test_concurrent_runs_leave_a_valid_cache(project):
    for index in range(12):
        (project / "pkg" / f"c{index:02}.py").write_text(NAN_SOURCE.replace("3", str(index + 1)))
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "dlx_lint", "check", "--jobs", "1", "--quiet", f"pkg/c{index:02}.py", f"pkg/c{index + 6:02}.py"],
            cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for index in range(6)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 1 and not err, err
    (cache_file,) = (project / CACHE_DIR_NAME).rglob("results-*.json")
    document = json.loads(cache_file.read_text())
    assert document["entries"]
    for path, (key, day, diagnostics) in document["entries"].items():
        assert path.endswith(".py") and len(key) == 64 + 1 + 16 and isinstance(day, int)
        assert [decode_diagnostic(item, path).code for item in diagnostics] == ["DLX016"]
    assert not [p for p in cache_file.parent.iterdir() if p.name.endswith(".dlx-lint-tmp")]


def test_every_diagnostic_field_round_trips():
    fix = Fix(Applicability.UNSAFE, "pass `weights_only=True`", (Edit(4, 25, 4, 25, ", weights_only=True"), Edit(1, 1, 1, 1, "")))
    diagnostic = Diagnostic(
        code="DLX025", name="torch-load-without-weights-only", message="m", severity=Severity.WARNING,
        filename="a.py", row=4, column=12, end_row=4, end_column=26, noqa_row=4, cell=3, fix=fix,
        url="https://example.invalid/x", extra={"k": [1, "v"]},
    )
    encoded = json.loads(json.dumps(encode_diagnostic(diagnostic)))
    assert "filename" not in encoded
    decoded = decode_diagnostic(encoded, "a.py")
    assert decoded == diagnostic and decoded.extra == diagnostic.extra
    assert decode_diagnostic(encoded, "b.py").filename == "b.py"
