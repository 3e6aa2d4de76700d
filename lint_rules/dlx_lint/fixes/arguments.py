"""Helpers for fixes that rewrite a call's arguments in place: swap one argument for a keyword
argument, drop an argument, keeping the call's own layout (commas, line breaks, trailing comma)."""

from __future__ import annotations

import libcst as cst


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` written without spaces around ``=``."""
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def positional_count(call: cst.Call) -> int:
    """How many plain positional arguments the call passes (``*args`` not counted)."""
    return sum(1 for arg in call.args if arg.keyword is None and not arg.star)


def has_star(call: cst.Call) -> bool:
    """Whether the call passes ``*args`` or ``**kwargs``."""
    return any(arg.star for arg in call.args)


def rewrite_args(call: cst.Call, replace: dict[int, tuple[str, cst.BaseExpression]], remove: frozenset[int] = frozenset()) -> cst.Call:
    """The call with some arguments replaced by keyword arguments and some removed, by index
    into ``call.args``.

    A replaced argument keeps its place, comma and surrounding whitespace. When removed
    arguments end the list, the last argument kept takes over the comma (a trailing comma, or
    none) and the whitespace before ``)`` of the last one removed.
    """
    args = list(call.args)
    new: list[cst.Arg] = []
    for index, arg in enumerate(args):
        if index in remove:
            continue
        if index in replace:
            name, value = replace[index]
            arg = keyword(name, value).with_changes(comma=arg.comma, whitespace_after_arg=arg.whitespace_after_arg)
        new.append(arg)
    if new and args and len(args) - 1 in remove:
        last = args[-1]
        new[-1] = new[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
    return call.with_changes(args=new)


def index_of(call: cst.Call, arg: cst.Arg) -> int:
    """The position of `arg` (the very node) in ``call.args``."""
    for index, candidate in enumerate(call.args):
        if candidate is arg:
            return index
    raise ValueError("the argument is not one of the call's")
