"""DLX307 legacy-loss-reduction-args: `size_average=` / `reduce=` on a PyTorch loss."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..deprecations import table, target_version
from ..diagnostics import Severity
from ..fixes.arguments import has_star, positional_count, rewrite_args
from ..fixes.spec import NodeFix, Replace
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import calls_resolving_to, keyword_arg

# Position of `size_average` in each signature (PyTorch 2.13; `reduce` and `reduction` come
# after it everywhere). A call with more positional arguments than this may pass a legacy flag
# or `reduction` positionally, and gets no fix. tests/test_deprecation_rules.py checks
# the table against the installed torch.
SIZE_AVERAGE_POSITION = {
    "torch.nn.BCELoss": 1,
    "torch.nn.BCEWithLogitsLoss": 1,
    "torch.nn.CosineEmbeddingLoss": 1,
    "torch.nn.CrossEntropyLoss": 1,
    "torch.nn.HingeEmbeddingLoss": 1,
    "torch.nn.KLDivLoss": 0,
    "torch.nn.L1Loss": 0,
    "torch.nn.MSELoss": 0,
    "torch.nn.MarginRankingLoss": 1,
    "torch.nn.MultiLabelMarginLoss": 0,
    "torch.nn.MultiLabelSoftMarginLoss": 1,
    "torch.nn.MultiMarginLoss": 3,
    "torch.nn.NLLLoss": 1,
    "torch.nn.NLLLoss2d": 1,
    "torch.nn.PoissonNLLLoss": 2,
    "torch.nn.SmoothL1Loss": 0,
    "torch.nn.SoftMarginLoss": 0,
    "torch.nn.TripletMarginLoss": 4,
    "torch.nn.functional.binary_cross_entropy": 3,
    "torch.nn.functional.binary_cross_entropy_with_logits": 3,
    "torch.nn.functional.cosine_embedding_loss": 4,
    "torch.nn.functional.cross_entropy": 3,
    "torch.nn.functional.hinge_embedding_loss": 3,
    "torch.nn.functional.kl_div": 2,
    "torch.nn.functional.l1_loss": 2,
    "torch.nn.functional.margin_ranking_loss": 4,
    "torch.nn.functional.mse_loss": 2,
    "torch.nn.functional.multi_margin_loss": 5,
    "torch.nn.functional.multilabel_margin_loss": 2,
    "torch.nn.functional.multilabel_soft_margin_loss": 3,
    "torch.nn.functional.nll_loss": 3,
    "torch.nn.functional.poisson_nll_loss": 4,
    "torch.nn.functional.smooth_l1_loss": 2,
    "torch.nn.functional.soft_margin_loss": 2,
    "torch.nn.functional.triplet_margin_loss": 7,
}


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
The fix replaces the legacy pair by the `reduction=` string PyTorch itself derives from it
(`torch.nn._reduction.legacy_get_string`: an absent flag counts as `True`; `reduce=False` gives
`"none"`, otherwise `size_average=False` gives `"sum"`, otherwise `"mean"`), so the loss is
the same value, without the warning. It is safe and offered only when every legacy value is a
literal `True`/`False`; not when the call also passes `reduction=` (which the legacy flags
silently override: decide which one was meant), `*args`/`**kwargs`, or so many positional
arguments that a flag may be among them.
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
    fixed_examples = (
        """
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import NLLLoss

criterion = nn.CrossEntropyLoss(reduction="sum")  # expect: DLX307
nll = NLLLoss(reduction="none")  # expect: DLX307

def per_item(pred, target):
    return F.mse_loss(pred, target, reduction="none")  # expect: DLX307
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
    fix_availability = FixAvailability.SOMETIMES

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
                fix = None
                if literal:
                    reduction = equivalent_reduction(_literal_bool(size_average), _literal_bool(reduce))
                    hint = f'use `reduction="{reduction}"`'
                    fix = partial(_fix, call, qualname, reduction)
                else:
                    hint = f"use `reduction=` ({entry.arguments})"
                short = qualname.rsplit(".", 1)[-1]
                yield Finding(call, f"{names} on `{short}` deprecated since PyTorch 0.4.1; {hint}", fix=fix)


def _fix(call: cst.Call, qualname: str, reduction: str) -> NodeFix | None:
    """The legacy flags replaced by `reduction="..."` where the first of them stood."""
    position = SIZE_AVERAGE_POSITION.get(qualname)
    if position is None or has_star(call) or positional_count(call) > position:
        return None
    if keyword_arg(call, "reduction") is not None:
        return None  # the legacy flags override it: which one was meant is the user's call
    legacy = [i for i, arg in enumerate(call.args) if arg.keyword is not None and arg.keyword.value in ("size_average", "reduce")]
    new = rewrite_args(call, {legacy[0]: ("reduction", cst.SimpleString(f'"{reduction}"'))}, frozenset(legacy[1:]))
    return NodeFix(f'Replace the legacy flags with `reduction="{reduction}"`', (Replace(call, new),))
