"""DLX302 removed-function: call or other use of a PyTorch/torchvision API that was removed."""

from __future__ import annotations

from typing import Iterator

from ..deprecations import target_version, use_message
from ..diagnostics import Severity
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import symbol_uses


class RemovedFunction(Rule):
    code = "DLX302"
    name = "removed-function"
    severity = Severity.ERROR
    summary = "use of a removed PyTorch API (torch.solve, torch.symeig, torch.lstsq, torch._six, ...)"
    what = """
Reports each call of, or other reference to, a function or module that PyTorch (or
torchvision) has removed: `torch.solve`, `torch.symeig`, `torch.lstsq`, `torch.eig` and
`torch.matrix_rank` (deprecated in 1.9, removed in 1.13: the names remain as stubs that raise
`RuntimeError`), `torch.rfft`/`irfft`/`ifft` (removed in 1.8), the private `torch._six`
(removed in 2.0) and `torchvision.transforms.functional_tensor`/`functional_pil` (removed in
torchvision 0.17). The message names the replacement and how its arguments differ, e.g.
`torch.linalg.solve(A, B)` takes the matrices in the opposite order of `torch.solve(B, A)`.
The list lives in the package's table `dlx_lint/data/deprecations.toml`.
"""
    why = """
The code cannot run on a current release: the call raises `RuntimeError` ("This function was
deprecated since version 1.9 and is now removed"), `AttributeError` or `ImportError`. The
replacements are not renames, so a hasty edit can silently compute something else: swapping
`torch.solve(B, A)` for `torch.linalg.solve(B, A)` solves the wrong system, and
`torch.linalg.eigh` reads the lower triangle where `torch.symeig` read the upper one.
"""
    example = """
x, _ = torch.solve(b, a)
vals, vecs = torch.symeig(cov, eigenvectors=True)
"""
    use_instead = """
x = torch.linalg.solve(a, b)
vals, vecs = torch.linalg.eigh(cov)
"""
    fix_safety = "No fix: none of these migrations is a drop-in rename (the table records `drop_in = false`)."
    limitations = """
Tensor methods (`a.symeig()`, `b.solve(a)`) are not reported, because the receiver's type is
not known statically. With `target-torch-version` set below the release that deprecated a
symbol, it is not reported (its replacement may not exist there). Compatibility fallbacks
(`try:` the replacement, `except AttributeError:` the old name, or the two arms of a version
check) are silent, as for DLX301.
"""
    references = (
        Reference("pytorch#70986: remove torch.solve", "https://github.com/pytorch/pytorch/pull/70986"),
        Reference("pytorch#70988: remove torch.symeig", "https://github.com/pytorch/pytorch/pull/70988"),
        Reference("PyTorch 1.9 docs: torch.solve (deprecation note, argument order)", "https://pytorch.org/docs/1.9.1/generated/torch.solve.html"),
        Reference("pytorch#94709: remove torch._six", "https://github.com/pytorch/pytorch/pull/94709"),
        Reference("vision#7953: remove the deprecated functional_tensor / functional_pil modules", "https://github.com/pytorch/vision/pull/7953"),
        Reference("TorchFix TOR001 (use of removed function)", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch as T

def fit(a, b, cov):
    x = T.solve(b, a)[0]  # expect: DLX302
    f = T.symeig  # expect: DLX302
    return x, f(cov, eigenvectors=True)  # expect: DLX302
""",
        """
import torchvision.transforms.functional_tensor as F_t

def gray(img):
    return F_t.rgb_to_grayscale(img)  # expect: DLX302
""",
    )
    good_examples = (
        """
import torch

def fit(a, b, cov, solver):
    x = torch.linalg.solve(a, b)
    vals, vecs = torch.linalg.eigh(cov)
    y = solver.solve(b)          # some other object's method
    return x, vals, vecs, y, torch.linalg.lstsq(a, b).solution
""",
    )
    fix_availability = FixAvailability.NEVER

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for use in symbol_uses(model):
            if use.entry.rule == self.code and use.entry.applies(target):
                yield Finding(use.node, use_message(use.entry, use.qualname))
