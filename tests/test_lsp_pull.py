"""End to end with pull diagnostics (``textDocument/diagnostic``), as Neovim 0.10+ uses them:
the latest Neovim profile of pytest-lsp (which also negotiates UTF-8 positions)."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import CASES
from .lsp_support import SERVER_COMMAND, apply_edits, capabilities, edits_for, make_recording_client, open_document, replace_document

CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client)
CASE_125 = CASES / "125_tabular_regressor_zero_grad_once_per_epoch.py"
TORCH_LOAD = "import torch\nstate = torch.load(p)\n"


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities("neovim"),
        initialization_options={"lintDebounceMs": 20},
    ))
    assert result.capabilities.diagnostic_provider.identifier == "dlx-lint"
    lsp_client.encoding = result.capabilities.position_encoding
    yield
    await lsp_client.shutdown_session()


async def pull(client: LanguageClient, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous))


async def test_pull_on_open_and_after_changes_returns_current_results(client: LanguageClient, tmp_path):
    uri = (tmp_path / "train.py").as_uri()
    open_document(client, uri, CASE_125.read_text())
    report = await pull(client, uri)
    assert report.kind == "full"
    [diagnostic] = report.items
    assert (diagnostic.code, diagnostic.range.start.line, diagnostic.range.start.character) == ("DLX001", 35, 12)
    assert diagnostic.data["version"] == 1
    # Unchanged since the last pull: the server says so.
    same = await pull(client, uri, previous=report.result_id)
    assert same.kind == "unchanged" and same.result_id == report.result_id
    # Several quick changes, then a pull: it waits for the last version's lint.
    for version in range(2, 8):
        replace_document(client, uri, TORCH_LOAD if version == 7 else "import torch\n", version)
    after = await pull(client, uri, previous=report.result_id)
    assert after.kind == "full"
    assert [(d.code, d.data["version"]) for d in after.items] == [("DLX025", 7)]
    assert not client.publications  # nothing was pushed to a pulling client


async def test_pulled_diagnostics_drive_hover_and_code_actions_in_utf8(client: LanguageClient, tmp_path):
    assert client.encoding == "utf-8"
    uri = (tmp_path / "unicode.py").as_uri()
    prefix = 'note = "🔒 模型"; '
    text = "import torch\n" + prefix + "state = torch.load(p)\n"
    open_document(client, uri, text)
    [diagnostic] = (await pull(client, uri)).items
    assert diagnostic.range.start == types.Position(line=1, character=len((prefix + "state = ").encode("utf-8")))
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start))
    assert "DLX025" in hover.contents.value
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    [disable] = [a for a in actions if a.title == "Disable DLX025 for this line"]
    fixed = apply_edits(text, edits_for(disable.edit, uri), "utf-8")
    assert fixed.splitlines()[1] == prefix + "state = torch.load(p)  # noqa: DLX025"
    replace_document(client, uri, fixed, 2)
    assert not (await pull(client, uri)).items


async def test_pull_for_an_unknown_document_is_empty(client: LanguageClient, tmp_path):
    report = await pull(client, (tmp_path / "nowhere.py").as_uri())
    assert report.kind == "full" and not report.items
