"""Static parameter-count estimates for layer constructor calls and ``nn.Module`` classes.

An estimate is what ``sum(p.numel() for p in module.parameters())`` would report for the module
a call builds (or a class builds with its ``__init__`` defaults), computed without importing or
running anything: `dlx_lint.expert.interpret` evaluates the construction code and
`dlx_lint.expert.layers` holds the per-layer formulas (each citing its PyTorch docs page).

Where a size is not static the estimate names it (`Estimate.missing`) and the count is the
total of what is known; where a value is assumed (an ``__init__`` parameter left at its
default, a parameter of the enclosing function) the assumption is stated
(`Estimate.assumptions`).

Calls are estimated in context: a call inside a method of an ``nn.Module`` subclass is observed
while interpreting the construction of that class with its defaults, so ``ch = ch * 2`` in a
loop or ``self._make_layer(...)`` helpers give each call the sizes it really receives; a call
inside another function is observed while interpreting that function; other calls are
evaluated on their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

import libcst as cst

from .interpret import BudgetExceeded, Evaluator
from .support import _code
from .layers import docs_url
from .values import Instance, tally

if TYPE_CHECKING:
    from ..semantic.classes import ClassInfo
    from ..semantic.model import SemanticModel

DEFAULT_TIME_LIMIT = 0.5  # seconds per request: a hover must stay responsive


@dataclass(frozen=True)
class Part:
    """One registered child of an estimated module (for the hover's breakdown).

    Attributes:
        name: the attribute or container key (``encoder``, ``0``).
        label: what was built (``nn.Linear(512, 2048)``).
        count: its known parameter count.
        exact: whether that count is complete.
    """

    name: str
    label: str
    count: int
    exact: bool


@dataclass
class Estimate:
    """The parameter count of a constructed module.

    Attributes:
        label: what it is (``nn.Linear(4096, 11008)``, ``Net``).
        kind: ``layer``, ``class``, ``container``, ``parameter``, ``repeat`` or ``opaque``.
        count: parameter elements counted (a lower bound when `missing` is not empty).
        missing: what is not static, each naming the argument or construct.
        assumptions: values assumed for sizes that were not given.
        formula: for a ``torch.nn`` layer, its count formula in words.
        url: the source of the formula (the layer's PyTorch documentation page).
        qualname: the constructor's qualified name, for library modules.
        parts: the module's registered children with their counts.
        times: how many modules this call built during the analysed construction (a call in a
            loop, or in a helper called several times); `count` is per module when all are
            equal, `total` sums them.
        total: the summed count over all `times` modules.
        stopped: why the analysis stopped early (budget), or None.
        notes: facts about the count (a tied weight counted once).
        defined_in: for a workspace class, the path of the file defining it.
    """

    label: str
    kind: str
    count: int
    missing: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    formula: str | None = None
    url: str | None = None
    qualname: str | None = None
    parts: list[Part] = field(default_factory=list)
    times: int = 1
    total: int = 0
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)
    defined_in: str | None = None

    @property
    def exact(self) -> bool:
        """The count is complete: every size was static and the analysis finished."""
        return not self.missing and self.stopped is None


def estimate_of(value: Any, evaluator: Evaluator | None = None) -> Estimate | None:
    """The estimate for an interpreted value, or None when it is not a module."""
    if not isinstance(value, Instance):
        return None
    source = value.resolved()
    counted = tally(value)
    parts = []
    for name, child in source.children.items():
        if isinstance(child, Instance):
            inner = tally(child)
            parts.append(Part(name, child.label, inner.count, inner.exact))
    kind = source.kind
    spec = source.spec
    estimate = Estimate(
        label=value.label,
        kind=kind,
        count=counted.count,
        missing=counted.missing,
        assumptions=list(evaluator.assumptions) if evaluator is not None else [],
        formula=spec.formula if spec is not None else None,
        url=spec.url if spec is not None else (docs_url(source.qualname) if source.qualname and source.qualname.startswith("torch.nn.") else None),
        qualname=source.qualname,
        parts=parts,
        total=counted.count,
        notes=counted.notes,
        defined_in=source.info.model.path if source.info is not None else None,
    )
    return estimate


def _combine(values: list[Any], evaluator: Evaluator) -> Estimate | None:
    estimates = [estimate_of(v, evaluator) for v in values]
    estimates = [e for e in estimates if e is not None]
    if not estimates:
        return None
    first = estimates[0]
    if len(estimates) == 1:
        return first
    first.times = len(estimates)
    first.total = sum(e.count for e in estimates)
    missing = list(dict.fromkeys(m for e in estimates for m in e.missing))
    first.missing = missing
    if len({e.count for e in estimates}) > 1:
        first.count = first.total  # different sizes per construction: report the sum only
        first.parts = []
        first.label = f"{first.label} (built {len(estimates)} times with different sizes)"
    return first


def estimate_class(info: "ClassInfo", *, time_limit: float = DEFAULT_TIME_LIMIT) -> Estimate | None:
    """The parameter count of an ``nn.Module`` subclass built with its ``__init__`` defaults.

    Args:
        info: the class (of any file; its `model` resolves its names).
        time_limit: seconds before the analysis stops (the result then says so).

    Returns:
        The estimate, or None when the class is not a module.
    """
    if not info.is_module:
        return None
    evaluator = Evaluator(deadline=time.perf_counter() + time_limit)
    try:
        value = evaluator.construct(info, assume_defaults=True)
    except BudgetExceeded as error:
        return Estimate(label=info.name, kind="class", count=0, stopped=str(error))
    estimate = estimate_of(value, evaluator)
    if estimate is not None:
        estimate.label = info.name
    return estimate


def is_candidate(model: "SemanticModel", call: cst.Call) -> bool:
    """Whether `call` may construct a module: its callee is a ``torch.nn`` class, a module
    class or a function of the workspace, or a name imported from a workspace module (cheap,
    no interpretation; used to pick calls for inlay hints and hovers)."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    qualname = model.qualname(func)
    if qualname is not None:
        last = qualname.rsplit(".", 1)[-1]
        if qualname.startswith("torch.nn.") and not qualname.startswith(("torch.nn.functional.", "torch.nn.init.", "torch.nn.utils.")):
            return last[:1].isupper()
        return not qualname.startswith(("torch.", "numpy.", "math.", "builtins.", "os.", "typing.")) and model.resolver is not None
    if isinstance(func, cst.Name):
        info = model.classes_by_name.get(func.value)
        if info is not None:
            return info.is_module
        return any(f.name.value == func.value for f in model.functions)
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        method_scope = model.method_scope(model.scope_for(call))
        return method_scope is not None and func.value.value == method_scope.self_name  # self._make_layer(...)
    return False


def estimate_calls(model: "SemanticModel", calls: Iterable[cst.Call], *, time_limit: float = DEFAULT_TIME_LIMIT,
                   modules_only: bool = True) -> dict[cst.Call, Estimate]:
    """Estimates for several calls of one file, each interpreted in its context.

    Calls are grouped by what to interpret (the construction of their method's class, or
    their function), so each context runs once whatever the number of calls in it.

    Args:
        model: the file's semantic model.
        calls: calls of that file.
        time_limit: seconds for the whole request; calls not reached in time are absent.
        modules_only: leave out calls whose value is not a module.

    Returns:
        call -> estimate, for the calls that build a module.
    """
    deadline = time.perf_counter() + time_limit
    groups: dict[Any, list[cst.Call]] = {}
    for call in calls:
        function = model.enclosing_function(call)
        if function is None:
            groups.setdefault(("module", None), []).append(call)
            continue
        owner = model.class_of_method(function)
        key = ("class", owner.node) if owner is not None and owner.is_module else ("function", function)
        groups.setdefault(key, []).append(call)
    results: dict[cst.Call, Estimate] = {}
    for (kind, node), members in groups.items():
        if time.perf_counter() > deadline:
            break
        pending = list(members)
        if kind == "class":
            info = model.classes[node]
            pending = _observe(results, pending, deadline, lambda ev: ev.construct(info, assume_defaults=True))
            by_function: dict[cst.FunctionDef, list[cst.Call]] = {}
            for call in pending:
                by_function.setdefault(model.enclosing_function(call), []).append(call)  # type: ignore[arg-type]
            pending = []
            for function, group in by_function.items():
                pending += _observe(results, group, deadline, lambda ev, f=function: ev.run(model, f))
        elif kind == "function":
            pending = _observe(results, pending, deadline, lambda ev, f=node: ev.run(model, f))
        for call in pending:
            if time.perf_counter() > deadline:
                break
            evaluator = Evaluator(deadline=deadline)
            try:
                value = evaluator.standalone(model, call)
            except BudgetExceeded as error:
                results[call] = Estimate(label=_code(model, call), kind="opaque", count=0, stopped=str(error))
                continue
            estimate = estimate_of(value, evaluator)
            if estimate is not None:
                results[call] = estimate
    if modules_only:
        return {call: e for call, e in results.items() if e is not None}
    return results


def _observe(results: dict, calls: list[cst.Call], deadline: float, run) -> list[cst.Call]:
    """Interpret one context with `calls` probed; store their estimates and return the calls
    that were not reached (left for the next, less precise, context)."""
    if not calls or time.perf_counter() > deadline:
        return calls
    evaluator = Evaluator(deadline=deadline, probes=calls)
    try:
        run(evaluator)
    except BudgetExceeded as error:
        stopped = str(error)
    else:
        stopped = None
    left = []
    for call in calls:
        values = evaluator.observed.get(call)
        if not values:
            left.append(call)
            continue
        estimate = _combine(values, evaluator)
        if estimate is None:
            continue  # reached, and not a module
        if stopped is not None:
            estimate.stopped = stopped
        results[call] = estimate
    return left

