"""Shared pieces of the construction interpreter: control-flow signals, limits, operator
tables, the evaluation `Frame`, and small helpers on libcst nodes and abstract values."""

from __future__ import annotations

from typing import Any, Iterable, TYPE_CHECKING

import libcst as cst

from .values import (
    Builtin,
    ClassRef,
    FuncRef,
    Instance,
    Ref,
    TensorVal,
    Unknown,
    first_unknown,
    is_static,
)

if TYPE_CHECKING:
    from ..semantic.classes import ClassInfo
    from ..semantic.model import SemanticModel
    from ..semantic.scopes import Scope


class BudgetExceeded(Exception):
    """The analysis took more steps or time than allowed."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


BUILTINS = frozenset({
    "range", "len", "int", "float", "bool", "str", "max", "min", "sum", "abs", "round", "list", "tuple", "dict",
    "zip", "enumerate", "reversed", "sorted", "isinstance", "print", "super", "setattr", "getattr", "hasattr", "divmod",
    "any", "all", "map",
})
_CONTAINERS = {
    "torch.nn.Sequential": "container",
    "torch.nn.ModuleList": "container",
    "torch.nn.ModuleDict": "container",
    "torch.nn.ParameterList": "container",
    "torch.nn.ParameterDict": "container",
}
_PARAMETER = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
_SIZE_FACTORIES = frozenset({"torch.zeros", "torch.ones", "torch.empty", "torch.rand", "torch.randn", "torch.Tensor",
                             "torch.FloatTensor", "torch.randint"})
# Methods returning their receiver (modules: `.to(device)`; tensors: in-place initialisers).
_IDENTITY_METHODS = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_",
                               "apply", "normal_", "uniform_", "zero_", "fill_", "copy_", "clone", "detach", "contiguous",
                               "type", "share_memory", "xavier_uniform_", "trunc_normal_"})
_MAX_LOOP = 4096
_MAX_SEQUENCE = 100_000
_MAX_DEPTH = 40

_BINARY = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.FloorDivide: lambda a, b: a // b,
    cst.Modulo: lambda a, b: a % b,
    cst.Power: lambda a, b: a**b,
    cst.LeftShift: lambda a, b: a << b,
    cst.RightShift: lambda a, b: a >> b,
    cst.BitAnd: lambda a, b: a & b,
    cst.BitOr: lambda a, b: a | b,
    cst.BitXor: lambda a, b: a ^ b,
}
_AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.LeftShiftAssign: cst.LeftShift, cst.RightShiftAssign: cst.RightShift,
    cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr, cst.BitXorAssign: cst.BitXor,
}
_COMPARE = {
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b,
    cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b,
    cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b,
}


class Frame:
    """Where an expression is evaluated.

    Attributes:
        model: the semantic model of the file the code belongs to.
        scope: the scope names are resolved in.
        env: local values (function parameters and assignments executed so far; comprehension
            variables).
        strict: interpreting the scope's function: its locals come from `env` only.
        instance: the module under construction bound to ``self``, if any.
        owner: the class whose method runs (for ``super()``).
    """

    __slots__ = ("model", "scope", "env", "strict", "instance", "owner")

    def __init__(self, model: "SemanticModel", scope: "Scope", env: dict[str, Any] | None = None, *, strict: bool = False,
                 instance: Instance | None = None, owner: "ClassInfo | None" = None) -> None:
        self.model = model
        self.scope = scope
        self.env = env if env is not None else {}
        self.strict = strict
        self.instance = instance
        self.owner = owner

    def child(self) -> "Frame":
        """A frame for a comprehension: its variables do not leak into this one."""
        return Frame(self.model, self.scope, dict(self.env), strict=self.strict, instance=self.instance, owner=self.owner)



# --------------------------------------------------------------------------- helpers


def _body(block: cst.CSTNode) -> Iterable[cst.CSTNode]:
    if isinstance(block, cst.IndentedBlock):
        return block.body
    if isinstance(block, cst.SimpleStatementSuite):
        return (block,)
    return getattr(block, "body", ())


def _truth(value: Any) -> bool | None:
    if isinstance(value, Unknown):
        return None
    if is_static(value) or isinstance(value, range):
        return bool(value)
    if isinstance(value, (Instance, ClassRef, FuncRef, Ref, TensorVal)):
        return True  # a module, class or function object is truthy (a tensor would raise)
    return None


def _iterate(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple, range)):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, dict):
        return list(value.keys())
    if isinstance(value, Instance) and value.resolved().kind == "container":
        return list(value.resolved().children.values())
    return None


def _unknown_from(value: Any, fallback: str) -> Unknown:
    found = first_unknown(value) if value is not None else None
    return found if found is not None else Unknown(fallback)


def _reason(value: Any, fallback: str) -> str:
    found = first_unknown(value) if value is not None else None
    return f"{found.reason} is not static" if found is not None else fallback


def _memo_key(value: Any) -> Any:
    """A hashable key standing for a call argument, or None when it cannot be memoised (a
    module instance passed in: two constructions share it)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, Unknown):
        return ("unknown", value.reason)
    if isinstance(value, (tuple, list)):
        inner = tuple(_memo_key(v) for v in value)
        return None if any(k is None for k in inner) else (type(value).__name__, inner)
    if isinstance(value, (Ref, Builtin)):
        return ("ref", value)
    if isinstance(value, ClassRef):
        return ("class", id(value.info.node))
    if isinstance(value, FuncRef):
        return ("function", id(value.node))
    return None


def _find_method(info: "ClassInfo | None", name: str) -> tuple[cst.FunctionDef, "ClassInfo"] | None:
    if info is None:
        return None
    for ancestor in info.lineage():
        found = ancestor.methods.get(name)
        if found is not None:
            return found, ancestor
    return None


def _external_bases(info: "ClassInfo") -> list[str]:
    """Base names of `info`'s own bases that are not classes of its file (its same-file bases
    are followed by `call_super` through the lineage)."""
    same_file = {b.name for b in info.same_file_bases}
    return [name for name in info.base_names if name and name not in same_file]


def _decorated(function: cst.FunctionDef, name: str) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == name for d in function.decorators)


def _is_static_method(function: cst.FunctionDef) -> bool:
    return _decorated(function, "staticmethod")


def _is_class_method(function: cst.FunctionDef) -> bool:
    return _decorated(function, "classmethod")


def _function_of_param(model: "SemanticModel", param: cst.CSTNode) -> cst.FunctionDef | None:
    for ancestor in model.ancestors(param):
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
        if isinstance(ancestor, cst.Lambda):
            return None
    return None


def _short(qualname: str) -> str:
    """``torch.nn.Linear`` -> ``nn.Linear``; other names unchanged."""
    return qualname[len("torch."):] if qualname.startswith("torch.nn.") else qualname


def _code(model: "SemanticModel", node: cst.CSTNode, limit: int = 60) -> str:
    try:
        text = model.module.code_for_node(node)
    except Exception:  # a node of another tree
        return "…"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_label(model: "SemanticModel", node: cst.Call | None, qualname: str) -> str:
    if node is None:
        return _short(qualname)
    return _code(model, node)


_MODULE_WORDS = ("layer", "block", "norm", "act", "module", "conv", "linear", "embed", "mlp", "attn", "attention", "head",
                 "build", "make", "create", "encoder", "decoder", "net", "model", "stem", "proj")


def _may_build_module(func: cst.BaseExpression, callee: Any) -> bool:
    """Whether a call whose value is not known may have built a module: a CamelCase callee
    (a class), or a callee named like a layer factory (``norm_layer``, ``block_fn``,
    ``make_layer``) -- not ``int(...)`` or ``config.get(...)``."""
    if isinstance(callee, (Builtin,)) or (isinstance(callee, Ref) and callee.qualname.startswith(("torch.", "math.", "numpy."))
                                          and not callee.qualname.startswith("torch.nn.")):
        return False
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    if not name:
        return False
    if name[:1].isupper():
        return True
    lowered = name.lower()
    if lowered.startswith(("use_", "is_", "has_", "should_", "get_num", "num_")):
        return False  # predicates and counts
    return any(word in lowered for word in _MODULE_WORDS)


def _builds_modules(model: "SemanticModel", block: cst.CSTNode) -> bool:
    """Whether a block contains a call that may construct a module or register one (a
    ``torch.nn`` constructor, a class of the file, ``append``/``add_module``/``setattr``)."""
    from ..semantic.walk import walk_postorder

    for node in walk_postorder(block, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend", "add_module", "register_module", "register_parameter", "insert"):
            return True
        if isinstance(func, cst.Name) and func.value == "setattr":
            return True
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None:
            # Constructors are CamelCase: torch.nn layers, or classes imported from elsewhere.
            last = name.rsplit(".", 1)[-1]
            if last[:1].isupper() and (name.startswith("torch.nn.") or not name.startswith("torch.")):
                return True
        elif isinstance(func, cst.Name) and (func.value in model.classes_by_name or func.value[:1].isupper()):
            return True
    return False


