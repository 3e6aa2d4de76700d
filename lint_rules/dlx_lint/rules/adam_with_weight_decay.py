"""DLX028 adam-with-weight-decay: L2 weight decay in Adam is not decoupled weight decay."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import spell
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.constants import single_definition_value

_ADAM = frozenset({"torch.optim.Adam"})
_WEIGHT_DECAY_POSITION = 4  # Adam(params, lr, betas, eps, weight_decay, ...)


class AdamWithWeightDecay(Rule):
    code = "DLX028"
    name = "adam-with-weight-decay"
    severity = Severity.INFO
    requires = ("Adam",)
    summary = "Adam(weight_decay=w) applies L2 regularisation, not decoupled weight decay; consider AdamW"
    what = "Reports `torch.optim.Adam(...)` called with a non-zero `weight_decay`."
    why = """
In `Adam`, `weight_decay` adds `w * param` to the gradient, which is then divided by the
adaptive denominator: parameters with large gradient history are barely decayed, so it does
not act as weight decay. Loshchilov & Hutter showed that decoupling the decay from the
gradient update (AdamW) regularises as intended and generalises better; `torch.optim.AdamW`
implements the decoupled form.
"""
    example = "opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-2)\n"
    use_instead = "opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)\n"
    fix_safety = """
The fix replaces `Adam` by `AdamW` with the same arguments (the two take the same positional
parameters) and is unsafe: the decay now shrinks every weight by `lr * weight_decay` per step
instead of entering the adaptive gradient, so the optimisation changes and the best
weight-decay value is usually larger; re-tune it. Not offered when the call passes `*args`,
`**kwargs` or `decoupled_weight_decay=` (which `AdamW` does not accept).
"""
    limitations = """
A name or attribute counts as non-zero only when its single definition in the file is a
non-zero literal (an argparse `default=` included); anything else unknown is silent.
"""
    references = (
        Reference("Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019)", "https://arxiv.org/abs/1711.05101"),
        Reference("PyTorch docs: torch.optim.AdamW", "https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html"),
    )
    bad_examples = (
        """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--wd", type=float, default=5e-4)
args = parser.parse_args()

def build(model):
    a = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-2)  # expect: DLX028
    b = torch.optim.Adam(model.parameters(), 1e-3, (0.9, 0.999), 1e-8, 0.01)  # expect: DLX028
    c = torch.optim.Adam(model.parameters(), weight_decay=args.wd)  # expect: DLX028
    return a, b, c
""",
    )
    fixed_examples = (
        """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--wd", type=float, default=5e-4)
args = parser.parse_args()

def build(model):
    a = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)  # expect: DLX028
    b = torch.optim.AdamW(model.parameters(), 1e-3, (0.9, 0.999), 1e-8, 0.01)  # expect: DLX028
    c = torch.optim.AdamW(model.parameters(), weight_decay=args.wd)  # expect: DLX028
    return a, b, c
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

def build(model, wd):
    a = torch.optim.Adam(model.parameters(), lr=1e-3)
    b = torch.optim.Adam(model.parameters(), weight_decay=0.0)
    c = torch.optim.AdamW(model.parameters(), weight_decay=1e-2)
    d = torch.optim.Adam(model.parameters(), weight_decay=wd)
    return a, b, c, d
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_to("Adam"):
            if model.qualname(call.func) not in _ADAM:
                continue
            value = _weight_decay(call)
            if value is None:
                continue
            decay = single_definition_value(model, value)
            if decay is not None and decay != 0:
                yield Finding(call, "Adam's `weight_decay` is L2 regularisation scaled by the adaptive step, not decoupled weight decay; use `torch.optim.AdamW` with the same arguments",
                              fix=partial(_fix, model, call))


def _fix(model, call: cst.Call) -> NodeFix | None:
    """`Adam(...)` -> `AdamW(...)`, spelled like the `Adam` it replaces."""
    if any(a.star for a in call.args) or any(a.keyword is not None and a.keyword.value == "decoupled_weight_decay" for a in call.args):
        return None
    func = call.func
    imports: tuple = ()
    if isinstance(func, cst.Attribute):
        new_func: cst.BaseExpression = func.with_changes(attr=cst.Name("AdamW"))
    else:
        text, imports = spell(model, "torch.optim.AdamW", call)
        new_func = cst.parse_expression(text)
    return NodeFix("Use `torch.optim.AdamW` (re-tune the weight decay)", (Replace(func, new_func), *imports))


def _weight_decay(call: cst.Call) -> cst.BaseExpression | None:
    positional = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is not None:
            if arg.keyword.value == "weight_decay":
                return arg.value
            continue
        if positional == _WEIGHT_DECAY_POSITION:
            return arg.value
        positional += 1
    return None
