"""DLX013 log-of-softmax: `torch.log(softmax(x))` instead of `log_softmax(x)`."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import SOFTMAX, producer
from ..semantic.logs import log_calls


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
    )
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
                yield Finding(call, "`log` of a softmax underflows to -inf (NaN gradients) for confident predictions; use `log_softmax`")
