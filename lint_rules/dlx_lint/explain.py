"""Renders a rule's explanation as Markdown, once, for the CLI, hovers and the docs page."""

from __future__ import annotations

import textwrap

from .diagnostics import rule_url
from .rule import FixAvailability, Rule

SECTION_TITLES = (
    ("what", "What it does"),
    ("why", "Why is this bad?"),
    ("example", "Example"),
    ("use_instead", "Use instead"),
    ("fix_safety", "Fix safety"),
    ("limitations", "Known limitations"),
)

_CODE_SECTIONS = {"example", "use_instead"}


def render_markdown(rule: Rule, *, heading_level: int = 1) -> str:
    """The full explanation of `rule` in Markdown.

    Args:
        rule: the rule.
        heading_level: level of the title heading (sections are one level deeper).
    """
    hashes = "#" * heading_level
    sub = "#" * (heading_level + 1)
    parts = [f"{hashes} {rule.code} {rule.name}", ""]
    fix = {
        FixAvailability.NEVER: "no automatic fix",
        FixAvailability.SOMETIMES: "fix sometimes available",
        FixAvailability.ALWAYS: "fix always available",
    }[rule.fix_availability]
    enabled = "enabled by default" if rule.enabled_by_default else "off by default (opt in with `--extend-select`)"
    parts.append(f"Severity: **{rule.severity.value}** · {enabled} · {fix}")
    parts.append("")
    for attribute, title in SECTION_TITLES:
        body = getattr(rule, attribute, "") or ""
        if not body.strip():
            continue
        parts.append(f"{sub} {title}")
        if attribute in _CODE_SECTIONS:
            parts.append("```python")
            parts.append(textwrap.dedent(body).strip("\n"))
            parts.append("```")
        else:
            parts.append(textwrap.dedent(body).strip())
        parts.append("")
    if rule.references:
        parts.append(f"{sub} References")
        for reference in rule.references:
            parts.append(f"- [{reference.title}]({reference.url})")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def render_hover(rule: Rule, message: str | None = None) -> str:
    """A short Markdown explanation for an editor popup: title, message, what, why, the fix
    and a link to the full text."""
    parts = [f"**{rule.code} {rule.name}** ({rule.severity.value})", ""]
    if message:
        parts += [message, ""]
    parts += [textwrap.dedent(rule.what).strip(), "", "**Why is this bad?** " + textwrap.dedent(rule.why).strip(), ""]
    if rule.use_instead.strip():
        parts += ["**Use instead:**", "```python", textwrap.dedent(rule.use_instead).strip("\n"), "```", ""]
    parts.append(f"[Full documentation]({rule_url(rule.code, rule.name)})")
    return "\n".join(parts)


def render_rules_page(rules: list[Rule]) -> str:
    """The generated documentation page listing every rule with its full explanation."""
    lines = ["# dlx-lint rules", "", "| code | name | severity | default | summary |", "|---|---|---|---|---|"]
    for rule in rules:
        default = "on" if rule.enabled_by_default else "off"
        lines.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | {rule.name} | {rule.severity.value} | {default} | {rule.summary} |")
    lines.append("")
    for rule in rules:
        lines.append(render_markdown(rule, heading_level=2))
    return "\n".join(lines)
