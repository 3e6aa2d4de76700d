"""`dlx_lint.positions` against libcst's own PositionProvider, including the early stop: a
node near the top of a file is positioned without generating the rest of the file."""

from __future__ import annotations

import ast

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dlx_lint.positions import compute_positions, compute_spans

from .conftest import CASES

CASE_FILES = sorted(CASES.glob("*.py"))


def _reference(module: cst.Module) -> tuple[cst.Module, dict]:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    return wrapper.module, {
        node: (r.start.line, r.start.column, r.end.line, r.end.column)
        for node, r in positions.items()
        if isinstance(node, (cst.Call, cst.Name, cst.Attribute, cst.SimpleStatementLine))
    }


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.name for p in CASE_FILES])
def test_spans_match_position_provider_one_node_at_a_time_and_all_at_once(path):
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError:
        pytest.skip("the case does not parse on purpose")
    module, expected = _reference(module)
    assert compute_spans(module, expected) == expected
    ordered = list(expected)
    for node in ordered[:3] + ordered[len(ordered) // 2: len(ordered) // 2 + 3]:
        assert compute_spans(module, [node]) == {node: expected[node]}


def test_a_range_near_the_top_is_the_same_with_or_without_later_nodes():
    source = "import torch\n\nx = torch.zeros(3)\nx.cuda()\n\n\ndef f():\n    return torch.load('p')\n"
    module = cst.parse_module(source)
    first = module.body[1]
    last_call = module.body[-1].body.body[0].body[0].value
    alone_spans, alone_ranges = compute_positions(module, [first], [first])
    both_spans, both_ranges = compute_positions(module, [first, last_call], [first, last_call])
    assert alone_spans[first] == both_spans[first] == (3, 0, 3, 18)
    assert alone_ranges[first] == both_ranges[first]
    assert both_spans[last_call] == (8, 11, 8, 26)


def test_a_node_of_another_module_is_absent():
    module = cst.parse_module("x = 1\n")
    stranger = cst.parse_module("y = 2\n").body[0]
    assert compute_positions(module, [stranger], [stranger]) == ({}, {})


def _parents(module: cst.Module) -> dict:
    from dlx_lint.semantic.walk import walk, children_list

    parents = {}
    for node in walk(module):
        for child in children_list(node):
            parents[child] = node
    return parents


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.name for p in CASE_FILES])
def test_statement_rows_from_cpython_give_the_same_spans_and_ranges(path):
    from dlx_lint.parsing import parse_module, statement_lines

    try:
        module = parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError:
        pytest.skip("the case does not parse on purpose")
    try:
        compile(module.code, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError:
        assert statement_lines(module) is None  # newer syntax than this Python: no rows
        return
    assert statement_lines(module) is not None  # the shortcut is really taken
    reference_module, expected = _reference(module)
    assert reference_module is module
    parents = _parents(module)
    nodes = [node for node in expected if node in parents]
    spans, ranges = compute_positions(module, nodes, nodes, parents)
    assert spans == {node: expected[node] for node in nodes}
    _, full_ranges = compute_positions(module, nodes, nodes)
    assert ranges == full_ranges


def test_statement_rows_count_semicolons_decorators_and_leading_comments():
    from dlx_lint.parsing import parse_module, statement_lines

    source = (
        "# header\n\nimport torch; import os\n\n# about f\n@torch.no_grad()\n@staticmethod\n"
        "def f():\n    pass\n\n\nclass A:\n    x = 1\nx = torch.zeros(3); x.cuda()\n"
    )
    module = parse_module(source)
    # Each start includes the statement's leading comment and blank lines.
    assert statement_lines(module) == (3, 4, 10, 14)
    assert statement_lines(cst.parse_module(source)) is None  # not parsed through dlx_lint
