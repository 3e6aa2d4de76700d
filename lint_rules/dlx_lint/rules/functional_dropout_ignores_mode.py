"""DLX024 functional-dropout-ignores-mode: `F.dropout` in a module without `training=`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule

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
            if not _inside_module_method(model, call):
                continue
            short = name.rsplit(".", 1)[-1]
            yield Finding(
                call,
                f"`{short}` defaults to `training=True` and ignores `model.eval()`; pass "
                "`training=self.training` (or use an `nn.Dropout` module)",
            )


def _inside_module_method(model, call: cst.Call) -> bool:
    for ancestor in model.ancestors(call):
        if isinstance(ancestor, cst.FunctionDef):
            info = model.class_of_method(ancestor)
            if info is not None:
                return info.is_module
        elif isinstance(ancestor, cst.ClassDef):
            return False
    return False
