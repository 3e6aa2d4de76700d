"""DLX006 loss-tensor-accumulated: `total += loss` keeps every iteration's graph alive."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of, method_call
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.accumulation import accumulator_path, backward_runs_in, leaks_graph
from ..semantic.names import dotted_name


class LossTensorAccumulated(Rule):
    code = "DLX006"
    name = "loss-tensor-accumulated"
    severity = Severity.WARNING
    summary = "a loss tensor is accumulated across iterations, keeping its autograd history"
    what = """
Reports `total += loss` (or `total = total + loss`) inside a loop when `loss` carries an
autograd graph (a loss function's or model's output, or a value `.backward()` is called on),
`total` lives across iterations, and `total` is only read for logging: it does not flow into
a tensor that is backwarded in the same function, is not returned, and is not stored for a
later backward.
"""
    why = """
A tensor that requires grad keeps a reference to the graph that produced it; summing such
tensors links every iteration's graph into one chain that is never freed. When `backward()`
already ran on each loss, its saved activations are freed and what piles up is the chain of
graph nodes and scalar tensors: memory and time grow slowly but without bound. When no
`backward()` runs on it (for example validation losses summed outside `no_grad`), all the
activations are kept too and memory runs out within an epoch. The PyTorch FAQ uses exactly this
loop as its first out-of-memory example and recommends `total += float(loss)`.
"""
    example = """
total = 0.0
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    total += loss
print(total / len(loader))
"""
    use_instead = """
total = 0.0
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    total += loss.item()
print(total / len(loader))
"""
    fix_safety = """
The fix accumulates `loss.detach()` instead of `loss` and is safe: the sum has the same value
and stays a tensor (so later `total.item()` or `total / n` still work), it just no longer
carries the graph. The rule only reports accumulators that are not backwarded, returned or
stored for a later backward, so no gradient is lost. (`loss.item()` would also free the graph
but turns the sum into a Python float, which can break code that treats it as a tensor.)
"""
    limitations = """
Accumulators that flow into a backwarded tensor (`(total + reg).backward()`), are returned
(the caller may backward them), or are stored on an attribute a method backwards, are not
reported (clauses 1 and 20). Code under `torch.no_grad()` builds no graph and is not checked.
What a model returns is assumed to carry a graph, which can be wrong for a model that returns
detached values.
"""
    references = (
        Reference("PyTorch FAQ: Don't accumulate history across your training loop", "https://docs.pytorch.org/docs/stable/notes/faq.html#my-model-reports-cuda-runtime-error-2-out-of-memory"),
        Reference("ImVisible#2", "https://github.com/samuelyu2002/ImVisible/issues/2"),
        Reference("ray#40940", "https://github.com/ray-project/ray/pull/40940"),
        Reference("brax#152", "https://github.com/google/brax/pull/152"),
    )
    bad_examples = (
        """
import torch
from torch import nn

def train(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss  # expect: DLX006
    print(total.item() / len(loader))
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

def train(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.detach()  # expect: DLX006
    print(total.item() / len(loader))
""",
    )
    fix_availability = FixAvailability.ALWAYS
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
from torch import nn

def train(model, loader, optimizer):
    criterion = nn.CrossEntropyLoss()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)

def sequence_loss(model, steps, target):
    criterion = nn.MSELoss()
    total = 0.0
    for step in steps:
        total = total + criterion(model(step), target)
    return total

def regularised(model, parts, optimizer):
    criterion = nn.MSELoss()
    total = 0.0
    for x, y in parts:
        total = total + criterion(model(x), y)
    (total / len(parts)).backward()
    optimizer.step()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for node in model.aug_assigns:
            if not isinstance(node.operator, cst.AddAssign):
                continue
            path = accumulator_path(node.target)
            if path is None or not leaks_graph(model, node, path, node.value):
                continue
            yield self._finding(model, node, path, node.value)
        for node in model.assigns:
            if len(node.targets) != 1:
                continue
            path = dotted_name(node.targets[0].target)
            value = node.value
            if path is None or not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Add):
                continue
            if dotted_name(value.left) == path:
                added = value.right
            elif dotted_name(value.right) == path:
                added = value.left
            else:
                continue
            if leaks_graph(model, node, path, added):
                yield self._finding(model, node, path, added)

    @staticmethod
    def _finding(model, node, path: str, added: cst.BaseExpression) -> Finding:
        if backward_runs_in(model, node):
            cost = "links every iteration's autograd graph into one that is never freed"
        else:
            cost = "keeps every iteration's graph and activations alive (no backward frees them)"
        return Finding(node, f"accumulating a tensor with autograd history into `{path}` {cost}; add `loss.item()` (or `.detach()`) instead", fix=partial(_fix, added))


def _fix(added: cst.BaseExpression) -> NodeFix:
    detached = method_call(added, "detach")
    return NodeFix(f"Accumulate `{code_of(detached)}`", (Replace(added, detached),))
