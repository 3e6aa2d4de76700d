"""DLX304 torchvision-pretrained: a torchvision model builder called with `pretrained=`."""

from __future__ import annotations

import functools
from typing import Iterator

import libcst as cst

from ..deprecations import Entry, table, target_version
from ..diagnostics import Severity
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import calls_resolving_to, keyword_arg

_PREFIX = "torchvision.models."
# Sub-packages whose builders are named with the sub-package (`detection.fasterrcnn_resnet50_fpn`);
# other path components (`resnet` in `torchvision.models.resnet.resnet18`) are module files.
_FAMILIES = frozenset({"detection", "segmentation", "video", "optical_flow", "quantization"})


def builder_key(qualname: str) -> str | None:
    """``torchvision.models.resnet.resnet18`` -> ``resnet18``;
    ``torchvision.models.detection.faster_rcnn.fasterrcnn_resnet50_fpn`` ->
    ``detection.fasterrcnn_resnet50_fpn``; None outside ``torchvision.models``."""
    if not qualname.startswith(_PREFIX):
        return None
    parts = qualname[len(_PREFIX):].split(".")
    if parts[0] in _FAMILIES and len(parts) > 1:
        return f"{parts[0]}.{parts[-1]}"
    return parts[-1]


@functools.lru_cache(maxsize=1)
def _builders() -> tuple[dict[str, list[Entry]], frozenset[str]]:
    by_key: dict[str, list[Entry]] = {}
    for entry in table().arguments.get("DLX304", ()):
        for function in entry.functions:
            by_key.setdefault(builder_key(function) or function, []).append(entry)
    lasts = frozenset(key.rsplit(".", 1)[-1] for key in by_key)
    return by_key, lasts


def _is_bool_literal(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("True", "False")


class TorchvisionPretrained(Rule):
    code = "DLX304"
    name = "torchvision-pretrained"
    severity = Severity.WARNING
    requires = ("pretrained",)
    summary = "torchvision model builder called with the deprecated pretrained= / pretrained_backbone="
    what = """
Reports a call of a torchvision model builder (`torchvision.models.resnet18`,
`models.detection.fasterrcnn_resnet50_fpn`, ... through any import or alias) that passes
`pretrained=` or `pretrained_backbone=`, whatever the value, or a literal `True`/`False` as the
first positional argument (the old signature's `pretrained`). The builders are the ones
torchvision still wraps with its legacy-interface shim (123 accept `pretrained`, 18 also
`pretrained_backbone`), listed in the package's table `dlx_lint/data/deprecations.toml`.
"""
    why = """
torchvision 0.13 replaced the boolean with the multi-weight API: `weights=` takes a weights
enum member (`ResNet50_Weights.IMAGENET1K_V2`) or `None`, which says which checkpoint (and
which preprocessing, via `weights.transforms()`) is used. `pretrained=True` still works through
a shim that warns and silently picks the *first* (`IMAGENET1K_V1`) weights, which for several
models are not the best ones; the shim has been slated for removal since 0.15. Code with
`pretrained=` therefore warns on every run and may train from weaker weights than intended.
"""
    example = """
from torchvision import models

backbone = models.resnet50(pretrained=True)
head = models.detection.fasterrcnn_resnet50_fpn(pretrained=False, pretrained_backbone=True)
"""
    use_instead = """
from torchvision import models

backbone = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V1)  # or .DEFAULT
head = models.detection.fasterrcnn_resnet50_fpn(
    weights=None, weights_backbone=models.ResNet50_Weights.IMAGENET1K_V1
)
"""
    fix_safety = """
No fix yet. With a literal `True`/`False` the rewrite is mechanical and safe (`False` ->
`weights=None`, `True` -> the builder's `IMAGENET1K_V1`-style enum member, which is what the
shim loads); a computed value needs a person.
"""
    limitations = """
Builders chosen at run time (`getattr(models, name)(pretrained=True)`,
`models.__dict__[arch](...)`) are not resolved. Other libraries' `pretrained=` (timm's
`create_model`, `transformers`) is a different, current API and is never reported.
"""
    references = (
        Reference("torchvision 0.13 release notes: multi-weight support API", "https://github.com/pytorch/vision/releases/tag/v0.13.0"),
        Reference("torchvision docs: models and pre-trained weights", "https://docs.pytorch.org/vision/stable/models.html"),
        Reference("TorchFix TOR201", "https://github.com/pytorch-labs/torchfix"),
        Reference("MedMNIST/experiments#13", "https://github.com/MedMNIST/experiments/issues/13"),
    )
    bad_examples = (
        """
import torchvision
from torchvision import models
from torchvision.models.detection import fasterrcnn_resnet50_fpn as detector

a = models.resnet18(pretrained=True)  # expect: DLX304
b = torchvision.models.resnet.resnet50(pretrained=use_imagenet)  # expect: DLX304
c = detector(pretrained_backbone=False, num_classes=3)  # expect: DLX304
d = models.vgg16(True)  # expect: DLX304
""",
    )
    good_examples = (
        """
import timm
from torchvision import models

a = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
b = models.resnet18(weights=None, num_classes=10)
c = timm.create_model("resnet18", pretrained=True)
d = models.resnet18(**config)
""",
    )
    fix_availability = FixAvailability.NEVER

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        by_key, lasts = _builders()

        def accept(qualname: str) -> bool:
            key = builder_key(qualname)
            return key is not None and key in by_key

        for call, qualname in calls_resolving_to(model, lasts, accept):
            for entry in by_key[builder_key(qualname)]:  # type: ignore[index]
                if not entry.applies(target):
                    continue
                message = self._message(call, entry)
                if message is not None:
                    yield Finding(call, message)
                    break

    @staticmethod
    def _message(call: cst.Call, entry: Entry) -> str | None:
        for legacy in entry.legacy:
            arg = keyword_arg(call, legacy)
            if arg is None:
                continue
            head = f"`{legacy}=` is deprecated since torchvision 0.13"
            if isinstance(arg.value, cst.Name) and arg.value.value == "False":
                return f"{head}; pass `{entry.replacement}=None`"
            return f"{head}; pass `{entry.replacement}=` ({entry.arguments})"
        if entry.legacy == ("pretrained",) and call.args:
            first = call.args[0]
            if first.keyword is None and not first.star and _is_bool_literal(first.value):
                return (f"a positional `{first.value.value}` is the legacy `pretrained` argument, deprecated since "  # type: ignore[attr-defined]
                        f"torchvision 0.13; pass `weights=` ({entry.arguments})")
        return None
