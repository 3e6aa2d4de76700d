"""DLX020 to-result-discarded: `x.to(device)` as a bare statement on a tensor does nothing."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.kinds import Kind, uses_of
from ..semantic.names import dotted_name

_CONVERSIONS = frozenset({"to", "cuda", "cpu", "float", "half", "double", "long", "int", "bool", "bfloat16", "contiguous"})
_NOT_TENSOR = frozenset({Kind.OPTIMIZER, Kind.SCHEDULER, Kind.SCALER, Kind.DATALOADER, Kind.DIST_OPTIMIZER})


class ToResultDiscarded(Rule):
    code = "DLX020"
    name = "to-result-discarded"
    severity = Severity.WARNING
    summary = "tensor.to()/.cuda()/.float()... returns a new tensor; as a statement it does nothing"
    what = """
Reports an expression statement whose value is `x.to(...)`, `.cuda()`, `.cpu()`, `.float()`,
`.half()`, `.double()`, `.long()`, `.int()`, `.bool()`, `.bfloat16()` or `.contiguous()`, unless
`x` is (or is likely to be) an `nn.Module`, whose `.to()`/`.cuda()` work in place. The severity
is raised to error when `x` is provably a tensor.
"""
    why = """
`Tensor.to()` and its relatives return a new tensor and leave the original unchanged, so the
statement `batch.cuda()` moves nothing: the next operation mixes devices (a crash) or, with
`.float()`/`.half()`, silently keeps the old dtype. Humbatova et al. list "missing transfer of
data to GPU" among GPU-usage faults.
"""
    example = """
for images, labels in loader:
    images.cuda()
    labels.cuda()
    loss = criterion(model(images), labels)
"""
    use_instead = """
for images, labels in loader:
    images = images.cuda()
    labels = labels.cuda()
    loss = criterion(model(images), labels)
"""
    fix_safety = """
The fix assigns the result back (`x = x.to(device)`). It is safe when `x` is a local variable
(the statement did nothing before, and now does what it says). It is unsafe when the receiver is
an attribute such as `self.x`: assigning a plain tensor to an attribute registered as an
`nn.Parameter` raises, and other code may hold the old tensor. No fix is offered when `x` is a
variable of an enclosing scope, since assigning it would make it local to the function.
"""
    limitations = """
Only receivers that are likely tensors are reported: built by a tensor factory or tensor
operation, annotated `torch.Tensor`, receiving tensor-only methods (`.view()`, `.clone()`...),
or unpacked from the items of a `for` loop over data (`for x, y in loader`). A receiver of
unknown kind is left alone, because `nn.Module.to()`, Hugging Face `BatchEncoding.to()` and
PyG `Data.to()` work in place.
"""
    references = (
        Reference("PyTorch docs: Tensor.to returns a new tensor", "https://docs.pytorch.org/docs/stable/generated/torch.Tensor.to.html"),
        Reference("PyTorch docs: Module.to modifies the module in place", "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.to"),
        Reference("neural_renderer#52: maintainer reply", "https://github.com/daniilidis-group/neural_renderer/pull/52"),
        Reference("Humbatova et al., Taxonomy of Real Faults in Deep Learning Systems (ICSE 2020)", "https://arxiv.org/abs/1910.11015"),
    )
    bad_examples = (
        """
import torch

def prepare(loader, device):
    mask = torch.zeros(4, 4)
    mask.to(device)  # expect: DLX020
    for images, labels in loader:
        images.cuda()  # expect: DLX020
    return mask
""",
    )
    fixed_examples = (
        """
import torch

def prepare(loader, device):
    mask = torch.zeros(4, 4)
    mask = mask.to(device)  # expect: DLX020
    for images, labels in loader:
        images = images.cuda()  # expect: DLX020
    return mask
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.fc.cuda()

def prepare(model, batch, encoding, device):
    net = Net()
    net.to(device)
    model.float()
    model(batch)
    encoding.to(device)  # unknown kind: BatchEncoding.to() works in place
    for name, module in model.named_modules():
        module.cuda()
    batch = batch.to(device)
    return net, batch
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for statement in model.expr_statements:
            call = statement.value
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                continue
            if call.func.attr.value not in _CONVERSIONS:
                continue
            receiver = call.func.value
            scope = model.scope_for(statement)
            if not _likely_tensor(model, receiver, scope):
                continue
            path = dotted_name(receiver)
            text = path or "tensor"
            method = call.func.attr.value
            yield Finding(
                statement,
                f"`{text}.{method}(...)` returns a new tensor and the result is discarded; "
                f"assign it: `{text} = {text}.{method}(...)`",
                fix=partial(_fix, model, statement, receiver, scope),
            )

    def severity_for(self, model, finding):
        call = finding.node.value  # type: ignore[attr-defined]
        origin = model.origin(call.func.value, model.scope_for(finding.node))
        if origin.kind is Kind.TENSOR and origin.certain:
            return Severity.ERROR
        return self.severity


def _fix(model, statement: cst.Expr, receiver: cst.BaseExpression, scope) -> NodeFix | None:
    """`x = x.to(...)` for a receiver that is a plain access path; safe for a local name,
    unsafe for an attribute; none for a name of an enclosing scope (assigning it would make it
    local and break earlier reads)."""
    path = dotted_name(receiver)
    if path is None:
        return None
    applicability = Applicability.SAFE
    if isinstance(receiver, cst.Name):
        if scope.kind != "module" and path not in scope.bindings:
            return None
    else:
        applicability = Applicability.UNSAFE
    assign = cst.Assign(
        targets=[cst.AssignTarget(target=receiver.deep_clone().with_changes(lpar=[], rpar=[]))],
        value=statement.value,
        semicolon=statement.semicolon,
    )
    return NodeFix(f"Assign the result back to `{path}`", (Replace(statement, assign),), applicability)


def _likely_tensor(model, receiver: cst.BaseExpression, scope) -> bool:
    """A tensor by origin (constructor, annotation, tensor-only methods), or an element of a
    batch: a target of a tuple-unpacking ``for`` over data (``for x, y in loader``)."""
    origin = model.origin(receiver, scope)
    if origin.is_module or origin.kind in _NOT_TENSOR or origin.cls is not None:
        return False
    path = dotted_name(receiver)
    if path is not None and "__call__" in uses_of(model, path, scope):
        return False  # called like a function: a module, not a tensor
    if origin.kind is Kind.TENSOR:
        return True
    if isinstance(receiver, cst.Name):
        bindings = model.bindings_of(receiver.value, scope)
        return bool(bindings) and all(_batch_element(model, b) for b in bindings)
    return False


_MODULE_ITERATORS = frozenset({"named_modules", "named_children", "items", "named_parameters", "named_buffers"})


def _batch_element(model, binding) -> bool:
    if binding.kind != "for" or not binding.unpack or binding.value is None:
        return False
    iterable = binding.value
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value in _MODULE_ITERATORS:
        return False
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value in ("zip", "enumerate"):
        inner = iterable.args[0].value if iterable.args else None
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value in _MODULE_ITERATORS:
            return False
    return not model.origin(iterable).is_module
