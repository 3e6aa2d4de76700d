"""DLX013 log-of-softmax: `torch.log(softmax(x))` instead of `log_softmax(x)`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of
from ..fixes.losses import assigned_directly, inputs_unchanged, log_softmax_of
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.dataflow import SOFTMAX, producer
from ..semantic.logs import is_natural_log, log_calls


class LogOfSoftmax(Rule):
    code = "DLX013"
    name = "log-of-softmax"
    severity = Severity.WARNING
    summary = "log(softmax(x)) underflows to -inf; use log_softmax(x)"
    what = """
Reports `torch.log(p)` / `p.log()` (and `log2`, `log10`) where `p` is (through assignments and
shape-only operations) the result of a softmax.
"""
    why = """
Softmax of large-margin logits underflows to exactly 0 in float32 (and much sooner in
float16), so its log is `-inf` and the gradient NaN, far from the cause. `log_softmax`
computes `x - logsumexp(x)` directly and stays finite. Computing the two separately is also
slower.
"""
    example = """
log_probs = torch.log(F.softmax(scores, dim=-1))
"""
    use_instead = """
log_probs = F.log_softmax(scores, dim=-1)
"""
    fix_safety = """
`torch.log(F.softmax(x, dim=d))` becomes `F.log_softmax(x, dim=d)` (the same function family:
`torch.softmax` -> `torch.log_softmax`, `x.softmax(d)` -> `x.log_softmax(d)`). When the softmax
is written inside the `log` call the fix is safe: the values are the same wherever the original
was finite, and finite where it underflowed. When the softmax result is a variable, the fix is
display-only: the editor shows the rewrite of the `log` call, but the variable may be used
elsewhere, so it is never applied automatically. `log2`/`log10` and `nn.Softmax` modules get no
fix.
"""
    limitations = "A softmax computed in another module and passed in is not seen."
    references = (
        Reference("PyTorch docs: torch.nn.functional.log_softmax", "https://docs.pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html"),
        Reference("MatchZoo-py#69", "https://github.com/NTMC-Community/MatchZoo-py/pull/69"),
        Reference("allennlp#2797", "https://github.com/allenai/allennlp/issues/2797"),
    )
    bad_examples = (
        """
import torch
import torch.nn.functional as F

def listwise(scores, labels):
    probs = scores.softmax(dim=-1)
    return -(labels * torch.log(probs)).sum()  # expect: DLX013
""",
        """
import torch
import torch.nn.functional as F

def attention(q, k):
    weights = torch.log(F.softmax(q @ k.T, dim=-1))  # expect: DLX013
    return weights + F.softmax(k, dim=0).log()  # expect: DLX013
""",
    )
    fixed_examples = (
        """
import torch
import torch.nn.functional as F

def listwise(scores, labels):
    probs = scores.softmax(dim=-1)
    return -(labels * torch.log(probs)).sum()  # expect: DLX013
""",
        """
import torch
import torch.nn.functional as F

def attention(q, k):
    weights = F.log_softmax(q @ k.T, dim=-1)  # expect: DLX013
    return weights + F.log_softmax(k, dim=0)  # expect: DLX013
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
import torch.nn.functional as F

def listwise(scores, labels):
    probs = F.softmax(scores, dim=-1)
    return -(labels * F.log_softmax(scores, dim=-1)).sum(), torch.log(probs + 1e-8)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, argument in log_calls(model):
            made = producer(model, argument)
            if made is not None and made[0] == SOFTMAX:
                yield Finding(
                    call,
                    "`log` of a softmax underflows to -inf (NaN gradients) for confident predictions; use `log_softmax`",
                    fix=partial(_fix, model, call, argument, made[1]),
                )


def _fix(model, log_call: cst.Call, argument: cst.BaseExpression, softmax: cst.CSTNode) -> NodeFix | None:
    """The `log` call rewritten as the matching `log_softmax` call: safe when the softmax is
    the argument itself, display-only when the argument is a variable assigned the softmax
    (whose inputs still hold the same values at the `log`); else None."""
    if not is_natural_log(model, log_call) or not isinstance(softmax, cst.Call):
        return None
    if argument is softmax:
        applicability = Applicability.SAFE
    elif isinstance(argument, cst.Name) and assigned_directly(model, argument, softmax) and inputs_unchanged(model, softmax, log_call):
        applicability = Applicability.DISPLAY_ONLY
    else:
        return None
    try:
        new, imports = log_softmax_of(model, softmax, log_call)
    except FixUnavailable:
        return None
    return NodeFix(f"Use `{code_of(new.func)}`", (Replace(log_call, new), *imports), applicability)
