"""DLX008 eval-without-eval-mode: a model is evaluated while still in training mode."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import bound_before, statement_in_block
from ..fixes.spec import InsertAfter, InsertBefore, NodeFix
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.evaluation import unmoded_forwards
from ..semantic.regions import may_leave_eval, modes_at_calls
from ..semantic.training import loop_trains


class EvalWithoutEvalMode(Rule):
    code = "DLX008"
    name = "eval-without-eval-mode"
    severity = Severity.WARNING
    summary = "model evaluated without model.eval(): dropout and batch norm stay in training mode"
    what = """
Reports the first model call in an evaluation region (a validation/test/evaluation function, a
function decorated with `torch.no_grad`, or a loop over `val_loader`-like data) that no
`model.eval()` (or `model.train(False)`, or a same-file helper that calls it) precedes on every
path.
"""
    why = """
`torch.no_grad()` does not change a module's mode. In training mode, dropout keeps zeroing
activations and batch norm normalises with the statistics of the current batch (and updates its
running averages with evaluation data), so validation numbers are noisy, biased, and can leak
evaluation data into the model. The PyTorch tutorials call `model.eval()` before inference for
this reason; Zhang et al. list "Train/Eval Mode Improper Toggling" as an ML code smell.
"""
    example = """
def validate(model: nn.Module, val_loader):
    with torch.no_grad():
        for x, y in val_loader:
            pred = model(x).argmax(1)
"""
    use_instead = """
def validate(model: nn.Module, val_loader):
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            pred = model(x).argmax(1)
"""
    fix_safety = """
The fix inserts `model.eval()` before the evaluation: before the statement of the evaluation
function that first calls the model, or before the validation loop. When that loop sits inside
a training loop, it also inserts `model.train()` after it, so training resumes in training mode
(see DLX009). It is unsafe: evaluation results change (dropout off, batch norm on its running
statistics), which is the point, and code that deliberately evaluated in training mode (e.g.
Monte-Carlo dropout) would change meaning. A caller that relied on the function leaving the
model in training mode would now find it in eval mode.
"""
    limitations = """
A model whose class is defined in the same file and builds no Dropout or BatchNorm layer (and
no functional dropout) behaves the same in both modes, so it is not reported. A callee's mode
is only known for same-file helpers; a function that receives a model its caller already put
in eval mode is still reported when the function itself is an evaluation region. Lightning's
`validation_step`/`test_step`/`predict_step` are exempt: the framework switches modes.
"""
    references = (
        Reference("PyTorch docs: Module.eval", "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval"),
        Reference("PyTorch forums: model.eval() vs torch.no_grad()", "https://discuss.pytorch.org/t/model-eval-vs-with-torch-no-grad/19615/37"),
        Reference("pytorch-3dunet#53", "https://github.com/wolny/pytorch-3dunet/issues/53"),
        Reference("deepspeech.pytorch#22", "https://github.com/SeanNaren/deepspeech.pytorch/pull/22"),
        Reference("Zhang et al., Code Smells for Machine Learning Applications (CAIN 2022)", "https://arxiv.org/abs/2203.13746"),
    )
    bad_examples = (
        """
import torch
from torch import nn

def validate(model: nn.Module, val_loader):
    with torch.no_grad():
        return [model(x) for x in val_loader]  # expect: DLX008
""",
        """
import torch

def fit(model: torch.nn.Module, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        with torch.no_grad():
            for x, y in val_loader:
                print(model(x).sum())  # expect: DLX008
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

def validate(model: nn.Module, val_loader):
    model.eval()
    with torch.no_grad():
        return [model(x) for x in val_loader]  # expect: DLX008
""",
        """
import torch

def fit(model: torch.nn.Module, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        with torch.no_grad():
            model.eval()
            for x, y in val_loader:
                print(model(x).sum())  # expect: DLX008
            model.train()
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
from torch import nn

class Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)

def validate(model: nn.Module, val_loader):
    model.eval()
    with torch.no_grad():
        return [model(x) for x in val_loader]

def evaluate(model: Affine, loader):
    with torch.no_grad():
        return [model(x) for x in loader]
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, path, region in unmoded_forwards(model):
            yield Finding(
                call,
                f"`{path}` is evaluated in training mode (dropout/batch norm active); "
                f"call `{path}.eval()` before evaluating and `{path}.train()` afterwards",
                fix=partial(_fix, model, call, path, region),
            )


def _fix(model, call: cst.Call, path: str, region) -> NodeFix | None:
    """`path.eval()` before the statement of the evaluation function that holds the call, or
    before the validation loop (and `path.train()` after it inside a training loop)."""
    if region.kind == "function":
        body = region.node.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        anchor = next((s for s in body.body if s is call or any(a is s for a in model.ancestors(call))), None)
        after = None
    elif region.kind == "loop":
        anchor = region.node
        outer = model.innermost_loop(anchor)
        after = anchor if outer is not None and loop_trains(model, outer) else None
    else:
        return None
    if anchor is None or statement_in_block(model, anchor) is not anchor or not bound_before(model, path, anchor):
        return None
    if _loop_switches_back(model, call, anchor, path):
        return None
    if call not in modes_at_calls(model, region.owner):
        return None  # unreachable (after a return): no inserted eval() reaches it
    changes = [InsertBefore(anchor, (f"{path}.eval()",))]
    if after is not None:
        changes.append(InsertAfter(after, (f"{path}.train()",)))
    return NodeFix(f"Call `{path}.eval()` before evaluating", tuple(changes))


_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _loop_switches_back(model, call: cst.Call, anchor: cst.CSTNode, path: str) -> bool:
    """Whether a loop from `anchor` down to `call` also runs something that puts `path` back in
    training mode (``path.train()``, a same-file helper that ends with it): an ``eval()``
    inserted before `anchor` would not hold on the next iteration, and the fix would be
    offered again after every run (found by tests/test_fuzz.py)."""
    loops = []
    for node in (call, *model.ancestors(call)):
        if isinstance(node, _LOOPS):
            loops.append(node)
        if node is anchor:
            break
    return any(may_leave_eval(model, loop, path) for loop in loops)
