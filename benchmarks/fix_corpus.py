"""Run ``--fix`` (unsafe fixes on, every rule) over a copy of the corpus and report.

Usage: python benchmarks/fix_corpus.py [CORPUS_SRC] [--jobs N]
(default CORPUS_SRC: /tmp/corpus/src, built by ../shared/corpus/build.sh). The corpus is
copied to a temporary directory first; the original is never touched. Prints, per rule, how
many fixes were applied; then checks that every changed file still parses and compiles, and
that a second run finds nothing more to fix. A script, not a test.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time

from dlx_lint.config import SettingsResolver, Overrides
from dlx_lint.fixer import compiles, parses
from dlx_lint.fixes.files import fix_files
from dlx_lint.runner import discover


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default="/tmp/corpus/src")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    if not os.path.isdir(args.source):
        print(f"corpus not found at {args.source}; build it with ../shared/corpus/build.sh", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="dlx-fix-corpus-")
    copy = os.path.join(work, "src")
    shutil.copytree(args.source, copy)
    resolver = SettingsResolver(overrides=Overrides(select=("ALL",)))
    tasks = list(discover([copy], resolver))
    started = time.perf_counter()
    outcomes = fix_files(tasks, unsafe=True, write=True, want_diff=False, jobs=args.jobs)
    elapsed = time.perf_counter() - started
    counts = collections.Counter(a.code for o in outcomes for a in o.applied)
    errors = [d for o in outcomes for d in o.diagnostics if d.code == "DLX999"]
    problems = [(o.path, o.problem) for o in outcomes if o.problem]
    changed = [o.path for o in outcomes if o.written]
    print(f"{len(tasks)} files, {len(changed)} changed, {sum(counts.values())} fixes in {elapsed:.1f} s")
    for code, count in sorted(counts.items()):
        print(f"  {code}: {count}")
    broken = []
    for path in changed:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace")
        if not parses(text) or not compiles(text):
            broken.append(path)
    again = fix_files([t for t in tasks if t[0] in set(changed)], unsafe=True, write=False, want_diff=False, jobs=args.jobs)
    unstable = [o.path for o in again if o.applied]
    print(f"fix bugs reported (DLX999): {len(errors)}; write problems: {len(problems)}; "
          f"unparsable results: {len(broken)}; files with more to fix on a second run: {len(unstable)}")
    for item in errors[:20] + problems[:20] + broken[:20] + unstable[:20]:
        print("  ", item)
    shutil.rmtree(work)
    return 1 if (errors or problems or broken or unstable) else 0


if __name__ == "__main__":
    sys.exit(main())
