"""Fixes of the DLX304-DLX307 deprecation rules: exact fixed text for the shapes each fix
handles (aliases included), the shapes where no fix may be offered, and the tables the fixes
rest on, checked against their sources (the installed torch; torchvision's source when present).
"""

from __future__ import annotations

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.diagnostics import Applicability
from dlx_lint.fixer import fix_source

from .fix_cases import check_fix_case

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE

# (rule, source, fixed source or None when no fix may be offered, applicability)
CASES = [
    # DLX304: True -> the weights torchvision's legacy shim substitutes (IMAGENET1K_V1 for
    # resnet50, not DEFAULT = V2), False -> None; the enum spelled through the file's imports.
    ("DLX304", """
        import torchvision.models as models
        from torchvision.models import resnet50

        a = resnet50(pretrained=True)
        b = models.resnet18(pretrained=False, num_classes=10)
        c = models.vgg16(True)
        """, """
        import torchvision.models as models
        from torchvision.models import resnet50

        a = resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V1)
        b = models.resnet18(weights=None, num_classes=10)
        c = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
        """, SAFE),
    # No import reaches the enum: it is imported by name.
    ("DLX304", """
        from torchvision.models import resnet50
        from torchvision.models.detection import fasterrcnn_resnet50_fpn

        backbone = resnet50(pretrained=True)
        detector = fasterrcnn_resnet50_fpn(pretrained=True, pretrained_backbone=False)
        """, """
        from torchvision.models import resnet50
        from torchvision.models.detection import fasterrcnn_resnet50_fpn
        from torchvision.models import ResNet50_Weights
        from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

        backbone = resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)
        detector = fasterrcnn_resnet50_fpn(weights=FasterRCNN_ResNet50_FPN_Weights.COCO_V1, weights_backbone=None)
        """, SAFE),
    # The builder is imported inside the function (a lazy import of an optional package): the
    # enum is imported right after it, in the function, never at module level.
    ("DLX304", """
        \"\"\"Helpers; torchvision is optional.\"\"\"


        def load_backbone():
            from torchvision.models import resnet50
            return resnet50(pretrained=True)


        def load_nested():
            from torchvision.models import resnet18

            def build():
                return resnet18(pretrained=True)
            return build
        """, """
        \"\"\"Helpers; torchvision is optional.\"\"\"


        def load_backbone():
            from torchvision.models import resnet50
            from torchvision.models import ResNet50_Weights
            return resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)


        def load_nested():
            from torchvision.models import resnet18
            from torchvision.models import ResNet18_Weights

            def build():
                return resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
            return build
        """, SAFE),
    # A builder imported in a class body: the module-level import goes before the class, two
    # blank lines apart, above the comment heading it.
    ("DLX304", """
        \"\"\"Doc.\"\"\"


        # The model.
        class Net:
            from torchvision.models import resnet50
            backbone = resnet50(pretrained=True)
        """, """
        \"\"\"Doc.\"\"\"


        from torchvision.models import ResNet50_Weights


        # The model.
        class Net:
            from torchvision.models import resnet50
            backbone = resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)
        """, SAFE),
    # No fix: the function binds the builder twice (no single place for the import).
    ("DLX304", """
        def load(small):
            if small:
                from torchvision.models import resnet18 as net
            else:
                from torchvision.models import resnet34 as net
            return net(pretrained=True)
        """, None, None),
    # DLX307: the comment of a legacy argument that goes away is kept on a line of its own.
    ("DLX307", """
        import torch.nn as nn
        a = nn.MSELoss(
            size_average=False,  # sum
            reduce=True,  # per batch
        )
        b = nn.MSELoss(reduce=True,  # per batch
                       size_average=False)
        """, """
        import torch.nn as nn
        a = nn.MSELoss(
            reduction="sum",  # sum
            # per batch
        )
        b = nn.MSELoss(reduction="sum",  # per batch
                       )
        """, SAFE),
    # The full path, through the module the builder came from; pretrained_backbone alone; the
    # quantized builders follow `quantize=`; segmentation weights live in their package.
    ("DLX304", """
        import torchvision

        a = torchvision.models.detection.fasterrcnn_resnet50_fpn(pretrained_backbone=True)
        b = torchvision.models.quantization.resnet50(pretrained=True, quantize=True)
        c = torchvision.models.quantization.resnet50(pretrained=True)
        d = torchvision.models.segmentation.deeplabv3_resnet50(pretrained=True)
        e = torchvision.models.vit_h_14(pretrained=False)
        """, """
        import torchvision

        a = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights_backbone=torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        b = torchvision.models.quantization.resnet50(weights=torchvision.models.quantization.ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1, quantize=True)
        c = torchvision.models.quantization.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        d = torchvision.models.segmentation.deeplabv3_resnet50(weights=torchvision.models.segmentation.DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1)
        e = torchvision.models.vit_h_14(weights=None)
        """, SAFE),
    # A computed value, `**kwargs`, `weights=` already there, more positional arguments, a
    # builder whose legacy True has no weights (vit_h_14 raises), a computed `quantize=`, and
    # one legacy argument fixable but not the other: reported, not fixed.
    ("DLX304", """
        from torchvision import models

        a = models.resnet50(pretrained=flag)
        b = models.resnet18(pretrained=True, **cfg)
        c = models.resnet50(pretrained=True, weights=None)
        d = models.vgg16(True, False)
        e = models.vit_h_14(pretrained=True)
        f = models.quantization.resnet18(pretrained=True, quantize=q)
        g = models.detection.fasterrcnn_resnet50_fpn(pretrained=False, pretrained_backbone=flag)
        """, None, None),
    # DLX307: every literal combination, the class and the functional, through aliases.
    ("DLX307", """
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn import NLLLoss as Nll

        a = nn.MSELoss(size_average=False)
        b = F.mse_loss(x, y, reduce=False)
        c = nn.CrossEntropyLoss(weight=w, size_average=True, reduce=True, ignore_index=0)
        d = Nll(reduce=True, size_average=False)
        e = nn.L1Loss(size_average=False, reduce=False)
        f = F.kl_div(x, y, size_average=True)
        """, """
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn import NLLLoss as Nll

        a = nn.MSELoss(reduction="sum")
        b = F.mse_loss(x, y, reduction="none")
        c = nn.CrossEntropyLoss(weight=w, reduction="mean", ignore_index=0)
        d = Nll(reduction="sum")
        e = nn.L1Loss(reduction="none")
        f = F.kl_div(x, y, reduction="mean")
        """, SAFE),
    # One argument per line with a trailing comma: the layout is kept.
    ("DLX307", """
        import torch
        loss = torch.nn.functional.nll_loss(
            log_probs,
            labels,
            size_average=False,
            reduce=True,
        )
        """, """
        import torch
        loss = torch.nn.functional.nll_loss(
            log_probs,
            labels,
            reduction="sum",
        )
        """, SAFE),
    # Positional flags (by each signature's positions: `reduce` is not always next to
    # `size_average`), mixed with keywords; a literal `None` counts as the default.
    ("DLX307", """
        import torch.nn as nn
        import torch.nn.functional as F
        a = nn.NLLLoss(w, False)
        b = nn.MSELoss(False, False)
        c = nn.NLLLoss(w, False, reduce=True)
        d = F.nll_loss(x, y, w, False)
        e = nn.NLLLoss(w, None, reduce=False)
        f = nn.MSELoss(True, None)
        g = nn.BCELoss(size_average=None, reduce=False)
        h = F.cross_entropy(
            logits,
            labels,
            None,
            False,
        )
        """, """
        import torch.nn as nn
        import torch.nn.functional as F
        a = nn.NLLLoss(w, reduction="sum")
        b = nn.MSELoss(reduction="none")
        c = nn.NLLLoss(w, reduction="sum")
        d = F.nll_loss(x, y, w, reduction="sum")
        e = nn.NLLLoss(w, reduction="none")
        f = nn.MSELoss(reduction="mean")
        g = nn.BCELoss(reduction="none")
        h = F.cross_entropy(
            logits,
            labels,
            None,
            reduction="sum",
        )
        """, SAFE),
    # A computed value, `**kwargs`, an explicit `reduction=` (overridden by the flags), a
    # positional `reduction`, and a positional argument after a positional flag (dropping the
    # flag would shift it into the flag's place): reported, not fixed.
    ("DLX307", """
        import torch.nn as nn
        import torch.nn.functional as F
        a = nn.MSELoss(size_average=flag)
        b = nn.MSELoss(size_average=False, **kw)
        c = F.mse_loss(x, y, reduce=False, reduction="sum")
        d = nn.NLLLoss(w, None, -100, False)
        e = F.mse_loss(*pair, reduce=False)
        f = nn.NLLLoss(w, False, -100)
        g = nn.MSELoss(False, False, "sum")
        h = nn.NLLLoss(w, flag)
        """, None, None),
    # DLX306: the import's module when every name has a public twin (aliases kept; its uses
    # need nothing); attribute paths spelled with the file's imports.
    ("DLX306", """
        import torch
        import torch.utils.data._utils.collate as collate_impl
        from torch.utils.data._utils.collate import default_collate as dc, default_convert

        def f(batch):
            a = collate_impl.default_collate(batch)
            b = dc(default_convert(batch))
            return torch.utils.data._utils.collate.default_convert(a), collate_impl.default_convert
        """, """
        import torch
        import torch.utils.data._utils.collate as collate_impl
        from torch.utils.data import default_collate as dc, default_convert

        def f(batch):
            a = torch.utils.data.default_collate(batch)
            b = dc(default_convert(batch))
            return torch.utils.data.default_convert(a), torch.utils.data.default_convert
        """, SAFE),
    ("DLX306", """
        from torch.utils import data
        from torch.utils.data._utils.collate import default_collate
        loader = data.DataLoader(ds, collate_fn=default_collate)
        """, """
        from torch.utils import data
        from torch.utils.data import default_collate
        loader = data.DataLoader(ds, collate_fn=default_collate)
        """, SAFE),
    ("DLX306", """
        from torch.utils import data
        batch = data._utils.collate.default_collate(items)
        """, """
        from torch.utils import data
        batch = data.default_collate(items)
        """, SAFE),
    # An import that also takes a name without a public twin: neither it nor its uses change.
    ("DLX306", """
        from torch.utils.data._utils.collate import default_collate, collate
        batch = default_collate(items)
        """, None, None),
    # DLX305: appended at the end, on one line or one per line; a `*args` for `checkpoint` is
    # fine (its `use_reentrant` is keyword-only).
    ("DLX305", """
        import torch
        import torch.utils.checkpoint as cp
        from torch.utils.checkpoint import checkpoint

        def run(block, blocks, x, args):
            a = checkpoint(block, x)
            b = torch.utils.checkpoint.checkpoint(
                block,
                x,
            )
            c = cp.checkpoint(block, *args)
            return cp.checkpoint_sequential(blocks, 2, a)
        """, """
        import torch
        import torch.utils.checkpoint as cp
        from torch.utils.checkpoint import checkpoint

        def run(block, blocks, x, args):
            a = checkpoint(block, x, use_reentrant=False)
            b = torch.utils.checkpoint.checkpoint(
                block,
                x,
                use_reentrant=False,
            )
            c = cp.checkpoint(block, *args, use_reentrant=False)
            return cp.checkpoint_sequential(blocks, 2, a, use_reentrant=False)
        """, UNSAFE),
    # `checkpoint_sequential` with `*args` may already pass `use_reentrant` positionally.
    ("DLX305", """
        from torch.utils.checkpoint import checkpoint_sequential
        def run(blocks, args):
            return checkpoint_sequential(blocks, *args)
        """, None, None),
]


@pytest.mark.parametrize("code,source,expected,applicability", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fix(code, source, expected, applicability):
    check_fix_case(code, source, expected, applicability)


@pytest.mark.parametrize("code,line", [
    ("DLX305", "y = checkpoint(block, x)  # noqa: DLX305\n"),
    ("DLX307", "c = nn.MSELoss(size_average=False)  # noqa: DLX307\n"),
    ("DLX306", "import torch\nc = torch.utils.data._utils.collate.default_collate  # noqa: DLX306\n"),
    ("DLX304", "from torchvision import models\nm = models.resnet18(pretrained=True)  # noqa: DLX304\n"),
])
def test_a_noqa_line_is_left_alone(code, line):
    source = "import torch.nn as nn\nfrom torch.utils.checkpoint import checkpoint\n" + line
    result = fix_source("t.py", source, Settings(select=(code,)), unsafe=True)
    assert result.text == source and not result.applied


def test_checkpoint_sequential_with_a_positional_use_reentrant_is_not_reported():
    source = "from torch.utils.checkpoint import checkpoint_sequential\ny = checkpoint_sequential(blocks, 2, x, False)\n"
    assert lint_source("t.py", source, Settings(select=("DLX305",))) == []


# ------------------------------------------------------------------------------------ tables vs sources


def test_size_average_positions_match_the_installed_torch():
    """DLX307 finds positional flags, and its fix relies, on where `size_average` and `reduce`
    sit in each signature (and on `reduction` right after `reduce`): checked on every function
    of the rule's table entry."""
    torch = pytest.importorskip("torch")
    import importlib
    import inspect

    from dlx_lint.deprecations import table
    from dlx_lint.rules.legacy_loss_reduction_args import REDUCE_POSITION, SIZE_AVERAGE_POSITION

    functions = {f for e in table().arguments["DLX307"] for f in e.functions}
    assert set(SIZE_AVERAGE_POSITION) == set(REDUCE_POSITION) == functions
    for qualname, position in SIZE_AVERAGE_POSITION.items():
        module, name = qualname.rsplit(".", 1)
        obj = getattr(importlib.import_module(module), name)
        target = obj.__init__ if inspect.isclass(obj) else obj
        parameters = [p for p in inspect.signature(target).parameters.values() if p.name != "self"]
        names = [p.name for p in parameters]
        assert names.index("size_average") == position, qualname
        assert names.index("reduce") == REDUCE_POSITION[qualname], qualname
        assert position < REDUCE_POSITION[qualname] < names.index("reduction") == REDUCE_POSITION[qualname] + 1, qualname
        # every one of them can be passed positionally, at that index
        kinds = {p.kind for p in parameters[: names.index("reduction") + 1]}
        assert kinds == {inspect.Parameter.POSITIONAL_OR_KEYWORD}, qualname
    assert torch.nn.MSELoss  # the import is the point


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_equivalent_reduction_is_torchs_own_mapping(size_average, reduce):
    """`torch.nn._reduction.legacy_get_string` is the function PyTorch's losses call."""
    pytest.importorskip("torch")
    import warnings

    from torch.nn import _reduction

    from dlx_lint.rules.legacy_loss_reduction_args import equivalent_reduction

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _reduction.legacy_get_string(size_average, reduce)
    assert equivalent_reduction(size_average, reduce) == expected


def test_torchvision_weights_table_covers_the_rules_builders():
    """Every builder with a fix for `True` is one DLX304 reports, every enum has a public
    module, and the builders left out are the ones whose legacy default is not a constant."""
    from dlx_lint.deprecations import table
    from dlx_lint.rules.torchvision_pretrained import builder_key, legacy_weights

    data = legacy_weights()
    for legacy in ("pretrained", "pretrained_backbone"):
        reported = {builder_key(f) for e in table().arguments["DLX304"] if e.legacy == (legacy,) for f in e.functions}
        assert set(data[legacy]) <= reported
        missing = reported - set(data[legacy])
        if legacy == "pretrained":
            assert missing == {"vit_h_14", "regnet_y_128gf", "detection.resnet_fpn_backbone", "detection.mobilenet_backbone"}
        else:
            assert missing == set()
        for value in data[legacy].values():
            for member in (value.values() if isinstance(value, dict) else (value,)):
                enum, attr = member.split(".")
                assert data["modules"][enum].startswith("torchvision.models"), enum
                assert attr == attr.upper(), member
    assert data["pretrained"]["resnet50"] == "ResNet50_Weights.IMAGENET1K_V1"
    assert data["pretrained"]["detection.keypointrcnn_resnet50_fpn"] == "KeypointRCNN_ResNet50_FPN_Weights.COCO_V1"
    assert data["pretrained_backbone"]["detection.ssd300_vgg16"] == "VGG16_Weights.IMAGENET1K_FEATURES"
    assert data["modules"]["MobileNet_V2_QuantizedWeights"] == "torchvision.models.quantization"


TORCHVISION_SOURCE = "/tmp/corpus/src/torchvision/torchvision"


def test_torchvision_weights_table_is_what_the_extractor_reads_from_torchvision():
    """The packaged table is the extractor's output on torchvision's source (when present)."""
    import os
    import subprocess
    import sys
    from importlib import resources
    from pathlib import Path

    if not os.path.isdir(TORCHVISION_SOURCE):
        pytest.skip("torchvision's source is not available here")
    script = Path(__file__).resolve().parents[1] / "scripts" / "extract_torchvision_builders.py"
    out = subprocess.run([sys.executable, str(script), "--weights", TORCHVISION_SOURCE],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    packaged = resources.files("dlx_lint.data").joinpath("torchvision_weights.toml").read_text(encoding="utf-8")
    assert out == packaged
