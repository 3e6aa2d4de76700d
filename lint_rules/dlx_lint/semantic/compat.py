"""Compatibility fallbacks: a deprecated API used deliberately next to its replacement.

Code that supports old and new PyTorch releases picks one spelling at run time. Found in the
corpus triage (benchmarks/compare_torchfix.py), these shapes are correct code and the DLX3xx
symbol rules stay silent on them:

- the other arm of the same choice uses the replacement: ``torch.amp.GradScaler(...) if
  _TORCH_GREATER_EQUAL_2_4 else torch.cuda.amp.GradScaler()``, or ``if version <= 1.7:
  outer = torch.ger`` / ``else: outer = torch.outer`` (if/else, conditional expression);
- ``try:`` the replacement ``except (ImportError, AttributeError, ...):`` the deprecated one
  (or the other way round): ``try: from torch import vmap`` / ``except ImportError: from
  functorch import vmap``;
- a default that is overridden in the same scope when the replacement exists:
  ``weight_norm = nn.utils.weight_norm`` then ``if hasattr(...): weight_norm =
  nn.utils.parametrizations.weight_norm``;
- a name bound to both (such as the two imports above): its later calls may call either.

"Uses the replacement" means a Name/Attribute (or imported name) in that other branch whose
last component is the replacement's last component and which does not itself resolve to a
table symbol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..deprecations import Entry, table
from .names import dotted_name
from .walk import walk

if TYPE_CHECKING:
    from .model import SemanticModel

_STOP = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.Module)


def replacement_last(entry: Entry) -> str | None:
    """Last name component of the entry's replacement (``GradScaler`` for
    ``torch.amp.GradScaler``), or None when the replacement is not a plain dotted name."""
    text = entry.replacement.split("(", 1)[0]
    if not text or any(c.isspace() for c in text):
        return None
    return text.rsplit(".", 1)[-1]


def mentions_replacement(model: "SemanticModel", subtree: cst.CSTNode, entry: Entry) -> bool:
    """Whether `subtree` refers to the entry's replacement (see the module docstring)."""
    last = replacement_last(entry)
    if last is None:
        return False
    tbl = table()
    for node in walk(subtree):
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                imported = dotted_name(alias.name) or ""
                module = dotted_name(node.module) if node.module is not None else ""
                if imported == last and tbl.find(f"{module}.{imported}") is None:
                    return True
        elif isinstance(node, cst.Attribute) and node.attr.value == last:
            if tbl.find(model.qualname(node)) is None:
                return True
        elif isinstance(node, cst.Name) and node.value == last:
            parent = model.parent.get(node)
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                continue  # judged with its Attribute
            if tbl.find(model.qualname(node)) is None and model.qualname(node) is not None:
                return True
    return False


def is_compat_fallback(model: "SemanticModel", node: cst.CSTNode, entry: Entry) -> bool:
    """Whether the use (or import statement) `node` of `entry` is one arm of a run-time choice
    between it and its replacement (module docstring)."""
    child = node
    for ancestor in model.ancestors(node):
        if isinstance(ancestor, cst.IfExp):
            other = ancestor.orelse if child is ancestor.body else ancestor.body if child is ancestor.orelse else None
            if other is not None and mentions_replacement(model, other, entry):
                return True
        elif isinstance(ancestor, cst.If):
            other = None
            if child is ancestor.body:
                other = ancestor.orelse
            elif child is ancestor.orelse:
                other = ancestor.body
            if other is not None and mentions_replacement(model, other, entry):
                return True
        elif isinstance(ancestor, cst.Try):
            if isinstance(child, cst.ExceptHandler):
                if mentions_replacement(model, ancestor.body, entry):
                    return True
            elif child is ancestor.body:
                if any(mentions_replacement(model, h, entry) for h in ancestor.handlers):
                    return True
        elif isinstance(ancestor, _STOP):
            break
        child = ancestor
    return _overridden_default(model, node, entry)


def _overridden_default(model: "SemanticModel", node: cst.CSTNode, entry: Entry) -> bool:
    parent = model.parent.get(node)
    if not (isinstance(parent, cst.Assign) and parent.value is node and len(parent.targets) == 1):
        return False
    target = parent.targets[0].target
    if not isinstance(target, cst.Name):
        return False
    scope = model.scope_for(parent)
    for binding in scope.bindings.get(target.value, ()):
        if binding.node is parent or binding.value is None:
            continue
        if mentions_replacement(model, binding.value, entry):
            return True
    return False


def name_may_hold_other(model: "SemanticModel", name: cst.Name) -> bool:
    """Whether the bare name is also bound to something that is not a table symbol (a second
    import or assignment in the scope that binds it), so a call of it may call the replacement."""
    scope = model.scope_for(name)
    bindings = model.bindings_of(name.value, scope)
    if len(bindings) < 2:
        return False
    tbl = table()
    for binding in bindings:
        if binding.kind == "import":
            if tbl.find(binding.qualname) is None:
                return True
        elif binding.value is None or tbl.find(model.qualname(binding.value)) is None:
            return True
    return False
