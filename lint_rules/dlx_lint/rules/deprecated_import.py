"""DLX303 deprecated-import: `from ... import` of a deprecated or removed PyTorch API."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from ..deprecations import describe, replacement_text, target_version
from ..diagnostics import Applicability, Severity
from ..fixes.deprecated import import_fix
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import symbol_imports

_SYMBOL_RULES = ("DLX301", "DLX302")


class DeprecatedImport(Rule):
    code = "DLX303"
    name = "deprecated-import"
    severity = Severity.WARNING
    summary = "import of a deprecated or removed PyTorch API (from torch.nn.utils import weight_norm, ...)"
    what = """
Reports an import statement that imports a symbol of the deprecation table (the symbols of
DLX301 and DLX302): `from torch.nn.utils import weight_norm`, `from torch.cuda.amp import
autocast, GradScaler`, `from functorch import vmap`, `from torch._six import inf`,
`import torchvision.transforms.functional_tensor as F_t`. One finding per statement, listing
every such name in it; later calls of the imported names are DLX301's or DLX302's findings.
The severity follows the symbol: an error when a name in the statement was removed, a warning
when it is only deprecated.
"""
    why = """
The import is where a migration starts: it is the line to change, and for a removed symbol it
is the line that fails (`ImportError: cannot import name 'symeig'`, `No module named
'torch._six'`), before any call runs. An import of a deprecated name also hides the
deprecation from readers, who see a bare `autocast()` or `weight_norm(...)` later on.
"""
    example = """
from torch.nn.utils import weight_norm
from torch.cuda.amp import autocast
"""
    use_instead = """
from torch.nn.utils.parametrizations import weight_norm
from torch.amp import autocast      # then autocast("cuda")
"""
    fix_safety = """
The fix rewrites the module of a `from ... import` statement when every name it imports is a
pure rename into one new module under the same name, e.g. `from functorch import vmap, grad
as g` -> `from torch.func import vmap, grad as g` (aliases are kept). It is safe: the names
stay bound to functions taking the same arguments, so every use keeps working, and DLX301
leaves such uses alone so that the two fixes never conflict. There is no fix when one name
needs more than a rename (`from torch.cuda.amp import autocast`: its calls need `"cuda"`;
DLX301 rewrites those calls), has a different name in its new home, lives in another module
than its neighbours, or is not deprecated at all (`from functorch import vmap, make_fx`).
"""
    limitations = """
`import torch.cuda.amp as amp` imports a module that is not itself deprecated and is not
reported (its deprecated members are reported where used). With `target-torch-version` set,
names deprecated after that release are left out. An import that is the fallback of a `try`
importing the replacement (`except ImportError: from functorch import vmap`), or one arm of a
version check whose other arm imports the replacement, is silent.
"""
    references = (
        Reference("TorchFix TOR103/TOR004 (import of deprecated/removed function)", "https://github.com/pytorch-labs/torchfix"),
        Reference("pytorch-tcn#1: weight_norm import deprecated", "https://github.com/paul-krug/pytorch-tcn/issues/1"),
        Reference("pytorch#103001: deprecate torch.nn.utils.weight_norm", "https://github.com/pytorch/pytorch/pull/103001"),
        Reference("pytorch#94709: remove torch._six", "https://github.com/pytorch/pytorch/pull/94709"),
    )
    bad_examples = (
        """
from torch.nn.utils import weight_norm  # expect: DLX303
from torch.cuda.amp import GradScaler, autocast  # expect: DLX303
from functorch import vmap as batched  # expect: DLX303
""",
        """
from torch._six import inf  # expect: DLX303
""",
    )
    fixed_examples = (
        """
from torch.nn.utils import weight_norm  # expect: DLX303
from torch.cuda.amp import GradScaler, autocast  # expect: DLX303
from torch.func import vmap as batched  # expect: DLX303
""",
        """
from torch._six import inf  # expect: DLX303
""",
    )
    good_examples = (
        """
from torch.nn.utils.parametrizations import weight_norm
from torch.amp import GradScaler, autocast
from torch.func import vmap
from torch.nn.utils import clip_grad_norm_
import torch.cuda.amp as amp
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        removed = model.cached(("DLX303", "removed"), set)
        for statement in symbol_imports(model):
            names = [(q, e) for q, e in statement.names if e.rule in _SYMBOL_RULES and e.applies(target)]
            if not names:
                continue
            if any(e.removed is not None for _, e in names):
                removed.add(id(statement.node))
            parts = [f"`{q}` ({describe(e)}; use {replacement_text(e)})" for q, e in names]
            yield Finding(statement.node, "import of " + ", ".join(parts), fix=partial(import_fix, model, statement))

    def severity_for(self, model, finding):
        # The severity follows the symbol: removed (DLX302's) is an error, deprecated a warning.
        if id(finding.node) in model.cached(("DLX303", "removed"), set):
            return Severity.ERROR
        return self.severity
