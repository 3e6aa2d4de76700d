"""Helpers for the language-server tests: a recording pytest-lsp client, waiting for a
publication, applying workspace edits."""

from __future__ import annotations

import asyncio
import sys
from typing import Callable

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER_COMMAND = [sys.executable, "-m", "dlx_lint", "server"]

# Client capability profiles shipped with pytest-lsp for the push-diagnostics checks. Neovim
# 0.10+ pulls diagnostics (and negotiates UTF-8 positions); test_lsp_pull.py covers that
# profile, this list the last Neovim profile that takes pushed diagnostics.
CLIENT_PROFILES = ("visual-studio-code", "neovim@v0.9.1")

WAIT_SECONDS = 20.0


def record_publication(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.publications.append(params)


def record_registration(client: LanguageClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def make_recording_client() -> LanguageClient:
    """A pytest-lsp client that also keeps every publication (with its version) in
    ``client.publications`` and every dynamic registration in ``client.registrations``."""
    client = LanguageClient(converter_factory=default_converter)
    client.publications = []
    client.registrations = []
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record_publication
    features[types.CLIENT_REGISTER_CAPABILITY] = record_registration
    register_lsp_features(client, features)
    return client


def capabilities(profile: str, *, notebooks: bool = False) -> types.ClientCapabilities:
    """A client profile's capabilities, optionally with notebook sync (VS Code >= 1.70 has it;
    the 1.65 profile predates it)."""
    caps = client_capabilities(profile)
    if notebooks:
        caps.notebook_document = types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities(dynamic_registration=False, execution_summary_support=False)
        )
    return caps


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll `predicate` until true; fail with `what` after `timeout` seconds (a liveness
    bound, not a performance assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def publications_for(client: LanguageClient, uri: str) -> list[types.PublishDiagnosticsParams]:
    return [p for p in client.publications if p.uri == uri]


async def wait_for_version(client: LanguageClient, uri: str, version: int) -> types.PublishDiagnosticsParams:
    """The first publication for `uri` carrying `version`."""
    await wait_for(lambda: any(p.version == version for p in publications_for(client, uri)), f"diagnostics for {uri} v{version}")
    return next(p for p in publications_for(client, uri) if p.version == version)


def open_document(client: LanguageClient, uri: str, text: str, version: int = 1, language: str = "python") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))


def replace_document(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Send a full-text change (valid under incremental sync too: a change without range)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def edits_for(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    """The text edits a workspace edit makes to `uri`, from ``changes`` or ``documentChanges``."""
    found: list[types.TextEdit] = []
    if edit.changes:
        found += list(edit.changes.get(uri, []))
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri:
            found += list(change.edits)
    return found


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str = "utf-16") -> str:
    """Apply LSP text edits (positions in `encoding`) to `text`, as a client would."""
    lines = text.splitlines(keepends=True) or [""]

    def offset(position: types.Position) -> int:
        base = sum(len(line) for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return base + index
            if encoding == "utf-16":
                units += 2 if ord(char) > 0xFFFF else 1
            elif encoding == "utf-8":
                units += len(char.encode("utf-8"))
            else:
                units += 1
        return base + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text
