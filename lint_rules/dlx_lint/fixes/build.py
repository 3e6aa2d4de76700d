"""From a rule's `NodeFix` to text edits: plan, locate, render, trim.

1. `plan` turns each change into primitive operations on nodes of the module: replace a
   node's code, insert statements before a statement's first line, insert statements after a
   statement's code. It resolves anchors to statements in a block, picks the module-level spot
   of an import, and parses text into nodes. Anything the file's layout cannot take raises
   `FixUnavailable`.
2. The engine computes the positions every plan needs in one code-generation pass together
   with the diagnostics' spans (`dlx_lint.positions.compute_positions`).
3. `render` generates the old and new code of each operation with libcst, in the node's own
   indentation and newline style. The old code must equal the source text of its range: that
   check guarantees the edit replaces exactly what it means to (otherwise the fix is dropped).
   Edits are trimmed to the part that changes (whole lines for statements), so a quick fix in
   an editor touches as little as possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..diagnostics import Edit
from ..positions import CodeRange, Span
from .apply import LineIndex
from .spec import AddImport, FixUnavailable, InsertAfter, InsertBefore, NodeFix, Remove, Replace

REPLACE = "replace"
# Expressions that never need parentheses around them (a call's arguments are inside its own).
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString, cst.ConcatenatedString)
BEFORE = "before"
AFTER = "after"


@dataclass
class Op:
    """One primitive operation.

    Attributes:
        kind: `REPLACE` (the node's code range), `BEFORE` (at the start of the statement's
            first line) or `AFTER` (at the end of the statement's last line, before its line
            break).
        node: the replaced node, or the statement inserted next to.
        new: nodes rendered in order (statements for insertions).
        gap: for a `BEFORE` insertion of imports before a module-level def or class: the
            blank lines rendered after the new statements (2, as PEP 8 wants before a
            top-level def); the insertion then goes above the comment lines heading the
            def, which stay with it.
    """

    kind: str
    node: cst.CSTNode
    new: list = field(default_factory=list)
    gap: int = 0


def plan(module: cst.Module, parents: dict, fix: NodeFix) -> list[Op]:
    """Primitive operations for a rule's fix.

    Args:
        module: the parsed module.
        parents: child -> parent node map of the module (the semantic model's).
        fix: the rule's proposal.

    Raises:
        FixUnavailable: a change cannot be expressed in this file's layout.
    """
    ops: list[Op] = []
    imports: dict[tuple[str, int], Op] = {}
    for change in fix.changes:
        if isinstance(change, Replace):
            ops.append(Op(REPLACE, change.node, _new_nodes(module, change.node, change.new)))
        elif isinstance(change, InsertBefore):
            statement = _anchor(parents, change.anchor, first=True)
            ops.append(Op(BEFORE, statement, [_statement(module, s) for s in change.statements]))
        elif isinstance(change, InsertAfter):
            statement = _anchor(parents, change.anchor, last=True)
            ops.append(Op(AFTER, statement, [_statement(module, s) for s in change.statements]))
        elif isinstance(change, Remove):
            statement = _anchor(parents, change.anchor, whole=True)
            block = parents.get(statement)
            alone = isinstance(block, (cst.IndentedBlock, cst.Module)) and len(block.body) == 1
            replacement = [_statement(module, "pass")] if alone and isinstance(block, cst.IndentedBlock) else []
            ops.append(Op(REPLACE, statement, replacement))
        elif isinstance(change, AddImport):
            if change.after is not None:
                kind, anchor = AFTER, _anchor(parents, change.after, last=True)
            else:
                kind, anchor = import_position(module, parents, change.before)
            key = (kind, id(anchor))
            statement = _statement(module, change.statement)
            if key in imports:
                if not any(s.deep_equals(statement) for s in imports[key].new):
                    imports[key].new.append(statement)
            else:
                op = Op(kind, anchor, [statement])
                if kind == BEFORE and isinstance(anchor, (cst.FunctionDef, cst.ClassDef)) and isinstance(parents.get(anchor), cst.Module):
                    op.gap = 2
                imports[key] = op
                ops.append(op)
        else:  # pragma: no cover - a programming error in a rule
            raise TypeError(f"unknown fix change {change!r}")
    return ops


def nodes_needed(ops: Iterable[Op]) -> tuple[list[cst.CSTNode], list[cst.CSTNode]]:
    """(nodes whose syntactic span is needed, nodes whose code range is needed)."""
    spans, ranges = [], []
    for op in ops:
        ranges.append(op.node)
        if op.kind == BEFORE:
            spans.append(op.node)
    return spans, ranges


def render(module: cst.Module, index: LineIndex, ops: list[Op], spans: dict, ranges: dict) -> tuple[Edit, ...]:
    """Text edits for planned operations, sorted by position.

    Raises:
        FixUnavailable: a node was not located, its rendering does not match the source, or
            two operations overlap.
    """
    edits: list[tuple[int, int, Edit]] = []
    for op in ops:
        code_range: CodeRange | None = ranges.get(op.node)
        if code_range is None:
            raise FixUnavailable("node not found in the module")
        if op.kind == REPLACE:
            start, end, content, whole_lines = _render_replace(module, index, op, code_range)
        elif op.kind == BEFORE:
            span = spans.get(op.node)
            if span is None:
                raise FixUnavailable("node not found in the module")
            start, end, content, whole_lines = _render_before(module, index, op, code_range, span)
        else:
            start, end, content, whole_lines = _render_after(module, index, op, code_range)
        start, end, content = trim(index.text[start:end], content, start, whole_lines)
        if start == end and not content:
            continue
        row, column = index.position(start)
        end_row, end_column = index.position(end)
        edits.append((start, end, Edit(row, column, end_row, end_column, content)))
    edits.sort(key=lambda item: (item[0], item[1]))
    for (s1, e1, _), (s2, e2, _) in zip(edits, edits[1:]):
        if s2 < e1 or (s1 == e1 == s2 == e2):
            raise FixUnavailable("the changes of this fix overlap")
    if not edits:
        raise FixUnavailable("the fix changes nothing")
    return tuple(edit for _, _, edit in edits)


# ---------------------------------------------------------------------------------- planning


def _is_statement(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement))


def statement_in_block(parents: dict, node: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost statement line or compound statement that holds `node` and sits in an
    indented block or the module body; None inside a one-line suite (``if x: a``)."""
    current = node
    while True:
        parent = parents.get(current)
        if parent is None:
            return current if _is_statement(current) else None
        if isinstance(parent, (cst.IndentedBlock, cst.Module)) and any(s is current for s in parent.body):
            return current
        if isinstance(parent, cst.SimpleStatementSuite):
            return None
        current = parent


def _small_statement_of(parents: dict, node: cst.CSTNode, line: cst.SimpleStatementLine) -> cst.CSTNode | None:
    current = node
    while current is not None:
        if any(s is current for s in line.body):
            return current
        current = parents.get(current)
    return None


def _anchor(parents: dict, node: cst.CSTNode, *, first: bool = False, last: bool = False, whole: bool = False) -> cst.CSTNode:
    statement = statement_in_block(parents, node)
    if statement is None:
        raise FixUnavailable("the statement shares its line with its block header")
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) > 1:
        # `a; b`: inserting before `b` must not also move before `a`.
        small = _small_statement_of(parents, node, statement)
        if small is None or whole or (first and small is not statement.body[0]) or (last and small is not statement.body[-1]):
            raise FixUnavailable("the statement shares its line with another")
    return statement


def _config(module: cst.Module) -> cst.PartialParserConfig:
    return module.config_for_parsing


def _statement(module: cst.Module, item) -> cst.CSTNode:
    if isinstance(item, cst.CSTNode):
        return item
    try:
        return cst.parse_statement(str(item).strip() + "\n", config=_config(module))
    except cst.ParserSyntaxError as error:  # pragma: no cover - a programming error in a rule
        raise ValueError(f"fix statement does not parse: {item!r}") from error


def _new_nodes(module: cst.Module, old: cst.CSTNode, new) -> list:
    if isinstance(new, tuple):
        return [_statement(module, item) for item in new]
    if isinstance(new, cst.CSTNode):
        nodes = [new]
    elif isinstance(old, cst.BaseExpression):
        nodes = [cst.parse_expression(new, config=_config(module))]
    elif isinstance(old, cst.BaseSmallStatement):
        line = cst.parse_statement(new.strip() + "\n", config=_config(module))
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            raise ValueError(f"not one small statement: {new!r}")
        nodes = [line.body[0]]
    else:
        nodes = [_statement(module, new)]
    node = nodes[0]
    if isinstance(old, cst.BaseExpression) and isinstance(node, cst.BaseExpression):
        # The old parentheses belong to the replaced range: keep them, so a replacement never
        # changes how the surrounding expression groups; an atom needs none.
        if old.lpar and not node.lpar and not isinstance(node, _ATOMS):
            nodes = [node.with_changes(lpar=old.lpar, rpar=old.rpar)]
    if isinstance(old, cst.BaseSmallStatement) and isinstance(node, cst.BaseSmallStatement):
        if isinstance(old.semicolon, cst.Semicolon) and not isinstance(node.semicolon, cst.Semicolon):
            nodes = [node.with_changes(semicolon=old.semicolon)]
    return nodes


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_import_line(statement: cst.CSTNode, *, future: bool) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or not statement.body:
        return False
    for small in statement.body:
        if isinstance(small, cst.ImportFrom):
            is_future = isinstance(small.module, cst.Name) and small.module.value == "__future__" and not small.relative
            if is_future != future:
                return False
        elif isinstance(small, cst.Import):
            if future:
                return False
        else:
            return False
    return True


def import_position(module: cst.Module, parents: dict, before: cst.CSTNode | None) -> tuple[str, cst.CSTNode]:
    """Where a new module-level import goes: (`AFTER` or `BEFORE`, a module-level statement).

    After the last import of the first run of imports following the docstring and the
    ``__future__`` imports; without such a run, before the first later import, or else
    before the first statement after the docstring and ``__future__`` imports. When `before`
    (the node using the name) is module-level or class-level code that would run earlier,
    right before its statement.

    Raises:
        FixUnavailable: the module has no statement to anchor to.
    """
    body = list(module.body)
    if not body:
        raise FixUnavailable("empty module")
    i = 0
    if _is_docstring(body[0]):
        i = 1
    while i < len(body) and _is_import_line(body[i], future=True):
        i += 1
    position: tuple[str, int]
    j = i
    while j < len(body) and _is_import_line(body[j], future=False):
        j += 1
    if j > i:
        position = (AFTER, j - 1)
    else:
        later = next((k for k in range(i, len(body)) if _is_import_line(body[k], future=False)), None)
        if later is not None:
            position = (BEFORE, later)
        elif i < len(body):
            position = (BEFORE, i)
        else:
            position = (AFTER, i - 1)
    if before is not None and not _inside_function(parents, before):
        top = _top_level(parents, before)
        if top is not None:
            use = next((k for k, s in enumerate(body) if s is top), None)
            insertion = position[1] + (1 if position[0] == AFTER else 0)
            if use is not None and use < insertion:
                if use < i:
                    raise FixUnavailable("the name is used before any import can go")
                position = (BEFORE, use)
    kind, where = position
    return kind, body[where]


def _inside_function(parents: dict, node: cst.CSTNode) -> bool:
    current = parents.get(node)
    while current is not None:
        if isinstance(current, (cst.FunctionDef, cst.Lambda)):
            return True
        current = parents.get(current)
    return False


def _top_level(parents: dict, node: cst.CSTNode) -> cst.CSTNode | None:
    current = node
    while current is not None:
        parent = parents.get(current)
        if isinstance(parent, cst.Module):
            return current
        current = parent
    return None


# ---------------------------------------------------------------------------------- rendering


def render_node(module: cst.Module, node: cst.CSTNode, indent: tuple[str, ...] = (), newline: str | None = None) -> str:
    """libcst's code for `node` under the given indentation tokens and newline."""
    state = CodegenState(default_indent=module.default_indent, default_newline=newline or module.default_newline)
    state.indent_tokens = list(indent)
    node._codegen(state)
    return "".join(state.tokens)


def _bounds(index: LineIndex, code_range: CodeRange) -> tuple[int, int, bool]:
    """Offsets of a code range; the flag says it ends with a newline the file lacks."""
    start = index.offset(code_range.start_row, code_range.start_col + 1)
    if code_range.end_row > len(index.starts):
        return start, len(index.text), True
    end = index.offset(code_range.end_row, code_range.end_col + 1)
    return start, end, False


def _strip_newline(text: str) -> tuple[str, str]:
    for newline in ("\r\n", "\n", "\r"):
        if text.endswith(newline):
            return text[: -len(newline)], newline
    return text, ""


def _check_old(module: cst.Module, index: LineIndex, node: cst.CSTNode, code_range: CodeRange) -> tuple[int, int, bool]:
    start, end, virtual = _bounds(index, code_range)
    old = render_node(module, node, code_range.indent)
    source = index.text[start:end]
    if virtual:
        old, newline = _strip_newline(old)
        if not newline:
            virtual = False
    if old != source:
        raise FixUnavailable("the node's code does not match the source")
    return start, end, virtual


def _local_newline(module: cst.Module, index: LineIndex, offset: int) -> str:
    row, _ = index.position(offset)
    return index.newline_of(row) or module.default_newline


def _render_replace(module: cst.Module, index: LineIndex, op: Op, code_range: CodeRange):
    start, end, virtual = _check_old(module, index, op.node, code_range)
    newline = _local_newline(module, index, start)
    content = "".join(render_node(module, node, code_range.indent, newline) for node in op.new)
    if virtual:
        content, _ = _strip_newline(content)
    return start, end, content, _is_statement(op.node)


def _render_before(module: cst.Module, index: LineIndex, op: Op, code_range: CodeRange, span: Span):
    row, column = span[0], span[1]
    line_start = index.offset(row, 1)
    if index.text[line_start:line_start + column] != "".join(code_range.indent):
        raise FixUnavailable("unexpected indentation before the statement")
    newline = index.newline_of(row) or module.default_newline
    content = "".join(render_node(module, node, code_range.indent, newline) for node in op.new)
    if op.gap:
        content += newline * op.gap
        for line in reversed(getattr(op.node, "leading_lines", ())):
            if line.comment is None or not index.line(row - 1).lstrip().startswith("#"):
                break
            row -= 1
        line_start = index.offset(row, 1)
    return line_start, line_start, content, True


def _render_after(module: cst.Module, index: LineIndex, op: Op, code_range: CodeRange):
    """Insert at the end of the statement's last line, before its line break: the new lines
    then belong to the statement's side (its notebook cell), never to what follows."""
    _, end, virtual = _check_old(module, index, op.node, code_range)
    if virtual:
        at, newline = end, module.default_newline
    else:
        row, _ = index.position(end)
        newline = index.newline_of(row - 1) or module.default_newline
        at = end - len(newline)
    content = "".join(render_node(module, node, code_range.indent, newline) for node in op.new)
    body, _ = _strip_newline(content)
    return at, at, newline + body, False


# ---------------------------------------------------------------------------------- trimming


def _line_boundary(text: str, i: int) -> bool:
    if i == 0 or i == len(text):
        return True
    previous = text[i - 1]
    return previous == "\n" or (previous == "\r" and text[i] != "\n")


def _splits_crlf(text: str, i: int) -> bool:
    return 0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n"


def trim(old: str, new: str, start: int, whole_lines: bool) -> tuple[int, int, str]:
    """The smallest edit turning `old` (at offset `start`) into `new`.

    Args:
        old: the replaced text.
        new: its replacement.
        start: offset of `old` in the file.
        whole_lines: keep the edit to whole lines (statements), so an inserted statement is
            an insertion of lines rather than a change inside a line.

    Returns:
        (start offset, end offset, content).
    """
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    if whole_lines:
        while prefix > 0 and not (_line_boundary(old, prefix) and _line_boundary(new, prefix)):
            prefix -= 1
    else:
        while prefix > 0 and (_splits_crlf(old, prefix) or _splits_crlf(new, prefix)):
            prefix -= 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    if whole_lines:
        while suffix > 0 and not (_line_boundary(old, len(old) - suffix) and _line_boundary(new, len(new) - suffix)):
            suffix -= 1
    else:
        while suffix > 0 and (_splits_crlf(old, len(old) - suffix) or _splits_crlf(new, len(new) - suffix)):
            suffix -= 1
    return start + prefix, start + len(old) - suffix, new[prefix:len(new) - suffix]
