"""Shared test helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLX_SHARED_DIR", REPO.parent / "shared"))
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
        pytest.skip(f"shared cases not found at {CASES}")
    return CASES
