"""Seeding, entry scripts and what they run (DLX022, DLX027)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .calls import resolve_callee
from .kinds import Kind
from .training import callee_summary, calls_in, is_backward, step_info

if TYPE_CHECKING:
    from .model import SemanticModel

TORCH_SEEDS = frozenset({"torch.manual_seed", "torch.random.manual_seed"})
PARTIAL_SEEDS = frozenset({"random.seed", "numpy.random.seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all"})
# Library helpers that seed torch (and usually everything else).
SEED_WRAPPERS_LAST = frozenset({"seed_everything", "set_seed", "set_random_seed", "fix_seed", "seed_all", "manual_seed_all"})


def main_guard(model: "SemanticModel") -> cst.If | None:
    """The module-level ``if __name__ == "__main__":`` statement, if any."""
    for statement in model.module.body:
        if isinstance(statement, cst.If) and _is_main_test(statement.test):
            return statement
    return None


def _is_main_test(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return bool(names) and bool(strings) and isinstance(test.comparisons[0].operator, cst.Equal)


def seeding_kind(model: "SemanticModel", call: cst.Call) -> str | None:
    """``torch`` for a call that seeds torch's global generator (directly or through a known
    wrapper or a same-file function that does), ``partial`` for other global seeding calls
    (Python, NumPy, CUDA only), None otherwise."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return None
    name = model.qualname(func)
    if name in TORCH_SEEDS:
        return "torch"
    if name in PARTIAL_SEEDS:
        return "partial"
    last = (name or "").rsplit(".", 1)[-1] or (func.attr.value if isinstance(func, cst.Attribute) else func.value)
    callee = resolve_callee(model, call, model.scope_for(call))
    if callee is not None:
        return "torch" if _function_seeds_torch(model, callee) else None
    if last in SEED_WRAPPERS_LAST:
        return "torch"
    return None


def _function_seeds_torch(model: "SemanticModel", function: cst.FunctionDef, _depth: int = 0) -> bool:
    if _depth > 3:
        return False
    for call in calls_in(model, function):
        func = call.func
        if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) in TORCH_SEEDS:
            return True
        callee = resolve_callee(model, call, model.scope_for(call))
        if callee is not None and callee is not function and _function_seeds_torch(model, callee, _depth + 1):
            return True
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        last = (name or "").rsplit(".", 1)[-1]
        if callee is None and last in SEED_WRAPPERS_LAST:
            return True
    return False


def file_seeds_anything(model: "SemanticModel") -> bool:
    """Whether any call in the file seeds some global RNG (or creates a seeded generator)."""
    for call in model.calls:
        if seeding_kind(model, call) is not None:
            return True
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "manual_seed":
            return True  # torch.Generator().manual_seed(seed) and similar
    return False


def runs_training(model: "SemanticModel", block: cst.CSTNode, _depth: int = 0) -> bool:
    """Whether code in `block` (or same-file functions it calls) runs backward or steps an
    optimizer."""
    if _depth > 4:
        return False
    for call in calls_in(model, block):
        if is_backward(model, call) or step_info(model, call) is not None:
            return True
        found = callee_summary(model, call, model.scope_for(call))
        if found is not None and (found[1].backward or found[1].steps_any):
            return True
    return False


def builds_random_state(model: "SemanticModel", block: cst.CSTNode, _depth: int = 0, _seen=None) -> bool:
    """Whether code in `block` (or same-file functions it calls) constructs a model, an
    optimizer or a shuffling DataLoader: objects whose initial state comes from the RNG."""
    seen = _seen if _seen is not None else set()
    if _depth > 4 or block in seen:
        return False
    seen.add(block)
    for call in calls_in(model, block):
        origin = model.origin(call)
        if origin.kind in (Kind.MODULE, Kind.OPTIMIZER) and not origin.guessed and origin.certain:
            return True
        if origin.kind is Kind.DATALOADER and any(
            a.keyword is not None and a.keyword.value == "shuffle" and not (isinstance(a.value, cst.Name) and a.value.value == "False")
            for a in call.args
        ):
            return True
        callee = resolve_callee(model, call, model.scope_for(call))
        if callee is not None and builds_random_state(model, callee, _depth + 1, seen):
            return True
    return False
