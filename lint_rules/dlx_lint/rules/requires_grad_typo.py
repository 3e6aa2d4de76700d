"""DLX021 requires-grad-typo: assigning `x.require_grad` silently creates a new attribute."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule


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
            if any(_is_typo(t.target) for t in node.targets):
                yield Finding(node, "`require_grad` is not a tensor attribute; this creates a new attribute — use `requires_grad`")
        for node in model.aug_assigns:
            if _is_typo(node.target):
                yield Finding(node, "`require_grad` is not a tensor attribute; use `requires_grad`")


def _is_typo(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and target.attr.value == "require_grad"
