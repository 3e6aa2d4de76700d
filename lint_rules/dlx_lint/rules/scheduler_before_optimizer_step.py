"""DLX004 scheduler-before-optimizer-step: a learning-rate scheduler is stepped before the
optimizer in the same iteration."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.control import may_leave
from ..fixes.helpers import block_of, statement_in_block
from ..fixes.spec import InsertAfter, NodeFix, Remove
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import PathWalker, block_statements
from ..semantic.kinds import Kind
from ..semantic.names import dotted_name
from ..semantic.training import callee_summary, calls_in, scheduler_step_receiver, step_info


class SchedulerBeforeOptimizerStep(Rule):
    code = "DLX004"
    name = "scheduler-before-optimizer-step"
    severity = Severity.WARNING
    summary = "lr_scheduler.step() is called before optimizer.step() in the same iteration"
    what = """
Reports `scheduler.step()` when, in the same loop iteration, an optimizer is stepped later
(`opt.step()`, `scaler.step(opt)`, or a same-file helper that steps one) and no optimizer step
came before the scheduler's.
"""
    why = """
Since PyTorch 1.1 the scheduler must be stepped *after* the optimizer. Stepping it first
advances the schedule before the first update, so the first learning-rate value is skipped
(for warm-up schedules: the first warm-up step is lost; for `StepLR`, every decay happens one
step early). PyTorch warns at run time ("Detected call of `lr_scheduler.step()` before
`optimizer.step()`"), but the warning is easy to miss in long logs.
"""
    example = """
for epoch in range(epochs):
    scheduler.step()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""
    use_instead = """
for epoch in range(epochs):
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    scheduler.step()
"""
    fix_safety = """
The fix moves the `scheduler.step()` statement to right after the statement of the same block
that steps the optimizer: after `optimizer.step()` for a per-iteration schedule, after the
inner training loop (the end of the epoch's work) for a per-epoch one. It is unsafe: every
learning rate of the schedule shifts by one step (the first value is no longer skipped, which
is the point), and code between the two places that reads the learning rate now sees the
previous value. It is offered only when the step is a statement of its own and nothing in
between can leave the block early (`return`, `raise`, `continue`...), so the moved call still
runs once per iteration.
"""
    limitations = """
A scheduler is a value built by `torch.optim.lr_scheduler.*` (or a known schedule builder such
as transformers' `get_linear_schedule_with_warmup`), or a parameter or attribute whose name
contains `sched`. `ReduceLROnPlateau.step(metric)` is exempt, and so is `step(...)` with an
argument on a scheduler of unknown class. Optimizer steps inside helpers defined in another
module are not seen, so a scheduler stepped before such a helper is not reported.
"""
    references = (
        Reference("PyTorch docs: How to adjust learning rate (order of step calls)", "https://docs.pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"),
        Reference("Run-time warning quoted in PCT_Pytorch#21", "https://github.com/uyzhang/PCT_Pytorch/issues/21"),
        Reference("trl#1872: the BC break in practice", "https://github.com/huggingface/trl/issues/1872"),
    )
    bad_examples = (
        """
import torch

def train(model, loader, criterion, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    for epoch in range(epochs):
        scheduler.step()  # expect: DLX004
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
""",
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.AdamW(model.parameters())
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer)
    for x, y in loader:
        optimizer.zero_grad()
        # advance the warm-up
        warmup.step()  # expect: DLX004
        # the loss
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
""",
    )
    fixed_examples = (
        """
import torch

def train(model, loader, criterion, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        scheduler.step()  # expect: DLX004
""",
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.AdamW(model.parameters())
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer)
    for x, y in loader:
        optimizer.zero_grad()
        # the loss
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        # advance the warm-up
        warmup.step()  # expect: DLX004
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

def train(model, loader, criterion, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=100)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
            scheduler.step()
        plateau.step(0.5)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        by_loop: dict[cst.CSTNode, list[cst.Call]] = {}
        for call in model.calls_by_attr.get("step", ()):
            receiver = scheduler_step_receiver(model, call)
            if receiver is None or _exempt(model, call):
                continue
            loop = model.innermost_loop(call)
            if loop is not None:
                by_loop.setdefault(loop, []).append(call)
        for loop, scheduler_steps in by_loop.items():
            analysis = _OrderAnalysis(model, set(scheduler_steps))
            walker = PathWalker(model, analysis, model.scope_for(loop))
            walker.run_block(block_statements(loop.body), frozenset({(False, frozenset())}))
            for call in scheduler_steps:
                if call in analysis.reported:
                    yield Finding(
                        call,
                        f"`{cst.Module([]).code_for_node(call.func.value)}.step()` runs before the optimizer's "
                        "step in this iteration, so the first value of the schedule is skipped; "
                        "step the scheduler after the optimizer",
                        fix=partial(_fix, model, call),
                    )


def _fix(model, call: cst.Call) -> NodeFix | None:
    """Move `S.step()` right after the later statement of its block that steps the optimizer
    `S` was built for (any optimizer when that is unknown)."""
    statement = statement_in_block(model, call)
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    only = statement.body[0]
    if not isinstance(only, cst.Expr) or only.value is not call:
        return None
    block = block_of(model, statement)
    if block is None:
        return None
    body = list(block.body)
    start = next(i for i, s in enumerate(body) if s is statement)
    own = _scheduled_optimizer(model, call)
    target = None
    for wanted in ((own, None) if own is not None else (None,)):
        target = _first_stepping(model, body, start, wanted)
        if target is not None:
            break
    if target is None:
        return None
    name = cst.Module([]).code_for_node(call.func.value)
    return NodeFix(
        f"Move `{name}.step()` after the optimizer step",
        (Remove(statement), InsertAfter(body[target], (statement,))),
    )


def _first_stepping(model, body: list, start: int, optimizer: str | None) -> int | None:
    """Index of the first statement after `start` that steps `optimizer` (any optimizer when
    None), if nothing before it can leave the block early."""
    for end in range(start + 1, len(body)):
        if may_leave(body[start + 1:end + 1]):
            return None
        if any(_steps_optimizer(model, c, optimizer) for c in calls_in(model, body[end])):
            return end
    return None


def _scheduled_optimizer(model, call: cst.Call) -> str | None:
    """The optimizer the scheduler was built for: `StepLR(opt, ...)` -> ``opt``."""
    path = dotted_name(call.func.value)  # type: ignore[attr-defined]
    if path is None:
        return None
    bindings = model.bindings_of(path, model.scope_for(call))
    if len(bindings) != 1 or not isinstance(bindings[0].value, cst.Call) or bindings[0].unpack:
        return None
    built = bindings[0].value
    for arg in built.args:
        if arg.keyword is not None and arg.keyword.value == "optimizer":
            return dotted_name(arg.value)
    first = built.args[0] if built.args else None
    if first is not None and first.keyword is None and not first.star:
        return dotted_name(first.value)
    return None


def _steps_optimizer(model, call: cst.Call, optimizer: str | None = None) -> bool:
    info = step_info(model, call)
    if info is not None:
        return optimizer is None or info.optimizer == optimizer
    if optimizer is not None:
        return False
    found = callee_summary(model, call, model.scope_for(call))
    return found is not None and found[1].steps_any


def _exempt(model, call: cst.Call) -> bool:
    origin = model.origin(call.func.value)
    if origin.qualname and origin.qualname.endswith("ReduceLROnPlateau"):
        return True
    has_argument = any(a.keyword is None and not a.star for a in call.args)
    return has_argument and not (origin.kind is Kind.SCHEDULER and origin.certain)


class _OrderAnalysis:
    """State: (an optimizer was stepped in this iteration, scheduler steps seen before it)."""

    def __init__(self, model, scheduler_steps: set[cst.Call]):
        self.model = model
        self.scheduler_steps = scheduler_steps
        self.reported: set[cst.Call] = set()

    def on_assign(self, state, target, node):
        return state

    def on_call(self, state, call):
        stepped, pending = state
        if call in self.scheduler_steps:
            return (stepped, pending) if stepped else (stepped, pending | {call})
        if self._steps_optimizer(call):
            self.reported |= pending
            return True, frozenset()
        return state

    def _steps_optimizer(self, call) -> bool:
        model = self.model
        info = step_info(model, call)
        if info is not None:
            return True
        found = callee_summary(model, call, model.scope_for(call))
        return found is not None and found[1].steps_any
