"""DLX023 worker-rng-duplicated: a dataset's RNG object is copied into every DataLoader worker."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import constant_value
from ..semantic.names import dotted_name

_RNG_CONSTRUCTORS = frozenset({"numpy.random.RandomState", "numpy.random.default_rng", "numpy.random.Generator",
                               "random.Random", "torch.Generator"})
_USING_METHODS = ("__getitem__", "__iter__", "__call__", "forward")


class WorkerRngDuplicated(Rule):
    code = "DLX023"
    name = "worker-rng-duplicated"
    severity = Severity.WARNING
    requires = ("num_workers",)
    summary = "a dataset's RNG object is duplicated into every DataLoader worker: identical augmentations"
    what = """
Reports `DataLoader(dataset, ..., num_workers=N)` (N non-literal or > 0, no `worker_init_fn`)
when the dataset's class (same file) stores a random generator object in `__init__`
(`np.random.RandomState`/`default_rng`, `random.Random`, `torch.Generator`), directly or inside
an object it constructs, and uses it from `__getitem__`/`__iter__` (directly or through that
object's `__call__`).
"""
    why = """
Each worker process receives a copy of the dataset, generator state included, so every worker
draws the same random numbers: the "random" augmentations of different batches are identical
(N workers give N copies of the same crop/noise), which reduces augmentation diversity and can
bias training. PyTorch re-seeds torch's and, since 2021, NumPy's global generators per worker,
but not generator objects stored in the dataset.
"""
    example = """
class Noisy(Dataset):
    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(0)

    def __getitem__(self, i):
        return self.data[i] + self.rng.normal()

loader = DataLoader(Noisy(x), batch_size=32, num_workers=4)
"""
    use_instead = """
def seed_worker(worker_id):
    info = torch.utils.data.get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed % 2**32)

loader = DataLoader(Noisy(x), batch_size=32, num_workers=4, worker_init_fn=seed_worker)
"""
    limitations = """
The dataset class must be defined in the same file and passed as a constructor call or a name
bound to one. The older form with NumPy's global generator is handled by PyTorch itself since
April 2021 (pytorch#56488) and is not reported.
"""
    references = (
        Reference("PyTorch docs: Reproducibility, DataLoader workers", "https://docs.pytorch.org/docs/stable/notes/randomness.html#dataloader"),
        Reference("pytorch#5059: identical random numbers across workers", "https://github.com/pytorch/pytorch/issues/5059"),
        Reference("torchsig#343", "https://github.com/TorchDSP/torchsig/issues/343"),
        Reference("pytorch#56488: worker_init_fn and generator recipe", "https://github.com/pytorch/pytorch/pull/56488"),
    )
    bad_examples = (
        """
import numpy as np
from torch.utils.data import DataLoader, Dataset

class Noisy(Dataset):
    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i] + self.rng.normal()

def make(data, workers):
    return DataLoader(Noisy(data), batch_size=8, num_workers=workers)  # expect: DLX023
""",
    )
    good_examples = (
        """
import numpy as np
from torch.utils.data import DataLoader, Dataset

class Noisy(Dataset):
    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(0)

    def __getitem__(self, i):
        return self.data[i] + self.rng.normal()

def reseed(worker_id):
    pass

def make(data):
    a = DataLoader(Noisy(data), batch_size=8, num_workers=0)
    b = DataLoader(Noisy(data), batch_size=8, num_workers=4, worker_init_fn=reseed)
    return a, b
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call in model.calls_to("DataLoader"):
            if model.qualname(call.func) != "torch.utils.data.DataLoader":
                continue
            if not _uses_workers(model, call) or any(a.keyword is not None and a.keyword.value == "worker_init_fn" for a in call.args):
                continue
            if any(a.star for a in call.args):
                continue
            dataset = _dataset_argument(call)
            if dataset is None:
                continue
            info = model.origin(dataset).cls
            if info is not None and _stores_used_rng(model, info, set()):
                yield Finding(call, "the dataset's random generator is copied into every worker, so workers produce identical random augmentations; re-seed it per worker in a `worker_init_fn`")


def _uses_workers(model, call: cst.Call) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "num_workers":
            value = constant_value(model, arg.value)
            return value is None or value > 0
    return False


def _dataset_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dataset":
            return arg.value
    if call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _stores_used_rng(model, info, seen: set) -> bool:
    """Whether instances of `info` hold a generator object (or an object holding one) that a
    sampling method uses."""
    if info in seen:
        return False
    seen.add(info)
    used = set()
    for name in _USING_METHODS:
        method = info.method(name)
        if method is None:
            continue
        scope = model.scopes[method]
        prefix = (scope.self_name or "\0") + "."
        for path, methods in scope.uses.items():
            if path.startswith(prefix):
                used.add(path[len(prefix):].split(".")[0])
    for attribute in used:
        for binding in info.attr_bindings(attribute):
            value = binding.value
            if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
                continue
            if model.qualname(value.func) in _RNG_CONSTRUCTORS:
                return True
            holder = model.origin(value).cls
            if holder is not None and _stores_used_rng(model, holder, seen):
                return True
    return False
