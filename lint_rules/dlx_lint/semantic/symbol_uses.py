"""Where a file uses the symbols of the deprecation table: calls, other references, imports.

Shared by the symbol rules (DLX301, DLX302, DLX303, DLX306, DLX308); computed once per file and
cached on the semantic model. Every candidate is resolved through `SemanticModel.qualname`
(import aliases, ``from`` imports, relative imports, re-exports, ``f = torch.symeig``), so a
local variable, a parameter or the builtin ``range`` never matches ``torch.range``.

Cost: the table's last name components are first looked up in the source text; calls are then
taken from the model's call indexes (``calls_by_attr``/``calls_by_name``). Only when the text
shows a reference that is not a call (``x = torch.symeig``, ``@torch.cuda.amp.custom_fwd``, a
name imported from a deprecated location) is the parent map scanned for Name/Attribute nodes.

Compatibility fallbacks (the deprecated spelling chosen only when the replacement is missing,
see `dlx_lint.semantic.compat`) are not uses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from ..deprecations import Entry, Table, table, target_version
from .compat import is_compat_fallback, name_may_hold_other
from .names import dotted_name

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Binding


@dataclass(frozen=True, slots=True)
class SymbolUse:
    """One use of a table symbol.

    Attributes:
        node: the Call (for a call), or the Name/Attribute (for any other reference).
        qualname: what the used expression resolves to.
        entry: the table entry it matches.
    """

    node: cst.CSTNode
    qualname: str
    entry: Entry


@dataclass(frozen=True, slots=True)
class SymbolImport:
    """A ``from ... import`` (or ``import a.b``) statement that imports table symbols.

    Attributes:
        node: the ImportFrom / Import statement (the reported node).
        names: (qualified name, entry) for each imported table symbol, in source order.
    """

    node: cst.CSTNode
    names: tuple[tuple[str, Entry], ...]


# Positions where a Name is bound or is a label rather than a read of the imported symbol.
_NAME_NOT_A_READ = (
    cst.AssignTarget, cst.Param, cst.ImportAlias, cst.AsName, cst.Global, cst.Nonlocal,
)


def symbol_uses(model: "SemanticModel") -> list[SymbolUse]:
    """Every call of, or other reference to, a table symbol in the file (source order).

    A call is reported once, on the Call node; the callee expression of a call is never also
    reported as a reference. Names inside import statements are not uses (DLX303 reports the
    statement).
    """
    return model.cached(("symbol_uses",), lambda: _compute_uses(model))


def symbol_imports(model: "SemanticModel") -> list[SymbolImport]:
    """Import statements that bind a table symbol (or something inside a module entry)."""
    return model.cached(("symbol_imports",), lambda: _compute_imports(model))


def import_bindings(model: "SemanticModel") -> list["Binding"]:
    """Every import binding in the file, in no particular order (cached)."""

    def compute():
        found = []
        for scope in model.scopes.values():
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.kind == "import":
                        found.append(binding)
        return found

    return model.cached(("import_bindings",), compute)


@functools.lru_cache(maxsize=1)
def _patterns(lasts: tuple[str, ...]) -> re.Pattern[str]:
    # `.last` not followed by `(`: an attribute reference that is not (directly) called. The
    # receiver is read backwards from the match (a leading `(\w+)` group would make the regex
    # engine retry at every character of every word).
    alternatives = "|".join(re.escape(last) for last in sorted(lasts, key=len, reverse=True))
    return re.compile(rf"\.\s*({alternatives})\b(?!\s*\()")


_RECEIVER = re.compile(r"(\w+)\s*$")


def _present_lasts(model: "SemanticModel", tbl: Table) -> list[str]:
    """Last name components of table symbols that occur in the source text (cached: one
    substring search per component and file)."""
    source = model.source
    return model.cached(("symbol_lasts",), lambda: [last for last in tbl.symbol_lasts if last in source])


def _compute_uses(model: "SemanticModel") -> list[SymbolUse]:
    tbl = table()
    lasts = _present_lasts(model, tbl)
    if not lasts:
        return []
    uses: list[SymbolUse] = []
    seen: set[int] = set()

    def add(node: cst.CSTNode, qualname: str | None) -> None:
        entry = tbl.find(qualname)
        if entry is None or id(node) in seen:
            return
        seen.add(id(node))
        callee = node.func if isinstance(node, cst.Call) else node
        if isinstance(callee, cst.Name) and name_may_hold_other(model, callee):
            return  # bound to the replacement too (try/except imports): either may be called
        if is_compat_fallback(model, node, entry):
            return
        uses.append(SymbolUse(node, qualname, entry))  # type: ignore[arg-type]

    aliases = _alias_names(model, tbl, lasts)
    for last in lasts:
        for call in model.calls_by_attr.get(last, ()):
            add(call, model.qualname(call.func))
    for name in set(lasts) | aliases:
        for call in model.calls_by_name.get(name, ()):
            add(call, model.qualname(call.func))
    if aliases or _attribute_reference_in_text(model, tbl, lasts):
        _add_references(model, tbl, set(lasts), aliases, add)
    uses.sort(key=lambda use: model.order_of(use.node))
    return uses


def _alias_names(model: "SemanticModel", tbl: Table, lasts: list[str]) -> set[str]:
    """Local names bound to a table symbol: ``from torch.nn.utils import weight_norm as wn``,
    ``import torchvision.transforms.functional_tensor as F_t``, ``f = torch.symeig``."""
    names: set[str] = set()
    for binding in import_bindings(model):
        if tbl.find(binding.qualname) is not None:
            names.add(binding.target)
    wanted = set(lasts)
    for assign in model.assigns:
        value = assign.value
        if isinstance(value, (cst.Attribute, cst.Name)):
            last = value.attr.value if isinstance(value, cst.Attribute) else value.value
            if last in wanted and tbl.find(model.qualname(value)) is not None:
                for target in assign.targets:
                    if isinstance(target.target, cst.Name):
                        names.add(target.target.value)
    return names


def _attribute_reference_in_text(model: "SemanticModel", tbl: Table, lasts: list[str]) -> bool:
    """Whether the text has ``receiver.last`` (not called) where `receiver` is the entry's
    parent module's last component (``cuda.sdp_kernel``) or an import alias of that module."""
    module_aliases: dict[str, set[str]] = {}
    source = model.source
    for match in _patterns(tuple(tbl.symbol_lasts)).finditer(source):
        found = _RECEIVER.search(source, max(0, match.start() - 80), match.start())
        if found is None:
            continue
        receiver, last = found.group(1), match.group(1)
        for entry in tbl.symbol_lasts.get(last, ()):
            parent = entry.name.rsplit(".", 1)[0]
            if receiver == parent.rsplit(".", 1)[-1]:
                return True
            if not module_aliases:
                for binding in import_bindings(model):
                    if binding.qualname:
                        module_aliases.setdefault(binding.qualname, set()).add(binding.target)
                module_aliases.setdefault("", set())
            if receiver in module_aliases.get(parent, ()):
                return True
    return False


def _add_references(model: "SemanticModel", tbl: Table, lasts: set[str], aliases: set[str], add) -> None:
    parent_of = model.parent
    for node, parent in parent_of.items():
        node_type = type(node)
        if node_type is cst.Attribute:
            if node.attr.value not in lasts:  # type: ignore[attr-defined]
                continue
            if type(parent) is cst.Call and parent.func is node:  # type: ignore[attr-defined]
                continue  # the call itself is the use
            if _in_import(model, node) or type(parent) is cst.AssignTarget:
                continue
            add(node, model.qualname(node))
        elif node_type is cst.Name:
            if node.value not in aliases:  # type: ignore[attr-defined]
                continue
            if isinstance(parent, _NAME_NOT_A_READ):
                continue
            if type(parent) is cst.Call and parent.func is node:  # type: ignore[attr-defined]
                continue
            if type(parent) is cst.Attribute and parent.attr is node:  # type: ignore[attr-defined]
                continue
            if type(parent) is cst.Arg and parent.keyword is node:  # type: ignore[attr-defined]
                continue
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef)) and parent.name is node:  # type: ignore[attr-defined]
                continue
            if _in_import(model, node):
                continue
            add(node, model.qualname(node))


def _in_import(model: "SemanticModel", node: cst.CSTNode) -> bool:
    current = model.parent.get(node)
    while isinstance(current, (cst.Attribute, cst.Name)):
        current = model.parent.get(current)
    return isinstance(current, (cst.ImportAlias, cst.ImportFrom, cst.Import))


def _compute_imports(model: "SemanticModel") -> list[SymbolImport]:
    tbl = table()
    if not _present_lasts(model, tbl):
        return []
    by_statement: dict[int, tuple[cst.CSTNode, list[tuple[str, Entry]]]] = {}
    for binding in import_bindings(model):
        statement = binding.node
        qualname = binding.qualname
        if isinstance(statement, cst.Import):
            # `import a.b.c` binds `a`; the statement still imports the module a.b.c.
            qualname = _plain_import_target(statement, binding.target) or qualname
        entry = tbl.find(qualname)
        if entry is None or is_compat_fallback(model, statement, entry):
            continue
        slot = by_statement.setdefault(id(statement), (statement, []))
        if (qualname, entry) not in slot[1]:
            slot[1].append((qualname, entry))  # type: ignore[arg-type]
    found = [SymbolImport(node, tuple(names)) for node, names in by_statement.values()]
    found.sort(key=lambda item: model.order_of(item.node))
    return found


def _plain_import_target(statement: cst.Import, local: str) -> str | None:
    for alias in statement.names:
        full = dotted_name(alias.name)
        if full is None:
            continue
        bound = dotted_name(alias.asname.name) if alias.asname is not None else full.split(".", 1)[0]  # type: ignore[arg-type]
        if bound == local:
            return full
    return None


def argument_entry_calls(model: "SemanticModel", code: str):
    """``(entry, call, qualname)`` for each call of a function that an argument entry of rule
    `code` names (``deprecations.toml``, kind = argument), for the entries that apply at the
    file's ``target-torch-version``. Source order within each entry."""
    target = target_version(model)
    for entry in table().arguments.get(code, ()):
        if not entry.applies(target):
            continue
        functions = frozenset(entry.functions)
        lasts = frozenset(function.rsplit(".", 1)[-1] for function in functions)
        for call, qualname in calls_resolving_to(model, lasts, functions.__contains__):
            yield entry, call, qualname


def calls_resolving_to(model: "SemanticModel", lasts: frozenset[str], accept) -> list[tuple[cst.Call, str]]:
    """Calls whose callee resolves to a qualified name that `accept(qualname)` approves.

    Candidates come from the call indexes: calls ``x.<last>(...)`` and ``<last>(...)`` for each
    name in `lasts`, plus calls of local names imported (or assigned) from an approved name
    (``from torchvision.models import resnet18 as r18``). Source order.

    Args:
        model: the file's semantic model.
        lasts: last components of the qualified names of interest.
        accept: predicate on a resolved qualified name.
    """
    names = set()
    for last in lasts:
        if last in model.calls_by_name:
            names.add(last)
    for binding in import_bindings(model):
        if binding.target in model.calls_by_name and binding.qualname and accept(binding.qualname):
            names.add(binding.target)
    candidates: list[cst.Call] = []
    for last in lasts:
        candidates.extend(model.calls_by_attr.get(last, ()))
    for name in names:
        candidates.extend(model.calls_by_name.get(name, ()))
    found = []
    for call in candidates:
        qualname = model.qualname(call.func)
        if qualname is not None and accept(qualname):
            found.append((call, qualname))
    found.sort(key=lambda item: model.order_of(item[0]))
    return found


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    """The ``name=`` argument of `call`, or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    """Whether the call passes ``**kwargs`` (its keyword arguments are then unknown)."""
    return any(arg.star == "**" for arg in call.args)
