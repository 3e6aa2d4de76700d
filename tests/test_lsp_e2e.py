"""End to end: the real server as a subprocess (``python -m dlx_lint server``) over stdio,
driven by pytest-lsp with the VS Code and Neovim client capability profiles."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from dlx_lint.diagnostics import rule_url
from dlx_lint.registry import rules_by_code

from .conftest import CASES
from .lsp_support import (
    CLIENT_PROFILES,
    SERVER_COMMAND,
    apply_edits,
    capabilities,
    edits_for,
    make_recording_client,
    open_document,
    publications_for,
    replace_document,
    wait_for,
    wait_for_version,
)

CASE_125 = CASES / "125_tabular_regressor_zero_grad_once_per_epoch.py"
CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client)

TORCH_LOAD = "import torch\nstate = torch.load(p)\n"  # DLX025 on line 2


@pytest_lsp.fixture(config=CONFIG, params=CLIENT_PROFILES)
async def client(lsp_client: LanguageClient, request):
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities(request.param),
        initialization_options={"lintDebounceMs": 20},
    ))
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"
    yield
    await lsp_client.shutdown_session()


def _uri(tmp_path, name: str) -> str:
    return (tmp_path / name).as_uri()


async def test_diagnostics_on_open_carry_code_link_source_and_version(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "train.py")
    open_document(client, uri, CASE_125.read_text(), version=7)
    publication = await wait_for_version(client, uri, 7)
    [diagnostic] = [d for d in publication.diagnostics if d.code == "DLX001"]
    assert diagnostic.range.start == types.Position(line=35, character=12)
    assert diagnostic.source == "dlx-lint"
    assert diagnostic.code_description.href == rule_url("DLX001", "missing-zero-grad")
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.data["noqaLine"] == 35
    assert diagnostic.data["version"] == 7


async def test_change_relints_and_close_clears(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "load.py")
    open_document(client, uri, "import torch\n")
    first = await wait_for_version(client, uri, 1)
    assert not first.diagnostics
    replace_document(client, uri, TORCH_LOAD, version=2)
    second = await wait_for_version(client, uri, 2)
    assert [d.code for d in second.diagnostics] == ["DLX025"]
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: not publications_for(client, uri)[-1].diagnostics and len(publications_for(client, uri)) >= 3, "clear on close")


async def test_quick_changes_publish_only_the_last_version(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "burst.py")
    open_document(client, uri, "import torch\n")
    await wait_for_version(client, uri, 1)
    # Versions 2..11 alternate between a finding and none; only 11 (with the finding) is final.
    for version in range(2, 12):
        text = TORCH_LOAD if version % 2 else "import torch\nstate = torch.load(p, weights_only=True)\n"
        replace_document(client, uri, text, version)
    last = await wait_for_version(client, uri, 11)
    assert [d.code for d in last.diagnostics] == ["DLX025"]
    # Let any straggler arrive, then check nothing older came after version 11.
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=10)))
    assert hover is not None
    versions = [p.version for p in publications_for(client, uri)]
    assert versions == sorted(versions), versions
    assert versions[-1] == 11


async def test_hover_on_flagged_range_explains_the_rule(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "train.py")
    open_document(client, uri, CASE_125.read_text())
    await wait_for_version(client, uri, 1)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=35, character=15)))
    assert hover is not None
    assert "DLX001" in hover.contents.value and "missing-zero-grad" in hover.contents.value
    assert rule_url("DLX001", "missing-zero-grad") in hover.contents.value
    assert "Why is this bad?" in hover.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=8, character=2)))
    assert nothing is None


async def test_hover_on_code_inside_noqa_comment(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "noqa.py")
    text = "import torch\nstate = torch.load(p)  # noqa: DLX001, torch-load-without-weights-only\n"
    open_document(client, uri, text)
    await wait_for_version(client, uri, 1)
    line = text.splitlines()[1]
    by_code = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=line.index("DLX001") + 2)))
    assert by_code is not None and "**DLX001 missing-zero-grad**" in by_code.contents.value
    by_name = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=line.index("torch-load-") + 3)))
    assert by_name is not None and "DLX025" in by_name.contents.value


async def _actions(client: LanguageClient, uri: str, line: int, only=None) -> list[types.CodeAction]:
    diagnostics = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == line]
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)),
        context=types.CodeActionContext(diagnostics=diagnostics, only=only),
    )) or []


async def test_disable_for_line_adds_noqa_comment(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "disable.py")
    text = "import torch\r\nstate = torch.load(p)  # checkpoint from disk\r\n"
    open_document(client, uri, text)
    await wait_for_version(client, uri, 1)
    actions = await _actions(client, uri, 1)
    [disable] = [a for a in actions if a.title == "Disable DLX025 for this line"]
    fixed = apply_edits(text, edits_for(disable.edit, uri), client.encoding)
    assert fixed == "import torch\r\nstate = torch.load(p)  # checkpoint from disk  # noqa: DLX025\r\n"
    replace_document(client, uri, fixed, version=2)
    after = await wait_for_version(client, uri, 2)
    assert not after.diagnostics


async def test_disable_for_line_extends_existing_noqa(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "extend.py")
    text = "import torch\nstate = torch.load(p)  # noqa: DLX001\n"
    open_document(client, uri, text)
    await wait_for_version(client, uri, 1)
    [disable] = [a for a in await _actions(client, uri, 1) if a.title.startswith("Disable")]
    assert apply_edits(text, edits_for(disable.edit, uri), client.encoding) == "import torch\nstate = torch.load(p)  # noqa: DLX001, DLX025\n"


BACKWARD_IN_NO_GRAD = "import torch\n\n\ndef step(model, x):\n    with torch.no_grad():\n        model(x).sum().backward()\n"  # DLX032 (no fix) on line 6


async def test_rule_without_fix_offers_only_disable_and_no_fix_all(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "nofix.py")
    open_document(client, uri, BACKWARD_IN_NO_GRAD)
    publication = await wait_for_version(client, uri, 1)
    assert [(d.code, d.range.start.line) for d in publication.diagnostics] == [("DLX032", 5)]
    assert not any(d.data.get("fix") for d in publication.diagnostics)
    titles = [a.title for a in await _actions(client, uri, 5)]
    assert titles == ["Disable DLX032 for this line"]
    assert await _actions(client, uri, 5, only=["source.fixAll"]) == []


async def test_unsafe_fix_is_offered_but_not_preferred_nor_in_fix_all(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "unsafe.py")
    open_document(client, uri, TORCH_LOAD)
    publication = await wait_for_version(client, uri, 1)
    [diagnostic] = publication.diagnostics
    assert diagnostic.data["fix"]["applicability"] == "unsafe"
    actions = await _actions(client, uri, 1)
    [quick_fix] = [a for a in actions if a.title.startswith("DLX025:")]
    assert not quick_fix.is_preferred and "unsafe" in quick_fix.title.lower()
    fixed = apply_edits(TORCH_LOAD, edits_for(quick_fix.edit, uri), client.encoding)
    assert fixed == "import torch\nstate = torch.load(p, weights_only=True)\n"
    assert await _actions(client, uri, 1, only=["source.fixAll"]) == []  # fix-all applies safe fixes only


async def test_fix_all_applies_every_safe_fix_once_fixes_exist(client: LanguageClient, tmp_path):
    """Meaningful once rules produce fixes: every diagnostic with a safe fix contributes its
    edits to `source.fixAll.dlx-lint`, and applying them leaves no fixable diagnostic."""
    uri = _uri(tmp_path, "fixall.py")
    text = CASE_125.read_text() + "\n" + TORCH_LOAD
    open_document(client, uri, text)
    publication = await wait_for_version(client, uri, 1)
    safe = [d for d in publication.diagnostics if (d.data.get("fix") or {}).get("applicability") == "safe"]
    actions = await _actions(client, uri, 0, only=["source.fixAll.dlx-lint"])
    if not safe:
        assert actions == []
        return
    [fix_all] = actions
    assert fix_all.kind == "source.fixAll.dlx-lint"
    fixed = apply_edits(text, edits_for(fix_all.edit, uri), client.encoding)
    replace_document(client, uri, fixed, version=2)
    after = await wait_for_version(client, uri, 2)
    assert not [d for d in after.diagnostics if (d.data.get("fix") or {}).get("applicability") == "safe"]


async def test_utf16_range_after_emoji_and_cjk(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "unicode.py")
    prefix = 'note = "🔒 模型 ①"; '
    text = "import torch\n" + prefix + "state = torch.load(p)\n"
    open_document(client, uri, text)
    publication = await wait_for_version(client, uri, 1)
    [diagnostic] = publication.diagnostics
    code_points = len(prefix) + len("state = ")
    expected = {
        "utf-16": len((prefix + "state = ").encode("utf-16-le")) // 2,
        "utf-8": len((prefix + "state = ").encode("utf-8")),
        "utf-32": code_points,
    }[client.encoding]
    assert diagnostic.range.start == types.Position(line=1, character=expected)
    if client.encoding == "utf-16":
        assert expected == code_points + 1  # the emoji is a surrogate pair
    end = len((prefix + "state = torch.load(p)").encode("utf-16-le")) // 2 if client.encoding == "utf-16" else None
    if end is not None:
        assert diagnostic.range.end == types.Position(line=1, character=end)


async def test_settings_select_and_severity_change_the_diagnostics(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "settings.py")
    text = CASE_125.read_text() + "\n" + TORCH_LOAD
    open_document(client, uri, text)
    first = await wait_for_version(client, uri, 1)
    assert {d.code for d in first.diagnostics} == {"DLX001", "DLX025"}
    settings = {"dlx-lint": {"ignore": ["DLX025", "NOPE999"], "severity": {"DLX001": "hint"}}}
    client.set_configuration(settings)
    count = len(publications_for(client, uri))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await wait_for(lambda: len(publications_for(client, uri)) > count, "re-lint after the settings change")
    last = publications_for(client, uri)[-1]
    assert [(d.code, d.severity) for d in last.diagnostics] == [("DLX001", types.DiagnosticSeverity.Hint)]
    await wait_for(lambda: any("NOPE999" in m.message for m in client.messages), "a warning about the unknown rule")


async def test_syntax_error_is_a_diagnostic_and_server_keeps_answering(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "broken.py")
    open_document(client, uri, "import torch\nx = torch.zeros(\n")
    publication = await wait_for_version(client, uri, 1)
    assert [d.code for d in publication.diagnostics] == ["DLX900"]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=publication.diagnostics[0].range.start))
    assert hover is not None and "DLX900" in hover.contents.value


async def test_requests_for_an_unknown_document_get_empty_answers(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "never-opened.py")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=1)))
    assert hover is None
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[])))
    assert not actions
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    # Still alive: a real document is linted afterwards.
    open_document(client, _uri(tmp_path, "after.py"), TORCH_LOAD)
    publication = await wait_for_version(client, _uri(tmp_path, "after.py"), 1)
    assert [d.code for d in publication.diagnostics] == ["DLX025"]


async def test_untitled_document_is_linted(client: LanguageClient):
    uri = "untitled:Untitled-1"
    open_document(client, uri, TORCH_LOAD)
    publication = await wait_for_version(client, uri, 1)
    assert [d.code for d in publication.diagnostics] == ["DLX025"]


async def test_two_hundred_rapid_changes_then_hover_answers(client: LanguageClient, tmp_path):
    uri = _uri(tmp_path, "rapid.py")
    open_document(client, uri, "import torch\n")
    await wait_for_version(client, uri, 1)
    for version in range(2, 202):
        replace_document(client, uri, "import torch\n" + "x = 1\n" * (version % 7) + "state = torch.load(p)\n", version)
    last = await wait_for_version(client, uri, 201)
    line = 1 + 201 % 7
    assert [(d.code, d.range.start.line) for d in last.diagnostics] == [("DLX025", line)]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=10)))
    assert hover is not None and "DLX025" in hover.contents.value
    # Debouncing: far fewer lints than changes were published.
    assert len(publications_for(client, uri)) < 100


@pytest.mark.skipif("DLX021" in rules_by_code() and "DLX017" in rules_by_code(), reason="covered by the non-xfail variant")
@pytest.mark.xfail(reason="DLX021 and DLX017 are not implemented yet", strict=True)
async def test_case_303_non_ascii_offsets_pending_rules(client: LanguageClient, tmp_path):
    await _check_case_303(client, tmp_path)


@pytest.mark.skipif(not ("DLX021" in rules_by_code() and "DLX017" in rules_by_code()), reason="DLX021/DLX017 not implemented yet")
async def test_case_303_non_ascii_offsets(client: LanguageClient, tmp_path):
    await _check_case_303(client, tmp_path)


async def _check_case_303(client: LanguageClient, tmp_path):
    """303's header: DLX021 at line 15, UTF-16 unit 56 (UTF-8 byte 62); DLX017 at line 19,
    UTF-16 unit 36 (UTF-8 byte 43)."""
    uri = _uri(tmp_path, "303.py")
    open_document(client, uri, (CASES / "303_hard_non_ascii_before_finding.py").read_text(encoding="utf-8"))
    await wait_for_version(client, uri, 1)
    settings = {"dlx-lint": {"select": ["ALL"]}}
    client.set_configuration(settings)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await wait_for(lambda: len(publications_for(client, uri)) >= 2, "re-lint with every rule selected")
    publication = publications_for(client, uri)[-1]
    found = {(d.code, d.range.start.line, d.range.start.character) for d in publication.diagnostics}
    expected = {"utf-16": {("DLX021", 14, 56), ("DLX017", 18, 36)}, "utf-8": {("DLX021", 14, 62), ("DLX017", 18, 43)}}
    assert expected[client.encoding] <= found
