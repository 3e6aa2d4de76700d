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
from ..semantic.dataflow import LOG_SOFTMAX, SIGMOID, SOFTMAX, producer, reaching_bindings
from ..semantic.logs import classification_loss_calls
from ..semantic.names import dotted_name


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


_SHAPE_METHODS = frozenset(
    {"view", "reshape", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "contiguous", "float",
     "double", "half", "to", "cuda", "cpu", "clone", "view_as", "reshape_as", "expand", "expand_as", "t", "type_as"}
)
_PRODUCER_MODULES = frozenset({"torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Sigmoid"})


def _fix(model, argument: cst.BaseExpression, kind: str, made: cst.CSTNode) -> NodeFix | None:
    """Pass the producer's input (the logits) where the loss reads the probabilities."""
    terminal, nested = _through_shape_operations(argument)
    if not isinstance(made, cst.Call):
        return None
    logits = _producer_input(model, made)
    if logits is None:
        return None
    if terminal is made:
        applicability = Applicability.SAFE
    elif isinstance(terminal, (cst.Name, cst.Attribute)) and _assigned_directly(model, terminal, made) \
            and dotted_name(logits) is not None and _same_value(model, logits, made, terminal):
        applicability = Applicability.SAFE if kind == LOG_SOFTMAX else Applicability.UNSAFE
    else:
        return None
    new = as_receiver(logits) if nested else logits
    return NodeFix(f"Pass the logits `{code_of(logits)}` to the loss", (Replace(terminal, new),), applicability)


def _through_shape_operations(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    """The expression under shape-only methods and subscripts, and whether there were any."""
    node, nested = expr, False
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _SHAPE_METHODS:
            node, nested = node.func.value, True
        elif isinstance(node, cst.Subscript):
            node, nested = node.value, True
        else:
            return node, nested


def _producer_input(model, call: cst.Call) -> cst.BaseExpression | None:
    """The tensor a softmax/log_softmax/sigmoid call normalises: the receiver of the method,
    the first argument of the function or of an `nn.Softmax`-like module; None for in-place
    methods and for models whose `forward` ends with the operation."""
    func = call.func
    name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    if name is None and isinstance(func, cst.Attribute) and not model.origin(func.value).is_module:
        # A tensor method (`x.softmax(-1)`); `self.softmax(x)` with an `nn.Softmax` attribute
        # is a module call, handled below.
        method = func.attr.value
        if method in ("softmax", "log_softmax", "sigmoid"):
            return func.value
        return None
    if name is None or not name.startswith("torch."):
        origin = model.origin(func)
        if origin.qualname not in _PRODUCER_MODULES:
            return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "input":
            return arg.value
    first = call.args[0] if call.args else None
    if first is None or first.keyword is not None or first.star:
        return None
    return first.value


def _assigned_directly(model, use: cst.BaseExpression, made: cst.Call) -> bool:
    path = dotted_name(use)
    bindings = reaching_bindings(model, path, use) if path else []
    return len(bindings) == 1 and bindings[0].kind == "assign" and not bindings[0].unpack and bindings[0].value is made


def _same_value(model, logits: cst.BaseExpression, made: cst.CSTNode, use: cst.CSTNode) -> bool:
    """Whether the access path `logits` holds at `use` what it held at the producer."""
    path = dotted_name(logits) or ""
    head = path.split(".", 1)[0]
    return all(reaching_bindings(model, p, made) == reaching_bindings(model, p, use) for p in {path, head})
