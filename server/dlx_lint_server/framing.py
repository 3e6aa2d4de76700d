"""Reading LSP messages (``Content-Length`` framing) from standard input, recovering from
malformed frames.

pygls' reader (``pygls.io_.run_async``) trusts the frame it is given: after a header block
without a readable ``Content-Length`` (``Content-Length: abc``, a lower-case name, a
missing header) it skips the blank line, reads the next body as a header line (glued to
the header after it, since JSON bodies carry no line break) and never finds the start of a
frame again, so every later message is ignored while the process looks alive. A huge
length (``Content-Length: 99999999999``) makes it allocate that many bytes.

`read_messages` reads the same framing, but:

* header names are case-insensitive and whitespace around the value is allowed;
* a line that is not a header, or a header block without a valid length, is skipped;
* a line with ``Content-Length:`` after other bytes (a body, or the tail of one, glued to
  the next frame's header) restarts the header block at that header, so the stream is in
  step again at the next frame;
* lengths above `MAX_MESSAGE_BYTES` are refused (the bytes that follow are skipped as
  garbage until the next frame), and header lines are read in pieces of at most
  `MAX_LINE_BYTES`, so memory stays bounded whatever the client sends.

* a body that is not JSON but holds a ``Content-Length:`` header (the length was too large,
  so the next frame was read as the end of the body) is cut there: the part before is
  handled as the message (it is usually the whole of it) and the rest is read again as the
  start of the next frame, so nothing is lost (the reader still waits until the claimed
  length has arrived).

A body that is not valid JSON-RPC is reported to `error_handler`, as pygls does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any, BinaryIO, Callable

logger = logging.getLogger(__name__)

# The engine refuses sources above 1,250,000 characters; even fully \\u-escaped, such a
# document fits in this. Larger frames are treated as malformed.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
_CARRY_BYTES = 64

# RFC 7230 header: token ":" OWS value OWS CRLF (a bare LF is accepted too).
_HEADER = re.compile(rb"([A-Za-z0-9!#$%&'*+.^_`|~-]+):[ \t]*(.*?)[ \t]*\r?\n", re.S)
_CONTENT_LENGTH = re.compile(rb"content-length:", re.I)
_HEADER_NAME = b"content-length:"
_INVALID = -1


class BlockingReader:
    """Reads a blocking binary stream (standard input) on an executor thread, so the event
    loop never waits for the client."""

    def __init__(self, stream: BinaryIO, executor=None) -> None:
        self.stream = stream
        self.executor = executor
        self.pending = b""  # bytes given back with `unread`, read before the stream

    def unread(self, data: bytes) -> None:
        """Give `data` back: the next reads return it first."""
        self.pending = data + self.pending

    async def readline(self, limit: int) -> bytes:
        """One line (with its line break), or at most `limit` bytes of a longer line; b"" at
        end of input."""
        if self.pending:
            end = self.pending.find(b"\n", 0, limit)
            if end >= 0 or len(self.pending) >= limit:
                cut = end + 1 if end >= 0 else limit
                line, self.pending = self.pending[:cut], self.pending[cut:]
                return line
            line, self.pending = self.pending, b""
            return line + await self._run(self.stream.readline, limit - len(line))
        return await self._run(self.stream.readline, limit)

    async def read(self, count: int) -> bytes:
        """`count` bytes, fewer only at end of input."""
        if self.pending:
            data, self.pending = self.pending[:count], self.pending[count:]
            return data + (await self._run(self.stream.read, count - len(data)) if len(data) < count else b"")
        return await self._run(self.stream.read, count)

    async def _run(self, function, argument: int) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, argument)


def parse_length(value: bytes) -> int:
    """A ``Content-Length`` value as a byte count, or -1 when it is not a decimal number of
    at most `MAX_MESSAGE_BYTES`."""
    if not value.isdigit() or len(value) > 12:
        return _INVALID
    length = int(value)
    return length if length <= MAX_MESSAGE_BYTES else _INVALID


async def read_messages(
    reader: BlockingReader,
    handle_body: Callable[[bytes], Any],
    stop_event: threading.Event,
) -> None:
    """Read frames from `reader` until end of input or `stop_event`, passing each body to
    `handle_body` (which must not raise; see `dispatch`)."""
    length: int | None = None  # None: no Content-Length in this header block yet
    in_headers = False
    carry = b""  # the end of an over-long line, to find a header glued to it
    while not stop_event.is_set():
        piece = await reader.readline(MAX_LINE_BYTES)
        if not piece:
            return
        if not piece.endswith(b"\n"):
            carry = (carry + piece)[-_CARRY_BYTES:]
            continue
        line, long_line = carry + piece, bool(carry)
        carry = b""
        if not long_line and line in (b"\r\n", b"\n"):
            if length is not None and length != _INVALID:
                body = await reader.read(length)
                if len(body) < length:
                    return
                glued = _glued_frame(body)
                if glued:
                    logger.warning("dlx-lint: a Content-Length too large took in the next frame; reading it again")
                    reader.unread(body[glued:])
                    body = body[:glued]
                handle_body(body)
            elif in_headers:
                logger.warning("dlx-lint: skipped a message without a valid Content-Length header")
            length, in_headers = None, False
            continue
        start = None
        for match in _CONTENT_LENGTH.finditer(line):
            start = match.start()
        if start:  # a header glued after other bytes: the frame before it was malformed
            logger.warning("dlx-lint: skipped %s bytes of malformed input before a Content-Length header",
                           "many" if long_line else start)
            line, length, in_headers = line[start:], None, False
        header = _HEADER.fullmatch(line)
        if header is None or (long_line and not start):
            if in_headers or length is not None:
                logger.warning("dlx-lint: skipped a malformed header block")
            length, in_headers = None, False
            continue
        in_headers = True
        if header.group(1).lower() == b"content-length":
            length = parse_length(header.group(2))
            if length == _INVALID:
                logger.warning("dlx-lint: unreadable or too large Content-Length %r", header.group(2)[:40])


def _glued_frame(body: bytes) -> int:
    """Where the next frame's header starts inside `body` when `body` is not JSON (0: none):
    a ``Content-Length:`` inside it, or a beginning of one at its very end (the length was
    too large by fewer bytes than the header name). A JSON body may quote
    ``Content-Length:`` (a document about HTTP), so only bodies that do not parse are cut."""
    match = _CONTENT_LENGTH.search(body, 1)
    tail = next((size for size in range(min(len(_HEADER_NAME), len(body)) - 1, 0, -1)
                 if body[-size:].lower() == _HEADER_NAME[:size]), 0)
    if match is None and not tail:
        return 0
    try:
        json.loads(body)
    except ValueError:
        return match.start() if match is not None else len(body) - tail
    return 0


def dispatch(protocol, error_handler: Callable[[Exception, type], Any], error_type: type) -> Callable[[bytes], None]:
    """A body handler that decodes JSON-RPC and hands it to a pygls protocol, reporting (not
    raising) anything that goes wrong, as pygls' own reader does."""

    def handle(body: bytes) -> None:
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
            protocol.handle_message(message)
        except Exception as error:
            logger.debug("dlx-lint: unable to handle a message", exc_info=True)
            error_handler(error, error_type)

    return handle
