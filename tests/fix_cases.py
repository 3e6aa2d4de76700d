"""The shared check behind the per-rule fix tables (tests/test_fix_rules.py,
tests/test_deprecation_fixes.py): input, exact fixed text, applicability, and what a fix must
never do."""

from __future__ import annotations

import textwrap

from dlx_lint import Settings, lint_source
from dlx_lint.diagnostics import Applicability
from dlx_lint.fixer import fix_source, parses


def check_fix_case(code: str, source: str, expected: str | None, applicability: Applicability | None) -> None:
    """Assert that rule `code` fires on `source` and that fixing (unsafe fixes on) gives exactly
    `expected`, with fixes of `applicability`, a text that parses, only the unfixable findings
    left, and nothing more to change on a second run. `expected` None: no fix is offered."""
    source = textwrap.dedent(source).lstrip("\n")
    settings = Settings(select=(code,))
    found = lint_source("t.py", source, settings, raise_errors=True)
    assert found, f"{code} must fire on this input"
    result = fix_source("t.py", source, settings, unsafe=True)
    if expected is None:
        assert all(d.fix is None for d in found), "no fix may be offered here"
        assert result.text == source
        return
    expected = textwrap.dedent(expected).lstrip("\n")
    assert {d.fix.applicability for d in found if d.fix is not None} == {applicability}
    assert result.text == expected
    assert parses(result.text)
    unfixed = [d for d in found if d.fix is None or d.fix.applicability is Applicability.DISPLAY_ONLY]
    assert len([d for d in lint_source("t.py", result.text, settings) if d.code == code]) == len(unfixed)
    assert fix_source("t.py", result.text, settings, unsafe=True).text == result.text
