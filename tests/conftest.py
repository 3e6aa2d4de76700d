"""Shared test helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _find_shared() -> Path:
    """The read-only shared folder (labelled cases, corpus script): $DLX_SHARED_DIR, else
    ``../shared`` next to the checkout, else the workplace's fixed location."""
    candidates = [os.environ.get("DLX_SHARED_DIR"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "cases").is_dir():
            return Path(candidate)
    return REPO.parent / "shared"


SHARED = _find_shared()
CASES = SHARED / "cases"

MARKER = re.compile(r"^(?P<code>.*\S)\s+#\s*expect:\s*(?P<rules>DLX\d{3}(?:\s*,\s*DLX\d{3})*)\s*$")


def expected_markers(source: str) -> set[tuple[int, str]]:
    """(row, code) pairs marked with a trailing `# expect: DLXnnn` comment."""
    found = set()
    for row, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = MARKER.match(line)
        if match:
            for code in re.split(r"\s*,\s*", match.group("rules")):
                found.add((row, code))
    return found


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    if not CASES.is_dir():
        if os.environ.get("DLX_SKIP_SHARED_CASES") == "1":
            pytest.skip(f"shared cases not found at {CASES}")
        pytest.fail(f"shared cases not found at {CASES}; set DLX_SHARED_DIR (or DLX_SKIP_SHARED_CASES=1)")
    return CASES
