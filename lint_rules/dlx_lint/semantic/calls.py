"""Same-file call resolution: which function a call lands in, and which argument each
parameter receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .names import dotted_name

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Scope


def resolve_callee(model: "SemanticModel", call: cst.Call, scope: "Scope") -> cst.FunctionDef | None:
    """The same-file function or method `call` invokes, or None when unknown.

    Handles ``helper(...)`` (module-level or nested ``def``), ``self.method(...)`` (through
    same-file base classes), ``super().method(...)`` and ``obj.method(...)`` where ``obj`` is
    an instance of a same-file class.
    """
    return model.memo(("callee", call), lambda: _resolve(model, call, scope))


def _resolve(model: "SemanticModel", call: cst.Call, scope: "Scope") -> cst.FunctionDef | None:
    func = call.func
    if isinstance(func, cst.Name):
        for current in scope.lookup_chain():
            bindings = current.bindings.get(func.value)
            if bindings:
                last = bindings[-1]
                if last.kind == "def" and isinstance(last.node, cst.FunctionDef):
                    return last.node
                return None
        return None
    if not isinstance(func, cst.Attribute):
        return None
    name = func.attr.value
    receiver = func.value
    method_scope = model.method_scope(scope)
    if method_scope is not None:
        info = model.class_of_method(method_scope.node)  # type: ignore[arg-type]
        if info is not None:
            if isinstance(receiver, cst.Name) and receiver.value == method_scope.self_name:
                return info.method(name)
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
                for base in info.lineage()[1:]:
                    if name in base.methods:
                        return base.methods[name]
                return None
    if isinstance(receiver, (cst.Name, cst.Attribute)) and dotted_name(receiver) is not None:
        origin = model.origin(receiver, scope)
        if origin.cls is not None and origin.certain:
            return origin.cls.method(name)
    return None


@dataclass(frozen=True)
class BoundCall:
    """How a call's arguments map to a same-file callee's parameters.

    Attributes:
        callee: the function called.
        arguments: parameter name -> argument expression (parameters left to defaults are
            absent; ``*args``/``**kwargs`` at the call site stop positional mapping).
        receiver: for a method call, the access path of the receiver (``self``, ``trainer``),
            which the callee's ``self`` parameter stands for.
    """

    callee: cst.FunctionDef
    arguments: dict[str, cst.BaseExpression]
    receiver: str | None


def bind_call(model: "SemanticModel", call: cst.Call, scope: "Scope") -> BoundCall | None:
    """Resolve `call` to a same-file function and map its arguments, or None."""
    callee = resolve_callee(model, call, scope)
    if callee is None:
        return None
    callee_scope = model.scopes[callee]
    params = list(callee.params.posonly_params) + list(callee.params.params)
    receiver = None
    if callee_scope.self_name is not None:
        if isinstance(call.func, cst.Attribute):
            if isinstance(call.func.value, cst.Call):  # super().m(...)
                receiver = model.method_scope(scope).self_name if model.method_scope(scope) else None  # type: ignore[union-attr]
            else:
                receiver = dotted_name(call.func.value)
        params = params[1:]
    arguments: dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in call.args:
        if arg.star:
            if arg.star == "*":
                position = len(params)  # positions after *args are unknown
            continue
        if arg.keyword is not None:
            arguments[arg.keyword.value] = arg.value
            continue
        if position < len(params):
            arguments[params[position].name.value] = arg.value
        position += 1
    return BoundCall(callee, arguments, receiver)


def map_slot(bound: BoundCall, slot: str, callee_scope: "Scope") -> str | None:
    """The caller-side access path standing for a callee-side slot, or None.

    A slot is a parameter name (``opt``) or a path under the callee's ``self``
    (``self.opt``), and maps to the argument's access path or the receiver's path.
    """
    head, _, rest = slot.partition(".")
    if callee_scope.self_name is not None and head == callee_scope.self_name:
        if bound.receiver is None:
            return None
        return bound.receiver + ("." + rest if rest else "")
    argument = bound.arguments.get(head)
    if argument is None:
        return None
    base = dotted_name(argument)
    if base is None:
        return None
    return base + ("." + rest if rest else "")
