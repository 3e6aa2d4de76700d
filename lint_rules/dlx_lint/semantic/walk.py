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

# type -> whether instances are code-bearing CSTNodes. `isinstance` against libcst's abstract
# base classes goes through ABCMeta and dominated the walk; a per-type cache does not.
_IS_CODE_NODE: dict[type, bool] = {}


def is_code_node_type(value_type: type) -> bool:
    """Whether values of this type are code-bearing libcst nodes."""
    known = _IS_CODE_NODE.get(value_type)
    if known is None:
        known = issubclass(value_type, _CSTNode) and not issubclass(value_type, _FORMATTING)
        _IS_CODE_NODE[value_type] = known
    return known


def children_list(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Direct code-bearing children of `node`, in source order."""
    result = []
    is_code = _IS_CODE_NODE
    for name in code_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for item in value:
                item_type = type(item)
                flag = is_code.get(item_type)
                if flag is None:
                    flag = is_code_node_type(item_type)
                if flag:
                    result.append(item)
        else:
            flag = is_code.get(value_type)
            if flag is None:
                flag = is_code_node_type(value_type)
            if flag:
                result.append(value)
    return result


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct code-bearing children of `node`, in source order."""
    return iter(children_list(node))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """All code-bearing nodes under `node` (itself included), pre-order."""
    stack = [node]
    pop = stack.pop
    push = stack.append
    while stack:
        current = pop()
        yield current
        children = children_list(current)
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
        children = [c for c in children_list(current) if not (stop and isinstance(c, stop))]
        for child in reversed(children):
            stack.append((child, False))
