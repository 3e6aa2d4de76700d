"""Markdown for expert hovers: parameter/memory estimates and concept notes.

The same text serves every client (VS Code renders the tables; plain-text clients get it
verbatim), so it stays compact: a headline with the count, the formula and its source, a memory
table, the assumptions, and what is not static.
"""

from __future__ import annotations

import os
import re

from ..diagnostics import rule_url
from .concepts import Concept
from .memory import ADAM_TRAINING_BYTES, PRECISIONS, format_bytes, format_count, training_bytes, weight_bytes
from .params import Estimate

_RULE_CODE = re.compile(r"\bDLX\d{3}\b")
_MAX_PARTS = 12
_MAX_LIST = 6

MEMORY_NOTE = (
    f"Training with Adam/AdamW = fp32 weights + gradients + the two Adam moments = {ADAM_TRAINING_BYTES} bytes per "
    "parameter. Activations (they grow with batch and sequence size), buffers and framework overhead are not included."
)
COUNT_NOTE = "Counted as `sum(p.numel() for p in module.parameters())` reports it: every parameter, trainable or frozen."


def render_estimate(estimate: Estimate, *, here: str | None = None, defined_in: str | None = None) -> str:
    """The hover section for a parameter estimate.

    Args:
        estimate: what `dlx_lint.expert.params` computed.
        here: the hovered file's path (a class defined elsewhere names its file).
        defined_in: the path of the file defining the estimated class, when known.
    """
    lines: list[str] = []
    count = estimate.count
    if estimate.exact:
        headline = f"**{format_count(count)} parameters**"
    elif count == 0:
        headline = "**parameter count not static**"
    else:
        headline = f"**at least {format_count(count)} parameters** (not every size is static)"
    where = ""
    if defined_in and (here is None or os.path.abspath(defined_in) != os.path.abspath(here)):
        where = f" (defined in `{os.path.basename(defined_in)}`)"
    lines.append(f"`{estimate.label}`{where}: {headline}")
    if estimate.times > 1:
        if not estimate.label.endswith("different sizes)"):
            lines.append(f"Built {estimate.times} times here: {estimate.times} × {count:,} = {estimate.times * count:,} parameters.")
    if estimate.formula:
        source = f" ([PyTorch docs]({estimate.url}))" if estimate.url else ""
        lines.append(f"Formula: {estimate.formula}{source}")
    elif estimate.url and estimate.kind in ("container", "layer", "opaque"):
        lines.append(f"[PyTorch docs]({estimate.url})")
    if estimate.parts and estimate.kind in ("class", "container", "object"):
        lines.append(_parts_table(estimate))
    if count:
        lines.append(_memory_table(estimate.times * count if estimate.times > 1 and not estimate.label.endswith("different sizes)") else count,
                                   exact=estimate.exact))
        lines.append(MEMORY_NOTE)
    if estimate.assumptions:
        lines.append("Assumed: " + _join(estimate.assumptions) + ".")
    for note in estimate.notes:
        lines.append(f"Note: {note}.")
    if estimate.missing:
        shown = estimate.missing[:_MAX_LIST]
        more = len(estimate.missing) - len(shown)
        lines.append("Not static (not counted):\n" + "\n".join(f"- {m}" for m in shown) + (f"\n- and {more} more" if more > 0 else ""))
    if estimate.stopped:
        lines.append(f"The analysis stopped early ({estimate.stopped}); the count covers what was reached.")
    lines.append(COUNT_NOTE)
    return "\n\n".join(lines)


def _parts_table(estimate: Estimate) -> str:
    rows = ["| submodule | parameters |", "|---|---:|"]
    for part in estimate.parts[:_MAX_PARTS]:
        label = part.label if len(part.label) <= 48 else part.label[:47] + "…"
        value = f"{part.count:,}" + ("" if part.exact else " +?")
        rows.append(f"| `{part.name}` {_cell(label)} | {value} |")
    rest = estimate.parts[_MAX_PARTS:]
    if rest:
        rows.append(f"| {len(rest)} more | {sum(p.count for p in rest):,} |")
    return "\n".join(rows)


def _cell(label: str) -> str:
    return "`" + label.replace("|", "\\|").replace("`", "'") + "`"


def _memory_table(count: int, *, exact: bool) -> str:
    prefix = "" if exact else "≥ "
    rows = ["| memory | |", "|---|---:|"]
    for name, size in PRECISIONS:
        rows.append(f"| weights, {name} | {prefix}{format_bytes(weight_bytes(count, size))} |")
    rows.append(f"| training with Adam (16 B/param) | {prefix}{format_bytes(training_bytes(count))} |")
    return "\n".join(rows)


def _join(items: list[str]) -> str:
    shown = items[:_MAX_LIST]
    text = "; ".join(shown)
    if len(items) > len(shown):
        text += f"; and {len(items) - len(shown)} more"
    return text


def link_rules(text: str) -> str:
    """Turn every ``DLXnnn`` that names a rule into a link to its documentation."""
    from ..registry import find_rule

    def replace(match: re.Match) -> str:
        rule = find_rule(match.group())
        if rule is None:
            return match.group()
        return f"[{rule.code}]({rule_url(rule.code, rule.name)})"

    return _RULE_CODE.sub(replace, text)


def render_concept(concept: Concept, qualname: str | None = None) -> str:
    """The hover section for a concept note."""
    heading = f"**{concept.title}**" + (f" (`{qualname}`)" if qualname else "")
    parts = [heading, concept.computes]
    if concept.mistakes:
        parts.append("Common mistakes:\n" + "\n".join(f"- {link_rules(m)}" for m in concept.mistakes))
    if concept.sources:
        parts.append("Sources: " + ", ".join(f"[{s.title}]({s.url})" for s in concept.sources))
    return "\n\n".join(parts)
