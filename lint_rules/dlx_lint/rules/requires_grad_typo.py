"""DLX021 requires-grad-typo: assigning `x.require_grad` silently creates a new attribute."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule


class RequiresGradTypo(Rule):
    code = "DLX021"
    name = "requires-grad-typo"
    severity = Severity.ERROR
    requires = ("require_grad",)
    summary = "`x.require_grad = ...` is a typo for `requires_grad`; nothing is frozen"
    what = "Reports an assignment to an attribute named `require_grad` in a file that imports torch (TorchFix TOR002)."
    why = """
Tensors and parameters accept arbitrary attributes, so `p.require_grad = False` raises no error:
it creates a new, meaningless attribute and leaves `requires_grad` unchanged. Layers meant to be
frozen keep training (and use optimizer memory), and layers meant to train may not.
"""
    example = """
for p in backbone.parameters():
    p.require_grad = False
"""
    use_instead = """
for p in backbone.parameters():
    p.requires_grad = False      # or: backbone.requires_grad_(False)
"""
    fix_safety = """
The fix renames the attribute to `requires_grad` and is safe: it does what the assignment was
written to do. It is not offered when the file also reads an attribute named `require_grad`
(`if p.require_grad:`): that object may really have such an attribute, and after the rename the
read would fail.
"""
    limitations = "Purely syntactic, like TOR002: an object that really has a `require_grad` attribute is reported too."
    references = (
        Reference("PyTorch docs: Autograd mechanics, requires_grad", "https://docs.pytorch.org/docs/stable/notes/autograd.html#setting-requires-grad"),
        Reference("TorchFix TOR002", "https://github.com/pytorch-labs/torchfix"),
        Reference("deep-learning-v2-pytorch#12", "https://github.com/udacity/deep-learning-v2-pytorch/issues/12"),
    )
    bad_examples = (
        """
import torch

def freeze(model):
    for p in model.parameters():
        p.require_grad = False  # expect: DLX021
""",
    )
    fixed_examples = (
        """
import torch

def freeze(model):
    for p in model.parameters():
        p.requires_grad = False  # expect: DLX021
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch

def freeze(model, cfg):
    for p in model.parameters():
        p.requires_grad = False
    return cfg.require_grad
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if not model.imports_module("torch"):
            return
        for node in model.assigns:
            typos = [t.target for t in node.targets if _is_typo(t.target)]
            if typos:
                yield Finding(node, "`require_grad` is not a tensor attribute; this creates a new attribute — use `requires_grad`",
                              fix=partial(_fix, model, tuple(typos)))
        for node in model.aug_assigns:
            if _is_typo(node.target):
                yield Finding(node, "`require_grad` is not a tensor attribute; use `requires_grad`",
                              fix=partial(_fix, model, (node.target,)))


def _is_typo(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and target.attr.value == "require_grad"


def _fix(model, targets: tuple[cst.Attribute, ...]) -> NodeFix | None:
    """Rename each `x.require_grad` target to `x.requires_grad`, unless the file reads a
    `require_grad` attribute somewhere (then some object may really have one)."""
    if _read_anywhere(model):
        return None
    return NodeFix("Rename to `requires_grad`", tuple(Replace(t.attr, cst.Name("requires_grad")) for t in targets))


def _read_anywhere(model) -> bool:
    def compute() -> bool:
        class _Reads(cst.CSTVisitor):
            found = False

            def visit_Attribute(self, node: cst.Attribute) -> None:
                if node.attr.value == "require_grad":
                    self.found = True

            def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
                # An assigned `x.require_grad` is the typo itself; look only inside it.
                if _is_typo(node.target):
                    node.target.value.visit(self)  # type: ignore[attr-defined]
                    return False
                return True

            def visit_AugAssign(self, node: cst.AugAssign) -> bool:
                if _is_typo(node.target):
                    node.target.value.visit(self)  # type: ignore[attr-defined]
                    node.value.visit(self)
                    return False
                return True

        visitor = _Reads()
        model.module.visit(visitor)
        return visitor.found

    return model.cached("require-grad-read", compute)
