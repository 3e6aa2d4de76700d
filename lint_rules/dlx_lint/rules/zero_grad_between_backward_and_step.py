"""DLX002 zero-grad-between-backward-and-step: gradients cleared right before they are used."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.control import may_leave
from ..fixes.helpers import code_of, statement_in_block
from ..fixes.spec import NodeFix, Remove, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import PathWalker, block_statements
from ..semantic.kinds import Kind
from ..semantic.training import callee_summary, calls_in, is_backward, step_info, zero_grad_receiver

ALL = "*"


class ZeroGradBetweenBackwardAndStep(Rule):
    code = "DLX002"
    name = "zero-grad-between-backward-and-step"
    severity = Severity.ERROR
    requires = ("zero_grad",)
    summary = "zero_grad() between backward() and step(): the step sees zero gradients"
    what = """
Reports `X.zero_grad()` (or `model.zero_grad()`) when, on a path through one loop iteration, it
runs after a `backward()` and before `X.step()`, with no other `backward()` in between.
"""
    why = """
`step()` reads `.grad`; clearing it after `backward()` and before `step()` throws the freshly
computed gradients away, so the update is a no-op (or pure weight decay / momentum drift) and
the model does not learn while the loss is still computed and logged as usual.
"""
    example = """
def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.zero_grad()  # the gradients just computed are erased
        optimizer.step()
"""
    use_instead = """
def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""
    fix_safety = """
The fix moves the clearing call to the top of the loop body, before the forward pass and the
`backward()`, so the step uses this iteration's gradients (when the loop already clears the
same gradients before its backward, it just removes the extra call). It is unsafe: the model
now actually learns, so the training run changes, which is the point; re-check learning rates
that were tuned on a model that did not move. It is offered only when the clearing call is a
statement of its own directly in the loop body, the statements before it in the body hold
exactly one backward, outside any `if`, loop or `try` (such blocks may come before it only when
they run no backward, step or clearing call), nothing before it can leave the iteration early
(`continue`, `break`, `return`), and the object it clears exists before the loop. With several backwards in
one iteration (a GAN's two losses), or other structure, where the call belongs is a judgement
the fix does not make.
"""
    limitations = "Backward calls in helpers defined in other modules are not seen."
    references = (
        Reference("PyTorch docs: torch.optim (zero_grad, backward, step)", "https://docs.pytorch.org/docs/stable/optim.html#taking-an-optimization-step"),
        Reference("byol-pytorch#93", "https://github.com/lucidrains/byol-pytorch/issues/93"),
        Reference("so-vits-svc-fork#269", "https://github.com/voicepaw/so-vits-svc-fork/pull/269"),
    )
    bad_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.zero_grad()  # expect: DLX002
        optimizer.step()
""",
    )
    fixed_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()  # expect: DLX002
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

def train(gen, disc, loader, loss_fn):
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    for real in loader:
        loss_fn(disc(real)).backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_fn(disc(gen(real))).backward()
        opt_g.step()
        opt_d.zero_grad()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        loops = {model.innermost_loop(call) for call in model.calls_by_attr.get("zero_grad", [])}
        loops.discard(None)
        reported: set[cst.Call] = set()
        for loop in sorted(loops, key=model.order_of):
            analysis = _ClearBeforeStep(model)
            walker = PathWalker(model, analysis, model.scope_for(loop))
            walker.run_block(block_statements(loop.body), frozenset({(False, frozenset())}))
            reported |= analysis.reported
        for call in sorted(reported, key=model.order_of):
            yield Finding(call, "gradients are cleared after `backward()` and before `step()`, so the step uses zero gradients; clear them before the forward pass instead",
                          fix=partial(_fix, model, call))


def _fix(model, call: cst.Call) -> NodeFix | None:
    """Move the clearing statement to the top of the loop body (or drop it when the same
    gradients are already cleared before the backward), on a straight-line body with one
    backward before it."""
    loop = model.innermost_loop(call)
    if loop is None or not isinstance(loop.body, cst.IndentedBlock):
        return None
    statement = statement_in_block(model, call)
    if not isinstance(statement, cst.SimpleStatementLine) or model.parent.get(statement) is not loop.body:
        return None
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not call:
        return None
    body = list(loop.body.body)
    index = next(i for i, s in enumerate(body) if s is statement)
    before = body[:index]
    if may_leave(before):
        return None
    for earlier in before:
        # A branch or inner loop before the call (logging every n steps) is fine as long as it
        # does no training step of its own.
        if not isinstance(earlier, (cst.SimpleStatementLine, cst.With)) and any(
            _backwards(model, c) or zero_grad_receiver(model, c) is not None or step_info(model, c) is not None
            for c in calls_in(model, earlier)
        ):
            return None
    backwards = [(i, c) for i, s in enumerate(before) for c in calls_in(model, s) if _backwards(model, c)]
    if len(backwards) != 1:
        return None
    receiver = zero_grad_receiver(model, call)
    if receiver is None:
        return None
    text = code_of(call)
    backward_index = backwards[0][0]
    if any(zero_grad_receiver(model, c) == receiver for s in before[:backward_index] for c in calls_in(model, s)):
        return NodeFix(f"Remove `{text}` (already cleared before the backward)", (Remove(statement),))
    head = receiver.split(".", 1)[0]
    if any(model.loop_contains(loop, b.node) or b.node is loop for b in model.bindings_of(head, model.scope_for(loop))):
        return None  # bound inside the loop: it may not exist at the top of the body
    moved = statement.with_changes(leading_lines=[line for line in statement.leading_lines if line.comment is not None])
    # Replacing the first statement by (moved, first) rather than inserting before it keeps
    # the first statement's own comment lines right above it.
    return NodeFix(f"Move `{text}` to the top of the loop body", (Remove(statement), Replace(body[0], (moved, body[0]))))


def _backwards(model, call: cst.Call) -> bool:
    if is_backward(model, call):
        return True
    found = callee_summary(model, call, model.scope_for(call))
    return found is not None and found[1].backward


class _ClearBeforeStep:
    """State: (a backward ran in this iteration, {(optimizer or '*', clearing call)} pending)."""

    def __init__(self, model):
        self.model = model
        self.reported: set[cst.Call] = set()

    def on_assign(self, state, target, node):
        return state

    def on_call(self, state, call):
        model = self.model
        backwarded, pending = state
        if is_backward(model, call):
            return True, frozenset()
        receiver = zero_grad_receiver(model, call)
        if receiver is not None:
            if not backwarded:
                return state
            origin = model.origin(call.func.value)
            target = receiver if origin.kind in (Kind.OPTIMIZER, Kind.UNKNOWN) and not origin.is_module else ALL
            return backwarded, pending | {(target, call)}
        info = step_info(model, call)
        if info is not None:
            for target, clearing in pending:
                if target in (ALL, info.optimizer):
                    self.reported.add(clearing)
            return backwarded, frozenset(p for p in pending if p[0] not in (ALL, info.optimizer))
        found = callee_summary(model, call, model.scope_for(call))
        if found is not None and found[1].backward:
            return True, frozenset()
        return state
