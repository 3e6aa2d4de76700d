"""DLX022 rng-not-seeded: partial seeding, or an entry script that seeds nothing."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.reproducibility import builds_random_state, file_seeds_anything, main_guard, seeding_kind
from ..semantic.training import calls_in


class RngNotSeeded(Rule):
    code = "DLX022"
    name = "rng-not-seeded"
    severity = Severity.INFO
    requires = ("__main__", "seed")
    summary = "torch's RNG is not seeded (partially seeded function, or an unseeded entry script)"
    what = """
Reports (a) a seeding function (one that seeds CUDA, or whose name contains `seed`) or
module-level code that seeds some random generators (`random.seed`, `np.random.seed`,
`torch.cuda.manual_seed[_all]`) but not torch's (`torch.manual_seed`, or a wrapper such as
`seed_everything`/`set_seed`), on the partial seeding call (the CUDA one if present); and (b) an entry script (`if __name__ == "__main__":`) that builds models, optimizers or
shuffling DataLoaders (directly or through same-file functions) and contains no seeding call at
all, on the `if` line. Libraries (no main guard) are never reported.
"""
    why = """
Weight initialisation, dropout masks and data shuffling all draw from torch's generator; an
unseeded run cannot be reproduced or debugged, and two runs that differ cannot be compared.
`torch.cuda.manual_seed` alone leaves CPU-side initialisation random, which is where layers are
usually built. PyTorch's reproducibility notes recommend `torch.manual_seed`, which seeds all
devices. Zhang et al. list "Randomness Uncontrolled" (dslinter W5508/W5511).
"""
    example = """
def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.cuda.manual_seed_all(seed)
"""
    use_instead = """
def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)   # seeds the CPU and every CUDA device
"""
    limitations = "Seeding done in another module (an imported helper with an unfamiliar name) is not seen; such scripts may be reported under (b)."
    references = (
        Reference("PyTorch docs: Reproducibility", "https://docs.pytorch.org/docs/stable/notes/randomness.html"),
        Reference("ml-smells: Randomness Uncontrolled", "https://hynn01.github.io/ml-smells/"),
        Reference("dslinter", "https://github.com/SERG-Delft/dslinter"),
    )
    bad_examples = (
        """
import random
import numpy as np
import torch

def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.cuda.manual_seed_all(seed)  # expect: DLX022
""",
        """
import torch
from torch import nn

def main():
    model = nn.Linear(4, 2)
    return model

if __name__ == "__main__":  # expect: DLX022
    main()
""",
    )
    good_examples = (
        """
import random
import numpy as np
import torch
from torch import nn

def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

if __name__ == "__main__":
    seed_all(0)
    model = nn.Linear(4, 2)
""",
        """
import torch
from torch import nn

def build():
    return nn.Linear(4, 2)
""",
    )

    def check(self, model) -> Iterator[Finding]:
        if not model.imports_module("torch"):
            return
        yield from self._partial(model)
        guard = main_guard(model)
        if guard is not None and not file_seeds_anything(model) and builds_random_state(model, guard):
            yield Finding(guard, "this entry script builds models/optimizers/shuffled loaders but never seeds the RNGs; call `torch.manual_seed(seed)` (and seed Python/NumPy) at the start")

    @staticmethod
    def _partial(model) -> Iterator[Finding]:
        seed_calls = [c for name in ("seed", "manual_seed", "manual_seed_all") for c in model.calls_by_attr.get(name, [])]
        owners = []
        for call in seed_calls:
            owner = model.enclosing_function(call) or model.module
            if owner not in owners:
                owners.append(owner)
        for owner in owners:
            calls = calls_in(model, owner)
            kinds = [(call, seeding_kind(model, call)) for call in calls]
            partial = [call for call, kind in kinds if kind == "partial"]
            if not partial or any(kind == "torch" for _, kind in kinds):
                continue
            cuda = [c for c in partial if (model.qualname(c.func) or "").startswith("torch.cuda.")]
            name = owner.name.value.lower() if isinstance(owner, cst.FunctionDef) else ""
            # A function that seeds NumPy for its own NumPy sampling (BigBird's random
            # attention pattern) is not a seeding helper; one that seeds CUDA, or is named
            # like a seeding helper, is meant to make runs reproducible.
            if not cuda and "seed" not in name:
                continue
            yield Finding((cuda or partial)[0], "seeds some generators but not torch's: weight initialisation, dropout and shuffling stay random; add `torch.manual_seed(seed)`")
