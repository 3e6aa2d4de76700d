"""The incremental parse cache: after any edit, the spliced module reproduces the text exactly
and the diagnostics equal a full `lint_source` run."""

from __future__ import annotations

import random

import libcst as cst
import pytest

from dlx_lint.engine import lint_source
from dlx_lint.incremental import IncrementalLinter, layout_of, splice
from dlx_lint.settings import Settings

from .conftest import CASES, REPO

ALL = Settings(select=("ALL",))

CLASSY = '''"""Module docstring."""
import torch
from torch import nn

# a comment before the class


class Net(nn.Module):
    """Doc
    with a second line
    """

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    # comment before forward
    def forward(self, x):
        text = """
not indented inside a string
        """
        return self.fc(x)


def train(model, loader, optimizer):
    for xb, yb in loader:
        loss = model(xb).sum()
        loss.backward()
        optimizer.step()


state = torch.load("ckpt.pt")
# trailing comment
'''


def sources() -> list[tuple[str, str]]:
    files = [("classy", CLASSY), ("example", (REPO / "examples" / "train_bad.py").read_text())]
    for name in ("125_tabular_regressor_zero_grad_once_per_epoch.py", "135_two_moons_evaluate_in_train_mode_with_grad.py", "148_ppo_trainer_resume_torch_load.py"):
        files.append((name, (CASES / name).read_text()))
    return files


def random_edit(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    kind = rng.choice(["char", "delete", "line", "dup", "drop", "typing"])
    position = rng.randrange(len(text) + 1)
    if kind == "char":
        return text[:position] + rng.choice(["x", " ", "(", "\n", "#", "1", "é", "🔒"]) + text[position:]
    if kind == "delete":
        return text[:position] + text[position + rng.randint(1, 5):]
    row = rng.randrange(len(lines))
    if kind == "line":
        indent = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
        lines.insert(row, indent + "y = torch.load(p)\n")
    elif kind == "dup":
        lines.insert(row, lines[row])
    elif kind == "drop":
        del lines[row]
    else:  # append to the end of a line, as typing does
        line = lines[row]
        body = line.rstrip("\r\n")
        lines[row] = body + "  # typed" + line[len(body):]
    return "".join(lines)


@pytest.mark.parametrize("name, text", sources(), ids=[name for name, _ in sources()])
def test_random_edits_match_a_full_parse_and_lint(name, text):
    rng = random.Random(name)
    linter = IncrementalLinter()
    modes = set()
    current = text
    for step in range(80):
        # Edits that keep the text valid are adopted; a broken one is linted once (DLX900)
        # and the next edit starts again from the last valid text, as after an undo.
        candidate = random_edit(current, rng)
        try:
            cst.parse_module(candidate)
            parses = True
        except cst.ParserSyntaxError:
            parses = False
        if not parses and rng.random() < 0.8:
            continue
        expected = lint_source("f.py", candidate, ALL)
        assert linter.lint("f.py", candidate, ALL) == expected, f"step {step}"
        modes.add(linter.last_mode)
        if parses:
            current = candidate
            if linter.layout is not None:
                assert linter.layout.module.code == current, f"step {step}: spliced module differs from the text"
    assert "incremental" in modes


def test_edit_inside_a_method_is_spliced_in_the_class():
    layout = layout_of(CLASSY, cst.parse_module(CLASSY))
    edited = CLASSY.replace("return self.fc(x)", "return torch.softmax(self.fc(x), dim=1)")
    spliced = splice(layout, edited)
    assert spliced is not None and spliced.module.code == edited
    old_class = layout.module.body[3]
    new_class = spliced.module.body[3]
    assert isinstance(new_class, cst.ClassDef) and new_class is not old_class
    # Only forward was reparsed: the docstring and __init__ are the very same nodes.
    assert new_class.body.body[0] is old_class.body.body[0]
    assert new_class.body.body[1] is old_class.body.body[1]
    assert new_class.body.body[2] is not old_class.body.body[2]
    # The untouched top-level statements are shared too.
    assert spliced.module.body[4] is layout.module.body[4]


def test_unusual_texts_fall_back_to_a_full_parse():
    no_final_newline = "import torch\nx = torch.load(p)"
    assert layout_of(no_final_newline, cst.parse_module(no_final_newline)) is None
    with_header = "# header comment\n" + CLASSY
    layout = layout_of(with_header, cst.parse_module(with_header))
    assert splice(layout, "# edited header comment\n" + CLASSY) is None  # the module header changed
    assert splice(layout, CLASSY.replace("def train(model", "def train(model,,")) is None  # does not parse


def test_syntax_error_then_recovery():
    linter = IncrementalLinter()
    assert linter.lint("f.py", CLASSY, ALL) == lint_source("f.py", CLASSY, ALL)
    broken = CLASSY.replace("loss.backward()", "loss.backward(")
    assert [d.code for d in linter.lint("f.py", broken, ALL)] == ["DLX900"]
    assert linter.lint("f.py", CLASSY, ALL) == lint_source("f.py", CLASSY, ALL)
    assert linter.last_mode == "full"
