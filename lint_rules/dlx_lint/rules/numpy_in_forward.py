"""DLX029 numpy-in-forward: a tensor leaves autograd through NumPy inside `forward`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import dependencies, escape_roots, flow_closure
from ..semantic.names import dotted_name

_CONVERSIONS = frozenset({"numpy"})
_METADATA = frozenset({"shape", "size", "dim", "ndim", "dtype", "device", "numel", "ndimension"})
# Integer bookkeeping that legitimately leaves autograd (lengths, indices, shapes).
_INTEGER_CONSUMERS = frozenset({"pack_padded_sequence", "pad_packed_sequence", "split", "range", "repeat_interleave"})


class NumpyInForward(Rule):
    code = "DLX029"
    name = "numpy-in-forward"
    severity = Severity.WARNING
    requires = ("numpy",)
    summary = "forward() converts a tensor to NumPy/list and uses it for the output: gradients stop there"
    what = """
Inside `forward` of an `nn.Module` subclass, reports `t.numpy()` (and a `numpy.*` function
applied to such a conversion) on tensor data computed from `forward`'s inputs, when the result
flows into what `forward` returns.
"""
    why = """
Autograd only records torch operations. A value that goes through NumPy or a Python list comes
back as a constant: every parameter before the conversion receives no gradient from this path,
so those layers silently stop learning (or the conversion raises on a tensor that requires grad,
pushing people to add `.detach()`, which hides the problem). It also forces a device-to-host
copy and a synchronisation on every call.
"""
    example = """
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)

    def forward(self, x):
        h = self.encoder(x)
        scores = np.tanh(h.detach().cpu().numpy())  # no gradient flows back to the encoder
        return torch.from_numpy(scores)
"""
    use_instead = """
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)

    def forward(self, x):
        return torch.tanh(self.encoder(x))
"""
    limitations = """
`.tolist()` is not reported (the catalog lists it, but on real code it is almost always integer
bookkeeping: sizes, grid shapes, expert counts); neither are NumPy calls on shapes or on arrays
of unknown origin (matcher indices). Helpers called from `forward` are not followed. A
deliberate non-differentiable step (a retrieval on detached embeddings) is reported; suppress it
with `# noqa: DLX029`.
"""
    references = (
        Reference("PyTorch docs: Autograd mechanics", "https://docs.pytorch.org/docs/stable/notes/autograd.html"),
        Reference("PyTorch docs: Tensor.numpy (shares memory, no autograd)", "https://docs.pytorch.org/docs/stable/generated/torch.Tensor.numpy.html"),
    )
    bad_examples = (
        """
import numpy as np
import torch
from torch import nn

class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)

    def forward(self, x):
        h = self.encoder(x)
        scores = np.tanh(h.detach().cpu().numpy())  # expect: DLX029
        return torch.from_numpy(scores)
""",
    )
    good_examples = (
        """
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 4)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.tolist(), enforce_sorted=False)
        out, _ = self.rnn(packed)
        self.last_norm = float(np.linalg.norm(x.detach().numpy()))
        return out
""",
    )

    def check(self, model) -> Iterator[Finding]:
        owners = {model.enclosing_function(c) for c in model.calls_by_attr.get("numpy", [])}
        if not owners:
            return
        for info in model.classes.values():
            forward = info.methods.get("forward")
            if forward is None or forward not in owners or not info.is_module:
                continue
            scope = model.scopes[forward]
            inputs = {name for name in scope.params if name != scope.self_name}
            if not inputs:
                continue
            closure = flow_closure(model, forward, [r for r in escape_roots(model, forward) if _is_return_value(model, r)])
            derived = _derived_from(model, forward, inputs)
            for call in _calls_in(model, forward):
                if not self._converts(model, call, derived):
                    continue
                if _integer_bookkeeping(model, call):
                    continue
                if _flows_to_output(model, call, closure):
                    yield Finding(call, "the tensor leaves autograd here (NumPy / Python list) and the result is used for forward's output, so no gradient flows back through it; keep the computation in torch")

    @staticmethod
    def _converts(model, call: cst.Call, derived: set[str]) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _CONVERSIONS and not call.args:
            return bool(_data_dependencies(model, func.value) & derived)
        if isinstance(func, (cst.Name, cst.Attribute)):
            name = model.qualname(func) or ""
            if name.startswith("numpy.") and name not in ("numpy.ndarray",):
                # Only NumPy applied to converted tensor data (not to sizes or index arrays).
                return any(_is_conversion(a.value) and _data_dependencies(model, a.value) & derived for a in call.args)
        return False


def _calls_in(model, function):
    from ..semantic.training import calls_in

    return calls_in(model, function)


def _is_return_value(model, root: cst.BaseExpression) -> bool:
    return isinstance(model.parent.get(root), cst.Return)


def _derived_from(model, function: cst.FunctionDef, inputs: set[str]) -> set[str]:
    """Names computed (transitively) from `inputs` inside `function`."""
    scope = model.scopes[function]
    derived = set(inputs)
    changed = True
    while changed:
        changed = False
        for target, bindings in scope.bindings.items():
            if target in derived:
                continue
            for binding in bindings:
                if binding.value is not None and binding.kind in ("assign", "annassign", "augassign", "walrus", "for"):
                    if dependencies(model, binding.value, through_conversions=True) & derived:
                        derived.add(target)
                        changed = True
                        break
    return derived


def _integer_bookkeeping(model, call: cst.Call) -> bool:
    parent = model.parent.get(call)
    while isinstance(parent, (cst.Arg, cst.Element, cst.Tuple, cst.List)):
        parent = model.parent.get(parent)
    if isinstance(parent, cst.Call):
        name = dotted_name(parent.func) or ""
        return name.rsplit(".", 1)[-1] in _INTEGER_CONSUMERS
    return False


def _flows_to_output(model, call: cst.Call, closure: set[str]) -> bool:
    node = call
    while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        if isinstance(node, cst.Return):
            return True
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                for element in (target.elements if isinstance(target, (cst.Tuple, cst.List)) else [target]):
                    path = dotted_name(element.value if isinstance(element, cst.Element) else element)
                    if path is not None and path in closure and not path.startswith("self."):
                        return True
            return False
        node = model.parent.get(node)
    return False


def _is_conversion(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _CONVERSIONS


def _data_dependencies(model, expr: cst.BaseExpression) -> set[str]:
    """Names the tensor *data* of `expr` depends on: not through `.shape`, `.size()` and
    other metadata, which carry no gradient."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Attribute) and node.attr.value in _METADATA:
            continue
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _METADATA:
            continue
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len":
            continue
        if isinstance(node, (cst.Name, cst.Attribute)):
            path = dotted_name(node)
            if path is not None:
                found.add(path.split(".", 1)[0])
                continue
        from ..semantic.walk import children_list

        stack.extend(children_list(node))
    return found
