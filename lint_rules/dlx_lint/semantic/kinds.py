"""What a variable holds: optimizer, scheduler, GradScaler, module, loss, DataLoader, tensor.

An origin is derived, in this order, from (1) the constructor or builder a value comes from,
followed through assignments, ``.to()``-style calls that return their receiver, conditional
expressions and same-file helper functions; (2) the annotation of a parameter; (3) how the
value is used in its scope (rules-catalog.md section 9, clauses 4 and 10): a receiver of
``.parameters()``/``.eval()``/``.train()`` is a module, a receiver of ``.zero_grad()`` and
``.step()`` an optimizer. Origins from (3) are marked ``certain=False``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .names import dotted_name
from .walk import walk_postorder

if TYPE_CHECKING:
    from .classes import ClassInfo
    from .model import SemanticModel
    from .scopes import Scope


class Kind(enum.Enum):
    OPTIMIZER = "optimizer"
    DIST_OPTIMIZER = "distributed-optimizer"
    SCHEDULER = "scheduler"
    SCALER = "grad-scaler"
    MODULE = "module"
    LOSS = "loss"
    DATALOADER = "dataloader"
    TENSOR = "tensor"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Origin:
    """What an expression was built from.

    Attributes:
        kind: the kind of object.
        qualname: the constructor's qualified name when known (``torch.nn.Sequential``).
        cls: the same-file class it is an instance of, when known.
        certain: False when inferred from usage or from clause 10's single-class guess.
        guessed: True only for clause 10's guess (an unannotated name called like a model in
            a file defining exactly one model class); such an origin may silence a rule
            (DLX008's guard) but never makes one fire.
        foreign: the class it is an instance of when that class is defined in another file of
            the workspace (found by the model's cross-file resolver). Kept apart from `cls` so
            that rules walking a class's methods with *this* file's model never meet nodes of
            another tree; `foreign.model` is the other file's model.
    """

    kind: Kind
    qualname: str | None = None
    cls: "ClassInfo | None" = None
    certain: bool = True
    guessed: bool = False
    foreign: "ClassInfo | None" = None

    @property
    def class_info(self) -> "ClassInfo | None":
        """The class of the value, same-file or foreign (use ``class_info.model`` with it)."""
        return self.cls if self.cls is not None else self.foreign

    @property
    def is_module(self) -> bool:
        return self.kind in (Kind.MODULE, Kind.LOSS)

    @property
    def known(self) -> bool:
        return self.kind is not Kind.UNKNOWN


UNKNOWN = Origin(Kind.UNKNOWN)

_OPTIMIZER = re.compile(
    r"^(?:torch\.optim\.(?!lr_scheduler\b|swa_utils\b)[A-Z]\w*"
    r"|torch\.distributed\.optim\.ZeroRedundancyOptimizer"
    r"|transformers(?:\.optimization)?\.(?:AdamW|Adafactor)"
    r"|(?:apex\.optimizers|bitsandbytes\.optim|torch_optimizer|deepspeed\.ops\.adam|timm\.optim)\.[A-Z]\w*"
    r"|timm\.optim\.create_optimizer(?:_v2)?)$"
)
_DIST_OPTIMIZER = frozenset({"torch.distributed.optim.DistributedOptimizer"})
_SCHEDULER = re.compile(
    r"^(?:torch\.optim\.lr_scheduler\.[A-Z]\w*|torch\.optim\.swa_utils\.SWALR"
    r"|transformers(?:\.optimization)?\.get_\w*schedule\w*|transformers(?:\.optimization)?\.get_scheduler"
    r"|timm\.scheduler\.\w+)$"
)
_SCALER = frozenset(
    {
        "torch.amp.GradScaler",
        "torch.cuda.amp.GradScaler",
        "torch.cpu.amp.GradScaler",
        "torch.distributed.fsdp.sharded_grad_scaler.ShardedGradScaler",
    }
)
_LOSS = re.compile(r"^torch\.nn\.\w*Loss$")
_NN_MODULE = re.compile(r"^torch\.nn\.(?:parallel\.)?[A-Z]\w*$")
_NOT_MODULE = frozenset({"torch.nn.Parameter", "torch.nn.UninitializedParameter", "torch.nn.Buffer", "torch.nn.ParameterList", "torch.nn.ParameterDict"})
_MODEL_BUILDER = re.compile(
    r"^(?:torchvision\.models\.(?:[a-z_]+\.)?[a-z]\w*|timm\.(?:models\.)?create_model|torch\.hub\.load"
    r"|torch\.jit\.(?:load|script|trace))$"
)
_NOT_BUILDER = frozenset({"torchvision.models.get_model_weights", "torchvision.models.get_weight", "torchvision.models.list_models"})
_DATALOADER = frozenset({"torch.utils.data.DataLoader"})
_TENSOR_FACTORY = re.compile(
    r"^torch\.(?:tensor|as_tensor|from_numpy|zeros|ones|empty|full|rand|randn|randint|randperm|arange|range"
    r"|linspace|logspace|eye|zeros_like|ones_like|empty_like|full_like|rand_like|randn_like|randint_like"
    r"|stack|cat|concat|Tensor|FloatTensor|LongTensor|DoubleTensor|HalfTensor|BoolTensor|IntTensor|ByteTensor"
    r"|cuda\.FloatTensor|cuda\.LongTensor|frombuffer|asarray|tril|triu|where|exp|log|sigmoid|softmax|matmul|mm|bmm)$"
)
_PASS_THROUGH_CALLS = frozenset({"torch.compile", "torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel"})
# Methods of nn.Module that return the module itself.
_MODULE_IDENTITY_METHODS = frozenset(
    {"to", "cuda", "cpu", "train", "eval", "float", "half", "double", "bfloat16", "requires_grad_",
     "share_memory", "xpu", "mps", "ipu", "to_empty", "type", "apply", "zero_grad"}
)
# Tensor methods that do not return a tensor.
_TENSOR_NON_TENSOR_METHODS = frozenset(
    {"item", "tolist", "numpy", "size", "dim", "numel", "element_size", "data_ptr", "is_contiguous",
     "stride", "storage", "untyped_storage", "get_device", "is_floating_point", "__len__", "nelement",
     "ndimension", "backward", "register_hook", "all", "any"}
)

# Methods only tensors have (modules, optimizers and plain objects do not): a value they are
# called on, or that one of them returns, is a tensor.
TENSOR_ONLY_METHODS = frozenset(
    {"clone", "detach", "view", "reshape", "permute", "transpose", "squeeze", "unsqueeze", "flatten",
     "contiguous", "expand", "expand_as", "repeat", "masked_fill", "masked_fill_", "index_select", "gather",
     "scatter", "scatter_", "argmax", "argmin", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor",
     "type_as", "view_as", "reshape_as", "numel", "dim", "softmax", "log_softmax", "matmul", "bmm", "topk",
     "nonzero", "masked_select", "clamp", "clamp_", "abs", "sqrt", "exp", "pow", "norm", "tril", "triu",
     "narrow", "unbind", "roll", "flip", "cumsum", "item", "tolist", "requires_grad_"}
)

MODULE_EVIDENCE = frozenset(
    {"parameters", "named_parameters", "eval", "train", "modules", "named_modules", "children",
     "named_children", "buffers", "named_buffers", "register_forward_hook", "register_forward_pre_hook",
     "register_full_backward_hook", "register_buffer", "register_module", "add_module", "requires_grad_",
     "get_submodule", "load_state_dict_from_url"}
)


def classify_qualname(qualname: str, *, called: bool = True) -> Origin | None:
    """The origin of a call to the callable named `qualname`, when it is a known constructor."""
    if qualname in _DIST_OPTIMIZER:
        return Origin(Kind.DIST_OPTIMIZER, qualname)
    if _OPTIMIZER.match(qualname) and qualname not in ("torch.optim.Optimizer",):
        return Origin(Kind.OPTIMIZER, qualname)
    if _SCHEDULER.match(qualname):
        return Origin(Kind.SCHEDULER, qualname)
    if qualname in _SCALER:
        return Origin(Kind.SCALER, qualname)
    if qualname in _DATALOADER:
        return Origin(Kind.DATALOADER, qualname)
    if _LOSS.match(qualname):
        return Origin(Kind.LOSS, qualname)
    if _NN_MODULE.match(qualname) and qualname not in _NOT_MODULE:
        return Origin(Kind.MODULE, qualname)
    if _MODEL_BUILDER.match(qualname) and qualname not in _NOT_BUILDER:
        return Origin(Kind.MODULE, qualname)
    if _TENSOR_FACTORY.match(qualname):
        return Origin(Kind.TENSOR, qualname)
    return None


def origin_of(model: "SemanticModel", expr: cst.BaseExpression, scope: "Scope") -> Origin:
    """What `expr` (evaluated in `scope`) holds. Memoised per node; cycles yield UNKNOWN."""
    return model.memo(("origin", expr), lambda: _compute(model, expr, scope), while_computing=UNKNOWN)


def _compute(model: "SemanticModel", expr: cst.BaseExpression, scope: "Scope") -> Origin:
    if isinstance(expr, cst.Call):
        return _call_origin(model, expr, scope)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is not None:
            return path_origin(model, path, scope)
        if isinstance(expr, cst.Attribute):
            base = origin_of(model, expr.value, scope)
            if base.kind is Kind.TENSOR and expr.attr.value in ("T", "mT", "H", "data", "grad", "real", "imag"):
                return Origin(Kind.TENSOR)
        return UNKNOWN
    if isinstance(expr, cst.Subscript):
        base = origin_of(model, expr.value, scope)
        if base.kind is Kind.TENSOR:
            return Origin(Kind.TENSOR)
        if base.kind is Kind.MODULE and base.qualname in ("torch.nn.ModuleList", "torch.nn.Sequential", "torch.nn.ModuleDict"):
            return Origin(Kind.MODULE, None, None, certain=False)
        return UNKNOWN
    if isinstance(expr, cst.IfExp):
        return combine([origin_of(model, expr.body, scope), origin_of(model, expr.orelse, scope)], ignore_none=True)
    if isinstance(expr, cst.BinaryOperation):
        left = origin_of(model, expr.left, scope)
        right = origin_of(model, expr.right, scope)
        if Kind.TENSOR in (left.kind, right.kind):
            return Origin(Kind.TENSOR)
        return UNKNOWN
    if isinstance(expr, cst.UnaryOperation) and not isinstance(expr.operator, cst.Not):
        inner = origin_of(model, expr.expression, scope)
        return Origin(Kind.TENSOR) if inner.kind is Kind.TENSOR else UNKNOWN
    return UNKNOWN


def combine(origins: list[Origin], *, ignore_none: bool = False) -> Origin:
    """One origin for several possible values: their common kind, else UNKNOWN.

    Unknown members are ignored when at least one member is known (a name rebound from an
    unknown helper keeps the kind of its known bindings); ``ignore_none`` is accepted for
    readability at call sites where one arm is the literal ``None``.
    """
    known = [o for o in origins if o.known]
    if not known:
        return UNKNOWN
    kinds = {o.kind for o in known}
    if len(kinds) != 1:
        if kinds <= {Kind.MODULE, Kind.LOSS}:
            return Origin(Kind.MODULE, certain=all(o.certain for o in known))
        return UNKNOWN
    first = known[0]
    classes = {o.cls for o in known}
    foreign = {o.foreign for o in known}
    qualnames = {o.qualname for o in known}
    return Origin(
        first.kind,
        first.qualname if len(qualnames) == 1 else None,
        first.cls if len(classes) == 1 else None,
        certain=all(o.certain for o in known),
        guessed=any(o.guessed for o in known),
        foreign=first.foreign if len(foreign) == 1 else None,
    )


def _call_origin(model: "SemanticModel", call: cst.Call, scope: "Scope") -> Origin:
    func = call.func
    qualname = model.qualname(func, scope)
    if qualname is not None:
        if qualname in _PASS_THROUGH_CALLS and call.args:
            inner = origin_of(model, call.args[0].value, scope)
            if inner.is_module:
                return inner
            return Origin(Kind.MODULE, qualname) if qualname != "torch.compile" else UNKNOWN
        known = classify_qualname(qualname)
        if known is not None:
            return known
        if qualname.endswith(".from_pretrained") and _looks_like_model_class(qualname[: -len(".from_pretrained")]):
            return Origin(Kind.MODULE, qualname)
        return resolved_origin(model, qualname, called=True)
    if isinstance(func, cst.Name):
        return _local_callable_origin(model, func.value, scope, call)
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        receiver = func.value
        if method in _MODULE_IDENTITY_METHODS:
            inner = origin_of(model, receiver, scope)
            if inner.is_module:
                return inner
            if inner.kind is Kind.TENSOR and method not in ("train", "eval", "apply", "zero_grad"):
                return Origin(Kind.TENSOR)
            return UNKNOWN
        if method == "from_pretrained":
            receiver_name = model.qualname(receiver, scope)
            if receiver_name is not None and _looks_like_model_class(receiver_name):
                return Origin(Kind.MODULE, receiver_name + ".from_pretrained")
            local = dotted_name(receiver)
            if local is not None:
                info = model.classes_by_name.get(local)
                if info is not None and info.is_module:
                    return Origin(Kind.MODULE, None, info)
            return UNKNOWN
        receiver_origin = origin_of(model, receiver, scope)
        if receiver_origin.kind is Kind.TENSOR and method not in _TENSOR_NON_TENSOR_METHODS:
            return Origin(Kind.TENSOR, certain=receiver_origin.certain)
        if receiver_origin.kind is Kind.UNKNOWN and method in TENSOR_ONLY_METHODS and method not in _TENSOR_NON_TENSOR_METHODS:
            return Origin(Kind.TENSOR, certain=False)
        callee = model_resolve_method(model, call, scope)
        if callee is not None:
            return returned_origin(model, callee)
    return UNKNOWN


# Libraries whose names are never workspace definitions: asking the resolver about them would
# only cost time.
_LIBRARY_PREFIXES = ("torch", "numpy", "transformers", "torchvision", "timm", "lightning", "pytorch_lightning", "typing",
                     "collections", "os", "sys", "math", "functools", "itertools", "logging", "dataclasses", "builtins")


def resolved_origin(model: "SemanticModel", qualname: str, *, called: bool) -> Origin:
    """The origin of a value built by (``called``) or annotated with (not ``called``) a name
    imported from another workspace module, through the model's cross-file resolver.

    A class gives its kind (module, loss, optimizer) with the class as `Origin.foreign`; a
    called function gives the common origin of its ``return`` values, analysed in its own
    file's model. UNKNOWN without a resolver, for library names, or when the resolver cannot
    find a definition (in time).
    """
    resolver = model.resolver
    if resolver is None or qualname.split(".", 1)[0] in _LIBRARY_PREFIXES:
        return UNKNOWN

    def compute() -> Origin:
        definition = resolver.definition(model, qualname)
        if definition is None:
            return UNKNOWN
        foreign_model = definition.model
        node = definition.node
        if isinstance(node, cst.ClassDef):
            info = foreign_model.classes.get(node)
            return _class_origin(info) if info is not None else UNKNOWN
        if called:
            return _localised(returned_origin(foreign_model, node), model)
        return UNKNOWN

    return model.memo(("resolved-origin", qualname, called), compute, while_computing=UNKNOWN)


def _class_origin(info: "ClassInfo") -> Origin:
    """The origin of an instance of a class of another file (its `foreign` class)."""
    if info.is_optimizer:
        return Origin(Kind.OPTIMIZER, None, None, foreign=info)
    if info.is_module:
        return Origin(Kind.LOSS if info.is_loss else Kind.MODULE, None, None, foreign=info)
    return UNKNOWN


def _localised(origin: Origin, model: "SemanticModel") -> Origin:
    """An origin computed in another file's model, made safe for `model`: a class of that file
    moves from `cls` (same-file by contract) to `foreign`."""
    if origin.cls is not None and origin.cls.model is not model:
        return Origin(origin.kind, origin.qualname, None, certain=origin.certain, guessed=origin.guessed, foreign=origin.cls)
    return origin


def _looks_like_model_class(qualname: str) -> bool:
    last = qualname.rsplit(".", 1)[-1]
    if not qualname.startswith(("transformers", "diffusers", "peft", "sentence_transformers")):
        return False
    return last.startswith("AutoModel") or "For" in last or last.endswith(("Model", "LMHeadModel"))


def _local_callable_origin(model: "SemanticModel", name: str, scope: "Scope", call: cst.Call) -> Origin:
    for current in scope.lookup_chain():
        bindings = current.bindings.get(name)
        if not bindings:
            continue
        last = bindings[-1]
        if last.kind == "class":
            info = model.classes.get(last.node)  # type: ignore[arg-type]
            if info is None:
                return UNKNOWN
            if info.is_optimizer:
                return Origin(Kind.OPTIMIZER, None, info)
            if info.is_loss:
                return Origin(Kind.LOSS, None, info)
            if info.is_module:
                return Origin(Kind.MODULE, None, info)
            return Origin(Kind.UNKNOWN, None, info)
        if last.kind == "def":
            return returned_origin(model, last.node)  # type: ignore[arg-type]
        return UNKNOWN
    return UNKNOWN


def returned_origin(model: "SemanticModel", function: cst.FunctionDef) -> Origin:
    """The common origin of every ``return`` value of a same-file function."""
    def compute() -> Origin:
        scope = model.scopes[function]
        values = [r.value for r in returns_of(model, function)]
        if not values or any(v is None for v in values):
            return UNKNOWN
        return combine([origin_of(model, v, scope) for v in values])  # type: ignore[arg-type]

    return model.memo(("returned-origin", function), compute, while_computing=UNKNOWN)


def returns_of(model: "SemanticModel", function: cst.FunctionDef) -> list[cst.Return]:
    """The ``return`` statements of a function (not of functions nested in it)."""
    def compute() -> list[cst.Return]:
        return [
            node
            for node in walk_postorder(function.body, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda))
            if isinstance(node, cst.Return)
        ]

    return model.cached(("returns", function), compute)


def model_resolve_method(model: "SemanticModel", call: cst.Call, scope: "Scope") -> cst.FunctionDef | None:
    """The same-file method a call ``x.m(...)`` lands in, when `x` is ``self`` or an
    instance of a same-file class."""
    from .calls import resolve_callee

    return resolve_callee(model, call, scope)


def path_origin(model: "SemanticModel", path: str, scope: "Scope") -> Origin:
    """Origin of a name or access path from its bindings, annotation or uses."""
    return model.memo(("path-origin", path, scope.node), lambda: _path_origin(model, path, scope), while_computing=UNKNOWN)


def _path_origin(model: "SemanticModel", path: str, scope: "Scope") -> Origin:
    method_scope = model.method_scope(scope)
    if method_scope is not None and path == method_scope.self_name:
        info = model.class_of_method(method_scope.node)  # type: ignore[arg-type]
        if info is not None:
            if info.is_optimizer:
                return Origin(Kind.OPTIMIZER, None, info)
            if info.is_module:
                return Origin(Kind.LOSS if info.is_loss else Kind.MODULE, None, info)
            return Origin(Kind.UNKNOWN, None, info)
    bindings = model.bindings_of(path, scope)
    origins: list[Origin] = []
    is_parameter = False
    for binding in bindings:
        binding_scope = model.scope_for(binding.node)
        if binding.kind == "param":
            is_parameter = True
            if binding.annotation is not None:
                origins.append(annotation_origin(model, binding.annotation, binding_scope))
            continue
        if binding.kind == "annassign" and binding.annotation is not None:
            from_annotation = annotation_origin(model, binding.annotation, binding_scope)
            if from_annotation.known:
                origins.append(from_annotation)
                continue
        if binding.kind in ("assign", "annassign", "walrus") and binding.value is not None:
            if binding.unpack:
                origins.append(_unpacked_origin(model, binding, binding_scope))
            else:
                origins.append(origin_of(model, binding.value, binding_scope))
        elif binding.kind == "for" and binding.value is not None and not binding.unpack:
            container = origin_of(model, binding.value, binding_scope)
            if container.kind is Kind.MODULE and container.qualname in ("torch.nn.ModuleList", "torch.nn.Sequential"):
                origins.append(Origin(Kind.MODULE, certain=False))
            elif container.kind is Kind.MODULE and _iterates_modules(binding.value):
                origins.append(Origin(Kind.MODULE, certain=False))
        elif binding.kind == "def":
            origins.append(UNKNOWN)
    result = combine(origins)
    if result.known:
        return result
    # Clause 10's single-class guess is for a bare name (a parameter, or a name bound
    # elsewhere); `model.parameters` called like a function is not a model.
    return usage_origin(model, path, scope, is_parameter="." not in path and (is_parameter or not bindings))


def _iterates_modules(value: cst.BaseExpression) -> bool:
    return (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in ("modules", "children")
    )


def _unpacked_origin(model: "SemanticModel", binding, scope: "Scope") -> Origin:
    value = binding.value
    index = binding.unpack[0]
    if index < 0:
        return UNKNOWN
    if isinstance(value, (cst.Tuple, cst.List)):
        elements = value.elements
        if index < len(elements) and not isinstance(elements[index], cst.StarredElement):
            return origin_of(model, elements[index].value, scope)
        return UNKNOWN
    if isinstance(value, cst.Call):
        from .calls import resolve_callee

        callee = resolve_callee(model, value, scope)
        if callee is None:
            return UNKNOWN
        callee_scope = model.scopes[callee]
        origins = []
        for ret in returns_of(model, callee):
            if isinstance(ret.value, (cst.Tuple, cst.List)) and index < len(ret.value.elements):
                origins.append(origin_of(model, ret.value.elements[index].value, callee_scope))
            else:
                return UNKNOWN
        return combine(origins)
    return UNKNOWN


def annotation_origin(model: "SemanticModel", annotation: cst.BaseExpression, scope: "Scope") -> Origin:
    """Origin implied by a type annotation (``nn.Module``, ``Optimizer``, a same-file class)."""
    node = annotation
    if isinstance(node, cst.Subscript):  # Optional[X]
        name = model.qualname(node.value, scope) or dotted_name(node.value)
        if name in ("typing.Optional", "Optional") and node.slice:
            element = node.slice[0].slice
            if isinstance(element, cst.Index):
                node = element.value
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):  # X | None
        if isinstance(node.right, cst.Name) and node.right.value == "None":
            node = node.left
        elif isinstance(node.left, cst.Name) and node.left.value == "None":
            node = node.right
    qualname = model.qualname(node, scope)
    if qualname is not None:
        if qualname in ("torch.nn.Module",):
            return Origin(Kind.MODULE, qualname)
        if qualname in ("torch.optim.Optimizer", "torch.optim.optimizer.Optimizer"):
            return Origin(Kind.OPTIMIZER, qualname)
        if qualname in ("torch.Tensor", "torch.FloatTensor", "torch.LongTensor"):
            return Origin(Kind.TENSOR, qualname)
        known = classify_qualname(qualname)
        if known is not None:
            return known if known.kind is not Kind.TENSOR else UNKNOWN
        return resolved_origin(model, qualname, called=False)
    name = dotted_name(node)
    if name is not None and "." not in name:
        info = model.classes_by_name.get(name)
        if info is not None:
            if info.is_optimizer:
                return Origin(Kind.OPTIMIZER, None, info)
            if info.is_module:
                return Origin(Kind.LOSS if info.is_loss else Kind.MODULE, None, info)
    return UNKNOWN


def uses_of(model: "SemanticModel", path: str, scope: "Scope") -> set[str]:
    """Methods called on `path` in its scope (for ``self.x``: in every method of the class)."""
    head, _, rest = path.partition(".")
    if rest:
        method_scope = model.method_scope(scope)
        if method_scope is not None and method_scope.self_name == head:
            info = model.class_of_method(method_scope.node)  # type: ignore[arg-type]
            if info is not None:
                return info.attr_uses(rest)
    found: set[str] = set()
    for current in [scope] + _nested_function_scopes(scope):
        found |= current.uses.get(path, set())
    return found


def _nested_function_scopes(scope: "Scope") -> list["Scope"]:
    result = []
    stack = list(scope.children)
    while stack:
        child = stack.pop()
        if child.kind in ("function", "lambda"):
            result.append(child)
            stack.extend(child.children)
    return result


def usage_origin(model: "SemanticModel", path: str, scope: "Scope", *, is_parameter: bool) -> Origin:
    """Origin inferred from the methods called on `path` (certain=False)."""
    uses = uses_of(model, path, scope)
    last = path.rsplit(".", 1)[-1].lower()
    if uses & MODULE_EVIDENCE:
        single = _single_model_class(model) if "__call__" in uses else None
        return Origin(Kind.MODULE, None, single, certain=False)
    if "scale" in uses and ("update" in uses or "unscale_" in uses or "step" in uses):
        return Origin(Kind.SCALER, certain=False)
    if "sched" in last:
        return Origin(Kind.SCHEDULER, certain=False)
    if "add_param_group" in uses or {"zero_grad", "step"} <= uses:
        return Origin(Kind.OPTIMIZER, certain=False)
    if uses & TENSOR_ONLY_METHODS and "__call__" not in uses:
        return Origin(Kind.TENSOR, certain=False)
    if is_parameter and "__call__" in uses:
        single = _single_model_class(model)
        if single is not None:
            return Origin(Kind.MODULE, None, single, certain=False, guessed=True)
    return UNKNOWN


def _single_model_class(model: "SemanticModel") -> "ClassInfo | None":
    """Clause 10: the file's only model class (not counting losses), if there is exactly one."""
    def compute():
        modules = [info for info in model.classes.values() if info.is_module and not info.is_loss]
        return modules[0] if len(modules) == 1 else None

    return model.cached("single-model-class", compute)
