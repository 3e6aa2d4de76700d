"""Regions of code: gradient-disabled contexts and evaluation regions.

Evaluation regions follow rules-catalog.md section 1 and clauses 2, 3 and 13:
- a function that directly calls ``m.eval()``/``m.train(False)``, or is decorated with
  ``torch.no_grad``/``torch.inference_mode``, or is named ``validat*``/``evaluat*``/``test*``/
  ``eval*`` (not pytest's ``test_*``), and that neither steps an optimizer nor calls backward
  (directly or through same-file callees); Lightning's ``validation_step``/``test_step``/
  ``predict_step`` methods are exempt;
- a loop over an iterable named like ``val_loader``/``valid*``/``test*``/``eval*``/``dev*``
  that does not train;
- inside any function, the code an ``m.eval()`` dominates, until ``m.train()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .flow import PathWalker, block_statements
from .names import dotted_name
from .training import (
    callee_summary,
    calls_in,
    is_backward,
    loop_trains,
    mapped_slots,
    mode_switch,
    step_info,
    summary,
)

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Scope

_GRAD_OFF = frozenset({"torch.no_grad", "torch.inference_mode"})
_SET_GRAD = frozenset({"torch.set_grad_enabled"})
_EVAL_NAME = re.compile(r"^(?:validat|evaluat|test|eval)", re.IGNORECASE)
_EVAL_ITERABLE = re.compile(r"^(?:val|valid|validation|test|testing|eval|evaluation|dev)(?:$|_|[A-Z0-9])", re.IGNORECASE)
_LIGHTNING_HOOKS = frozenset({"validation_step", "test_step", "predict_step"})
_SKORCH_HOOKS = frozenset({"validation_step", "evaluation_step"})
_AUTOGRAD_GRAD = frozenset({"torch.autograd.grad"})


# --------------------------------------------------------------------------- gradient mode


def disables_grad(model: "SemanticModel", expr: cst.BaseExpression, scope: "Scope | None" = None) -> bool:
    """Whether a context-manager or decorator expression turns autograd off, or sets the
    grad mode deliberately from a variable: ``torch.no_grad()``, ``torch.inference_mode()``
    (not ``inference_mode(False)``), ``torch.set_grad_enabled(False)`` and
    ``torch.set_grad_enabled(flag)``, or the bare decorators ``@torch.no_grad``."""
    scope = scope or model.scope_for(expr)
    if isinstance(expr, cst.Call):
        name = model.qualname(expr.func, scope)
        if name in _GRAD_OFF:
            if expr.args and _is_true_or_false(expr.args[0].value) == "False":
                return False
            return True
        if name in _SET_GRAD and expr.args:
            return _is_true_or_false(expr.args[0].value) != "True"
        return False
    return model.qualname(expr, scope) in _GRAD_OFF


def _is_true_or_false(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value
    return None


def _strict_grad_mode(model: "SemanticModel", expr: cst.BaseExpression) -> bool | None:
    """False when `expr` surely disables autograd, True when it surely enables it
    (``torch.enable_grad()``, ``set_grad_enabled(True)``), None otherwise."""
    name = model.qualname(expr.func if isinstance(expr, cst.Call) else expr)
    args = expr.args if isinstance(expr, cst.Call) else ()
    flag = _is_true_or_false(args[0].value) if args else None
    if name in _GRAD_OFF:
        return True if flag == "False" else False
    if name in _SET_GRAD and flag is not None:
        return flag == "True"
    if name in ("torch.enable_grad",):
        return True
    return None


def strictly_grad_disabled(model: "SemanticModel", node: cst.CSTNode) -> bool:
    """Whether `node` surely runs with autograd off: inside ``with torch.no_grad()``,
    ``torch.inference_mode()`` or ``torch.set_grad_enabled(False)`` (or under such a
    decorator) with no ``torch.enable_grad()`` in between, in the same function."""
    for ancestor in model.ancestors(node):
        if isinstance(ancestor, cst.With):
            for item in ancestor.items:
                mode = _strict_grad_mode(model, item.item)
                if mode is not None:
                    return not mode
        elif isinstance(ancestor, cst.FunctionDef):
            for decorator in ancestor.decorators:
                mode = _strict_grad_mode(model, decorator.decorator)
                if mode is not None:
                    return not mode
            return False
        elif isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return False
    return False


def function_disables_grad(model: "SemanticModel", function: cst.FunctionDef) -> bool:
    """Whether a function is decorated with ``torch.no_grad`` / ``torch.inference_mode``."""
    outer = model.scope_for(function)
    return any(disables_grad(model, d.decorator, outer) for d in function.decorators)


def lexically_grad_disabled(model: "SemanticModel", node: cst.CSTNode) -> bool:
    """Whether `node` sits in a ``with torch.no_grad()``-like block or in a function
    decorated so (stopping at the innermost function boundary)."""
    for ancestor in model.ancestors(node):
        if isinstance(ancestor, cst.With):
            if any(disables_grad(model, item.item) for item in ancestor.items):
                return True
        elif isinstance(ancestor, cst.FunctionDef):
            return function_disables_grad(model, ancestor)
        elif isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return False
    return False


def grad_disabled(model: "SemanticModel", node: cst.CSTNode, _depth: int = 0) -> bool:
    """`lexically_grad_disabled`, or `node`'s function is only ever called (in this file, at
    least once) from grad-disabled code."""
    if lexically_grad_disabled(model, node):
        return True
    function = model.enclosing_function(node)
    if function is None or _depth >= 3:
        return False
    sites = call_sites(model, function)
    return bool(sites) and all(grad_disabled(model, site, _depth + 1) for site in sites)


def call_sites(model: "SemanticModel", function: cst.FunctionDef) -> list[cst.Call]:
    """Same-file calls that resolve to `function`."""
    from .calls import resolve_callee

    def compute() -> list[cst.Call]:
        name = function.name.value
        candidates = model.calls_by_name.get(name, []) + model.calls_by_attr.get(name, [])
        return [c for c in candidates if resolve_callee(model, c, model.scope_for(c)) is function]

    return model.cached(("call-sites", function), compute)


# --------------------------------------------------------------------------- eval-mode dominance


class _ModeDominance:
    """Must-analysis of train/eval mode per access path. A state is a frozenset of
    ``(path, mode)`` with mode ``eval``, ``train`` or ``n/a`` (on the arm of
    ``if isinstance(m, nn.Module)`` where `m` is not a module)."""

    def __init__(self, model: "SemanticModel"):
        self.model = model
        self.at_call: dict[cst.Call, tuple[frozenset, frozenset, frozenset]] = {}

    @staticmethod
    def _set(state, path, mode):
        return frozenset(e for e in state if e[0] != path) | {(path, mode)}

    def on_assign(self, state, target, node):
        return frozenset(e for e in state if e[0] != target)

    def on_branch(self, state, test, taken):
        path = _isinstance_module_test(self.model, test)
        if path is not None and not taken:
            return self._set(state, path, "n/a")
        return state

    def on_call(self, state, call):
        eval_paths = frozenset(p for p, m in state if m == "eval")
        moded = frozenset(p for p, _ in state)
        chosen = frozenset(p for p, m in state if m != "train")  # eval, a flag, or not a module
        previous = self.at_call.get(call)
        if previous is None:
            self.at_call[call] = (eval_paths, moded, chosen)
        else:
            self.at_call[call] = (previous[0] & eval_paths, previous[1] & moded, previous[2] | chosen)
        switch = mode_switch(self.model, call)
        if switch is not None:
            return self._set(state, switch[0], switch[1])
        found = callee_summary(self.model, call, self.model.scope_for(call))
        if found is not None:
            bound, callee, callee_scope = found
            for slot, path in mapped_slots(bound, callee_scope, callee.final_mode).items():
                finals = callee.final_mode[slot]
                if finals == {"eval"}:
                    state = self._set(state, path, "eval")
                elif finals == {"train"}:
                    state = self._set(state, path, "train")
                elif "train" in finals or "eval" in finals:
                    state = frozenset(e for e in state if e[0] != path)
        return state


def may_leave_eval(model: "SemanticModel", node: cst.CSTNode, path: str) -> bool:
    """Whether a call inside `node` may take `path` out of eval mode: ``path.train()``,
    ``path.train(flag)``, or a same-file helper that does not leave it in eval mode (the
    switches `_ModeDominance` follows). A ``path.eval()`` inserted before a loop around such a
    call does not hold on the loop's next iteration."""
    for call in calls_in(model, node):
        switch = mode_switch(model, call)
        if switch is not None:
            if switch[0] == path and switch[1] != "eval":
                return True
            continue
        found = callee_summary(model, call, model.scope_for(call))
        if found is None:
            continue
        bound, callee, callee_scope = found
        for slot, mapped in mapped_slots(bound, callee_scope, callee.final_mode).items():
            if mapped == path and callee.final_mode[slot] != {"eval"}:
                return True
    return False


def _isinstance_module_test(model: "SemanticModel", test: cst.BaseExpression) -> str | None:
    if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance"
            and len(test.args) == 2):
        return None
    classes = test.args[1].value
    candidates = [e.value for e in classes.elements] if isinstance(classes, cst.Tuple) else [classes]
    if any(isinstance(c, (cst.Name, cst.Attribute)) and model.qualname(c) == "torch.nn.Module" for c in candidates):
        return dotted_name(test.args[0].value)
    return None


def modes_at_calls(model: "SemanticModel", body_owner: cst.CSTNode) -> dict[cst.Call, tuple[frozenset, frozenset, frozenset]]:
    """For each call in a function (or the module body): (paths in eval mode on every path
    reaching it, paths whose mode was set explicitly on every path reaching it, paths set on
    some path to something other than train: eval, a flag's value, or "not a module"). A
    method starts with the modes its class's ``__init__`` sets on ``self`` attributes."""
    def compute() -> dict[cst.Call, tuple[frozenset, frozenset]]:
        scope = model.scopes[body_owner]
        analysis = _ModeDominance(model)
        walker = PathWalker(model, analysis, scope, max_states=128, join=_intersect)
        initial = frozenset({_initial_modes(model, body_owner)})
        if isinstance(body_owner, cst.Module):
            walker.run_block(tuple(body_owner.body), initial)
        else:
            walker.run_block(block_statements(body_owner.body), initial)  # type: ignore[attr-defined]
        return analysis.at_call

    return model.cached(("mode-dominance", body_owner), compute)


def eval_paths_at_calls(model: "SemanticModel", body_owner: cst.CSTNode) -> dict[cst.Call, frozenset]:
    """For each call, the access paths in eval mode on every path reaching it."""
    return {call: modes[0] for call, modes in modes_at_calls(model, body_owner).items()}


def _initial_modes(model: "SemanticModel", owner: cst.CSTNode) -> frozenset:
    if not isinstance(owner, cst.FunctionDef) or owner.name.value == "__init__":
        return frozenset()
    info = model.class_of_method(owner)
    scope = model.scopes[owner]
    init = info.method("__init__") if info is not None else None
    if init is None or scope.self_name is None:
        return frozenset()
    init_scope = model.scopes[init]
    modes = set()
    for statement in block_statements(init.body):
        for call in calls_in(model, statement) if isinstance(statement, cst.SimpleStatementLine) else ():
            switch = mode_switch(model, call)
            if switch is not None and switch[0].startswith(f"{init_scope.self_name}."):
                attribute = switch[0].split(".", 1)[1]
                if not _trained_elsewhere(model, info, attribute):
                    modes.add((f"{scope.self_name}.{attribute}", switch[1]))
    return frozenset(modes)


def _trained_elsewhere(model: "SemanticModel", info, attribute: str) -> bool:
    for method in info.methods.values():
        if method.name.value == "__init__":
            continue
        method_scope = model.scopes[method]
        path = f"{method_scope.self_name}.{attribute}"
        for call in calls_in(model, method):
            if mode_switch(model, call) == (path, "train"):
                return True
    return False


def _intersect(states: frozenset) -> frozenset:
    result = None
    for state in states:
        result = state if result is None else result & state
    return frozenset({result or frozenset()})


# --------------------------------------------------------------------------- evaluation regions


@dataclass(frozen=True)
class EvalRegion:
    """Code that evaluates a model.

    Attributes:
        kind: ``function``, ``loop`` or ``dominated`` (after ``m.eval()`` in any function).
        node: the FunctionDef or loop; for ``dominated``, the function (or Module).
        owner: the FunctionDef or Module whose body the region belongs to.
    """

    kind: str
    node: cst.CSTNode
    owner: cst.CSTNode


def eval_regions(model: "SemanticModel") -> list[EvalRegion]:
    """Every evaluation region of the file; a loop region inside a function region is left
    out (the function region covers it)."""
    return model.cached("eval-regions", lambda: list(_eval_regions(model)))


def _eval_regions(model: "SemanticModel") -> Iterator[EvalRegion]:
    function_regions = set()
    exempt = set()
    for function in model.functions:
        if is_lightning_hook(model, function):
            exempt.add(function)
            continue
        if is_eval_function(model, function):
            function_regions.add(function)
            yield EvalRegion("function", function, function)
    for loop in model.loops:
        if not isinstance(loop, cst.For) or not _iterates_eval_data(loop.iter):
            continue
        owner = model.enclosing_function(loop)
        if owner in function_regions or owner in exempt:
            continue
        if _inside_exempt(model, loop, function_regions | exempt):
            continue
        if loop_trains(model, loop):
            continue
        yield EvalRegion("loop", loop, owner if owner is not None else model.module)
    for owner in functions_switching_to_eval(model):
        if owner not in function_regions and owner not in exempt:
            yield EvalRegion("dominated", owner, owner)


def _switches_to_eval(model: "SemanticModel", call: cst.Call) -> bool:
    switch = mode_switch(model, call)
    return switch is not None and switch[1] == "eval"


def _inside_exempt(model: "SemanticModel", node: cst.CSTNode, functions: set) -> bool:
    return any(a in functions for a in model.ancestors(node))


def is_lightning_hook(model: "SemanticModel", function: cst.FunctionDef) -> bool:
    """An evaluation hook the framework calls with the right mode and grad setting:
    ``validation_step``/``test_step``/``predict_step`` of a LightningModule subclass, and
    ``validation_step``/``evaluation_step`` of a skorch ``NeuralNet`` subclass."""
    name = function.name.value
    if name not in _LIGHTNING_HOOKS and name not in _SKORCH_HOOKS:
        return False
    info = model.class_of_method(function)
    if info is None:
        return False
    if name in _LIGHTNING_HOOKS and info.is_lightning_module:
        return True
    return name in _SKORCH_HOOKS and any(b.startswith("skorch.") for b in info.external_base_names())


def is_eval_function(model: "SemanticModel", function: cst.FunctionDef) -> bool:
    """Clause 13: a function-level evaluation region."""
    def compute() -> bool:
        name = function.name.value
        candidate = (
            (_EVAL_NAME.match(name) and not name.startswith("test_"))
            or function in functions_switching_to_eval(model)
            or function_disables_grad(model, function)
        )
        if not candidate:
            return False
        facts = summary(model, function)
        return not (facts.steps_any or facts.backward)

    return model.cached(("is-eval-function", function), compute)


def functions_switching_to_eval(model: "SemanticModel") -> frozenset:
    """Functions (and the Module, for top-level code) that directly call ``m.eval()`` or
    ``m.train(False)``."""
    def compute() -> frozenset:
        owners = set()
        for call in model.calls_by_attr.get("eval", []) + model.calls_by_attr.get("train", []):
            if _switches_to_eval(model, call):
                owners.add(model.enclosing_function(call) or model.module)
        return frozenset(owners)

    return model.cached("functions-switching-to-eval", compute)


def _iterates_eval_data(iterable: cst.BaseExpression) -> bool:
    node = iterable
    for _ in range(4):
        if isinstance(node, cst.Call) and node.args:
            func_name = dotted_name(node.func) or ""
            last = func_name.rsplit(".", 1)[-1]
            if last in ("enumerate", "tqdm", "iter", "zip", "trange", "track", "progress_bar"):
                node = node.args[0].value
                continue
        break
    name = dotted_name(node)
    if name is None:
        return False
    return bool(_EVAL_ITERABLE.match(name.rsplit(".", 1)[-1]))


def region_calls(model: "SemanticModel", region: EvalRegion) -> list[cst.Call]:
    """Calls inside a region, in evaluation order."""
    if region.kind == "loop":
        loop = region.node
        return calls_in(model, loop)
    return calls_in(model, region.node)


def region_has_gradient_computation(model: "SemanticModel", calls: list[cst.Call]) -> bool:
    """Whether any call runs backward or ``torch.autograd.grad`` (gradient-based evaluation
    such as saliency maps is exempt from DLX010)."""
    for call in calls:
        if is_backward(model, call):
            return True
        if isinstance(call.func, (cst.Name, cst.Attribute)) and model.qualname(call.func) in _AUTOGRAD_GRAD:
            return True
        if step_info(model, call) is not None:
            return True
    return False
