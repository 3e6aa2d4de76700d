"""A second real client: headless Neovim (Debian's 0.7, `vim.lsp.start_client`) opens a case
file, receives the diagnostics, hovers, and applies "Disable ... for this line".

Skipped when `nvim` is absent, except under ``DLX_REQUIRE_NVIM=1`` (set by `.ci/run`, which
installs it), where a missing `nvim` fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CASES

SCRIPT = Path(__file__).resolve().parent / "nvim" / "lsp_check.lua"
CASE_125 = CASES / "125_tabular_regressor_zero_grad_once_per_epoch.py"


def _nvim() -> str:
    nvim = shutil.which("nvim")
    if nvim is None:
        if os.environ.get("DLX_REQUIRE_NVIM") == "1":
            pytest.fail("DLX_REQUIRE_NVIM=1 but `nvim` is not installed (apt-get install neovim)")
        pytest.skip("nvim is not installed")
    return nvim


def test_neovim_receives_diagnostics_hover_and_disable_action(tmp_path):
    nvim = _nvim()
    sample = tmp_path / CASE_125.name
    shutil.copyfile(CASE_125, sample)
    env = {
        **os.environ,
        "DLX_PYTHON": sys.executable,
        "DLX_SAMPLE": str(sample),
        "DLX_LINE": "35",
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    completed = subprocess.run(
        [nvim, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {SCRIPT}"],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from nvim; stdout={completed.stdout!r} stderr={completed.stderr!r}"
    result = json.loads(lines[-1])
    assert result["diag_wait_ok"] is True
    assert [(d["code"], d["lnum"], d["col"], d["source"]) for d in result["diagnostics"]] == [("DLX001", 35, 12, "dlx-lint")]
    assert "missing-zero-grad" in result["hover"]
    assert "Disable DLX001 for this line" in result["actions"]
    assert result["line_after_action"] == "            optimizer.step()  # expect: DLX001  # noqa: DLX001"
    assert result["cleared"] is True
