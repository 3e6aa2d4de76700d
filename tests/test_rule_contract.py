"""Contract over every rule module: identity, explanation sections, and examples that behave
as marked (bad examples fire exactly on their `# expect:` lines, good examples are silent)."""

from __future__ import annotations

import re
import textwrap

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.explain import render_markdown
from dlx_lint.registry import all_rules

from .conftest import expected_markers

RULES = all_rules()
# Meta rules reported by the engine or runner on unparsable or unreadable files: no snippet
# can show them through `lint_source` of parsable text.
META = {"DLX900", "DLX902"}


def example_settings(rule) -> Settings:
    """The rule alone, except DLX901 unused-noqa: it judges the `# noqa` directives of the
    other rules, and with no other rule enabled no code would be checkable, so its examples
    run with the default rules plus DLX901 (and must then trigger nothing else)."""
    if rule.code == "DLX901":
        return Settings(extend_select=(rule.code,))
    return Settings(select=(rule.code,))


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"DLX\d{3}", rule.code), rule.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_explanation_has_required_sections(rule):
    text = render_markdown(rule)
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead"):
        assert f"## {heading}" in text, f"{rule.code} lacks {heading}"
    assert rule.summary.strip()
    assert rule.references, f"{rule.code} cites no source"
    for reference in rule.references:
        assert reference.url.startswith("https://"), reference.url


CHECKED = [r for r in RULES if r.code not in META]


@pytest.mark.parametrize("rule", CHECKED, ids=[r.code for r in CHECKED])
def test_rule_has_examples(rule):
    assert rule.bad_examples, f"{rule.code} has no bad example"
    assert rule.good_examples, f"{rule.code} has no good example"


def _example_params(kind):
    params = []
    for rule in CHECKED:
        for index, snippet in enumerate(getattr(rule, kind)):
            params.append(pytest.param(rule, textwrap.dedent(snippet), id=f"{rule.code}-{kind}-{index}"))
    return params


@pytest.mark.parametrize("rule,snippet", _example_params("bad_examples"))
def test_bad_example_fires_exactly_where_marked(rule, snippet):
    expected = {(row, code) for row, code in expected_markers(snippet) if code == rule.code}
    assert expected, "a bad example must mark at least one line for its own rule"
    found = lint_source("example.py", snippet, example_settings(rule), raise_errors=True)
    assert {(d.row, d.code) for d in found} == expected


@pytest.mark.parametrize("rule,snippet", _example_params("good_examples"))
def test_good_example_is_silent(rule, snippet):
    found = lint_source("example.py", snippet, example_settings(rule), raise_errors=True)
    assert found == []


# ------------------------------------------------------------------------------------ fixes

from dlx_lint.diagnostics import Applicability  # noqa: E402
from dlx_lint.fixer import fix_source, parses  # noqa: E402
from dlx_lint.fixes.apply import apply_edits  # noqa: E402
from dlx_lint.rule import FixAvailability  # noqa: E402

FIXABLE = [r for r in CHECKED if r.fix_availability is not FixAvailability.NEVER]


def _own(rule, snippet):
    return lint_source("example.py", snippet, Settings(select=(rule.code,)), raise_errors=True)


@pytest.mark.parametrize("rule", CHECKED, ids=[r.code for r in CHECKED])
def test_declared_fix_availability_matches_the_bad_examples(rule):
    findings = [d for snippet in rule.bad_examples for d in _own(rule, textwrap.dedent(snippet))]
    with_fix = [d for d in findings if d.fix is not None]
    if rule.fix_availability is FixAvailability.NEVER:
        assert not with_fix, "declared NEVER but a bad example has a fix"
        assert not rule.fixed_examples
    elif rule.fix_availability is FixAvailability.ALWAYS:
        assert len(with_fix) == len(findings), "declared ALWAYS but a bad example finding has no fix"
    else:
        assert with_fix, "declared SOMETIMES but no bad example has a fix"
    for d in with_fix:
        assert d.fix.message.strip(), "a fix needs a title"
        expected = rule.fix_applicability or Applicability.SAFE
        # A rule may override its default per occurrence, but only in the direction it documents.
        if d.fix.applicability is not expected:
            assert rule.fix_safety.strip(), f"{rule.code} varies its applicability without a Fix safety section"


@pytest.mark.parametrize("rule", CHECKED, ids=[r.code for r in CHECKED])
def test_unsafe_fixes_are_explained(rule):
    unsafe = rule.fix_applicability in (Applicability.UNSAFE, Applicability.DISPLAY_ONLY)
    if unsafe:
        assert rule.fix_safety.strip(), f"{rule.code} has an unsafe fix but no Fix safety section"
        assert "## Fix safety" in render_markdown(rule)


@pytest.mark.parametrize("rule", FIXABLE, ids=[r.code for r in FIXABLE])
def test_every_bad_example_declares_its_fixed_text(rule):
    assert len(rule.fixed_examples) == len(rule.bad_examples), "one fixed example per bad example"


def _fixed_params():
    params = []
    for rule in FIXABLE:
        for index, (bad, fixed) in enumerate(zip(rule.bad_examples, rule.fixed_examples)):
            params.append(pytest.param(rule, textwrap.dedent(bad), textwrap.dedent(fixed), id=f"{rule.code}-fixed-{index}"))
    return params


@pytest.mark.parametrize("rule,bad,fixed", _fixed_params())
def test_fix_produces_the_declared_text(rule, bad, fixed):
    settings = Settings(select=(rule.code,))
    result = fix_source("example.py", bad, settings, unsafe=True)
    assert not result.errors
    assert result.text == fixed
    assert parses(result.text)
    before = _own(rule, bad)
    after = _own(rule, result.text)
    # What had a fix is gone; what had none (or a display-only one) is still reported.
    assert len(after) == len([d for d in before if d.fix is None or d.fix.applicability is Applicability.DISPLAY_ONLY])
    # Idempotent: fixing the fixed text changes nothing.
    again = fix_source("example.py", result.text, settings, unsafe=True)
    assert again.text == result.text and not again.applied


@pytest.mark.parametrize("rule,bad,fixed", _fixed_params())
def test_every_offered_fix_parses_when_applied_alone(rule, bad, fixed):
    # Display-only fixes are never applied by --fix; an editor user may still apply one.
    for d in _own(rule, bad):
        if d.fix is not None:
            assert parses(apply_edits(bad, d.fix.edits)), d.fix


# The explanation's Example and Use instead are excerpts printed by `dlx-lint rule` and on
# hover; with the usual imports they must show what they claim. Rules that judge a whole
# script (it trains, so it should be deterministic / multi-process / free of anomaly mode)
# cannot be shown in a few lines: their Example is the offending line alone.
DOC_IMPORTS = (
    "import numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
    "from torch.utils.data import DataLoader, Dataset\n"
)
WHOLE_SCRIPT = {"DLX027", "DLX101", "DLX105"}
DOCUMENTED = [r for r in CHECKED if r.code not in WHOLE_SCRIPT]


@pytest.mark.parametrize("rule", DOCUMENTED, ids=[r.code for r in DOCUMENTED])
def test_explanation_example_fires_and_use_instead_does_not(rule):
    settings = example_settings(rule)
    example = [d.code for d in lint_source("example.py", DOC_IMPORTS + textwrap.dedent(rule.example), settings)]
    fixed = [d.code for d in lint_source("example.py", DOC_IMPORTS + textwrap.dedent(rule.use_instead), settings)]
    assert rule.code in example, f"{rule.code}: its Example does not trigger it"
    assert rule.code not in fixed, f"{rule.code}: its Use instead still triggers it"
