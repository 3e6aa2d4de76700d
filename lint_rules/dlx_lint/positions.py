"""Source positions of a few chosen nodes, computed only when a file has findings.

libcst's `PositionProvider` records a range for every node through a generator-based context
manager; on the 1-in-10 corpus sample it costs about 0.7x the parse itself. A diagnostic needs
the positions of a handful of nodes, so this module runs libcst's code generator once with a
state that records only the nodes asked for (plus the child nodes libcst hoists their
positions from). The result matches `PositionProvider` (syntactic ranges, whitespace excluded).

Fixes need a second kind of position, the *code range* of a node: everything its code
generator emits (parentheses, owned whitespace and comments, a statement's leading lines and
trailing newline), plus the indentation in force when it starts. Rendering the node again with
that indentation reproduces exactly the source text of the range, which is what lets a fix
replace a node by new code without disturbing anything around it (`compute_positions`).
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

_NULL = nullcontext()
_NEWLINE = re.compile(r"\r\n?|\n")

# (start_row, start_col, end_row, end_col): rows 1-based, columns 0-based code points.
Span = tuple[int, int, int, int]


class _Recorder:
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: "_TrackingState", node, start_node, end_node) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc) -> None:
        state = self.state
        start = self.start
        end = (state.line, state.column)
        if self.start_node is not None:
            span = state.spans.get(self.start_node)
            if span is not None:
                start = (span[0], span[1])
        if self.end_node is not None:
            span = state.spans.get(self.end_node)
            if span is not None:
                end = (span[2], span[3])
        state.spans[self.node] = (start[0], start[1], end[0], end[1])


@dataclass(frozen=True)
class CodeRange:
    """Everything a node's code generator emits, and the indentation it starts under.

    Attributes:
        start_row, start_col, end_row, end_col: rows 1-based, columns 0-based code points, end
            exclusive. At the end of a file without a final newline, the range of the last
            statement ends one row past the text (libcst's code generator emits that newline
            before the module removes it).
        indent: the indentation tokens in force (one per enclosing block) when the node starts.
    """

    start_row: int
    start_col: int
    end_row: int
    end_col: int
    indent: tuple[str, ...]


class _TrackingState(CodegenState):
    """A code-generation state that tracks line/column and records only wanted nodes."""

    def __init__(self, module: cst.Module, wanted: set, ranged: set | None = None) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.wanted = wanted
        self.spans: dict = {}
        self.inclusive_starts: dict = {}
        self.ranged = ranged or set()
        self.range_starts: dict = {}
        self.ranges: dict = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        # Keeping the tokens would double the memory; only positions matter here.
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node) -> None:
        if node in self.wanted:
            self.inclusive_starts[node] = (self.line, self.column)
        if node in self.ranged:
            self.range_starts[node] = (self.line, self.column, tuple(self.indent_tokens))

    def after_codegen(self, node) -> None:
        if node in self.wanted and node not in self.spans:
            start = self.inclusive_starts.get(node, (self.line, self.column))
            self.spans[node] = (start[0], start[1], self.line, self.column)
        if node in self.ranged and node not in self.ranges:
            row, col, indent = self.range_starts[node]
            self.ranges[node] = CodeRange(row, col, self.line, self.column, indent)

    def record_syntactic_position(
        self,
        node,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ):
        if node not in self.wanted:
            return _NULL
        if start_node is not None:
            self.wanted.add(start_node)
        if end_node is not None:
            self.wanted.add(end_node)
        return _Recorder(self, node, start_node, end_node)

    def pop_trailing_newline(self) -> None:
        pass


def compute_spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, Span]:
    """Syntactic spans of `nodes` inside `module`.

    Args:
        module: the parsed module the nodes belong to.
        nodes: nodes of that module (identity matters, not equality).

    Returns:
        node -> (start_row, start_col, end_row, end_col), rows 1-based, columns 0-based in
        code points, end exclusive. Nodes not found in the module are absent.
    """
    wanted = set(nodes)
    if not wanted:
        return {}
    asked = set(wanted)
    state = _TrackingState(module, wanted)
    _generate_until_found(module, state, asked, set())
    return {node: span for node, span in state.spans.items() if node in asked}


def compute_positions(
    module: cst.Module, span_nodes: Iterable[cst.CSTNode], range_nodes: Iterable[cst.CSTNode],
    parents: Mapping[cst.CSTNode, cst.CSTNode] | None = None,
) -> tuple[dict[cst.CSTNode, Span], dict[cst.CSTNode, CodeRange]]:
    """Syntactic spans of `span_nodes` and code ranges of `range_nodes`, in one pass.

    Args:
        module: the parsed module the nodes belong to.
        span_nodes: nodes whose syntactic span is wanted (as `compute_spans`).
        range_nodes: nodes whose `CodeRange` is wanted (for fixes).
        parents: child -> parent for the module's code nodes (the semantic model's
            ``parent``). With it, and when `module` is the one `dlx_lint.parsing.parse_module`
            parsed last on this thread, code is generated only for the top-level statements
            holding the nodes, each started at its known row.

    Returns:
        (spans, ranges); nodes not found in the module are absent from both.
    """
    wanted = set(span_nodes)
    ranged = set(range_nodes)
    if not wanted and not ranged:
        return {}, {}
    asked = set(wanted)
    state = _TrackingState(module, wanted, ranged)
    if parents is None or not _generate_statements(module, state, asked | ranged, parents):
        _generate_until_found(module, state, asked, set(ranged))
    spans = {node: span for node, span in state.spans.items() if node in asked}
    return spans, state.ranges


def _generate_statements(module: cst.Module, state: _TrackingState, nodes: set,
                         parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    """Generate only the top-level statements that hold `nodes`, each from the row CPython
    gave it (top-level statements start at column 0 with no indentation in force). False, with
    nothing generated, when the rows or a node's statement are not known."""
    from .parsing import statement_lines

    rows = statement_lines(module)
    if rows is None:
        return False
    needed = set()
    for node in nodes:
        while True:
            parent = parents.get(node)
            if parent is None:
                return False
            if parent is module:
                break
            node = parent
        needed.add(node)
    for row, statement in zip(rows, module.body):
        if statement in needed:
            state.line = row
            state.column = 0
            statement._codegen(state)
    return True


def _generate_until_found(module: cst.Module, state: _TrackingState, spans: set, ranges: set) -> None:
    """Run the module's code generator statement by statement (as `Module._codegen_impl`
    does) and stop after the statement that completes every wanted span and range: positions
    only depend on what comes before, and the code generator is most of the cost (findings in
    the first half of a file halve it). The module node itself is never a wanted node."""
    if module in spans or module in ranges:
        module._codegen(state)
        return
    for line in module.header:
        line._codegen(state)
    for statement in module.body:
        statement._codegen(state)
        if spans <= state.spans.keys() and ranges <= state.ranges.keys():
            return
    for line in module.footer:
        line._codegen(state)
