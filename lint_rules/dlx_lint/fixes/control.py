"""Control-flow questions fixes ask before moving or inserting statements."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While)


def may_leave(statements: Iterable[cst.CSTNode]) -> bool:
    """Whether running `statements` may leave the enclosing block early: a ``return``,
    ``raise``, ``yield`` (the caller may stop the generator), or a ``continue``/``break`` that
    is not inside a loop of its own among the statements. Nested functions and classes do not
    count."""
    for statement in statements:
        if _leaves(statement, in_loop=False):
            return True
    return False


def _leaves(node: cst.CSTNode, in_loop: bool) -> bool:
    if isinstance(node, (cst.Return, cst.Raise, cst.Yield)):
        return True
    if isinstance(node, (cst.Continue, cst.Break)):
        return not in_loop
    if isinstance(node, _NESTED_SCOPES):
        return False
    if isinstance(node, _LOOPS):
        # `continue`/`break` in the body act on this loop; its `else` runs after the loop.
        return any(_leaves(child, in_loop if child is node.orelse else True) for child in node.children)
    return any(_leaves(child, in_loop) for child in node.children)
