"""Fix helpers shared by the loss-input rules (DLX011, DLX012, DLX013, DLX015): reaching the
tensor a softmax/sigmoid normalises, checking that a variable still holds what a producer
computed, and respelling softmax as log_softmax."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..semantic.dataflow import reaching_bindings
from ..semantic.names import dotted_name
from .helpers import spell
from .spec import FixUnavailable

if TYPE_CHECKING:
    from ..semantic.model import SemanticModel

SHAPE_METHODS = frozenset(
    {"view", "reshape", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "contiguous", "float",
     "double", "half", "to", "cuda", "cpu", "clone", "view_as", "reshape_as", "expand", "expand_as", "t", "type_as"}
)
_PRODUCER_MODULES = frozenset({"torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Sigmoid"})


def through_shape_operations(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    """The expression under shape-only methods and subscripts, and whether there were any."""
    node, nested = expr, False
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in SHAPE_METHODS:
            node, nested = node.func.value, True
        elif isinstance(node, cst.Subscript):
            node, nested = node.value, True
        else:
            return node, nested


def producer_input(model: "SemanticModel", call: cst.Call) -> cst.BaseExpression | None:
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


def assigned_directly(model: "SemanticModel", use: cst.BaseExpression, made: cst.CSTNode) -> bool:
    """Whether the only binding of the name or path `use` reaching it is ``use = made``."""
    path = dotted_name(use)
    bindings = reaching_bindings(model, path, use) if path else []
    return len(bindings) == 1 and bindings[0].kind == "assign" and not bindings[0].unpack and bindings[0].value is made


def same_value(model: "SemanticModel", logits: cst.BaseExpression, made: cst.CSTNode, use: cst.CSTNode) -> bool:
    """Whether the access path `logits` holds at `use` what it held at the producer."""
    path = dotted_name(logits) or ""
    head = path.split(".", 1)[0]
    return all(reaching_bindings(model, p, made) == reaching_bindings(model, p, use) for p in {path, head})


def logits_at(model: "SemanticModel", terminal: cst.BaseExpression, made: cst.CSTNode) -> tuple[cst.BaseExpression, bool] | None:
    """The logits to pass instead of `terminal` (the loss input under shape operations), and
    whether the producer is written inline (``terminal is made``); None when the producer's
    input cannot stand in for it there (a variable whose logits were rebound since, a model's
    own output, an in-place operation)."""
    if not isinstance(made, cst.Call):
        return None
    logits = producer_input(model, made)
    if logits is None:
        return None
    if terminal is made:
        return logits, True
    if isinstance(terminal, (cst.Name, cst.Attribute)) and assigned_directly(model, terminal, made) \
            and dotted_name(logits) is not None and same_value(model, logits, made, terminal):
        return logits, False
    return None


_SOFTMAX_FUNCTIONS = {
    "torch.softmax": "torch.log_softmax",
    "torch.nn.functional.softmax": "torch.nn.functional.log_softmax",
    "torch.special.softmax": "torch.special.log_softmax",
}


def log_softmax_of(model: "SemanticModel", softmax: cst.Call, at: cst.CSTNode) -> tuple[cst.Call, tuple]:
    """The softmax call respelled as the matching log_softmax (same arguments):
    ``F.softmax`` -> ``F.log_softmax``, ``torch.softmax`` -> ``torch.log_softmax``,
    ``x.softmax(d)`` -> ``x.log_softmax(d)``; and the import that needs, if any.

    Raises:
        FixUnavailable: not a softmax function or tensor method (an `nn.Softmax` module).
    """
    func = softmax.func
    name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    if name in _SOFTMAX_FUNCTIONS:
        if isinstance(func, cst.Attribute):
            return softmax.with_changes(func=func.with_changes(attr=cst.Name("log_softmax"))), ()
        text, imports = spell(model, _SOFTMAX_FUNCTIONS[name], at)
        return softmax.with_changes(func=cst.parse_expression(text)), imports
    if name is None and isinstance(func, cst.Attribute) and func.attr.value == "softmax" \
            and not model.origin(func.value).is_module:
        return softmax.with_changes(func=func.with_changes(attr=cst.Name("log_softmax"))), ()
    raise FixUnavailable("not a softmax function or method")


def inputs_unchanged(model: "SemanticModel", expression: cst.CSTNode, use: cst.CSTNode) -> bool:
    """Whether every name read by `expression` has the same reaching definitions at `use`."""
    names: list[cst.Name] = []

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

    expression.visit(_Names())
    for name in names:
        if reaching_bindings(model, name.value, name) != reaching_bindings(model, name.value, use):
            return False
    return True
