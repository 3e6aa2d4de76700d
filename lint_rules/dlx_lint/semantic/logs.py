"""`log` calls and what feeds the losses that expect logits (DLX011, DLX013, DLX014)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .kinds import Kind
from .names import dotted_name

if TYPE_CHECKING:
    from .model import SemanticModel

_LOG_FUNCTIONS = frozenset({"torch.log", "torch.log2", "torch.log10"})
_LOG_METHODS = frozenset({"log", "log2", "log10", "log_"})


def log_argument(model: "SemanticModel", call: cst.Call) -> cst.BaseExpression | None:
    """The argument of ``torch.log/log2/log10(x)`` or of the tensor method ``x.log()``; None
    for other calls (``math.log``, ``np.log``, Lightning's ``self.log("name", value)``)."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return None
    name = model.qualname(func)
    if name in _LOG_FUNCTIONS:
        for arg in call.args:
            if arg.keyword is None and not arg.star:
                return arg.value
            if arg.keyword is not None and arg.keyword.value == "input":
                return arg.value
        return None
    if name is None and isinstance(func, cst.Attribute) and func.attr.value in _LOG_METHODS and not call.args:
        receiver = func.value
        origin = model.origin(receiver)
        if origin.kind in (Kind.UNKNOWN, Kind.TENSOR):
            return receiver
    return None


def is_natural_log(model: "SemanticModel", call: cst.Call) -> bool:
    """Whether `call` is ``torch.log(x)`` with one positional argument or ``x.log()`` (not
    ``log2``/``log10``, not the in-place ``log_``, no ``out=``): the calls a fix may rewrite."""
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) == "torch.log":
        return len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star
    return isinstance(func, cst.Attribute) and func.attr.value == "log" and not call.args


def log_calls(model: "SemanticModel") -> list[tuple[cst.Call, cst.BaseExpression]]:
    """(call, argument) for every tensor log in the file."""
    def compute():
        candidates = []
        for name in ("log", "log2", "log10", "log_"):
            candidates += model.calls_to(name)
        found = []
        for call in candidates:
            argument = log_argument(model, call)
            if argument is not None:
                found.append((call, argument))
        return found

    return model.cached("log-calls", compute)


_CROSS_ENTROPY = "cross_entropy"
_BCE_WITH_LOGITS = "bce_with_logits"
_BCE = "bce"
_NLL = "nll"
_LOSS_FUNCTIONS = {
    "torch.nn.functional.cross_entropy": _CROSS_ENTROPY,
    "torch.nn.functional.binary_cross_entropy_with_logits": _BCE_WITH_LOGITS,
    "torch.nn.functional.binary_cross_entropy": _BCE,
    "torch.nn.functional.nll_loss": _NLL,
}
_LOSS_CLASSES = {
    "torch.nn.CrossEntropyLoss": _CROSS_ENTROPY,
    "torch.nn.BCEWithLogitsLoss": _BCE_WITH_LOGITS,
    "torch.nn.BCELoss": _BCE,
    "torch.nn.NLLLoss": _NLL,
}


def logits_loss_input(model: "SemanticModel", call: cst.Call) -> tuple[str, cst.BaseExpression] | None:
    """(kind, input expression) for a call of a classification loss whose input kind matters:
    ``cross_entropy`` (``F.cross_entropy``, ``nn.CrossEntropyLoss``), ``bce_with_logits``
    (``F.binary_cross_entropy_with_logits``, ``nn.BCEWithLogitsLoss``), ``bce``
    (``F.binary_cross_entropy``, ``nn.BCELoss``) and ``nll`` (``F.nll_loss``, ``nn.NLLLoss``);
    else None."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute, cst.Call)):
        return None
    kind = None if isinstance(func, cst.Call) else _LOSS_FUNCTIONS.get(model.qualname(func) or "")
    if kind is None:
        origin = model.origin(func)
        if origin.kind is Kind.LOSS:
            kind = _LOSS_CLASSES.get(origin.qualname or "")
    if kind is None:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "input":
            return kind, arg.value
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return kind, arg.value
    return None


_LOSS_FUNCTION_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _LOSS_FUNCTIONS)
_LOSS_CLASS_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _LOSS_CLASSES)


def classification_loss_calls(model: "SemanticModel") -> list[tuple[cst.Call, str, cst.BaseExpression]]:
    """(call, kind, input) for every call of a classification loss in the file.

    Cheap candidates first: calls named like a loss function, calls of names or attributes
    bound to a loss-class constructor, and inline constructors (``nn.NLLLoss()(x, y)``); only
    those are resolved through the semantic model."""
    def compute():
        criteria = set()
        for node in model.assigns:
            value = node.value
            if isinstance(value, cst.Call):
                name = dotted_name(value.func) or ""
                qualified = model.qualname(value.func) or ""
                if name.rsplit(".", 1)[-1] in _LOSS_CLASS_NAMES or qualified in _LOSS_CLASSES:
                    for target in node.targets:
                        path = dotted_name(target.target)
                        if path is not None:
                            criteria.add(path.rsplit(".", 1)[-1])
        candidates = []
        for name in _LOSS_FUNCTION_NAMES:
            candidates += model.calls_to(name)
        for name in criteria:
            candidates += model.calls_by_attr.get(name, []) + model.calls_by_name.get(name, [])
        for call in model.calls:
            if isinstance(call.func, cst.Call):
                candidates.append(call)
        found = []
        seen = set()
        for call in candidates:
            if id(call) in seen:
                continue
            seen.add(id(call))
            result = logits_loss_input(model, call)
            if result is not None:
                found.append((call, result[0], result[1]))
        found.sort(key=lambda item: model.order_of(item[0]))
        return found

    return model.cached("classification-loss-calls", compute)
