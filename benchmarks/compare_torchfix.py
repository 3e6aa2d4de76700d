"""Compare TorchFix 0.7.0's deprecation and security findings with dlx-lint's on one corpus.

Usage:
    python benchmarks/compare_torchfix.py [--corpus DIR] [--torchfix PATH] [--torchfix-output FILE]
                                          [--dlx-output FILE] [--show-matched]

Runs (or reads the saved output of) ``torchfix --select ALL DIR`` and
``dlx-lint check --select <counterparts> --output-format json DIR``, keeps TorchFix's
TOR0xx/TOR1xx/TOR2xx findings (deprecations, security, correctness; TOR4xx performance hints
and TOR8xx/TOR9xx internal checks are out of scope) and says, per TorchFix code, how many have a
dlx-lint counterpart: a finding of the mapped DLX code in the same file on the same line.
Unmatched findings are listed so each can be explained. This is a script, not a test: both
tools' output depends on the corpus and TorchFix's version.

TorchFix is installed in its own virtual environment (e.g. ``python3 -m venv /tmp/torchfix-venv
&& /tmp/torchfix-venv/bin/pip install torchfix==0.7.0``); the default corpus is the one
``../shared/corpus/build.sh`` builds under /tmp/corpus.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# TorchFix code -> the dlx-lint codes that count as its counterpart, and why when none does.
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "TOR001": ("DLX302",),            # use of removed function
    "TOR002": ("DLX021",),            # require_grad typo
    "TOR003": ("DLX305",),            # checkpoint without use_reentrant
    "TOR004": ("DLX303",),            # import of removed function
    "TOR101": ("DLX301", "DLX302"),   # use of deprecated function (DLX302 when since removed)
    "TOR102": ("DLX025",),            # torch.load without weights_only
    "TOR103": ("DLX303",),            # import of deprecated function
    "TOR104": ("DLX306",),            # use of non-public function
    "TOR105": ("DLX306",),            # import of non-public function
    "TOR106": ("DLX017",),            # log(1 + x) -> log1p
    "TOR107": (),                     # exp(x) - 1 -> expm1: no dlx-lint rule (precision hint)
    "TOR201": ("DLX304",),            # torchvision pretrained=
    "TOR202": ("DLX308",),            # torchvision v2.ToTensor
    "TOR203": (),                     # `import torchvision.models as models` style: not a deprecation
}
NO_COUNTERPART_REASON = {
    "TOR107": "numerical-precision hint (expm1), not a deprecation; no DLX rule covers it",
    "TOR203": "import-style suggestion ('from torchvision import models'); nothing is deprecated",
}
LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>TOR\d{3}) (?P<message>.*)$")


def run_torchfix(torchfix: str, corpus: Path) -> str:
    result = subprocess.run([torchfix, "--select", "ALL", str(corpus)], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"torchfix failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def parse_torchfix(text: str, corpus: Path) -> list[dict]:
    findings = []
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        code = match.group("code")
        if not re.fullmatch(r"TOR[012]\d\d", code):
            continue
        path = os.path.realpath(match.group("path"))
        findings.append({"path": path, "row": int(match.group("row")), "code": code, "message": match.group("message")})
    return findings


def available_codes() -> set[str]:
    from dlx_lint.registry import rules_by_code

    return set(rules_by_code())


def run_dlx(corpus: Path, codes: list[str]) -> list[dict]:
    command = [sys.executable, "-m", "dlx_lint", "check", "--select", ",".join(codes),
               "--output-format", "json", "--exit-zero", str(corpus)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"dlx-lint failed ({result.returncode}): {result.stderr[-2000:]}")
    return json.loads(result.stdout or "[]")


def compare(torchfix: list[dict], dlx: list[dict], implemented: set[str]):
    index: dict[tuple[str, int], set[str]] = collections.defaultdict(set)
    for item in dlx:
        index[(os.path.realpath(item["filename"]), item["location"]["row"])].add(item["code"])
    per_code: dict[str, dict] = {}
    for finding in torchfix:
        slot = per_code.setdefault(finding["code"], {"torchfix": 0, "matched": 0, "unmatched": []})
        slot["torchfix"] += 1
        wanted = set(COUNTERPARTS.get(finding["code"], ()))
        if wanted & index.get((finding["path"], finding["row"]), set()):
            slot["matched"] += 1
        else:
            slot["unmatched"].append(finding)
    for code, slot in per_code.items():
        wanted = COUNTERPARTS.get(code, ())
        if not wanted:
            slot["reason"] = NO_COUNTERPART_REASON.get(code, "no mapping")
        elif not set(wanted) & implemented:
            slot["reason"] = f"{'/'.join(wanted)} not implemented on this branch"
    return per_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/corpus/src"))
    parser.add_argument("--torchfix", default="/tmp/torchfix-venv/bin/torchfix")
    parser.add_argument("--torchfix-output", type=Path, help="saved `torchfix --select ALL` output to read instead of running it")
    parser.add_argument("--dlx-output", type=Path, help="saved dlx-lint JSON output to read instead of running it")
    parser.add_argument("--show-matched", action="store_true")
    args = parser.parse_args(argv)

    corpus = args.corpus.resolve()
    if args.torchfix_output:
        tf_text = args.torchfix_output.read_text(encoding="utf-8")
        cwd = Path.cwd()
        # TorchFix prints paths as given; resolve relative ones against the saved run's cwd.
        tf_text = "\n".join(line if line.startswith("/") else str(cwd / line) for line in tf_text.splitlines())
    else:
        tf_text = run_torchfix(args.torchfix, corpus)
    torchfix = parse_torchfix(tf_text, corpus)

    implemented = available_codes()
    wanted = sorted({c for codes in COUNTERPARTS.values() for c in codes} & implemented)
    dlx = json.loads(args.dlx_output.read_text()) if args.dlx_output else run_dlx(corpus, wanted)

    per_code = compare(torchfix, dlx, implemented)
    print(f"{'code':7} {'TorchFix':>8} {'dlx-lint':>8}  counterpart / note")
    for code in sorted(per_code):
        slot = per_code[code]
        note = "/".join(COUNTERPARTS.get(code, ())) or "-"
        if "reason" in slot:
            note += f" ({slot['reason']})"
        print(f"{code:7} {slot['torchfix']:>8} {slot['matched']:>8}  {note}")
    dlx_counts = collections.Counter(item["code"] for item in dlx)
    print("\ndlx-lint findings by code:", dict(sorted(dlx_counts.items())))
    print("\nTorchFix findings without a dlx-lint counterpart:")
    for code in sorted(per_code):
        for finding in per_code[code]["unmatched"]:
            rel = os.path.relpath(finding["path"], corpus)
            print(f"  {code} {rel}:{finding['row']}: {finding['message'][:100]}")
    tf_keys = {(f["path"], f["row"]) for f in torchfix}
    extra = [d for d in dlx if d["code"].startswith("DLX3") and (os.path.realpath(d["filename"]), d["location"]["row"]) not in tf_keys]
    print(f"\ndlx-lint DLX3xx findings TorchFix does not report: {len(extra)}")
    for item in extra:
        rel = os.path.relpath(os.path.realpath(item["filename"]), corpus)
        print(f"  {item['code']} {rel}:{item['location']['row']}: {item['message'][:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
