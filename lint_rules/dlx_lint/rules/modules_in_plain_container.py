"""DLX018 modules-in-plain-container: submodules kept in a Python list/dict are unregistered."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import spell
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import block_statements
from ..semantic.kinds import Kind
from ..semantic.names import dotted_name

_REGISTERING = frozenset({"torch.nn.ModuleList", "torch.nn.ModuleDict", "torch.nn.Sequential",
                          "torch.nn.ParameterList", "torch.nn.ParameterDict"})
_EMPTY_CONTAINERS = frozenset({"list", "dict", "tuple"})


class ModulesInPlainContainer(Rule):
    code = "DLX018"
    name = "modules-in-plain-container"
    severity = Severity.ERROR
    summary = "submodules stored in a plain list/dict attribute are not registered"
    what = """
In a class deriving from `nn.Module` (directly or through same-file bases), reports
`self.a = [...]` / `(...)` / `{...}` (a display or comprehension) whose elements are module
constructors (`nn.*` or same-file modules) or `nn.Parameter(...)`, and `self.a = []` in
`__init__` when modules are then added with `self.a.append(...)`, `self.a.extend([...])`,
`self.a += [...]`, `self.a = self.a + [...]` or `self.a[k] = ...`.
"""
    why = """
`nn.Module` registers submodules and parameters only when they are assigned directly or held
by `nn.ModuleList`/`ModuleDict`/`ParameterList`/`ParameterDict`. Layers in a plain list are
absent from `parameters()` (the optimizer never updates them), from `state_dict()` (never
saved or loaded), and ignored by `.to()`/`.cuda()` and `train()`/`eval()`: training silently
leaves them at their random initialisation, on the wrong device, in the wrong mode.
"""
    example = """
class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.layers = [nn.Linear(64, 64) for _ in range(n)]
"""
    use_instead = """
class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(n)])
"""
    fix_safety = """
The fix wraps the display: a list, tuple (made a list) or comprehension of modules becomes
`nn.ModuleList([...])`, a dict with string keys `nn.ModuleDict({...})`, and parameters go into
`nn.ParameterList`/`nn.ParameterDict`; an empty `[]` filled later with `append`/`extend`/`+=`
becomes `nn.ModuleList()` (`nn.ParameterList()` for parameters). `nn` is spelled as the file
imports it. The fix is unsafe, because registering changes what the model is: the layers' parameters
now appear in `parameters()` (an optimizer built afterwards trains them, and their count
changes), `state_dict()` gains their keys (checkpoints saved before no longer load strictly),
`.to()`/`.cuda()` move them and `train()`/`eval()` switch them, which is what the code meant.
Code that relies on list or dict methods the containers lack (`dict.get`, `list.sort`)
needs adjusting. Not offered for sets, for containers mixing modules with other values
(the registering containers reject them), for dict keys that are not plain strings without a
dot, or when something other than modules is added later.
"""
    limitations = """
Containers filled in methods other than `__init__`, or through helpers, are not followed. A
container whose elements `__init__` registers one by one (`self.add_module(str(i), layer)` in a
loop over it) is fine. Loss objects in a plain dict hold no parameters and are not reported.
"""
    references = (
        Reference("PyTorch docs: nn.ModuleList (properly registered)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.ModuleList.html"),
        Reference("pytorch#715: layers in a list are not registered", "https://github.com/pytorch/pytorch/issues/715"),
        Reference("pytorch#666", "https://github.com/pytorch/pytorch/issues/666"),
    )
    bad_examples = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.layers = [nn.Linear(8, 8) for _ in range(n)]  # expect: DLX018
        self.heads = {"a": nn.Linear(8, 1)}  # expect: DLX018
        self.blocks = []  # expect: DLX018
        for _ in range(n):
            self.blocks.append(nn.Conv2d(3, 3, 1))
        self.scales = [nn.Parameter(torch.ones(1)), nn.Parameter(torch.zeros(1))]  # expect: DLX018
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])  # expect: DLX018
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 1)})  # expect: DLX018
        self.blocks = nn.ModuleList()  # expect: DLX018
        for _ in range(n):
            self.blocks.append(nn.Conv2d(3, 3, 1))
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(1)), nn.Parameter(torch.zeros(1))])  # expect: DLX018
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
from torch import nn

class Net(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])
        self.names = ["a", "b"]
        self.sizes = [8, 16]
        self.blocks = []
        for _ in range(n):
            self.blocks.append(nn.Conv2d(3, 3, 1))
        self.blocks = nn.ModuleList(self.blocks)
        stages = [nn.Linear(8, 8)]
        self.stages = nn.Sequential(*stages)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for info in model.classes.values():
            init = info.methods.get("__init__")
            if init is None or init not in _assigns_by_function(model) or not info.is_module:
                continue
            scope = model.scopes[init]
            if scope.self_name is None:
                continue
            yield from self._check_init(model, init, scope.self_name)

    def _check_init(self, model, init: cst.FunctionDef, self_name: str) -> Iterator[Finding]:
        prefix = self_name + "."
        assigns = _assigns_by_function(model).get(init, [])
        by_attribute: dict[str, list[cst.Assign]] = {}
        for node in assigns:
            for target in node.targets:
                path = dotted_name(target.target)
                if path and path.startswith(prefix) and path.count(".") == 1:
                    by_attribute.setdefault(path, []).append(node)
        registered = _registered_by_hand(model, init)
        for path, nodes in by_attribute.items():
            if any(_registering(model, n.value) for n in nodes):
                continue  # wrapped (or rewrapped) in a registering container
            if path in registered:
                continue  # each element registered with add_module/register_module
            first = nodes[0]
            if _holds_modules(model, first.value):
                yield Finding(first, f"modules in the plain container `{path}` are not registered (absent from parameters(), state_dict(), .to()); use `nn.ModuleList`/`nn.ModuleDict`/`nn.ParameterList`",
                              fix=partial(_wrap_fix, model, first))
            elif _is_empty_container(first.value) and _filled_with_modules(model, init, path, nodes):
                yield Finding(first, f"modules added to the plain container `{path}` are not registered; create it as `nn.ModuleList()`/`nn.ModuleDict()`",
                              fix=partial(_empty_fix, model, init, path, first))


def _assigns_by_function(model) -> dict:
    def compute():
        grouped: dict = {}
        for node in model.assigns:
            grouped.setdefault(model.enclosing_function(node), []).append(node)
        return grouped

    return model.cached("assigns-by-function", compute)


def _registering(model, value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)) \
        and model.qualname(value.func) in _REGISTERING


def _is_module_or_parameter(model, expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.StarredElement):
        return False
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, (cst.Name, cst.Attribute)):
        return False
    if model.qualname(expr.func) == "torch.nn.Parameter":
        return True
    origin = model.origin(expr)
    # Loss objects hold no parameters and behave the same in both modes (a dict of criteria is fine).
    return origin.kind is Kind.MODULE and not origin.guessed


def _holds_modules(model, value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return any(_is_module_or_parameter(model, e.value) for e in value.elements)
    if isinstance(value, cst.Dict):
        return any(isinstance(e, cst.DictElement) and _is_module_or_parameter(model, e.value) for e in value.elements)
    if isinstance(value, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return _is_module_or_parameter(model, value.elt)
    if isinstance(value, cst.DictComp):
        return _is_module_or_parameter(model, value.value)
    return False


def _is_empty_container(value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.List, cst.Dict, cst.Tuple)) and not value.elements:
        return True
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in _EMPTY_CONTAINERS and not value.args


def _filled_with_modules(model, init, path: str, nodes) -> bool:
    for call in model.calls_by_attr.get("append", []) + model.calls_by_attr.get("extend", []) + model.calls_by_attr.get("insert", []):
        if model.enclosing_function(call) is not init or dotted_name(call.func.value) != path:
            continue
        method = call.func.attr.value
        values = [a.value for a in call.args]
        if method == "insert" and len(values) > 1:
            values = values[1:]
        for value in values:
            if method == "extend" and _holds_modules(model, value):
                return True
            if method != "extend" and _is_module_or_parameter(model, value):
                return True
    for node in model.aug_assigns:
        if model.enclosing_function(node) is init and dotted_name(node.target) == path and _holds_modules(model, node.value):
            return True
    for node in _assigns_by_function(model).get(init, []):
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and dotted_name(target.target.value) == path \
                    and _is_module_or_parameter(model, node.value):
                return True
    for node in nodes[1:]:
        value = node.value
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add) \
                and (dotted_name(value.left) == path and _holds_modules(model, value.right)):
            return True
    return False


def _registered_by_hand(model, init) -> set[str]:
    """Containers whose elements `__init__` registers itself: ``for m in self.a:
    self.add_module(name, m)`` (transformers' PredictionBlock style)."""
    registered = set()
    for call in model.calls_by_attr.get("add_module", []) + model.calls_by_attr.get("register_module", []):
        if model.enclosing_function(call) is not init:
            continue
        loop = model.innermost_loop(call)
        if isinstance(loop, cst.For):
            iterable = loop.iter
            if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "enumerate" and iterable.args:
                iterable = iterable.args[0].value
            path = dotted_name(iterable)
            if path is not None:
                registered.add(path)
    return registered


# ------------------------------------------------------------------------------------ fixes

_MODULE, _PARAMETER = "module", "parameter"
_CONTAINERS = {
    ("list", _MODULE): "torch.nn.ModuleList",
    ("list", _PARAMETER): "torch.nn.ParameterList",
    ("dict", _MODULE): "torch.nn.ModuleDict",
    ("dict", _PARAMETER): "torch.nn.ParameterDict",
}


def _element_kind(model, expr: cst.BaseExpression) -> str | None:
    """`_MODULE` for a module constructor, `_PARAMETER` for `nn.Parameter(...)`, else None."""
    if not _is_module_or_parameter(model, expr):
        return None
    return _PARAMETER if model.qualname(expr.func) == "torch.nn.Parameter" else _MODULE  # type: ignore[attr-defined]


def _one_kind(kinds) -> str | None:
    kinds = set(kinds)
    if len(kinds) != 1 or None in kinds:
        return None
    return kinds.pop()


def _wrap_fix(model, assign: cst.Assign) -> NodeFix | None:
    """Wrap a display or comprehension of modules (parameters) in the registering container."""
    if len(assign.targets) != 1:
        return None
    value = assign.value
    if isinstance(value, (cst.List, cst.Tuple)):
        shape = "list"
        kind = _one_kind(_element_kind(model, e.value) if not isinstance(e, cst.StarredElement) else None for e in value.elements)
    elif isinstance(value, (cst.ListComp, cst.GeneratorExp)):
        shape, kind = "list", _element_kind(model, value.elt)
    elif isinstance(value, cst.Dict):
        shape = "dict"
        if not all(isinstance(e, cst.DictElement) and _plain_key(e.key) for e in value.elements):
            return None
        kind = _one_kind(_element_kind(model, e.value) for e in value.elements)  # type: ignore[union-attr]
    elif isinstance(value, cst.DictComp):
        if not isinstance(value.key, cst.FormattedString):
            return None  # ModuleDict keys must be strings; an f-string surely is one
        shape, kind = "dict", _element_kind(model, value.value)
    else:
        return None  # a set: no order to keep
    if kind is None:
        return None
    try:
        text, imports = spell(model, _CONTAINERS[(shape, kind)], assign)
    except FixUnavailable:
        return None
    if isinstance(value, cst.Tuple):
        inner: cst.BaseExpression = _as_list(value)
    elif isinstance(value, cst.GeneratorExp):
        inner = value.with_changes(lpar=[], rpar=[])  # the call's parentheses suffice
    else:
        inner = value
    new = cst.Call(func=cst.parse_expression(text), args=[cst.Arg(inner)])
    return NodeFix(f"Wrap in `{text}`", (Replace(value, new), *imports))


def _as_list(value: cst.Tuple) -> cst.List:
    """`(a, b)` or `a, b` as `[a, b]`, keeping the layout inside the brackets."""
    lbracket = cst.LeftSquareBracket(whitespace_after=value.lpar[0].whitespace_after) if value.lpar else cst.LeftSquareBracket()
    rbracket = cst.RightSquareBracket(whitespace_before=value.rpar[-1].whitespace_before) if value.rpar else cst.RightSquareBracket()
    return cst.List(elements=value.elements, lbracket=lbracket, rbracket=rbracket)


def _plain_key(key: cst.BaseExpression) -> bool:
    if not isinstance(key, cst.SimpleString):
        return False
    text = key.evaluated_value
    return isinstance(text, str) and bool(text) and "." not in text


def _empty_fix(model, init: cst.FunctionDef, path: str, assign: cst.Assign) -> NodeFix | None:
    """`self.a = []` filled later with modules only -> `self.a = nn.ModuleList()`."""
    value = assign.value
    is_list = isinstance(value, cst.List) or (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "list"
    )
    if len(assign.targets) != 1 or not is_list:
        return None
    kind = _one_kind(_added_kinds(model, init, path))
    if kind is None:
        return None
    try:
        text, imports = spell(model, _CONTAINERS[("list", kind)], assign)
    except FixUnavailable:
        return None
    return NodeFix(f"Create it as `{text}()`", (Replace(value, cst.Call(func=cst.parse_expression(text))), *imports))


def _added_kinds(model, init: cst.FunctionDef, path: str) -> list:
    """The kind of everything `__init__` adds to the container (None for an unknown value,
    or for a way of filling it the registering list does not support)."""
    kinds: list = []
    for name in ("append", "extend", "insert"):
        for call in model.calls_by_attr.get(name, []):
            if model.enclosing_function(call) is not init or dotted_name(call.func.value) != path:
                continue
            values = [a.value for a in call.args]
            if name == "insert":
                values = values[1:]
            for value in values:
                kinds.extend(_display_kinds(model, value) if name == "extend" else [_element_kind(model, value)])
    for node in model.aug_assigns:
        if model.enclosing_function(node) is init and dotted_name(node.target) == path:
            kinds.extend(_display_kinds(model, node.value) if isinstance(node.operator, cst.AddAssign) else [None])
    for node in _assigns_by_function(model).get(init, []):
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and dotted_name(target.target.value) == path:
                kinds.append(None)  # `self.a[k] = m` on a list that was empty raises anyway
            elif dotted_name(target.target) == path and node.value is not None and not _is_empty_container(node.value):
                value = node.value
                if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add) and dotted_name(value.left) == path:
                    kinds.extend(_display_kinds(model, value.right))
                else:
                    kinds.append(None)
    return kinds


def _display_kinds(model, value: cst.BaseExpression) -> list:
    if isinstance(value, (cst.List, cst.Tuple)):
        return [None if isinstance(e, cst.StarredElement) else _element_kind(model, e.value) for e in value.elements]
    if isinstance(value, (cst.ListComp, cst.GeneratorExp)):
        return [_element_kind(model, value.elt)]
    return [None]
