"""DLX012 sigmoid-before-bceloss: `BCELoss(sigmoid(x))` instead of `BCEWithLogitsLoss(x)`."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import SIGMOID, producer
from ..semantic.logs import classification_loss_calls


class SigmoidBeforeBCELoss(Rule):
    code = "DLX012"
    name = "sigmoid-before-bceloss"
    severity = Severity.WARNING
    requires = ("BCELoss", "binary_cross_entropy")
    summary = "sigmoid followed by BCELoss is less stable than BCEWithLogitsLoss on the logits"
    what = """
Reports `nn.BCELoss` / `F.binary_cross_entropy` whose input is (through assignments and
shape-only operations, or a same-file model's `forward`) the result of a sigmoid.
"""
    why = """
`BCEWithLogitsLoss` combines the sigmoid and the binary cross-entropy with the log-sum-exp
trick and is "more numerically stable than using a plain Sigmoid followed by a BCELoss" (its
documentation): a saturated sigmoid returns exactly 0 or 1, `BCELoss` clamps the log at -100,
and the gradient through the sigmoid vanishes. `BCELoss` is also not autocast-safe, so mixed
precision refuses it.
"""
    example = """
probs = torch.sigmoid(logits)
loss = F.binary_cross_entropy(probs, targets)
"""
    use_instead = """
loss = F.binary_cross_entropy_with_logits(logits, targets)
"""
    limitations = """
A warning, not an error: `BCEWithLogitsLoss` has its own edge cases with infinite logits
(pytorch#49844). The sigmoid must be visible in the same function or in a same-file model.
"""
    references = (
        Reference("PyTorch docs: BCEWithLogitsLoss", "https://docs.pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html"),
        Reference("qlib#756", "https://github.com/microsoft/qlib/pull/756"),
        Reference("pytorch#49844: BCEWithLogitsLoss and infinite logits", "https://github.com/pytorch/pytorch/issues/49844"),
    )
    bad_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

def step(logits, targets):
    criterion = nn.BCELoss()
    probs = torch.sigmoid(logits)
    a = criterion(probs, targets)  # expect: DLX012
    b = F.binary_cross_entropy(logits.sigmoid(), targets)  # expect: DLX012
    return a + b
""",
    )
    good_examples = (
        """
import torch
import torch.nn.functional as F

def step(logits, targets, probs):
    return F.binary_cross_entropy_with_logits(logits, targets) + F.binary_cross_entropy(probs, targets)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, loss_kind, argument in classification_loss_calls(model):
            if loss_kind != "bce":
                continue
            made = producer(model, argument)
            if made is not None and made[0] == SIGMOID:
                yield Finding(call, "sigmoid followed by BCELoss is less stable than `BCEWithLogitsLoss` on the logits; drop the sigmoid and switch the loss")
