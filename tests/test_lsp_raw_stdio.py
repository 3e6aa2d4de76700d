"""Malformed input over raw stdio: the server must answer the next valid request.

These bytes are written by hand on purpose (a well-behaved client library cannot send them).
"""

from __future__ import annotations

import subprocess

from .lsp_support import SERVER_COMMAND, Reader, frame, message


def test_malformed_messages_do_not_stop_the_server(tmp_path):
    process = subprocess.Popen(SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    reader = Reader(process.stdout)
    reader.start()
    try:
        send = process.stdin
        send.write(message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
        send.flush()
        assert "capabilities" in reader.response(1)["result"]
        send.write(message({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        send.write(frame(b"{this is not json"))
        send.write(frame(b'{"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": 5}}'))
        send.write(message({"jsonrpc": "2.0", "id": 3, "method": "dlx/noSuchMethod", "params": {}}))
        # A change to a document that was never opened.
        send.write(message({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": (tmp_path / "ghost.py").as_uri(), "version": 2},
            "contentChanges": [{"text": "import torch\n"}]}}))
        uri = (tmp_path / "ok.py").as_uri()
        send.write(message({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "import torch\nstate = torch.load(p)\n"}}}))
        send.write(message({"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": 10}}}))
        send.flush()
        assert reader.response(2)["error"]["code"] == -32602  # invalid params: an error response, not a crash
        assert reader.response(3)["error"]["code"] == -32601  # method not found
        hover = reader.response(4)
        assert "error" not in hover
        # The hover may race the first lint; once diagnostics are out it must explain DLX025.
        with reader.arrived:
            reader.arrived.wait_for(lambda: any(m.get("method") == "textDocument/publishDiagnostics" for m in reader.messages), timeout=20)
        send.write(message({"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": 10}}}))
        send.write(message({"jsonrpc": "2.0", "id": 6, "method": "shutdown"}))
        send.write(message({"jsonrpc": "2.0", "method": "exit"}))
        send.flush()
        assert "DLX025" in reader.response(5)["result"]["contents"]["value"]
        assert reader.response(6)["result"] is None
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
