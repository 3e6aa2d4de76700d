"""DLX014 unguarded-log: `log` of a value that can reach 0."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import SIGMOID, SOFTMAX, is_deliberate_mask, masked_later, producer, provably_positive
from ..semantic.logs import log_calls


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
    )
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
            yield Finding(call, message)
