"""Helpers for the language-server tests: a recording pytest-lsp client, waiting for a
publication, applying workspace edits, and a raw stdio connection (hand-written frames, for
what a well-behaved client library cannot send)."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

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


# -- raw stdio ---------------------------------------------------------------------------


def frame(body: bytes) -> bytes:
    """`body` with a correct ``Content-Length`` header."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(payload: dict) -> bytes:
    """A JSON-RPC payload, framed."""
    return frame(json.dumps(payload).encode())


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (``VmRSS`` from ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class Reader(threading.Thread):
    """Collects the server's messages from its stdout. `pause` stops it reading (after the
    message it is reading), so the server's output backs up in the pipe, until `resume`."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.messages: list[dict] = []
        self.arrived = threading.Condition()
        self.reading = threading.Event()
        self.reading.set()

    def pause(self) -> None:
        """Stop reading (the message being read is finished first)."""
        self.reading.clear()

    def resume(self) -> None:
        """Read again."""
        self.reading.set()

    def run(self) -> None:
        while True:
            self.reading.wait()
            length = None
            while True:
                line = self.stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = self.stream.read(length or 0)
            with self.arrived:
                self.messages.append(json.loads(body))
                self.arrived.notify_all()

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
        """Wait until `predicate()` (called with the lock held) is truthy and return it; fail
        with `what` after `timeout` seconds."""
        with self.arrived:
            self.arrived.wait_for(predicate, timeout=timeout)
            found = predicate()
        assert found, f"timed out waiting for {what}"
        return found

    def response(self, request_id: int, timeout: float = WAIT_SECONDS) -> dict:
        """The response to `request_id` (waiting up to `timeout` seconds for it)."""
        def found():
            return next((m for m in self.messages if m.get("id") == request_id and "method" not in m), None)

        return self.wait(found, f"the response to request {request_id}", timeout)

    def responses(self, request_id: int) -> list[dict]:
        """Every response received so far to `request_id`."""
        with self.arrived:
            return [m for m in self.messages if m.get("id") == request_id and "method" not in m]

    def notifications(self, method: str) -> list[dict]:
        """The params of every notification received so far for `method`."""
        with self.arrived:
            return [m.get("params") for m in self.messages if m.get("method") == method and "id" not in m]


class RawServer:
    """The server as a subprocess, driven with hand-framed messages over its stdin/stdout.

    Attributes:
        process: the server process.
        reader: the thread collecting its messages.
    """

    def __init__(self, stderr=subprocess.DEVNULL) -> None:
        self.process = subprocess.Popen(SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        self.reader = Reader(self.process.stdout)
        self.reader.start()
        self._ids = itertools.count(1)

    def write(self, data: bytes) -> None:
        """Send raw bytes (and flush)."""
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.write(message({"jsonrpc": "2.0", "method": method, "params": params}))

    def send_request(self, method: str, params: Any = None) -> int:
        """Send a request without waiting; returns its id."""
        request_id = next(self._ids)
        payload = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            payload["params"] = params
        self.write(message(payload))
        return request_id

    def request(self, method: str, params: Any = None, timeout: float = WAIT_SECONDS) -> dict:
        """Send a request and return its response message."""
        return self.reader.response(self.send_request(method, params), timeout)

    def initialize(self, options: dict | None = None, capabilities: dict | None = None) -> dict:
        """The ``initialize`` / ``initialized`` handshake; returns the initialize result."""
        params = {"processId": None, "rootUri": None, "capabilities": capabilities or {}}
        if options is not None:
            params["initializationOptions"] = options
        result = self.request("initialize", params)["result"]
        self.notify("initialized", {})
        return result

    def open(self, uri: str, text: str, version: int = 1) -> None:
        """``textDocument/didOpen`` for a Python document."""
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}})

    def change(self, uri: str, text: str, version: int) -> None:
        """A full-text ``textDocument/didChange``."""
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})

    def hover(self, uri: str, line: int, character: int, timeout: float = WAIT_SECONDS) -> dict:
        """A ``textDocument/hover`` request and its response message."""
        return self.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}, timeout)

    def publications(self, uri: str) -> list[dict]:
        """Every ``publishDiagnostics`` received so far for `uri`, in order."""
        return [p for p in self.reader.notifications("textDocument/publishDiagnostics") if p["uri"] == uri]

    def wait_for_version(self, uri: str, version: int, timeout: float = WAIT_SECONDS) -> dict:
        """The first publication for `uri` with `version`."""
        def found():
            return next((p for p in self.publications(uri) if p.get("version") == version), None)

        return self.reader.wait(found, f"diagnostics for {uri} v{version}", timeout)

    def alive(self) -> bool:
        """The process has not exited."""
        return self.process.poll() is None

    def rss_mb(self) -> float:
        """The server's resident set size in MB."""
        return rss_mb(self.process.pid)

    def stop(self, timeout: float = WAIT_SECONDS) -> int | None:
        """``shutdown`` + ``exit`` when alive; kill if it does not exit. Returns the exit code
        after a clean exit, None when it had to be killed."""
        code = None
        try:
            if self.alive():
                self.reader.resume()
                self.request("shutdown", timeout=timeout)
                self.notify("exit", None)
                code = self.process.wait(timeout=timeout)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            code = None
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return code

