"""DLX304 torchvision-pretrained: a torchvision model builder called with `pretrained=`."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Iterator

import libcst as cst

from ..deprecations import Entry, table, target_version
from ..diagnostics import Severity
from ..fixes.arguments import has_star, index_of, positional_count, rewrite_args
from ..fixes.helpers import add_import, spell
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import Finding, FixAvailability, Reference, Rule
from ..semantic.symbol_uses import calls_resolving_to, keyword_arg

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

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


@functools.lru_cache(maxsize=1)
def legacy_weights() -> dict:
    """`dlx_lint/data/torchvision_weights.toml`: per legacy argument, builder key -> the weights
    torchvision's shim substitutes for `True`; `modules`: enum class -> public module."""
    text = resources.files("dlx_lint.data").joinpath("torchvision_weights.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


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
The fix is safe: it passes what torchvision's own legacy shim (`handle_legacy_interface` in
`torchvision/models/_utils.py`) substitutes, so the same weights load. `False` becomes
`weights=None` (`weights_backbone=None`); `True` becomes the weights the builder's decorator
names for it, which are the *first* published ones (`ResNet50_Weights.IMAGENET1K_V1`,
`FasterRCNN_ResNet50_FPN_Weights.COCO_V1`, `VGG16_Weights.IMAGENET1K_FEATURES` for the SSD
backbone), not `.DEFAULT` (for `resnet50` that is `IMAGENET1K_V2`, other weights with other
accuracy: switch deliberately). For the quantized builders the choice follows a literal or
absent `quantize=`. The enum is spelled through an import already in the file
(`models.ResNet50_Weights`) or imported (`from torchvision.models import ResNet50_Weights`).
The table of builders and weights is `dlx_lint/data/torchvision_weights.toml`, extracted from
torchvision 0.29.1's source. No fix for a computed value, for builders whose legacy default is
computed or absent (`vit_h_14`, `regnet_y_128gf`, `resnet_fpn_backbone`), when the call also
passes `weights=`, `*args` or `**kwargs`, or passes the legacy value positionally with other
positional arguments.
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
    fixed_examples = (
        """
import torchvision
from torchvision import models
from torchvision.models.detection import fasterrcnn_resnet50_fpn as detector

a = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)  # expect: DLX304
b = torchvision.models.resnet.resnet50(pretrained=use_imagenet)  # expect: DLX304
c = detector(weights_backbone=None, num_classes=3)  # expect: DLX304
d = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)  # expect: DLX304
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
    fix_availability = FixAvailability.SOMETIMES

    def check(self, model) -> Iterator[Finding]:
        target = target_version(model)
        by_key, lasts = _builders()

        def accept(qualname: str) -> bool:
            key = builder_key(qualname)
            return key is not None and key in by_key

        for call, qualname in calls_resolving_to(model, lasts, accept):
            key = builder_key(qualname)
            entries = [entry for entry in by_key[key] if entry.applies(target)]  # type: ignore[index]
            for entry in entries:
                message = self._message(call, entry)
                if message is not None:
                    yield Finding(call, message, fix=functools.partial(_fix, model, call, key, tuple(entries)))
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


def _fix(model, call: cst.Call, key: str, entries: tuple[Entry, ...]) -> NodeFix | None:
    """Every legacy argument of the call replaced by its `weights` counterpart, or no fix."""
    if has_star(call):
        return None
    data = legacy_weights()
    replace: dict[int, tuple[str, cst.BaseExpression]] = {}
    imports: list = []
    for entry in entries:
        for legacy in entry.legacy:
            arg = keyword_arg(call, legacy)
            if arg is None and legacy == "pretrained" and call.args:
                first = call.args[0]
                if first.keyword is None and not first.star and _is_bool_literal(first.value):
                    if positional_count(call) != 1:
                        return None  # `resnet50(True, False)`: the rest are positional too
                    arg = first
            if arg is None:
                continue
            if keyword_arg(call, entry.replacement) is not None or not _is_bool_literal(arg.value):
                return None
            if arg.value.value == "False":  # type: ignore[attr-defined]
                value: cst.BaseExpression = cst.Name("None")
            else:
                member = _member_for_true(data.get(legacy, {}).get(key), call)
                if member is None:
                    return None
                enum, attr = member.split(".")
                text, extra = _spell_enum(model, data["modules"][enum], enum, call)
                value = cst.parse_expression(f"{text}.{attr}")
                imports.extend(extra)
            replace[index_of(call, arg)] = (entry.replacement, value)
    if not replace:
        return None
    new = rewrite_args(call, replace)
    passed = ", ".join(f"`{name}={_code(value)}`" for name, value in replace.values())
    return NodeFix(f"Pass {passed} (what the legacy argument loaded)", (Replace(call, new), *imports))


def _code(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)


def _member_for_true(value, call: cst.Call) -> str | None:
    """The enum member a legacy `True` loads: a constant, or for quantized builders the branch
    a literal (or absent) `quantize=` selects."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        quantize = keyword_arg(call, "quantize")
        if quantize is None:
            return value["float"]
        if _is_bool_literal(quantize.value):
            return value["quantize"] if quantize.value.value == "True" else value["float"]  # type: ignore[attr-defined]
    return None


def _spell_enum(model, module: str, enum: str, at: cst.CSTNode) -> tuple[str, tuple]:
    """The enum spelled through an import the file already has (``models.ResNet50_Weights``),
    else imported by name (``from torchvision.models import ResNet50_Weights``) when that name
    is free in the file, else the full path with ``import torchvision``."""
    try:
        text, extra = spell(model, f"{module}.{enum}", at)
    except FixUnavailable:
        text, extra = "", ()
    if text and not extra:
        return text, ()
    if not any(enum in scope.bindings for scope in model.scopes.values()):
        return enum, (add_import(model, f"from {module} import {enum}", at),)
    if not text:
        raise FixUnavailable(f"`{enum}` cannot be spelled here")
    return text, extra
