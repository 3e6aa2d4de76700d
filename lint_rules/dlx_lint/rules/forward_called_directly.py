"""DLX019 forward-called-directly: `module.forward(x)` bypasses `nn.Module.__call__`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.kinds import Kind
from ..semantic.names import dotted_name

_RPC_PROXIES = frozenset({"remote", "rpc_sync", "rpc_async"})
_NOT_MODULE_KINDS = frozenset({Kind.TENSOR, Kind.OPTIMIZER, Kind.SCHEDULER, Kind.SCALER, Kind.DATALOADER})


class ForwardCalledDirectly(Rule):
    code = "DLX019"
    name = "forward-called-directly"
    severity = Severity.WARNING
    summary = "module.forward(x) skips nn.Module.__call__ and its hooks"
    what = """
Reports `m.forward(...)` where `m` is known to be an `nn.Module` (built by an `nn.*`, same-file
or library model constructor, annotated as a module, an element of an `nn.ModuleList`, or a
receiver of `.parameters()`/`.eval()`/`.train()`) and is not `self` or `super()`, in a file that
imports torch.
"""
    why = """
Calling a module runs `nn.Module.__call__`, which runs forward pre-hooks, `forward`, then
forward hooks (and backward hooks). Calling `forward` directly skips all of them, so anything
built on hooks silently sees nothing: activation probes, pruning and weight-norm
re-parametrisations, quantisation observers, FSDP/DeepSpeed parameter gathering, profilers.
Zhang et al. list it as "PyTorch Call Method Misused" (dslinter W5516).
"""
    example = """
class Wrapper(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner.forward(x)  # skips inner's hooks
"""
    use_instead = """
class Wrapper(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)
"""
    fix_safety = """
The fix calls the module instead of its `forward` and is unsafe: hooks registered on the module
now run, which is the point, but changes behaviour when hooks exist (and a custom `__call__`
would now run too).
"""
    limitations = """
`self.forward(...)`, `super().forward(...)`, explicit base-class calls `Base.forward(self, x)`,
calls on a class (`MyFunction.forward(ctx, x)` of an `autograd.Function`) and the RPC proxies
`rref.remote().forward(...)`, `rref.rpc_sync().forward(...)`, `rref.rpc_async().forward(...)`
(the documented remote-module API) are not reported.
"""
    references = (
        Reference("PyTorch docs: nn.Module.forward (call the module instance instead)", "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward"),
        Reference("allennlp#456: hooks skipped by forward()", "https://github.com/allenai/allennlp/issues/456"),
        Reference("nupic.torch#51", "https://github.com/numenta/nupic.torch/pull/51"),
    )
    bad_examples = (
        """
import torch
from torch import nn

class Probe(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner.forward(x)  # expect: DLX019

def run(model: nn.Module, x):
    return model.forward(x)  # expect: DLX019
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

class Probe(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)  # expect: DLX019

def run(model: nn.Module, x):
    return model(x)  # expect: DLX019
""",
    )
    fix_availability = FixAvailability.ALWAYS
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
from torch import nn

class Base(nn.Module):
    def forward(self, x):
        return x

class Child(Base):
    def forward(self, x):
        y = super().forward(x)
        return Base.forward(self, y) + self.forward_features(y)

    def forward_features(self, x):
        return x

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

def run(rref, net, x):
    return rref.rpc_sync().forward(x), Square.forward(None, x), net.forward(x)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        calls = model.calls_by_attr.get("forward")
        if not calls or not model.imports_module("torch"):
            return
        for call in calls:
            receiver = call.func.value  # type: ignore[attr-defined]
            if self._exempt(model, call, receiver):
                continue
            text = dotted_name(receiver) or "module"
            fix = NodeFix(f"Call `{text}(...)` instead of `{text}.forward(...)`", (Replace(call, call.with_changes(func=receiver)),))
            yield Finding(
                call,
                f"`{text}.forward(...)` skips `nn.Module.__call__` and its hooks; call `{text}(...)` instead",
                fix=fix,
            )

    @staticmethod
    def _exempt(model, call: cst.Call, receiver: cst.BaseExpression) -> bool:
        scope = model.scope_for(call)
        method = model.method_scope(scope)
        self_name = method.self_name if method is not None else None
        if isinstance(receiver, cst.Name) and receiver.value in ("self", self_name):
            return True
        if isinstance(receiver, cst.Call):
            func = receiver.func
            if isinstance(func, cst.Name) and func.value == "super":
                return True
            if isinstance(func, cst.Attribute) and func.attr.value in _RPC_PROXIES:
                return True
        if call.args and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value in ("self", self_name):
            return True  # Base.forward(self, x): an explicit parent-class call
        name = dotted_name(receiver)
        if name is None or _is_class_reference(model, receiver, scope):
            return True
        origin = model.origin(receiver, scope)
        if origin.qualname and origin.qualname.endswith("RemoteModule"):
            return True
        # Only a receiver known to be a module: `forward` is an ordinary method name elsewhere
        # (skorch's `net.forward(X)`, custom CUDA function objects).
        return not origin.is_module or origin.guessed


def _is_class_reference(model, receiver: cst.BaseExpression, scope) -> bool:
    name = dotted_name(receiver)
    if name is None:
        return False
    if "." not in name:
        for current in scope.lookup_chain():
            bindings = current.bindings.get(name)
            if bindings:
                return bindings[-1].kind == "class"
    qualified = model.qualname(receiver, scope)
    return qualified is not None and qualified.rsplit(".", 1)[-1][:1].isupper()
