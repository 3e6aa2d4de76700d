"""DLX009 train-mode-not-restored: eval mode set inside a training loop is never undone."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.control import may_leave
from ..fixes.helpers import block_of, statement_in_block
from ..fixes.spec import InsertAfter, NodeFix
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.flow import PathWalker, block_statements
from ..semantic.training import (
    callee_summary,
    calls_in,
    is_backward,
    loop_trains,
    mapped_slots,
    mode_switch,
    module_call_receiver,
    step_info,
)


class TrainModeNotRestored(Rule):
    code = "DLX009"
    name = "train-mode-not-restored"
    severity = Severity.WARNING
    summary = "model.eval() inside a training loop is not followed by model.train()"
    what = """
Reports a statement inside a training loop (a loop that runs `backward()` or steps an
optimizer, directly or through same-file helpers, nested loops included) that switches a model
to eval mode (`m.eval()`, `m.train(False)`, or a same-file helper that leaves it in eval mode),
when the model is called again on the next iteration with no `m.train()` in between.
"""
    why = """
Validation or sampling inside the training loop commonly calls `model.eval()`. Without a
matching `model.train()`, every later training step runs in eval mode: dropout is off and
batch norm uses (and no longer updates) its running statistics, which silently changes the
optimisation and usually hurts the final model. Zhang et al. list it under "Train/Eval Mode
Improper Toggling".
"""
    example = """
for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    model.eval()
    validate(model, val_loader)
"""
    use_instead = """
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    model.eval()
    validate(model, val_loader)
"""
    fix_safety = """
The fix inserts `model.train()`: right after a call to a helper that leaves the model in eval
mode, or, for a direct `model.eval()`, at the end of the block that evaluates (so the
evaluation that follows the switch still runs in eval mode). It is unsafe: the following
training steps change behaviour (dropout on, batch norm statistics updated again), which is
the point, but code that trains in eval mode on purpose (frozen batch norm) would change
meaning. It is offered only when nothing between the switch and the end of the block can leave
it early and no training step follows the switch in that block.
"""
    limitations = """
Helpers defined in other modules are not followed: a call to an imported `evaluate(model)`
that switches to eval mode is not seen. A helper that calls `model.train()` at its start (the
usual `train_one_epoch`) restores the mode. Rebinding the model (`model = build()`) counts as a
fresh model. Forward passes right after the switch in the same iteration (sampling, validation)
are intended and not reported; deliberate eval-mode training (frozen batch norm) that calls
`eval()` before the forward of every iteration is not reported either.
"""
    references = (
        Reference("PyTorch docs: Module.train", "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train"),
        Reference("pytorch-fcn#56: validation left the model in eval mode", "https://github.com/wkentaro/pytorch-fcn/pull/56"),
        Reference("attMPTI#16", "https://github.com/Na-Z/attMPTI/issues/16"),
        Reference("Zhang et al., Code Smells for Machine Learning Applications (CAIN 2022)", "https://arxiv.org/abs/2203.13746"),
    )
    bad_examples = (
        """
import torch

def fit(model, loader, sample_every):
    optimizer = torch.optim.Adam(model.parameters())
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
        if step % sample_every == 0:
            model.eval()  # expect: DLX009
            with torch.no_grad():
                model(x)
""",
        """
import torch

def validate(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)

def fit(model, loader, epochs):
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        validate(model, x)  # expect: DLX009
        print(epoch)
""",
    )
    fixed_examples = (
        """
import torch

def fit(model, loader, sample_every):
    optimizer = torch.optim.Adam(model.parameters())
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
        if step % sample_every == 0:
            model.eval()  # expect: DLX009
            with torch.no_grad():
                model(x)
            model.train()
""",
        """
import torch

def validate(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)

def fit(model, loader, epochs):
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        validate(model, x)  # expect: DLX009
        model.train()
        print(epoch)
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

def validate(model, x):
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train()
    return out

def fit(model, loader, sample_every):
    optimizer = torch.optim.Adam(model.parameters())
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
        if step % sample_every == 0:
            validate(model, x)
            model.eval()
            with torch.no_grad():
                model(x)
            model.train()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if "eval" not in model.source and "train(" not in model.source:
            return
        reported: dict[cst.CSTNode, str] = {}
        for loop in model.loops:
            if not self._switches_mode(model, loop) or not loop_trains(model, loop):
                continue
            analysis = _ModeRestore(model)
            walker = PathWalker(model, analysis, model.scope_for(loop))
            statements = block_statements(loop.body)
            first = walker.run_block(statements, frozenset({frozenset()}))
            analysis.second_pass = True
            walker.run_block(statements, first.normal | first.continued)
            for node, path in analysis.reported.items():
                reported.setdefault(node, path)
        for node in sorted(reported, key=model.order_of):
            path = reported[node]
            yield Finding(
                node,
                f"`{path}` is left in eval mode for the next training steps of this loop; "
                f"call `{path}.train()` after evaluating",
                fix=partial(_fix, model, node, path),
            )

    @staticmethod
    def _switches_mode(model, loop) -> bool:
        from ..semantic.training import calls_in

        for call in calls_in(model, loop):
            if mode_switch(model, call) is not None:
                return True
            found = callee_summary(model, call, model.scope_for(call))
            if found is not None and any("eval" in modes for modes in found[1].final_mode.values()):
                return True
        return False


def _fix(model, switch: cst.CSTNode, path: str) -> NodeFix | None:
    """`path.train()` after the helper call that switches, or at the end of the block of a
    direct `path.eval()`, when the rest of the block cannot leave early and trains nothing."""
    statement = statement_in_block(model, switch)
    block = block_of(model, statement) if statement is not None else None
    if block is None or not isinstance(block, cst.IndentedBlock):
        return None
    direct = isinstance(switch, cst.Call) and mode_switch(model, switch) is not None
    if direct:
        body = list(block.body)
        rest = body[next(i for i, s in enumerate(body) if s is statement) + 1:]
        if may_leave(rest) or any(_trains(model, call) for s in rest for call in calls_in(model, s)):
            return None
        anchor = body[-1]
    else:
        anchor = statement
    return NodeFix(f"Restore training mode with `{path}.train()`", (InsertAfter(anchor, (f"{path}.train()",)),))


def _trains(model, call: cst.Call) -> bool:
    if is_backward(model, call) or step_info(model, call) is not None:
        return True
    found = callee_summary(model, call, model.scope_for(call))
    return found is not None and (found[1].backward or found[1].steps_any)


class _ModeRestore:
    """State: {(path, switching call)} models left in eval mode. The first pass over the body
    only records switches; the second pass (the loop's back edge) reports a forward of a model
    still switched from the first pass."""

    def __init__(self, model):
        self.model = model
        self.second_pass = False
        self.reported: dict[cst.CSTNode, str] = {}

    def on_assign(self, state, target, node):
        return frozenset(e for e in state if e[0] != target)

    def _eval(self, state, path, node):
        if self.second_pass:
            return state
        return frozenset(e for e in state if e[0] != path) | {(path, node)}

    @staticmethod
    def _train(state, path):
        return frozenset(e for e in state if e[0] != path and not e[0].startswith(path + "."))

    def _forward(self, state, path):
        if self.second_pass:
            for entry_path, node in state:
                if path == entry_path or path.startswith(entry_path + "."):
                    self.reported.setdefault(node, entry_path)
        return state

    def on_call(self, state, call):
        model = self.model
        switch = mode_switch(model, call)
        if switch is not None:
            path, mode = switch
            # `m.train(flag)` chooses the mode deliberately: not a forgotten restore.
            return self._eval(state, path, call) if mode == "eval" else self._train(state, path)
        found = callee_summary(model, call, model.scope_for(call))
        if found is not None:
            bound, callee, callee_scope = found
            slots = set(callee.first_mode) | set(callee.final_mode)
            for slot, path in mapped_slots(bound, callee_scope, slots).items():
                firsts = callee.first_mode.get(slot, frozenset())
                if "forward" in firsts:
                    state = self._forward(state, path)
                elif firsts == {"train"}:
                    state = self._train(state, path)
                finals = callee.final_mode.get(slot, frozenset())
                if "eval" in finals and "train" not in finals:
                    state = self._eval(state, path, call)
                elif "train" in finals and "eval" not in finals:
                    state = self._train(state, path)
            return state
        path = module_call_receiver(model, call)
        if path is not None and state:
            state = self._forward(state, path)
        return state
