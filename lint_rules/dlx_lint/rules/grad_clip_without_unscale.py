"""DLX005 grad-clip-without-unscale: gradients scaled by a GradScaler are clipped before
`scaler.unscale_(optimizer)`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.control import may_leave
from ..fixes.helpers import statement_in_block
from ..fixes.spec import InsertBefore, NodeFix
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import PathWalker, block_statements
from ..semantic.names import dotted_name
from ..semantic.training import is_clip_call


class GradClipWithoutUnscale(Rule):
    code = "DLX005"
    name = "grad-clip-without-unscale"
    severity = Severity.ERROR
    summary = "gradients from scaler.scale(loss).backward() are clipped without scaler.unscale_() first"
    what = """
Reports `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` (any import alias) called after
`scaler.scale(loss).backward()` and before `scaler.step(optimizer)` on a path with no
`scaler.unscale_(optimizer)` in between.
"""
    why = """
With automatic mixed precision, `scaler.scale(loss).backward()` produces gradients multiplied
by the loss scale (65536 at the start, by default). Clipping them compares the *scaled* norm
with your threshold: the clip triggers on almost every step and shrinks the real update by
orders of magnitude, or, as the scale changes, clips inconsistently. The AMP examples say to
call `scaler.unscale_(optimizer)` before inspecting or modifying gradients; `scaler.step` then
knows they are unscaled and does not unscale them twice.
"""
    example = """
scaler.scale(loss).backward()
torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
scaler.step(optimizer)
scaler.update()
"""
    use_instead = """
scaler.scale(loss).backward()
scaler.unscale_(optimizer)
torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
scaler.step(optimizer)
scaler.update()
"""
    fix_safety = """
The fix inserts `scaler.unscale_(optimizer)` right before the clipping statement, with the
optimizer taken from the `scaler.step(optimizer)` that follows. It is safe: the clip then
applies to the real gradients as intended, and `scaler.step` knows they are unscaled. Because
calling `unscale_` twice before `update()` raises, the fix is offered only when the function
has no other `unscale_` call, the step follows the clip in the same loop iteration, and
nothing in between can skip it (`continue`, `return`...).
"""
    limitations = """
Checked within one function. Framework wrappers (`accelerator.clip_grad_norm_`, Lightning's
`clip_gradients`) unscale internally and are not reported. A backward on a scaled loss stored
in a variable first (`scaled = scaler.scale(loss); scaled.backward()`) is not followed.
"""
    references = (
        Reference("PyTorch AMP examples: working with unscaled gradients", "https://docs.pytorch.org/docs/stable/notes/amp_examples.html#working-with-unscaled-gradients"),
        Reference("icefall#2081: clipping with unscale_ commented out", "https://github.com/k2-fsa/icefall/pull/2081"),
        Reference("returnn#1590", "https://github.com/rwth-i6/returnn/issues/1590"),
        Reference("EveryDream2trainer#175", "https://github.com/victorchall/EveryDream2trainer/pull/175"),
    )
    bad_examples = (
        """
import torch

def train(model, optimizer, loader, criterion):
    scaler = torch.amp.GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda"):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # expect: DLX005
        scaler.step(optimizer)
        scaler.update()
""",
        """
import torch

def train(model, opt, loader, criterion, clip):
    scaler = torch.amp.GradScaler("cuda")
    for x, y in loader:
        opt.zero_grad()
        scaler.scale(criterion(model(x), y)).backward()
        if clip:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)  # expect: DLX005
        scaler.step(opt)
        scaler.update()
""",
    )
    fixed_examples = (
        """
import torch

def train(model, optimizer, loader, criterion):
    scaler = torch.amp.GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda"):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # expect: DLX005
        scaler.step(optimizer)
        scaler.update()
""",
        """
import torch

def train(model, opt, loader, criterion, clip):
    scaler = torch.amp.GradScaler("cuda")
    for x, y in loader:
        opt.zero_grad()
        scaler.scale(criterion(model(x), y)).backward()
        if clip:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)  # expect: DLX005
        scaler.step(opt)
        scaler.update()
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch
from torch.nn.utils import clip_grad_norm_

def train(model, optimizer, loader, criterion, accelerator):
    scaler = torch.amp.GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda"):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if "scale" not in model.calls_by_attr:
            return
        owners = []
        for call in model.calls_by_attr["scale"]:
            owner = model.enclosing_function(call) or model.module
            if owner not in owners:
                owners.append(owner)
        reported: dict[cst.Call, set[str]] = {}
        for owner in owners:
            analysis = _ScaledGradients(model)
            walker = PathWalker(model, analysis, model.scopes[owner])
            statements = owner.body if isinstance(owner, cst.Module) else block_statements(owner.body)
            walker.run_block(statements, frozenset({frozenset()}))
            for call, scalers in analysis.reported.items():
                reported.setdefault(call, set()).update(scalers)
        for call in sorted(reported, key=model.order_of):
            yield Finding(
                call,
                "gradients are still multiplied by the GradScaler's loss scale here; call "
                "`scaler.unscale_(optimizer)` before clipping, or the threshold applies to scaled values",
                fix=partial(_fix, model, call, reported[call]),
            )


class _ScaledGradients:
    """State: the scalers whose scaled gradients have not been unscaled yet."""

    def __init__(self, model):
        self.model = model
        self.reported: dict[cst.Call, set[str]] = {}

    def on_assign(self, state, target, node):
        return state

    def on_call(self, state, call):
        func = call.func
        if isinstance(func, cst.Attribute):
            name = func.attr.value
            if name == "backward":
                inner = func.value
                if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "scale":
                    scaler = dotted_name(inner.func.value)
                    if scaler is not None:
                        return state | {scaler}
                return state
            if name in ("unscale_", "step", "update"):
                receiver = dotted_name(func.value)
                if receiver in state:
                    return state - {receiver}
                return state
        if state and is_clip_call(self.model, call):
            self.reported.setdefault(call, set()).update(state)
        return state


def _fix(model, clip: cst.Call, scalers: set[str]) -> NodeFix | None:
    """`S.unscale_(X)` before the clip, X from the `S.step(X)` that follows, when that step
    surely runs after the clip in the same iteration and nothing else unscales."""
    if len(scalers) != 1:
        return None
    (scaler,) = scalers
    owner = model.enclosing_function(clip) or model.module
    order = model.order_of(clip)
    steps = []
    for call in [*model.calls_by_attr.get("step", ()), *model.calls_by_attr.get("unscale_", ())]:
        if (model.enclosing_function(call) or model.module) is not owner or dotted_name(call.func.value) != scaler:
            continue
        if call.func.attr.value == "unscale_":
            return None  # unscaling twice before update() raises
        if model.order_of(call) > order and call.args and call.args[0].keyword is None:
            steps.append(call)
    if not steps:
        return None
    step = min(steps, key=model.order_of)
    optimizer = dotted_name(step.args[0].value)
    if optimizer is None or model.innermost_loop(step) is not model.innermost_loop(clip):
        return None
    statement = statement_in_block(model, clip)
    if statement is None or not _reaches(model, statement, step):
        return None
    text = f"{scaler}.unscale_({optimizer})"
    return NodeFix(f"Unscale first: `{text}`", (InsertBefore(clip, (text,)),))


def _reaches(model, statement: cst.CSTNode, step: cst.Call) -> bool:
    """Whether, once `statement` ran, execution surely reaches the statement holding `step`:
    that statement follows in the same block or an enclosing one, and nothing in between may
    leave early."""
    target = statement_in_block(model, step)
    current = statement
    while current is not None:
        block = model.parent.get(current)
        if not isinstance(block, (cst.IndentedBlock, cst.Module)):
            return False
        body = list(block.body)
        index = next(i for i, s in enumerate(body) if s is current)
        if any(s is target for s in body[index + 1:]):
            end = next(i for i, s in enumerate(body) if s is target)
            return not may_leave(body[index + 1:end])
        if may_leave(body[index + 1:]):
            return False
        owner = model.parent.get(block)
        if owner is None or isinstance(owner, (cst.FunctionDef, cst.For, cst.While)):
            return False  # the step is not after this block in the same iteration
        current = statement_in_block(model, owner)
    return False
