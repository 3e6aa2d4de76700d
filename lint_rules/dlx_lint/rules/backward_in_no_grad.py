"""DLX032 backward-in-no-grad: `backward()` inside `torch.no_grad()` has no graph to use."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import reaching_bindings
from ..semantic.names import dotted_name
from ..semantic.regions import strictly_grad_disabled
from ..semantic.training import backwarded_expression, is_backward

_AUTOGRAD_GRAD = frozenset({"torch.autograd.grad"})


class BackwardInNoGrad(Rule):
    code = "DLX032"
    name = "backward-in-no-grad"
    severity = Severity.ERROR
    requires = ("no_grad", "inference_mode", "set_grad_enabled")
    summary = "backward() or autograd.grad inside torch.no_grad()/inference_mode(): no graph was built"
    what = """
Reports `.backward()` (also `accelerator.backward(loss)`, `torch.autograd.backward`) and
`torch.autograd.grad(...)` lexically inside `with torch.no_grad()`, `torch.inference_mode()` or
`torch.set_grad_enabled(False)`, or in a function decorated with them, unless an inner
`torch.enable_grad()` block turns gradients back on.
"""
    why = """
Under `no_grad` no autograd graph is recorded, so the loss has no `grad_fn`: `backward()` raises
"element 0 of tensors does not require grad" when the loss was computed there, and when the
loss was computed outside, mixing the two usually means the gradient-producing part was meant
to run with gradients on. Either way the training step does not do what it says.
"""
    example = """
with torch.no_grad():
    loss = criterion(model(x), y)
    loss.backward()
"""
    use_instead = """
loss = criterion(model(x), y)
loss.backward()
with torch.no_grad():
    ema.update(model)
"""
    limitations = """
Only reported when the differentiated tensor is itself computed inside the block: calling
`backward()` under `no_grad` on a loss computed before it works (the graph exists), and is a
known idiom. Only lexical nesting in one function is checked.
"""
    references = (
        Reference("PyTorch docs: torch.no_grad", "https://docs.pytorch.org/docs/stable/generated/torch.no_grad.html"),
        Reference("PyTorch docs: Locally disabling gradient computation", "https://docs.pytorch.org/docs/stable/notes/autograd.html#locally-disabling-gradient-computation"),
    )
    bad_examples = (
        """
import torch

@torch.no_grad()
def step(model, x, y, criterion, opt):
    loss = criterion(model(x), y)
    loss.backward()  # expect: DLX032
    opt.step()
""",
        """
import torch

def saliency(model, x):
    with torch.inference_mode():
        score = model(x).max()
        return torch.autograd.grad(score, x)  # expect: DLX032
""",
    )
    good_examples = (
        """
import torch

@torch.no_grad()
def attack(model, x):
    with torch.enable_grad():
        x = x.clone().requires_grad_(True)
        model(x).sum().backward()
    return x.grad

def train(model, x, flag):
    with torch.set_grad_enabled(flag):
        model(x).sum().backward()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls:
            func = call.func
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            if not (is_backward(model, call) or model.qualname(func) in _AUTOGRAD_GRAD):
                continue
            if strictly_grad_disabled(model, call) and _computed_without_grad(model, call):
                yield Finding(call, "gradients are disabled here (`no_grad`/`inference_mode`), so there is no graph to differentiate; move the backward out of the block")


def _computed_without_grad(model, call: cst.Call) -> bool:
    """Whether the differentiated tensor is computed (by a call) under disabled gradients.
    `backward()` on a graph built before the block works (d2l clips gradients that way), and
    `autograd.grad` of gradients already created with `create_graph=True` (AdaHessian) too."""
    target = backwarded_expression(model, call)
    if target is None and call.args:
        target = call.args[0].value
    if target is None:
        return False
    if isinstance(target, cst.Call):
        return strictly_grad_disabled(model, target)
    path = dotted_name(target)
    if path is None:
        return False
    bindings = reaching_bindings(model, path, target)
    return bool(bindings) and all(
        b.value is not None and b.kind in ("assign", "annassign", "walrus") and strictly_grad_disabled(model, b.node)
        and _computes(b.value)
        for b in bindings
    )


def _computes(value: cst.BaseExpression) -> bool:
    from ..semantic.walk import walk

    return any(isinstance(node, (cst.Call, cst.BinaryOperation)) for node in walk(value) if not isinstance(node, cst.CompFor))
