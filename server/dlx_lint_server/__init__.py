"""The dlx-lint language server (LSP over stdio), a thin adapter over the `dlx_lint` engine.

Start it with ``dlx-lint server``. Modules, one job each:

- `server`: the pygls server, its features and the guard around every handler;
- `documents`: open documents, per-document debounce, the lint worker, stale-result checks;
- `linting`: running the engine for a snapshot and converting the result;
- `convert`: engine values -> LSP values, the only code-point <-> UTF-16 conversion;
- `hover`, `code_actions`: the two request features;
- `settings`: editor settings and how they combine with ``pyproject.toml``;
- `notebooks`: LSP notebook documents (cells linted together, published per cell).
"""

from __future__ import annotations


def main() -> int:
    """Run the server on standard input/output (see `dlx_lint_server.server.main`)."""
    from .server import main as server_main

    return server_main()
