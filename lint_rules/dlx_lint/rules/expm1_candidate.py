"""DLX030 expm1-candidate: `torch.exp(x) - 1` loses precision; `torch.expm1(x)` does not."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import spell
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule


class Expm1Candidate(Rule):
    code = "DLX030"
    name = "expm1-candidate"
    severity = Severity.INFO
    requires = ("exp(",)
    summary = "torch.exp(x) - 1 loses precision for small x; use torch.expm1(x)"
    what = "Reports `torch.exp(x) - 1` with a literal one (TorchFix TOR107)."
    why = """
For small |x|, `exp(x)` is close to 1 and the subtraction cancels almost all significant digits
(for |x| below about 6e-8 in float32 the result is exactly 0). `torch.expm1(x)` computes
exp(x) - 1 accurately.
"""
    example = "y = torch.exp(x) - 1\n"
    use_instead = "y = torch.expm1(x)\n"
    fix_safety = """
The fix rewrites `torch.exp(x) - 1` to `torch.expm1(x)` and is safe: the same value with the same
type promotion, computed accurately. It is offered only when `exp` has a single positional
argument (with `out=`, the buffer would receive a different value).
"""
    limitations = "Only the function form `torch.exp(...)` minus a literal 1 is matched."
    references = (
        Reference("PyTorch docs: torch.expm1", "https://docs.pytorch.org/docs/stable/generated/torch.expm1.html"),
        Reference("TorchFix TOR107", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch

def elu_like(x):
    return torch.where(x > 0, x, torch.exp(x) - 1)  # expect: DLX030
""",
    )
    fixed_examples = (
        """
import torch

def elu_like(x):
    return torch.where(x > 0, x, torch.expm1(x))  # expect: DLX030
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch

def elu_like(x):
    return torch.where(x > 0, x, torch.expm1(x)), torch.exp(x) - 2, 1 - torch.exp(x)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_to("exp"):
            if model.qualname(call.func) != "torch.exp":
                continue
            parent = model.parent.get(call)
            if (
                isinstance(parent, cst.BinaryOperation)
                and isinstance(parent.operator, cst.Subtract)
                and parent.left is call
                and isinstance(parent.right, (cst.Integer, cst.Float))
                and float(parent.right.value) == 1.0
            ):
                yield Finding(parent, "`torch.exp(x) - 1` is inaccurate for small `x`; use `torch.expm1(x)`",
                              fix=partial(_fix, model, parent, call))


def _fix(model, difference: cst.BinaryOperation, call: cst.Call) -> NodeFix | None:
    """`torch.exp(x) - 1` -> `torch.expm1(x)`, spelled like the `exp` it replaces."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    func = call.func
    imports: tuple = ()
    if isinstance(func, cst.Attribute):
        new_func: cst.BaseExpression = func.with_changes(attr=cst.Name("expm1"))
    else:
        text, imports = spell(model, "torch.expm1", call)
        new_func = cst.parse_expression(text)
    new = call.with_changes(func=new_func, args=[call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
    return NodeFix("Use `torch.expm1(x)`", (Replace(difference, new), *imports))
