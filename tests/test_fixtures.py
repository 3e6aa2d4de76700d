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
