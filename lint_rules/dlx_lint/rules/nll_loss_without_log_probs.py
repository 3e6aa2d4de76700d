"""DLX015 nll-loss-without-log-probs: `NLLLoss` fed probabilities or raw scores."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_argument, spell
from ..fixes.losses import log_softmax_of, through_shape_operations
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.dataflow import SIGMOID, SOFTMAX, producer, raw_scores
from ..semantic.logs import classification_loss_calls


class NllLossWithoutLogProbs(Rule):
    code = "DLX015"
    name = "nll-loss-without-log-probs"
    severity = Severity.WARNING
    requires = ("NLLLoss", "nll_loss")
    summary = "NLLLoss expects log-probabilities; it receives probabilities or raw scores"
    what = """
Reports `nn.NLLLoss` / `F.nll_loss` whose input is (through assignments, shape-only
operations, tuple unpacking of a same-file model's output) a softmax or sigmoid result, or the
raw output of an `nn.Linear`/`nn.Conv*` layer or of a same-file model that returns one.
"""
    why = """
`NLLLoss` just picks `-input[target]`: it is only a negative log-likelihood when its input is
log-probabilities (a `LogSoftmax` output). Fed probabilities, the "loss" is minus a
probability, always in [-1, 0], with tiny gradients; fed raw scores it is unbounded below, so
the optimiser can push it to minus infinity. Either way training does not optimise what it
should. Zhang et al. list "Loss API Misused".
"""
    example = """
probs = F.softmax(model(x), dim=1)
loss = F.nll_loss(probs, y)
"""
    use_instead = """
loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)   # or: F.cross_entropy(model(x), y)
"""
    fix_safety = """
For a softmax written inside the loss call (`F.nll_loss(F.softmax(x, dim=1), y)`), the fix
turns it into the matching `log_softmax` with the same arguments. For raw scores (the output of
an `nn.Linear`/`nn.Conv*` layer or a model returning one), it wraps the input in
`F.log_softmax(..., dim=1)`, the class dimension of `NLLLoss`'s `(N, C, ...)` input (an
unbatched `(C,)` input needs `dim=0`: check). Both are unsafe: the loss values and gradients
change, which is the point, so a run tuned on the wrong loss behaves differently. No fix is
offered for a softmax held in a variable (it may be used elsewhere), an `nn.Softmax` module or
a sigmoid (binary probabilities call for `BCELoss`, not `NLLLoss`).
"""
    limitations = "A model defined in another module is not followed: its output kind is unknown, so nothing is reported."
    references = (
        Reference("PyTorch docs: NLLLoss (input: log-probabilities)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html"),
        Reference("pytorch#12703: NLLLoss docs example on raw scores", "https://github.com/pytorch/pytorch/pull/12703"),
        Reference("Text-Classification-Models-Pytorch#9", "https://github.com/AnubhavGupta3377/Text-Classification-Models-Pytorch/issues/9"),
        Reference("ml-smells: Loss API Misused", "https://hynn01.github.io/ml-smells/"),
    )
    bad_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

def step(x, y):
    head = nn.Linear(8, 3)
    criterion = nn.NLLLoss()
    a = criterion(head(x), y)  # expect: DLX015
    b = F.nll_loss(F.softmax(head(x), dim=1), y)  # expect: DLX015
    return a + b
""",
    )
    fixed_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

def step(x, y):
    head = nn.Linear(8, 3)
    criterion = nn.NLLLoss()
    a = criterion(F.log_softmax(head(x), dim=1), y)  # expect: DLX015
    b = F.nll_loss(F.log_softmax(head(x), dim=1), y)  # expect: DLX015
    return a + b
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)

def step(model, net: Net, x, y):
    return F.nll_loss(model(x), y) + F.nll_loss(net(x), y) + F.nll_loss(torch.log(F.softmax(x, 1) + 1e-9), y)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, loss_kind, argument in classification_loss_calls(model):
            if loss_kind != "nll":
                continue
            made = producer(model, argument)
            if made is not None and made[0] in (SOFTMAX, SIGMOID):
                fix = partial(_softmax_fix, model, argument, made[1]) if made[0] == SOFTMAX else None
                yield Finding(call, "NLLLoss expects log-probabilities but receives probabilities; use `log_softmax` (or `CrossEntropyLoss` on the logits)", fix=fix)
            elif made is None and raw_scores(model, argument) is not None:
                yield Finding(call, "NLLLoss expects log-probabilities but receives raw scores; apply `F.log_softmax(..., dim=1)` or use `CrossEntropyLoss`",
                              fix=partial(_scores_fix, model, argument))


def _softmax_fix(model, argument: cst.BaseExpression, softmax: cst.CSTNode) -> NodeFix | None:
    """A softmax written in the loss call (under shape operations) becomes `log_softmax`."""
    terminal, _ = through_shape_operations(argument)
    if terminal is not softmax or not isinstance(softmax, cst.Call):
        return None
    try:
        new, imports = log_softmax_of(model, softmax, softmax)
    except FixUnavailable:
        return None
    return NodeFix("Use `log_softmax` instead of `softmax`", (Replace(softmax, new), *imports))


def _scores_fix(model, argument: cst.BaseExpression) -> NodeFix | None:
    """Raw scores wrapped in `F.log_softmax(..., dim=1)`."""
    try:
        text, imports = spell(model, "torch.nn.functional.log_softmax", argument)
    except FixUnavailable:
        return None
    new = cst.Call(
        func=cst.parse_expression(text),
        args=[
            cst.Arg(as_argument(argument), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(cst.Integer("1"), keyword=cst.Name("dim"),
                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))),
        ],
    )
    return NodeFix(f"Wrap the scores in `{text}(..., dim=1)`", (Replace(argument, new), *imports))
