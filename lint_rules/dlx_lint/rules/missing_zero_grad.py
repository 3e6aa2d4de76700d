"""DLX001 missing-zero-grad: an optimizer is stepped in a loop but its gradients are never
cleared on that path."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import statement_in_block
from ..fixes.spec import InsertBefore, NodeFix
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import PathWalker, block_statements
from ..semantic.kinds import Kind
from ..semantic.names import dotted_name
from ..semantic.training import (
    callee_summary,
    calls_in,
    clears_gradients_directly,
    is_backward,
    mapped_slots,
    step_info,
    zero_grad_receiver,
)

ALL = "*"
# Calls that receive an optimizer but cannot clear its gradients.
_INERT_FUNCTIONS = frozenset({"print", "len", "isinstance", "id", "type", "repr", "str", "hasattr", "getattr", "format", "vars"})


class MissingZeroGrad(Rule):
    code = "DLX001"
    name = "missing-zero-grad"
    severity = Severity.ERROR
    summary = "optimizer is stepped in a loop but its gradients are never cleared"
    what = """
Reports `X.step()` (or `scaler.step(X)`) inside a loop when some path through one iteration
that steps `X` never clears its gradients: no `X.zero_grad()`, no `model.zero_grad()`, no
`p.grad = None` loop, and no same-file helper that does one of these, before or after the step.
"""
    why = """
`backward()` *adds* into each parameter's `.grad`. Without clearing, every update uses the
running sum of all gradients since the last clear, so the effective step grows with the
iteration count and training diverges or stalls. Zhang et al. list it as an ML code smell
("Zero_grad Not Used Before Backward"); dslinter's W5517 checks it only on direct statements
of a `for` body, so it misses a clear on one branch only or two optimizers in one loop.
"""
    example = """
def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()  # gradients keep accumulating
"""
    use_instead = """
def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""
    fix_safety = """
The fix inserts `X.zero_grad(set_to_none=True)` as the first statement of the loop body, or of
the branch that holds both the backward and the step, so that every update uses only that
iteration's gradients. It is safe: it is offered only when the backward runs before the step
in that block and the step is not more conditional than the backward (with gradient
accumulation, `if (i + 1) % k == 0: X.step()`, clearing at the top of the loop would break the
accumulation, so no fix is offered), and when `X` exists before the loop. With
`set_to_none=True` the gradients are `None`, not zero, until the next backward: code that reads
`.grad` before the backward of the same iteration would see `None`.
"""
    limitations = """
Only steps lexically inside a loop that runs a backward (directly, in a same-file helper or in
an `opt.step(closure)` closure) are checked; a backward hidden in a helper from another module
is not seen, so such a loop is not checked. A call to a helper defined in another module that
receives the optimizer is assumed to clear it. Gradient accumulation is recognised: only paths
that actually step need a clear, so `if (i + 1) % k == 0: opt.step(); opt.zero_grad()` is
silent. Loops using distributed autograd (`DistributedOptimizer.step(context_id)`) keep
gradients per context and are not checked.
"""
    references = (
        Reference("PyTorch docs: torch.optim.Optimizer.zero_grad", "https://docs.pytorch.org/docs/stable/generated/torch.optim.Optimizer.zero_grad.html"),
        Reference("Zhang et al., Code Smells for Machine Learning Applications (CAIN 2022)", "https://arxiv.org/abs/2203.13746"),
        Reference("wekws: zero_grad only on one branch", "https://github.com/wenet-e2e/wekws/pull/73"),
        Reference("TennisCourtDetector: missing zero_grad", "https://github.com/yastrebksv/TennisCourtDetector/issues/7"),
    )
    bad_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()  # expect: DLX001
""",
        """
import torch

def train(gen, disc, loader, loss_fn):
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    for real in loader:
        opt_d.zero_grad()
        loss_fn(disc(real)).backward()
        opt_d.step()
        loss_fn(disc(gen(real))).backward()
        opt_g.step()  # expect: DLX001
""",
        """
import torch

def train(model, loader, criterion, flag):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        if flag:
            optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()  # expect: DLX001
""",
        """
import torch

def train(model, loader, criterion, accum=4):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for i, (x, y) in enumerate(loader):
        (criterion(model(x), y) / accum).backward()
        if (i + 1) % accum == 0:
            optimizer.step()  # expect: DLX001
""",
    )
    fixed_examples = (
        """
import torch

def train(model, loader, criterion):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()  # expect: DLX001
""",
        """
import torch

def train(gen, disc, loader, loss_fn):
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    for real in loader:
        opt_g.zero_grad(set_to_none=True)
        opt_d.zero_grad()
        loss_fn(disc(real)).backward()
        opt_d.step()
        loss_fn(disc(gen(real))).backward()
        opt_g.step()  # expect: DLX001
""",
        """
import torch

def train(model, loader, criterion, flag):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        if flag:
            optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()  # expect: DLX001
""",
        """
import torch

def train(model, loader, criterion, accum=4):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for i, (x, y) in enumerate(loader):
        (criterion(model(x), y) / accum).backward()
        if (i + 1) % accum == 0:
            optimizer.step()  # expect: DLX001
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch

def train(model, loader, criterion, accum=4):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for i, (x, y) in enumerate(loader):
        (criterion(model(x), y) / accum).backward()
        if (i + 1) % accum == 0:
            optimizer.step()
            optimizer.zero_grad()
""",
        """
import torch

def clear(opt):
    opt.zero_grad(set_to_none=True)

def train(model, loader, criterion):
    optimizer = torch.optim.LBFGS(model.parameters())
    for x, y in loader:
        def closure():
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss
        optimizer.step(closure)
    for x, y in loader:
        criterion(model(x), y).backward()
        optimizer.step()
        clear(optimizer)
""",
        """
def rollout(env, policy, steps):
    for _ in range(steps):
        env.step()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        by_loop: dict[cst.CSTNode, list] = {}
        for call in model.calls_by_attr.get("step", ()):
            info = step_info(model, call)
            if info is None:
                continue
            loop = model.innermost_loop(call)
            if loop is not None:
                by_loop.setdefault(loop, []).append((call, info))
        for loop, steps in by_loop.items():
            yield from self._check_loop(model, loop, steps)

    def _check_loop(self, model, loop, steps) -> Iterator[Finding]:
        optimizers = {info.optimizer for _, info in steps}
        if not _loop_backwards(model, loop):
            # Without a backward in the loop there is nothing to accumulate (a scheduler
            # simulation stepping a dummy optimizer, `env.step()`).
            return
        analysis = _ClearAnalysis(model, optimizers)
        scope = model.scope_for(loop)
        walker = PathWalker(model, analysis, scope)
        result = walker.run_block(block_statements(loop.body), frozenset({(frozenset(), frozenset())}))
        reported = set()
        for pending, _cleared in result.normal | result.continued:
            for optimizer, node in pending:
                if node in reported or model.innermost_loop(node) is not loop:
                    continue
                reported.add(node)
                yield Finding(
                    node,
                    f"optimizer `{optimizer}` is stepped but its gradients are never cleared on this path; "
                    f"call `{optimizer}.zero_grad()` once per step, or gradients from every iteration add up",
                    fix=partial(_fix, model, loop, node, optimizer),
                )


def _loop_backwards(model, loop) -> bool:
    return bool(_backward_events(model, loop))


def _backward_events(model, loop) -> list[cst.Call]:
    """Calls in the loop that compute gradients: backwards, steps with a closure, same-file
    helpers that backward."""
    events = []
    for call in calls_in(model, loop):
        if is_backward(model, call):
            events.append(call)
            continue
        info = step_info(model, call)
        if info is not None and info.closure is not None:
            events.append(call)
            continue
        found = callee_summary(model, call, model.scope_for(call))
        if found is not None and found[1].backward:
            events.append(call)
    return events


def _fix(model, loop, step_call: cst.Call, optimizer: str) -> NodeFix | None:
    """`X.zero_grad(set_to_none=True)` first in the innermost block (the loop body, or the
    branch that steps) holding every backward of the loop, when the backwards come before the
    step and the step is not under a condition the backwards are not (accumulation)."""
    events = _backward_events(model, loop)
    if not events or model.order_of(min(events, key=model.order_of)) >= model.order_of(step_call):
        return None  # backward after the step (or in its closure): clearing first would void it
    statement = statement_in_block(model, step_call)
    if statement is None:
        return None
    target = None
    conditional = False
    while statement is not None:
        block = model.parent.get(statement)
        if not isinstance(block, cst.IndentedBlock):
            return None
        if all(model.loop_contains(block, e) or _inside(model, block, e) for e in events):
            target = block
            break
        if block is loop.body:
            return None
        owner = model.parent.get(block)
        if not isinstance(owner, cst.With):
            conditional = True  # an if/else, try/except or inner loop around the step only
        statement = statement_in_block(model, owner) if owner is not None else None
    if target is None or conditional:
        return None
    head = optimizer.split(".", 1)[0]
    scope = model.scope_for(loop)
    if any(model.loop_contains(loop, b.node) or b.node is loop for b in model.bindings_of(head, scope)):
        return None  # the optimizer is (re)bound inside the loop: it may not exist at the top
    text = f"{optimizer}.zero_grad(set_to_none=True)"
    return NodeFix(f"Clear gradients with `{text}`", (InsertBefore(target.body[0], (text,)),))


def _inside(model, block, node) -> bool:
    return any(ancestor is block for ancestor in model.ancestors(node))


class _ClearAnalysis:
    """State: (pending steps {(optimizer, step call)}, optimizers cleared on this path)."""

    def __init__(self, model, optimizers: set[str]):
        self.model = model
        self.optimizers = optimizers

    def _clear(self, state, target: str):
        pending, cleared = state
        if target == ALL:
            return frozenset(), frozenset(self.optimizers)
        return frozenset(p for p in pending if p[0] != target), cleared | {target}

    def on_assign(self, state, target, node):
        if target.endswith(".grad"):
            return self._clear(state, ALL)
        return state

    def on_call(self, state, call):
        model = self.model
        receiver = zero_grad_receiver(model, call)
        if receiver is not None:
            if receiver in self.optimizers:
                return self._clear(state, receiver)
            origin = model.origin(call.func.value)
            if origin.kind in (Kind.OPTIMIZER, Kind.SCHEDULER, Kind.SCALER):
                return state  # clears another optimizer only
            return self._clear(state, ALL)
        if clears_gradients_directly(call):
            return self._clear(state, ALL)
        info = step_info(model, call)
        if info is not None:
            if info.optimizer in self.optimizers:
                pending, cleared = state
                if info.optimizer not in cleared and not any(p[0] == info.optimizer for p in pending):
                    return pending | {(info.optimizer, call)}, cleared
            return state
        scope = model.scope_for(call)
        found = callee_summary(model, call, scope)
        if found is not None:
            bound, callee, callee_scope = found
            if ALL in callee.clears:
                return self._clear(state, ALL)
            for path in mapped_slots(bound, callee_scope, callee.clears).values():
                if path in self.optimizers:
                    state = self._clear(state, path)
            return state
        return self._unknown_call(state, call)

    def _unknown_call(self, state, call):
        # An unknown helper that receives the optimizer is assumed to clear it.
        func = call.func
        if isinstance(func, cst.Name) and func.value in _INERT_FUNCTIONS:
            return state
        name = self.model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None and (name.startswith("torch.") or name.startswith("builtins.")):
            return state
        for arg in call.args:
            path = dotted_name(arg.value)
            if path in self.optimizers:
                state = self._clear(state, path)
        if isinstance(func, cst.Attribute) and _inherited_method_call(self.model, call):
            # `self.training_step(...)` inherited from a base class defined elsewhere may
            # clear `self.opt`.
            receiver = dotted_name(func.value)
            for optimizer in self.optimizers:
                if optimizer.startswith(f"{receiver}."):
                    state = self._clear(state, optimizer)
        return state


def _inherited_method_call(model, call) -> bool:
    """`self.m(...)` where `m` is neither defined nor assigned in the same-file class lineage
    and the class has a base defined elsewhere."""
    func = call.func
    scope = model.method_scope(model.scope_for(call))
    if scope is None or not isinstance(func.value, cst.Name) or func.value.value != scope.self_name:
        return False
    info = model.class_of_method(scope.node)
    if info is None or info.method(func.attr.value) is not None or info.attr_bindings(func.attr.value):
        return False
    return any(name not in ("object", "typing.Generic", "Generic") for name in info.external_base_names())
