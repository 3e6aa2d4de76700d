"""Model calls in evaluation regions: which run in training mode (DLX008) and which build an
autograd graph (DLX010); whether a same-file model class behaves differently in the two modes
(clause 16)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .kinds import Kind, Origin
from .names import dotted_name
from .regions import (
    EvalRegion,
    eval_paths_at_calls,
    eval_regions,
    modes_at_calls,
    grad_disabled,
    region_calls,
    region_has_gradient_computation,
)
from .training import is_backward, module_call_receiver

if TYPE_CHECKING:
    from .classes import ClassInfo
    from .model import SemanticModel

_MODE_DEPENDENT_LAYER = re.compile(r"Dropout|BatchNorm|InstanceNorm|RReLU|^Transformer")
_RECURRENT_LAYER = re.compile(r"^(?:RNN|LSTM|GRU|MultiheadAttention)$")
_CONTAINERS = frozenset({"torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"})
_FUNCTIONAL_DROPOUT = re.compile(r"^torch\.(?:nn\.functional\.)?(?:\w*dropout\w*|rrelu)$")
_PLAIN_ANNOTATIONS = frozenset({"int", "float", "str", "bool", "tuple", "list", "dict"})


def region_model_calls(model: "SemanticModel", region: EvalRegion) -> Iterator[tuple[cst.Call, str, Origin]]:
    """(call, receiver path, origin) for each call of a model inside the region, in order.

    A model is a module (not a loss) known from its constructor, annotation or usage; the
    single-class guess of clause 10 does not make a call a model call. Inside a method of an
    ``nn.Module`` subclass, calls of ``self`` and its submodules are the model's own
    internals: their mode is the caller's business, so they are not model calls here.
    """
    own_self = _module_self_name(model, region)
    for call in region_calls(model, region):
        path = module_call_receiver(model, call)
        if path is None:
            continue
        if own_self is not None and (path == own_self or path.startswith(own_self + ".")):
            continue
        origin = model.origin(call.func)
        if origin.kind is not Kind.MODULE:
            continue
        if origin.guessed:
            continue
        yield call, path, origin


def _module_self_name(model: "SemanticModel", region: EvalRegion) -> str | None:
    function = region.owner if isinstance(region.owner, cst.FunctionDef) else None
    if function is None:
        return None
    info = model.class_of_method(function)
    if info is None or not info.is_module or info.is_lightning_module:
        return None
    return model.scopes[function].self_name


def _in_eval(path: str, eval_paths: frozenset) -> bool:
    # `model.eval()` also switches `model.encoder`; the converse does not hold.
    while True:
        if path in eval_paths:
            return True
        if "." not in path:
            return False
        path = path.rsplit(".", 1)[0]


def first_unmoded_forward(model: "SemanticModel") -> list[tuple[cst.Call, str]]:
    """DLX008: per evaluation region, the first model call that no ``eval()`` dominates,
    skipping models whose same-file class behaves the same in both modes."""
    return [(call, path) for call, path, _ in unmoded_forwards(model)]


def unmoded_forwards(model: "SemanticModel") -> list[tuple[cst.Call, str, EvalRegion]]:
    """`first_unmoded_forward` with the region each call was found in (for fixes)."""
    def compute() -> list[tuple[cst.Call, str, EvalRegion]]:
        found = []
        for region in eval_regions(model):
            if region.kind == "dominated":
                continue
            modes = modes_at_calls(model, region.owner)
            for call, path, origin in region_model_calls(model, region):
                eval_paths, moded, chosen = modes.get(call, (frozenset(), frozenset(), frozenset()))
                # In eval mode; or the mode was chosen on purpose on every path (a training
                # flag, an isinstance guard). Train mode set on every path is the bug itself.
                if _in_eval(path, eval_paths) or (_in_eval(path, moded) and _in_eval(path, chosen)):
                    continue  # in eval mode, or its mode was chosen explicitly on every path
                info = origin.class_info  # same-file, or another file's through the resolver
                if info is not None and not mode_dependent(info.model, info):
                    continue
                found.append((call, path, region))
                break
        return found

    return model.cached("dlx008", compute)


def first_grad_tracking_forward(model: "SemanticModel") -> list[tuple[cst.Call, str]]:
    """DLX010: per evaluation region, the first model call that runs with autograd enabled,
    in regions that compute no gradients."""
    return [(call, path) for call, path, _ in grad_tracking_forwards(model)]


def grad_tracking_forwards(model: "SemanticModel") -> list[tuple[cst.Call, str, EvalRegion]]:
    """`first_grad_tracking_forward` with the region each call was found in (for fixes)."""
    def compute() -> list[tuple[cst.Call, str, EvalRegion]]:
        found = []
        for region in eval_regions(model):
            calls = region_calls(model, region)
            dominance = eval_paths_at_calls(model, region.owner) if region.kind == "dominated" else {}
            if region.kind != "dominated" and region_has_gradient_computation(model, calls):
                continue
            backward_eval_paths = frozenset().union(
                *(dominance.get(c, frozenset()) for c in calls if is_backward(model, c))
            ) if region.kind == "dominated" else frozenset()
            for call, path, _origin in region_model_calls(model, region):
                if region.kind == "dominated":
                    if not _in_eval(path, dominance.get(call, frozenset())):
                        continue
                    if _in_eval(path, backward_eval_paths):
                        continue
                if grad_disabled(model, call):
                    continue
                found.append((call, path, region))
                break
        return found

    return model.cached("dlx010", compute)


def mode_dependent(model: "SemanticModel", info: "ClassInfo", _seen: frozenset = frozenset()) -> bool:
    """Whether instances of a same-file module class may behave differently in train and
    eval mode. False only when every submodule is built in the class from `torch.nn` layers
    or same-file classes that are mode-independent, none is passed in, and no method calls a
    functional dropout (clause 16)."""
    if info in _seen:
        return False
    seen = _seen | {info}
    for base in info.external_base_names():
        if base not in ("torch.nn.Module",):
            return True  # a library base class may hold anything
    for ancestor in info.lineage():
        for method in ancestor.methods.values():
            for call in _calls(model, method):
                name = model.qualname(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
                if name and _FUNCTIONAL_DROPOUT.match(name):
                    return True
            scope = model.scopes[method]
            prefix = (scope.self_name or "\0") + "."
            for target, bindings in scope.bindings.items():
                if not target.startswith(prefix):
                    continue
                for binding in bindings:
                    if binding.value is None:
                        if binding.kind in ("for", "with"):
                            return True
                        continue
                    if _value_mode_dependent(model, binding.value, scope, seen):
                        return True
    return False


def _calls(model: "SemanticModel", method: cst.FunctionDef) -> list[cst.Call]:
    from .training import calls_in

    return calls_in(model, method)


def _value_mode_dependent(model: "SemanticModel", value: cst.BaseExpression, scope, seen: frozenset) -> bool:
    if isinstance(value, cst.Call):
        func = value.func
        name = model.qualname(func, scope) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None:
            if name in _CONTAINERS:
                return any(_value_mode_dependent(model, arg.value, scope, seen) for arg in value.args)
            if name.startswith("torch.nn.") and name[len("torch.nn."):][:1].isupper():
                layer = name.rsplit(".", 1)[-1]
                if _MODE_DEPENDENT_LAYER.search(layer):
                    return True
                if _RECURRENT_LAYER.match(layer):
                    return any(
                        (arg.keyword is not None and arg.keyword.value == "dropout") or (arg.keyword is None and i >= 5)
                        for i, arg in enumerate(value.args)
                    )
                return False
            if name.startswith("torch."):
                return False  # tensors, parameters, buffers
            return True  # a library builder: unknown content
        local = dotted_name(func)
        if local is not None and "." not in local:
            info = model.classes_by_name.get(local)
            if info is not None:
                return info.is_module and mode_dependent(model, info, seen)
        return True
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return any(_value_mode_dependent(model, e.value, scope, seen) for e in value.elements)
    if isinstance(value, cst.Dict):
        return any(_value_mode_dependent(model, e.value, scope, seen) for e in value.elements if isinstance(e, cst.DictElement))
    if isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return _value_mode_dependent(model, value.elt, scope, seen)
    if isinstance(value, cst.Name):
        binding = scope.bindings.get(value.value)
        if binding and binding[-1].kind == "param":
            annotation = binding[-1].annotation
            return not (isinstance(annotation, cst.Name) and annotation.value in _PLAIN_ANNOTATIONS)
        return False
    return False
