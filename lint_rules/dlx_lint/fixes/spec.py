"""The vocabulary a rule uses to propose a fix: changes to libcst nodes, not text.

A rule attaches a `NodeFix` to a `Finding`. The engine (`dlx_lint.fixes.build`) renders each
change with libcst's code generator in the node's own context (indentation, newline style)
and turns it into minimal text `Edit`s; the rule never computes a position or an offset.

Changes:
    `Replace(node, new)`: put `new` where `node` is. `node` may be an expression, a small
        statement, a statement line or a compound statement (or any node libcst renders on
        its own, such as an ``Arg``). `new` is a node, Python source text, or for statements a
        tuple of statements (an empty tuple removes the statement; see `Remove`).
    `InsertBefore(anchor, statements)` / `InsertAfter(anchor, statements)`: new statements
        in the block holding `anchor` (a statement, or a node inside one: the innermost
        statement in a block is used).
    `Remove(anchor)`: delete a statement (``pass`` takes its place when it is the only one).
    `AddImport(statement)`: an import at module level, placed after the docstring and
        ``__future__`` imports, with the file's other imports (or, with `after`, right after a
        function-local import); identical imports added by several fixes in one pass are
        applied once.

A change that cannot be expressed in the file's layout (an insertion before a statement that
shares its line with another, in a one-line ``if x: a`` suite) makes the whole fix
unavailable: the finding is still reported, without a fix. Rules can also raise
`FixUnavailable` while building a fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import libcst as cst

from ..diagnostics import Applicability

NewCode = Union[cst.CSTNode, str, tuple]
"""A node, Python source text (parsed as an expression or statement, as the replaced node
is), or a tuple of statements (nodes or text) replacing one statement."""


class FixUnavailable(Exception):
    """Raised while building a fix that cannot be offered for this occurrence; the finding is
    reported without a fix (the message says why, for debugging)."""


@dataclass(frozen=True)
class Replace:
    """Put `new` where `node` is (its parentheses are kept when `new` has none)."""

    node: cst.CSTNode
    new: NewCode


@dataclass(frozen=True)
class InsertBefore:
    """Insert statements (nodes or text) right before the statement line holding `anchor`."""

    anchor: cst.CSTNode
    statements: tuple


@dataclass(frozen=True)
class InsertAfter:
    """Insert statements right after the statement holding `anchor` (after a compound
    statement's whole body)."""

    anchor: cst.CSTNode
    statements: tuple


@dataclass(frozen=True)
class Remove:
    """Delete the statement holding `anchor` (replaced by ``pass`` when it is alone in its
    block)."""

    anchor: cst.CSTNode


@dataclass(frozen=True)
class AddImport:
    """An import statement, e.g. ``"import math"``: at module level, or next to a
    function-local import.

    Attributes:
        statement: the import as source text.
        before: the node that uses the imported name; when it is module-level code that runs
            before the usual import position, the import goes right before its statement.
        after: an import statement inside a function (the one binding the name the fix
            relies on, a lazy import); the new import goes right after it, in the same block,
            so that the module does not start requiring the package at import time.
    """

    statement: str
    before: cst.CSTNode | None = None
    after: cst.CSTNode | None = None


Change = Union[Replace, InsertBefore, InsertAfter, Remove, AddImport]


@dataclass(frozen=True)
class NodeFix:
    """A fix proposed by a rule for one finding.

    Attributes:
        title: imperative, shown in editors and ``--show-fixes`` ("Clear gradients with
            `opt.zero_grad(set_to_none=True)`"). Code in backticks.
        changes: applied together or not at all; they must not overlap.
        applicability: overrides the rule's `fix_applicability` for this occurrence (e.g. a
            fix that is safe in one shape and only display-only in another).
    """

    title: str
    changes: tuple[Change, ...]
    applicability: Applicability | None = None
