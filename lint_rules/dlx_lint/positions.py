"""Source positions of a few chosen nodes, computed only when a file has findings.

libcst's `PositionProvider` records a range for every node through a generator-based context
manager; on the 1-in-10 corpus sample it costs about 0.7x the parse itself. A diagnostic needs
the positions of a handful of nodes, so this module runs libcst's code generator once with a
state that records only the nodes asked for (plus the child nodes libcst hoists their
positions from). The result matches `PositionProvider` (syntactic ranges, whitespace excluded).
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Iterable, Optional

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


class _TrackingState(CodegenState):
    """A code-generation state that tracks line/column and records only wanted nodes."""

    def __init__(self, module: cst.Module, wanted: set) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.wanted = wanted
        self.spans: dict = {}
        self.inclusive_starts: dict = {}

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

    def after_codegen(self, node) -> None:
        if node in self.wanted and node not in self.spans:
            start = self.inclusive_starts.get(node, (self.line, self.column))
            self.spans[node] = (start[0], start[1], self.line, self.column)

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
    module._codegen(state)
    return {node: span for node, span in state.spans.items() if node in asked}
