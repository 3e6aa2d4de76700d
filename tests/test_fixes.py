"""The fix engine: rendering edits in context, the overlap policy, suppression, imports,
applicability settings, and the fix-until-stable loop with its parse check."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from dlx_lint import Settings, lint_source
from dlx_lint import engine
from dlx_lint.config import ConfigError, load_config, build_settings
from dlx_lint.diagnostics import Applicability, Edit, Severity
from dlx_lint.fixer import MAX_PASSES, fix_source, parses
from dlx_lint.fixes.apply import LineIndex, apply_edits, apply_fixes, modified_rows
from dlx_lint.fixes.build import trim
from dlx_lint.fixes.spec import AddImport, InsertAfter, InsertBefore, NodeFix, Replace
from dlx_lint.rule import Finding, Reference, Rule

ALL = Settings(select=("ALL",))


def fixed(source: str, *, unsafe: bool = True, settings: Settings = ALL) -> str:
    return fix_source("t.py", textwrap.dedent(source), settings, unsafe=unsafe).text


# ------------------------------------------------------------------------------ text layout


def test_crlf_file_keeps_crlf_in_edited_and_inserted_lines():
    source = "import torch\r\n\r\ndef f(model, loader, criterion):\r\n    opt = torch.optim.SGD(model.parameters())\r\n" \
             "    for x, y in loader:\r\n        criterion(model(x), y).backward()\r\n        opt.step()\r\n"
    result = fix_source("t.py", source, Settings(select=("DLX001",)))
    assert result.applied
    assert "        opt.zero_grad(set_to_none=True)\r\n" in result.text
    assert "\n" not in result.text.replace("\r\n", "")


def test_mixed_line_endings_are_untouched_outside_the_edit():
    source = "import torch\r\nx = torch.zeros(3)\nx.cuda()\r\ny = 1\n"
    assert fixed(source) == "import torch\r\nx = torch.zeros(3)\nx = x.cuda()\r\ny = 1\n"


def test_insertion_after_the_last_statement_of_a_file_without_final_newline():
    source = (
        "import torch\n\ndef fit(model, loader, opt, n):\n    for step, (x, y) in enumerate(loader):\n"
        "        opt.zero_grad()\n        model(x).sum().backward()\n        opt.step()\n        if step % n == 0:\n"
        "            model.eval()\n            with torch.no_grad():\n                model(x)"
    )
    result = fix_source("t.py", source, Settings(select=("DLX009",)), unsafe=True)
    assert result.text == source + "\n            model.train()"
    assert parses(result.text)


def test_replacement_keeps_parentheses_that_group_and_drops_them_around_an_atom():
    assert fixed("import torch\nx = torch.zeros(3)\nok = not (x == float('nan'))\n") == \
        "import torch\nx = torch.zeros(3)\nok = not torch.isnan(x)\n"
    source = "import torch\ndef f(p):\n    return -(1 - p).log()\n"
    assert fixed(source) == "import torch\ndef f(p):\n    return -(1 - p).clamp_min(torch.finfo((1 - p).dtype).eps).log()\n"


def test_edits_are_minimal():
    (diagnostic,) = lint_source("t.py", "import torch\ny = torch.load('p')\n", Settings(select=("DLX025",)))
    assert diagnostic.fix.edits == (Edit(2, 19, 2, 19, ", weights_only=True"),)


@pytest.mark.parametrize(
    "old,new,whole,expected",
    [
        ("abc", "abXc", False, (2, 2, "X")),
        ("    a\n    b\n", "    a\n    x\n    b\n", True, (6, 6, "    x\n")),
        ("    a\r\n", "    a\r\n    b\r\n", True, (7, 7, "    b\r\n")),
        ("a\r\nb", "a\nb", False, (1, 3, "\n")),
    ],
)
def test_trim(old, new, whole, expected):
    start, end, content = trim(old, new, 0, whole)
    assert (start, end, content) == expected
    assert old[:start] + content + old[end:] == new


def test_line_index_positions_and_clamping():
    index = LineIndex("ab\r\ncd\re\n")
    assert index.offset(2, 1) == 4 and index.offset(3, 2) == 8 and index.offset(9, 1) == 9
    assert index.position(5) == (2, 2)
    assert index.newline_of(1) == "\r\n" and index.newline_of(2) == "\r" and index.newline_of(4) is None


def test_modified_rows():
    index = LineIndex("a\nb\nc\n")
    assert list(modified_rows(index, Edit(2, 1, 2, 1, "x\n"))) == []  # lines inserted
    assert list(modified_rows(index, Edit(1, 2, 1, 2, "\nx"))) == []  # after a line's end
    assert list(modified_rows(index, Edit(1, 1, 3, 1, ""))) == [1, 2]  # two whole lines removed
    assert list(modified_rows(index, Edit(2, 1, 2, 2, "y"))) == [2]


# ------------------------------------------------------------------------------ overlap policy


def test_overlapping_fixes_wait_for_the_next_pass():
    from dlx_lint.diagnostics import Fix

    first = Fix(Applicability.SAFE, "a", (Edit(1, 1, 1, 2, "X"),))
    second = Fix(Applicability.SAFE, "b", (Edit(1, 1, 1, 3, "Y"),))
    third = Fix(Applicability.SAFE, "c", (Edit(1, 3, 1, 3, "Z"),))
    text, applied = apply_fixes("abc", [second, first, third])
    # Sorted by position: `second` (starting at 1, ending at 3) comes after `first`; the
    # insertion at 3 only touches `first`'s end-free range and applies.
    assert applied == [1, 2] and text == "XbZc"


def test_identical_edits_of_two_fixes_apply_once():
    from dlx_lint.diagnostics import Fix

    import_edit = Edit(1, 1, 1, 1, "import math\n")
    a = Fix(Applicability.SAFE, "a", (import_edit, Edit(2, 1, 2, 2, "A")))
    b = Fix(Applicability.SAFE, "b", (import_edit, Edit(2, 3, 2, 4, "B")))
    text, applied = apply_fixes("x\nabc\n", [a, b])
    assert applied == [0, 1] and text == "import math\nx\nAbB\n"


def test_two_insertions_at_one_point_conflict():
    from dlx_lint.diagnostics import Fix

    a = Fix(Applicability.SAFE, "a", (Edit(1, 1, 1, 1, "a\n"),))
    b = Fix(Applicability.SAFE, "b", (Edit(1, 1, 1, 1, "b\n"),))
    assert apply_fixes("x\n", [a, b]) == ("a\nx\n", [0])


def test_apply_edits_rejects_overlap():
    with pytest.raises(ValueError):
        apply_edits("abc", [Edit(1, 1, 1, 3, ""), Edit(1, 2, 1, 2, "x")])


def test_two_optimizers_cleared_at_the_same_place_over_two_passes():
    source = """
    import torch

    def train(gen, disc, loader, loss_fn):
        opt_g = torch.optim.Adam(gen.parameters())
        opt_d = torch.optim.Adam(disc.parameters())
        for real in loader:
            loss_fn(disc(real)).backward()
            opt_d.step()
            loss_fn(disc(gen(real))).backward()
            opt_g.step()
    """
    result = fix_source("t.py", textwrap.dedent(source), Settings(select=("DLX001",)))
    assert [a.code for a in result.applied] == ["DLX001", "DLX001"]
    assert result.passes >= 2
    assert "opt_d.zero_grad(set_to_none=True)" in result.text and "opt_g.zero_grad(set_to_none=True)" in result.text
    assert not result.remaining


# ------------------------------------------------------------------------------ suppression


def test_a_suppressed_finding_is_not_fixed():
    source = "import torch\nx = torch.zeros(3)\nx.cuda()  # noqa: DLX020\n"
    result = fix_source("t.py", source, ALL, unsafe=True)
    assert result.text == source and not result.applied


def test_a_fix_that_would_rewrite_a_line_suppressed_for_its_rule_is_dropped():
    source = """
    import torch

    def run(net, loader, val_loader, opt):
        for x, y in loader:
            opt.zero_grad()
            net(x).sum().backward()
            opt.step()
        net.eval()
        for x, y in val_loader:
            print(net(x).sum())
            print(net(y).sum())  # noqa: DLX010
    """
    source = textwrap.dedent(source)
    (diagnostic,) = lint_source("t.py", source, Settings(select=("DLX010",)))
    # Wrapping the loop in `with torch.no_grad():` re-indents the suppressed line.
    assert diagnostic.fix is None
    assert fix_source("t.py", source, Settings(select=("DLX010",)), unsafe=True).text == source


def test_a_noqa_for_another_rule_does_not_block_a_fix():
    source = "import torch\nx = torch.zeros(3)\nx.cuda()  # noqa: DLX025\n"
    assert "x = x.cuda()  # noqa: DLX025" in fixed(source)


# ------------------------------------------------------------------------------ applicability


def test_unsafe_fixes_need_the_flag_and_display_only_fixes_are_never_applied():
    source = "import torch\nimport torch.nn.functional as F\n\ndef f(s):\n    p = F.softmax(s, dim=-1)\n    return torch.load('x'), torch.log(p)\n"
    safe_only = fix_source("t.py", source, ALL)
    assert safe_only.text == source
    unsafe = fix_source("t.py", source, ALL, unsafe=True)
    assert "weights_only=True" in unsafe.text
    assert "torch.log(p)" in unsafe.text  # DLX013 through a variable: display-only
    (log_of_softmax,) = [d for d in unsafe.remaining if d.code == "DLX013"]
    assert log_of_softmax.fix.applicability is Applicability.DISPLAY_ONLY


def test_extend_safe_and_unsafe_fixes_move_rules_between_the_classes():
    source = "import torch\nx = torch.zeros(3)\nx.cuda()\ny = torch.load('p')\n"
    settings = Settings(select=("ALL",), extend_safe_fixes=("DLX025",), extend_unsafe_fixes=("to-result-discarded",))
    by_code = {d.code: d.fix.applicability for d in lint_source("t.py", source, settings)}
    assert by_code == {"DLX020": Applicability.UNSAFE, "DLX025": Applicability.SAFE}
    assert fix_source("t.py", source, settings).text == "import torch\nx = torch.zeros(3)\nx.cuda()\ny = torch.load('p', weights_only=True)\n"
    both = Settings(select=("ALL",), extend_safe_fixes=("DLX025",), extend_unsafe_fixes=("DLX0",))
    assert {d.fix.applicability for d in lint_source("t.py", source, both)} == {Applicability.UNSAFE}


def test_fix_lists_are_read_from_pyproject(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.dlx-lint]\nextend-safe-fixes = ["DLX025"]\nextend-unsafe-fixes = ["to-result-discarded"]\n')
    settings = build_settings(load_config(str(path)))
    assert settings.extend_safe_fixes == ("DLX025",) and settings.extend_unsafe_fixes == ("to-result-discarded",)
    path.write_text('[tool.dlx-lint]\nextend-safe-fixes = ["DLX777"]\n')
    with pytest.raises(ConfigError, match="extend-safe-fixes"):
        load_config(str(path))


# ------------------------------------------------------------------------------ imports


@pytest.mark.parametrize(
    "header,expected",
    [
        ('"""Doc."""\nfrom __future__ import annotations\nimport torch\n', '"""Doc."""\nfrom __future__ import annotations\nimport torch\nimport math\n'),
        ('import torch\nimport os\n\nX = 1\n', 'import torch\nimport os\nimport math\n\nX = 1\n'),
        ('"""Doc."""\nX = 1\nimport torch\n', '"""Doc."""\nX = 1\nimport math\nimport torch\n'),
    ],
)
def test_an_import_goes_with_the_other_imports(header, expected):
    body = "\ndef f(loss):\n    v = loss.item()\n    return v == float('nan')\n"
    assert fixed(header + body) == expected + body.replace("v == float('nan')", "math.isnan(v)")


def test_an_import_comes_before_module_level_code_that_needs_it():
    source = "X = 1\nimport torch\nv = torch.ones(1).sum().item()\nprint(v == float('nan'))\n"
    assert fixed(source) == "X = 1\nimport math\nimport torch\nv = torch.ones(1).sum().item()\nprint(math.isnan(v))\n"


def test_two_fixes_needing_one_import_add_it_once():
    source = "import torch\n\ndef f(a, b):\n    x = a.item()\n    y = b.item()\n    return x == float('nan'), y != float('nan')\n"
    text = fixed(source)
    assert text.count("import math") == 1
    assert "return math.isnan(x), not math.isnan(y)" in text


def test_no_import_is_added_over_a_local_of_the_same_name():
    source = "import torch\n\ndef f(a, math):\n    x = a.item()\n    return x == float('nan')\n"
    assert fixed(source) == source


@pytest.mark.parametrize(
    "imports,spelled",
    [
        ("import torch\nimport torch.nn.functional as F\n", "F.log_softmax"),
        ("import torch\nfrom torch import nn\n", "nn.functional.log_softmax"),
        ("import torch\nfrom torch.nn.functional import softmax\n", "torch.nn.functional.log_softmax"),
        ("import torch as T\nfrom torch.nn.functional import softmax\n", "T.nn.functional.log_softmax"),
    ],
)
def test_a_name_is_spelled_with_the_files_own_imports(imports, spelled):
    softmax = {"F.log_softmax": "F.softmax", "nn.functional.log_softmax": "nn.functional.softmax"}.get(spelled, "softmax")
    source = f"{imports}\ndef f(s):\n    return T.log({softmax}(s, dim=-1))\n" if "as T" in imports else \
        f"{imports}\ndef f(s):\n    return torch.log({softmax}(s, dim=-1))\n"
    assert f"return {spelled}(s, dim=-1)" in fixed(source)


# ------------------------------------------------------------------------------ the loop


class _BrokenFixRule(Rule):
    """A rule whose fix turns the target of `x = 1` into a literal (a bug to be caught)."""

    code = "DLX998"
    name = "test-broken-fix"
    severity = Severity.WARNING
    requires = ("x = 1",)
    summary = what = why = example = use_instead = "test"
    references = (Reference("t", "https://example.com"),)

    def check(self, model):
        for assign in model.assigns:
            target = assign.targets[0].target
            if isinstance(target, cst.Name) and target.value == "x":
                yield Finding(target, "test", fix=NodeFix("break it", (Replace(target, cst.Integer("1")),)))


class _ImportingRule(Rule):
    code = "DLX997"
    name = "test-importing"
    severity = Severity.WARNING
    requires = ("y = 2",)
    summary = what = why = example = use_instead = "test"
    references = (Reference("t", "https://example.com"),)

    def check(self, model):
        if "w = 3" in model.source:
            return
        for assign in model.assigns:
            target = assign.targets[0].target
            if isinstance(target, cst.Name) and target.value == "y":
                yield Finding(assign, "test", fix=NodeFix("add", (
                    InsertBefore(assign, ("z = 0",)), InsertAfter(assign, ("w = 3",)), AddImport("import math"),
                )))


def test_a_fix_whose_result_does_not_compile_is_dropped_and_reported(monkeypatch):
    monkeypatch.setattr(engine, "applicable_rules", lambda source, enabled: [_BrokenFixRule()])
    source = "x = 1\nprint(x)\n"
    result = fix_source("t.py", source, Settings(select=("ALL",)))
    assert result.text == source and not result.applied
    (error,) = result.errors
    assert error.code == "DLX999" and "DLX998" in error.message and (error.row, error.column) == (1, 1)


def test_a_broken_fix_does_not_hold_back_the_others(monkeypatch):
    from dlx_lint.registry import rules_by_code

    rules = [_BrokenFixRule(), rules_by_code()["DLX020"]]
    monkeypatch.setattr(engine, "applicable_rules", lambda source, enabled: rules)
    source = "import torch\nx = 1\ny = torch.zeros(3)\ny.cuda()\n"
    result = fix_source("t.py", source, Settings(select=("ALL",)))
    assert result.text == "import torch\nx = 1\ny = torch.zeros(3)\ny = y.cuda()\n"
    assert [a.code for a in result.applied] == ["DLX020"]
    assert [e.code for e in result.errors] == ["DLX999"]
    assert [d.code for d in result.remaining] == ["DLX998"]


def test_several_changes_of_one_fix_apply_together(monkeypatch):
    monkeypatch.setattr(engine, "applicable_rules", lambda source, enabled: [_ImportingRule()])
    result = fix_source("t.py", '"""Doc."""\nif True:\n    y = 2\n', Settings(select=("ALL",)))
    assert result.text == '"""Doc."""\nimport math\nif True:\n    z = 0\n    y = 2\n    w = 3\n'
    assert [a.code for a in result.applied] == ["DLX997"] and result.passes == 2


class _RepeatingRule(_ImportingRule):
    code = "DLX996"
    name = "test-repeating"

    def check(self, model):
        for assign in model.assigns:
            if isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == "y":
                yield Finding(assign, "test", fix=NodeFix("grow", (InsertAfter(assign, ("w = 3",)),)))


def test_the_loop_is_bounded(monkeypatch):
    monkeypatch.setattr(engine, "applicable_rules", lambda source, enabled: [_RepeatingRule()])
    result = fix_source("t.py", "y = 2\n", Settings(select=("ALL",)))
    assert result.passes == MAX_PASSES and len(result.applied) == MAX_PASSES


def test_fixing_is_idempotent_on_the_cases_it_fixed():
    source = "import torch\nx = torch.zeros(3)\nx.cuda()\nprint(x == float('nan'))\n"
    once = fix_source("t.py", source, ALL, unsafe=True)
    twice = fix_source("t.py", once.text, ALL, unsafe=True)
    assert once.applied and twice.text == once.text and not twice.applied
    assert once.remaining == twice.remaining
