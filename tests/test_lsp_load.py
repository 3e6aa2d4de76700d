"""Editor load: the real server (``python -m dlx_lint server``) stays responsive and bounded
under an edit storm, cancellations, requests for documents it does not have, malformed
JSON-RPC and a client that stops reading.

A well-behaved client (pytest-lsp) drives the edit storm and the closed-document requests;
the rest is written by hand over raw stdio (`lsp_support.RawServer`), since a client library
cannot misbehave on purpose. Time bounds are liveness bounds, generous for a loaded 2-core
machine; memory bounds are stated in each test.
"""

from __future__ import annotations

import asyncio
import fcntl
import struct
import termios
import threading
import time
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from dlx_lint.engine import lint_source
from dlx_lint_server.settings import SettingsStore

from .conftest import CASES, REPO
from .lsp_support import (
    SERVER_COMMAND,
    RawServer,
    capabilities,
    frame,
    make_recording_client,
    message,
    open_document,
    publications_for,
    replace_document,
    rss_mb,
    wait_for,
)

CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client)
# Cross-file inference is off so the engine run in this process sees exactly what the server
# sees (jedi lookups have time limits; a timed-out lookup is retried by the server later).
OPTIONS = {"crossFile": False}

SOURCES = [
    REPO / "tests" / "fixtures" / "bugs" / "aliased_imports.py",
    REPO / "tests" / "fixtures" / "bugs" / "deprecated_apis_kept_after_triage.py",
    CASES / "146_birdsong_classifier_cuda_result_discarded.py",
    CASES / "120_benchmark_models_pretrained_false_in_ternary.py",
    CASES / "135_two_moons_evaluate_in_train_mode_with_grad.py",
]
STORM_CHANGES = 1000
TORCH_LOAD = "import torch\nstate = torch.load(p)\n"  # DLX025 on line 2 (LSP line 1)
HOVER_BOUND_SECONDS = 5.0
RETURN_TO_BASELINE_MB = 60.0
REQUEST_CANCELLED = -32800
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


def variant(base: str, version: int) -> str:
    """The text of a document at `version`: comment lines on top (shifting every finding),
    sometimes an extra ``torch.load`` finding at the end, sometimes half-typed (a syntax
    error). Version 1 is the file itself; every storm version differs from the one before."""
    if version == 1:
        return base
    header = "".join(f"# edit {version}.{k}\n" for k in range(version % 4))
    if version % 29 == 0:
        return header + base[: len(base) // 2]
    tail = "\nimport torch\nstate = torch.load(CHECKPOINT)\n" if version % 3 == 0 else ""
    return header + base + f"# v{version}\n" + tail


def engine_findings(path: Path, text: str) -> list[tuple[str, int]]:
    """(code, 0-based line) of what the engine reports for `text`, with the settings the
    server resolves for `path` under `OPTIONS`."""
    store = SettingsStore()
    store.update_editor(OPTIONS, initialization=True)
    diagnostics = lint_source(str(path), text, store.resolve(str(path)).engine)
    return sorted((d.code, d.row - 1) for d in diagnostics)


def published_findings(publication: types.PublishDiagnosticsParams) -> list[tuple[str, int]]:
    return sorted((d.code, d.range.start.line) for d in publication.diagnostics)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities("visual-studio-code"), initialization_options=OPTIONS))
    yield
    await lsp_client.shutdown_session()


def server_pid(client: LanguageClient) -> int:
    return client._server.pid


async def hover_seconds(client: LanguageClient, uri: str, position: types.Position) -> tuple[float, types.Hover | None]:
    started = time.perf_counter()
    hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position)), 30)
    return time.perf_counter() - started, hover


async def test_edit_storm_publishes_only_current_results_and_memory_returns_to_baseline(client: LanguageClient, tmp_path):
    """1,000 full-text changes, round-robin over 5 open documents, sent without waiting.

    Checked: each document's last publication carries its final version and the engine's
    findings (code, line) for the final text; per document, no publication is for an older
    version than one published before it; a hover right after is answered within
    `HOVER_BOUND_SECONDS` (5 s); debouncing coalesced the changes (fewer publications than
    changes). Memory: server RSS after closing every document and a 1 s settle is at most
    baseline + `RETURN_TO_BASELINE_MB` (60 MB), the baseline being taken after initialize,
    opening the documents, their first diagnostics and a hover in each.
    """
    pid = server_pid(client)
    documents = [(tmp_path / f"doc{i}_{path.name}", path.read_text(encoding="utf-8")) for i, path in enumerate(SOURCES)]
    uris = [path.as_uri() for path, _ in documents]
    for uri, (_, base) in zip(uris, documents):
        open_document(client, uri, base)
    for uri in uris:
        await wait_for(lambda uri=uri: any(p.version == 1 for p in publications_for(client, uri)), f"first diagnostics of {uri}")
        first = next(p for p in publications_for(client, uri) if p.version == 1)
        assert first.diagnostics, f"{uri} should have findings"
        await hover_seconds(client, uri, first.diagnostics[0].range.start)
    baseline = rss_mb(pid)

    samples: list[float] = []
    sampling = True

    async def sample() -> None:
        while sampling:
            samples.append(rss_mb(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    versions = {uri: 1 for uri in uris}
    for change in range(STORM_CHANGES):
        index = change % len(uris)
        uri = uris[index]
        versions[uri] += 1
        replace_document(client, uri, variant(documents[index][1], versions[uri]), versions[uri])
        if change % 25 == 0:
            await asyncio.sleep(0)  # let the transport write, as an editor's event loop would
    sent = time.perf_counter()
    for uri in uris:
        await wait_for(lambda uri=uri: any(p.version == versions[uri] for p in publications_for(client, uri)),
                       f"final diagnostics of {uri}", timeout=90)
    finals_at = time.perf_counter()
    seconds, hover = await hover_seconds(client, uris[0], publications_for(client, uris[0])[-1].diagnostics[0].range.start)
    sampling = False
    await sampler
    peak = max(samples + [rss_mb(pid)])
    await asyncio.sleep(0.5)  # a stale result would arrive by now

    for uri, (path, base) in zip(uris, documents):
        publications = publications_for(client, uri)
        seen = [p.version for p in publications]
        assert all(a <= b for a, b in zip(seen, seen[1:])), f"{uri}: an older version was published after a newer one: {seen}"
        last = publications[-1]
        assert last.version == versions[uri] == 1 + STORM_CHANGES // len(uris)
        assert published_findings(last) == engine_findings(path, variant(base, versions[uri]))
        assert all(d.data["version"] == versions[uri] for d in last.diagnostics)
    published = sum(len(publications_for(client, uri)) - 1 for uri in uris)
    assert published < STORM_CHANGES // 2, f"{published} publications for {STORM_CHANGES} changes: no debouncing?"
    assert hover is not None and seconds < HOVER_BOUND_SECONDS, f"hover after the storm took {seconds:.2f} s"

    for uri in uris:
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    for uri in uris:
        await wait_for(lambda uri=uri: publications_for(client, uri)[-1].version is None and not publications_for(client, uri)[-1].diagnostics,
                       f"diagnostics of {uri} cleared on close")
    await asyncio.sleep(1.0)
    after_close = rss_mb(pid)
    report = (f"storm sent in {sent - started:.2f} s, final diagnostics {finals_at - sent:.2f} s later, hover {seconds * 1000:.0f} ms; "
              f"RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB, after close {after_close:.0f} MB")
    print(report)
    assert after_close <= baseline + RETURN_TO_BASELINE_MB, report


async def test_requests_for_closed_and_unknown_documents_get_empty_answers(client: LanguageClient, tmp_path):
    """Hover, code actions, pull diagnostics and inlay hints for a never-opened and for a
    closed document are answered with null/empty results; a change to a closed document and
    a second close are ignored (nothing is published for it again); the server then lints
    and answers for a new document as usual."""
    never = (tmp_path / "never.py").as_uri()
    closed = (tmp_path / "closed.py").as_uri()
    open_document(client, closed, TORCH_LOAD)
    await wait_for(lambda: any(p.version == 1 for p in publications_for(client, closed)), "diagnostics of closed.py")
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=closed)))
    await wait_for(lambda: publications_for(client, closed)[-1].version is None, "clear on close")
    where = types.Position(line=1, character=10)
    for uri in (never, closed):
        document = types.TextDocumentIdentifier(uri=uri)
        assert await client.text_document_hover_async(types.HoverParams(text_document=document, position=where)) is None
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=document, range=types.Range(start=where, end=where),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll])))
        assert not actions
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=document))
        assert report.kind == "full" and not report.items
        hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=document, range=types.Range(start=types.Position(line=0, character=0), end=where)))
        assert not hints
    count = len(publications_for(client, closed))
    replace_document(client, closed, TORCH_LOAD + "again = torch.load(q)\n", version=2)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=closed)))
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=never)))
    fresh = (tmp_path / "fresh.py").as_uri()
    open_document(client, fresh, TORCH_LOAD)
    await wait_for(lambda: any(p.version == 1 for p in publications_for(client, fresh)), "diagnostics of a new document")
    assert [d.code for d in publications_for(client, fresh)[-1].diagnostics] == ["DLX025"]
    hover = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=fresh), position=where))
    assert hover is not None and "DLX025" in hover.contents.value
    assert all(not p.diagnostics for p in publications_for(client, closed)[count - 1:]), "a closed document was linted again"
    assert not [m.message for m in client.messages if m.type == types.MessageType.Error], "the user was shown an error"


def test_cancelled_requests_are_answered_once_and_the_server_keeps_going(tmp_path):
    """Hover, quick-fix and fix-all code actions (the formatting-like request), pull
    diagnostics and inlay hints, each followed at once by ``$/cancelRequest`` (some right
    after a change, so a lint is pending): every request gets exactly one response, a result
    or RequestCancelled (-32800), at least one is cancelled, and the server stays up and
    answers a hover with the rule's explanation."""
    server = RawServer()
    try:
        server.initialize({"crossFile": False, "inlayHints.parameterCounts": True})
        uris = [(tmp_path / f"c{i}.py").as_uri() for i in range(2)]
        base = SOURCES[0].read_text(encoding="utf-8")
        for uri in uris:
            server.open(uri, TORCH_LOAD + base)
            server.wait_for_version(uri, 1)
        whole = {"start": {"line": 0, "character": 0}, "end": {"line": 40, "character": 0}}
        point = {"line": 1, "character": 10}
        requests = [
            ("textDocument/hover", lambda uri: {"textDocument": {"uri": uri}, "position": point}),
            ("textDocument/codeAction", lambda uri: {"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": []}}),
            ("textDocument/codeAction", lambda uri: {"textDocument": {"uri": uri}, "range": whole,
                                                     "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
            ("textDocument/diagnostic", lambda uri: {"textDocument": {"uri": uri}}),
            ("textDocument/inlayHint", lambda uri: {"textDocument": {"uri": uri}, "range": whole}),
        ]
        sent: list[int] = []
        version = 1
        for round_ in range(12):
            if round_ % 2:
                version += 1
                for uri in uris:
                    server.change(uri, TORCH_LOAD + f"# round {round_}\n" + base, version)
            for uri in uris:
                for method, params in requests:
                    request_id = server.send_request(method, params(uri))
                    server.notify("$/cancelRequest", {"id": request_id})
                    sent.append(request_id)
        server.notify("$/cancelRequest", {"id": 99_999})  # an id the server never saw
        outcomes = []
        for request_id in sent:
            response = server.reader.response(request_id, timeout=30)
            outcomes.append("result" if "result" in response else response["error"]["code"])
        print(f"{len(sent)} requests cancelled at once: {outcomes.count(REQUEST_CANCELLED)} RequestCancelled, "
              f"{outcomes.count('result')} answered")
        time.sleep(0.3)
        assert all(len(server.reader.responses(request_id)) == 1 for request_id in sent)
        assert set(outcomes) <= {"result", REQUEST_CANCELLED}, outcomes
        assert REQUEST_CANCELLED in outcomes
        assert server.alive()
        server.wait_for_version(uris[0], version, timeout=30)
        hover = server.hover(uris[0], 1, 10)
        assert "DLX025" in hover["result"]["contents"]["value"]
        assert server.stop() == 0
    finally:
        server.stop()


X_BODY = b'{"jsonrpc": "2.0", "method": "$/x"}'  # an unknown notification, ignored

MALFORMED = [
    ("invalid JSON body", frame(b'{"jsonrpc": "2.0", "id": 500, "method": ')),
    ("JSON that is not an object", frame(b"[1, 2, 3]") + frame(b"42") + frame(b"null")),
    ("unreadable Content-Length", b"Content-Length: twelve\r\n\r\n" + X_BODY),
    ("no Content-Length", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + X_BODY),
    ("huge Content-Length", b"Content-Length: 99999999999999\r\n\r\n" + X_BODY),
    ("Content-Length too small", b"Content-Length: 7\r\n\r\n" + X_BODY),
    # Too large: the bytes of the next message are read as this body, so that message
    # (a notification sent for the purpose) is lost; the one after must not be.
    ("Content-Length too large", b"Content-Length: %d\r\n\r\n" % (len(X_BODY) + 25) + X_BODY
                                 + message({"jsonrpc": "2.0", "method": "$/sacrificed", "params": {}})),
    ("garbage line between frames", b"hello there\r\n\r\n"),
    ("header name in lower case", b"content-length: %d\r\n\r\n" % len(X_BODY) + X_BODY),
    ("notification with garbage params", message({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": "garbage"})
                                         + message({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": [1, {"uri": 5}]})
                                         + message({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": {"deep": []}}})),
    ("message without jsonrpc or with another version", message({"method": "textDocument/didClose", "params": {}})
                                                        + message({"jsonrpc": "1.0", "method": "$/x"})),
]


def test_malformed_json_rpc_is_survived_and_the_next_hover_answered(tmp_path):
    """Each kind of malformed input in `MALFORMED` (bad bodies, bad or missing
    ``Content-Length``, garbage, bad params), then a valid hover: it is answered with the
    DLX025 explanation within 10 s. An unknown method gets MethodNotFound (-32601), with or
    without params; a request whose params have the wrong shape InvalidParams (-32602); a
    request without ``"jsonrpc": "2.0"`` InvalidRequest (-32600); a hover at a position past
    the end of the document a null result."""
    server = RawServer()
    try:
        server.initialize(OPTIONS)
        uri = (tmp_path / "ok.py").as_uri()
        server.open(uri, TORCH_LOAD)
        server.wait_for_version(uri, 1)
        for what, data in MALFORMED:
            server.write(data)
            hover = server.hover(uri, 1, 10, timeout=10)
            assert "DLX025" in hover["result"]["contents"]["value"], what
        assert server.request("dlx/noSuchMethod", {})["error"]["code"] == METHOD_NOT_FOUND
        assert server.request("dlx/noSuchMethod")["error"]["code"] == METHOD_NOT_FOUND  # params omitted
        hover_params = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 10}}
        server.write(message({"id": 901, "method": "textDocument/hover", "params": hover_params}))
        server.write(message({"jsonrpc": "1.0", "id": 902, "method": "textDocument/hover", "params": hover_params}))
        assert server.reader.response(901)["error"]["code"] == INVALID_REQUEST
        assert server.reader.response(902)["error"]["code"] == INVALID_REQUEST
        assert server.request("textDocument/hover", {"textDocument": 5, "position": "top"})["error"]["code"] == INVALID_PARAMS
        assert server.request("textDocument/codeAction", {"textDocument": {"uri": uri}})["error"]["code"] == INVALID_PARAMS
        assert server.hover(uri, 10_000, 3)["result"] is None
        assert "DLX025" in server.hover(uri, 1, 10)["result"]["contents"]["value"]
        assert server.alive()
        assert server.stop() == 0
    finally:
        server.stop()


F_GETPIPE_SZ = 1032  # Linux fcntl: a pipe's capacity


def pipe_bytes(stream) -> tuple[int, int]:
    """(bytes waiting unread, capacity) of a pipe (FIONREAD, F_GETPIPE_SZ)."""
    raw = fcntl.ioctl(stream.fileno(), termios.FIONREAD, struct.pack("i", 0))
    return struct.unpack("i", raw)[0], fcntl.fcntl(stream.fileno(), F_GETPIPE_SZ)


def test_a_client_that_stops_reading_does_not_grow_the_server(tmp_path):
    """With 20 documents with findings open and lints on every change (debounce 0), the
    client stops reading and sends changes (to all but one) as fast as the server takes them, for 4 s.

    The server's output fills the pipe (at least half its capacity waits unread); the server
    then waits for the client instead of queueing output in memory, so it stops taking input
    (the client's writes make no progress over the last second) and its RSS stays within
    100 MB of what it was before (documents and their parses included). Once the client
    reads again, the server is alive and answers a hover within 20 s, after the backlog."""
    server = RawServer()
    try:
        server.initialize({**OPTIONS, "lintDebounceMs": 0})
        base = TORCH_LOAD + SOURCES[0].read_text(encoding="utf-8")
        probe = (tmp_path / "probe.py").as_uri()  # not changed: its diagnostics stay current
        uris = [(tmp_path / f"flood{i}.py").as_uri() for i in range(20)]
        for uri in [probe] + uris:
            server.open(uri, base)
        for uri in [probe] + uris:
            server.wait_for_version(uri, 1)
        before = server.rss_mb()
        server.reader.pause()
        stop = threading.Event()
        progress = [0]

        def flood() -> None:
            version = 1
            while not stop.is_set():
                version += 1
                for uri in uris:
                    try:
                        server.change(uri, f"# {version}\n" + base, version)
                    except OSError:
                        return
                    progress[0] += 1

        writer = threading.Thread(target=flood, daemon=True)
        writer.start()
        samples = []
        for _ in range(12):
            time.sleep(0.25)
            samples.append(server.rss_mb())
        stalled_at = progress[0]
        for _ in range(4):
            time.sleep(0.25)
            samples.append(server.rss_mb())
        unread, capacity = pipe_bytes(server.process.stdout)
        report = (f"{progress[0]} changes taken, {unread} of {capacity} bytes unread; "
                  f"RSS before {before:.0f} MB, at most {max(samples):.0f} MB while not read")
        print(report)
        assert server.alive()
        assert unread >= capacity // 2, f"the server's output did not back up: {report}"
        assert progress[0] == stalled_at, f"the server kept taking input although it could not write: {report}"
        assert max(samples) <= before + 100, report
        stop.set()
        server.reader.resume()
        writer.join(60)
        assert not writer.is_alive(), "the server did not take its input after the client read again"
        started = time.perf_counter()
        hover = server.hover(probe, 1, 10, timeout=20)
        assert "DLX025" in hover["result"]["contents"]["value"]
        assert time.perf_counter() - started < 20
        assert server.alive()
    finally:
        server.stop()
