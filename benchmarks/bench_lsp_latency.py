"""Benchmark: language-server latency from ``textDocument/didChange`` to the
``textDocument/publishDiagnostics`` for that version (a script, not a test).

Usage:
    python benchmarks/bench_lsp_latency.py [PATH ...] [--edits 50] [--corpus DIR]

Each PATH is opened in a real server subprocess (``python -m dlx_lint server``) with the
debounce set to 0 ms (``lintDebounceMs``), so the figure is the server's own work: receiving
the change, linting, converting, publishing. Then `--edits` single-line edits are sent one
at a time, spread over the file (append ``  # bench N`` to a code line, then remove it again,
as typing does), each waiting for the diagnostics of its version. Median and 95th percentile
are printed in milliseconds.

Default paths (from the corpus `../shared/corpus/build.sh` builds; built at `--corpus`,
default /tmp/corpus, when absent): a ~500-line training script
(torchtitan `experiments/forge/example_train.py`, 479 lines) and a ~5,000-line module
(transformers `modeling_utils.py`, 5,306 lines). Targets: <= 50 ms and <= 400 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parent.parent
TRAINING_SCRIPT = "src/torchtitan/torchtitan/experiments/forge/example_train.py"
LARGE_MODULE = "src/transformers/transformers/modeling_utils.py"


def shared_dir() -> Path:
    for candidate in (os.environ.get("DLX_SHARED_DIR"), REPO.parent / "shared", Path("/work/shared")):
        if candidate and (Path(candidate) / "corpus" / "build.sh").is_file():
            return Path(candidate)
    raise SystemExit("cannot find shared/corpus/build.sh; set DLX_SHARED_DIR")


def ensure_corpus(corpus: Path) -> None:
    """Build the corpus with the shared script when its files are missing."""
    if (corpus / LARGE_MODULE).is_file() and (corpus / TRAINING_SCRIPT).is_file():
        return
    print(f"building the corpus in {corpus} ...", file=sys.stderr)
    subprocess.run(["bash", str(shared_dir() / "corpus" / "build.sh"), str(corpus)], check=True)


def edit_lines(lines: list[str], count: int) -> list[int]:
    """`count` line numbers of code lines (not blank, not inside obvious strings), spread
    evenly over the file."""
    candidates = [
        i for i, line in enumerate(lines)
        if line.strip() and not line.lstrip().startswith(("#", '"', "'", "@")) and line.rstrip().endswith((")", "]", "0", "1", "e", "s", "t", "n"))
        and "\\" not in line and '"""' not in line and "'''" not in line
    ]
    if not candidates:
        raise SystemExit("no editable code line found")
    step = max(1, len(candidates) // count)
    return [candidates[(i * step) % len(candidates)] for i in range(count)]


async def measure(path: Path, edits: int) -> list[float]:
    """Milliseconds from didChange to the matching publishDiagnostics, one per edit."""
    client = LanguageClient("dlx-lint-bench", "1")
    arrived: dict[int, float] = {}
    event = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            arrived[params.version] = time.perf_counter()
            event.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        if params.type == types.MessageType.Error:
            print(f"server: {params.message}", file=sys.stderr)

    await client.start_io(sys.executable, "-m", "dlx_lint", "server")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"lintDebounceMs": 0},
    ))
    client.initialized(types.InitializedParams())
    text = path.read_text(encoding="utf-8")
    uri = path.resolve().as_uri()

    async def wait_version(version: int) -> float:
        while version not in arrived:
            event.clear()
            await asyncio.wait_for(event.wait(), timeout=120)
        return arrived[version]

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await wait_version(1)
    lines = text.splitlines()
    targets = edit_lines(lines, edits)
    latencies = []
    suffix_on: dict[int, str] = {}
    for n, line_no in enumerate(targets):
        version = n + 2
        line = lines[line_no]
        if line_no in suffix_on:  # remove what an earlier edit appended
            suffix = suffix_on.pop(line_no)
            start, end, new_text = len(line), len(line) + len(suffix), ""
        else:
            suffix = f"  # bench {n}"
            suffix_on[line_no] = suffix
            start, end, new_text = len(line), len(line), suffix
        # Columns: the benchmark lines are ASCII-safe enough; UTF-16 matters only for counts.
        start16 = len(line[:start].encode("utf-16-le")) // 2
        end16 = start16 + (len(suffix.encode("utf-16-le")) // 2 if end > start else 0)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line_no, character=start16), end=types.Position(line=line_no, character=end16)),
            text=new_text,
        )
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
        received = await wait_version(version)
        latencies.append((received - sent) * 1000.0)
        lines[line_no] = line + new_text if new_text else line[:start]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="Python files to edit (default: the two corpus files)")
    parser.add_argument("--edits", type=int, default=50, help="number of edits per file (default 50)")
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/corpus"), help="corpus folder (built when absent)")
    args = parser.parse_args()
    paths = args.paths
    if not paths:
        ensure_corpus(args.corpus)
        paths = [args.corpus / TRAINING_SCRIPT, args.corpus / LARGE_MODULE]
    for path in paths:
        if not path.is_file():
            ensure_corpus(args.corpus)
        latencies = asyncio.run(measure(path, args.edits))
        line_count = len(path.read_text(encoding="utf-8").splitlines())
        print(f"{path} ({line_count} lines, {len(latencies)} edits): "
              f"median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
              f"max {max(latencies):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
