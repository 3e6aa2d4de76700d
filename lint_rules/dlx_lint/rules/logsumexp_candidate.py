"""DLX031 logsumexp-candidate: `log(sum(exp(x), dim))` overflows; `torch.logsumexp` does not."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.logs import log_calls


class LogsumexpCandidate(Rule):
    code = "DLX031"
    name = "logsumexp-candidate"
    severity = Severity.INFO
    requires = ("exp(",)
    summary = "log(sum(exp(x), dim=d)) overflows for large x; use torch.logsumexp(x, dim=d)"
    what = """
Reports `torch.log(torch.sum(torch.exp(x), dim=d))` (also `torch.exp(x).sum(dim=d)` inside the
log) when a dimension is given and is not `None` (TorchFix TOR108).
"""
    why = """
`exp` overflows to `inf` above about 88 in float32 (11 in float16), so the log of the sum is
`inf`, and underflows to 0 for very negative inputs, giving `-inf`. `torch.logsumexp`
subtracts the maximum first and is exact over the whole range.
"""
    example = "lse = torch.log(torch.sum(torch.exp(scores), dim=-1))\n"
    use_instead = "lse = torch.logsumexp(scores, dim=-1)\n"
    limitations = "Without a `dim` (a full reduction) the call is not reported, as in TorchFix."
    references = (
        Reference("PyTorch docs: torch.logsumexp", "https://docs.pytorch.org/docs/stable/generated/torch.logsumexp.html"),
        Reference("TorchFix TOR108", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch

def lse(scores):
    return torch.log(torch.sum(torch.exp(scores), dim=-1))  # expect: DLX031
""",
        """
import torch

def lse(scores):
    return torch.log(torch.exp(scores).sum(1))  # expect: DLX031
""",
    )
    good_examples = (
        """
import torch

def lse(scores):
    return torch.logsumexp(scores, dim=-1), torch.log(torch.sum(torch.exp(scores))), torch.log(torch.sum(torch.exp(scores), dim=None))
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, argument in log_calls(model):
            if model.qualname(call.func) != "torch.log" or not isinstance(argument, cst.Call):
                continue
            inner = _exp_sum_with_dim(model, argument)
            if inner:
                yield Finding(call, "`log(sum(exp(x), dim))` overflows for large `x`; use `torch.logsumexp(x, dim)`")


def _exp_sum_with_dim(model, call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) == "torch.sum":
        if not call.args or not _is_exp(model, call.args[0].value):
            return False
        return _has_dim(call.args[1:])
    if isinstance(func, cst.Attribute) and func.attr.value == "sum" and model.qualname(func) is None:
        return _is_exp(model, func.value) and _has_dim(call.args)
    return False


def _is_exp(model, expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    func = expr.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) == "torch.exp":
        return True
    return isinstance(func, cst.Attribute) and func.attr.value == "exp" and model.qualname(func) is None and not expr.args


def _has_dim(args) -> bool:
    for arg in args:
        if arg.star:
            return False
        if arg.keyword is None or arg.keyword.value == "dim":
            value = arg.value
            return not (isinstance(value, cst.Name) and value.value == "None")
    return False
