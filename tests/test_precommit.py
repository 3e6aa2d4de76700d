"""This checkout's `.pre-commit-hooks.yaml` run by the real `pre-commit` tool.

The checkout's working tree (committed or not) is copied into a temporary git repository and
committed there, so pre-commit can install the hook from it (it builds and installs the
package into its own environment, which needs the package index or pip's cache). A second
temporary repository plays the user's project. The hook environment is built once per test
session (`PRE_COMMIT_HOME` is shared by the tests below).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pre_commit  # noqa: F401  (the `test` extra installs it: a missing tool fails, never skips)
import pytest

from .conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BAD_SCRIPT = """\
import torch
from torch import nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(loader):
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
"""
FINDING = "train.py:12:9: DLX001"

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "dlx-lint tests", "GIT_AUTHOR_EMAIL": "tests@dlx-lint.invalid",
    "GIT_COMMITTER_NAME": "dlx-lint tests", "GIT_COMMITTER_EMAIL": "tests@dlx-lint.invalid",
}
COPY_IGNORED = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".dlx_lint_cache", ".pytest_cache", ".hypothesis", "node_modules", "build", "dist")


def git(*args, cwd, env):
    return subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def environment(tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    # No system or user git configuration (signing, hooks, templates) leaks into the test
    # repositories; HOME stays, so pip's cache serves the hook environment's install.
    env.update(GIT_IDENTITY, PRE_COMMIT_HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory, environment):
    """A git repository holding this checkout's working tree in one commit: (path, sha)."""
    target = tmp_path_factory.mktemp("hook-repo") / "dlx-lint"
    listed = None
    if (REPO / ".git").exists():
        try:
            listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO, env=environment).split("\0")
        except subprocess.CalledProcessError:
            listed = None
    if listed is None:
        shutil.copytree(REPO, target, ignore=COPY_IGNORED)
    else:
        for name in filter(None, listed):
            source = REPO / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    assert (target / ".pre-commit-hooks.yaml").is_file()
    git("init", "-q", cwd=target, env=environment)
    git("add", "-A", cwd=target, env=environment)
    git("commit", "-q", "-m", "checkout under test", cwd=target, env=environment)
    return target, git("rev-parse", "HEAD", cwd=target, env=environment).strip()


@pytest.fixture
def project(tmp_path, environment):
    """The user's repository, with a README committed."""
    path = tmp_path / "project"
    path.mkdir()
    git("init", "-q", cwd=path, env=environment)
    (path / "README.md").write_text("# a project\n")
    git("add", "README.md", cwd=path, env=environment)
    git("commit", "-q", "-m", "start", cwd=path, env=environment)
    return path


def pre_commit(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def try_repo(hook_repo, *args, cwd, env):
    path, sha = hook_repo
    return pre_commit("try-repo", str(path), "dlx-lint", "--ref", sha, "--verbose", *args, cwd=cwd, env=env)


def test_hook_fails_on_a_finding_and_passes_once_suppressed_or_fixed(hook_repo, project, environment):
    script = project / "train.py"
    script.write_text(BAD_SCRIPT)
    git("add", "train.py", cwd=project, env=environment)
    failed = try_repo(hook_repo, "--files", "train.py", cwd=project, env=environment)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert FINDING in failed.stdout and "Failed" in failed.stdout

    script.write_text(BAD_SCRIPT.replace("optimizer.step()", "optimizer.step()  # noqa: DLX001"))
    git("add", "train.py", cwd=project, env=environment)
    suppressed = try_repo(hook_repo, "--files", "train.py", cwd=project, env=environment)
    assert suppressed.returncode == 0, suppressed.stdout + suppressed.stderr
    assert "Passed" in suppressed.stdout

    script.write_text(BAD_SCRIPT.replace("        loss = nn", "        optimizer.zero_grad()\n        loss = nn"))
    git("add", "train.py", cwd=project, env=environment)
    fixed = try_repo(hook_repo, "--all-files", cwd=project, env=environment)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Passed" in fixed.stdout


def test_hook_passes_when_no_python_file_is_staged(hook_repo, project, environment):
    (project / "stray.py").write_text(BAD_SCRIPT)  # present, not staged: must not be linted
    (project / "README.md").write_text("# a project\n\nMore words.\n")
    git("add", "README.md", cwd=project, env=environment)
    result = try_repo(hook_repo, cwd=project, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)" in result.stdout and "DLX001" not in result.stdout


def test_an_always_run_hook_given_no_file_lints_nothing(hook_repo, project, environment):
    """With `always_run: true` pre-commit calls the hook with no file names at all; the
    entry's --no-default-path keeps dlx-lint from linting the whole directory then."""
    path, sha = hook_repo
    (project / "stray.py").write_text(BAD_SCRIPT)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n      - id: dlx-lint\n        always_run: true\n        verbose: true\n"
    )
    git("add", ".pre-commit-config.yaml", cwd=project, env=environment)
    result = pre_commit("run", cwd=project, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dlx-lint" in result.stdout and "Passed" in result.stdout and "DLX001" not in result.stdout
    staged_bad = pre_commit("run", "--files", "stray.py", cwd=project, env=environment)
    assert staged_bad.returncode == 1 and "stray.py:12:9: DLX001" in staged_bad.stdout


def test_manifest_is_valid_and_the_fix_hook_mirrors_the_check_hook(environment):
    """pre-commit's own validator accepts both hooks. The fix hook is the check hook plus
    `--fix` (the flag arrives with the autofix engine), so it is not run here."""
    import yaml

    manifest = REPO / ".pre-commit-hooks.yaml"
    result = pre_commit("validate-manifest", str(manifest), cwd=REPO, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load(manifest.read_text())}
    assert set(hooks) == {"dlx-lint", "dlx-lint-fix"}
    check, fix = hooks["dlx-lint"], hooks["dlx-lint-fix"]
    assert check["types_or"] == fix["types_or"] == ["python", "jupyter"]
    assert check["entry"] == fix["entry"] and "--no-default-path" in check["entry"].split()
    assert fix["args"] == ["--fix"] and "args" not in check
