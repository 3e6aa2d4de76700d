"""Unit tests of the server's pure parts: column conversion, diagnostic conversion (with a
hand-made fix), quick fixes, fix-all, hover lookup, editor settings."""

from __future__ import annotations

import logging

import pytest
from lsprotocol import types

from dlx_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, rule_url
from dlx_lint_server import code_actions, convert, hover
from dlx_lint_server.documents import PublishedFile
from dlx_lint_server.linting import split_lines
from dlx_lint_server.settings import FILESYSTEM_FIRST, SettingsStore, parse_editor_settings

EMOJI_LINE = 'x = "🔒 模型"; y = torch.load(p)\n'


def diagnostic(code="DLX025", row=1, column=1, end_row=1, end_column=2, fix=None, severity=Severity.WARNING, noqa_row=1):
    return Diagnostic(code=code, name="torch-load-without-weights-only", message="m", severity=severity,
                      filename="f.py", row=row, column=column, end_row=end_row, end_column=end_column,
                      noqa_row=noqa_row, fix=fix, url=rule_url(code, "torch-load-without-weights-only"))


@pytest.mark.parametrize("encoding, expected", [("utf-16", 13), ("utf-8", 19), ("utf-32", 12)])
def test_client_column_counts_units_of_the_encoding(encoding, expected):
    column = EMOJI_LINE.index("y =")
    assert column == 12
    assert convert.client_column(EMOJI_LINE, column, encoding) == expected
    assert convert.code_point_column(EMOJI_LINE, expected, encoding) == column


def test_column_inside_a_surrogate_pair_maps_to_the_character_start():
    # The emoji occupies UTF-16 units 5 and 6; unit 6 is its second half.
    assert convert.code_point_column(EMOJI_LINE, 6) == 5
    assert convert.code_point_column(EMOJI_LINE, 999) == len(EMOJI_LINE) - 1


def test_position_past_the_last_line_is_clamped():
    lines = split_lines("a = 1\nb = 'é'")
    assert convert.to_position(lines, 5, 1) == types.Position(line=1, character=7)


def test_split_lines_follows_lsp_line_breaks_only():
    assert split_lines("a\r\nb\rc\x0cd\u2028e\nf") == ["a\r\n", "b\r", "c\x0cd\u2028e\n", "f"]


def test_lsp_diagnostic_fields_and_fix_data_in_utf16():
    # `torch.load(p)` spans code points 16..29 (1-based columns 17..30); the emoji before it
    # is two UTF-16 units, so the LSP range is 17..30 and the insertion before `)` is at 29.
    fix = Fix(Applicability.SAFE, "Pass `weights_only=True`", (Edit(1, 29, 1, 29, ", weights_only=True"),))
    d = diagnostic(column=17, end_column=30, fix=fix)
    lsp = convert.to_lsp_diagnostic(d, split_lines(EMOJI_LINE), version=3, severity_overrides={})
    assert lsp.range == types.Range(start=types.Position(line=0, character=17), end=types.Position(line=0, character=30))
    assert (lsp.code, lsp.source, lsp.severity) == ("DLX025", "dlx-lint", types.DiagnosticSeverity.Warning)
    assert lsp.code_description.href == d.url
    assert lsp.tags is None
    assert lsp.data["version"] == 3 and lsp.data["noqaLine"] == 0
    assert lsp.data["fix"] == {
        "message": "Pass `weights_only=True`",
        "applicability": "safe",
        "edits": [{"range": {"start": {"line": 0, "character": 29}, "end": {"line": 0, "character": 29}}, "newText": ", weights_only=True"}],
    }


def test_deprecated_tag_info_severity_and_hint_override():
    info = convert.to_lsp_diagnostic(diagnostic(code="DLX301", severity=Severity.INFO), ["x\n"], version=1)
    assert info.tags == [types.DiagnosticTag.Deprecated]
    assert info.severity == types.DiagnosticSeverity.Information
    hinted = convert.to_lsp_diagnostic(diagnostic(), ["x\n"], version=1, severity_overrides={"DLX025": "hint"})
    assert hinted.severity == types.DiagnosticSeverity.Hint


def _context(text, **kwargs):
    return code_actions.ActionContext(uri="file:///f.py", version=1, lines=split_lines(text), **kwargs)


def _published(text, diagnostics):
    lines = split_lines(text)
    lsp = [convert.to_lsp_diagnostic(d, lines, version=1) for d in diagnostics]
    return PublishedFile("file:///f.py", 1, lines, diagnostics, lsp)


def test_quick_fixes_from_data_safe_preferred_unsafe_labelled():
    text = "y = torch.load(p)\n"
    safe = diagnostic(column=5, end_column=18, fix=Fix(Applicability.SAFE, "Pass weights_only", (Edit(1, 17, 1, 17, ", weights_only=True"),)))
    unsafe = diagnostic(code="DLX001", column=5, end_column=18, fix=Fix(Applicability.UNSAFE, "Clear gradients", (Edit(1, 1, 1, 1, "opt.zero_grad()\n"),)))
    display = diagnostic(code="DLX016", column=5, end_column=18, fix=Fix(Applicability.DISPLAY_ONLY, "Use isnan", (Edit(1, 1, 1, 2, "z"),)))
    published = _published(text, [safe, unsafe, display])
    actions = code_actions.quick_fixes(_context(text), published.lsp, published)
    assert [(a.title, a.is_preferred) for a in actions] == [
        ("DLX025: Pass weights_only", True),
        ("DLX001: Clear gradients (unsafe: may change behaviour, review it)", False),
        ("Disable DLX025 for this line", None),
        ("Disable DLX001 for this line", None),
        ("Disable DLX016 for this line", None),
    ]
    assert actions[0].edit.changes["file:///f.py"][0].new_text == ", weights_only=True"


def test_quick_fixes_use_published_data_when_the_client_drops_it():
    text = "y = torch.load(p)\n"
    published = _published(text, [diagnostic(column=5, end_column=18)])
    stripped = types.Diagnostic(range=published.lsp[0].range, message="m", code="DLX025", source="dlx-lint")
    [action] = code_actions.quick_fixes(_context(text, document_changes=True), [stripped], published)
    [change] = action.edit.document_changes
    assert change.text_document.version == 1
    assert change.edits[0].new_text == "  # noqa: DLX025"


def test_settings_switch_off_fix_and_disable_actions():
    text = "y = torch.load(p)\n"
    d = diagnostic(column=5, end_column=18, fix=Fix(Applicability.SAFE, "Fix", (Edit(1, 1, 1, 1, "a"),)))
    published = _published(text, [d])
    assert code_actions.quick_fixes(_context(text, fix_enabled=False, disable_enabled=False), published.lsp, published) == []
    assert code_actions.fix_all(_context(text, fix_enabled=False), published.lsp) is None


@pytest.mark.parametrize("line, expected", [
    ("y = f(p)\n", "y = f(p)  # noqa: DLX025\n"),
    ("y = f(p)   \r\n", "y = f(p)  # noqa: DLX025\r\n"),
    ("y = f(p)  # type: ignore\n", "y = f(p)  # type: ignore  # noqa: DLX025\n"),
    ("y = f(p)  # noqa: DLX001\n", "y = f(p)  # noqa: DLX001, DLX025\n"),
    ("y = f(p)  # NOQA:DLX001,DLX016 because\n", "y = f(p)  # NOQA:DLX001,DLX016 because, DLX025\n"),
    ('s = "🔒"; y = f(p)\n', 's = "🔒"; y = f(p)  # noqa: DLX025\n'),
])
def test_noqa_edit(line, expected):
    edit = code_actions.noqa_edit(line, 0, "DLX025")
    lines = [line]
    start = convert.code_point_column(line, edit.range.start.character)
    end = convert.code_point_column(line, edit.range.end.character)
    assert lines[0][:start] + edit.new_text + lines[0][end:] == expected


@pytest.mark.parametrize("line", ["y = f(p)  # noqa\n", "y = f(p)  # noqa: DLX025\n", "y = f(p) + \\\n"])
def test_noqa_edit_not_offered_when_useless_or_unsafe(line):
    assert code_actions.noqa_edit(line, 0, "DLX025") is None


def test_fix_all_takes_safe_fixes_in_order_and_skips_overlaps():
    text = "a = b\nc = d\n"
    first = diagnostic(row=1, fix=Fix(Applicability.SAFE, "one", (Edit(1, 1, 1, 2, "A"),)))
    overlapping = diagnostic(row=1, fix=Fix(Applicability.SAFE, "two", (Edit(1, 1, 1, 6, "x = y"),)))
    unsafe = diagnostic(row=2, fix=Fix(Applicability.UNSAFE, "three", (Edit(2, 1, 2, 2, "C"),)))
    published = _published(text, [first, overlapping, unsafe])
    edits = code_actions.fix_all_edits(published.lsp)
    assert [e.new_text for e in edits] == ["A"]
    with_unsafe = code_actions.fix_all_edits(published.lsp, unsafe_fixes=True)
    assert [e.new_text for e in with_unsafe] == ["A", "C"]
    action = code_actions.fix_all(_context(text), published.lsp)
    assert action.kind == "source.fixAll.dlx-lint"
    assert code_actions.fix_all(_context(text), []) is None


def test_wants_filters_by_kind_prefix():
    assert code_actions.wants(None, "quickfix")
    assert code_actions.wants(["source"], "source.fixAll.dlx-lint")
    assert code_actions.wants(["source.fixAll"], "source.fixAll.dlx-lint")
    assert not code_actions.wants(["source.fixAll"], "quickfix")
    assert not code_actions.wants(["source.organizeImports"], "source.fixAll.dlx-lint")


def test_hover_over_noqa_code_uses_the_current_line():
    line = 'x = "🔒"  # noqa: DLX025, missing-zero-grad\n'
    found = hover.hover_for_noqa(line, types.Position(line=4, character=convert.client_column(line, line.index("missing") + 2)))
    assert found is not None and "DLX001" in found[0]
    assert found[1].start == types.Position(line=4, character=convert.client_column(line, line.index("missing")))
    assert hover.hover_for_noqa(line, types.Position(line=4, character=1)) is None
    assert hover.hover_for_noqa("x  # noqa: NOPE1\n", types.Position(line=0, character=13)) is None


def test_editor_settings_shapes_defaults_and_problems():
    settings = parse_editor_settings({"settings": {
        "select": ["DLX0", "NOPE"], "severity": {"DLX0": "hint", "DLX025": "loud"}, "lintOnChange": "yes",
        "codeAction": {"fixViolation": {"enable": False}}, "codeAction.disableRuleComment.enable": False,
        "logLevel": "debug", "configurationPreference": "filesystemFirst",
    }})
    assert settings.select == ("DLX0",)
    assert settings.severity["DLX001"] == "hint"
    assert settings.lint_on_change is True  # wrong type -> default
    assert settings.fix_violation_enabled is False and settings.disable_rule_comment_enabled is False
    assert settings.log_level == logging.DEBUG
    assert settings.configuration_preference == FILESYSTEM_FIRST
    assert any("NOPE" in p for p in settings.problems)
    assert any("loud" in p for p in settings.problems)
    assert any("lintOnChange" in p for p in settings.problems)
    assert parse_editor_settings(None) == parse_editor_settings({})


@pytest.mark.parametrize("select, warned", [([], False), (["NOPE", "ALSO-NOPE"], True)])
def test_an_empty_editor_select_means_the_default_rule_set(tmp_path, select, warned):
    # Editors show `[]` for an unset list; taking it literally silenced every rule.
    settings = parse_editor_settings({"select": select})
    assert settings.select is None
    assert any("default rule set applies" in p for p in settings.problems) is warned
    store = SettingsStore()
    store.update_editor({"select": select})
    assert "DLX001" in store.resolve(str(tmp_path / "a.py")).engine.base_codes()


def test_settings_store_combines_pyproject_and_editor(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dlx-lint]\nignore = ["DLX025"]\n[tool.dlx-lint.severity]\nDLX001 = "info"\n')
    store = SettingsStore()
    store.update_editor({"extendSelect": ["DLX025"], "severity": {"DLX001": "hint"}})
    path = str(tmp_path / "a.py")
    editor_first = store.resolve(path)
    assert "DLX025" not in editor_first.engine.base_codes()  # ignore from the file still applies
    assert editor_first.severity["DLX001"] == "hint"
    assert editor_first.config_path == str(tmp_path / "pyproject.toml")
    store.update_editor({"severity": {"DLX001": "hint"}, "configurationPreference": "filesystemFirst"})
    assert "DLX001" not in store.resolve(path).severity  # the file sets DLX001's severity
    assert store.resolve(None).config_path is None  # untitled: no lookup


def test_an_engine_crash_is_logged_not_raised(monkeypatch, caplog):
    from dlx_lint.incremental import IncrementalLinter
    from dlx_lint_server.documents import Target
    from dlx_lint_server.linting import TextJob, lint_job

    def explode(self, path, source, settings=None):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(IncrementalLinter, "lint", explode)
    job = TextJob(Target("file:///f.py", False), "file:///f.py", 1, "import torch\n", "/f.py", SettingsStore().resolve(None))
    with caplog.at_level(logging.ERROR):
        assert lint_job(job) is None
    assert "engine bug" in caplog.text


def test_configuration_settings_override_initialization_options_key_by_key():
    store = SettingsStore()
    store.update_editor({"lintDebounceMs": 20, "ignore": ["DLX025"]}, initialization=True)
    store.update_editor({})  # Neovim's empty didChangeConfiguration after start-up
    assert store.editor.debounce_ms == 20 and store.editor.ignore == ("DLX025",)
    store.update_editor({"dlx-lint": {"ignore": []}})
    assert store.editor.debounce_ms == 20 and store.editor.ignore == ()
    store.update_editor(None)
    assert store.editor.ignore == ("DLX025",)


def test_the_engine_and_cli_do_not_import_the_language_server_libraries():
    import subprocess
    import sys

    code = "import sys, dlx_lint.cli, dlx_lint.engine, dlx_lint.incremental, dlx_lint.notebook; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'dlx_lint_server')))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_expert_settings_defaults_and_problems():
    defaults = parse_editor_settings({})
    assert defaults.cross_file is True and defaults.inlay_parameter_counts is False
    chosen = parse_editor_settings({"crossFile": False, "inlayHints": {"parameterCounts": True}})
    assert chosen.cross_file is False and chosen.inlay_parameter_counts is True
    assert parse_editor_settings({"inlayHints.parameterCounts": True}).inlay_parameter_counts is True
    wrong = parse_editor_settings({"crossFile": "no"})
    assert wrong.cross_file is True and any("crossFile" in p for p in wrong.problems)
    store = SettingsStore()
    assert store.resolve(None).engine.cross_file is True
    store.update_editor({"crossFile": False})
    assert store.resolve(None).engine.cross_file is False


def test_hover_combines_the_rule_explanation_and_the_expert_part():
    rules_range = types.Range(start=types.Position(line=1, character=0), end=types.Position(line=1, character=9))
    expert_range = types.Range(start=types.Position(line=1, character=3), end=types.Position(line=1, character=9))
    rules = types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="**DLX011**"), range=rules_range)
    both = hover.combine(rules, ("**12 parameters**", expert_range))
    assert both.contents.value == "**DLX011**\n\n---\n\n**12 parameters**" and both.range == rules_range
    alone = hover.combine(None, ("**12 parameters**", expert_range), markdown=False)
    assert alone.contents.kind == types.MarkupKind.PlainText and alone.range == expert_range
    assert hover.combine(rules, None) is rules and hover.combine(None, None) is None
