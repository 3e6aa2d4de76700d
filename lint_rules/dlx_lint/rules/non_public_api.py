"""DLX306 non-public-api: a private PyTorch path used where a public one exists."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..deprecations import table, target_version
from ..diagnostics import Severity
from ..fixes.helpers import spell
from ..fixes.spec import NodeFix, Replace
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.names import dotted_name
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
    fix_safety = """
The fix spells the public path and is safe: the public name is the very same function object
(`torch.utils.data.default_collate is torch.utils.data._utils.collate.default_collate`, checked
against the installed torch by the table test). An attribute use becomes the public dotted
path, spelled with the file's imports (`torch.utils.data.default_collate`, adding `import
torch` when nothing else reaches it). A `from <private module> import ...` gets the public
module when every name it imports has a public equivalent of the same name there; its uses
then need no change. An import that also takes names without a public equivalent is left
alone (and so are the uses of the names it binds).
"""
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
    fixed_examples = (
        """
import torch.utils.data._utils.collate as collate_impl
from torch.utils.data import default_convert  # expect: DLX306
import torch

def collate(batch):
    return torch.utils.data.default_collate(batch)  # expect: DLX306
""",
    )
    good_examples = (
        """
from torch.utils.data import default_collate, default_convert

def collate(batch):
    return default_collate(default_convert(batch))
""",
    )
    fix_availability = FixAvailability.SOMETIMES

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for statement in symbol_imports(model):
            names = [(q, e) for q, e in statement.names if e.rule == self.code and e.applies(target)]
            if names:
                listed = ", ".join(f"`{q}` (use `{e.replacement}`)" for q, e in names)
                yield Finding(statement.node, f"import of non-public {listed}: the public name is the same function",
                              fix=partial(_import_fix, statement.node, target))
        for use in symbol_uses(model):
            if use.entry.rule == self.code and use.entry.applies(target):
                yield Finding(use.node, f"non-public `{use.qualname}`: use `{use.entry.replacement}` (the same function, public since PyTorch 1.11)",
                              fix=partial(_use_fix, model, use.node, use.qualname, use.entry.replacement, target))


def _public_module(statement: cst.CSTNode, target) -> str | None:
    """For ``from <private> import a, b``: the one public module holding `a` and `b` under the
    same names, when every imported name has such an equivalent (else None)."""
    if not isinstance(statement, cst.ImportFrom) or statement.relative or isinstance(statement.names, cst.ImportStar):
        return None
    module = dotted_name(statement.module) if statement.module is not None else None
    if module is None:
        return None
    found: set[str] = set()
    for alias in statement.names:
        name = dotted_name(alias.name)
        entry = table().symbols.get(f"{module}.{name}")
        if entry is None or entry.rule != NonPublicApi.code or not entry.drop_in or not entry.applies(target):
            return None
        public, _, last = entry.replacement.rpartition(".")
        if last != name or not public:
            return None
        found.add(public)
    return found.pop() if len(found) == 1 else None


def _import_fix(statement: cst.CSTNode, target) -> NodeFix | None:
    """``from torch.utils.data._utils.collate import default_collate`` -> ``from
    torch.utils.data import default_collate`` (aliases and the other names kept)."""
    public = _public_module(statement, target)
    if public is None:
        return None
    return NodeFix(f"Import from `{public}`", (Replace(statement.module, cst.parse_expression(public)),))  # type: ignore[attr-defined]


def _use_fix(model, node: cst.CSTNode, qualname: str, replacement: str, target) -> NodeFix | None:
    """An attribute path becomes the public one; a name bound by a private ``from`` import is
    fixed with that import (the same edit, applied once)."""
    expr = node.func if isinstance(node, cst.Call) else node
    if isinstance(expr, cst.Attribute):
        text, imports = spell(model, replacement, node)
        return NodeFix(f"Use `{replacement}`", (Replace(expr, cst.parse_expression(text)), *imports))
    if isinstance(expr, cst.Name):
        scope = model.scope_for(node)
        for current in scope.lookup_chain():
            bindings = current.bindings.get(expr.value)
            if not bindings:
                continue
            if len(bindings) == 1 and bindings[0].kind == "import" and bindings[0].qualname == qualname:
                return _import_fix(bindings[0].node, target)
            return None
    return None
