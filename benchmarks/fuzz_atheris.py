"""Coverage-guided fuzzing of dlx-lint with atheris, for long local runs (not a test).

    pip install atheris
    python benchmarks/fuzz_atheris.py [atheris/libFuzzer options, e.g. -max_total_time=600 CORPUS_DIR]

Each input is a file's bytes, checked like tests/test_fuzz.py checks a mutant: linted with
``raise_errors`` (a crashing rule raises), then fixed with every rule and unsafe fixes; the fix
must keep a parsable file parsable, report no DLX999 and be stable on a second run. Inputs
that start with ``{`` are also linted and fixed as notebooks. The starting corpus, when no
folder is given, is the labelled cases and tests/fixtures/bugs (copied to a temporary folder).
A failure stops the run and leaves ``crash-*`` with the input: add it to ``FOUND`` in
tests/test_fuzz.py once fixed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))


def main() -> int:
    """Run the fuzzer (or say how to install atheris)."""
    try:
        import atheris
    except ImportError:
        print("benchmarks/fuzz_atheris.py needs atheris (pip install atheris; it builds with clang on some "
              "platforms). Without it, run tests/test_fuzz.py with a bigger budget: "
              "DLX_FUZZ_EXAMPLES=20 python -m pytest tests/test_fuzz.py", file=sys.stderr)
        return 2
    with atheris.instrument_imports():
        from tests.test_fuzz import SEED_FILES, check_mutant, check_notebook
    arguments = list(sys.argv)
    if not any(not a.startswith("-") for a in arguments[1:]):
        corpus = tempfile.mkdtemp(prefix="dlx-fuzz-")
        for path in SEED_FILES:
            shutil.copy(path, corpus)
        arguments.append(corpus)

    def one_input(data: bytes) -> None:
        check_mutant("fuzzed.py", data)
        if data.lstrip().startswith(b"{"):
            check_notebook("fuzzed.ipynb", data)

    atheris.Setup(arguments, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
