"""DLX026 module-built-in-forward: a layer constructed inside `forward` is never registered."""

from __future__ import annotations

import re
from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
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
def forward(self, x):
    x = nn.Dropout(0.5)(x)
    return nn.Linear(self.d, 10)(x)
"""
    use_instead = """
def __init__(self, d):
    super().__init__()
    self.drop = nn.Dropout(0.5)
    self.head = nn.Linear(d, 10)

def forward(self, x):
    return self.head(self.drop(x))
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
        for info in model.classes.values():
            forward = info.methods.get("forward")
            if forward is None or not info.is_module:
                continue
            for call in _calls_in(model, forward):
                if not _is_layer_constructor(model, call):
                    continue
                if _called_right_away(model, call) or _bound_and_called(model, forward, call):
                    yield Finding(call, "this layer is constructed on every forward call: its weights are never trained or saved and it ignores `eval()`; build it in `__init__` as an attribute")


def _calls_in(model, function):
    from ..semantic.training import calls_in

    return calls_in(model, function)


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
