"""Writes docs/rules.md from the rule modules (the text `dlx-lint rule CODE` prints)."""

from pathlib import Path

from dlx_lint.explain import render_rules_page
from dlx_lint.registry import all_rules

TARGET = Path(__file__).resolve().parent.parent / "docs" / "rules.md"

if __name__ == "__main__":
    TARGET.write_text(render_rules_page(list(all_rules())), encoding="utf-8")
    print(f"wrote {TARGET}")
