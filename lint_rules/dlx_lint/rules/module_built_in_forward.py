"""DLX026 module-built-in-forward: a layer constructed inside `forward` is never registered."""

from __future__ import annotations

import re
from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of, spell
from ..fixes.spec import FixUnavailable, InsertAfter, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.kinds import Kind
from ..semantic.names import dotted_name

# Layers without parameters whose behaviour does not depend on train/eval mode: building them in
# forward costs a little time and nothing else.
_STATELESS = re.compile(
    r"^(?:ReLU6?|LeakyReLU|ELU|SELU|CELU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax2?d?|Softmin|LogSoftmax|Softplus|"
    r"Softsign|Hardtanh|Hardsigmoid|Hardswish|Hardshrink|Softshrink|Tanhshrink|Threshold|LogSigmoid|GLU|Identity|"
    r"Flatten|Unflatten|(?:Adaptive)?(?:Max|Avg)Pool[123]d|LPPool[12]d|MaxUnpool[123]d|Upsample|Upsampling\w+|"
    r"PixelShuffle|PixelUnshuffle|ChannelShuffle|(?:Zero|Constant|Reflection|Replication|Circular)Pad[123]d|Fold|"
    r"Unfold|CosineSimilarity|PairwiseDistance)$"
)
_MOVES = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_"})


class ModuleBuiltInForward(Rule):
    code = "DLX026"
    name = "module-built-in-forward"
    severity = Severity.WARNING
    requires = ("forward",)
    summary = "a layer constructed inside forward() is fresh and unregistered on every call"
    what = """
In `forward` of an `nn.Module` subclass, reports a layer constructor (`nn.Linear(...)`,
`nn.Dropout(...)`, `nn.Conv2d(...)`, a same-file module...) that is called right away
(`nn.Dropout(p)(x)`) or bound to a local (possibly after `.to(device)`) that is called later.
Loss objects and parameter-free layers that behave the same in both modes (activations,
pooling, padding, `Flatten`, `Identity`) are not reported.
"""
    why = """
A module built inside `forward` is a new object on every call: its weights are re-initialised
at random each step and never reach `parameters()`, so the optimizer never trains them and
checkpoints never save them; a `Dropout` built there is always in training mode, so
`model.eval()` does not turn it off.
"""
    example = """
class Head(nn.Module):
    def forward(self, x):
        x = nn.Dropout(0.5)(x)
        return nn.Linear(self.d, 10)(x)  # new random weights on every call
"""
    use_instead = """
class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        return self.head(self.drop(x))
"""
    fix_safety = """
For a parameter-free layer whose behaviour depends on the mode (`Dropout`, `Dropout1d/2d/3d`,
`AlphaDropout`, `FeatureAlphaDropout`) built from literal arguments, the fix builds it once in
`__init__` as `self.<name>` (appended to `__init__`, or in a new
`__init__(self): super().__init__()` when the class derives directly from `nn.Module` and has
none) and uses `self.<name>` in `forward`. It is unsafe: `model.eval()` now turns the dropout
off, so evaluation outputs change (which is the point); `state_dict()` is unaffected (the layer
has no parameters or buffers), but the module tree gains a child. Layers with parameters
(`Linear`, `Conv2d`, ...) get no fix: hoisting them changes the model's parameters, its
initialisation and its checkpoints, and their sizes often depend on the input, so they need a
decision by hand.
"""
    limitations = "Only `forward` is checked; a helper method that builds layers and is called from `forward` is not followed."
    references = (
        Reference("PyTorch docs: nn.Module (submodules assigned as attributes are registered)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html"),
        Reference("NTS-Net#14: Dropout built in forward", "https://github.com/yangze0930/NTS-Net/issues/14"),
        Reference("pytorch#1291", "https://github.com/pytorch/pytorch/issues/1291"),
    )
    bad_examples = (
        """
import torch
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        x = nn.Dropout(0.5)(x)  # expect: DLX026
        proj = nn.Linear(8, 8).to(x.device)  # expect: DLX026
        return torch.relu(proj(x))
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        x = self.dropout(x)  # expect: DLX026
        proj = nn.Linear(8, 8).to(x.device)  # expect: DLX026
        return torch.relu(proj(x))
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
from torch import nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x, y):
        loss = nn.CrossEntropyLoss()(self.proj(x), y)
        pooled = nn.AdaptiveAvgPool1d(1)(x)
        return nn.ReLU()(pooled), loss
""",
    )

    def check(self, model) -> Iterator[Finding]:
        forwards = {}
        for info in model.classes.values():
            forward = info.methods.get("forward")
            if forward is not None:
                forwards[forward] = info
        if not forwards:
            return
        for call in model.calls:
            func = call.func
            last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            if not last[:1].isupper():
                continue  # class constructors are CamelCase: skip ordinary calls cheaply
            function = model.enclosing_function(call)
            info = forwards.get(function)
            if info is None or not info.is_module or not _is_layer_constructor(model, call):
                continue
            if _called_right_away(model, call) or _bound_and_called(model, function, call):
                yield Finding(
                    call,
                    "this layer is constructed on every forward call: its weights are never trained or saved and it ignores `eval()`; build it in `__init__` as an attribute",
                    fix=partial(_fix, model, info, function, call),
                )


def _is_layer_constructor(model, call: cst.Call) -> bool:
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    last = func.attr.value if isinstance(func, cst.Attribute) else func.value
    if not last[:1].isupper():
        return False  # class constructors are CamelCase; skip resolving ordinary calls
    origin = model.origin(call)
    if origin.kind is not Kind.MODULE or origin.guessed:
        return False
    if origin.qualname is not None:
        if not origin.qualname.startswith("torch.nn."):
            return False
        layer = origin.qualname.rsplit(".", 1)[-1]
        return not _STATELESS.match(layer) and layer not in ("ModuleList", "ModuleDict", "Sequential")
    return origin.cls is not None and model.qualname(call.func) is None and dotted_name(call.func) == origin.cls.name


def _called_right_away(model, call: cst.Call) -> bool:
    parent = model.parent.get(call)
    while isinstance(parent, cst.Attribute) and parent.attr.value in _MOVES:
        moved = model.parent.get(parent)
        if not isinstance(moved, cst.Call) or moved.func is not parent:
            return False
        call, parent = moved, model.parent.get(moved)
    return isinstance(parent, cst.Call) and parent.func is call


def _bound_and_called(model, forward, call: cst.Call) -> bool:
    node = call
    parent = model.parent.get(node)
    while isinstance(parent, cst.Attribute) and parent.attr.value in _MOVES:
        moved = model.parent.get(parent)
        if not isinstance(moved, cst.Call) or moved.func is not parent:
            return False
        node, parent = moved, model.parent.get(moved)
    if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
        return False
    target = parent.targets[0].target
    if not isinstance(target, cst.Name):
        return False
    scope = model.scopes[forward]
    return "__call__" in scope.uses.get(target.value, set())


# ------------------------------------------------------------------------------------ fixes

# Parameter-free layers that are reported (they depend on the mode): hoisting them changes no
# parameter or checkpoint key.
_PARAMETER_FREE = re.compile(r"^torch\.nn\.(?:Dropout(?:[123]d)?|AlphaDropout|FeatureAlphaDropout)$")


def _fix(model, info, forward: cst.FunctionDef, call: cst.Call) -> NodeFix | None:
    """Build the layer once in `__init__` as `self.<name>` and use that in `forward`."""
    qualname = model.origin(call).qualname or ""
    if not _PARAMETER_FREE.match(qualname) or not all(_literal(a) for a in call.args):
        return None
    parent = model.parent.get(call)
    called = isinstance(parent, cst.Call) and parent.func is call
    bound = isinstance(parent, cst.Assign) and parent.value is call
    if not (called or bound):
        return None  # `.to(...)`/`.train()` chained on the constructor
    self_name = model.scopes[forward].self_name
    if self_name is None or forward not in info.methods.values():
        return None
    name = _attribute_name(info, qualname.rsplit(".", 1)[-1])
    try:
        constructor = _constructor_text(model, info, call, qualname)
    except FixUnavailable:
        return None
    use = cst.Attribute(value=cst.Name(self_name), attr=cst.Name(name))
    title = f"Build `{constructor}` once in `__init__` as `self.{name}`"
    init = info.methods.get("__init__")
    if init is not None:
        return _append_to_init(model, init, name, constructor, call, use, title)
    if not _plain_module_subclass(model, info):
        return None
    new_init = cst.parse_statement(
        f"def __init__({self_name}):\n    super().__init__()\n    {self_name}.{name} = {constructor}\n",
        config=model.module.config_for_parsing,
    ).with_changes(leading_lines=forward.leading_lines)
    new_forward = forward.deep_replace(call, use).with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    return NodeFix(title, (Replace(forward, (new_init, new_forward)),))


def _append_to_init(model, init: cst.FunctionDef, name: str, constructor: str, call: cst.Call, use, title: str):
    """The assignment appended to an existing `__init__` that calls `super().__init__()` and
    cannot return early."""
    if not isinstance(init.body, cst.IndentedBlock):
        return None
    init_self = model.scopes[init].self_name
    if init_self is None or not _calls_super_init(init) or _returns(init.body):
        return None
    line = f"{init_self}.{name} = {constructor}"
    return NodeFix(title, (Replace(call, use), InsertAfter(init.body.body[-1], (line,))))


def _literal(arg: cst.Arg) -> bool:
    value = arg.value
    if arg.star:
        return False
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    return isinstance(value, cst.Name) and value.value in ("True", "False", "None")


def _attribute_name(info, layer: str) -> str:
    """`dropout`, `dropout2d`, `alpha_dropout`...: a name no attribute of the class uses yet."""
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", layer).lower()
    taken = _attribute_names(info)
    name, counter = base, 1
    while name in taken:
        name = f"{base}_{counter}"
        counter += 1
    return name


def _attribute_names(info) -> set[str]:
    """Every `x.attr` attribute name and method name in the class and its same-file bases,
    plus `nn.Module`'s own public attributes that a child could shadow."""
    names = {"training", "forward"}
    for cls in info.lineage():
        names.update(cls.methods)

        class _Attrs(cst.CSTVisitor):
            def visit_Attribute(self, node: cst.Attribute) -> None:
                names.add(node.attr.value)

        cls.node.visit(_Attrs())
    return names


def _constructor_text(model, info, call: cst.Call, qualname: str) -> str:
    """The constructor as written when its name means the same at class level (a module
    import), else respelled with the file's imports."""
    func = call.func
    if model.qualname(func, model.scope_for(info.node)) == qualname:
        return code_of(call)
    text, imports = spell(model, qualname, info.node)
    if imports:
        raise FixUnavailable("needs an import")
    return code_of(call.with_changes(func=cst.parse_expression(text)))


def _plain_module_subclass(model, info) -> bool:
    """A class deriving from `nn.Module` alone, without decorators or class keywords: a
    new `__init__(self)` keeps its constructor's signature."""
    node = info.node
    if node.decorators or len(node.bases) != 1 or node.keywords or not isinstance(node.body, cst.IndentedBlock):
        return False
    base = node.bases[0]
    return base.keyword is None and not base.star and isinstance(base.value, (cst.Name, cst.Attribute)) \
        and model.qualname(base.value, model.scope_for(node)) == "torch.nn.Module"


def _calls_super_init(init: cst.FunctionDef) -> bool:
    for statement in init.body.body:  # type: ignore[union-attr]
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    func = small.value.func
                    if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
                        return True
    return False


def _returns(node: cst.CSTNode) -> bool:
    class _Returns(cst.CSTVisitor):
        found = False

        def visit_Return(self, node: cst.Return) -> None:
            self.found = True

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    visitor = _Returns()
    node.visit(visitor)
    return visitor.found
