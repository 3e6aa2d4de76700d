"""Benchmark: the language server under an editor-load edit storm (a script, not a test).

Usage:
    python benchmarks/bench_lsp_load.py [PATH ...] [--changes 1000] [--debounce MS]

The PATHs (default: the five documents of tests/test_lsp_load.py) are opened in a real server
subprocess (``python -m dlx_lint server``, cross-file inference off, the default debounce
unless --debounce), their first diagnostics awaited and each hovered once: the RSS then is
the baseline. Then `--changes` full-text changes are sent round-robin without waiting (the
texts of `tests.test_lsp_load.variant`), and the script prints:

* how long sending the storm took and how many publications it caused,
* the time from the last change to the final version's diagnostics of every document,
* the latency of a hover right after,
* the server's RSS (``VmRSS``): baseline, peak during the storm (sampled every 20 ms) and
  after closing every document plus a 1 s settle.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.lsp_support import RawServer  # noqa: E402
from tests.test_lsp_load import OPTIONS, SOURCES, variant  # noqa: E402


def run(paths: list[Path], changes: int, debounce: int | None) -> dict[str, float]:
    """Run the storm once and return the measurements (seconds, milliseconds, MB)."""
    options = dict(OPTIONS)
    if debounce is not None:
        options["lintDebounceMs"] = debounce
    server = RawServer()
    try:
        server.initialize(options)
        texts = [path.read_text(encoding="utf-8") for path in paths]
        uris = [f"untitled:bench-{i}-{path.name}" for i, path in enumerate(paths)]
        for uri, text in zip(uris, texts):
            server.open(uri, text)
        for uri in uris:
            first = server.wait_for_version(uri, 1, timeout=120)
            start = first["diagnostics"][0]["range"]["start"] if first["diagnostics"] else {"line": 0, "character": 0}
            server.hover(uri, start["line"], start["character"], timeout=60)
        baseline = server.rss_mb()
        before = sum(len(server.publications(uri)) for uri in uris)

        peak = [baseline]
        sampling = threading.Event()
        sampling.set()

        def sample() -> None:
            while sampling.is_set():
                peak[0] = max(peak[0], server.rss_mb())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        versions = {uri: 1 for uri in uris}
        started = time.perf_counter()
        for change in range(changes):
            index = change % len(uris)
            uri = uris[index]
            versions[uri] += 1
            server.change(uri, variant(texts[index], versions[uri]), versions[uri])
        sent = time.perf_counter()
        for uri in uris:
            server.wait_for_version(uri, versions[uri], timeout=300)
        final = time.perf_counter()
        last = server.publications(uris[0])[-1]
        start = last["diagnostics"][0]["range"]["start"] if last["diagnostics"] else {"line": 0, "character": 0}
        hover_started = time.perf_counter()
        server.hover(uris[0], start["line"], start["character"], timeout=60)
        hover_ms = (time.perf_counter() - hover_started) * 1000
        sampling.clear()
        sampler.join()
        publications = sum(len(server.publications(uri)) for uri in uris) - before

        for uri in uris:
            server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        server.reader.wait(lambda: all(server.publications(uri)[-1].get("version") is None for uri in uris), "clears on close", 60)
        time.sleep(1.0)
        after_close = server.rss_mb()
        return {
            "send_s": sent - started, "final_s": final - sent, "hover_ms": hover_ms, "publications": publications,
            "baseline_mb": baseline, "peak_mb": peak[0], "after_close_mb": after_close,
        }
    finally:
        server.stop()


def main() -> int:
    """Parse the arguments, run the storm, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="Python files to open (default: the load test's five)")
    parser.add_argument("--changes", type=int, default=1000, help="number of changes in the storm (default 1000)")
    parser.add_argument("--debounce", type=int, default=None, help="lintDebounceMs (default: the server's default)")
    args = parser.parse_args()
    paths = args.paths or SOURCES
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in paths)
    result = run(paths, args.changes, args.debounce)
    debounce = "default" if args.debounce is None else f"{args.debounce} ms"
    print(f"{args.changes} changes over {len(paths)} documents ({lines} lines in all), debounce {debounce}")
    print(f"  edit storm sent in           {result['send_s'] * 1000:8.1f} ms ({result['publications']} publications)")
    print(f"  final diagnostics after      {result['final_s'] * 1000:8.1f} ms (from the last change)")
    print(f"  hover right after            {result['hover_ms']:8.1f} ms")
    print(f"  RSS baseline / peak / closed {result['baseline_mb']:6.1f} / {result['peak_mb']:.1f} / {result['after_close_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
