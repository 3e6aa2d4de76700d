"""Helpers for fixes that rewrite a call's arguments in place: swap one argument for a keyword
argument, drop an argument, keeping the call's own layout (commas, line breaks, trailing comma)
and its comments."""

from __future__ import annotations

import libcst as cst

from .spec import FixUnavailable


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

    Comments are never dropped: the comments of a removed argument (and, when removed
    arguments end the list, the one after the last argument kept) move to comment lines after
    the comma of the argument kept before it, which then stays; the call keeps its closing
    layout.

    Raises:
        FixUnavailable: a comment of a removed argument has no line to go to (a removed
            first argument, or a one-line call whose next argument would have to move).
    """
    args = list(call.args)
    new: list[cst.Arg] = []
    pending: list[str] = []
    for index, arg in enumerate(args):
        if index in remove:
            pending.extend(_comments(arg))
            continue
        if pending:
            if not new:
                raise FixUnavailable("the comment of a removed first argument has no place")
            new[-1] = _with_comments(new[-1], pending, None)
            pending = []
        if index in replace:
            name, value = replace[index]
            arg = keyword(name, value).with_changes(comma=arg.comma, whitespace_after_arg=arg.whitespace_after_arg)
        new.append(arg)
    if new and args and len(args) - 1 in remove:
        last = args[-1]
        if pending or _comments(new[-1].comma):
            closing = last.comma.whitespace_after if isinstance(last.comma, cst.Comma) else None
            if not isinstance(closing, cst.ParenthesizedWhitespace):
                closing = last.whitespace_after_arg
            new[-1] = _with_comments(new[-1], pending, closing)
        else:
            new[-1] = new[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
    elif pending:
        raise FixUnavailable("the comment of a removed argument has no place")
    return call.with_changes(args=new)


def _comments(node: cst.CSTNode) -> list[str]:
    """The comments inside a node, in source order."""
    found: list[str] = []

    class _Collect(cst.CSTVisitor):
        def visit_Comment(self, comment: cst.Comment) -> None:
            found.append(comment.value)

    node.visit(_Collect())
    return found


def _with_comments(arg: cst.Arg, comments: list[str], closing) -> cst.Arg:
    """`arg` with `comments` as lines after its comma (which ends its line).

    Args:
        closing: the whitespace before the closing parenthesis when `arg` becomes the last
            argument (its layout is used for the line after the comments), or None.
    """
    comma = arg.comma
    if not isinstance(comma, cst.Comma):
        raise FixUnavailable("no comma to put the comments after")
    after = comma.whitespace_after
    comments = list(comments)
    if isinstance(after, cst.ParenthesizedWhitespace):
        first_line, lines = after.first_line, list(after.empty_lines)
        indent, line = after.indent, after.last_line
    else:
        if not comments or not isinstance(closing, cst.ParenthesizedWhitespace):
            raise FixUnavailable("a one-line call has no line for the comments")
        first_line = cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comments.pop(0)))
        lines, indent, line = [], closing.indent, closing.last_line
    lines.extend(cst.EmptyLine(indent=indent, whitespace=line, comment=cst.Comment(text)) for text in comments)
    if isinstance(closing, cst.ParenthesizedWhitespace):
        indent, line = closing.indent, closing.last_line
    whitespace = cst.ParenthesizedWhitespace(first_line=first_line, empty_lines=lines, indent=indent, last_line=line)
    return arg.with_changes(comma=comma.with_changes(whitespace_after=whitespace))


def index_of(call: cst.Call, arg: cst.Arg) -> int:
    """The position of `arg` (the very node) in ``call.args``."""
    for index, candidate in enumerate(call.args):
        if candidate is arg:
            return index
    raise ValueError("the argument is not one of the call's")
