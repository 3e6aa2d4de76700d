"""Everything that writes a user's file (``--fix``, ``--add-noqa``) or dlx-lint's own (the
cache): concurrent runs, a file changed between read and write, a read-only file, a symbolic
link out of the project, and a full disk. In every case nothing is half-written, no temporary
file is left behind, the original stays intact, and the run reports it in one line.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlx_lint import Settings, atomic, cli
from dlx_lint.cache import Cache
from dlx_lint.fixer import parses
from dlx_lint.fixes.files import fix_file

ALL = Settings(select=("ALL",))
BUG = "import torch\nx = torch.zeros(3)\nx.cuda()\n"  # DLX020, a safe fix
FIXED = "import torch\nx = torch.zeros(3)\nx = x.cuda()\n"
LOAD = "import torch\n\n\ndef f(p):\n    return torch.load(p)\n"  # DLX025 on row 5
LOAD_NOQA = "import torch\n\n\ndef f(p):\n    return torch.load(p)  # noqa: DLX025\n"


def run(capsys, *args):
    code = cli.main(["check", "--no-cache", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def leftovers(folder: Path) -> list[Path]:
    """Temporary files of an atomic write (``.<name>.<random>.dlx-lint-tmp``)."""
    return [p for p in folder.rglob("*") if p.name.endswith(atomic.TEMPORARY_SUFFIX)]


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(root)
    return root


# ------------------------------------------------------------------------ concurrent --fix runs


def _tree(root: Path, cases_dir: Path) -> None:
    source = root / "src"
    source.mkdir()
    for path in sorted(cases_dir.glob("1*.py")):
        (source / path.name).write_bytes(path.read_bytes())  # the shared copies are read-only
    for index in range(20):
        (source / f"gen_{index:02}.py").write_text(BUG.replace("(3)", f"({index + 1})") + f"y = torch.load('{index}')\n")


def test_concurrent_fix_runs_fix_every_file_exactly_once(tmp_path, cases_dir):
    expected_root = tmp_path / "expected"
    expected_root.mkdir()
    _tree(expected_root, cases_dir)
    subprocess.run([sys.executable, "-m", "dlx_lint", "check", "--fix", "--no-cache", "--exit-zero", "src"],
                   cwd=expected_root, check=True, capture_output=True, timeout=120)
    expected = {p.name: p.read_bytes() for p in (expected_root / "src").iterdir()}
    assert sum(1 for name, data in expected.items() if name.startswith("1") and data != (cases_dir / name).read_bytes()) > 10

    for round_ in range(3):
        root = tmp_path / f"round{round_}"
        root.mkdir()
        _tree(root, cases_dir)
        command = [sys.executable, "-m", "dlx_lint", "check", "--fix", "--no-cache", "--jobs", "2", "src"]
        processes = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode in (0, 1), err
            assert b"Traceback" not in err + out
            # The loser of a race on a file says so in one line and leaves it to the winner.
            for line in err.decode().splitlines():
                assert line.endswith("changed on disk while it was being fixed; not written"), line
        after = {p.name: p.read_bytes() for p in (root / "src").iterdir()}
        assert after == expected  # each file holds the fix of its original, applied once
        assert all(parses(data.decode()) for data in after.values())
        assert not leftovers(root)


# -------------------------------------------------------------- a file changed between read and write


def test_a_change_during_the_write_itself_is_not_overwritten(tmp_path, monkeypatch):
    # The last check happens after the temporary file is written: a save by an editor while
    # dlx-lint was writing (simulated inside fsync) wins, and the temporary file goes away.
    path = tmp_path / "a.py"
    path.write_text(BUG)
    real_fsync = os.fsync

    def edit_during_fsync(descriptor):
        real_fsync(descriptor)
        path.write_text(BUG + "# saved by the editor meanwhile\n")

    monkeypatch.setattr(atomic.os, "fsync", edit_during_fsync)
    outcome = fix_file(str(path), ALL, unsafe=False, write=True, want_diff=False)
    assert not outcome.written and outcome.problem == atomic.CHANGED
    assert path.read_text() == BUG + "# saved by the editor meanwhile\n"
    assert not leftovers(tmp_path)


def test_add_noqa_leaves_a_file_edited_after_it_was_linted(project, capsys, monkeypatch):
    # The directives belong to the rows of the linted bytes: a file edited in between (a line
    # inserted above the finding) must not get a comment on the wrong line.
    from dlx_lint import runner

    path = project / "a.py"
    path.write_text(LOAD)
    real = runner.lint_files_keyed

    def lint_then_edit(*args, **kwargs):
        results = real(*args, **kwargs)
        path.write_text("# a new first line\n" + LOAD)
        return results

    monkeypatch.setattr(runner, "lint_files_keyed", lint_then_edit)
    code, _, err = run(capsys, "--add-noqa", "a.py")
    assert code == 0
    assert "a.py: changed on disk since it was linted; not edited" in err
    assert "Added 0 noqa directives." in err
    assert path.read_text() == "# a new first line\n" + LOAD


# ------------------------------------------------------------------------------ read-only files


def test_a_read_only_file_is_reported_and_the_others_are_fixed(project, capsys):
    (project / "a.py").write_text(BUG)
    (project / "locked.py").write_text(BUG)
    (project / "z.py").write_text(BUG)
    os.chmod(project / "locked.py", 0o444)
    code, out, err = run(capsys, "--fix", ".")
    assert code == 1
    assert err == "dlx-lint: error: locked.py: read-only file; not written\n"
    assert "locked.py:3:1: DLX020" in out  # still reported, with its fix
    assert (project / "locked.py").read_text() == BUG and (project / "locked.py").stat().st_mode & 0o777 == 0o444
    assert (project / "a.py").read_text() == FIXED and (project / "z.py").read_text() == FIXED
    assert not leftovers(project)


def test_add_noqa_skips_a_read_only_file(project, capsys):
    (project / "a.py").write_text(LOAD)
    (project / "locked.py").write_text(LOAD)
    os.chmod(project / "locked.py", 0o444)
    code, _, err = run(capsys, "--add-noqa", ".")
    assert code == 0
    assert "dlx-lint: warning: locked.py: read-only file; not written" in err and "Added 1 noqa directive." in err
    assert (project / "locked.py").read_text() == LOAD and (project / "a.py").read_text() == LOAD_NOQA


# ------------------------------------------------------------------ symbolic links out of the project


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_fix_does_not_write_through_a_link_out_of_the_project(project, outside, capsys):
    (outside / "real.py").write_text(BUG)
    (outside / "package").mkdir()
    (outside / "package" / "module.py").write_text(BUG)
    (project / "link.py").symlink_to(outside / "real.py")
    (project / "linked_dir").symlink_to(outside / "package")  # a folder link: its files too
    (project / "inside.py").write_text(BUG)
    (project / "inside_link.py").symlink_to(project / "inside.py")
    code, out, err = run(capsys, "--fix", ".")
    assert code == 1
    assert sorted(err.splitlines()) == [
        f"dlx-lint: error: link.py: a symbolic link to {outside / 'real.py'}, outside the project ({project}); not written",
        f"dlx-lint: error: {os.path.join('linked_dir', 'module.py')}: a symbolic link to {outside / 'package' / 'module.py'}, "
        f"outside the project ({project}); not written",
    ]
    assert (outside / "real.py").read_text() == BUG and (outside / "package" / "module.py").read_text() == BUG
    assert (project / "link.py").is_symlink() and (project / "linked_dir").is_symlink()
    assert (project / "inside.py").read_text() == FIXED and (project / "inside_link.py").is_symlink()
    assert not leftovers(project) and not leftovers(outside)


def test_add_noqa_keeps_links_and_does_not_write_out_of_the_project(project, outside, capsys):
    # It used to replace a link by a regular file (os.replace on the link's own path).
    (outside / "real.py").write_text(LOAD)
    (project / "link.py").symlink_to(outside / "real.py")
    (project / "inside.py").write_text(LOAD)
    (project / "inside_link.py").symlink_to("inside.py")
    code, _, err = run(capsys, "--add-noqa", "link.py", "inside_link.py")
    assert code == 0
    assert f"link.py: a symbolic link to {outside / 'real.py'}, outside the project ({project}); not written" in err
    assert (outside / "real.py").read_text() == LOAD and (project / "link.py").is_symlink()
    assert (project / "inside_link.py").is_symlink() and (project / "inside.py").read_text() == LOAD_NOQA


def test_project_root():
    assert atomic.project_root("/no/such/dir/a.py", "/no/such") == "/no/such"
    here = os.getcwd()
    assert atomic.project_root(os.path.join(here, "tests", "x.py")) == here  # the checkout's pyproject.toml


# ------------------------------------------------------------------------------------ a full disk


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _HalfWriter:
    """A file object whose write stores half the data, then fails as a full disk does."""

    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        _no_space()

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)


def _fail_at(monkeypatch, step: str) -> None:
    if step == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _HalfWriter(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(atomic.os, step, _no_space)


STEPS = ["write", "fsync", "replace"]


@pytest.mark.parametrize("step", STEPS)
def test_fix_on_a_full_disk_leaves_the_original(project, capsys, monkeypatch, step):
    (project / "a.py").write_text(BUG)
    _fail_at(monkeypatch, step)
    code, out, err = run(capsys, "--fix", "a.py")
    assert code == 1 and err == "dlx-lint: error: a.py: cannot write: No space left on device\n"
    assert "a.py:3:1: DLX020" in out
    assert (project / "a.py").read_text() == BUG and not leftovers(project)


@pytest.mark.parametrize("step", STEPS)
def test_add_noqa_on_a_full_disk_leaves_the_original(project, capsys, monkeypatch, step):
    (project / "a.py").write_text(LOAD)
    _fail_at(monkeypatch, step)
    code, _, err = run(capsys, "--add-noqa", "a.py")
    assert code == 0 and "a.py: cannot write: No space left on device" in err and "Added 0 noqa directives." in err
    assert (project / "a.py").read_text() == LOAD and not leftovers(project)


@pytest.mark.parametrize("step", STEPS)
def test_the_cache_on_a_full_disk_keeps_its_previous_contents(project, capsys, monkeypatch, step):
    (project / "a.py").write_text(BUG)
    assert cli.main(["check", "--quiet", "a.py"]) == 1
    capsys.readouterr()
    (cache_file,) = project.rglob("results-*.json")
    before = cache_file.read_bytes()
    (project / "b.py").write_text(LOAD)  # a new entry to save
    _fail_at(monkeypatch, step)
    assert cli.main(["check", "--quiet", "a.py", "b.py"]) == 1
    err = capsys.readouterr().err
    assert err == f"dlx-lint: warning: cannot write the cache in {project / '.dlx_lint_cache'}: No space left on device\n"
    assert cache_file.read_bytes() == before and json.loads(before)
    assert not leftovers(project)


def test_write_atomic_cleans_up_after_any_failure(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    path.write_bytes(b"old")
    _fail_at(monkeypatch, "replace")
    with pytest.raises(OSError):
        atomic.write_atomic(str(path), b"new")
    assert path.read_bytes() == b"old" and not leftovers(tmp_path)
    cache = Cache(str(tmp_path / "c"))
    cache.store("x.py", "k", [])
    cache.save()  # prints a warning, raises nothing
