"""Values accumulated across loop iterations (DLX006, DLX007): is the accumulated value a
graph tensor, does the accumulator outlive the loop, and is it exempt because its graph is
used (backwarded in the function, returned, or stored for a later backward; clauses 1, 20)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .dataflow import backward_roots, backwarded_paths, escape_roots, flows_into, function_owner, is_graph_value
from .names import dotted_name
from .regions import grad_disabled

if TYPE_CHECKING:
    from .model import SemanticModel


def accumulator_path(target: cst.BaseExpression) -> str | None:
    """The access path of an accumulator target: ``total`` for ``total``, ``self.total``, or
    ``totals[k]``."""
    if isinstance(target, cst.Subscript):
        target = target.value
    return dotted_name(target)


def leaks_graph(model: "SemanticModel", node: cst.CSTNode, accumulator: str, value: cst.BaseExpression) -> bool:
    """Whether accumulating `value` into `accumulator` at `node` keeps autograd graphs alive
    across iterations of the innermost loop around `node`."""
    loop = model.innermost_loop(node)
    if loop is None or _inside_model_code(model, node):
        return False
    owner = function_owner(model, node)
    if not _defined_before(model, accumulator, loop, owner):
        return False
    if not is_graph_value(model, value) or grad_disabled(model, node):
        return False
    if flows_into(model, owner, accumulator, backward_roots(model, owner)):
        return False
    if flows_into(model, owner, accumulator, escape_roots(model, owner)):
        return False
    if "." in accumulator and _backwarded_by_a_method(model, node, accumulator):
        return False
    return True


def backward_runs_in(model: "SemanticModel", node: cst.CSTNode) -> bool:
    """Whether the function around `node` calls backward (clause 17 wording)."""
    return bool(backwarded_paths(model, function_owner(model, node))) or bool(backward_roots(model, function_owner(model, node)))


def _defined_before(model: "SemanticModel", accumulator: str, loop: cst.CSTNode, owner: cst.CSTNode) -> bool:
    head = accumulator.split(".", 1)[0]
    scope = model.scopes.get(owner) or model.root_scope
    if "." in accumulator:
        return True  # an attribute outlives the loop
    bindings = scope.bindings.get(head)
    if not bindings:
        return True  # a global or closure variable
    loop_order = model.order.get(loop, -1)
    for binding in bindings:
        if binding.kind == "param":
            return True
        if not model.loop_contains(loop, binding.node) and model.order_of(binding.node) < loop_order:
            return True
    return False


def _backwarded_by_a_method(model: "SemanticModel", node: cst.CSTNode, accumulator: str) -> bool:
    function = model.enclosing_function(node)
    if function is None:
        return False
    info = model.class_of_method(function)
    scope = model.method_scope(model.scope_for(node))
    if info is None or scope is None:
        return False
    attribute = accumulator.split(".", 1)[1] if accumulator.startswith(f"{scope.self_name}.") else None
    if attribute is None:
        return False
    for method in info.methods.values():
        method_scope = model.scopes[method]
        path = f"{method_scope.self_name}.{attribute}"
        if flows_into(model, method, path, backward_roots(model, method)):
            return True
    return False


def _inside_model_code(model: "SemanticModel", node: cst.CSTNode) -> bool:
    """Inside a method of an ``nn.Module`` subclass (not a LightningModule): loops there run
    within one forward pass (over layers, feature levels, decoding steps), so what they
    collect dies with the call instead of piling up across training iterations."""
    function = model.enclosing_function(node)
    while function is not None:
        info = model.class_of_method(function)
        if info is not None:
            return info.is_module and not info.is_lightning_module
        function = model.enclosing_function(function)
    return False
