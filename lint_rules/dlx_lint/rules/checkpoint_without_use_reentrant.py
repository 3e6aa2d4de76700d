"""DLX305 checkpoint-without-use-reentrant: activation checkpointing without `use_reentrant=`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.arguments import positional_count
from ..fixes.helpers import add_keyword
from ..fixes.spec import NodeFix, Replace
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import argument_entry_calls, has_star_kwargs, keyword_arg


class CheckpointWithoutUseReentrant(Rule):
    code = "DLX305"
    name = "checkpoint-without-use-reentrant"
    severity = Severity.WARNING
    requires = ("checkpoint",)
    summary = "torch.utils.checkpoint.checkpoint(...) without an explicit use_reentrant="
    what = """
Reports a call of `torch.utils.checkpoint.checkpoint` or `checkpoint_sequential` (through any
import or alias) that passes no `use_reentrant` argument. A call with `**kwargs` may pass it
and is not reported, nor `checkpoint_sequential` with a fourth positional argument (that is
`use_reentrant`).
"""
    why = """
PyTorch has two activation-checkpointing implementations. The reentrant one (the historical
default) does not support keyword arguments to the checkpointed function, `torch.autograd.grad`,
or inputs without `requires_grad` (then no gradient reaches the parameters inside the
checkpointed block, silently). Since PyTorch 2.1 a call without `use_reentrant` warns that the
default is changing and that the argument must be passed explicitly (2.13 still warns:
"the use_reentrant parameter should be passed explicitly"). Passing it states which behaviour
the code relies on; `use_reentrant=False` is the recommended one.
"""
    example = """
from torch.utils.checkpoint import checkpoint

def forward(self, x):
    return checkpoint(self.block, x)
"""
    use_instead = """
from torch.utils.checkpoint import checkpoint

def forward(self, x):
    return checkpoint(self.block, x, use_reentrant=False)
"""
    fix_safety = """
The fix appends `use_reentrant=False` (the recommended implementation, and the one the
warning's future default points to) and is unsafe: the call used the reentrant
implementation until now, and the two differ in behaviour, not only in the warning. The
non-reentrant one also computes gradients for parameters when no input requires grad (the
reentrant one silently skipped them), supports keyword arguments, `torch.autograd.grad` and
nested checkpoints, and checks that the recomputation saves the same tensors (it raises
otherwise). Run the training step once after the change; pass `use_reentrant=True` instead to
keep the old behaviour. No fix for `checkpoint_sequential` called with `*args` (they may
already fill `use_reentrant`).
"""
    limitations = """
Wrappers that forward to `checkpoint` (`functools.partial(checkpoint, ...)`, a project's own
helper) are not followed. With `target-torch-version` below 2.1 the rule is silent.
"""
    references = (
        Reference("PyTorch dev-discuss: not passing use_reentrant will raise an error", "https://dev-discuss.pytorch.org/t/bc-breaking-update-to-torch-utils-checkpoint-not-passing-in-use-reentrant-flag-will-raise-an-error/1745"),
        Reference("PyTorch docs: torch.utils.checkpoint", "https://docs.pytorch.org/docs/stable/checkpoint.html"),
        Reference("TorchFix TOR003", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch.utils.checkpoint as cp
from torch.utils.checkpoint import checkpoint as ckpt

def run(block, blocks, x):
    y = ckpt(block, x)  # expect: DLX305
    return cp.checkpoint_sequential(blocks, 2, y)  # expect: DLX305
""",
    )
    fixed_examples = (
        """
import torch.utils.checkpoint as cp
from torch.utils.checkpoint import checkpoint as ckpt

def run(block, blocks, x):
    y = ckpt(block, x, use_reentrant=False)  # expect: DLX305
    return cp.checkpoint_sequential(blocks, 2, y, use_reentrant=False)  # expect: DLX305
""",
    )
    good_examples = (
        """
from torch.utils.checkpoint import checkpoint

def run(block, x, saver, **kwargs):
    saver.checkpoint(x)                      # some other object's method
    y = checkpoint(block, x, **kwargs)       # may pass use_reentrant
    return checkpoint(block, y, use_reentrant=False)
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE

    def check(self, model) -> Iterator[Finding]:
        for entry, call, qualname in argument_entry_calls(model, self.code):
            if has_star_kwargs(call) or keyword_arg(call, entry.missing) is not None:  # type: ignore[arg-type]
                continue
            if qualname.endswith("checkpoint_sequential") and positional_count(call) > 3:
                continue  # checkpoint_sequential(functions, segments, input, use_reentrant)
            yield Finding(call, f"`{qualname}` without `use_reentrant=`: PyTorch warns since 2.1 that it must be "
                                f"passed explicitly; {entry.arguments}", fix=partial(_fix, call, qualname))


def _fix(call: cst.Call, qualname: str) -> NodeFix | None:
    """`use_reentrant=False` appended. `checkpoint` takes it only by keyword; in
    `checkpoint_sequential(functions, segments, input, use_reentrant)` a `*args` may fill it."""
    if qualname.endswith("checkpoint_sequential") and any(arg.star == "*" for arg in call.args):
        return None
    new = add_keyword(call, "use_reentrant", cst.Name("False"))
    return NodeFix("Add `use_reentrant=False` (verify: it changes the checkpointing implementation)", (Replace(call, new),))
