"""DLX014 unguarded-log: `log` of a value that can reach 0."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_receiver, code_of, method_call, spell
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.dataflow import SIGMOID, SOFTMAX, is_deliberate_mask, masked_later, producer, provably_positive
from ..semantic.logs import is_natural_log, log_calls


class UnguardedLog(Rule):
    code = "DLX014"
    name = "unguarded-log"
    severity = Severity.WARNING
    summary = "log of a value that is not provably positive can give -inf and NaN gradients"
    what = """
Reports `torch.log(x)` / `x.log()` (and `log2`, `log10`) whose argument is not provably
positive. Provably positive: a constant > 0 (including `torch.finfo(...).eps`/`.tiny`),
`exp(...)`, `softplus(...)`, `x + c` with a constant `c > 0`, `clamp/clip` with a constant lower
bound > 0 (`min=`, positional, or `clamp_min`), `c - y` with `y` clamped below `c`, and names
bound to such expressions in the same function.
"""
    why = """
`log(0)` is `-inf`; its gradient is infinite and turns into NaN in the next operations, far from
the cause, and one NaN loss poisons all weights. Probabilities from `sigmoid` reach exactly 0
or 1 in float32 for logits beyond about ±17 (much sooner in half precision). Zhang et al. list
"Missing the Mask of Invalid Value" (dslinter W5514), which Humbatova et al. and Zhang et al.
(ISSTA 2018) found in real faults.
"""
    example = """
log_p = torch.log(theta)
"""
    use_instead = """
eps = torch.finfo(theta.dtype).eps
log_p = torch.log(theta.clamp_min(eps))
# for a sigmoid: F.logsigmoid(logits) instead of torch.log(torch.sigmoid(logits))
"""
    fix_safety = """
The fix clamps the argument: `torch.log(x)` becomes
`torch.log(x.clamp_min(torch.finfo(x.dtype).eps))` (for `log(sigmoid(z))` written in one
call, `F.logsigmoid(z)`). It is unsafe: it changes results where `x` is 0 (a finite value
instead of `-inf`) and hides negative inputs, which gave NaN and now give `log(eps)`. When the
argument is an expression without calls it is repeated inside `torch.finfo(...)` (evaluated
twice); an argument containing a call gets no fix, since evaluating it twice could cost time
or change results.
"""
    limitations = """
Positivity is judged for float32: a bound such as `1 - 1e-4` rounds to 1 in float16 and
bfloat16. `softplus(x)` counts as positive although it underflows to 0 below about -100 in
float32. `log` of a deliberate 0/1 mask (`torch.log(torch.tril(torch.ones(n, n)))`, the
standard additive attention mask) is not reported, nor a `log` already reported by DLX013.
"""
    references = (
        Reference("ml-smells: Missing the Mask of Invalid Value", "https://hynn01.github.io/ml-smells/"),
        Reference("deepchem#5125", "https://github.com/deepchem/deepchem/pull/5125"),
        Reference("apex#358: custom BCE giving NaN, fixed with eps inside log", "https://github.com/NVIDIA/apex/issues/358"),
        Reference("PyTorch docs: torch.finfo", "https://docs.pytorch.org/docs/stable/type_info.html"),
    )
    bad_examples = (
        """
import torch

EPS = 1e-6

def bernoulli_nll(theta, x):
    log_p = torch.log(theta + EPS)
    log_not_p = torch.log(1 - theta - EPS)  # expect: DLX014
    return -(x * log_p + (1 - x) * log_not_p).sum()
""",
        """
import torch

def nll(probs, target, logits):
    picked = probs.gather(1, target)
    return -torch.log(picked).mean() - torch.log(torch.sigmoid(logits)).sum()  # expect: DLX014
""",
    )
    fixed_examples = (
        """
import torch

EPS = 1e-6

def bernoulli_nll(theta, x):
    log_p = torch.log(theta + EPS)
    log_not_p = torch.log((1 - theta - EPS).clamp_min(torch.finfo((1 - theta - EPS).dtype).eps))  # expect: DLX014
    return -(x * log_p + (1 - x) * log_not_p).sum()
""",
        """
import torch

def nll(probs, target, logits):
    picked = probs.gather(1, target)
    return -torch.log(picked.clamp_min(torch.finfo(picked.dtype).eps)).mean() - torch.nn.functional.logsigmoid(logits).sum()  # expect: DLX014
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
import torch.nn.functional as F

EPS = 1e-8

def stable(p, rate, scores, size):
    q = p.clamp(min=EPS)
    mask = torch.log(torch.tril(torch.ones(size, size)))
    bounded = 1.0 - p.clamp(max=1 - 1e-4)
    return (torch.log(q) + rate.clamp_min(1e-6).log() + torch.log(torch.exp(scores))
            + torch.log(F.softplus(scores)) + torch.log(bounded) + mask
            + torch.log(p.clamp_min(torch.finfo(p.dtype).eps)))
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, argument in log_calls(model):
            made = producer(model, argument)
            if made is not None and made[0] == SOFTMAX:
                continue  # DLX013 reports it
            if provably_positive(model, argument) or is_deliberate_mask(model, argument):
                continue
            if masked_later(model, call):
                continue
            if made is not None and made[0] == SIGMOID:
                message = "`log` of a sigmoid reaches -inf when the sigmoid saturates; use `F.logsigmoid` (or clamp the argument)"
            else:
                message = "`log` of a value that can be 0 gives -inf and NaN gradients; clamp it first, e.g. `x.clamp_min(torch.finfo(x.dtype).eps)`"
            yield Finding(call, message, fix=partial(_fix, model, call, argument, made))


def _fix(model, call: cst.Call, argument: cst.BaseExpression, made) -> NodeFix | None:
    try:
        if made is not None and made[0] == SIGMOID and made[1] is argument and is_natural_log(model, call):
            return _logsigmoid(model, call, argument)
        return _clamped(model, call, argument)
    except FixUnavailable:
        return None


def _logsigmoid(model, call: cst.Call, sigmoid: cst.CSTNode) -> NodeFix:
    """`log(sigmoid(z))` -> `F.logsigmoid(z)`."""
    if not isinstance(sigmoid, cst.Call):
        raise FixUnavailable("not a call")
    func = sigmoid.func
    positional = [a for a in sigmoid.args if a.keyword is None and not a.star]
    if isinstance(func, cst.Attribute) and model.qualname(func) is None and func.attr.value == "sigmoid" and not sigmoid.args:
        inner = func.value  # z.sigmoid()
    elif model.qualname(func) in ("torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit") \
            and len(sigmoid.args) == 1 and len(positional) == 1:
        inner = positional[0].value
    else:
        raise FixUnavailable("an unusual sigmoid call")
    text, imports = spell(model, "torch.nn.functional.logsigmoid", call)
    new = cst.Call(func=cst.parse_expression(text), args=[cst.Arg(inner.with_changes(lpar=[], rpar=[]) if not isinstance(inner, cst.Tuple) else inner)])
    return NodeFix(f"Use `{text}`", (Replace(call, new), *imports))


def _clamped(model, call: cst.Call, argument: cst.BaseExpression) -> NodeFix:
    """`x` -> `x.clamp_min(torch.finfo(x.dtype).eps)` inside the log."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "log_" and argument is func.value:
        raise FixUnavailable("in-place log: clamping a copy would leave the tensor unchanged")
    if not _repeatable(argument):
        raise FixUnavailable("the argument has calls: it cannot be evaluated twice")
    if not isinstance(argument, (cst.Name, cst.Attribute)) and "\n" in code_of(argument):
        raise FixUnavailable("repeating a multi-line argument would be unreadable")
    finfo, imports = spell(model, "torch.finfo", call)
    dtype = cst.Attribute(value=as_receiver(argument.deep_clone()), attr=cst.Name("dtype"))
    eps = cst.Attribute(value=cst.Call(func=cst.parse_expression(finfo), args=[cst.Arg(dtype)]), attr=cst.Name("eps"))
    clamped = method_call(argument, "clamp_min", (cst.Arg(eps),))
    return NodeFix(f"Clamp the argument: `{code_of(clamped)}`", (Replace(argument, clamped), *imports))


def _repeatable(expr: cst.BaseExpression) -> bool:
    """Whether `expr` may be written twice: names, attributes, constants, subscripts with such
    indices, and arithmetic over them (no calls, no side effects)."""
    if isinstance(expr, (cst.Name, cst.Integer, cst.Float)):
        return True
    if isinstance(expr, cst.Attribute):
        return _repeatable(expr.value)
    if isinstance(expr, cst.UnaryOperation):
        return _repeatable(expr.expression)
    if isinstance(expr, cst.BinaryOperation):
        return _repeatable(expr.left) and _repeatable(expr.right)
    if isinstance(expr, cst.Subscript):
        return _repeatable(expr.value) and all(
            isinstance(element.slice, cst.Index) and _repeatable(element.slice.value) for element in expr.slice
        )
    return False
