"""DLX102 zero-grad-keeps-tensors (performance, opt-in): `zero_grad(set_to_none=False)`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule


class ZeroGradKeepsTensors(Rule):
    code = "DLX102"
    name = "zero-grad-keeps-tensors"
    severity = Severity.INFO
    enabled_by_default = False
    requires = ("set_to_none",)
    summary = "zero_grad(set_to_none=False) zero-fills gradient tensors instead of freeing them"
    what = "Reports `zero_grad(set_to_none=False)` (TorchFix TOR402)."
    why = """
Setting gradients to `None` (the default since PyTorch 2.0) frees their memory between steps
and lets the next backward write the gradients instead of adding into zero-filled tensors,
saving a memset per parameter and peak memory. Note that it changes behaviour for code that
reads `.grad` after clearing (it is `None`, not zeros) and for optimizers that treat a zero
gradient differently from a missing one.
"""
    example = "optimizer.zero_grad(set_to_none=False)\n"
    use_instead = "optimizer.zero_grad()  # set_to_none=True is the default\n"
    limitations = "Code that reads `.grad` right after clearing needs `set_to_none=False`; suppress the hint there."
    references = (
        Reference("PyTorch docs: Optimizer.zero_grad", "https://docs.pytorch.org/docs/stable/generated/torch.optim.Optimizer.zero_grad.html"),
        Reference("TorchFix TOR402", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch

def clear(opt):
    opt.zero_grad(set_to_none=False)  # expect: DLX102
""",
    )
    good_examples = (
        """
import torch

def clear(opt, model):
    opt.zero_grad()
    model.zero_grad(set_to_none=True)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_by_attr.get("zero_grad", []):
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "set_to_none" \
                        and isinstance(arg.value, cst.Name) and arg.value.value == "False":
                    yield Finding(call, "`set_to_none=False` keeps zero-filled gradient tensors alive; use the default `zero_grad()` (gradients become None) unless code reads `.grad` after clearing")
