"""Benchmark: `dlx-lint check` with the result cache, cold and warm, on the corpus.

Usage:
    python benchmarks/bench_cache.py [--corpus DIR] [--sample sub10|full] [--jobs N]
                                     [--repeat K] [--no-ruff]

Measured (wall-clock seconds, best of `--repeat` interleaved rounds; the corpus as in
bench_corpus.py):
- libcst: `libcst.parse_module` over every file in `--jobs` processes (the floor of any
  libcst-based linter);
- cold: `dlx-lint check` with an empty cache directory (lints everything, writes the cache);
- cold --no-cache: the same without the cache, for the cost of hashing and writing it;
- warm: `dlx-lint check` again with that cache and no file changed (reads and hashes every
  file, parses nothing);
- ruff: `ruff check --no-cache --select ALL` on the same files (installed by bench_corpus.py's
  helper into its own virtual environment).

Targets (issue "pipelines"): warm <= 3x ruff; cold <= 1.5x bare libcst parsing. This is a
script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_corpus import ensure_corpus, time_command, time_libcst, tools_venv  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/corpus"))
    parser.add_argument("--sample", choices=("sub10", "full"), default="sub10")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dlx-lint-bench")
    parser.add_argument("--no-ruff", action="store_true")
    args = parser.parse_args()

    ensure_corpus(args.corpus)
    listing = args.corpus / ("sub10.files" if args.sample == "sub10" else "pypi.files")
    files = [str(args.corpus / line.strip()) for line in listing.read_text().splitlines() if line.strip()]
    target = args.corpus / ("sub10" if args.sample == "sub10" else "src")
    print(f"corpus: {target} ({len(files)} files), jobs={args.jobs}, best of {args.repeat}")

    cache_dir = Path(tempfile.mkdtemp(prefix="dlx-bench-cache-"))
    base = [sys.executable, "-m", "dlx_lint", "check", "--exit-zero", "--quiet", "--jobs", str(args.jobs)]
    with_cache = base + ["--cache-dir", str(cache_dir), str(target)]

    def cold() -> float:
        shutil.rmtree(cache_dir, ignore_errors=True)
        return time_command(with_cache)

    measures = {
        "libcst parse": lambda: time_libcst(files, args.jobs),
        "cold --no-cache": lambda: time_command(base + ["--no-cache", str(target)]),
        "cold (writes cache)": cold,
        "warm (cache hit)": lambda: time_command(with_cache),  # right after the cold run
    }
    if not args.no_ruff:
        env_dir = tools_venv(args.cache, torchfix=False, ruff=True)
        ruff = [str(env_dir / "bin" / "ruff"), "check", "--no-cache", "--select", "ALL", "--exit-zero", "-q", str(target)]
        measures["ruff --select ALL"] = lambda: time_command(ruff)
    # Rounds interleave the measurements, so a load change on the machine hits all of them
    # alike; each figure is the best of its rounds.
    results: dict[str, float] = {}
    try:
        for _ in range(args.repeat):
            for name, measure in measures.items():
                results[name] = min(results.get(name, float("inf")), measure())
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    libcst_time = results["libcst parse"]
    print(f"{'run':<22}{'seconds':>10}{'x libcst':>10}")
    for name, seconds in results.items():
        print(f"{name:<22}{seconds:>10.2f}{seconds / libcst_time:>10.2f}")
    cold_ratio = results["cold (writes cache)"] / libcst_time
    print(f"cold / libcst = {cold_ratio:.2f} ({'meets' if cold_ratio <= 1.5 else 'MISSES'} the <= 1.5x target)")
    if "ruff --select ALL" in results:
        warm_ratio = results["warm (cache hit)"] / results["ruff --select ALL"]
        print(f"warm / ruff = {warm_ratio:.2f} ({'meets' if warm_ratio <= 3 else 'MISSES'} the <= 3x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
