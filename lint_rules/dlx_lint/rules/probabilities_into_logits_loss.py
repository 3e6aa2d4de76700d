"""DLX011 probabilities-into-logits-loss: softmax fed to CrossEntropyLoss, sigmoid fed to
BCEWithLogitsLoss."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_receiver, code_of
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..fixes.losses import logits_at, through_shape_operations
from ..semantic.dataflow import LOG_SOFTMAX, SIGMOID, SOFTMAX, producer
from ..semantic.logs import classification_loss_calls


class ProbabilitiesIntoLogitsLoss(Rule):
    code = "DLX011"
    name = "probabilities-into-logits-loss"
    severity = Severity.ERROR
    requires = ("cross_entropy", "CrossEntropyLoss", "BCEWithLogits", "binary_cross_entropy_with_logits")
    summary = "softmax output fed to CrossEntropyLoss, or sigmoid output fed to BCEWithLogitsLoss"
    what = """
Reports a call of `nn.CrossEntropyLoss` / `F.cross_entropy` whose input is (through
assignments and shape-only operations) the result of `softmax` or `log_softmax`, and a call of
`nn.BCEWithLogitsLoss` / `F.binary_cross_entropy_with_logits` whose input is the result of
`sigmoid`, including a same-file model whose `forward` always returns one, or ends in an
`nn.Sequential` whose last layer is `Softmax`/`LogSoftmax`/`Sigmoid`.
"""
    why = """
These losses expect unnormalised logits and apply log-softmax (or the log-sigmoid) themselves.
Feeding probabilities applies the normalisation twice: the inputs are squashed into [0, 1],
the loss cannot go below a floor well above zero, and gradients become tiny, so training
stalls or converges to a worse model while the loss curve still looks plausible. (Feeding
`log_softmax` to cross-entropy is numerically harmless, since log-softmax is idempotent, but
it shows a misunderstanding of the API: use `NLLLoss` on log-probabilities, or pass logits.)
"""
    example = """
probs = F.softmax(logits, dim=-1)
loss = F.cross_entropy(probs, targets)
"""
    use_instead = """
loss = F.cross_entropy(logits, targets)
probs = F.softmax(logits, dim=-1)  # only where probabilities are needed
"""
    fix_safety = """
When the softmax (or sigmoid) is computed in the same function, the fix passes its input, the
logits, to the loss instead. Written inside the loss call
(`F.cross_entropy(F.softmax(x, -1), y)` -> `F.cross_entropy(x, y)`), the fix is safe. When
the probabilities are a variable (`probs = F.softmax(x, -1)`), only the loss argument is
rewritten (`probs` stays for the code that needs probabilities) and the fix is unsafe: the loss
values and gradients change, which is the point, but training must be re-tuned. For
log-softmax fed to cross-entropy the fix is always safe (the loss is the same). No fix is
offered when the probabilities come from a model's `forward` (return logits there and apply the
softmax at prediction time) or when the logits are recomputed by an expression.
"""
    limitations = """
Producers are followed within one function and into same-file models. A softmax computed from
the same logits but not fed to the loss is fine and not reported.
"""
    references = (
        Reference("PyTorch docs: CrossEntropyLoss (input: unnormalized logits)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.modules.loss.CrossEntropyLoss.html"),
        Reference("PyTorch docs: BCEWithLogitsLoss", "https://docs.pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html"),
        Reference("graph_neural_net#37", "https://github.com/mlelarge/graph_neural_net/pull/37"),
        Reference("daisyRec#15: sigmoid before BCEWithLogitsLoss", "https://github.com/yudi-mars/daisyRec/pull/15"),
        Reference("PyTorch forums: cross entropy loss is not decreasing", "https://discuss.pytorch.org/t/cross-entropy-loss-is-not-decreasing/43814/16"),
    )
    bad_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)

def step(model: Classifier, x, y, logits):
    criterion = nn.CrossEntropyLoss()
    a = criterion(model(x), y)  # expect: DLX011
    probs = torch.sigmoid(logits)
    b = F.binary_cross_entropy_with_logits(probs.view(-1), y.float())  # expect: DLX011
    return a + b
""",
    )
    fixed_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)

def step(model: Classifier, x, y, logits):
    criterion = nn.CrossEntropyLoss()
    a = criterion(model(x), y)  # expect: DLX011
    probs = torch.sigmoid(logits)
    b = F.binary_cross_entropy_with_logits(logits.view(-1), y.float())  # expect: DLX011
    return a + b
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
import torch.nn.functional as F

def step(logits, y):
    probs = F.softmax(logits, dim=-1)
    loss = F.cross_entropy(logits, y)
    accuracy = (probs.argmax(-1) == y).float().mean()
    return loss, accuracy
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, loss_kind, argument in classification_loss_calls(model):
            if loss_kind not in ("cross_entropy", "bce_with_logits"):
                continue
            made = producer(model, argument)
            if made is None:
                continue
            kind = made[0]
            if loss_kind == "cross_entropy" and kind == SOFTMAX:
                message = "CrossEntropyLoss applies log-softmax itself but receives softmax probabilities; pass the logits"
            elif loss_kind == "cross_entropy" and kind == LOG_SOFTMAX:
                message = "CrossEntropyLoss applies log-softmax itself but receives log-probabilities; pass the logits, or use NLLLoss"
            elif loss_kind == "bce_with_logits" and kind == SIGMOID:
                message = "BCEWithLogitsLoss applies the sigmoid itself but receives sigmoid probabilities; pass the logits"
            else:
                continue
            yield Finding(call, message, fix=partial(_fix, model, argument, kind, made[1]))


def _fix(model, argument: cst.BaseExpression, kind: str, made: cst.CSTNode) -> NodeFix | None:
    """Pass the producer's input (the logits) where the loss reads the probabilities."""
    terminal, nested = through_shape_operations(argument)
    found = logits_at(model, terminal, made)
    if found is None:
        return None
    logits, inline = found
    if inline or kind == LOG_SOFTMAX:
        applicability = Applicability.SAFE
    else:
        applicability = Applicability.UNSAFE
    new = as_receiver(logits) if nested else logits
    return NodeFix(f"Pass the logits `{code_of(logits)}` to the loss", (Replace(terminal, new),), applicability)
