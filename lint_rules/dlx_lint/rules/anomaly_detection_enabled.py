"""DLX105 anomaly-detection-enabled: autograd anomaly detection left on in training code."""

from __future__ import annotations

import os
from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.reproducibility import runs_training

_ANOMALY = frozenset({"torch.autograd.set_detect_anomaly", "torch.autograd.detect_anomaly",
                      "torch.autograd.anomaly_mode.set_detect_anomaly", "torch.autograd.anomaly_mode.detect_anomaly"})


class AnomalyDetectionEnabled(Rule):
    code = "DLX105"
    name = "anomaly-detection-enabled"
    severity = Severity.WARNING
    requires = ("anomaly",)
    summary = "autograd anomaly detection is on in training code: every backward pass is much slower"
    what = """
Reports `torch.autograd.set_detect_anomaly(True)` and `torch.autograd.detect_anomaly()` in a
file that runs a training loop, outside tests (files named `test_*.py`/`*_test.py` or under a
`tests` folder).
"""
    why = """
Anomaly detection records a stack trace for every operation in the forward pass and checks
every backward result for NaN: a debugging mode that slows training several times. Left on by
accident, it costs the whole run.
"""
    example = "torch.autograd.set_detect_anomaly(True)\n"
    use_instead = "torch.autograd.set_detect_anomaly(args.debug)  # or enable it only around the failing step\n"
    limitations = "A non-literal flag (`set_detect_anomaly(args.debug)`) is not reported."
    no_torch_proof = "The harm is speed (every backward is slower); showing it needs a timing comparison, and timed tests are not written here."
    references = (
        Reference("PyTorch docs: Anomaly detection", "https://docs.pytorch.org/docs/stable/autograd.html#anomaly-detection"),
    )
    bad_examples = (
        """
import torch

torch.autograd.set_detect_anomaly(True)  # expect: DLX105

def train(model, opt, batches):
    for x in batches:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
""",
    )
    good_examples = (
        """
import torch

def train(model, opt, batches, debug):
    torch.autograd.set_detect_anomaly(debug)
    for x in batches:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if _is_test_file(model.path):
            return
        found = []
        for name in ("set_detect_anomaly", "detect_anomaly"):
            for call in model.calls_to(name):
                if model.qualname(call.func) not in _ANOMALY:
                    continue
                if name == "set_detect_anomaly":
                    if not call.args or not (isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "True"):
                        continue
                found.append(call)
        if not found:
            return
        if not (runs_training(model, model.module) or any(runs_training(model, f) for f in model.functions)):
            return
        for call in found:
            yield Finding(call, "anomaly detection slows every backward pass several times; enable it only while debugging (e.g. behind a `--debug` flag)")


def _is_test_file(path: str) -> bool:
    base = os.path.basename(path)
    parts = path.replace("\\", "/").split("/")
    return base.startswith("test_") or base.endswith("_test.py") or "tests" in parts[:-1] or base == "conftest.py"
