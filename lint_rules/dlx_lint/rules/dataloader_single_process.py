"""DLX101 dataloader-single-process (performance, opt-in): data loading blocks training."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import constant_value
from ..semantic.reproducibility import runs_training


class DataloaderSingleProcess(Rule):
    code = "DLX101"
    name = "dataloader-single-process"
    severity = Severity.INFO
    enabled_by_default = False
    requires = ("DataLoader",)
    summary = "DataLoader without worker processes in a training file: loading blocks the training loop"
    what = """
Reports `DataLoader(...)` without `num_workers` (or with a literal 0) in a file that also runs a
training loop (TorchFix TOR401).
"""
    why = """
With `num_workers=0` every batch is loaded and augmented in the training process, between
optimizer steps, so the GPU waits for the CPU. Worker processes prepare the next batches while
the current one trains.
"""
    example = "loader = DataLoader(train_set, batch_size=64, shuffle=True)\n"
    use_instead = """
loader = DataLoader(train_set, batch_size=64, shuffle=True,
                    num_workers=min(8, os.cpu_count() or 1), pin_memory=True, persistent_workers=True)
"""
    limitations = "Tiny in-memory datasets (a `TensorDataset` on the GPU) do not benefit from workers; ignore the hint there."
    no_torch_proof = "The harm is throughput (the GPU waiting for data); a CPU timing comparison would be a timed test, which this project does not write, and the gain depends on the machine."
    references = (
        Reference("PyTorch docs: torch.utils.data, single- and multi-process data loading", "https://docs.pytorch.org/docs/stable/data.html#single-and-multi-process-data-loading"),
        Reference("TorchFix TOR401", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
import torch
from torch.utils.data import DataLoader

def train(model, dataset, opt):
    loader = DataLoader(dataset, batch_size=64, shuffle=True)  # expect: DLX101
    for x, y in loader:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
""",
    )
    good_examples = (
        """
import torch
from torch.utils.data import DataLoader

def train(model, dataset, opt, workers):
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers)
    for x, y in loader:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
""",
    )

    def check(self, model) -> Iterator[Finding]:
        calls = [c for c in model.calls_to("DataLoader")
                 if model.qualname(c.func) == "torch.utils.data.DataLoader"]
        if not calls or not runs_training(model, model.module) and not any(runs_training(model, f) for f in model.functions):
            return
        for call in calls:
            if any(a.star for a in call.args):
                continue
            workers = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "num_workers"), None)
            if workers is None or constant_value(model, workers) == 0:
                yield Finding(call, "this DataLoader loads batches in the training process; set `num_workers` (e.g. near the CPU count), with `pin_memory=True` on CUDA and `persistent_workers=True`")
