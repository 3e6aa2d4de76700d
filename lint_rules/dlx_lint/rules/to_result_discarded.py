"""DLX020 to-result-discarded: `x.to(device)` as a bare statement on a tensor does nothing."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
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
    limitations = """
A receiver is treated as a module when it is built by an `nn.*` or same-file `nn.Module`
constructor or a known model builder (torchvision, timm, transformers `from_pretrained`), is
`self` inside a module class, is annotated as a module, is called like a function elsewhere in
the scope (tensors are not callable), or receives `.parameters()`/`.eval()`/`.train()`. Objects
whose own `.to()` works in place (Hugging Face `BatchEncoding`, PyG `Data`) are reported when
nothing shows what they are.
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

def prepare(batch, device):
    mask = torch.zeros(4, 4)
    mask.to(device)  # expect: DLX020
    batch.cuda()  # expect: DLX020
    return batch, mask
""",
    )
    good_examples = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.fc.cuda()

def prepare(model, batch, device):
    net = Net()
    net.to(device)
    model.float()
    model(batch)
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
            origin = model.origin(receiver, scope)
            if origin.is_module or origin.kind in _NOT_TENSOR:
                continue
            if origin.cls is not None:
                continue  # an instance of a same-file class with its own `.to()`
            path = dotted_name(receiver)
            if path is not None and "__call__" in uses_of(model, path, scope):
                continue  # called like a function: a module, not a tensor
            if isinstance(receiver, cst.Call) and model.origin(receiver, scope).is_module:
                continue
            text = path or "tensor"
            method = call.func.attr.value
            yield Finding(
                statement,
                f"`{text}.{method}(...)` returns a new tensor and the result is discarded; "
                f"assign it: `{text} = {text}.{method}(...)`",
            )

    def severity_for(self, model, finding):
        call = finding.node.value  # type: ignore[attr-defined]
        origin = model.origin(call.func.value, model.scope_for(finding.node))
        if origin.kind is Kind.TENSOR and origin.certain:
            return Severity.ERROR
        return self.severity
