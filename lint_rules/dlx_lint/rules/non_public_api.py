"""DLX306 non-public-api: a private PyTorch path used where a public one exists."""

from __future__ import annotations

from typing import Iterator

from ..deprecations import target_version
from ..diagnostics import Severity
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import symbol_imports, symbol_uses


class NonPublicApi(Rule):
    code = "DLX306"
    name = "non-public-api"
    severity = Severity.WARNING
    requires = ("default_collate", "default_convert")
    summary = "private torch.utils.data._utils.collate path used instead of its public alias"
    what = """
Reports uses and imports of private PyTorch paths that have a public equivalent:
`torch.utils.data._utils.collate.default_collate` and `default_convert`, public since PyTorch
1.11 as `torch.utils.data.default_collate` / `default_convert` (the same functions). The
import statement and each use are reported. The pairs are the table entries with
`rule = "DLX306"` in `dlx_lint/data/deprecations.toml`.
"""
    why = """
Names under a leading-underscore module are private: PyTorch moves and renames them without a
deprecation period (as `torch._six` disappeared in 2.0), while the public aliases are covered
by the compatibility policy. Switching costs nothing: the public name is the very same object.
"""
    example = """
from torch.utils.data._utils.collate import default_collate
"""
    use_instead = """
from torch.utils.data import default_collate
"""
    fix_safety = "No fix yet; the rename is a drop-in (`drop_in = true` in the table), so a later fix is safe."
    limitations = """
Only the private paths listed in the table are reported; private helpers without a public
equivalent (`torch.nn.modules.utils._pair`) are outside this rule.
"""
    references = (
        Reference("pytorch#69862: expose default_collate and default_convert publicly", "https://github.com/pytorch/pytorch/pull/69862"),
        Reference("PyTorch docs: torch.utils.data.default_collate", "https://docs.pytorch.org/docs/stable/data.html#torch.utils.data.default_collate"),
        Reference("TorchFix TOR104/TOR105", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch.utils.data._utils.collate as collate_impl
from torch.utils.data._utils.collate import default_convert  # expect: DLX306

def collate(batch):
    return collate_impl.default_collate(batch)  # expect: DLX306
""",
    )
    good_examples = (
        """
from torch.utils.data import default_collate, default_convert

def collate(batch):
    return default_collate(default_convert(batch))
""",
    )
    fix_availability = FixAvailability.NEVER

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for statement in symbol_imports(model):
            names = [(q, e) for q, e in statement.names if e.rule == self.code and e.applies(target)]
            if names:
                listed = ", ".join(f"`{q}` (use `{e.replacement}`)" for q, e in names)
                yield Finding(statement.node, f"import of non-public {listed}: the public name is the same function")
        for use in symbol_uses(model):
            if use.entry.rule == self.code and use.entry.applies(target):
                yield Finding(use.node, f"non-public `{use.qualname}`: use `{use.entry.replacement}` (the same function, public since PyTorch 1.11)")
