"""The generated rule documentation matches the rule modules."""

from pathlib import Path

from dlx_lint.explain import render_rules_page
from dlx_lint.registry import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_rules_page_is_current():
    expected = render_rules_page(list(all_rules()))
    assert DOCS.read_text(encoding="utf-8") == expected, "run: python scripts/generate_rule_docs.py"


def test_every_rule_url_anchor_exists_in_the_page():
    text = DOCS.read_text(encoding="utf-8")
    for rule in all_rules():
        assert f"## {rule.code} {rule.name}" in text
