"""DLX307 legacy-loss-reduction-args: `size_average=` / `reduce=` on a PyTorch loss."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..fixes.arguments import has_star, index_of, positional_count, rewrite_args
from ..fixes.spec import NodeFix, Replace
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import argument_entry_calls, keyword_arg

# Position of `size_average` in each signature (PyTorch 2.13; every parameter up to `reduction`
# is positional-or-keyword). A plain positional argument at this index is the legacy flag.
# tests/test_deprecation_fixes.py checks the table against the installed torch.
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


# Position of `reduce`: not always right after `size_average` (`ignore_index` sits between them
# in the cross-entropy and NLL losses, `eps` in the Poisson NLL losses); `reduction` is always
# right after it.
REDUCE_POSITION = {
    "torch.nn.BCELoss": 2,
    "torch.nn.BCEWithLogitsLoss": 2,
    "torch.nn.CosineEmbeddingLoss": 2,
    "torch.nn.CrossEntropyLoss": 3,
    "torch.nn.HingeEmbeddingLoss": 2,
    "torch.nn.KLDivLoss": 1,
    "torch.nn.L1Loss": 1,
    "torch.nn.MSELoss": 1,
    "torch.nn.MarginRankingLoss": 2,
    "torch.nn.MultiLabelMarginLoss": 1,
    "torch.nn.MultiLabelSoftMarginLoss": 2,
    "torch.nn.MultiMarginLoss": 4,
    "torch.nn.NLLLoss": 3,
    "torch.nn.NLLLoss2d": 3,
    "torch.nn.PoissonNLLLoss": 4,
    "torch.nn.SmoothL1Loss": 1,
    "torch.nn.SoftMarginLoss": 1,
    "torch.nn.TripletMarginLoss": 5,
    "torch.nn.functional.binary_cross_entropy": 4,
    "torch.nn.functional.binary_cross_entropy_with_logits": 4,
    "torch.nn.functional.cosine_embedding_loss": 5,
    "torch.nn.functional.cross_entropy": 5,
    "torch.nn.functional.hinge_embedding_loss": 4,
    "torch.nn.functional.kl_div": 3,
    "torch.nn.functional.l1_loss": 3,
    "torch.nn.functional.margin_ranking_loss": 5,
    "torch.nn.functional.mse_loss": 3,
    "torch.nn.functional.multi_margin_loss": 6,
    "torch.nn.functional.multilabel_margin_loss": 3,
    "torch.nn.functional.multilabel_soft_margin_loss": 4,
    "torch.nn.functional.nll_loss": 5,
    "torch.nn.functional.poisson_nll_loss": 6,
    "torch.nn.functional.smooth_l1_loss": 3,
    "torch.nn.functional.soft_margin_loss": 3,
    "torch.nn.functional.triplet_margin_loss": 8,
}


POSITIONS = {"size_average": SIZE_AVERAGE_POSITION, "reduce": REDUCE_POSITION}


def _is_none(arg: cst.Arg) -> bool:
    return isinstance(arg.value, cst.Name) and arg.value.value == "None"


def _literal_bool(arg: cst.Arg | None) -> bool | None:
    if arg is None:
        return None
    value = arg.value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


def _positionals(call: cst.Call) -> list[cst.Arg]:
    """The plain positional arguments whose index is known: those before any `*args`."""
    known = []
    for arg in call.args:
        if arg.star:
            break
        if arg.keyword is None:
            known.append(arg)
    return known


def legacy_args(call: cst.Call, qualname: str, names) -> dict[str, tuple[cst.Arg, int | None]]:
    """Each legacy flag the call passes: its argument and, when passed positionally, its
    position (None for a keyword)."""
    found: dict[str, tuple[cst.Arg, int | None]] = {}
    positionals = _positionals(call)
    for name in names:
        arg = keyword_arg(call, name)
        if arg is not None:
            found[name] = (arg, None)
            continue
        position = POSITIONS.get(name, {}).get(qualname)
        if position is not None and position < len(positionals):
            found[name] = (positionals[position], position)
    return found


def equivalent_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The `reduction` string equivalent to the legacy pair (torch.nn._reduction.legacy_get_string:
    an unset or `None` flag counts as True)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


class LegacyLossReductionArgs(Rule):
    code = "DLX307"
    name = "legacy-loss-reduction-args"
    severity = Severity.WARNING
    requires = ("size_average", "reduce", "Loss", "loss", "entropy", "kl_div")
    summary = "loss called with the deprecated size_average= / reduce= instead of reduction="
    what = """
Reports a call of a `torch.nn` loss class or `torch.nn.functional` loss function that passes
`size_average` or `reduce` (the 18 classes and 17 functions that still accept them are listed
in the package's table `dlx_lint/data/deprecations.toml`), by keyword or positionally
(`nn.NLLLoss(weight, False)`: the second positional argument is `size_average`; the message
names the position). A flag whose value is the literal `None`, the default, is not reported:
PyTorch warns only when one of them is not `None`. When every value is a literal, the message
gives the equivalent `reduction=` string.
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
(`torch.nn._reduction.legacy_get_string`: an absent or `None` flag counts as `True`;
`reduce=False` gives `"none"`, otherwise `size_average=False` gives `"sum"`, otherwise
`"mean"`), so the loss is the same value, without the warning. It is safe and offered only
when every legacy value is a literal `True`/`False`/`None`; not when the call also passes
`reduction=` (which the legacy flags silently override: decide which one was meant) or
`*args`/`**kwargs`. Positional flags are dropped and the earlier positional arguments kept
(`nn.NLLLoss(weight, False)` becomes `nn.NLLLoss(weight, reduction="sum")`); when another
positional argument comes after the first legacy position (`nn.NLLLoss(weight, None, -100,
False)`, whose `-100` is `ignore_index`), dropping the flags would shift it, and no fix is
offered.
"""
    limitations = """
Positional flags are recognised by their position in PyTorch 2.13's signatures; a positional
argument after `*args` has no known position and is not reported. Project-defined losses with
their own `size_average` parameter are not PyTorch's and are not reported.
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
weighted = nn.NLLLoss(class_weights, False)  # expect: DLX307

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
weighted = nn.NLLLoss(class_weights, reduction="sum")  # expect: DLX307

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
bce = nn.BCELoss(size_average=None, reduce=None)   # the defaults: PyTorch does not warn
nll = nn.NLLLoss(class_weights, None)

def per_item(pred, target):
    return F.mse_loss(pred, target, reduction="none")
""",
    )
    fix_availability = FixAvailability.SOMETIMES

    def check(self, model) -> Iterator[Finding]:
        for entry, call, qualname in argument_entry_calls(model, self.code):
            legacy = legacy_args(call, qualname, entry.legacy)
            # A literal `None` is the default: PyTorch takes the legacy path only when a
            # flag is not None (torch.nn.modules.loss._Loss.__init__).
            passed = [(name, position) for name, (arg, position) in legacy.items() if not _is_none(arg)]
            if not passed:
                continue
            values = {name: arg for name, (arg, _) in legacy.items()}
            literal = all(_is_none(arg) or _literal_bool(arg) is not None for arg in values.values())
            names = " and ".join(
                f"`{name}=`" if position is None else f"positional argument {position + 1} (`{name}`)"
                for name, position in passed
            )
            fix = None
            if literal:
                reduction = equivalent_reduction(_literal_bool(values.get("size_average")), _literal_bool(values.get("reduce")))
                hint = f'use `reduction="{reduction}"`'
                fix = partial(_fix, call, qualname, reduction, legacy)
            else:
                hint = f"use `reduction=` ({entry.arguments})"
            short = qualname.rsplit(".", 1)[-1]
            yield Finding(call, f"{names} on `{short}` deprecated since PyTorch 0.4.1; {hint}", fix=fix)


def _fix(call: cst.Call, qualname: str, reduction: str, legacy: dict[str, tuple[cst.Arg, int | None]]) -> NodeFix | None:
    """The legacy flags replaced by `reduction="..."` where the first of them stood.

    Positional flags are dropped only when no other positional argument follows the first
    legacy position (it would shift into the flag's place); a positional `reduction` is one of
    those."""
    first = SIZE_AVERAGE_POSITION.get(qualname)
    if first is None or has_star(call) or keyword_arg(call, "reduction") is not None:
        return None  # with `reduction=`, the legacy flags override it: which one was meant is the user's call
    flags = {position for _, position in legacy.values() if position is not None}
    if any(position not in flags for position in range(first, positional_count(call))):
        return None
    nodes = [arg for arg, _ in legacy.values()]
    indices = sorted(index_of(call, arg) for arg in nodes)
    new = rewrite_args(call, {indices[0]: ("reduction", cst.SimpleString(f'"{reduction}"'))}, frozenset(indices[1:]))
    return NodeFix(f'Replace the legacy flags with `reduction="{reduction}"`', (Replace(call, new),))
