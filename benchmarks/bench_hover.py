"""Benchmark: expert-hover latency on real model files (a script, not a test).

Usage:
    python benchmarks/bench_hover.py [--corpus DIR] [--hovers N] [--no-lsp]

Files: model definitions from the corpus `../shared/corpus/build.sh` builds (built at
`--corpus`, default /tmp/corpus, when absent): transformers' BERT, GPT-2 and Llama modeling
files, timm's ResNet, ViT and ConvNeXt, torchvision's ResNet and VGG. In each file up to
`--hovers` positions are hovered, spread over the file: callee names of layer and module
constructor calls, names of ``nn.Module`` subclasses, and names with a concept note.

Three measurements:

1. engine, in process, without cross-file inference: per hover, `expert_hover` with the
   file's analysis (semantic model and hover targets) already built -- what the server does
   for every hover after the first on a document version; the analysis itself (once per
   version: the server reuses the lint's parse, so parse is shown apart) is reported apart;
2. engine with cross-file inference (a `WorkspaceResolver` rooted at the package): the same
   hovers; jedi's cost is reported separately (time waiting for jedi, lookups, cache hits,
   files parsed into models), with the first hover of each package (jedi's start) apart;
3. the real server over stdio (``python -m dlx_lint server``), ``crossFile`` false then true:
   the ``textDocument/hover`` round trip, after the document's diagnostics arrived.

Median and 95th percentile in milliseconds. Target: median under 100 ms.
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

import libcst as cst

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lint_rules"))

from dlx_lint import crossfile  # noqa: E402
from dlx_lint.expert.concepts import concept_for  # noqa: E402
from dlx_lint.expert.hover import expert_hover  # noqa: E402
from dlx_lint.expert.locate import HoverTargets  # noqa: E402
from dlx_lint.expert.params import is_candidate  # noqa: E402
from dlx_lint.semantic.model import SemanticModel  # noqa: E402

FILES = {
    "src/transformers": [
        "transformers/models/bert/modeling_bert.py",
        "transformers/models/gpt2/modeling_gpt2.py",
        "transformers/models/llama/modeling_llama.py",
    ],
    "src/timm": [
        "timm/models/resnet.py",
        "timm/models/vision_transformer.py",
        "timm/models/convnext.py",
    ],
    "src/torchvision": [
        "torchvision/models/resnet.py",
        "torchvision/models/vgg.py",
    ],
}


def shared_dir() -> Path:
    for candidate in (os.environ.get("DLX_SHARED_DIR"), REPO.parent / "shared", Path("/work/shared")):
        if candidate and (Path(candidate) / "corpus" / "build.sh").is_file():
            return Path(candidate)
    raise SystemExit("cannot find shared/corpus/build.sh; set DLX_SHARED_DIR")


def ensure_corpus(corpus: Path) -> None:
    if all((corpus / root / rel).is_file() for root, rels in FILES.items() for rel in rels):
        return
    print(f"building the corpus in {corpus} ...", file=sys.stderr)
    subprocess.run(["bash", str(shared_dir() / "corpus" / "build.sh"), str(corpus)], check=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return f"median {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms   max {max(values):7.1f} ms   (n={len(values)})"


def hover_positions(model: SemanticModel, targets: HoverTargets, limit: int) -> list[tuple[int, int]]:
    """Spread-out (row, column) positions of hover targets that have something to show."""
    chosen = []
    for target in targets.targets:
        if target.kind == "call" and is_candidate(model, target.node):
            chosen.append(target)
        elif target.kind == "class" and model.classes.get(target.node) is not None and model.classes[target.node].is_module:
            chosen.append(target)
        elif target.kind in ("import", "reference", "call"):
            qualname = target.qualname if target.kind == "import" else (
                model.qualname(target.node.func) if target.kind == "call" and isinstance(target.node.func, (cst.Name, cst.Attribute))
                else model.qualname(target.node) if target.kind == "reference" else None)
            if concept_for(qualname) is not None:
                chosen.append(target)
    chosen.sort(key=lambda t: t.span)
    step = max(1, len(chosen) // limit)
    return [(t.span[0], t.span[1]) for t in chosen[::step][:limit]]


def analyse(path: Path, resolver=None) -> tuple[SemanticModel, HoverTargets, float, float]:
    text = path.read_text(encoding="utf-8")
    started = time.perf_counter()
    module = cst.parse_module(text)
    parsed = time.perf_counter()
    model = SemanticModel(module, text, str(path), None, resolver=resolver)
    targets = HoverTargets(model)
    done = time.perf_counter()
    return model, targets, (parsed - started) * 1000, (done - parsed) * 1000


def engine_benchmark(corpus: Path, hovers: int) -> dict[str, list[tuple[int, int]]]:
    print("== engine, in process ==")
    positions: dict[str, list[tuple[int, int]]] = {}
    warm: list[float] = []
    parse_ms: list[float] = []
    analysis_ms: list[float] = []
    for root, rels in FILES.items():
        for rel in rels:
            path = corpus / root / rel
            model, targets, parse, analysis = analyse(path)
            parse_ms.append(parse)
            analysis_ms.append(analysis)
            chosen = hover_positions(model, targets, hovers)
            positions[str(path)] = chosen
            for row, column in chosen:
                started = time.perf_counter()
                expert_hover(model, row, column, targets=targets)
                warm.append((time.perf_counter() - started) * 1000)
    print(f"hover, analysis built (no cross-file): {summary(warm)}")
    print(f"per document version, parse (shared with the lint when texts match): {summary(parse_ms)}")
    print(f"per document version, semantic model + hover targets:               {summary(analysis_ms)}")

    print("\n== engine with cross-file inference (jedi) ==")
    crossfile.configure(call_timeout=10.0, request_budget=None)
    cross: list[float] = []
    starts: list[float] = []
    totals = {"jedi_seconds": 0.0, "jedi_calls": 0, "lookups": 0, "cache_hits": 0, "parsed_files": 0, "parse_seconds": 0.0}
    for root, rels in FILES.items():
        resolver = crossfile.WorkspaceResolver(str(corpus / root))
        # jedi's start (its inspection subprocess and the builtins), once per process and
        # environment: the server does it in the background when a document opens.
        started = time.perf_counter()
        crossfile._executor().submit(resolver._goto_safely, str(corpus / root / rels[0]), "os.path").result()
        starts.append((time.perf_counter() - started) * 1000)
        for rel in rels:
            path = corpus / root / rel
            model, targets, _parse, _analysis = analyse(path, resolver)
            for row, column in positions[str(path)]:
                started = time.perf_counter()
                with resolver.request():
                    expert_hover(model, row, column, targets=targets, time_limit=5.0)
                cross.append((time.perf_counter() - started) * 1000)
        for key, value in resolver.stats.snapshot().items():
            if key in totals:
                totals[key] += value
    print(f"hover with cross-file (5 s limit):     {summary(cross)}")
    print(f"jedi start per package (warm-up):      {summary(starts)}")
    print(f"jedi: {totals['jedi_calls']} lookups ran jedi ({totals['jedi_seconds'] * 1000:.0f} ms waiting in total, parse included, "
          f"{totals['jedi_seconds'] * 1000 / max(1, totals['jedi_calls']):.1f} ms each), {totals['cache_hits']} answered from "
          f"the cache, {totals['lookups']} lookups; {totals['parsed_files']} workspace files parsed into models "
          f"({totals['parse_seconds'] * 1000:.0f} ms)")
    return positions


async def lsp_benchmark(corpus: Path, positions: dict[str, list[tuple[int, int]]], cross_file: bool) -> list[float]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("dlx-lint-bench", "1")
    published: set[str] = set()
    event = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published.add(params.uri)
        event.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params) -> None:
        pass

    await client.start_io(sys.executable, "-m", "dlx_lint", "server", env={**os.environ, "PYTHONPATH": str(REPO / "lint_rules") + os.pathsep + str(REPO / "server")})
    times: list[float] = []
    try:
        # One server for every package: each package folder is a workspace folder (its root).
        folders = [types.WorkspaceFolder(uri=(corpus / root).as_uri(), name=root) for root in FILES]
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=folders,
            initialization_options={"lintDebounceMs": 0, "crossFile": cross_file},
        ))
        client.initialized(types.InitializedParams())
        for path_text, chosen in positions.items():
            path = Path(path_text)
            uri = path.as_uri()
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines()
            event.clear()
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
            deadline = time.perf_counter() + 60
            while uri not in published and time.perf_counter() < deadline:
                await asyncio.wait_for(event.wait(), 60)
                event.clear()
            for row, column in chosen:
                line = lines[row - 1]
                character = len(line[:column].encode("utf-16-le")) // 2
                started = time.perf_counter()
                await client.text_document_hover_async(types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=row - 1, character=character)))
                times.append((time.perf_counter() - started) * 1000)
            client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="/tmp/corpus", type=Path)
    parser.add_argument("--hovers", type=int, default=40, help="hover positions per file")
    parser.add_argument("--no-lsp", action="store_true", help="skip the language-server round trips")
    args = parser.parse_args()
    ensure_corpus(args.corpus)
    positions = engine_benchmark(args.corpus, args.hovers)
    if args.no_lsp:
        return
    print("\n== language server over stdio (hover round trip) ==")
    for cross_file in (False, True):
        times = asyncio.run(lsp_benchmark(args.corpus, positions, cross_file))
        print(f"crossFile {str(cross_file).lower():5}: {summary(times)}")


if __name__ == "__main__":
    main()
