"""The expert hover of a position: parameter and memory estimates, and concept notes.

`expert_hover(model, row, column)` is all a front end needs (the language server calls it on
a worker thread, with the file's `HoverTargets` cached per document version):

* on the callee of a layer or module constructor call (``nn.Linear(4096, 11008)``,
  ``Net()``, ``build_model(cfg)`` with a resolver): the estimate of what it builds, in context;
* on the name of an ``nn.Module`` subclass definition, or an import / annotation naming one
  (a class of another workspace file through the model's resolver): the class's estimate with
  its ``__init__`` defaults;
* on a name that resolves to a core API with a concept note (``nn.CrossEntropyLoss``,
  ``torch.autocast``, ``clip_grad_norm_``...): the note, after the estimate if there is one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import libcst as cst

from ..positions import Span
from ..semantic.names import dotted_name
from .concepts import concept_for
from .locate import HoverTargets, Target
from .params import DEFAULT_TIME_LIMIT, Estimate, estimate_calls, estimate_class, is_candidate
from .render import render_concept, render_estimate

if TYPE_CHECKING:
    from ..semantic.classes import ClassInfo
    from ..semantic.model import SemanticModel

SEPARATOR = "\n\n---\n\n"


def expert_hover(model: "SemanticModel", row: int, column: int, *, targets: HoverTargets | None = None,
                 time_limit: float = DEFAULT_TIME_LIMIT) -> tuple[str, Span] | None:
    """Markdown for the expert hover at a position, with the span it is about, or None.

    Args:
        model: the file's semantic model (with a resolver for cross-file classes).
        row: 1-based line.
        column: 0-based column in code points.
        targets: the file's hover targets when already built (else built here).
        time_limit: seconds for the estimate (the interpretation stops there).
    """
    targets = targets if targets is not None else HoverTargets(model)
    target = targets.at(row, column)
    if target is None:
        return None
    sections = target_sections(model, target, time_limit=time_limit)
    if not sections:
        return None
    return SEPARATOR.join(sections), target.span


def target_sections(model: "SemanticModel", target: Target, *, time_limit: float = DEFAULT_TIME_LIMIT) -> list[str]:
    """The Markdown sections (estimate, concept note) for one hover target."""
    deadline = time.perf_counter() + time_limit
    sections: list[str] = []
    qualname: str | None = None
    estimate: Estimate | None = None
    if target.kind == "call":
        call = target.node
        assert isinstance(call, cst.Call)
        if isinstance(call.func, (cst.Name, cst.Attribute)):
            qualname = model.qualname(call.func)
        if is_candidate(model, call):
            estimate = estimate_calls(model, [call], time_limit=time_limit).get(call)
            if estimate is not None and estimate.exact and estimate.count == 0 and estimate.kind == "layer":
                estimate = None  # a parameter-free layer: its concept note (if any) says more
            elif estimate is not None and estimate.kind == "class" and isinstance(target.anchor, cst.Name) \
                    and target.anchor.value != estimate.label:
                estimate.label = f"{target.anchor.value}(…) → {estimate.label}"  # a builder function
    elif target.kind == "class":
        info = model.classes.get(target.node)  # type: ignore[arg-type]
        if info is not None and info.is_module:
            estimate = estimate_class(info, time_limit=time_limit)
    else:
        if target.kind == "import":
            qualname = target.qualname
        else:
            qualname = model.qualname(target.node)  # type: ignore[arg-type]
        info = _class_named(model, target, qualname)
        if info is not None and info.is_module:
            estimate = estimate_class(info, time_limit=max(0.0, deadline - time.perf_counter()))
    if estimate is not None:
        sections.append(render_estimate(estimate, here=model.path, defined_in=estimate.defined_in))
    concept = concept_for(qualname)
    if concept is not None:
        sections.append(render_concept(concept, qualname))
    return sections


def _class_named(model: "SemanticModel", target: Target, qualname: str | None) -> "ClassInfo | None":
    """The class a reference or import names: one of this file, or of another workspace file
    through the resolver."""
    if qualname is None and target.kind == "reference":
        name = dotted_name(target.node)  # type: ignore[arg-type]
        if name is not None and "." not in name:
            return model.classes_by_name.get(name)
        return None
    if qualname is None or model.resolver is None or qualname.startswith("torch."):
        return None
    definition = model.resolver.definition(model, qualname)
    if definition is None or not isinstance(definition.node, cst.ClassDef):
        return None
    return definition.model.classes.get(definition.node)
