"""DLX104 tensor-created-then-moved (performance, opt-in): allocate on the CPU, then copy."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import add_keyword
from ..fixes.spec import NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.names import dotted_name

_FACTORIES = frozenset({f"torch.{n}" for n in ("zeros", "ones", "empty", "rand", "randn", "randint", "arange", "full", "tensor", "eye", "linspace")})


class TensorCreatedThenMoved(Rule):
    code = "DLX104"
    name = "tensor-created-then-moved"
    severity = Severity.INFO
    enabled_by_default = False
    requires = (".to(", ".cuda(")
    summary = "torch.zeros(...).to(device) allocates on the CPU and copies; pass device= instead"
    what = """
Reports `torch.zeros/ones/empty/rand/randn/randint/arange/full/tensor/eye/linspace(...)`
immediately followed by `.cuda()` or `.to(device)` (a device argument, not a dtype).
"""
    why = """
The tensor is first allocated (and filled) in host memory, then copied to the device: an extra
allocation, a host-to-device transfer and a synchronisation point, on every call in a training
loop. Factory functions take `device=` and create the tensor where it is needed.
"""
    example = "mask = torch.ones(n, n).to(device)\n"
    use_instead = "mask = torch.ones(n, n, device=device)\n"
    fix_safety = """
The fix moves the device into the factory call (`torch.ones(n, n).to(device)` ->
`torch.ones(n, n, device=device)`, `.cuda()` -> `device="cuda"`). It is offered only when the
move takes exactly the device (one positional argument or `device=`, nothing else: no dtype,
`non_blocking` or `copy`) and the factory has no `out=`, `pin_memory=` or `*`/`**` arguments.
It is safe for deterministic factories: the same values end up on the same device. It is unsafe
for `rand`, `randn` and `randint` (drawn on the device, they use that device's generator, so
the numbers differ from the CPU-drawn ones and the CPU random stream no longer advances) and
when the factory passes `requires_grad=` (the device tensor becomes the leaf that receives
`.grad`, instead of an unreachable CPU tensor).
"""
    limitations = "`.to(x)` with an argument whose nature is unknown (a tensor, a dtype, a device) is treated as a device only when it is named like one (`device`, `x.device`, `\"cuda\"`)."
    no_torch_proof = "The extra host allocation and host-to-device copy only exist with an accelerator; on a CPU-only machine `.to('cpu')`-style moves are no-ops."
    references = (
        Reference("PyTorch docs: Tensor creation ops (device argument)", "https://docs.pytorch.org/docs/stable/torch.html#creation-ops"),
        Reference("PyTorch performance tuning guide: create tensors directly on the target device", "https://docs.pytorch.org/tutorials/recipes/recipes/tuning_guide.html"),
    )
    bad_examples = (
        """
import torch

def masks(n, x):
    a = torch.ones(n, n).to(x.device)  # expect: DLX104
    b = torch.zeros(n).cuda()  # expect: DLX104
    return a, b
""",
    )
    fixed_examples = (
        """
import torch

def masks(n, x):
    a = torch.ones(n, n, device=x.device)  # expect: DLX104
    b = torch.zeros(n, device="cuda")  # expect: DLX104
    return a, b
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import torch

def masks(n, x):
    a = torch.ones(n, n, device=x.device)
    b = torch.zeros(n).to(torch.float16)
    return a, b
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for name in ("to", "cuda"):
            for call in model.calls_by_attr.get(name, []):
                receiver = call.func.value
                if not isinstance(receiver, cst.Call) or not isinstance(receiver.func, (cst.Name, cst.Attribute)):
                    continue
                if model.qualname(receiver.func) not in _FACTORIES:
                    continue
                if any(a.keyword is not None and a.keyword.value == "device" for a in receiver.args):
                    continue
                if name == "to" and not _device_argument(call):
                    continue
                yield Finding(call, "the tensor is allocated on the CPU and then copied; pass `device=...` to the factory instead",
                              fix=partial(_fix, model, call, receiver))


def _device_argument(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == "device":
                return True
            continue
        value = arg.value
        if isinstance(value, cst.SimpleString):
            # `.to("cpu")` of a fresh tensor copies nothing: it is already there.
            text = value.evaluated_value
            return isinstance(text, str) and text.split(":")[0] in ("cuda", "mps", "xpu")
        if isinstance(value, cst.Call):
            return (dotted_name(value.func) or "").endswith("device")
        path = dotted_name(value) or ""
        return path.rsplit(".", 1)[-1] in ("device", "dev", "_device")
    return False


_RANDOM = frozenset({"torch.rand", "torch.randn", "torch.randint"})
_REFUSED_KEYWORDS = frozenset({"out", "pin_memory", "device"})


def _fix(model, move: cst.Call, factory: cst.Call) -> NodeFix | None:
    """The factory call with `device=` taken from the move, replacing the whole chain."""
    if any(a.star for a in factory.args) or any(a.keyword is not None and a.keyword.value in _REFUSED_KEYWORDS for a in factory.args):
        return None
    name = move.func.attr.value  # type: ignore[attr-defined]
    if name == "cuda":
        if move.args:
            return None
        device: cst.BaseExpression = cst.SimpleString('"cuda"')
    else:
        if len(move.args) != 1 or move.args[0].star:
            return None
        only = move.args[0]
        if only.keyword is not None and only.keyword.value != "device":
            return None
        device = only.value
    unsafe = model.qualname(factory.func) in _RANDOM or any(
        a.keyword is not None and a.keyword.value == "requires_grad" for a in factory.args
    )
    new = add_keyword(factory, "device", device)
    return NodeFix(
        f"Pass `device={cst.Module([]).code_for_node(device)}` to the factory",
        (Replace(move, new),),
        Applicability.UNSAFE if unsafe else None,
    )
