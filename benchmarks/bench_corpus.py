"""Benchmark: `dlx-lint check` against bare libcst parsing and TorchFix on the same files.

Usage:
    python benchmarks/bench_corpus.py [--corpus DIR] [--sample sub10|full] [--jobs N]
                                      [--no-torchfix] [--no-ruff] [--repeat K]

The corpus is the one `../shared/corpus/build.sh` builds (default location /tmp/corpus; it is
built there when missing). `--sample sub10` (default) uses its fixed 1-in-10 sample.

What is measured (wall-clock and CPU seconds, best of `--repeat` runs):
- libcst: `libcst.parse_module` over every file, in `--jobs` processes (the floor any
  libcst-based linter pays);
- dlx-lint: the `dlx-lint check --jobs N --exit-zero --no-cache` command, end to end
  (startup, discovery, reading, parsing, rules, output), default rules;
- TorchFix 0.7.0 (`torchfix --select ALL`), installed by this script into its own virtual
  environment under the cache folder (`--cache`, default ~/.cache/dlx-lint-bench);
- ruff (`ruff check --no-cache --select ALL`), same virtual environment, for reference.

The target (issue "Core engine"): dlx-lint <= 1.5x bare libcst parsing with the same process
count. This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import venv
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO.parent / "shared" / "corpus" / "build.sh"


def parse_chunk(paths: list[str]) -> int:
    import libcst

    failures = 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        try:
            libcst.parse_module(text)
        except Exception:
            failures += 1
    return failures


def _cpu() -> float:
    """CPU seconds (user + system) used so far by this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_libcst(files: list[str], jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to parse every file with libcst in `jobs` processes."""
    start, cpu = time.perf_counter(), _cpu()
    if jobs <= 1:
        parse_chunk(files)
    else:
        chunks = [files[i::jobs] for i in range(jobs)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(parse_chunk, chunks))
    return time.perf_counter() - start, _cpu() - cpu


def time_command(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    start, cpu = time.perf_counter(), _cpu()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[:500]}")
    return elapsed, _cpu() - cpu


def best_of(repeat: int, measure) -> tuple[float, float]:
    return min(measure() for _ in range(repeat))


def ensure_corpus(corpus: Path) -> None:
    if (corpus / "pypi.files").exists():
        return
    if not BUILD_SCRIPT.exists():
        sys.exit(f"corpus not found at {corpus} and no build script at {BUILD_SCRIPT}")
    print(f"building the corpus in {corpus} ...", file=sys.stderr)
    subprocess.run(["bash", str(BUILD_SCRIPT), str(corpus)], check=True)


def tools_venv(cache: Path, torchfix: bool, ruff: bool) -> Path:
    env_dir = cache / "tools-venv"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(env_dir)
    wanted = []
    if torchfix and not (env_dir / "bin" / "torchfix").exists():
        wanted.append("torchfix==0.7.0")
    if ruff and not (env_dir / "bin" / "ruff").exists():
        wanted.append("ruff")
    if wanted:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)
    return env_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/corpus"))
    parser.add_argument("--sample", choices=("sub10", "full"), default="sub10")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dlx-lint-bench")
    parser.add_argument("--no-torchfix", action="store_true")
    parser.add_argument("--no-ruff", action="store_true")
    args = parser.parse_args()

    ensure_corpus(args.corpus)
    listing = args.corpus / ("sub10.files" if args.sample == "sub10" else "pypi.files")
    files = [str(args.corpus / line.strip()) for line in listing.read_text().splitlines() if line.strip()]
    target = args.corpus / ("sub10" if args.sample == "sub10" else "src")
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    print(f"corpus: {target} ({len(files)} files, {lines} lines), jobs={args.jobs}")

    dlx = [sys.executable, "-m", "dlx_lint", "check", "--exit-zero", "--quiet", "--no-cache", "--jobs", str(args.jobs), str(target)]
    results: dict[str, tuple[float, float]] = {}
    results["libcst parse"] = best_of(args.repeat, lambda: time_libcst(files, args.jobs))
    results["dlx-lint check"] = best_of(args.repeat, lambda: time_command(dlx))
    if not (args.no_torchfix and args.no_ruff):
        env_dir = tools_venv(args.cache, not args.no_torchfix, not args.no_ruff)
        if not args.no_torchfix:
            torchfix = [str(env_dir / "bin" / "torchfix"), "--select", "ALL", str(target)]
            results["TorchFix 0.7.0"] = best_of(args.repeat, lambda: time_command(torchfix))
        if not args.no_ruff:
            ruff = [str(env_dir / "bin" / "ruff"), "check", "--no-cache", "--select", "ALL", "--exit-zero", "-q", str(target)]
            results["ruff --select ALL"] = best_of(args.repeat, lambda: time_command(ruff))

    base_wall, base_cpu = results["libcst parse"]
    # CPU time is reported too: on a shared machine the wall-clock ratio swings with other load,
    # the CPU ratio much less.
    print(f"{'tool':<22}{'wall s':>9}{'x libcst':>10}{'cpu s':>9}{'x libcst':>10}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<22}{wall:>9.2f}{wall / base_wall:>10.2f}{cpu:>9.2f}{cpu / base_cpu:>10.2f}")
    ratio = results["dlx-lint check"][0] / base_wall
    cpu_ratio = results["dlx-lint check"][1] / base_cpu
    verdict = "meets" if ratio <= 1.5 else "MISSES"
    print(f"dlx-lint / libcst = {ratio:.2f} wall, {cpu_ratio:.2f} CPU ({verdict} the <= 1.5x target)")
    if "TorchFix 0.7.0" in results:
        print(f"TorchFix / dlx-lint = {results['TorchFix 0.7.0'][0] / results['dlx-lint check'][0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
