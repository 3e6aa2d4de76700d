"""DLX027 deterministic-algorithms-off (opt-in): a training entry script never enables
deterministic algorithms."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import spell
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.reproducibility import main_guard, runs_training


class DeterministicAlgorithmsOff(Rule):
    code = "DLX027"
    name = "deterministic-algorithms-off"
    severity = Severity.INFO
    enabled_by_default = False
    requires = ("__main__",)
    summary = "a training script never calls torch.use_deterministic_algorithms(True)"
    what = """
Reports the `if __name__ == "__main__":` line of an entry script that trains (runs backward or
steps an optimizer, directly or through same-file functions) when the file never calls
`torch.use_deterministic_algorithms(True)`. Off by default: it fires on most scripts.
"""
    why = """
Seeding is not enough for identical runs: several CUDA kernels (atomic adds in scatter/index
operations, some convolution algorithms) are nondeterministic, so the same seed gives different
numbers. `torch.use_deterministic_algorithms(True)` makes PyTorch use deterministic
implementations or raise where none exists. It is slower, so it is advised while debugging and
for regression tests. Zhang et al. list "Deterministic Algorithm Not Used" (dslinter W5507).
"""
    example = """
if __name__ == "__main__":
    torch.manual_seed(0)
    train()
"""
    use_instead = """
if __name__ == "__main__":
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)  # plus CUBLAS_WORKSPACE_CONFIG=:4096:8 on CUDA
    train()
"""
    fix_safety = """
The fix inserts `torch.use_deterministic_algorithms(True)` as the first statement of the main
guard. It is unsafe: deterministic kernels are slower, and an operation that has no
deterministic implementation now raises a `RuntimeError` instead of running (on CUDA, cuBLAS
also needs the environment variable `CUBLAS_WORKSPACE_CONFIG=:4096:8` set before the process
starts, which the fix cannot do). A `--deterministic` command-line flag, if the script has one,
is not wired up: move the call under it by hand.
"""
    limitations = "Only same-file functions are followed to decide that the script trains."
    no_torch_proof = "The nondeterministic kernels it guards against are CUDA kernels (atomic adds, some cuDNN algorithms); on a CPU-only machine every run is already deterministic, so the difference cannot be shown here."
    references = (
        Reference("PyTorch docs: torch.use_deterministic_algorithms", "https://docs.pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html"),
        Reference("PyTorch docs: Reproducibility", "https://docs.pytorch.org/docs/stable/notes/randomness.html"),
        Reference("threestudio#219", "https://github.com/threestudio-project/threestudio/issues/219"),
    )
    bad_examples = (
        """
import torch
from torch import nn

def train():
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.ones(2)).sum().backward()
        opt.step()

if __name__ == "__main__":  # expect: DLX027
    torch.manual_seed(0)
    train()
""",
    )
    fixed_examples = (
        """
import torch
from torch import nn

def train():
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.ones(2)).sum().backward()
        opt.step()

if __name__ == "__main__":  # expect: DLX027
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    train()
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch
from torch import nn

def train():
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.ones(2)).sum().backward()
        opt.step()

if __name__ == "__main__":
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    train()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        guard = main_guard(model)
        if guard is None or not model.imports_module("torch"):
            return
        for call in model.calls_to("use_deterministic_algorithms"):
            if call.args and not (isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "False"):
                return
        if runs_training(model, guard):
            yield Finding(guard, "this training script never enables deterministic algorithms; call `torch.use_deterministic_algorithms(True)` when runs must be reproducible",
                          fix=partial(_fix, model, guard))


def _fix(model, guard: cst.If) -> NodeFix | None:
    """`torch.use_deterministic_algorithms(True)` first in the main guard."""
    if not isinstance(guard.body, cst.IndentedBlock):
        return None
    first = guard.body.body[0]
    try:
        text, imports = spell(model, "torch.use_deterministic_algorithms", first)
    except FixUnavailable:
        return None
    line = f"{text}(True)"
    # (line, first) replaces `first` so that its own comment lines stay above it.
    return NodeFix(f"Add `{line}` at the start of the script", (Replace(first, (line, first)), *imports))
