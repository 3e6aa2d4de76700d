"""Concept notes on core deep-learning APIs, written once in ``dlx_lint/data/concepts.toml``.

Each note says what the API computes (with its formula), the common mistakes and the dlx-lint
rules that catch them, and the primary sources. `concept_for` finds the note for a qualified
name as `SemanticModel.qualname` spells it (``torch.nn.CrossEntropyLoss``).
"""

from __future__ import annotations

import fnmatch
import functools
import sys
from dataclasses import dataclass
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Source:
    """A primary source: a paper or a documentation page."""

    title: str
    url: str


@dataclass(frozen=True)
class Concept:
    """One note.

    Attributes:
        key: a stable identifier (``cross-entropy``).
        title: the heading.
        names: fnmatch patterns of the qualified names it applies to.
        computes: what it computes, with the formula (Markdown).
        mistakes: common mistakes (Markdown; rule codes are linked when rendered).
        sources: primary sources.
    """

    key: str
    title: str
    names: tuple[str, ...]
    computes: str
    mistakes: tuple[str, ...]
    sources: tuple[Source, ...]


@functools.lru_cache(maxsize=1)
def all_concepts() -> tuple[Concept, ...]:
    """Every note of the data file, in file order.

    Raises:
        KeyError, TypeError: the data file is malformed (a test loads it).
    """
    data = resources.files("dlx_lint").joinpath("data", "concepts.toml").read_bytes()
    table = tomllib.loads(data.decode("utf-8"))
    concepts = []
    for entry in table["concept"]:
        concepts.append(Concept(
            key=entry["key"],
            title=entry["title"],
            names=tuple(entry["names"]),
            computes=entry["computes"].strip(),
            mistakes=tuple(entry.get("mistakes", ())),
            sources=tuple(Source(s["title"], s["url"]) for s in entry.get("sources", ())),
        ))
    return tuple(concepts)


@functools.lru_cache(maxsize=512)
def concept_for(qualname: str | None) -> Concept | None:
    """The note for a qualified name, or None."""
    if not qualname or not qualname.startswith("torch."):
        return None
    for concept in all_concepts():
        if any(fnmatch.fnmatchcase(qualname, pattern) for pattern in concept.names):
            return concept
    return None
