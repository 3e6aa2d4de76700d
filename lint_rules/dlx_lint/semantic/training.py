"""Training-loop facts: which calls step, clear, backward, switch train/eval mode or run a
model, and same-file function summaries of those effects (rules-catalog.md, section 1).

A *slot* is an access path rooted at a function's parameter (``opt``, ``self.model``); a
function summary says what the function does to each slot, so that a call site can map the
effects onto its own arguments (``train_one_epoch(model, opt)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .calls import bind_call, map_slot
from .flow import PathWalker
from .kinds import Kind
from .names import dotted_name

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Scope

BACKWARD_METHODS = frozenset({"backward", "manual_backward"})
_BACKWARD_FUNCTIONS = frozenset({"torch.autograd.backward", "torch.distributed.autograd.backward"})
_CLIP_FUNCTIONS = frozenset(
    {"torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_", "torch.nn.utils.clip_grad_norm"}
)


# --------------------------------------------------------------------------- call classifiers


def is_backward(model: "SemanticModel", call: cst.Call) -> bool:
    """``x.backward(...)``, ``accelerator.backward(loss)``, ``self.manual_backward(loss)`` or
    ``torch.autograd.backward(...)``."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in BACKWARD_METHODS:
        return True
    if isinstance(func, (cst.Name, cst.Attribute)):
        name = model.qualname(func)
        return name in _BACKWARD_FUNCTIONS
    return False


def backwarded_expression(model: "SemanticModel", call: cst.Call) -> cst.BaseExpression | None:
    """The tensor a backward call differentiates: the receiver of ``loss.backward()``, the
    argument of ``accelerator.backward(loss)`` / ``torch.autograd.backward(loss)``, the loss
    inside ``scaler.scale(loss).backward()``."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "backward":
        receiver = func.value
        name = model.qualname(func)
        if name in _BACKWARD_FUNCTIONS or (name is None and _is_framework_object(model, receiver)):
            return call.args[0].value if call.args else None
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
                and receiver.func.attr.value == "scale" and receiver.args:
            return receiver.args[0].value
        return receiver
    if isinstance(func, cst.Attribute) and func.attr.value == "manual_backward":
        return call.args[0].value if call.args else None
    if model.qualname(func) in _BACKWARD_FUNCTIONS:
        return call.args[0].value if call.args else None
    return None


def _is_framework_object(model: "SemanticModel", receiver: cst.BaseExpression) -> bool:
    # `accelerator.backward(loss)` / `fabric.backward(loss)`: the receiver is not a tensor but
    # a framework object that takes the loss as its argument.
    origin = model.origin(receiver)
    if origin.kind is Kind.TENSOR:
        return False
    name = dotted_name(receiver) or ""
    last = name.rsplit(".", 1)[-1].lower()
    return last in ("accelerator", "fabric", "engine", "model_engine", "deepspeed_engine", "trainer", "strategy")


@dataclass(frozen=True)
class StepInfo:
    """An optimizer step.

    Attributes:
        optimizer: access path of the optimizer stepped.
        scaler: access path of the GradScaler for ``scaler.step(opt)``, else None.
        certain: the optimizer's kind is known from its constructor or annotation (not only
            from the fact that it is stepped).
        closure: the closure argument of ``opt.step(closure)``, if any.
    """

    optimizer: str
    scaler: str | None
    certain: bool
    closure: cst.BaseExpression | None = None


def step_info(model: "SemanticModel", call: cst.Call) -> StepInfo | None:
    """The optimizer step performed by `call` (``X.step()``, ``X.step(closure)``,
    ``scaler.step(X)``), or None. Schedulers, GradScalers stepped alone, distributed
    optimizers (clause 19), environments (``env.step(action)``) and modules are not steps."""
    key = ("step-info", call)
    if key in model._cache:
        return model._cache[key]
    result = _step_info(model, call)
    model._cache[key] = result
    return result


def _step_info(model: "SemanticModel", call: cst.Call) -> StepInfo | None:
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "step":
        return None
    receiver_path = dotted_name(func.value)
    if receiver_path is None:
        return None
    scope = model.scope_for(call)
    receiver = model.origin(func.value, scope)
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if receiver.kind is Kind.SCALER or (positional and receiver.kind is Kind.UNKNOWN):
        # scaler.step(optimizer): a receiver R of R.step(X) with X an optimizer is a scaler.
        if positional:
            target = dotted_name(positional[0].value)
            if target is not None:
                target_origin = model.origin(positional[0].value, scope)
                if receiver.kind is Kind.SCALER or target_origin.kind is Kind.OPTIMIZER:
                    return StepInfo(target, receiver_path, target_origin.kind is Kind.OPTIMIZER and target_origin.certain)
    if receiver.kind is Kind.OPTIMIZER:
        closure = positional[0].value if positional else None
        return StepInfo(receiver_path, None, receiver.certain, closure)
    if receiver.kind is not Kind.UNKNOWN:
        return None
    if receiver_path == "self" or "sched" in receiver_path.rsplit(".", 1)[-1].lower():
        return None
    # An object of unknown kind with a `.step()` (profilers, curricula, environments) counts as
    # an optimizer only when it is a parameter of the function ("passed in and stepped").
    if not _is_parameter(model, receiver_path, scope):
        return None
    if not positional and not call.args:
        return StepInfo(receiver_path, None, False)
    if len(positional) == 1 and _is_closure(model, positional[0].value, scope):
        return StepInfo(receiver_path, None, False, positional[0].value)
    return None


def _is_parameter(model: "SemanticModel", path: str, scope: "Scope") -> bool:
    if "." in path:
        return False
    bindings = model.bindings_of(path, scope)
    return bool(bindings) and all(b.kind == "param" for b in bindings)


def _is_closure(model: "SemanticModel", expr: cst.BaseExpression, scope: "Scope") -> bool:
    if isinstance(expr, cst.Lambda):
        return True
    if isinstance(expr, cst.Name):
        for current in scope.lookup_chain():
            bindings = current.bindings.get(expr.value)
            if bindings:
                return bindings[-1].kind == "def"
    return False


def zero_grad_receiver(model: "SemanticModel", call: cst.Call) -> str | None:
    """The access path ``X`` of ``X.zero_grad(...)``, or None."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "zero_grad":
        return dotted_name(func.value)
    return None


def clears_gradients_directly(call: cst.Call) -> bool:
    """``p.grad.zero_()``, ``p.grad.data.zero_()``, ``p.grad.detach_()``: clears one parameter's
    gradient (inside a loop over parameters, all of them)."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in ("zero_", "detach_", "fill_"):
        return False
    path = dotted_name(func.value) or ""
    return path.endswith(".grad") or path.endswith(".grad.data")


def scheduler_step_receiver(model: "SemanticModel", call: cst.Call) -> str | None:
    """The scheduler ``S`` of ``S.step(...)``: bound to ``torch.optim.lr_scheduler.*`` (or a
    known schedule builder), or a parameter/attribute whose name contains ``sched``."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "step":
        return None
    path = dotted_name(func.value)
    if path is None:
        return None
    origin = model.origin(func.value)
    if origin.kind is Kind.SCHEDULER:
        return path
    return None


def mode_switch(model: "SemanticModel", call: cst.Call) -> tuple[str, str] | None:
    """``(path, "eval")`` for ``m.eval()`` / ``m.train(False)``, ``(path, "train")`` for
    ``m.train()`` / ``m.train(True)``, ``(path, "set")`` for ``m.train(flag)`` (a mode chosen
    deliberately, value unknown); None for other calls."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    name = func.attr.value
    if name not in ("eval", "train"):
        return None
    path = dotted_name(func.value)
    if path is None:
        return None
    if name == "eval":
        return (path, "eval") if not call.args else None
    if not call.args:
        return path, "train"
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value != "mode":
        return None
    value = arg.value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return path, "train" if value.value == "True" else "eval"
    return path, "set"


def module_call_receiver(model: "SemanticModel", call: cst.Call) -> str | None:
    """The access path ``m`` of a call ``m(...)`` that may run a model: any called bare name,
    or an attribute path that holds a module (``self.encoder(x)``; not ``x.mean()``)."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        path = dotted_name(func)
        if path is not None and model.origin(func).is_module:
            return path
    return None


def is_clip_call(model: "SemanticModel", call: cst.Call) -> bool:
    """``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` through any alias (framework
    wrappers such as ``accelerator.clip_grad_norm_`` unscale internally and are not matched)."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    return model.qualname(func) in _CLIP_FUNCTIONS


# --------------------------------------------------------------------------- function summaries


@dataclass(frozen=True)
class Summary:
    """What a same-file function does to its slots (paths rooted at its parameters),
    directly or through same-file callees.

    Attributes:
        steps: slots stepped as optimizers (``opt.step()``, ``scaler.step(opt)``).
        clears: slots cleared with ``zero_grad``; ``"*"`` when it clears every parameter's
            gradient (``model.zero_grad()`` on a module, ``p.grad = None``).
        backward: whether it calls backward on some path.
        steps_any: whether it steps some optimizer (a slot or not).
        forwards: slots called like a model.
        direct_eval: slots on which the function itself calls ``.eval()``/``.train(False)``.
        first_mode: slot -> first mode-related action on each path (``eval``, ``train``,
            ``forward``, or ``none``).
        final_mode: slot -> mode left behind on each path (``eval``, ``train``, ``none``).
    """

    steps: frozenset = frozenset()
    clears: frozenset = frozenset()
    backward: bool = False
    steps_any: bool = False
    forwards: frozenset = frozenset()
    direct_eval: frozenset = frozenset()
    first_mode: dict = field(default_factory=dict)
    final_mode: dict = field(default_factory=dict)


EMPTY_SUMMARY = Summary()


def summary(model: "SemanticModel", function: cst.FunctionDef) -> Summary:
    """The summary of a same-file function (memoised; recursion yields the empty summary)."""
    return model.memo(("summary", function), lambda: _summarise(model, function), while_computing=EMPTY_SUMMARY)


def callee_summary(model: "SemanticModel", call: cst.Call, scope: "Scope"):
    """(BoundCall, Summary, callee scope) for a call to a same-file function, else None."""
    bound = bind_call(model, call, scope)
    if bound is None:
        return None
    return bound, summary(model, bound.callee), model.scopes[bound.callee]


def mapped_slots(bound, callee_scope, slots) -> dict[str, str]:
    """Callee slot -> caller path for each slot that maps to an access path at the call."""
    result = {}
    # Sorted: callers apply the effects slot by slot, and set order would vary between runs.
    for slot in sorted(slots):
        if slot == "*":
            continue
        mapped = map_slot(bound, slot, callee_scope)
        if mapped is not None:
            result[slot] = mapped
    return result


class _SummaryAnalysis:
    """Mode tracking per slot; may-effects collected as side effects."""

    def __init__(self, model: "SemanticModel", scope: "Scope"):
        self.model = model
        self.scope = scope
        roots = set(scope.params)
        self.roots = roots
        self.steps: set[str] = set()
        self.clears: set[str] = set()
        self.forwards: set[str] = set()
        self.direct_eval: set[str] = set()
        self.backward = False
        self.steps_any = False

    def slot(self, path: str | None) -> str | None:
        if path is None:
            return None
        return path if path.split(".", 1)[0] in self.roots else None

    def on_assign(self, state, target, node):
        if target.endswith(".grad"):
            self.clears.add("*")
        return state

    def on_call(self, state, call):
        model = self.model
        if is_backward(model, call):
            self.backward = True
        info = step_info(model, call)
        if info is not None:
            self.steps_any = True
            slot = self.slot(info.optimizer)
            if slot:
                self.steps.add(slot)
        receiver = zero_grad_receiver(model, call)
        if receiver is not None:
            origin = model.origin(call.func.value)  # type: ignore[attr-defined]
            if origin.is_module:
                self.clears.add("*")
            slot = self.slot(receiver)
            if slot:
                self.clears.add(slot)
        elif clears_gradients_directly(call):
            self.clears.add("*")
        switch = mode_switch(model, call)
        if switch is not None:
            slot = self.slot(switch[0])
            if slot:
                if switch[1] == "eval":
                    self.direct_eval.add(slot)
                return _set_mode(state, slot, switch[1])
        slot = self.slot(module_call_receiver(model, call))
        if slot is not None and slot != self.scope.self_name:
            self.forwards.add(slot)
            state = _first(state, slot, "forward")
        found = callee_summary(model, call, self.scope)
        if found is not None:
            bound, callee, callee_scope = found
            self.backward |= callee.backward
            self.steps_any |= callee.steps_any
            for callee_slot, path in mapped_slots(bound, callee_scope, callee.steps).items():
                if self.slot(path):
                    self.steps.add(path)
            if "*" in callee.clears:
                self.clears.add("*")
            for callee_slot, path in mapped_slots(bound, callee_scope, callee.clears).items():
                if self.slot(path):
                    self.clears.add(path)
            slots = set(callee.first_mode) | set(callee.final_mode) | set(callee.forwards)
            for callee_slot, path in mapped_slots(bound, callee_scope, slots).items():
                own = self.slot(path)
                if own is None:
                    continue
                firsts = callee.first_mode.get(callee_slot, frozenset())
                if "forward" in firsts:
                    self.forwards.add(own)
                    state = _first(state, own, "forward")
                elif firsts == {"train"}:
                    state = _set_mode(state, own, "train")
                finals = callee.final_mode.get(callee_slot, frozenset())
                if "eval" in finals and "train" not in finals:
                    state = _set_mode(state, own, "eval")
                elif "train" in finals and "eval" not in finals:
                    state = _set_mode(state, own, "train")
        return state


def _lookup(state, slot):
    for entry in state:
        if entry[0] == slot:
            return entry
    return None


def _replace(state, slot, first, last):
    kept = tuple(e for e in state if e[0] != slot)
    return tuple(sorted(kept + ((slot, first, last),)))


def _set_mode(state, slot, mode):
    entry = _lookup(state, slot)
    first = entry[1] if entry else mode
    return _replace(state, slot, first, mode)


def _first(state, slot, action):
    entry = _lookup(state, slot)
    if entry is not None:
        return state
    return _replace(state, slot, action, "none")


def _summarise(model: "SemanticModel", function: cst.FunctionDef) -> Summary:
    scope = model.scopes[function]
    analysis = _SummaryAnalysis(model, scope)
    walker = PathWalker(model, analysis, scope)
    result = walker.run_body(function, frozenset({()}))
    finals = result.normal | result.returned
    first_mode: dict[str, set] = {}
    final_mode: dict[str, set] = {}
    slots = {entry[0] for state in finals for entry in state}
    for state in finals:
        for slot in slots:
            entry = _lookup(state, slot)
            first_mode.setdefault(slot, set()).add(entry[1] if entry else "none")
            final_mode.setdefault(slot, set()).add(entry[2] if entry else "none")
    return Summary(
        steps=frozenset(analysis.steps),
        clears=frozenset(analysis.clears),
        backward=analysis.backward,
        steps_any=analysis.steps_any,
        forwards=frozenset(analysis.forwards),
        direct_eval=frozenset(analysis.direct_eval),
        first_mode={k: frozenset(v) for k, v in first_mode.items()},
        final_mode={k: frozenset(v) for k, v in final_mode.items()},
    )


# --------------------------------------------------------------------------- loops


def loop_trains(model: "SemanticModel", loop: cst.CSTNode) -> bool:
    """Whether a loop's body (nested loops included) calls backward or steps an optimizer,
    directly or through a same-file callee (clause 15)."""
    key = ("loop-trains", loop)
    if key in model._cache:
        return model._cache[key]
    result = False
    for call in calls_in(model, loop):
        if is_backward(model, call) or step_info(model, call) is not None:
            result = True
            break
        found = callee_summary(model, call, model.scope_for(call))
        if found is not None and (found[1].backward or found[1].steps_any):
            result = True
            break
    model._cache[key] = result
    return result


def calls_in(model: "SemanticModel", node: cst.CSTNode) -> list[cst.Call]:
    """Calls lexically inside `node`, not inside nested functions, classes or lambdas."""
    from .flow import call_events

    return call_events(model, node)
