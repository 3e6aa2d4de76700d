"""DLX301 deprecated-function: call or other use of a deprecated PyTorch/functorch API."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from ..deprecations import target_version, use_message
from ..diagnostics import Applicability, Severity
from ..fixes.deprecated import use_fix
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import symbol_uses


class DeprecatedFunction(Rule):
    code = "DLX301"
    name = "deprecated-function"
    severity = Severity.WARNING
    summary = "use of a deprecated PyTorch API (torch.qr, torch.cuda.amp.autocast, weight_norm, ...)"
    what = """
Reports each call of, or other reference to (`f = torch.qr`, `@torch.cuda.amp.custom_fwd`,
a function passed as a value), a function or class that PyTorch has deprecated but not yet
removed: the `torch.*` linear-algebra functions superseded by `torch.linalg` (`qr`, `cholesky`,
`svd`, `lu`, `lu_solve`, `triangular_solve`, `chain_matmul`, `norm`, `ger`), `torch.range`,
`torch.cuda.amp.autocast`/`GradScaler`/`custom_fwd`/`custom_bwd` and their `torch.cpu.amp`
twins, `torch.backends.cuda.sdp_kernel`, `torch.nn.utils.weight_norm`,
`torch.utils._pytree._register_pytree_node`, `torch.testing.assert_allclose`,
`nn.UpsamplingNearest2d`/`UpsamplingBilinear2d`, `F.upsample*`, `torch.set_default_tensor_type`,
`torch.jit.script`/`torch.jit.trace` (TorchScript, deprecated in 2.11) and the `functorch`
transforms now in `torch.func`. The list, with the release that deprecated
each symbol, its replacement and a source, is the package's table
`dlx_lint/data/deprecations.toml`. Names are resolved through imports and aliases, so
`from torch.cuda.amp import autocast` followed by `autocast()` is reported on the call (the
import statement itself is DLX303's).
"""
    why = """
A deprecated API warns on every call (often a `FutureWarning` that floods training logs) and
is scheduled for removal: the day it goes, the code fails at import or call time, as
`torch.solve` and `torch.symeig` did (DLX302). Several replacements are not pure renames:
`torch.linalg.svd` returns `Vh` instead of `V`, `torch.range` includes its end point while
`torch.arange` does not, and `torch.linalg.solve_triangular` takes its arguments in the other
order. Migrating while the old function still works lets tests compare both. The message of
each finding names the replacement and how the arguments differ.
"""
    example = """
with torch.cuda.amp.autocast():
    logits = model(x)
q, r = torch.qr(a)
"""
    use_instead = """
with torch.amp.autocast("cuda"):
    logits = model(x)
q, r = torch.linalg.qr(a)
"""
    fix_safety = """
Fixes are offered where the table (`fix` in `dlx_lint/data/deprecations.toml`) knows a
mechanical migration, written through the import the code already uses (`T.outer` with
`import torch as T`, `F.interpolate` with `import torch.nn.functional as F`; otherwise
`import torch` is added):

- Safe, renames (`drop_in = true`): `torch.ger` -> `torch.outer`, `F.upsample` ->
  `F.interpolate`, the `functorch` transforms -> `torch.func`, `_register_pytree_node` ->
  `register_pytree_node` (at most three positional arguments, no `to_str_fn`/
  `maybe_from_str_fn`), `torch.nn.utils.stateless.functional_call` ->
  `torch.func.functional_call` (not when `parameters_and_buffers=` is passed by name).
- Safe, device first: `torch.cuda.amp.autocast(...)` -> `torch.amp.autocast("cuda", ...)`
  (keyword arguments only: the positional order differs), `torch.cpu.amp.autocast(...)`
  likewise with `"cpu"`, `torch.cuda.amp.GradScaler(...)` -> `torch.amp.GradScaler("cuda",
  ...)` (and `cpu`). `torch.cuda.amp.custom_fwd`/`custom_bwd` get `device_type="cuda"`, a bare
  decorator becomes `@torch.amp.custom_fwd(device_type="cuda")`. These are the rewrites
  PyTorch's own deprecation warnings print. One corner differs: the old autocast classes
  pass `dtype=float16` (`bfloat16` on CPU) and `cache_enabled=True` explicitly, the new one
  reads the process defaults, which are the same unless `torch.set_autocast_dtype` or an
  enclosing autocast changed them.
- Unsafe: `torch.range(a, b[, s])` with integer literals -> `torch.arange` with the end
  point moved one step past the last value, written as floats so the dtype stays the
  default floating one (`torch.range(0, 3)` -> `torch.arange(0.0, 4.0)`; integers when
  `dtype=` is passed); `torch.qr(A)` -> `torch.linalg.qr(A)` and `some=False` ->
  `mode="complete"`; `torch.cholesky(A)` -> `torch.linalg.cholesky(A)` and `upper=True` ->
  `torch.linalg.cholesky(A).mH`. The values are the same, but the result is a different
  named-tuple type (`linalg_qr`) and the numbers in the code change, so the rewrite is left
  for review.

No fix for the other entries (their arguments or results change in ways a person must
decide: `svd`'s `Vh`, `norm`'s `ord`, argument order of the solvers), for a use that is not
a call where the arguments matter, for a `torch.range` with computed bounds, nor for a name
bound by `from functorch import vmap`: DLX303's fix rewrites that import, which renames
every use at once. A name imported from a module whose fix is not a rename (`from
torch.cuda.amp import autocast`) is rewritten at each use to the full replacement; the
import then stays, unused, for DLX303 to report.
"""
    limitations = """
With `target-torch-version` set, an API deprecated after that release is not reported: code
that must still run on the older release may have no replacement there. Tensor methods
(`x.norm()`, `x.symeig()`) are not reported, because the receiver's type is not known
statically. Uses through `getattr(torch, "qr")` or star imports are not seen.
Compatibility fallbacks are silent: a use in one arm of an `if`/`else`, a conditional
expression or a `try`/`except` whose other arm uses the replacement, a default overridden in
the same scope by the replacement (`weight_norm = nn.utils.weight_norm` then `if hasattr(...):
weight_norm = nn.utils.parametrizations.weight_norm`), and a name imported from both places.
A version guard without the replacement in the other arm is still reported; suppress it with
`# noqa: DLX301` or raise `target-torch-version`.
"""
    references = (
        Reference("PyTorch docs: Automatic Mixed Precision (deprecated torch.cuda.amp spellings)", "https://docs.pytorch.org/docs/stable/amp.html"),
        Reference("pytorch#57549: deprecation notes pointing torch.* linalg functions to torch.linalg", "https://github.com/pytorch/pytorch/issues/57549"),
        Reference("pytorch#103001: deprecate torch.nn.utils.weight_norm", "https://github.com/pytorch/pytorch/pull/103001"),
        Reference("pytorch#114689: deprecate torch.backends.cuda.sdp_kernel", "https://github.com/pytorch/pytorch/pull/114689"),
        Reference("PyTorch docs: migrating from functorch to torch.func", "https://docs.pytorch.org/docs/stable/func.migrating.html"),
        Reference("TorchFix TOR101 and its deprecated_symbols.yaml", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch
from torch.cuda.amp import autocast

def predict(model, x, a):
    with autocast():  # expect: DLX301
        y = model(x)
    q, r = torch.qr(a)  # expect: DLX301
    return y, q, torch.range(0, 3)  # expect: DLX301
""",
        """
import torch as T
import functorch

def per_sample(model, xs, a, b):
    scaler = T.cuda.amp.GradScaler(init_scale=1024.0)  # expect: DLX301
    grads = functorch.vmap(functorch.grad(model))(xs)  # expect: DLX301
    return scaler, grads, T.ger(a, b), T.svd(a)  # expect: DLX301
""",
        """
import torch
import torch.backends.cuda as tbc

sdp = tbc.sdp_kernel  # expect: DLX301

class Op(torch.autograd.Function):
    @staticmethod
    @torch.cuda.amp.custom_fwd  # expect: DLX301
    def forward(ctx, x):
        return x
""",
    )
    fixed_examples = (
        """
import torch
from torch.cuda.amp import autocast

def predict(model, x, a):
    with torch.amp.autocast("cuda"):  # expect: DLX301
        y = model(x)
    q, r = torch.linalg.qr(a)  # expect: DLX301
    return y, q, torch.arange(0.0, 4.0)  # expect: DLX301
""",
        """
import torch as T
import functorch

def per_sample(model, xs, a, b):
    scaler = T.amp.GradScaler("cuda", init_scale=1024.0)  # expect: DLX301
    grads = T.func.vmap(T.func.grad(model))(xs)  # expect: DLX301
    return scaler, grads, T.outer(a, b), T.svd(a)  # expect: DLX301
""",
        """
import torch
import torch.backends.cuda as tbc

sdp = tbc.sdp_kernel  # expect: DLX301

class Op(torch.autograd.Function):
    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda")  # expect: DLX301
    def forward(ctx, x):
        return x
""",
    )
    good_examples = (
        """
import torch
from torch.nn.utils.parametrizations import weight_norm

def run(model, x, a, range):
    with torch.amp.autocast("cuda"):
        y = model(x)
    q, r = torch.linalg.qr(a)
    n = x.norm()              # a tensor method, not torch.norm
    idx = [i for i in range(3)]
    return y, q, n, idx, torch.arange(0, 4), weight_norm(torch.nn.Linear(2, 2))
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for use in symbol_uses(model):
            if use.entry.rule == self.code and use.entry.applies(target):
                fix = partial(use_fix, model, use) if use.entry.fix else None
                yield Finding(use.node, use_message(use.entry, use.qualname), fix=fix)
