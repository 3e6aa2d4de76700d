"""DLX003 step-before-backward: the optimizer steps before this iteration's backward."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.control import may_leave
from ..fixes.helpers import code_of, statement_in_block
from ..fixes.spec import InsertAfter, NodeFix, Remove
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.training import callee_summary, calls_in, is_backward, step_info


class StepBeforeBackward(Rule):
    code = "DLX003"
    name = "step-before-backward"
    severity = Severity.WARNING
    requires = ("step(",)
    summary = "optimizer.step() runs before this iteration's backward(): a one-step lag"
    what = """
Reports `X.step()` in a loop body whose only step of `X` comes before its only `backward()`
(direct or in a same-file helper), on straight-line code. `X.step(closure)` (L-BFGS style) is
exempt: the closure runs the backward.
"""
    why = """
Each step then applies the gradients of the previous iteration (none on the first, so the first
step does nothing or only decays), and the final backward's gradients are never used: a silent
one-step lag. The canonical order is zero_grad, forward, backward, step.
"""
    example = """
for x, y in loader:
    optimizer.step()
    optimizer.zero_grad()
    criterion(model(x), y).backward()
"""
    use_instead = """
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
"""
    fix_safety = """
The fix moves the `X.step()` statement to right after the statement that runs the backward. It
is unsafe: each update now applies the gradients of the same iteration instead of the previous
one (and the first iteration updates too), so the weights, and every loss after the first step,
change; that is the point, but a run tuned with the lag behaves differently. It is offered only
when the step is a statement of its own directly in the loop body, is not `scaler.step(X)` (the
scaler's `update()` must move with it), and nothing between the two can leave the loop body
early.
"""
    limitations = "Only loop bodies without branches around the step or the backward are checked; a backward in a helper from another module is not seen (nothing is reported then)."
    references = (
        Reference("PyTorch docs: torch.optim (taking an optimization step)", "https://docs.pytorch.org/docs/stable/optim.html#taking-an-optimization-step"),
        Reference("PyTorch AMP examples: typical mixed precision training", "https://docs.pytorch.org/docs/stable/notes/amp_examples.html"),
    )
    bad_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.step()  # expect: DLX003
        optimizer.zero_grad()
        criterion(model(x), y).backward()
""",
    )
    fixed_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()  # expect: DLX003
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.LBFGS(model.parameters())
    for x, y in loader:
        def closure():
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss
        optimizer.step(closure)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for loop in model.loops:
            statements = _straight_line(loop)
            if statements is None:
                continue
            events = []
            for statement in statements:
                for call in calls_in(model, statement):
                    if is_backward(model, call):
                        events.append(("backward", call))
                        continue
                    info = step_info(model, call)
                    if info is not None:
                        events.append(("step", call, info))
                        continue
                    found = callee_summary(model, call, model.scope_for(call))
                    if found is not None and found[1].backward:
                        events.append(("backward", call))
            steps = [e for e in events if e[0] == "step"]
            backwards = [e for e in events if e[0] == "backward"]
            if len(steps) != 1 or len(backwards) != 1:
                continue
            step = steps[0]
            if step[2].closure is not None:
                continue
            if events.index(step) < events.index(backwards[0]):
                yield Finding(step[1], f"`{step[2].optimizer}.step()` runs before this iteration's `backward()`, so it applies the previous iteration's gradients; step after backward",
                              fix=partial(_fix, model, loop, step[1], step[2], backwards[0][1]))


def _fix(model, loop, step_call: cst.Call, info, backward_call: cst.Call) -> NodeFix | None:
    """Move the step statement right after the loop-body statement holding the backward."""
    if info.scaler is not None or not isinstance(loop.body, cst.IndentedBlock):
        return None
    statement = statement_in_block(model, step_call)
    if not isinstance(statement, cst.SimpleStatementLine) or model.parent.get(statement) is not loop.body:
        return None
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not step_call:
        return None
    target = backward_call
    while model.parent.get(target) is not loop.body:
        target = model.parent.get(target)
        if target is None:
            return None
    body = list(loop.body.body)
    start = next(i for i, s in enumerate(body) if s is statement)
    end = next(i for i, s in enumerate(body) if s is target)
    if end <= start or may_leave(body[start + 1:end + 1]):
        return None
    moved = statement.with_changes(leading_lines=[line for line in statement.leading_lines if line.comment is not None])
    return NodeFix(f"Move `{code_of(step_call)}` after the backward", (Remove(statement), InsertAfter(target, (moved,))))


def _straight_line(loop) -> list | None:
    """The simple statements of the loop body in source order, `with` blocks flattened (their
    context expressions, then their bodies); None when the body branches
    (if/for/while/try/match)."""
    statements: list = []

    def flatten(block) -> bool:
        items = list(block.body) if isinstance(block, cst.IndentedBlock) else [block]
        for item in items:
            if isinstance(item, cst.SimpleStatementLine):
                statements.append(item)
            elif isinstance(item, cst.With):
                statements.extend(with_item.item for with_item in item.items)
                if not flatten(item.body):
                    return False
            elif isinstance(item, (cst.FunctionDef, cst.ClassDef)):
                continue
            else:
                return False
        return True

    return statements if flatten(loop.body) else None
