"""Helpers rules use to build fixes: spelling names with the file's imports, parenthesising,
adding keyword arguments, finding the statement and block to insert into."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .build import statement_in_block as _statement_in_block
from .spec import AddImport, Change, FixUnavailable

if TYPE_CHECKING:
    from ..semantic.model import SemanticModel

_EMPTY = cst.Module([])

# Expressions that can take `.attr` without parentheses. Integers cannot (`1.real` reads as a
# float literal followed by a name).
_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.DictComp,
    cst.SetComp,
)


def code_of(node: cst.CSTNode) -> str:
    """The source text of a node (for messages and titles; single-line nodes read best)."""
    return _EMPTY.code_for_node(node)


def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr`, parenthesised unless it can be the receiver of an attribute as it is
    (``a + b`` -> ``(a + b)``; ``x``, ``f(x)``, ``x[0]`` unchanged)."""
    if expr.lpar or isinstance(expr, _ATOMS):
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def as_argument(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` without its own parentheses when it can be a call argument as it is (``(x - 1)``
    -> ``x - 1``); tuples, generator expressions, ``yield`` and ``:=`` keep them."""
    if not expr.lpar or isinstance(expr, (cst.Tuple, cst.GeneratorExp, cst.Yield, cst.NamedExpr)):
        return expr
    return expr.with_changes(lpar=[], rpar=[])


def method_call(receiver: cst.BaseExpression, method: str, args: tuple[cst.Arg, ...] = ()) -> cst.Call:
    """``receiver.method(args)``, parenthesising the receiver when needed."""
    return cst.Call(func=cst.Attribute(value=as_receiver(receiver), attr=cst.Name(method)), args=args)


def add_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """The call with ``keyword=value`` appended after its last argument.

    In a call written one argument per line with a trailing comma, the new argument gets a
    line of its own, like the others.
    """
    new_arg = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    after = last.comma.whitespace_after if isinstance(last.comma, cst.Comma) else None
    line = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else call.whitespace_before_args
    if (isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None
            and isinstance(line, cst.ParenthesizedWhitespace)):
        # `a,  # note` on its own line: the comment stays with `a`; the new argument gets the
        # next line, at the arguments' indentation, and the line break before `)`.
        args[-1] = last.with_changes(comma=last.comma.with_changes(
            whitespace_after=after.with_changes(indent=line.indent, last_line=line.last_line)))
        closing = cst.ParenthesizedWhitespace(indent=after.indent, last_line=after.last_line)
        args.append(new_arg.with_changes(comma=cst.Comma(whitespace_after=closing)))
    elif isinstance(last.comma, cst.Comma):
        # `f(a, b,)` or one argument per line: the new argument takes the trailing comma (and
        # the line break before the closing parenthesis); the old last argument gets the
        # separator used between the earlier arguments.
        separator = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" ")
        )
        args[-1] = last.with_changes(comma=separator)
        args.append(new_arg.with_changes(comma=last.comma))
    else:
        # The space (or line break) between the last argument and `)` moves after the new one,
        # so `f(\n    a, b\n)` becomes `f(\n    a, b, k=v\n)`, not `a, b, \n k=v)`.
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                                     whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def statement_in_block(model: "SemanticModel", node: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost statement line or compound statement holding `node` that sits directly
    in an indented block or the module body (None inside a one-line suite)."""
    return _statement_in_block(model.parent, node)


def block_of(model: "SemanticModel", statement: cst.CSTNode) -> cst.IndentedBlock | cst.Module | None:
    """The block whose body lists `statement`."""
    parent = model.parent.get(statement)
    if isinstance(parent, (cst.IndentedBlock, cst.Module)):
        return parent
    return None


def spell(model: "SemanticModel", qualname: str, at: cst.CSTNode) -> tuple[str, tuple[Change, ...]]:
    """How to write `qualname` (``torch.nn.functional.log_softmax``) at node `at`.

    Uses the longest import visible at `at` whose qualified name is a prefix of `qualname`
    (``F.log_softmax`` with ``import torch.nn.functional as F``, ``torch.nn.functional.log_softmax``
    with only ``import torch``). With no such import, spells the full name and returns an
    `AddImport` of its top-level package (see `add_import` for where it goes).

    Returns:
        (text, extra changes: empty, or one `AddImport`).

    Raises:
        FixUnavailable: the top-level package name is bound to something else in the file, so
            an import cannot be added safely.
    """
    scope = model.scope_for(at)
    best: tuple[int, str] | None = None
    for current in scope.lookup_chain():
        for local, bindings in current.bindings.items():
            if "." in local:
                continue
            for binding in bindings:
                qualified = binding.qualname
                if binding.kind != "import" or not qualified:
                    continue
                if qualname != qualified and not qualname.startswith(qualified + "."):
                    continue
                if model.resolve_name(local, scope) != qualified:
                    continue  # shadowed where the name is used
                if not _available(model, binding.node, current, at):
                    continue
                if best is None or len(qualified) > best[0]:
                    best = (len(qualified), local + qualname[len(qualified):])
    if best is not None:
        return best[1], ()
    top = qualname.split(".", 1)[0]
    for other in model.scopes.values():
        if top in other.bindings:
            raise FixUnavailable(f"`{top}` is bound to something else in this file")
    return qualname, (add_import(model, f"import {top}", at),)


def add_import(model: "SemanticModel", statement: str, at: cst.CSTNode) -> AddImport:
    """An `AddImport` of `statement` for the code at `at`.

    When the name heading `at` (``resnet50`` in ``resnet50(pretrained=True)``, ``GradScaler``
    in ``GradScaler()``, ``amp`` in ``amp.autocast``) is bound by an import inside a function
    (a lazy import, often of an optional dependency), the new import goes right after that
    import, in the same block: hoisting it to module level would make importing the module
    require the package. Otherwise it is a module-level import.

    Raises:
        FixUnavailable: the function binds the name more than once, or only after `at`, so
            there is no single place the import can go.
    """
    local = _local_import(model, at)
    return AddImport(statement, before=at, after=local)


def _head(node: cst.CSTNode) -> cst.Name | None:
    """The name a call or attribute chain starts with (``a`` in ``a.b.c(x)``)."""
    while True:
        if isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Name):
            return node
        else:
            return None


def _local_import(model: "SemanticModel", at: cst.CSTNode) -> cst.CSTNode | None:
    """The function-local import statement binding the name heading `at`, or None when that
    name is not bound by an import in a function scope."""
    head = _head(at)
    if head is None:
        return None
    for scope in model.scope_for(head).lookup_chain():
        bindings = scope.bindings.get(head.value)
        if bindings:
            break
    else:
        return None
    if scope.kind not in ("function", "lambda") or not any(b.kind == "import" for b in bindings):
        return None
    if len(bindings) != 1:
        raise FixUnavailable(f"`{head.value}` is bound more than once in its function")
    node = bindings[0].node
    if model.order_of(node) > model.order_of(at):
        raise FixUnavailable(f"`{head.value}` is imported after its use")
    return node


def _available(model: "SemanticModel", import_node: cst.CSTNode, scope, at: cst.CSTNode) -> bool:
    """Whether an import binding is in effect when `at` runs: it comes earlier in the file,
    or it is module-level and `at` is inside a function (which runs later)."""
    if model.order_of(import_node) < model.order_of(at):
        return True
    return scope.kind == "module" and model.enclosing_function(at) is not None


def bound_before(model: "SemanticModel", path: str, statement: cst.CSTNode) -> bool:
    """Whether the name heading `path` (``model`` in ``model.encoder``) already has its value
    when `statement` runs: a parameter, a name bound in the function only by earlier
    statements, or a name of an enclosing scope the function does not bind."""
    head = path.split(".", 1)[0]
    scope = model.scope_for(statement)
    local = scope.bindings.get(head, [])
    if local:
        order = model.order_of(statement)
        return all(b.kind == "param" or model.order_of(b.node) < order for b in local)
    return any(head in outer.bindings for outer in scope.lookup_chain()[1:])


__all__ = [
    "FixUnavailable",
    "add_import",
    "add_keyword",
    "as_argument",
    "as_receiver",
    "bound_before",
    "block_of",
    "code_of",
    "method_call",
    "spell",
    "statement_in_block",
]
