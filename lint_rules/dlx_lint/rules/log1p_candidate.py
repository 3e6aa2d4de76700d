"""DLX017 log1p-candidate: `torch.log(1 + x)` loses precision; `torch.log1p(x)` does not."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_argument, spell
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule


def _is_one(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Integer):
        return expr.value == "1"
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value) == 1.0
        except ValueError:
            return False
    return False


def one_plus_operand(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`x` for `1 + x` or `x + 1` (literal one), else None."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        if _is_one(expr.left):
            return expr.right
        if _is_one(expr.right):
            return expr.left
    return None


class Log1pCandidate(Rule):
    code = "DLX017"
    name = "log1p-candidate"
    severity = Severity.INFO
    requires = ("log(",)
    summary = "torch.log(1 + x) loses precision for small x; use torch.log1p(x)"
    what = "Reports `torch.log(1 + x)` and `torch.log(x + 1)` (a literal one), as TorchFix's TOR106 does."
    why = """
For |x| below the float epsilon (about 1.2e-7 in float32), `1 + x` rounds to exactly 1 and
the log returns 0, losing all information about `x`; for larger small values it loses most of
its significant digits. `torch.log1p(x)` computes log(1 + x) accurately for small `x`. A common
instance is a hand-written softplus `log(1 + exp(x))`, where `F.softplus(x)` is also stable
for large `x` (`exp` overflows to `inf` beyond about 88 in float32).
"""
    example = "loss = torch.log(1 + torch.exp(margin)).mean()\n"
    use_instead = "loss = torch.log1p(torch.exp(margin)).mean()   # or F.softplus(margin).mean()\n"
    fix_safety = """
The fix rewrites `torch.log(1 + x)` and `torch.log(x + 1)` to `torch.log1p(x)`, keeping any other
argument (`out=`). It is safe: both compute log(1 + x) elementwise with the same type promotion
(an integer tensor gives a float result in both), `log1p` only more accurately.
"""
    limitations = "Only the function form with a literal 1 is matched (not `x.log()` or a named constant)."
    references = (
        Reference("PyTorch docs: torch.log1p", "https://docs.pytorch.org/docs/stable/generated/torch.log1p.html"),
        Reference("TorchFix TOR106", "https://github.com/pytorch-labs/torchfix"),
        Reference("pytorch/examples#1286", "https://github.com/pytorch/examples/pull/1286"),
    )
    bad_examples = (
        """
import torch

def softplus(x):
    return torch.log(1 + torch.exp(x)) + torch.log(x.abs() + 1.0)  # expect: DLX017
""",
    )
    fixed_examples = (
        """
import torch

def softplus(x):
    return torch.log1p(torch.exp(x)) + torch.log1p(x.abs())  # expect: DLX017
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import math
import torch

def stable(x):
    return torch.log1p(torch.exp(-x.abs())) + torch.log(2 + x.abs()) + math.log(1 + 3)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_to("log"):
            if model.qualname(call.func) != "torch.log" or not call.args:
                continue
            argument = call.args[0].value
            if call.args[0].keyword is None and one_plus_operand(argument) is not None:
                yield Finding(call, "`torch.log(1 + x)` is inaccurate for small `x`; use `torch.log1p(x)`",
                              fix=partial(_fix, model, call))


def _fix(model, call: cst.Call) -> NodeFix:
    """`torch.log(1 + x, ...)` -> `torch.log1p(x, ...)`, spelled like the `log` it replaces."""
    first = call.args[0]
    operand = one_plus_operand(first.value)
    assert operand is not None
    func = call.func
    imports: tuple = ()
    if isinstance(func, cst.Attribute):
        new_func: cst.BaseExpression = func.with_changes(attr=cst.Name("log1p"))
    else:
        text, imports = spell(model, "torch.log1p", call)
        new_func = cst.parse_expression(text)
    new = call.with_changes(func=new_func, args=[first.with_changes(value=as_argument(operand)), *call.args[1:]])
    return NodeFix("Use `torch.log1p(x)`", (Replace(call, new), *imports))
