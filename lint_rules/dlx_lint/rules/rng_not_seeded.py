"""DLX022 rng-not-seeded: partial seeding, or an entry script that seeds nothing."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of, spell, statement_in_block
from ..fixes.spec import FixUnavailable, InsertAfter, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.constants import argparse_defaults
from ..semantic.dataflow import constant_value
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
    fix_safety = """
(a) For partial seeding, the fix inserts `torch.manual_seed(<the same seed expression>)` right
after the partial seeding call (after the enclosing `if` when that `if` only tests for CUDA,
so that CPU-only runs are seeded too). It is offered only when the call passes one seed that
is a plain expression (names, attributes, numbers, subscripts; no call that could return a
different value twice). (b) For an unseeded entry script, the fix inserts a seeding block at
the top of the main guard: `random.seed`, `np.random.seed` (each only when the file already
imports the module) and `torch.manual_seed`, with the seed taken from a module-level `seed`
holding a number, else `args.seed` when `args` comes from `parse_args()` and the parser has a
`--seed` option with a numeric default (the block then goes right after that assignment, or at
the top when `args` is parsed before the guard), else the literal `0`. Both are unsafe: seeding
changes every random draw after it (initialisation, dropout, shuffling), so runs differ from
before, and become repeatable, which is the point; a seed that is not an integer (a string
given to `random.seed`) makes `torch.manual_seed` raise.
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
    fixed_examples = (
        """
import random
import numpy as np
import torch

def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.cuda.manual_seed_all(seed)  # expect: DLX022
    torch.manual_seed(seed)
""",
        """
import torch
from torch import nn

def main():
    model = nn.Linear(4, 2)
    return model

if __name__ == "__main__":  # expect: DLX022
    torch.manual_seed(0)
    main()
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
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
            yield Finding(guard, "this entry script builds models/optimizers/shuffled loaders but never seeds the RNGs; call `torch.manual_seed(seed)` (and seed Python/NumPy) at the start",
                          fix=partial(_guard_fix, model, guard))

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
            partial_seeds = [call for call, kind in kinds if kind == "partial"]
            if not partial_seeds or any(kind == "torch" for _, kind in kinds):
                continue
            cuda = [c for c in partial_seeds if (model.qualname(c.func) or "").startswith("torch.cuda.")]
            name = owner.name.value.lower() if isinstance(owner, cst.FunctionDef) else ""
            # A function that seeds NumPy for its own NumPy sampling (BigBird's random
            # attention pattern) is not a seeding helper; one that seeds CUDA, or is named
            # like a seeding helper, is meant to make runs reproducible.
            if not cuda and "seed" not in name:
                continue
            reported = (cuda or partial_seeds)[0]
            yield Finding(reported, "seeds some generators but not torch's: weight initialisation, dropout and shuffling stay random; add `torch.manual_seed(seed)`",
                          fix=partial(_partial_fix, model, reported))


# ------------------------------------------------------------------------------------ fixes


def _partial_fix(model, call: cst.Call) -> NodeFix | None:
    """`torch.manual_seed(<seed>)` after the partial seeding call (after an enclosing
    CUDA-only `if`)."""
    if len(call.args) != 1 or call.args[0].star:
        return None
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value not in ("seed", "a"):
        return None
    seed = arg.value
    if not _plain(seed):
        return None
    anchor: cst.CSTNode = call
    statement = statement_in_block(model, call)
    block = model.parent.get(statement) if statement is not None else None
    owner = model.parent.get(block) if isinstance(block, cst.IndentedBlock) else None
    if isinstance(owner, cst.If) and owner.body is block and owner.orelse is None and "cuda" in code_of(owner.test).lower():
        scope = model.scope_for(call)
        if any(_inside(model, b.node, owner) for n in _names(seed) for b in model.bindings_of(n, scope)):
            return None  # the seed is rebound inside the `if`
        anchor = owner
    try:
        text, imports = spell(model, "torch.manual_seed", call)
    except FixUnavailable:
        return None
    line = f"{text}({code_of(seed)})"
    return NodeFix(f"Add `{line}`", (InsertAfter(anchor, (line,)), *imports))


def _plain(expr: cst.BaseExpression) -> bool:
    """Names, attributes, numbers, subscripts with such indexes, arithmetic of those: an
    expression that evaluates to the same value twice."""
    if expr.lpar and isinstance(expr, cst.Tuple):
        return False
    if isinstance(expr, (cst.Name, cst.Integer)):
        return not (isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"))
    if isinstance(expr, cst.Attribute):
        return _plain(expr.value)
    if isinstance(expr, cst.Subscript):
        return _plain(expr.value) and all(
            isinstance(e.slice, cst.Index) and (isinstance(e.slice.value, cst.SimpleString) or _plain(e.slice.value))
            for e in expr.slice
        )
    if isinstance(expr, cst.BinaryOperation):
        return _plain(expr.left) and _plain(expr.right)
    if isinstance(expr, cst.UnaryOperation):
        return _plain(expr.expression)
    return False


def _names(expr: cst.BaseExpression) -> set[str]:
    found: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    expr.visit(_Names())
    return found


def _inside(model, node: cst.CSTNode, container: cst.CSTNode) -> bool:
    return any(ancestor is container for ancestor in model.ancestors(node))


def _guard_fix(model, guard: cst.If) -> NodeFix | None:
    """A seeding block at the top of the main guard (or right after the guard's
    `args = parser.parse_args()`), seeding Python and NumPy too when the file imports them."""
    if not isinstance(guard.body, cst.IndentedBlock):
        return None
    seed, after = _visible_seed(model, guard)
    first = guard.body.body[0]
    anchor = after if after is not None else first
    lines = []
    for qualname in ("random.seed", "numpy.random.seed"):
        try:
            text, imports = spell(model, qualname, anchor)
        except FixUnavailable:
            continue
        if not imports:
            lines.append(f"{text}({seed})")
    try:
        text, imports = spell(model, "torch.manual_seed", anchor)
    except FixUnavailable:
        return None
    lines.append(f"{text}({seed})")
    # At the top, (block, first) replaces `first` so that its own comment lines stay above it.
    change = InsertAfter(after, tuple(lines)) if after is not None else Replace(first, (*lines, first))
    return NodeFix(f"Seed the random generators with `{seed}` at the start of the script", (change, *imports))


def _visible_seed(model, guard: cst.If) -> tuple[str, cst.CSTNode | None]:
    """(the seed expression, the guard statement to insert after or None for the top)."""
    root = model.root_scope
    guard_order = model.order_of(guard)
    seed_bindings = root.bindings.get("seed", [])
    if _constant_seed(model, seed_bindings) and model.order_of(seed_bindings[0].node) < guard_order:
        return "seed", None
    if not argparse_defaults(model).get("seed"):
        return "0", None
    args_bindings = root.bindings.get("args", [])
    if len(args_bindings) != 1 or not _parses_args(args_bindings[0].value):
        return "0", None
    statement = args_bindings[0].node
    if model.order_of(statement) < guard_order:
        return "args.seed", None
    body = guard.body.body  # type: ignore[union-attr]
    line = statement_in_block(model, statement)
    if line is not None and any(s is line for s in body):
        return "args.seed", line
    return "0", None


def _constant_seed(model, bindings) -> bool:
    return len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None \
        and constant_value(model, bindings[0].value) is not None


def _parses_args(value) -> bool:
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "parse_args"
