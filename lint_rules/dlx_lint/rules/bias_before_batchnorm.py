"""DLX033 bias-before-batchnorm: a bias right before BatchNorm is dead parameters."""

from __future__ import annotations

import re
from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import add_keyword
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule

_WITH_BIAS = re.compile(r"^torch\.nn\.(?:Conv[123]d|Linear|LazyConv[123]d|LazyLinear)$")
_BATCHNORM = re.compile(r"^torch\.nn\.(?:BatchNorm[123]d|SyncBatchNorm|LazyBatchNorm[123]d)$")


class BiasBeforeBatchNorm(Rule):
    code = "DLX033"
    name = "bias-before-batchnorm"
    severity = Severity.INFO
    requires = ("BatchNorm",)
    summary = "a Conv/Linear bias directly followed by BatchNorm is cancelled by the normalisation"
    what = """
In an `nn.Sequential(...)`, reports a `Conv*d`/`Linear` with the default `bias=True` directly
followed by a `BatchNorm*d` (or `SyncBatchNorm`).
"""
    why = """
Batch normalisation subtracts the per-channel mean, so a constant bias added just before it
cancels out exactly: those parameters get zero gradient from the output, cost memory and
optimizer state, and only add noise through weight decay. ResNet and most CNN code use
`bias=False` there (Ioffe & Szegedy 2015 note the bias can be ignored; BN's own shift `beta`
takes its role).
"""
    example = "block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU())\n"
    use_instead = "block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())\n"
    fix_safety = """
The fix passes `bias=False` (or turns an explicit `bias=True` into `False`) and is unsafe: the
model computes the same function when trained from scratch, but its `state_dict()` loses the
`bias` keys, so loading a checkpoint saved before the change fails with unexpected keys (pass
`strict=False` or drop them), and the random initialisation of the following layers draws
differently. Not offered when the bias is given by a variable.
"""
    limitations = "Only consecutive layers inside one `nn.Sequential(...)` call are checked, not attributes used in sequence in `forward`."
    references = (
        Reference("Ioffe & Szegedy, Batch Normalization (ICML 2015)", "https://arxiv.org/abs/1502.03167"),
        Reference("torchvision ResNet: conv layers with bias=False before BatchNorm", "https://github.com/pytorch/vision/blob/main/torchvision/models/resnet.py"),
    )
    bad_examples = (
        """
from torch import nn

block = nn.Sequential(
    nn.Conv2d(64, 128, 3, padding=1),  # expect: DLX033
    nn.BatchNorm2d(128),
    nn.ReLU(),
)
""",
    )
    fixed_examples = (
        """
from torch import nn

block = nn.Sequential(
    nn.Conv2d(64, 128, 3, padding=1, bias=False),  # expect: DLX033
    nn.BatchNorm2d(128),
    nn.ReLU(),
)
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
from torch import nn

block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
head = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.BatchNorm1d(8))
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_to("Sequential"):
            if model.qualname(call.func) != "torch.nn.Sequential":
                continue
            layers = [a.value for a in call.args if a.keyword is None and not a.star]
            for first, second in zip(layers, layers[1:]):
                if _is_call_of(model, first, _WITH_BIAS) and _is_call_of(model, second, _BATCHNORM) and _has_bias(model, first):
                    yield Finding(first, "this layer's bias is cancelled by the BatchNorm right after it; pass `bias=False`",
                                  fix=partial(_fix, model, first))


def _is_call_of(model, expr: cst.BaseExpression, pattern: re.Pattern) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)) \
        and bool(pattern.match(model.qualname(expr.func) or ""))


def _has_bias(model, call: cst.Call) -> bool:
    # bias is the 3rd positional argument of Linear and the 8th of Conv*d.
    position = 2 if (model.qualname(call.func) or "").endswith("Linear") else 7
    positional = 0
    for arg in call.args:
        if arg.star:
            return False
        value = None
        if arg.keyword is not None and arg.keyword.value == "bias":
            value = arg.value
        elif arg.keyword is None:
            if positional == position:
                value = arg.value
            positional += 1
        if value is not None:
            return not (isinstance(value, cst.Name) and value.value == "False")
    return True


def _fix(model, call: cst.Call) -> NodeFix | None:
    """`bias=False` appended, or an explicit literal `True` bias (keyword or positional)
    turned into `False`."""
    position = 2 if (model.qualname(call.func) or "").endswith("Linear") else 7
    positional = 0
    false = cst.Name("False")
    for arg in call.args:
        given = arg.keyword is not None and arg.keyword.value == "bias"
        if arg.keyword is None:
            given = positional == position
            positional += 1
        if given:
            if not (isinstance(arg.value, cst.Name) and arg.value.value == "True"):
                return None  # a variable: the configuration decides
            return NodeFix("Pass `bias=False`", (Replace(arg.value, false),))
    return NodeFix("Pass `bias=False`", (Replace(call, add_keyword(call, "bias", false)),))
