"""File discovery, reading, and parallel linting (`dlx_lint.runner`)."""

from __future__ import annotations

import errno
import json
import os

import pytest

from dlx_lint import runner
from dlx_lint.config import SettingsResolver
from dlx_lint.registry import rules_by_code
from dlx_lint.settings import Settings

DEFAULTS = Settings()
NAN_SOURCE = 'import torch\nx = torch.zeros(3)\nprint(x == float("nan"))\n'  # DLX016 at 3:7
LATIN1_NO_COOKIE = b'import torch\nname = "caf\xe9"\n'

needs_nan_rule = pytest.mark.skipif("DLX016" not in rules_by_code(), reason="DLX016 is not implemented yet")


def make_tree(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def discovered(root, resolver=DEFAULTS, paths=None):
    found = [path for path, _ in runner.discover(paths or [str(root)], resolver)]
    return sorted(os.path.relpath(path, root).replace(os.sep, "/") for path in found)


def test_discovery_picks_python_and_notebooks_and_skips_tool_directories(tmp_path):
    make_tree(tmp_path, {
        "a.py": "", "b.pyi": "", "c.ipynb": "{}", "notes.txt": "", "setup.cfg": "",
        "pkg/d.py": "",
        ".git/e.py": "", ".venv/f.py": "", "venv/g.py": "", "node_modules/h.py": "",
        "__pycache__/i.py": "", "build/j.py": "", "dist/k.py": "", ".tox/l.py": "",
        ".mypy_cache/m.py": "", ".dlx_lint_cache/n.py": "", ".hg/o.py": "",
        ".ipynb_checkpoints/p.ipynb": "{}",
        "myenv/pyvenv.cfg": "home = /usr/bin", "myenv/lib/q.py": "",
    })
    assert discovered(tmp_path) == ["a.py", "b.pyi", "c.ipynb", "pkg/d.py"]


def test_explicit_paths_are_always_linted(tmp_path):
    make_tree(tmp_path, {"build/x.py": "", "script": "", "pyproject.toml": "[tool.dlx-lint]\nexclude = ['x.py']\n"})
    resolver = SettingsResolver()
    explicit = [str(tmp_path / "build" / "x.py"), str(tmp_path / "script"), str(tmp_path / "build")]
    assert discovered(tmp_path, resolver, explicit) == ["build/x.py", "script"]  # each file once


def test_exclude_globs_from_the_applicable_configuration(tmp_path):
    make_tree(tmp_path, {
        "pyproject.toml": "[tool.dlx-lint]\nexclude = ['generated', '*_pb2.py']\nextend-exclude = ['legacy/old_*']\n",
        "keep.py": "", "model_pb2.py": "", "generated/a.py": "", "src/generated/b.py": "",
        "legacy/old_c.py": "", "legacy/new_d.py": "",
        "sub/pyproject.toml": "[tool.dlx-lint]\nexclude = ['only_here.py']\n",
        "sub/only_here.py": "", "sub/model_pb2.py": "",
    })
    assert discovered(tmp_path, SettingsResolver()) == ["keep.py", "legacy/new_d.py", "sub/model_pb2.py"]


def test_discovered_paths_keep_the_given_spelling(tmp_path, monkeypatch):
    make_tree(tmp_path, {"pkg/a.py": "", "b.py": ""})
    monkeypatch.chdir(tmp_path)
    assert [path for path, _ in runner.discover(["."], DEFAULTS)] == ["b.py", os.path.join("pkg", "a.py")]
    assert [path for path, _ in runner.discover(["./pkg/"], DEFAULTS)] == [os.path.join("pkg", "a.py")]


def test_missing_path_raises_before_linting(tmp_path):
    with pytest.raises(runner.PathNotFoundError, match="no_such_dir: no such file or directory"):
        runner.lint_paths([str(tmp_path), str(tmp_path / "no_such_dir")], DEFAULTS, jobs=1)


def test_undecodable_file_is_reported_and_the_others_still_linted(tmp_path):
    make_tree(tmp_path, {"bad.py": LATIN1_NO_COOKIE, "good.py": NAN_SOURCE, "binary.py": b"\x00\x01torch"})
    diagnostics = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    by_file = {(os.path.basename(d.filename), d.code) for d in diagnostics}
    assert ("bad.py", "DLX902") in by_file
    assert ("binary.py", "DLX902") in by_file
    bad = next(d for d in diagnostics if d.filename.endswith("bad.py"))
    assert "not valid utf-8" in bad.message and "line 2" in bad.message
    if "DLX016" in rules_by_code():
        assert ("good.py", "DLX016") in by_file


@needs_nan_rule
def test_latin1_file_with_coding_cookie_is_decoded(tmp_path):
    line = 'x = torch.zeros(1); café = 1; print(x == float("nan"))'
    source = f"# -*- coding: latin-1 -*-\nimport torch\n{line}\n"
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    diagnostics = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    # Decoded as Latin-1 (no DLX902), and the finding after the non-ASCII name is found.
    assert [(d.code, d.row, d.column) for d in diagnostics] == [("DLX016", 3, line.index("x ==") + 1)]


def test_unreadable_file_gives_io_error(tmp_path, monkeypatch):
    make_tree(tmp_path, {"locked.py": "import torch\n", "locked.ipynb": "{}", "other.py": LATIN1_NO_COOKIE})
    real = runner.read_bytes

    def read_bytes(path):
        if os.path.basename(path).startswith("locked"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(runner, "read_bytes", read_bytes)
    diagnostics = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    assert [(os.path.basename(d.filename), d.code, d.message) for d in diagnostics] == [
        ("locked.ipynb", "DLX902", "cannot read file: Permission denied"),
        ("locked.py", "DLX902", "cannot read file: Permission denied"),
        ("other.py", "DLX902", diagnostics[2].message),
    ]
    assert runner.lint_paths([str(tmp_path / "locked.py")], Settings(ignore=("io-error",)), jobs=1) == []


def test_chmod_000_file_gives_io_error(tmp_path):
    path = tmp_path / "secret.py"
    path.write_text("import torch\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        (diagnostic,) = runner.lint_paths([str(path)], DEFAULTS, jobs=1)
        assert diagnostic.code == "DLX902" and "Permission denied" in diagnostic.message
    finally:
        path.chmod(0o644)


def test_directory_named_like_a_python_file_is_searched_not_read(tmp_path):
    make_tree(tmp_path, {"odd.py/inner.py": LATIN1_NO_COOKIE})
    diagnostics = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    assert [(os.path.relpath(d.filename, tmp_path), d.code) for d in diagnostics] == [(os.path.join("odd.py", "inner.py"), "DLX902")]


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")


@needs_fifo
def test_named_pipe_is_reported_not_read_and_the_others_still_linted(tmp_path):
    # A FIFO called train.py used to block the run forever, waiting for a writer.
    os.mkfifo(tmp_path / "pipe.py")
    make_tree(tmp_path, {"nan.py": NAN_SOURCE})
    diagnostics = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    found = [(os.path.basename(d.filename), d.code, d.message) for d in diagnostics]
    assert ("pipe.py", "DLX902", "cannot read file: not a regular file") in found
    assert [name for name, code, _ in found if code != "DLX902"] == ["nan.py"]


@needs_fifo
def test_read_bytes_refuses_a_named_pipe_and_honours_the_limit(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(runner.NotARegularFileError):
        runner.read_bytes(str(tmp_path / "pipe.py"))
    (tmp_path / "big.py").write_bytes(b"x" * 100)
    assert runner.read_bytes(str(tmp_path / "big.py"), 10) == b"x" * 11
    with pytest.raises(IsADirectoryError):
        runner.read_bytes(str(tmp_path))


def _many_files(root, count=24):
    files = {}
    for index in range(count):
        kind = index % 4
        if kind == 0:
            files[f"pkg{index % 3}/nan_{index:02}.py"] = NAN_SOURCE
        elif kind == 1:
            files[f"pkg{index % 3}/bad_{index:02}.py"] = LATIN1_NO_COOKIE
        elif kind == 2:
            files[f"pkg{index % 3}/syntax_{index:02}.py"] = "import torch\nx = (\n"
        else:
            files[f"nb_{index:02}.ipynb"] = json.dumps({
                "nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "markdown", "metadata": {}, "source": "x"},
                          {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": NAN_SOURCE}],
            })
    make_tree(root, files)


def test_parallel_and_serial_results_are_identical(tmp_path, monkeypatch):
    _many_files(tmp_path)
    serial = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=1)
    used = []
    real = runner._lint_parallel
    monkeypatch.setattr(runner, "_lint_parallel", lambda tasks, workers: used.append(workers) or real(tasks, workers))
    parallel = runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=2)
    assert used == [2]  # worker processes were really used
    assert parallel == serial
    assert len({d.filename for d in serial}) >= 12  # every bad or syntax-error file reported at least


def test_few_files_are_linted_in_process(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a.py": LATIN1_NO_COOKIE, "b.py": LATIN1_NO_COOKIE})
    monkeypatch.setattr(runner, "_lint_parallel", lambda *a: pytest.fail("no processes for two files"))
    assert len(runner.lint_paths([str(tmp_path)], DEFAULTS, jobs=8)) == 2
