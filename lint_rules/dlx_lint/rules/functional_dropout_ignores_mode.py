"""DLX024 functional-dropout-ignores-mode: `F.dropout` in a module without `training=`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import add_keyword
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule

_DROPOUTS = frozenset(
    {
        "torch.nn.functional.dropout",
        "torch.nn.functional.dropout1d",
        "torch.nn.functional.dropout2d",
        "torch.nn.functional.dropout3d",
        "torch.nn.functional.alpha_dropout",
        "torch.nn.functional.feature_alpha_dropout",
    }
)


class FunctionalDropoutIgnoresMode(Rule):
    code = "DLX024"
    name = "functional-dropout-ignores-mode"
    severity = Severity.WARNING
    summary = "F.dropout defaults to training=True, so model.eval() does not turn it off"
    what = """
Reports a call of `torch.nn.functional.dropout` (or `dropout1d/2d/3d`, `alpha_dropout`,
`feature_alpha_dropout`) inside a method of an `nn.Module` subclass that passes no `training`
argument (keyword or third positional).
"""
    why = """
The functional forms default to `training=True` and know nothing about the module's mode, so
after `model.eval()` they keep zeroing activations: evaluation and inference become random and
systematically worse. `nn.Dropout` modules, or `training=self.training`, follow `eval()`.
"""
    example = """
class Head(nn.Module):
    def forward(self, x):
        return self.fc(F.dropout(x, p=0.5))
"""
    use_instead = """
class Head(nn.Module):
    def forward(self, x):
        return self.fc(F.dropout(x, p=0.5, training=self.training))
"""
    fix_safety = """
The fix adds `training=self.training` (with the method's own name for `self`) and is safe: in
training mode nothing changes, and in eval mode dropout is turned off, which is what
`model.eval()` promises. Code that relied on dropout staying active at evaluation
(Monte-Carlo dropout) should say so with an explicit `training=True`, which this rule respects.
"""
    limitations = """
An explicit `training=` of any value is respected (`training=True` is sometimes deliberate, as
in Monte-Carlo dropout). Calls with `**kwargs` may pass `training` and are not reported.
Functions outside module classes are not checked.
"""
    references = (
        Reference("PyTorch docs: torch.nn.functional.dropout", "https://docs.pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html"),
        Reference("pytorch#26338: maintainer comment on functional dropout and eval()", "https://github.com/pytorch/pytorch/issues/26338"),
        Reference("PyTorchNLPBook#28", "https://github.com/delip/PyTorchNLPBook/issues/28"),
        Reference("SciTSR#16", "https://github.com/Academic-Hammer/SciTSR/pull/16"),
    )
    bad_examples = (
        """
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(F.dropout(x, p=0.5))  # expect: DLX024
""",
    )
    fixed_examples = (
        """
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(F.dropout(x, p=0.5, training=self.training))  # expect: DLX024
""",
    )
    fix_availability = FixAvailability.ALWAYS
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def forward(self, x, **kwargs):
        x = F.dropout(x, 0.5, self.training)
        x = F.dropout(x, p=0.1, training=True)
        return F.dropout(x, **kwargs)

def augment(x):
    return F.dropout(x, p=0.1)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if "dropout" not in model.source:
            return
        for call in model.calls:
            func = call.func
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            if isinstance(func, cst.Attribute) and "dropout" not in func.attr.value:
                continue
            if isinstance(func, cst.Name) and "dropout" not in func.value:
                continue
            name = model.qualname(func)
            if name not in _DROPOUTS:
                continue
            if any(arg.star == "**" for arg in call.args):
                continue
            if any(arg.keyword is not None and arg.keyword.value == "training" for arg in call.args):
                continue
            positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
            if len(positional) >= 3 or any(arg.star == "*" for arg in call.args):
                continue
            method = _module_method(model, call)
            if method is None:
                continue
            short = name.rsplit(".", 1)[-1]
            yield Finding(
                call,
                f"`{short}` defaults to `training=True` and ignores `model.eval()`; pass "
                "`training=self.training` (or use an `nn.Dropout` module)",
                fix=partial(_fix, model, call, method),
            )


def _module_method(model, call: cst.Call) -> cst.FunctionDef | None:
    """The method of an `nn.Module` subclass that holds `call` (through nested functions)."""
    for ancestor in model.ancestors(call):
        if isinstance(ancestor, cst.FunctionDef):
            info = model.class_of_method(ancestor)
            if info is not None:
                return ancestor if info.is_module else None
        elif isinstance(ancestor, cst.ClassDef):
            return None
    return None


def _fix(model, call: cst.Call, method: cst.FunctionDef) -> NodeFix | None:
    """`training=<self>.training`, with the method's own name for the instance; none in a
    static or class method (no instance to ask)."""
    self_name = model.scopes[method].self_name
    if self_name is None or model.resolve_name(self_name, model.scope_for(call)) is not None:
        return None
    if _shadowed(model, self_name, call, method):
        return None
    new = add_keyword(call, "training", cst.Attribute(value=cst.Name(self_name), attr=cst.Name("training")))
    return NodeFix(f"Pass `training={self_name}.training`", (Replace(call, new),))


def _shadowed(model, name: str, call: cst.Call, method: cst.FunctionDef) -> bool:
    """Whether a nested function or lambda between the method and the call rebinds `name`."""
    scope = model.scope_for(call)
    while scope is not None and scope.node is not method:
        if name in scope.bindings:
            return True
        scope = scope.parent
    return False
