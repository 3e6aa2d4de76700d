"""Fixes of the deprecation rules, driven by the table's `fix` field (see the header of
``dlx_lint/data/deprecations.toml``).

DLX301 rewrites a use (`use_fix`); DLX303 rewrites a ``from M import a, b`` statement
(`import_fix`). The two never edit the same code: a use spelled with a bare name that a fixable
``from`` import bound is left to DLX303 (renaming the import renames every use), so a
``--fix`` run converges whichever of the two rules are selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..deprecations import Entry, Version, table, target_version
from ..diagnostics import Applicability
from ..semantic.names import dotted_name
from .arguments import rewrite_args
from .helpers import add_keyword, spell
from .spec import NodeFix, Replace

if TYPE_CHECKING:
    from ..semantic.model import SemanticModel
    from ..semantic.symbol_uses import SymbolImport, SymbolUse

_SAFE_FIXES = ("rename", "device-first", "device-keyword")
# torch.range's values are written as float literals so that torch.arange returns the default
# floating dtype, as torch.range did; up to 2**24 every integer is exact in float32.
_EXACT_FLOAT = 2**24
# Keywords torch.range and torch.arange share (besides start/end/step, which the fix rewrites).
_RANGE_KEYWORDS = frozenset({"dtype", "device", "requires_grad", "layout"})
_MH_SINCE: Version = (1, 11)  # Tensor.mH


# ---------------------------------------------------------------------------------- DLX303


def import_fix(model: "SemanticModel", statement: "SymbolImport") -> NodeFix | None:
    """``from functorch import vmap, grad as g`` -> ``from torch.func import vmap, grad as g``.

    Offered when the statement is an absolute ``from`` import whose every name is a table
    entry reported at the target with a plain rename fix, all replacements live in one module
    and keep the imported name. None otherwise.
    """
    node = statement.node
    if not isinstance(node, cst.ImportFrom) or node.relative or isinstance(node.names, cst.ImportStar):
        return None
    module = dotted_name(node.module) if node.module is not None else None
    if module is None:
        return None
    target = target_version(model)
    symbols = table().symbols
    new_modules = set()
    for alias in node.names:
        name = dotted_name(alias.name)
        entry = symbols.get(f"{module}.{name}")
        if entry is None or entry.rule != "DLX301" or not entry.applies(target) or not entry.plain_rename:
            return None
        new_module, _, new_name = entry.replacement.rpartition(".")
        if new_name != name or not new_module:
            return None
        new_modules.add(new_module)
    if len(new_modules) != 1:
        return None
    (new_module,) = new_modules
    return NodeFix(f"Import from `{new_module}`", (Replace(node.module, new_module),))


def _import_fix_for_name(model: "SemanticModel", name: cst.Name) -> bool | None:
    """For a bare name: True when a fixable ``from`` import binds it (DLX303's fix renames
    it), False when another import binds it, None when it is not bound by one import."""
    from ..semantic.symbol_uses import symbol_imports

    bindings = model.bindings_of(name.value, model.scope_for(name))
    if len(bindings) != 1 or bindings[0].kind != "import":
        return None
    statement = next((s for s in symbol_imports(model) if s.node is bindings[0].node), None)
    if statement is None:
        return None
    return import_fix(model, statement) is not None


# ---------------------------------------------------------------------------------- DLX301


def use_fix(model: "SemanticModel", use: "SymbolUse") -> NodeFix | None:
    """The fix of one DLX301 finding, or None (see the table header for each kind)."""
    entry = use.entry
    if entry.fix is None or use.qualname != entry.name:
        return None
    call = use.node if isinstance(use.node, cst.Call) else None
    ref = call.func if call is not None else use.node
    if isinstance(ref, cst.Name):
        # `from functorch import vmap` then `vmap(f)`: DLX303 renames the import (and so every
        # use); a name bound otherwise (`f = torch.ger`) is fixed where it is bound.
        if _import_fix_for_name(model, ref) is not False:
            return None
    elif not isinstance(ref, cst.Attribute):
        return None
    if not _arguments_allow(entry, call):
        return None
    builder = _BUILDERS[entry.fix]
    fix = builder(model, entry, call, ref)
    if fix is None:
        return None
    if entry.fix not in _SAFE_FIXES:
        return NodeFix(fix.title, fix.changes, Applicability.UNSAFE)
    return fix


def _arguments_allow(entry: Entry, call: cst.Call | None) -> bool:
    if entry.fix_positional is None and not entry.fix_keywords:
        return True
    if call is None:
        return False  # a reference passed around: its calls are not seen
    positional = 0
    for arg in call.args:
        if arg.star == "*" and entry.fix_positional is not None:
            return False
        if arg.star == "**" and entry.fix_keywords:
            return False
        if arg.keyword is None and not arg.star:
            positional += 1
        if arg.keyword is not None and arg.keyword.value in entry.fix_keywords:
            return False
    return entry.fix_positional is None or positional <= entry.fix_positional


def _spelled(model, qualname: str, ref: cst.CSTNode):
    """`qualname` written at `ref`: through the same name the reference starts with when that
    name is a prefix of it (``T.cuda.amp.autocast`` -> ``T.amp.autocast`` with ``import torch
    as T``, ``F.upsample`` -> ``F.interpolate``), else with the file's imports (`spell`)."""
    dotted = dotted_name(ref)
    if dotted is not None:
        head = dotted.split(".", 1)[0]
        base = model.resolve_name(head, model.scope_for(ref))
        if base is not None and (qualname == base or qualname.startswith(base + ".")):
            return cst.parse_expression(head + qualname[len(base):]), ()
    text, imports = spell(model, qualname, ref)
    return cst.parse_expression(text), imports


def _rename(model, entry: Entry, call, ref) -> NodeFix | None:
    new, imports = _spelled(model, entry.replacement, ref)
    return NodeFix(f"Use `{entry.replacement}`", (Replace(ref, new), *imports))


def _string(value: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{value}"')


def _device_first(model, entry: Entry, call, ref) -> NodeFix | None:
    if call is None:
        return None
    new_func, imports = _spelled(model, entry.replacement, ref)
    device = cst.Arg(value=_string(entry.fix_device))  # type: ignore[arg-type]
    if call.args:
        device = device.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    new = call.with_changes(func=new_func, args=[device, *call.args])
    return NodeFix(f'Use `{entry.replacement}("{entry.fix_device}", ...)`', (Replace(call, new), *imports))


def _device_keyword(model, entry: Entry, call, ref) -> NodeFix | None:
    new_func, imports = _spelled(model, entry.replacement, ref)
    title = f'Use `{entry.replacement}(device_type="{entry.fix_device}")`'
    device = _string(entry.fix_device)  # type: ignore[arg-type]
    if call is not None:
        new = add_keyword(call.with_changes(func=new_func), "device_type", device)
        return NodeFix(title, (Replace(call, new), *imports))
    parent = model.parent.get(ref)
    if isinstance(parent, cst.Decorator) and parent.decorator is ref:
        new = add_keyword(cst.Call(func=new_func), "device_type", device)
        return NodeFix(title, (Replace(ref, new), *imports))
    return None


def _int_literal(expr: cst.BaseExpression) -> int | None:
    if expr.lpar:
        return None
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) and isinstance(expr.expression, cst.Integer):
        if expr.expression.lpar:
            return None
        return -int(expr.expression.value, 0)
    return None


def _arange(model, entry: Entry, call, ref) -> NodeFix | None:
    """``torch.range(a, b[, s])`` with integer literals -> ``torch.arange(a, b', s)`` where b'
    lies one step past the last value; the values are written as floats (torch.range returns
    the default floating dtype) unless `dtype=` is passed."""
    if call is None:
        return None
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
    if any(arg.star for arg in call.args) or len(positional) not in (2, 3):
        return None
    step_arg = positional[2] if len(positional) == 3 else keywords.get("step")
    if set(keywords) - _RANGE_KEYWORDS - ({"step"} if len(positional) == 2 else set()):
        return None
    start, end = _int_literal(positional[0].value), _int_literal(positional[1].value)
    step = _int_literal(step_arg.value) if step_arg is not None else 1
    if start is None or end is None or step is None or step <= 0 or end < start:
        return None
    count = (end - start) // step + 1
    stop = start + count * step
    as_float = "dtype" not in keywords
    if as_float and max(abs(start), abs(stop), step) > _EXACT_FLOAT:
        return None

    def literal(value: int) -> cst.BaseExpression:
        return cst.parse_expression(f"{value}.0" if as_float else str(value))

    new_func, imports = _spelled(model, "torch.arange", ref)
    values = {id(positional[0]): start, id(positional[1]): stop}
    if step_arg is not None:
        values[id(step_arg)] = step
    args = [arg.with_changes(value=literal(values[id(arg)])) if id(arg) in values else arg for arg in call.args]
    new = call.with_changes(func=new_func, args=args)
    return NodeFix(f"Use `torch.arange` with the end point {stop} (excluded)", (Replace(call, new), *imports))


def _bool_literal(expr: cst.BaseExpression) -> bool | None:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False") and not expr.lpar:
        return expr.value == "True"
    return None


def _matrix_and_flag(call: cst.Call | None, flag: str) -> tuple[cst.Arg, bool | None] | None:
    """(the matrix argument, the literal value of `flag` or None when absent) for
    ``f(A)``, ``f(A, flag)`` and ``f(A, flag=...)``; None for any other shape."""
    if call is None or not call.args or any(arg.star for arg in call.args):
        return None
    matrix, rest = call.args[0], call.args[1:]
    if matrix.keyword is not None or len(rest) > 1:
        return None
    if not rest:
        return matrix, None
    if rest[0].keyword is not None and rest[0].keyword.value != flag:
        return None
    value = _bool_literal(rest[0].value)
    if value is None:
        return None
    return matrix, value


def _without_flag(call: cst.Call) -> cst.Call:
    """The call without its flag argument (the second), keeping its layout and comments."""
    return rewrite_args(call, {}, frozenset(range(1, len(call.args))))


def _linalg_qr(model, entry: Entry, call, ref) -> NodeFix | None:
    """``torch.qr(A)`` / ``some=True`` -> ``torch.linalg.qr(A)``; ``some=False`` ->
    ``torch.linalg.qr(A, mode="complete")``."""
    found = _matrix_and_flag(call, "some")
    if found is None:
        return None
    matrix, some = found
    new_func, imports = _spelled(model, "torch.linalg.qr", ref)
    renamed = call.with_changes(func=new_func)
    if some is False:
        new = rewrite_args(renamed, {1: ("mode", _string("complete"))})
    else:
        new = _without_flag(renamed)
    return NodeFix("Use `torch.linalg.qr`", (Replace(call, new), *imports))


def _linalg_cholesky(model, entry: Entry, call, ref) -> NodeFix | None:
    """``torch.cholesky(A)`` -> ``torch.linalg.cholesky(A)``; ``upper=True`` ->
    ``torch.linalg.cholesky(A).mH`` (the form PyTorch's deprecation warning gives)."""
    found = _matrix_and_flag(call, "upper")
    if found is None:
        return None
    matrix, upper = found
    target = target_version(model)
    if upper and target is not None and target < _MH_SINCE:
        return None
    new_func, imports = _spelled(model, "torch.linalg.cholesky", ref)
    new: cst.BaseExpression = _without_flag(call.with_changes(func=new_func))
    if upper:
        new = cst.Attribute(value=new, attr=cst.Name("mH"))
    return NodeFix("Use `torch.linalg.cholesky(A)" + (".mH`" if upper else "`"), (Replace(call, new), *imports))


_BUILDERS = {
    "rename": _rename,
    "device-first": _device_first,
    "device-keyword": _device_keyword,
    "arange": _arange,
    "linalg-qr": _linalg_qr,
    "linalg-cholesky": _linalg_cholesky,
}
