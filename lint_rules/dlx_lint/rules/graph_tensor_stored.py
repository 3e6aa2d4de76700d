"""DLX007 graph-tensor-stored: a list or dict collects loss tensors with their graphs."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of, method_call
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.accumulation import accumulator_path, backward_runs_in, leaks_graph
from ..semantic.dataflow import is_graph_value
from ..semantic.names import dotted_name


class GraphTensorStored(Rule):
    code = "DLX007"
    name = "graph-tensor-stored"
    severity = Severity.WARNING
    summary = "tensors with autograd history are stored in a container across iterations"
    what = """
Reports `history.append(loss)`, `history.extend([loss, ...])`, `history.insert(i, loss)` and
`history[k] = loss` inside a loop when the value carries an autograd graph, the container
lives across iterations, and it does not flow into a tensor that is backwarded in the same
function (such as `torch.stack(history).mean().backward()`), is not returned and is not stored
for a later backward.
"""
    why = """
Same mechanism as DLX006: each stored tensor keeps its whole graph reachable. With `backward()`
run on each loss, the graph nodes and scalar tensors pile up (slow, unbounded growth); without
it, every iteration's activations are kept and memory runs out. The PyTorch FAQ: "don't hold
onto tensors and variables you don't need".
"""
    example = """
losses = []
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss)
"""
    use_instead = """
losses = []
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
"""
    fix_safety = """
The fix stores `value.detach()` instead of `value` and is safe: the stored tensors have the
same values and stay tensors (`torch.stack(history)` still works), they no longer keep their
graphs. The rule only reports containers that are not backwarded, returned or stored for a
later backward. For `extend([...])` each element with a graph is detached; `extend(other)` of
a whole list gets no fix.
"""
    limitations = """
A container that is returned (multi-scale feature lists in `forward`) or flows into a
backwarded tensor is not reported. Code under `torch.no_grad()` is not checked.
"""
    references = (
        Reference("PyTorch FAQ: Don't hold onto tensors and variables you don't need", "https://docs.pytorch.org/docs/stable/notes/faq.html#my-model-reports-cuda-runtime-error-2-out-of-memory"),
        Reference("packnet-sfm#51", "https://github.com/TRI-ML/packnet-sfm/pull/51"),
    )
    bad_examples = (
        """
import torch
from torch import nn

def train(model, loader, optimizer):
    criterion = nn.MSELoss()
    history = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss)  # expect: DLX007
    print(torch.stack(history).mean().item())
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

def train(model, loader, optimizer):
    criterion = nn.MSELoss()
    history = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.detach())  # expect: DLX007
    print(torch.stack(history).mean().item())
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
from torch import nn

def multi_step(model, steps, target, optimizer):
    criterion = nn.MSELoss()
    losses = []
    for step in steps:
        losses.append(criterion(model(step), target))
    torch.stack(losses).mean().backward()
    optimizer.step()

class Pyramid(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for method in ("append", "extend", "insert"):
            for call in model.calls_by_attr.get(method, ()):
                container = dotted_name(call.func.value)  # type: ignore[attr-defined]
                if container is None or not call.args:
                    continue
                value = call.args[1].value if method == "insert" and len(call.args) > 1 else call.args[0].value
                if leaks_graph(model, call, container, value):
                    yield self._finding(model, call, container, partial(_detach, model, value, listed=method == "extend"))
        for node in model.assigns:
            for target in node.targets:
                if isinstance(target.target, cst.Subscript):
                    container = accumulator_path(target.target)
                    if container is not None and leaks_graph(model, node, container, node.value):
                        yield self._finding(model, node, container, partial(_detach, model, node.value, listed=False))

    @staticmethod
    def _finding(model, node, container: str, fix) -> Finding:
        if backward_runs_in(model, node):
            cost = "keeps every stored tensor's autograd graph reachable"
        else:
            cost = "keeps every iteration's graph and activations alive (no backward frees them)"
        return Finding(node, f"storing tensors with autograd history in `{container}` {cost}; store `.item()` or `.detach()` instead", fix=fix)


def _detach(model, value: cst.BaseExpression, *, listed: bool) -> NodeFix | None:
    """Store `value.detach()`; for `extend` of a list or tuple display, detach each element
    that carries a graph. None for `extend` of anything else."""
    if not listed:
        detached = method_call(value, "detach")
        return NodeFix(f"Store `{code_of(detached)}`", (Replace(value, detached),))
    if not isinstance(value, (cst.List, cst.Tuple)):
        return None
    changes = []
    for element in value.elements:
        if isinstance(element, cst.Element) and is_graph_value(model, element.value):
            changes.append(Replace(element.value, method_call(element.value, "detach")))
    if not changes:
        return None
    return NodeFix("Store the elements detached (`.detach()`)", tuple(changes))
