"""End to end: notebooks, pyproject.toml discovery and watching, settings pushed by clients
without ``workspace/configuration``, lint-on-save mode."""

from __future__ import annotations

import json

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import CASES
from .lsp_support import (
    SERVER_COMMAND,
    capabilities,
    make_recording_client,
    open_document,
    publications_for,
    replace_document,
    wait_for,
    wait_for_version,
)

CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client)
TORCH_LOAD = "import torch\nstate = torch.load(p)\n"
CASE_125 = CASES / "125_tabular_regressor_zero_grad_once_per_epoch.py"


@pytest_lsp.fixture(config=CONFIG)
async def vscode(lsp_client: LanguageClient, tmp_path):
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities("visual-studio-code", notebooks=True),
        root_uri=tmp_path.as_uri(),
        initialization_options={"lintDebounceMs": 20},
    ))
    lsp_client.init_result = result
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def neovim07(lsp_client: LanguageClient):
    """Debian's Neovim 0.7: no workspace/configuration pull, settings arrive pushed."""
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities("neovim@v0.7.0"),
        initialization_options={"lintDebounceMs": 20, "lintOnChange": False},
    ))
    yield
    await lsp_client.shutdown_session()


def _notebook_cells(tmp_path):
    notebook = json.loads((CASES / "304_hard_notebook_two_bugs.ipynb").read_text())
    uri = (tmp_path / "two_bugs.ipynb").as_uri()
    cells, documents = [], []
    for index, cell in enumerate(notebook["cells"]):
        cell_uri = f"vscode-notebook-cell:{uri[len('file:'):]}#C{index}"
        kind = types.NotebookCellKind.Code if cell["cell_type"] == "code" else types.NotebookCellKind.Markup
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cells.append(types.NotebookCell(kind=kind, document=cell_uri))
        documents.append(types.TextDocumentItem(uri=cell_uri, language_id="python" if kind == types.NotebookCellKind.Code else "markdown", version=1, text=source))
    return uri, cells, documents


async def test_notebook_cells_get_cell_relative_diagnostics(vscode: LanguageClient, tmp_path):
    assert vscode.init_result.capabilities.notebook_document_sync is not None
    uri, cells, documents = _notebook_cells(tmp_path)
    vscode.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(uri=uri, notebook_type="jupyter-notebook", version=1, cells=cells),
        cell_text_documents=documents))
    expected = json.loads((CASES / "304_hard_notebook_two_bugs.expected.json").read_text())
    for item in expected:
        cell_uri = cells[item["cell"]].document
        await wait_for(lambda: bool(vscode.diagnostics.get(cell_uri)), f"diagnostics for cell {item['cell']}")
        assert [(d.code, d.range.start.line) for d in vscode.diagnostics[cell_uri]] == [(item["rule"], item["line"] - 1)]
    # Editing the last cell (evaluation now under no_grad) clears its finding, keeps cell 4's.
    last = documents[5]
    fixed_lines = last.text.splitlines(keepends=True)
    fixed = "".join(["import torch\n"] + ["with torch.no_grad():\n"] + ["    " + line for line in fixed_lines])
    vscode.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=last.uri, version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
            )
        ]))))
    await wait_for(lambda: any(p.uri == last.uri and p.version == 2 for p in vscode.publications), "re-lint of the edited cell")
    assert not vscode.diagnostics[last.uri]
    assert [d.code for d in vscode.diagnostics[cells[4].document]] == ["DLX001"]
    # Closing the notebook clears every cell.
    vscode.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=uri),
        cell_text_documents=[types.TextDocumentIdentifier(uri=d.uri) for d in documents]))
    await wait_for(lambda: not vscode.diagnostics.get(cells[4].document), "cells cleared on close")


async def test_pyproject_is_read_and_its_changes_are_picked_up(vscode: LanguageClient, tmp_path):
    await wait_for(lambda: any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in vscode.registrations), "the pyproject.toml watcher")
    [watcher] = [r for r in vscode.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert watcher.register_options["watchers"][0]["globPattern"] == "**/pyproject.toml"
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.dlx-lint]\nignore = ["DLX025"]\n')
    uri = (tmp_path / "pkg" / "model.py").as_uri()
    open_document(vscode, uri, TORCH_LOAD)
    first = await wait_for_version(vscode, uri, 1)
    assert not first.diagnostics
    pyproject.write_text('[tool.dlx-lint]\nignore = []\n')
    count = len(publications_for(vscode, uri))
    vscode.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))
    await wait_for(lambda: len(publications_for(vscode, uri)) > count, "re-lint after pyproject.toml changed")
    assert [d.code for d in publications_for(vscode, uri)[-1].diagnostics] == ["DLX025"]


async def test_configuration_preference_decides_between_editor_and_pyproject(vscode: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dlx-lint]\nignore = ["DLX025"]\n')
    uri = (tmp_path / "train.py").as_uri()
    editor = {"dlx-lint": {"select": ["DLX025"], "configurationPreference": "editorFirst"}}
    vscode.set_configuration(editor)
    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=editor))
    open_document(vscode, uri, CASE_125.read_text() + TORCH_LOAD)
    # editorFirst: the editor's select replaces the file's rule set, its ignore still applies,
    # as with `--select` on the command line: nothing remains.
    first = await wait_for_version(vscode, uri, 1)
    assert not first.diagnostics
    filesystem = {"dlx-lint": {"select": ["DLX025"], "configurationPreference": "filesystemFirst"}}
    vscode.set_configuration(filesystem)
    count = len(publications_for(vscode, uri))
    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=filesystem))
    await wait_for(lambda: len(publications_for(vscode, uri)) > count, "re-lint after the settings change")
    # filesystemFirst: only the pyproject counts (defaults minus DLX025).
    assert [d.code for d in publications_for(vscode, uri)[-1].diagnostics] == ["DLX001"]


async def test_invalid_pyproject_is_reported_once_and_ignored(vscode: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dlx-lint]\nselekt = ["DLX0"]\n')
    for name in ("a.py", "b.py"):
        open_document(vscode, (tmp_path / name).as_uri(), TORCH_LOAD)
        publication = await wait_for_version(vscode, (tmp_path / name).as_uri(), 1)
        assert [d.code for d in publication.diagnostics] == ["DLX025"]
    warnings = [m for m in vscode.messages if "selekt" in m.message]
    assert len(warnings) == 1 and warnings[0].type == types.MessageType.Warning


async def test_pushed_settings_and_lint_on_save_only(neovim07: LanguageClient, tmp_path):
    uri = (tmp_path / "save.py").as_uri()
    open_document(neovim07, uri, "import torch\n")
    await wait_for_version(neovim07, uri, 1)
    replace_document(neovim07, uri, TORCH_LOAD, 2)
    neovim07.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    saved = await wait_for_version(neovim07, uri, 2)
    assert [d.code for d in saved.diagnostics] == ["DLX025"]
    assert len(publications_for(neovim07, uri)) == 2  # open and save; the change itself did not lint
    neovim07.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"dlx-lint": {"ignore": ["torch-load-without-weights-only"], "lintOnChange": False}}))
    await wait_for(lambda: len(publications_for(neovim07, uri)) >= 3, "re-lint after pushed settings")
    assert not publications_for(neovim07, uri)[-1].diagnostics
