"""The server's message reader (`dlx_lint_server.framing`) and protocol bookkeeping, in process:
malformed frames cost at most the messages they overlap, and handled notifications leave
nothing behind."""

from __future__ import annotations

import asyncio
import io
import json
import threading

import pytest

from dlx_lint_server import framing
from dlx_lint_server.server import create_server


def frame(body: bytes, header: bytes | None = None) -> bytes:
    """`body` with a correct Content-Length header (or the given raw header block)."""
    if header is None:
        header = b"Content-Length: %d\r\n\r\n" % len(body)
    return header + body


def body(number: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": "test/n", "params": {"n": number}}).encode()


def read_all(data: bytes) -> list[int]:
    """The `n` of every body the reader hands on, in order (a body that is not one of ours
    is recorded as -1)."""
    found: list[int] = []

    def handle(raw: bytes) -> None:
        try:
            found.append(json.loads(raw)["params"]["n"])
        except (ValueError, KeyError, TypeError):
            found.append(-1)

    reader = framing.BlockingReader(io.BytesIO(data))
    asyncio.run(asyncio.wait_for(framing.read_messages(reader, handle, threading.Event()), 20))
    return found


def test_well_formed_frames_with_header_variants():
    data = (frame(body(1))
            + frame(body(2), b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body(2)))
            + frame(body(3), b"content-length:%d \n\n" % len(body(3)))
            + frame(body(4), b"Content-Type: application/vscode-jsonrpc\r\nContent-Length: %d\r\n\r\n" % len(body(4))))
    assert read_all(data) == [1, 2, 3, 4]


@pytest.mark.parametrize("header", [
    b"Content-Length: abc\r\n\r\n",
    b"Content-Length: -5\r\n\r\n",
    b"Content-Length: 99999999999999999999\r\n\r\n",
    b"Content-Length: %d\r\n\r\n" % (framing.MAX_MESSAGE_BYTES + 1),
    b"Content-Type: application/vscode-jsonrpc\r\n\r\n",
    b"\r\n",
    b"Content-Lenght: 80\r\n\r\n",
    b"garbage without a colon\r\n\r\n",
])
def test_a_frame_without_a_usable_length_costs_only_itself(header):
    """pygls' reader lost every later message after such a frame."""
    data = frame(body(1)) + frame(body(2), header) + frame(body(3)) + frame(body(4))
    assert read_all(data) == [1, 3, 4]


def test_a_length_too_small_costs_only_that_message():
    data = frame(body(1)) + frame(body(2), b"Content-Length: 10\r\n\r\n") + frame(body(3)) + frame(body(4))
    assert read_all(data) == [1, -1, 3, 4]


@pytest.mark.parametrize("extra", [1, 14, 15, 30, 300])
def test_a_length_too_large_loses_no_message(extra):
    # The bytes read past the real body are the next frames: they are read again (a user saw
    # a request after such a frame never answered, and its client hang), and the body cut
    # before them is the message itself.
    data = frame(body(1)) + frame(body(2), b"Content-Length: %d\r\n\r\n" % (len(body(2)) + extra))
    data += b"".join(frame(body(n)) for n in range(3, 12))
    assert read_all(data) == [1, 2, *range(3, 12)]


def test_a_json_body_quoting_a_content_length_header_is_one_message():
    quoted = json.dumps({"jsonrpc": "2.0", "method": "test/n", "params": {"n": 7, "text": "Content-Length: 12\r\n"}}).encode()
    assert read_all(frame(body(1)) + frame(quoted) + frame(body(2))) == [1, 7, 2]


def test_unread_bytes_come_back_before_the_stream():
    reader = framing.BlockingReader(io.BytesIO(b"tail\nrest"))
    reader.unread(b"ab\ncd")

    async def go():
        return [await reader.readline(100), await reader.readline(100), await reader.read(4)]

    assert asyncio.run(go()) == [b"ab\n", b"cdtail\n", b"rest"]


def test_an_overlong_garbage_line_glued_to_a_header_is_skipped_in_pieces():
    garbage = b"x" * (3 * framing.MAX_LINE_BYTES + 17)
    data = frame(body(1)) + garbage + frame(body(2)) + b"\r\n" * 3 + garbage + b"\r\n" + frame(body(3))
    assert read_all(data) == [1, 2, 3]


def test_end_of_input_inside_a_body_stops_reading():
    data = frame(body(1)) + frame(body(2))[:-5]
    assert read_all(data) == [1]


def test_handled_notifications_leave_no_futures_behind():
    """Regression: pygls kept a finished future per notification in ``_request_futures``
    (about 2 KB per keystroke, never freed). After initialize, a document opened and 300
    changes, nothing is left there."""

    class Writer:
        def __init__(self) -> None:
            self.data: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.data.append(data)

        def close(self) -> None:
            pass

    async def scenario() -> int:
        server = create_server()
        server.protocol.set_writer(Writer())
        handle = framing.dispatch(server.protocol, lambda error, source: None, Exception)

        def send(payload: dict) -> None:
            handle(json.dumps(payload).encode())

        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        uri = "untitled:leak"
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "import torch\n"}}})
        for version in range(2, 302):
            send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": f"import torch\nx = {version}\n"}]}})
        send({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
        await asyncio.sleep(0.5)
        left = len(server.protocol._request_futures)
        server.store.shutdown()
        server.expert.shutdown()
        return left

    assert asyncio.run(scenario()) == 0
