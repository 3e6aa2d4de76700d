"""Hostile input files, shared by tests/test_hostile_inputs.py (clear result, subprocess time
and memory ceilings, byte-exact --fix) and benchmarks/bench_hostile.py (measured figures).

Each entry: name -> (file name, bytes). The generators are deterministic.
"""

from __future__ import annotations

import json

# A training step with a few findings and fixes (DLX020: `.cuda()` result discarded; DLX025:
# torch.load without weights_only; DLX001: no zero_grad).
TRAIN_STEP = (
    "def train_{n}(model, loader, opt, criterion):\n"
    "    x = torch.zeros(3)\n"
    "    x.cuda()\n"
    "    for inputs, targets in loader:\n"
    "        loss = criterion(model(inputs), targets)\n"
    "        loss.backward()\n"
    "        opt.step()\n"
    "    return torch.load('ckpt_{n}.pt')\n"
    "\n\n"
)


def big_module(target_bytes: int) -> bytes:
    """A realistic PyTorch module of about `target_bytes`, with findings throughout."""
    head = "import torch\nimport torch.nn as nn\n\n\n"
    step = TRAIN_STEP.format(n=0)
    count = max(1, (target_bytes - len(head)) // len(step))
    return (head + "".join(TRAIN_STEP.format(n=n) for n in range(count))).encode()


def dense_findings(target_bytes: int) -> bytes:
    """About `target_bytes` of `x = torch.zeros(1)` / `x.cuda()` pairs: a finding every other
    line (a user's report: 2,000,000 characters of it took 2.4 GB before the limit was cut)."""
    pair = "x = torch.zeros(1)\nx.cuda()\n"
    return ("import torch\n" + pair * ((target_bytes - 13) // len(pair))).encode()


def many_lines(lines: int) -> bytes:
    """`lines` lines: mostly short statements, a finding every few hundred lines."""
    parts = ["import torch\nx = torch.zeros(3)\n"]
    for n in range(2, lines):
        parts.append("x.cuda()\n" if n % 500 == 0 else f"v{n % 97} = {n}\n")
    return "".join(parts).encode()


def one_long_line(size: int) -> bytes:
    """A 1 MB (or `size`) line: a list literal of integers, then a finding."""
    items = []
    total = 0
    n = 0
    while total < size:
        text = f"{n}, "
        items.append(text)
        total += len(text)
        n += 1
    return ("import torch\nTABLE = [" + "".join(items) + "]\nx = torch.zeros(3)\nx.cuda()\n").encode()


def nested(kind: str, depth: int) -> bytes:
    head = "import torch\nx = torch.zeros(3)\nx.cuda()\n"
    if kind == "parentheses":
        body = "y = " + "(" * depth + "1" + ")" * depth + "\n"
    elif kind == "brackets":
        body = "y = " + "[" * depth + "]" * depth + "\n"
    elif kind == "calls":
        body = "y = " + "f(" * depth + ")" * depth + "\n"
    elif kind == "if-blocks":
        body = "".join(" " * level + "if x:\n" for level in range(depth)) + " " * depth + "pass\n"
    elif kind == "lambdas":
        body = "y = " + "lambda: " * depth + "1\n"
    elif kind == "conditional-expressions":
        body = "y = " + "a if b else " * depth + "c\n"
    elif kind == "unary-minus":
        body = "y = " + "-" * depth + "1\n"
    elif kind == "f-string":
        body = "y = f'{" + "(" * depth + "1" + ")" * depth + "}'\n"
    elif kind == "elif-chain":
        body = "if a:\n    pass\n" + "elif a:\n    pass\n" * depth
    else:
        raise ValueError(kind)
    return (head + body).encode()


def notebook(cells) -> bytes:
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return (json.dumps(document, indent=1) + "\n").encode()


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


BUG = "x = torch.zeros(3)\nx.cuda()\n"

# name -> (file name, contents, what a run must say about it: a regular expression that the
# concise output must match, or None for "nothing to report").
HOSTILE: dict[str, tuple[str, bytes, str | None]] = {
    "10mb": ("big.py", big_module(10_000_000), r"DLX902 .*too large to analyse"),
    "just-under-the-size-limit": ("two.py", big_module(1_200_000), r"DLX020"),
    # The shape that costs the most memory per character: a statement and a finding every line.
    "dense-findings-under-the-limit": ("dense.py", dense_findings(1_200_000), r"DLX020"),
    "100k-lines": ("lines.py", many_lines(100_000), r"DLX020"),
    "1mb-line": ("long_line.py", one_long_line(1_000_000), r"DLX020"),
    "nested-parentheses-5000": ("parens.py", nested("parentheses", 5000), r"DLX900 .*too many nested parentheses"),
    "nested-brackets-5000": ("brackets.py", nested("brackets", 5000), r"DLX900 .*too many nested parentheses"),
    "nested-calls-5000": ("calls.py", nested("calls", 5000), r"DLX900 .*too many nested parentheses"),
    "nested-if-1000": ("ifs.py", nested("if-blocks", 1000), r"DLX900 .*indentation"),
    "nested-if-5000": ("ifs.py", nested("if-blocks", 5000), r"DLX902 .*too large to analyse"),
    "nested-lambda-5000": ("lambdas.py", nested("lambdas", 5000), r"DLX900 .*too deeply nested"),
    "nested-conditional-5000": ("ternary.py", nested("conditional-expressions", 5000), r"DLX900 .*too deeply nested"),
    "nested-unary-5000": ("unary.py", nested("unary-minus", 5000), r"DLX900 .*too deeply nested"),
    "nested-f-string-5000": ("fstring.py", nested("f-string", 5000), r"DLX900 .*nested parenthes"),
    "elif-chain-5000": ("elifs.py", nested("elif-chain", 5000), r"DLX900 .*too deeply nested"),
    "nul-bytes": ("nul.py", b"import torch\nx = 1\x00\nx.cuda()\n", r"DLX902 .*NUL"),
    "invalid-utf8": ("bad_utf8.py", b"import torch\n# caf\xe9 \xff\xfe\n" + BUG.encode(), r"DLX902 .*not valid utf-8"),
    "utf16-bom": ("utf16.py", ("import torch\n" + BUG).encode("utf-16"), r"DLX902 UTF-16 text"),
    "latin-1-cookie": ("latin1.py", "# -*- coding: latin-1 -*-\nimport torch\n# caf\u00e9\n".encode("latin-1") + BUG.encode(), r"DLX020"),
    "crlf": ("crlf.py", ("import torch\n" + BUG).replace("\n", "\r\n").encode(), r"DLX020"),
    "mixed-endings": ("mixed.py", b"import torch\r\nx = torch.zeros(3)\nx.cuda()\r\ny = 1\r\n", r"DLX020"),
    "empty": ("empty.py", b"", None),
    "notebook-invalid-json": ("bad.ipynb", b'{"cells": [', r"DLX902 .*not JSON"),
    "notebook-non-python-cells": ("other.ipynb", notebook([
        {"cell_type": "markdown", "metadata": {}, "source": "# x.cuda()"},
        {"cell_type": "raw", "metadata": {}, "source": "x.cuda()"},
        code_cell("%%bash\nrm -rf /\n"),
        code_cell("import torch\n" + BUG),
    ]), r"cell 3:3:1: DLX020"),
    "notebook-no-cells": ("empty.ipynb", notebook([]), None),
}


def run_measured(args: list[str], *, cwd: str, timeout: float) -> tuple[int, str, str, float, int]:
    """Run a command with stdout and stderr to files (no pipe can fill up) and return
    ``(exit status, stdout, stderr, seconds, peak RSS in bytes)`` of that one child
    (``os.wait4``). A run that outlives `timeout` is killed and fails the caller's assertion
    with a clear message (a hang, not a slow run: the bound is generous)."""
    import os
    import subprocess
    import tempfile
    import time

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise AssertionError(f"{args} did not finish within {timeout} s")
            time.sleep(0.02)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (process.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                seconds, usage.ru_maxrss * 1024)
