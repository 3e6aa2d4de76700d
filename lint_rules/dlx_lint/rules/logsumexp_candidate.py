"""DLX031 logsumexp-candidate: `log(sum(exp(x), dim))` overflows; `torch.logsumexp` does not."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_argument, spell
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
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
    fix_safety = """
The fix rewrites the expression to `torch.logsumexp(x, dim)`, carrying the `dim` and `keepdim`
arguments over as written, and is safe: the same value, exact where the original overflowed. It is
not offered when the sum or the log takes other arguments (`dtype=`, `out=`) or `exp` does.
"""
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
    fixed_examples = (
        """
import torch

def lse(scores):
    return torch.logsumexp(scores, dim=-1)  # expect: DLX031
""",
        """
import torch

def lse(scores):
    return torch.logsumexp(scores, 1)  # expect: DLX031
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
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
                yield Finding(call, "`log(sum(exp(x), dim))` overflows for large `x`; use `torch.logsumexp(x, dim)`",
                              fix=partial(_fix, model, call, argument))


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


def _fix(model, log_call: cst.Call, total: cst.Call) -> NodeFix | None:
    """`torch.log(torch.sum(torch.exp(x), dim, keepdim))` (or `torch.exp(x).sum(...)`) ->
    `torch.logsumexp(x, dim, keepdim)`, the arguments after the input as written."""
    if len(log_call.args) != 1:
        return None  # out=
    if isinstance(total.func, cst.Attribute) and model.qualname(total.func) is None:
        exp, rest = total.func.value, list(total.args)
    else:
        if total.args[0].keyword is not None:
            return None
        exp, rest = total.args[0].value, list(total.args[1:])
    assert isinstance(exp, cst.Call)
    if exp.args:
        if len(exp.args) != 1 or exp.args[0].keyword is not None or exp.args[0].star:
            return None
        tensor = exp.args[0].value
    else:
        tensor = exp.func.value  # type: ignore[attr-defined]  # `x.exp()`
    if not rest or len(rest) > 2 or any(a.star for a in rest):
        return None
    allowed = ("dim", "keepdim")
    for position, arg in enumerate(rest):
        if arg.keyword is not None and arg.keyword.value not in allowed:
            return None
        if arg.keyword is None and any(a.keyword is not None for a in rest[:position]):
            return None  # pragma: no cover - not valid Python
    text, imports = spell(model, "torch.logsumexp", log_call)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args = [cst.Arg(as_argument(tensor), comma=comma)]
    args += [a.with_changes(comma=comma) for a in rest[:-1]] + [rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    new = cst.Call(func=cst.parse_expression(text), args=args)
    return NodeFix("Use `torch.logsumexp(x, dim)`", (Replace(log_call, new), *imports))
