"""DLX307 legacy-loss-reduction-args: `size_average=` / `reduce=` on a PyTorch loss."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..deprecations import table, target_version
from ..diagnostics import Severity
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import calls_resolving_to, keyword_arg


def _literal_bool(arg: cst.Arg | None) -> bool | None:
    if arg is None:
        return None
    value = arg.value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


def equivalent_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The `reduction` string equivalent to the legacy pair (torch.nn._reduction.legacy_get_string:
    an unset flag counts as True)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


class LegacyLossReductionArgs(Rule):
    code = "DLX307"
    name = "legacy-loss-reduction-args"
    severity = Severity.WARNING
    requires = ("size_average", "reduce")
    summary = "loss called with the deprecated size_average= / reduce= instead of reduction="
    what = """
Reports a call of a `torch.nn` loss class or `torch.nn.functional` loss function that passes
`size_average=` or `reduce=` (the 18 classes and 17 functions that still accept them are listed
in the package's table `dlx_lint/data/deprecations.toml`). When both values are literals, the
message gives the equivalent `reduction=` string.
"""
    why = """
The two booleans were replaced by `reduction='mean' | 'sum' | 'none'` in PyTorch 0.4.1. Every
call with them warns ("size_average and reduce args will be deprecated"), and they interact in
a way that is easy to misread: `reduce=False` makes `size_average` irrelevant, and passing only
one of them overrides `reduction=` entirely, so `nn.MSELoss(reduction="sum", size_average=True)`
averages. TorchFix users asked for this check; TorchFix never shipped it.
"""
    example = """
criterion = nn.CrossEntropyLoss(size_average=False)
per_item = F.mse_loss(pred, target, reduce=False)
"""
    use_instead = """
criterion = nn.CrossEntropyLoss(reduction="sum")
per_item = F.mse_loss(pred, target, reduction="none")
"""
    fix_safety = """
No fix yet. When both values are literals the mapping is exact and a fix would be safe
(`torch.nn._reduction.legacy_get_string`); a computed value needs a person.
"""
    limitations = """
The legacy flags passed positionally (`nn.NLLLoss(weight, False)`) are not reported: their
position differs between losses. Project-defined losses with their own `size_average`
parameter are not PyTorch's and are not reported.
"""
    references = (
        Reference("pytorch#8018: combine size_average and reduce into reduction", "https://github.com/pytorch/pytorch/pull/8018"),
        Reference("PyTorch docs: torch.nn.CrossEntropyLoss (size_average, reduce: deprecated)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html"),
        Reference("TorchFix size_average codemod (main branch, not released)", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import NLLLoss

criterion = nn.CrossEntropyLoss(size_average=False)  # expect: DLX307
nll = NLLLoss(reduce=False)  # expect: DLX307

def per_item(pred, target):
    return F.mse_loss(pred, target, reduce=False)  # expect: DLX307
""",
    )
    good_examples = (
        """
import torch.nn as nn
import torch.nn.functional as F

class FocalLoss(nn.Module):
    def __init__(self, size_average=True):
        super().__init__()
        self.size_average = size_average

criterion = nn.CrossEntropyLoss(reduction="sum")
focal = FocalLoss(size_average=False)   # the project's own loss

def per_item(pred, target):
    return F.mse_loss(pred, target, reduction="none")
""",
    )
    fix_availability = FixAvailability.NEVER

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for entry in table().arguments.get(self.code, ()):
            if not entry.applies(target):
                continue
            functions = frozenset(entry.functions)
            lasts = frozenset(f.rsplit(".", 1)[-1] for f in functions)
            for call, qualname in calls_resolving_to(model, lasts, functions.__contains__):
                passed = [name for name in entry.legacy if keyword_arg(call, name) is not None]
                if not passed:
                    continue
                size_average = keyword_arg(call, "size_average")
                reduce = keyword_arg(call, "reduce")
                literal = all(arg is None or _literal_bool(arg) is not None for arg in (size_average, reduce))
                names = " and ".join(f"`{name}=`" for name in passed)
                if literal:
                    hint = f'use `reduction="{equivalent_reduction(_literal_bool(size_average), _literal_bool(reduce))}"`'
                else:
                    hint = f"use `reduction=` ({entry.arguments})"
                short = qualname.rsplit(".", 1)[-1]
                yield Finding(call, f"{names} on `{short}` deprecated since PyTorch 0.4.1; {hint}")
