"""DLX308 torchvision-v2-totensor: the deprecated `torchvision.transforms.v2.ToTensor`."""

from __future__ import annotations

from typing import Iterator

from ..deprecations import target_version
from ..diagnostics import Severity
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import symbol_imports, symbol_uses

_MESSAGE = (
    "`torchvision.transforms.v2.ToTensor` is deprecated; use "
    "`v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])` (equal up to float precision)"
)


class TorchvisionV2ToTensor(Rule):
    code = "DLX308"
    name = "torchvision-v2-totensor"
    severity = Severity.WARNING
    requires = ("ToTensor",)
    summary = "torchvision.transforms.v2.ToTensor is deprecated"
    what = """
Reports uses of `torchvision.transforms.v2.ToTensor` (through any import or alias) and the
import statements that import it. The classic `torchvision.transforms.ToTensor` (v1) is not
deprecated and is not reported.
"""
    why = """
In the v2 transforms, `ToTensor` is a compatibility shim: it warns on construction ("The
transform `ToTensor()` is deprecated and will be removed in a future release") and returns a
plain tensor rather than a `tv_tensors.Image`, so later v2 transforms cannot tell images from
other tensors. `v2.ToImage()` followed by `v2.ToDtype(torch.float32, scale=True)` gives the same
values as an `Image`.
"""
    example = """
from torchvision.transforms import v2

pipeline = v2.Compose([v2.RandomResizedCrop(224), v2.ToTensor()])
"""
    use_instead = """
import torch
from torchvision.transforms import v2

pipeline = v2.Compose([v2.RandomResizedCrop(224), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
"""
    fix_safety = "No fix: one transform becomes two, and the output type changes (`Image` instead of a plain tensor)."
    limitations = "Only the class is reported; the functional `v2.functional.to_tensor` is not in the table yet."
    references = (
        Reference("torchvision docs: transforms.v2.ToTensor (deprecated)", "https://docs.pytorch.org/vision/stable/generated/torchvision.transforms.v2.ToTensor.html"),
        Reference("torchvision source: transforms/v2/_deprecated.py", "https://github.com/pytorch/vision/blob/main/torchvision/transforms/v2/_deprecated.py"),
        Reference("TorchFix TOR202", "https://github.com/pytorch-labs/torchfix"),
    )
    bad_examples = (
        """
from torchvision.transforms import v2
from torchvision.transforms.v2 import ToTensor  # expect: DLX308

a = v2.Compose([v2.ToTensor()])  # expect: DLX308
b = ToTensor()  # expect: DLX308
""",
    )
    good_examples = (
        """
import torch
from torchvision import transforms
from torchvision.transforms import v2

a = transforms.Compose([transforms.ToTensor()])
b = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
""",
    )
    fix_availability = FixAvailability.NEVER

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        for statement in symbol_imports(model):
            if any(e.rule == self.code and e.applies(target) for _, e in statement.names):
                yield Finding(statement.node, "import of " + _MESSAGE)
        for use in symbol_uses(model):
            if use.entry.rule == self.code and use.entry.applies(target):
                yield Finding(use.node, _MESSAGE)
