"""The composite GitHub Action (`action.yml`): its shape, and its check script run here the way
the runner runs it (GitHub itself cannot be reached from the tests)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
SCRIPT = REPO / "scripts" / "github_action_check.sh"
BAD = "import torch\n\ndef f(p):\n    return torch.load(p)\n"  # DLX025


def steps():
    return ACTION["runs"]["steps"]


def step_using(prefix):
    (step,) = [s for s in steps() if s.get("uses", "").startswith(prefix)]
    return step


def test_action_is_composite_and_installs_this_revision():
    assert ACTION["runs"]["using"] == "composite"
    assert step_using("actions/setup-python@")["with"]["python-version"] == "${{ inputs.python-version }}"
    install = next(s for s in steps() if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}" and '"$ACTION_PATH"' in install["run"]
    check = next(s for s in steps() if s.get("id") == "check")
    assert "scripts/github_action_check.sh" in check["run"]
    assert SCRIPT.is_file() and os.access(SCRIPT, os.X_OK)
    upload = step_using("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert steps().index(upload) > steps().index(check)


def test_every_referenced_input_and_output_exists():
    text = (REPO / "action.yml").read_text()
    referenced = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert referenced == set(ACTION["inputs"])
    written = set(re.findall(r'echo "([a-z-]+)=', SCRIPT.read_text()))
    assert set(re.findall(r"steps\.check\.outputs\.([a-z-]+)", text)) <= written
    for step in steps():
        assert "${{ inputs." not in step.get("run", ""), "inputs reach scripts through env, not by text substitution"


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.py").write_text(BAD)
    (tmp_path / "clean.py").write_text("import torch\n\nx = torch.zeros(3)\n")
    return tmp_path


def run_script(workspace, args, **extra):
    outputs = workspace / "github_output"
    outputs.write_text("")
    env = dict(os.environ, DLX_LINT_PYTHON=sys.executable, DLX_LINT_ARGS=args, GITHUB_OUTPUT=str(outputs), **extra)
    process = subprocess.run(["bash", str(SCRIPT)], cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return process, values


pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def test_script_writes_sarif_annotates_and_reports_the_status(workspace):
    process, values = run_script(workspace, "src clean.py\n  --select DLX025\n", DLX_LINT_SARIF="reports/out.sarif")
    assert process.returncode == 0, process.stderr
    assert values == {"exit-code": "1", "sarif-file": "reports/out.sarif"}
    log = json.loads((workspace / "reports" / "out.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DLX025"]
    annotations = [line for line in process.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1 and annotations[0].startswith("::warning title=dlx-lint (DLX025),file=")


def test_script_on_clean_code_and_without_annotations(workspace):
    process, values = run_script(workspace, "clean.py", DLX_LINT_ANNOTATE="false")
    assert process.returncode == 0 and values["exit-code"] == "0"
    assert (workspace / "dlx-lint.sarif").is_file() and "::" not in process.stdout


def test_script_fails_on_a_usage_error(workspace):
    process, values = run_script(workspace, "missing_dir")
    assert process.returncode == 2 and values["exit-code"] == "2"
    assert "missing_dir: no such file or directory" in process.stderr
    assert "::error title=dlx-lint::" in process.stdout
