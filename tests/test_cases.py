"""Every labelled case in ../shared/cases: each `# expect:` marker is reported on that line
with that code, and nothing else is reported. A marker for a rule that is not implemented yet
is an expected failure naming that rule, never a silent skip."""

from __future__ import annotations

import json

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.registry import rules_by_code

from .conftest import CASES, expected_markers

ALL_RULES = Settings(select=("ALL",))

CASE_FILES = sorted(CASES.glob("*.py")) if CASES.is_dir() else []


def _lint(path):
    source = path.read_text(encoding="utf-8")
    return source, lint_source(str(path), source, ALL_RULES, raise_errors=True)


def _marker_params():
    params = []
    for path in CASE_FILES:
        for row, code in sorted(expected_markers(path.read_text(encoding="utf-8"))):
            marks = []
            if code not in rules_by_code():
                marks.append(pytest.mark.xfail(reason=f"{code} is not implemented yet", strict=True))
            params.append(pytest.param(path, row, code, id=f"{path.stem}:{row}:{code}", marks=marks))
    return params


@pytest.mark.parametrize("path,row,code", _marker_params())
def test_marker_is_reported(path, row, code):
    _, diagnostics = _lint(path)
    reported = {(d.row, d.code) for d in diagnostics}
    assert (row, code) in reported, f"{code} expected on line {row}; got {sorted(reported)}"


def labelled_codes(path) -> set[str]:
    """The codes a case file is labelled for (shared/cases/README.md): the first-edition rules
    DLX001-DLX027 and the deprecation placeholders DLX301-DLX304 everywhere; the second-edition
    rules DLX028-DLX033 only in 125-148 and 217-224, which were checked by hand for them.
    Performance hints (DLX1xx) and meta codes are not labelled in the cases."""
    codes = {f"DLX{n:03d}" for n in range(1, 28)} | {f"DLX{n}" for n in range(301, 305)}
    number = int(path.name[:3])
    if 125 <= number <= 148 or 217 <= number <= 224:
        codes |= {f"DLX{n:03d}" for n in range(28, 34)}
    return codes


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_nothing_unexpected(path):
    source, diagnostics = _lint(path)
    expected = expected_markers(source)
    labelled = labelled_codes(path)
    unexpected = [
        (d.row, d.code, d.message)
        for d in diagnostics
        if (d.row, d.code) not in expected and d.code in labelled
    ]
    assert not unexpected, f"unexpected findings: {unexpected}"


def test_syntax_error_case_reports_one_parse_error_and_nothing_else(cases_dir):
    path = cases_dir / "301_hard_syntax_error_unclosed_call.py"
    _, diagnostics = _lint(path)
    assert [d.code for d in diagnostics] == ["DLX900"]
    assert diagnostics[0].message == "SyntaxError: '(' was never closed"
    # The header says the call opened on line 19 is never closed: reported at its bracket.
    line = path.read_text(encoding="utf-8").splitlines()[18]
    assert (diagnostics[0].row, diagnostics[0].column) == (19, line.rindex("(") + 1)


def test_cases_are_present(cases_dir):
    # Guards against a silent pass when the shared folder is missing (no parameters at all).
    assert len(CASE_FILES) >= 70


def test_case_headers_agree_with_markers():
    # The `expected:` header restates the markers; a drifting header means a broken case file.
    for path in CASE_FILES:
        source = path.read_text(encoding="utf-8")
        header = next((l for l in source.splitlines() if l.startswith("# expected:")), None)
        if header is None:
            continue
        text = header.split(":", 1)[1].strip()
        listed = set() if text == "none" else {
            (int(item.split(":")[0]), item.split(":")[1]) for item in (p.strip() for p in text.split(","))
        }
        assert listed == expected_markers(source), path.name
