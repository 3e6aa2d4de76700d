"""`# noqa` suppression through the engine."""

from __future__ import annotations

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.suppression import parse_noqa

BAD = 'import torch\n\ndef f(p):\n    return torch.load(p){comment}\n'


def codes(comment: str) -> list[str]:
    found = lint_source("x.py", BAD.format(comment=comment), Settings())
    return [d.code for d in found]


@pytest.mark.parametrize(
    "comment",
    ["  # noqa: DLX025", "  # noqa: torch-load-without-weights-only", "  # noqa", "  # NOQA:dlx025",
     "  # noqa: DLX001, DLX025", "  # noqa: DLX001 DLX025", "  # explained  # noqa: DLX025"],
)
def test_matching_noqa_suppresses(comment):
    assert codes(comment) == []


@pytest.mark.parametrize("comment", ["", "  # noqa: DLX001", "  # noqa: missing-zero-grad", "  # no qa"])
def test_other_or_no_noqa_keeps_the_finding(comment):
    assert codes(comment) == ["DLX025"]


def test_noqa_inside_a_string_is_not_a_comment():
    source = 'import torch\n\ndef f(p):\n    return torch.load(p), "# noqa: DLX025"\n'
    assert [d.code for d in lint_source("x.py", source, Settings())] == ["DLX025"]


def test_noqa_on_another_line_does_not_suppress():
    source = 'import torch\n# noqa: DLX025\ndef f(p):\n    return torch.load(p)\n'
    assert [d.code for d in lint_source("x.py", source, Settings())] == ["DLX025"]


def test_parse_noqa_positions():
    directives = parse_noqa("x = 1  # noqa: DLX001,DLX002\ny = 2\n")
    assert set(directives) == {1}
    directive = directives[1]
    assert directive.codes == ("DLX001", "DLX002")
    assert directive.column == 8  # 1-based column of '#'
