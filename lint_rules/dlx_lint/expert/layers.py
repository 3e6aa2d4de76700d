"""Parameter-count formulas of ``torch.nn`` layers, from their constructor arguments.

Each `LayerSpec` names the constructor's parameters in positional order (as in PyTorch 2.x, so
positional and keyword arguments bind as Python would bind them), and a ``count`` function that
returns the number of elements of the tensors ``module.parameters()`` yields for a freshly built
layer. Buffers (BatchNorm's running statistics) are not parameters and are not counted.

Every formula follows the *Variables* section of the layer's PyTorch documentation page (the
``url`` of its spec), and `tests/test_expert_params.py` checks each one against real torch.

``count`` receives an `Arguments` accessor: asking for an argument whose value is not static
raises `NotStatic` naming that argument, so a formula only depends on the arguments it reads
(an unknown ``device=`` never matters).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

DOCS = "https://docs.pytorch.org/docs/stable/generated/torch.nn.{}.html"


class NotStatic(Exception):
    """A formula needed an argument whose value is not known statically.

    Attributes:
        argument: the constructor parameter's name (``in_features``).
    """

    def __init__(self, argument: str) -> None:
        super().__init__(argument)
        self.argument = argument


_MISSING = object()


class Arguments:
    """Static constructor arguments by parameter name, with the constructor's defaults.

    Args:
        values: parameter name -> value; a value that is not a plain Python constant (an
            `dlx_lint.expert.values.Unknown`) counts as not static.
        defaults: parameter name -> default.
        is_static: predicate telling a static value from an unknown one.
    """

    def __init__(self, values: dict[str, Any], defaults: dict[str, Any], is_static: Callable[[Any], bool]) -> None:
        self.values = values
        self.defaults = defaults
        self.is_static = is_static

    def get(self, name: str) -> Any:
        """The value of parameter `name` (its default when not passed).

        Raises:
            NotStatic: the value is unknown, or the parameter has no default and was not passed.
        """
        value = self.values.get(name, _MISSING)
        if value is _MISSING:
            value = self.defaults.get(name, _MISSING)
        if value is _MISSING or not self.is_static(value):
            raise NotStatic(name)
        return value

    def int(self, name: str) -> int:
        """`get` as a non-negative integer (booleans are refused: ``Linear(True, 3)`` is a bug)."""
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
            raise NotStatic(name)
        return int(value)

    def flag(self, name: str) -> bool:
        """`get` as a truth value (``bias=0`` is false, as in PyTorch's ``if bias:``)."""
        return bool(self.get(name))

    def size(self, name: str, dims: int) -> int:
        """The product of a size argument given as an int (repeated `dims` times) or a tuple."""
        value = self.get(name)
        if isinstance(value, (tuple, list)):
            if len(value) != dims or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
                raise NotStatic(name)
            return math.prod(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value**dims
        raise NotStatic(name)

    def shape(self, name: str) -> int:
        """The number of elements of a ``normalized_shape``-style argument (int or sequence)."""
        value = self.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            return math.prod(value)
        raise NotStatic(name)


@dataclass(frozen=True)
class LayerSpec:
    """How to count the parameters of one ``torch.nn`` layer class.

    Attributes:
        name: the class name in ``torch.nn`` (``Linear``).
        params: constructor parameters in positional order (after ``self``).
        defaults: parameter -> default value, for parameters that have one.
        keyword_only: parameters that can only be passed by keyword.
        formula: the count in words, shown in the hover.
        count: `Arguments` -> number of parameter elements.
        url: the layer's PyTorch documentation page (source of the formula).
    """

    name: str
    params: tuple[str, ...]
    defaults: dict[str, Any]
    formula: str
    count: Callable[[Arguments], int]
    keyword_only: tuple[str, ...] = ()
    url: str = ""

    def __post_init__(self) -> None:
        if not self.url:
            object.__setattr__(self, "url", DOCS.format(self.name))


# --------------------------------------------------------------------------- formulas


def _linear(a: Arguments) -> int:
    out = a.int("out_features")
    return a.int("in_features") * out + (out if a.flag("bias") else 0)


def _bilinear(a: Arguments) -> int:
    out = a.int("out_features")
    return a.int("in1_features") * a.int("in2_features") * out + (out if a.flag("bias") else 0)


def _groups_divide(a: Arguments, channels: int) -> int:
    groups = a.int("groups")
    if groups == 0 or channels % groups:
        raise NotStatic("groups")  # PyTorch raises: in_channels must be divisible by groups
    return channels // groups


def _conv(dims: int) -> Callable[[Arguments], int]:
    def count(a: Arguments) -> int:
        out = a.int("out_channels")
        per_group = _groups_divide(a, a.int("in_channels"))
        if out % a.int("groups"):
            raise NotStatic("groups")
        return out * per_group * a.size("kernel_size", dims) + (out if a.flag("bias") else 0)

    return count


def _conv_transpose(dims: int) -> Callable[[Arguments], int]:
    def count(a: Arguments) -> int:
        inp = a.int("in_channels")
        out = a.int("out_channels")
        if inp % a.int("groups"):
            raise NotStatic("groups")
        per_group = _groups_divide(a, out)
        return inp * per_group * a.size("kernel_size", dims) + (out if a.flag("bias") else 0)

    return count


def _embedding(a: Arguments) -> int:
    return a.int("num_embeddings") * a.int("embedding_dim")


def _recurrent(gates: int, *, projections: bool) -> Callable[[Arguments], int]:
    def count(a: Arguments) -> int:
        hidden = a.int("hidden_size")
        layers = a.int("num_layers")
        directions = 2 if a.flag("bidirectional") else 1
        proj = a.int("proj_size") if projections else 0
        if proj >= hidden and proj:
            raise NotStatic("proj_size")  # PyTorch raises: proj_size has to be smaller than hidden_size
        out = proj or hidden
        total = 0
        for layer in range(layers):
            inp = a.int("input_size") if layer == 0 else out * directions
            per_direction = gates * hidden * (inp + out)
            if a.flag("bias"):
                per_direction += 2 * gates * hidden
            if proj:
                per_direction += proj * hidden
            total += directions * per_direction
        return total

    return count


def _cell(gates: int) -> Callable[[Arguments], int]:
    def count(a: Arguments) -> int:
        hidden = a.int("hidden_size")
        total = gates * hidden * (a.int("input_size") + hidden)
        return total + (2 * gates * hidden if a.flag("bias") else 0)

    return count


def multihead_attention_count(a: Arguments) -> int:
    """``nn.MultiheadAttention``: input projections (one packed ``3E x E`` matrix when
    ``kdim == vdim == E``, else three), their ``3E`` bias, the ``E x E`` output projection with
    its bias, and ``bias_k``/``bias_v`` (``E`` each) with ``add_bias_kv``."""
    embed = a.int("embed_dim")
    heads = a.int("num_heads")
    if heads == 0 or embed % heads:
        raise NotStatic("num_heads")  # PyTorch raises: embed_dim must be divisible by num_heads
    kdim = a.get("kdim")
    vdim = a.get("vdim")
    kdim = embed if kdim is None else a.int("kdim")
    vdim = embed if vdim is None else a.int("vdim")
    bias = a.flag("bias")
    total = embed * embed + embed * kdim + embed * vdim  # q, k, v projections (packed or not)
    total += 3 * embed if bias else 0
    total += embed * embed + (embed if bias else 0)  # out_proj
    total += 2 * embed if a.flag("add_bias_kv") else 0
    return total


def _layer_norm(a: Arguments) -> int:
    if not a.flag("elementwise_affine"):
        return 0
    size = a.shape("normalized_shape")
    return size * (2 if a.flag("bias") else 1)


def _rms_norm(a: Arguments) -> int:
    return a.shape("normalized_shape") if a.flag("elementwise_affine") else 0


def _group_norm(a: Arguments) -> int:
    channels = a.int("num_channels")
    groups = a.int("num_groups")
    if groups == 0 or channels % groups:
        raise NotStatic("num_groups")  # PyTorch raises: num_channels must be divisible by num_groups
    if not a.flag("affine"):
        return 0
    return channels * (2 if a.flag("bias") else 1)


def _batch_norm(a: Arguments) -> int:
    if not a.flag("affine"):
        return 0
    return a.int("num_features") * (2 if a.flag("bias") else 1)


def _prelu(a: Arguments) -> int:
    return a.int("num_parameters")


def transformer_layer_count(a: Arguments, *, decoder: bool) -> int:
    """``nn.TransformerEncoderLayer`` / ``DecoderLayer``: self-attention (plus cross-attention
    for a decoder), the two feed-forward ``Linear`` layers and two (three) ``LayerNorm``s, all
    with the layer's ``bias`` flag."""
    d = a.int("d_model")
    ff = a.int("dim_feedforward")
    bias = a.flag("bias")
    attention = _Fixed({"embed_dim": d, "num_heads": a.int("nhead"), "kdim": None, "vdim": None, "bias": bias, "add_bias_kv": False})
    total = multihead_attention_count(attention) * (2 if decoder else 1)
    total += d * ff + (ff if bias else 0) + ff * d + (d if bias else 0)
    total += (3 if decoder else 2) * d * (2 if bias else 1)
    return total


def _transformer(a: Arguments) -> int:
    if a.get("custom_encoder") is not None:
        raise NotStatic("custom_encoder")
    if a.get("custom_decoder") is not None:
        raise NotStatic("custom_decoder")
    layer = _Fixed({"d_model": a.int("d_model"), "nhead": a.int("nhead"), "dim_feedforward": a.int("dim_feedforward"),
                    "bias": a.flag("bias")})
    norm = a.int("d_model") * (2 if a.flag("bias") else 1)
    encoder = a.int("num_encoder_layers") * transformer_layer_count(layer, decoder=False) + norm
    decoder = a.int("num_decoder_layers") * transformer_layer_count(layer, decoder=True) + norm
    return encoder + decoder


class _Fixed(Arguments):
    """Arguments fixed by a composite formula (every value static)."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values, {}, lambda _value: True)


# --------------------------------------------------------------------------- table

_CONV_PARAMS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode", "device", "dtype")
_CONV_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros", "device": None, "dtype": None}
_CONVT_PARAMS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias", "dilation", "padding_mode", "device", "dtype")
_CONVT_DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1, "padding_mode": "zeros", "device": None, "dtype": None}
_RNN_PARAMS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size", "device", "dtype")
_RNN_DEFAULTS = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False, "proj_size": 0, "device": None, "dtype": None}
_NORM_DEFAULTS = {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True, "device": None, "dtype": None, "bias": True}
_INSTANCE_DEFAULTS = dict(_NORM_DEFAULTS, affine=False, track_running_stats=False)
_NORM_PARAMS = ("num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype")
_TRANSFORMER_PARAMS = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first", "norm_first", "bias", "device", "dtype")
_TRANSFORMER_DEFAULTS = {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "layer_norm_eps": 1e-5, "batch_first": False, "norm_first": False, "bias": True, "device": None, "dtype": None}

_SPECS: list[LayerSpec] = [
    LayerSpec("Linear", ("in_features", "out_features", "bias", "device", "dtype"), {"bias": True, "device": None, "dtype": None},
              "in_features × out_features + out_features (bias)", _linear),
    LayerSpec("Bilinear", ("in1_features", "in2_features", "out_features", "bias", "device", "dtype"), {"bias": True, "device": None, "dtype": None},
              "in1_features × in2_features × out_features + out_features (bias)", _bilinear),
    LayerSpec("Embedding", ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse", "_weight", "_freeze", "device", "dtype"),
              {"padding_idx": None, "max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False, "sparse": False, "_weight": None, "_freeze": False, "device": None, "dtype": None},
              "num_embeddings × embedding_dim", _embedding),
    LayerSpec("EmbeddingBag", ("num_embeddings", "embedding_dim", "max_norm", "norm_type", "scale_grad_by_freq", "mode", "sparse", "_weight", "include_last_offset", "padding_idx", "device", "dtype"),
              {"max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False, "mode": "mean", "sparse": False, "_weight": None, "include_last_offset": False, "padding_idx": None, "device": None, "dtype": None},
              "num_embeddings × embedding_dim", _embedding),
    LayerSpec("RNN", ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout", "bidirectional", "device", "dtype"),
              dict(_RNN_DEFAULTS, nonlinearity="tanh"),
              "per layer and direction: hidden × (input + hidden) + 2 × hidden (biases); input is input_size for the first layer, "
              "else hidden × directions", _recurrent(1, projections=False)),
    LayerSpec("LSTM", _RNN_PARAMS, _RNN_DEFAULTS,
              "per layer and direction: 4·hidden × (input + out) + 2 × 4·hidden (biases) + proj_size × hidden (projection); "
              "out = proj_size or hidden; input is input_size for the first layer, else out × directions",
              _recurrent(4, projections=True)),
    LayerSpec("GRU", tuple(p for p in _RNN_PARAMS if p != "proj_size"), {k: v for k, v in _RNN_DEFAULTS.items() if k != "proj_size"},
              "per layer and direction: 3·hidden × (input + hidden) + 2 × 3·hidden (biases); input is input_size for the first "
              "layer, else hidden × directions", _recurrent(3, projections=False)),
    LayerSpec("RNNCell", ("input_size", "hidden_size", "bias", "nonlinearity", "device", "dtype"), {"bias": True, "nonlinearity": "tanh", "device": None, "dtype": None},
              "hidden × (input + hidden) + 2 × hidden (biases)", _cell(1)),
    LayerSpec("LSTMCell", ("input_size", "hidden_size", "bias", "device", "dtype"), {"bias": True, "device": None, "dtype": None},
              "4·hidden × (input + hidden) + 2 × 4·hidden (biases)", _cell(4)),
    LayerSpec("GRUCell", ("input_size", "hidden_size", "bias", "device", "dtype"), {"bias": True, "device": None, "dtype": None},
              "3·hidden × (input + hidden) + 2 × 3·hidden (biases)", _cell(3)),
    LayerSpec("MultiheadAttention", ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim", "batch_first", "device", "dtype"),
              {"dropout": 0.0, "bias": True, "add_bias_kv": False, "add_zero_attn": False, "kdim": None, "vdim": None, "batch_first": False, "device": None, "dtype": None},
              "E × (E + kdim + vdim) (q, k, v projections) + 3E (bias) + E² + E (out_proj) + 2E (add_bias_kv)",
              multihead_attention_count),
    LayerSpec("LayerNorm", ("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"),
              {"eps": 1e-5, "elementwise_affine": True, "bias": True, "device": None, "dtype": None},
              "prod(normalized_shape) × 2 (weight and bias; × 1 with bias=False, 0 without elementwise_affine)", _layer_norm),
    LayerSpec("RMSNorm", ("normalized_shape", "eps", "elementwise_affine", "device", "dtype"),
              {"eps": None, "elementwise_affine": True, "device": None, "dtype": None},
              "prod(normalized_shape) (weight; 0 without elementwise_affine)", _rms_norm),
    LayerSpec("GroupNorm", ("num_groups", "num_channels", "eps", "affine", "device", "dtype"),
              {"eps": 1e-5, "affine": True, "device": None, "dtype": None, "bias": True},
              "num_channels × 2 (weight and bias; × 1 with bias=False, 0 without affine)", _group_norm, keyword_only=("bias",)),
    LayerSpec("PReLU", ("num_parameters", "init", "device", "dtype"), {"num_parameters": 1, "init": 0.25, "device": None, "dtype": None},
              "num_parameters (one slope per channel, or one shared)", _prelu),
    LayerSpec("TransformerEncoderLayer", _TRANSFORMER_PARAMS, _TRANSFORMER_DEFAULTS,
              "self-attention (4d² + 4d) + feed-forward (2·d·ff + ff + d) + 2 LayerNorms (4d), biases as `bias`",
              lambda a: transformer_layer_count(a, decoder=False)),
    LayerSpec("TransformerDecoderLayer", _TRANSFORMER_PARAMS, _TRANSFORMER_DEFAULTS,
              "self- and cross-attention (2 × (4d² + 4d)) + feed-forward (2·d·ff + ff + d) + 3 LayerNorms (6d), biases as `bias`",
              lambda a: transformer_layer_count(a, decoder=True)),
]
_SPECS.append(LayerSpec(
    "Transformer",
    ("d_model", "nhead", "num_encoder_layers", "num_decoder_layers", "dim_feedforward", "dropout", "activation", "custom_encoder",
     "custom_decoder", "layer_norm_eps", "batch_first", "norm_first", "bias", "device", "dtype"),
    {"d_model": 512, "nhead": 8, "num_encoder_layers": 6, "num_decoder_layers": 6, "dim_feedforward": 2048, "dropout": 0.1,
     "activation": "relu", "custom_encoder": None, "custom_decoder": None, "layer_norm_eps": 1e-5, "batch_first": False,
     "norm_first": False, "bias": True, "device": None, "dtype": None},
    "num_encoder_layers × TransformerEncoderLayer + LayerNorm(d_model) + num_decoder_layers × TransformerDecoderLayer "
    "+ LayerNorm(d_model)", _transformer))
for _dims in (1, 2, 3):
    _SPECS.append(LayerSpec(f"Conv{_dims}d", _CONV_PARAMS, _CONV_DEFAULTS,
                            "out_channels × (in_channels / groups) × prod(kernel_size) + out_channels (bias)", _conv(_dims)))
    _SPECS.append(LayerSpec(f"ConvTranspose{_dims}d", _CONVT_PARAMS, _CONVT_DEFAULTS,
                            "in_channels × (out_channels / groups) × prod(kernel_size) + out_channels (bias)", _conv_transpose(_dims)))
    _SPECS.append(LayerSpec(f"BatchNorm{_dims}d", _NORM_PARAMS, _NORM_DEFAULTS,
                            "num_features × 2 (weight γ and bias β; × 1 with bias=False, 0 without affine); running statistics are buffers",
                            _batch_norm, keyword_only=("bias",)))
    _SPECS.append(LayerSpec(f"InstanceNorm{_dims}d", _NORM_PARAMS, _INSTANCE_DEFAULTS,
                            "num_features × 2 with affine=True (default False: no parameters)", _batch_norm, keyword_only=("bias",)))
_SPECS.append(LayerSpec("SyncBatchNorm", _NORM_PARAMS[:5] + ("process_group", "device", "dtype"), dict(_NORM_DEFAULTS, process_group=None),
                        "num_features × 2 (weight γ and bias β; 0 without affine); running statistics are buffers",
                        _batch_norm, keyword_only=("bias",)))

LAYERS: dict[str, LayerSpec] = {"torch.nn." + spec.name: spec for spec in _SPECS}
"""Qualified name (``torch.nn.Linear``) -> its spec."""


def _conv_weight(dims: int, transposed: bool) -> Callable[[Arguments], int]:
    def count(a: Arguments) -> int:
        groups = a.int("groups") or 1
        if transposed:
            return a.int("in_channels") * (a.int("out_channels") // groups) * a.size("kernel_size", dims)
        return a.int("out_channels") * (a.int("in_channels") // groups) * a.size("kernel_size", dims)

    return count


def _bias_of(size_argument: str) -> Callable[[Arguments], int]:
    return lambda a: a.int(size_argument) if a.flag("bias") else 0


# Sizes of single parameter tensors, for weight tying (``head.weight = embedding.weight``
# shares one tensor, which ``parameters()`` yields once): layer name -> parameter -> numel.
TENSOR_SIZES: dict[str, dict[str, Callable[[Arguments], int]]] = {
    "Linear": {"weight": lambda a: a.int("in_features") * a.int("out_features"), "bias": _bias_of("out_features")},
    "Embedding": {"weight": _embedding},
    "EmbeddingBag": {"weight": _embedding},
    **{f"Conv{d}d": {"weight": _conv_weight(d, False), "bias": _bias_of("out_channels")} for d in (1, 2, 3)},
    **{f"ConvTranspose{d}d": {"weight": _conv_weight(d, True), "bias": _bias_of("out_channels")} for d in (1, 2, 3)},
}

# Layers without parameters: activations, pooling, dropout, padding, reshaping, distances and
# the losses (a loss's ``weight``/``pos_weight`` are buffers). A Sequential made of these and
# counted layers has a fully known count.
_PARAMETER_FREE = re.compile(
    r"^torch\.nn\.(?:"
    r"ReLU6?|LeakyReLU|RReLU|ELU|SELU|CELU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax2d|Softmax|LogSoftmax|Softmin|Softplus"
    r"|Softsign|Hardtanh|Hardswish|Hardsigmoid|Hardshrink|Softshrink|Tanhshrink|Threshold|GLU|LogSigmoid"
    r"|Dropout[123]?d?|AlphaDropout|FeatureAlphaDropout|Identity|Flatten|Unflatten"
    r"|(?:Adaptive)?(?:Max|Avg)Pool[123]d|LPPool[123]d|FractionalMaxPool[23]d|MaxUnpool[123]d"
    r"|Upsample|UpsamplingNearest2d|UpsamplingBilinear2d|PixelShuffle|PixelUnshuffle|ChannelShuffle"
    r"|(?:Zero|Constant|Reflection|Replication|Circular)Pad[123]d|Fold|Unfold|CosineSimilarity|PairwiseDistance"
    r"|LocalResponseNorm|CrossMapLRN2d"
    r"|(?!AdaptiveLogSoftmaxWithLoss)\w+Loss"
    r")$"
)


def is_parameter_free(qualname: str) -> bool:
    """Whether a ``torch.nn`` class has no parameters whatever its arguments."""
    return bool(_PARAMETER_FREE.match(qualname))


def docs_url(qualname: str) -> str:
    """The PyTorch documentation page of a ``torch.nn`` class (``torch.nn.Sequential``)."""
    return DOCS.format(qualname.removeprefix("torch.nn."))


@dataclass
class Bound:
    """Arguments of a call bound to a spec's parameters.

    Attributes:
        values: parameter -> value for the arguments given.
        unknown_star: a ``*args``/``**kwargs`` whose contents are not static was passed, so
            parameters not bound explicitly are not known either.
        errors: problems binding (too many positional arguments, unexpected keywords).
    """

    values: dict[str, Any] = field(default_factory=dict)
    unknown_star: bool = False
    errors: list[str] = field(default_factory=list)


def bind(spec: LayerSpec, positional: list[Any], keywords: dict[str, Any], *, unknown_star: bool = False) -> Bound:
    """Bind call arguments to `spec`'s parameters as Python would."""
    bound = Bound(unknown_star=unknown_star)
    positional_names = [p for p in spec.params if p not in spec.keyword_only]
    for name, value in zip(positional_names, positional):
        bound.values[name] = value
    if len(positional) > len(positional_names):
        bound.errors.append(f"{len(positional)} positional arguments, {spec.name} takes {len(positional_names)}")
    for name, value in keywords.items():
        if name not in spec.params and name not in spec.keyword_only and name not in spec.defaults:
            bound.errors.append(f"unexpected keyword argument {name!r}")
            continue
        bound.values[name] = value
    return bound
