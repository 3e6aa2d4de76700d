"""Fast traversal of libcst trees.

libcst's visitor framework looks up `visit_`/`leave_` methods for every node and builds
`children` lists on demand; walking the fields of each node type directly is several times
faster. Whitespace, comma and parenthesis fields never hold code, so they are skipped.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import libcst as cst

_CSTNode = cst.CSTNode

# Fields that only hold formatting (whitespace, punctuation, comments' containers).
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "equal",
        "colon",
        "star",
        "dot",
        "newline",
        "trailing_whitespace",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "first_line",
        "empty_lines",
        "indent",
        "asynchronous",
        "star_tok",
    }
)

_FIELDS_BY_TYPE: dict[type, tuple[str, ...]] = {}


def code_fields(node_type: type) -> tuple[str, ...]:
    """Names of the fields of `node_type` that can hold code (expressions, statements)."""
    names = _FIELDS_BY_TYPE.get(node_type)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if not f.name.startswith("whitespace") and f.name not in _SKIPPED_FIELDS
        )
        _FIELDS_BY_TYPE[node_type] = names
    return names


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct code-bearing children of `node`, in source order."""
    for name in code_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, _CSTNode):
            if not isinstance(value, _FORMATTING):
                yield value
        elif type(value) is tuple or type(value) is list:
            for item in value:
                if isinstance(item, _CSTNode) and not isinstance(item, _FORMATTING):
                    yield item


# Nodes that carry no code even when they sit in a code field (operators are kept: rules
# inspect them through their parent, e.g. BinaryOperation.operator).
_FORMATTING = (
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Comment,
    cst.Newline,
)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """All code-bearing nodes under `node` (itself included), pre-order."""
    stack = [node]
    pop = stack.pop
    push = stack.append
    while stack:
        current = pop()
        yield current
        children = list(iter_children(current))
        children.reverse()
        for child in children:
            push(child)


def walk_postorder(node: cst.CSTNode, *, stop: tuple[type, ...] = ()) -> Iterator[cst.CSTNode]:
    """Nodes under `node` in post-order (children before parents, left to right).

    Subtrees rooted at an instance of a type in `stop` are neither entered nor yielded,
    except `node` itself is always entered.
    """
    stack: list[tuple[cst.CSTNode, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            yield current
            continue
        stack.append((current, True))
        children = [c for c in iter_children(current) if not (stop and isinstance(c, stop))]
        for child in reversed(children):
            stack.append((child, False))
