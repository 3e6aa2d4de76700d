"""Shapes found while triaging real code (the corpus of ../shared/corpus/build.sh): each
near-miss fixture is correct code that an earlier version reported (it must stay silent with
every rule on); each bug fixture is a real finding that must keep being reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlx_lint import Settings, lint_source

from .conftest import expected_markers

FIXTURES = Path(__file__).parent / "fixtures"
NEAR_MISSES = sorted((FIXTURES / "nearmiss").glob("*.py"))
BUGS = sorted((FIXTURES / "bugs").glob("*.py"))
ALL = Settings(select=("ALL",))


@pytest.mark.parametrize("path", NEAR_MISSES, ids=[p.stem for p in NEAR_MISSES])
def test_near_miss_is_silent(path):
    found = lint_source(str(path), path.read_text(encoding="utf-8"), ALL, raise_errors=True)
    assert [(d.row, d.code, d.message) for d in found] == []


@pytest.mark.parametrize("path", BUGS, ids=[p.stem for p in BUGS])
def test_bug_is_reported_exactly(path):
    source = path.read_text(encoding="utf-8")
    expected = expected_markers(source)
    assert expected
    found = lint_source(str(path), source, ALL, raise_errors=True)
    assert {(d.row, d.code) for d in found} == expected


def test_results_do_not_depend_on_hash_seed(tmp_path):
    """Set iteration order changes with PYTHONHASHSEED; findings must not (a DLX009 result
    once did)."""
    import json
    import os
    import subprocess
    import sys

    paths = [str(p) for p in NEAR_MISSES + BUGS]
    outputs = set()
    for seed in ("0", "1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run(
            [sys.executable, "-m", "dlx_lint", "check", "--no-cache", "--select", "ALL", "--output-format", "json", "--exit-zero", *paths],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
        )
        outputs.add(json.dumps([(d["filename"], d["location"]["row"], d["code"]) for d in json.loads(result.stdout)]))
    assert len(outputs) == 1
