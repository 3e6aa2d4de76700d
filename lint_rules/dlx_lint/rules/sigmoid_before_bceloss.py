"""DLX012 sigmoid-before-bceloss: `BCELoss(sigmoid(x))` instead of `BCEWithLogitsLoss(x)`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import as_receiver, code_of, spell
from ..fixes.losses import logits_at, through_shape_operations
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.dataflow import SIGMOID, producer, reaching_bindings
from ..semantic.logs import classification_loss_calls
from ..semantic.names import dotted_name


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
    fix_safety = """
When the sigmoid is computed in the same function, the fix passes its input (the logits) to the
loss and switches the loss to its logits form: `F.binary_cross_entropy` becomes
`F.binary_cross_entropy_with_logits`, and a criterion built as `nn.BCELoss(...)` becomes
`nn.BCEWithLogitsLoss(...)` with the same arguments. A variable holding the probabilities
(`probs = torch.sigmoid(logits)`) is left in place for the code that needs them; only the loss
argument changes. The fix is unsafe: the loss is the same function of the logits, but it is
now computed stably, so its values and gradients differ wherever the sigmoid saturated (which
is the point), and a run tuned around the clamped loss may behave differently. No fix is
offered when the sigmoid comes from a model's `forward` (return logits there instead), when
the criterion is built elsewhere or also used for another call (switching it would change that
call too), or when the logits were rebound since the sigmoid.
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
    fixed_examples = (
        """
import torch
import torch.nn.functional as F
from torch import nn

def step(logits, targets):
    criterion = nn.BCEWithLogitsLoss()
    probs = torch.sigmoid(logits)
    a = criterion(logits, targets)  # expect: DLX012
    b = F.binary_cross_entropy_with_logits(logits, targets)  # expect: DLX012
    return a + b
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
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
                yield Finding(call, "sigmoid followed by BCELoss is less stable than `BCEWithLogitsLoss` on the logits; drop the sigmoid and switch the loss",
                              fix=partial(_fix, model, call, argument, made[1]))


_FUNCTION = "torch.nn.functional.binary_cross_entropy"
_CLASS = "torch.nn.BCELoss"


def _fix(model, call: cst.Call, argument: cst.BaseExpression, made: cst.CSTNode) -> NodeFix | None:
    """Pass the sigmoid's input to the loss and switch the loss to its logits form."""
    terminal, nested = through_shape_operations(argument)
    found = logits_at(model, terminal, made)
    if found is None:
        return None
    logits = found[0]
    try:
        switch = _switch_loss(model, call)
    except FixUnavailable:
        return None
    if switch is None:
        return None
    new = as_receiver(logits) if nested else logits
    return NodeFix(f"Pass the logits `{code_of(logits)}` to the with-logits loss", (Replace(terminal, new), *switch))


def _switch_loss(model, call: cst.Call) -> tuple | None:
    """Changes turning the loss into its with-logits form: the function called, or the
    constructor a criterion variable is bound to (when that variable has this one binding and
    this one use)."""
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) == _FUNCTION:
        return _respell(model, func, "binary_cross_entropy_with_logits", _FUNCTION + "_with_logits")
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return None
    path = dotted_name(func)
    bindings = reaching_bindings(model, path, func) if path else []
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].unpack or not isinstance(bindings[0].value, cst.Call):
        return None
    constructor = bindings[0].value
    if not _only_use(model, path, bindings[0].node, func):
        return None
    ctor = constructor.func
    if not isinstance(ctor, (cst.Name, cst.Attribute)) or model.qualname(ctor) != _CLASS:
        return None
    if any(a.star for a in constructor.args):
        return None
    return _respell(model, ctor, "BCEWithLogitsLoss", "torch.nn.BCEWithLogitsLoss")


def _respell(model, func: cst.BaseExpression, attr: str, qualname: str) -> tuple:
    if isinstance(func, cst.Attribute):
        return (Replace(func.attr, cst.Name(attr)),)
    text, imports = spell(model, qualname, func)
    return (Replace(func, cst.parse_expression(text)), *imports)


def _only_use(model, path: str, assignment: cst.CSTNode, use: cst.CSTNode) -> bool:
    """Whether `use` is the only read of `path`: in its function for a name, in the class's
    methods for ``self.attr``."""
    if "." not in path:
        region = model.enclosing_function(assignment) or model.module
        if region is not (model.enclosing_function(use) or model.module):
            return False
    else:
        function = model.enclosing_function(assignment)
        scope = model.scopes.get(function) if function is not None else None
        if scope is None or scope.self_name is None or path.split(".", 1)[0] != scope.self_name or path.count(".") != 1:
            return False
        info = model.class_of_method(function)
        if info is None or len(info.attr_bindings(path.split(".", 1)[1])) != 1:
            return False
        region = info.node
    targets = {id(t.target) for t in getattr(assignment, "targets", ())}
    reads = 0

    class _Reads(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            nonlocal reads
            if node.value == path and id(node) not in targets:
                reads += 1

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            nonlocal reads
            if id(node) not in targets and dotted_name(node) == path:
                reads += 1
                return False
            node.value.visit(self)  # not `.attr`: `x.criterion` does not read `criterion`
            return False

    region.visit(_Reads())
    return reads == 1
