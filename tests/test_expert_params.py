"""Static parameter counts (`dlx_lint.expert.params`) against what torch reports.

Every supported layer is built with CPU torch and ``sum(p.numel() for p in m.parameters())``
compared with the estimate; so are a few model classes written here (an MLP, a ResNet-style
network with a ``_make_layer`` helper, a Transformer block stack with tied embeddings). Where a
size is not static the estimate must say which and count exactly what is known.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

torch = pytest.importorskip("torch")

from dlx_lint.expert.layers import LAYERS  # noqa: E402
from dlx_lint.expert.params import estimate_calls, estimate_class  # noqa: E402
from dlx_lint.semantic.model import SemanticModel  # noqa: E402

HEADER = "import torch\nimport torch.nn as nn\nfrom collections import OrderedDict\n"

LAYER_CASES = [
    "nn.Linear(4096, 11008)",
    "nn.Linear(10, 5, bias=False)",
    "nn.Linear(in_features=7, out_features=3, bias=0)",
    "nn.Bilinear(3, 4, 5)",
    "nn.Bilinear(3, 4, 5, False)",
    "nn.Conv1d(16, 33, 3)",
    "nn.Conv2d(64, 128, 3)",
    "nn.Conv2d(64, 128, (3, 5), groups=4, bias=False)",
    "nn.Conv2d(32, 32, 3, padding=1, groups=32)",
    "nn.Conv3d(4, 8, (3, 3, 3), groups=2)",
    "nn.ConvTranspose1d(8, 4, 5)",
    "nn.ConvTranspose2d(16, 32, 4, stride=2, groups=4)",
    "nn.ConvTranspose3d(4, 6, 3, bias=False)",
    "nn.Embedding(32000, 4096)",
    "nn.Embedding(10, 3, padding_idx=0)",
    "nn.EmbeddingBag(100, 16, mode='sum')",
    "nn.RNN(10, 20)",
    "nn.RNN(10, 20, 2, 'relu', False)",
    "nn.LSTM(128, 256, num_layers=2, bidirectional=True, proj_size=64)",
    "nn.LSTM(10, 20, 3, False)",
    "nn.GRU(10, 20, 2, bidirectional=True)",
    "nn.RNNCell(10, 20)",
    "nn.LSTMCell(10, 20, bias=False)",
    "nn.GRUCell(10, 20)",
    "nn.MultiheadAttention(512, 8)",
    "nn.MultiheadAttention(512, 8, bias=False)",
    "nn.MultiheadAttention(512, 8, add_bias_kv=True, kdim=256, vdim=128)",
    "nn.LayerNorm(512)",
    "nn.LayerNorm([64, 32], elementwise_affine=False)",
    "nn.LayerNorm((8, 16), bias=False)",
    "nn.RMSNorm(4096)",
    "nn.RMSNorm([8, 8], elementwise_affine=False)",
    "nn.GroupNorm(8, 64)",
    "nn.GroupNorm(4, 32, affine=False)",
    "nn.GroupNorm(4, 32, bias=False)",
    "nn.BatchNorm1d(100)",
    "nn.BatchNorm2d(64, affine=False)",
    "nn.BatchNorm3d(16, bias=False)",
    "nn.SyncBatchNorm(32)",
    "nn.InstanceNorm1d(10, affine=True)",
    "nn.InstanceNorm2d(64)",
    "nn.InstanceNorm3d(8, affine=True, bias=False)",
    "nn.PReLU()",
    "nn.PReLU(64)",
    "nn.TransformerEncoderLayer(512, 8)",
    "nn.TransformerEncoderLayer(256, 4, 1024, bias=False)",
    "nn.TransformerDecoderLayer(512, 8, dim_feedforward=2048)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(128, 4, 256), 3, norm=nn.LayerNorm(128))",
    "nn.TransformerDecoder(nn.TransformerDecoderLayer(64, 4, 128), num_layers=2)",
    "nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=128)",
    "nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Dropout(0.1), nn.Linear(20, 1))",
    "nn.Sequential(OrderedDict([('fc', nn.Linear(4, 8)), ('act', nn.GELU()), ('out', nn.Linear(8, 2))]))",
    "nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])",
    "nn.ModuleDict({'a': nn.Conv2d(3, 8, 3), 'b': nn.BatchNorm2d(8)})",
    "nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for i in range(2 * 2)])",
    "nn.ParameterList([nn.Parameter(torch.zeros(3, 4)), nn.Parameter(torch.ones(5))])",
    "nn.Parameter(torch.randn(1, 197, 768) * 0.02)",
    "nn.CrossEntropyLoss(label_smoothing=0.1)",
    "nn.ReLU(inplace=True)",
    "nn.Identity()",
    "nn.AdaptiveAvgPool2d((1, 1))",
]


def _model(source: str) -> SemanticModel:
    return SemanticModel(cst.parse_module(source), source, "case.py")


def _torch_count(module) -> int:
    if isinstance(module, torch.nn.Parameter):
        return module.numel()
    return sum(p.numel() for p in module.parameters())


def _run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<case>", "exec"), namespace)  # the test's own snippet, not linted code
    return namespace


@pytest.mark.parametrize("expression", LAYER_CASES)
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's note on TransformerEncoder speed
def test_layer_estimate_equals_torch(expression):
    source = HEADER + f"layer = {expression}\n"
    model = _model(source)
    call = model.assigns[-1].value
    estimate = estimate_calls(model, [call])[call]
    assert estimate.exact, estimate.missing
    assert estimate.count == _torch_count(_run(source)["layer"])


def test_every_layer_formula_is_checked_against_torch():
    covered = {expression.split("(", 1)[0].removeprefix("nn.") for expression in LAYER_CASES}
    covered |= {"TransformerEncoderLayer", "TransformerDecoderLayer", "LayerNorm"}
    assert {spec.name for spec in LAYERS.values()} <= covered


def test_a_layer_formula_names_its_documentation_page():
    for qualname, spec in LAYERS.items():
        assert spec.url == f"https://docs.pytorch.org/docs/stable/generated/{qualname}.html"
        assert spec.formula


CLASSES = HEADER + textwrap.dedent('''
    HIDDEN = 256


    class MLP(nn.Module):
        def __init__(self, d_in=784, hidden=HIDDEN, n_classes=10, depth=3, dropout=0.1):
            super().__init__()
            layers = []
            d = d_in
            for _ in range(depth):
                layers += [nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)]
                d = hidden
            layers.append(nn.Linear(d, n_classes))
            self.net = nn.Sequential(*layers)


    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample


    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, width_per_group=64):
            super().__init__()
            width = int(planes * (width_per_group / 64.0)) * groups
            self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, padding=1, groups=groups, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample


    class ResNet(nn.Module):
        def __init__(self, block=BasicBlock, layers=(2, 2, 2, 2), num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, num_classes)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion),
                )
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes))
            return nn.Sequential(*layers)


    class ResNet50(ResNet):
        def __init__(self, num_classes=10):
            super().__init__(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)


    class ResidualStage(nn.Module):
        """A ResNet-style block built from a same-file block class with explicit sizes."""

        def __init__(self, channels=64):
            super().__init__()
            self.blocks = nn.Sequential(BasicBlock(channels, channels), BasicBlock(channels, channels))


    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd, n_head, bias):
            super().__init__()
            assert n_embd % n_head == 0
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.attn_dropout = nn.Dropout(0.1)
            self.n_head = n_head


    class TransformerBlock(nn.Module):
        def __init__(self, n_embd=384, n_head=6, bias=True, mlp_ratio=4):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
            self.attn = CausalSelfAttention(n_embd, n_head, bias)
            self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
            self.mlp = nn.ModuleDict(dict(
                c_fc=nn.Linear(n_embd, mlp_ratio * n_embd, bias=bias),
                act=nn.GELU(),
                c_proj=nn.Linear(mlp_ratio * n_embd, n_embd, bias=bias),
            ))


    class TinyGPT(nn.Module):
        def __init__(self, vocab_size=1000, block_size=64, n_layer=4, n_embd=128, n_head=4, bias=False):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                h=nn.ModuleList([TransformerBlock(n_embd, n_head, bias) for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=bias),
            ))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying


    class ViTStem(nn.Module):
        def __init__(self, img=32, patch=4, dim=192, depth=2):
            super().__init__()
            self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.randn(1, (img // patch) ** 2 + 1, dim) * .02)
            self.blocks = nn.ModuleList()
            for i in range(depth):
                self.blocks.append(nn.TransformerEncoderLayer(dim, 3, dim * 4, batch_first=True, norm_first=True))
            self.register_buffer("mask", torch.ones(8))
            self.norm = nn.LayerNorm(dim, eps=1e-6)
''')

CLASS_NAMES = ["MLP", "ResNet", "ResNet50", "ResidualStage", "TransformerBlock", "TinyGPT", "ViTStem"]


@pytest.fixture(scope="module")
def built():
    return _run(CLASSES)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_model_class_estimate_equals_torch(name, built):
    model = _model(CLASSES)
    estimate = estimate_class(model.classes_by_name[name], time_limit=10.0)
    assert estimate is not None and estimate.exact, estimate and estimate.missing
    assert estimate.count == _torch_count(built[name]())


def test_resnet18_matches_the_published_count():
    # torchvision's resnet18 has 11,689,512 parameters (its model card); our ResNet is that network.
    model = _model(CLASSES)
    assert estimate_class(model.classes_by_name["ResNet"]).count == 11_689_512


def test_defaults_are_stated_as_assumptions():
    model = _model(CLASSES)
    estimate = estimate_class(model.classes_by_name["MLP"])
    assert "`d_in` = 784 (the default of `MLP.__init__`)" in estimate.assumptions
    assert "`hidden` = 256 (the default of `MLP.__init__`)" in estimate.assumptions


def test_tied_weights_are_counted_once_and_said_so():
    model = _model(CLASSES)
    estimate = estimate_class(model.classes_by_name["TinyGPT"])
    assert any("tied" in note for note in estimate.notes)


def test_a_size_that_is_not_static_is_named_and_the_rest_counted(built):
    source = HEADER + textwrap.dedent('''
        class Head(nn.Module):
            def __init__(self, in_dim, out=3):
                super().__init__()
                self.a = nn.Linear(in_dim, 64)
                self.b = nn.Linear(64, out)
    ''')
    model = _model(source)
    estimate = estimate_class(model.classes_by_name["Head"])
    assert not estimate.exact
    assert estimate.count == 64 * 3 + 3  # only `b` is known
    [missing] = estimate.missing
    assert "`in_features`" in missing and "`in_dim`" in missing


def test_basic_block_without_sizes_says_planes_is_missing():
    model = _model(CLASSES)
    estimate = estimate_class(model.classes_by_name["BasicBlock"])
    assert not estimate.exact
    assert any("`planes`" in m for m in estimate.missing)


def test_a_call_in_a_loop_is_observed_once_per_iteration():
    model = _model(CLASSES)
    mlp = model.classes_by_name["MLP"]
    [first] = [c for c in model.calls if model.module.code_for_node(c) == "nn.Linear(d, hidden)"]
    estimate = estimate_calls(model, [first])[first]
    assert estimate.times == 3
    # 784 -> 256, then 256 -> 256 twice: different sizes, so the sum is reported.
    assert estimate.count == (784 * 256 + 256) + 2 * (256 * 256 + 256)
    assert mlp.name in estimate.assumptions[0]


def test_a_call_in_a_helper_method_gets_the_sizes_of_each_call_site():
    model = _model(CLASSES)
    [fc] = [c for c in model.calls if model.module.code_for_node(c) == "nn.Linear(512 * block.expansion, num_classes)"]
    assert estimate_calls(model, [fc])[fc].count == 512 * 1000 + 1000


def test_module_level_constants_and_arithmetic_are_static():
    source = HEADER + "D = 64\nH = D * 4\nlayer = nn.Linear(D, H // 2)\n"
    model = _model(source)
    call = model.assigns[-1].value
    assert estimate_calls(model, [call])[call].count == 64 * 128 + 128


def test_a_parameter_default_of_the_enclosing_function_is_an_assumption():
    source = HEADER + "def build(width=32):\n    return nn.Linear(width, width)\n"
    model = _model(source)
    [call] = model.calls
    estimate = estimate_calls(model, [call])[call]
    assert estimate.count == 32 * 32 + 32
    assert estimate.assumptions == ["`width` = 32 (the default of `build`)"]


def test_loop_over_a_non_static_iterable_is_reported():
    source = HEADER + textwrap.dedent('''
        class Net(nn.Module):
            def __init__(self, sizes):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.layers = nn.ModuleList()
                for size in sizes:
                    self.layers.append(nn.Linear(size, size))
    ''')
    model = _model(source)
    estimate = estimate_class(model.classes_by_name["Net"])
    assert estimate.count == 20 and not estimate.exact
    assert any("loop over `sizes`" in m for m in estimate.missing)


def test_the_budget_stops_runaway_analysis():
    source = HEADER + textwrap.dedent('''
        class Deep(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(100000)])
    ''')
    model = _model(source)
    estimate = estimate_class(model.classes_by_name["Deep"])
    assert estimate is not None and not estimate.exact and estimate.stopped


def test_a_submodule_built_by_an_unknown_factory_is_reported_not_dropped():
    source = HEADER + textwrap.dedent('''
        from mylib import FancyNorm


        class Block(nn.Module):
            def __init__(self, dim=8, norm_layer=FancyNorm, act=None):
                super().__init__()
                self.norm = norm_layer(dim)
                self.fc = nn.Linear(dim, dim)
                self.scale = float(dim) ** -0.5
    ''')
    model = _model(source)
    estimate = estimate_class(model.classes_by_name["Block"])
    assert estimate.count == 8 * 8 + 8 and not estimate.exact
    [missing] = estimate.missing
    assert missing.startswith("`self.norm = norm_layer(dim)` is not analysed")
