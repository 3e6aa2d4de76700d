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
