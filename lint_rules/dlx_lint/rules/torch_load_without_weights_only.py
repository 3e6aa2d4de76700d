"""DLX025 torch-load-without-weights-only: `torch.load` without an explicit `weights_only`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import add_keyword
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule


class TorchLoadWithoutWeightsOnly(Rule):
    code = "DLX025"
    name = "torch-load-without-weights-only"
    severity = Severity.WARNING
    summary = "torch.load without weights_only= unpickles arbitrary objects on older PyTorch"
    what = """
Reports a call resolving to `torch.load` (any import alias) that passes no `weights_only`
argument.
"""
    why = """
`torch.load` uses `pickle`; a crafted checkpoint can run arbitrary code while it is loaded.
`weights_only=True` restricts the unpickler to tensors, primitive types and containers. PyTorch
2.6 made `True` the default, but code that runs on older releases is still exposed, and an
explicit argument records the intent (`False` is needed for checkpoints that pickle whole
modules or custom classes). TorchFix reports the same pattern as TOR102.
"""
    example = """
state = torch.load(path, map_location="cpu")
"""
    use_instead = """
state = torch.load(path, map_location="cpu", weights_only=True)
"""
    fix_safety = """
The fix adds `weights_only=True` and is unsafe: a checkpoint that pickles a whole module, an
optimizer object or a custom class no longer loads (PyTorch raises an `UnpicklingError` that
names the offending global). Verify that the file holds only tensors and plain containers, or
pass `weights_only=False` for a trusted full-object checkpoint. No fix is offered when
`pickle_module` is passed: the choice must then be made by hand (as TorchFix does).
"""
    limitations = """
With `target-torch-version` set to 2.6 or later (the oldest PyTorch the code must run on), the
finding is informational (severity info, a message that says the default is already safe
there).
Calls passing `**kwargs` may pass `weights_only` and are not reported. An explicit
`weights_only=False` on an untrusted path is outside this rule.
"""
    references = (
        Reference("pytorch#86812: the weights_only unpickler", "https://github.com/pytorch/pytorch/pull/86812"),
        Reference("PyTorch docs: torch.load", "https://docs.pytorch.org/docs/stable/generated/torch.load.html"),
        Reference("TorchFix TOR102", "https://github.com/pytorch-labs/torchfix"),
        Reference("so-vits-svc-fork#193", "https://github.com/voicepaw/so-vits-svc-fork/issues/193"),
    )
    bad_examples = (
        """
import torch as T

def resume(path):
    return T.load(path, map_location="cpu")  # expect: DLX025
""",
    )
    fixed_examples = (
        """
import torch as T

def resume(path):
    return T.load(path, map_location="cpu", weights_only=True)  # expect: DLX025
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
from torch import load

def resume(path, **kwargs):
    a = torch.load(path, weights_only=True)
    b = load(path, map_location="cpu", weights_only=False)
    c = torch.load(path, **kwargs)
    return a, b, c
""",
    )

    def check(self, model) -> Iterator[Finding]:
        candidates = model.calls_to("load")
        for call in candidates:
            if model.qualname(call.func) != "torch.load":
                continue
            if any(arg.star == "**" for arg in call.args):
                continue
            if any(arg.keyword is not None and arg.keyword.value == "weights_only" for arg in call.args):
                continue
            yield Finding(call, _message(model.settings), fix=partial(_fix, call))

    def severity_for(self, model, finding):
        return Severity.INFO if _default_is_safe(model.settings) else self.severity


def _default_is_safe(settings) -> bool:
    """Whether every PyTorch the code targets already defaults to ``weights_only=True`` (2.6+,
    see the torch.load doc page)."""
    target = settings.target_torch_version if settings is not None else None
    return target is not None and target >= (2, 6)


def _message(settings) -> str:
    if _default_is_safe(settings):
        return (
            "`torch.load` without `weights_only=` relies on the default (`True` since PyTorch 2.6, "
            "your target); pass it explicitly so the intent survives older installs"
        )
    return (
        "`torch.load` without `weights_only=` unpickles arbitrary objects on PyTorch < 2.6; "
        "pass `weights_only=True` (or `False` for trusted full-object checkpoints)"
    )


def _fix(call: cst.Call) -> NodeFix | None:
    """`weights_only=True` appended, unless a custom `pickle_module` is passed (the user must
    then choose)."""
    if any(arg.keyword is not None and arg.keyword.value == "pickle_module" for arg in call.args):
        return None
    if len([arg for arg in call.args if arg.keyword is None and not arg.star]) > 3:
        return None  # weights_only is keyword-only; a fourth positional would already be wrong
    new = add_keyword(call, "weights_only", cst.Name("True"))
    return NodeFix("Add `weights_only=True` (verify: full-object checkpoints need `False`)", (Replace(call, new),))
