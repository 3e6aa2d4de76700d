"""Qualified names: what `F.dropout`, `T.load` or `Adam` refer to.

Import aliases are resolved through the scopes of the semantic model (module-level and
function-level imports, simple re-bindings such as ``f = torch.symeig``); this module holds the
pure helpers: dotted names of expressions and the canonical spelling of PyTorch's re-exports.
"""

from __future__ import annotations

import re

import libcst as cst


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of attributes over a name, else None (calls, subscripts...)."""
    parts: list[str] = []
    node = expr
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        parts.reverse()
        return ".".join(parts)
    return None


def import_alias_qualname(alias: cst.ImportAlias, module: str | None, relative_dots: int) -> tuple[str, str]:
    """(local name, qualified name) bound by one alias of an import statement.

    Args:
        alias: the ``ImportAlias`` node.
        module: the ``from`` module as dotted text, or None for a plain ``import``.
        relative_dots: number of leading dots of a relative ``from`` import.
    """
    imported = dotted_name(alias.name) or ""
    if module is None and relative_dots == 0:
        # `import a.b.c` binds `a`; `import a.b.c as x` binds x to a.b.c.
        if alias.asname is not None:
            return _asname(alias), canonical(imported)
        top = imported.split(".", 1)[0]
        return top, top
    prefix = "." * relative_dots + (module or "")
    if prefix and not prefix.endswith("."):
        prefix += "."
    qualified = canonical(prefix + imported)
    local = _asname(alias) if alias.asname is not None else imported.split(".")[-1]
    return local, qualified


def _asname(alias: cst.ImportAlias) -> str:
    name = alias.asname.name if alias.asname is not None else alias.name
    return dotted_name(name) or ""  # type: ignore[arg-type]


# Re-exports: the module a symbol is defined in -> the public path users (and rules) know it by.
_CANONICAL_PREFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^torch\.nn\.modules(?:\.[a-z_0-9]+)?\.(?=[A-Za-z_])"), "torch.nn."),
    (re.compile(r"^torch\.optim\.(?!lr_scheduler\.|swa_utils\.)[a-z_0-9]+\.(?=[A-Z])"), "torch.optim."),
    (re.compile(r"^torch\.utils\.data\.(?:dataloader|dataset|sampler|distributed)\.(?=[A-Za-z])"), "torch.utils.data."),
    (re.compile(r"^torch\.(cuda|cpu)\.amp\.(?:grad_scaler|autocast_mode)\."), r"torch.\1.amp."),
    (re.compile(r"^torch\.amp\.(?:grad_scaler|autocast_mode)\."), "torch.amp."),
    (re.compile(r"^torch\.nn\.utils\.clip_grad\."), "torch.nn.utils."),
    (re.compile(r"^torch\.random\.(?=manual_seed$|seed$|initial_seed$)"), "torch."),
    (re.compile(r"^torch\.autograd\.grad_mode\."), "torch."),
    (re.compile(r"^torch\.serialization\.(?=load$|save$)"), "torch."),
    (re.compile(r"^lightning\.pytorch\."), "pytorch_lightning."),
    (re.compile(r"^lightning\.(?=LightningModule$|Trainer$|LightningDataModule$)"), "pytorch_lightning."),
    (re.compile(r"^pytorch_lightning\.core\.(?:module|lightning)\."), "pytorch_lightning."),
)


def canonical(qualname: str) -> str:
    """The public spelling of a PyTorch (or Lightning) qualified name.

    ``torch.nn.modules.loss.CrossEntropyLoss`` -> ``torch.nn.CrossEntropyLoss``;
    ``torch.utils.data.dataloader.DataLoader`` -> ``torch.utils.data.DataLoader``;
    ``torch.optim.adam.Adam`` -> ``torch.optim.Adam``. Names outside these packages are
    returned unchanged.
    """
    if not (qualname.startswith("torch") or qualname.startswith("lightning") or qualname.startswith("pytorch_lightning")):
        return qualname
    for pattern, replacement in _CANONICAL_PREFIXES:
        new = pattern.sub(replacement, qualname, count=1)
        if new != qualname:
            return new
    return qualname
