"""Time and peak memory of `dlx-lint check` (and `--fix`) on each hostile input file.

    python benchmarks/bench_hostile.py [--fix] [NAME ...]

Each file (tests/hostile_inputs.py) is written to a temporary folder and checked by a fresh
`python -m dlx_lint check --no-cache` process; the table gives the exit status, wall time,
peak RSS of that process (os.wait4) and the first line of its report. The README's
"Hostile input" table comes from this script; tests/test_hostile_inputs.py asserts generous
ceilings (60 s, 2 GB) on the same runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.hostile_inputs import HOSTILE, run_measured  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"inputs to run (default: all): {', '.join(HOSTILE)}")
    parser.add_argument("--fix", action="store_true", help="run `check --fix` instead of `check`")
    args = parser.parse_args()
    names = args.names or list(HOSTILE)
    print(f"{'input':28} {'size':>9} {'exit':>4} {'seconds':>8} {'peak RSS':>9}  first line")
    for name in names:
        filename, data, _ = HOSTILE[name]
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, filename), "wb") as handle:
                handle.write(data)
            command = [sys.executable, "-m", "dlx_lint", "check", "--no-cache", "--select", "ALL", filename]
            if args.fix:
                command.append("--fix")
            status, out, err, seconds, rss = run_measured(command, cwd=folder, timeout=600)
        first = (out.strip().splitlines() or err.strip().splitlines() or [""])[0]
        print(f"{name:28} {len(data):>9} {status:>4} {seconds:>8.2f} {rss / 2**20:>7.0f}MB  {first[:90]}")


if __name__ == "__main__":
    main()
