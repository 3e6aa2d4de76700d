"""End to end (the real server over stdio, pytest-lsp): expert hovers (a layer's parameter and
memory estimate, a model class defined in another file, a concept note), inlay hints, and a
rule that fires only because jedi resolved an optimizer built in another file."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from dlx_lint.diagnostics import rule_url

from .lsp_support import CLIENT_PROFILES, SERVER_COMMAND, capabilities, make_recording_client, open_document, publications_for, wait_for, wait_for_version

pytest.importorskip("jedi")

CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client)

UTILS = """\
import torch


def make_optimizer(model, lr=1e-3):
    return torch.optim.AdamW(model.parameters(), lr=lr)
"""

MODELS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, d_in=32, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(hidden, 10)
"""

TRAIN = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from models import Net
    from utils import make_optimizer


    def train(loader):
        model = Net(d_in=16)
        criterion = nn.CrossEntropyLoss()
        optimizer = make_optimizer(model)
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()


    head = nn.Linear(4096, 11008)
    """)

NET_PARAMS = (16 * 64 + 64) + (64 * 10 + 10)


def _workspace(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'workspace'\n")
    (tmp_path / "utils.py").write_text(UTILS)
    (tmp_path / "models.py").write_text(MODELS)
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    return path.as_uri()


def _at(needle: str, offset: int = 0) -> types.Position:
    index = TRAIN.index(needle) + offset
    line = TRAIN.count("\n", 0, index)
    return types.Position(line=line, character=index - (TRAIN.rfind("\n", 0, index) + 1))


async def _hover(client: LanguageClient, uri: str, position: types.Position) -> types.Hover | None:
    return await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position))


@pytest_lsp.fixture(config=CONFIG, params=CLIENT_PROFILES)
async def client(lsp_client: LanguageClient, request):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities(request.param),
        initialization_options={"lintDebounceMs": 20, "inlayHints": {"parameterCounts": True}},
    ))
    yield
    await lsp_client.shutdown_session()


async def test_hover_on_a_layer_shows_parameters_and_memory(client: LanguageClient, tmp_path):
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    await wait_for_version(client, uri, 1)
    hover = await _hover(client, uri, _at("Linear(4096", 3))
    assert hover is not None
    value = hover.contents.value
    assert "**45,099,776 (45.1 M) parameters**" in value
    assert "| weights, bf16 / fp16 | 86 MiB |" in value and "| training with Adam (16 B/param) | 688 MiB |" in value
    assert "https://docs.pytorch.org/docs/stable/generated/torch.nn.Linear.html" in value
    start = _at("Linear(4096")
    assert hover.range == types.Range(start=start, end=types.Position(line=start.line, character=start.character + len("Linear")))


async def test_hover_on_a_model_class_defined_in_another_file(client: LanguageClient, tmp_path):
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    await wait_for_version(client, uri, 1)

    # A hover while jedi is still starting gets no cross-file answer; the lookup completes in the
    # background and a later hover has it.
    for _attempt in range(40):
        hover = await _hover(client, uri, _at("Net(d_in", 1))
        value = hover.contents.value if hover is not None else ""
        if "parameters" in value:
            break
        await asyncio.sleep(0.25)
    assert f"`Net` (defined in `models.py`): **{NET_PARAMS:,} (1.74 k) parameters**" in value
    assert "| `fc1` `nn.Linear(d_in, hidden)` |" in value


async def test_hover_concept_note_links_rules_and_sources(client: LanguageClient, tmp_path):
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    await wait_for_version(client, uri, 1)
    hover = await _hover(client, uri, _at("CrossEntropyLoss", 4))
    assert hover is not None
    value = hover.contents.value
    assert "**Cross-entropy loss**" in value and "−log" in value
    assert f"[DLX011]({rule_url('DLX011', 'probabilities-into-logits-loss')})" in value
    assert "https://docs.pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html" in value


async def test_a_rule_fires_because_jedi_resolved_the_optimizer(client: LanguageClient, tmp_path):
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    # The optimizer is built by utils.make_optimizer: only cross-file inference knows it is one.
    # The first lint may run while jedi is starting; the server then re-lints once.
    await wait_for(lambda: any(d.code == "DLX001" for p in publications_for(client, uri) for d in p.diagnostics),
                   "DLX001 from the cross-file optimizer")
    diagnostic = next(d for p in publications_for(client, uri) for d in p.diagnostics if d.code == "DLX001")
    assert diagnostic.range.start == _at("optimizer.step")


async def test_inlay_hints_show_parameter_counts(client: LanguageClient, tmp_path):
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    await wait_for_version(client, uri, 1)
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(TRAIN.splitlines()), character=0)),
    ))
    by_label = {hint.label: hint for hint in hints}
    head = by_label["45.1M params"]
    line = _at("nn.Linear(4096").line
    assert head.position == types.Position(line=line, character=len(TRAIN.splitlines()[line]))
    assert head.tooltip == "45,099,776 parameters"


SETTINGS_OFF = {"lintDebounceMs": 20, "crossFile": False}


@pytest_lsp.fixture(config=CONFIG)
async def client_without_cross_file(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities("visual-studio-code"), initialization_options=SETTINGS_OFF,
    ))
    yield
    await lsp_client.shutdown_session()


async def test_without_cross_file_the_rule_is_silent_and_no_hints_by_default(client_without_cross_file: LanguageClient, tmp_path):
    client = client_without_cross_file
    uri = _workspace(tmp_path)
    open_document(client, uri, TRAIN)
    publication = await wait_for_version(client, uri, 1)
    assert [d.code for d in publication.diagnostics] == []
    hover = await _hover(client, uri, _at("Net(d_in", 1))  # the class is in another file: unknown
    assert hover is None
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=20, character=0)),
    ))
    assert not hints  # inlayHints.parameterCounts is off by default
    assert [d.code for p in publications_for(client, uri) for d in p.diagnostics] == []
