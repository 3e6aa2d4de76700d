"""The deprecation table (dlx_lint/data/deprecations.toml) checked against the installed PyTorch
(a test dependency, pinned in pyproject.toml): what the table says about each entry must be
what torch does. Entries that cannot be checked that way (torchvision, which does not import
beside the CPU build) say why in their `check_reason`, and are skipped explicitly here."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import warnings

import pytest
import torch
import torch.nn.functional as F

from dlx_lint.deprecations import TableError, build_table, table, torch_release

TABLE = table()
ENTRIES = TABLE.entries


def resolve(qualname: str):
    """Import the longest importable module prefix of `qualname`, then walk attributes.

    Raises:
        ImportError / AttributeError: when the name does not exist.
    """
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(qualname)


def run_probe(entry):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eval(entry.probe, {"torch": torch, "F": F})  # noqa: S307 - the table's own probes
    return [str(w.message) for w in caught]


def _id(entry):
    return f"{entry.rule}:{entry.name}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[_id(e) for e in ENTRIES])
def test_entry_matches_installed_torch(entry):
    if entry.check == "skip":
        pytest.skip(f"not checkable against torch: {entry.check_reason}")
    if entry.check == "raises":
        assert entry.removed is not None
        resolve(entry.name)  # the stub still exists...
        with pytest.raises(RuntimeError, match="removed"):  # ...and says it was removed
            run_probe(entry)
    elif entry.check == "absent":
        assert entry.removed is not None
        with pytest.raises((ImportError, AttributeError)):
            resolve(entry.name)
    elif entry.check == "warns":
        assert entry.removed is None
        messages = run_probe(entry)
        keys = ["deprecat"] + list(entry.legacy) + ([entry.missing] if entry.missing else [])
        assert any(any(k in m.lower() for k in keys) for m in messages), messages
    elif entry.check == "docstring":
        assert entry.removed is None
        assert "deprecat" in (resolve(entry.name).__doc__ or "").lower()
    elif entry.check == "alias":
        assert resolve(entry.name) is resolve(entry.replacement)
    elif entry.check == "signature":
        for function in entry.functions:
            target = resolve(function)
            parameters = inspect.signature(target.__init__ if inspect.isclass(target) else target).parameters
            assert all(name in parameters for name in entry.legacy), function
        assert any("deprecat" in m for m in run_probe(entry))
    else:  # pragma: no cover - build_table rejects unknown checks
        pytest.fail(entry.check)


def _qualified(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][\w.]*", text) is not None and text.startswith(("torch.", "functorch."))


TORCH_REPLACEMENTS = [e for e in ENTRIES if e.library != "torchvision" and _qualified(e.replacement)]


@pytest.mark.parametrize("entry", TORCH_REPLACEMENTS, ids=[_id(e) for e in TORCH_REPLACEMENTS])
def test_replacement_exists(entry):
    # A message that points to a name the installed torch does not have would be worse than none.
    assert resolve(entry.replacement) is not None


def test_legacy_loss_list_is_complete():
    # Every loss that still accepts size_average is listed (and nothing else is).
    entry = next(e for e in ENTRIES if e.rule == "DLX307")
    found = set()
    for name in dir(torch.nn):
        value = getattr(torch.nn, name)
        if isinstance(value, type) and "size_average" in inspect.signature(value.__init__).parameters:
            found.add(f"torch.nn.{name}")
    for name in dir(F):
        value = getattr(F, name)
        if callable(value) and not name.startswith("_"):
            try:
                if "size_average" in inspect.signature(value).parameters:
                    found.add(f"torch.nn.functional.{name}")
            except (TypeError, ValueError):
                continue
    assert found == set(entry.functions)


# TorchFix 0.7.0's deprecated_symbols.yaml plus the symbols its visitors hard-code, and what its
# main branch adds (amp autocast/custom_fwd/custom_bwd): the table must cover all of them.
TORCHFIX_SYMBOLS = [
    "torch.solve", "torch.qr", "torch.symeig", "torch.chain_matmul", "torch.cholesky", "torch.ger",
    "torch.lu_solve", "torch.norm", "torch.range", "torch.svd", "torch.triangular_solve", "torch.lu",
    "torch.matrix_rank", "torch.lstsq", "torch.nn.UpsamplingNearest2d", "torch.nn.UpsamplingBilinear2d",
    "torch.testing.assert_allclose", "torch.nn.utils.weight_norm", "torch.utils._pytree._register_pytree_node",
    "torch.backends.cuda.sdp_kernel", "functorch.vmap", "functorch.grad", "functorch.vjp", "functorch.jvp",
    "functorch.jacrev", "functorch.jacfwd", "functorch.hessian", "functorch.functionalize",
    "torch.utils.data._utils.collate.default_collate", "torch.utils.data._utils.collate.default_convert",
    "torchvision.transforms.v2.ToTensor",
    "torch.cuda.amp.autocast", "torch.cpu.amp.autocast", "torch.cuda.amp.custom_fwd", "torch.cuda.amp.custom_bwd",
]
# Asked for by the brief and the catalog beyond TorchFix.
EXTRA_SYMBOLS = ["torch.cuda.amp.GradScaler", "torch.cpu.amp.GradScaler", "torch.eig"]


@pytest.mark.parametrize("name", TORCHFIX_SYMBOLS + EXTRA_SYMBOLS)
def test_table_covers_torchfix_and_requested_symbols(name):
    assert name in TABLE.symbols


def test_argument_rules_are_present():
    assert {"DLX304", "DLX305", "DLX307"} <= set(TABLE.arguments)
    builders = {f for e in TABLE.arguments["DLX304"] for f in e.functions}
    # TorchFix's TOR201 list is a subset (spot checks across families).
    for name in ("torchvision.models.resnet18", "torchvision.models.vit_h_14", "torchvision.models.detection.ssd300_vgg16",
                 "torchvision.models.optical_flow.raft_small", "torchvision.models.video.mvit_v2_s"):
        assert name in builders


def test_torchvision_releases_map_to_torch_releases():
    assert torch_release("torchvision", (0, 13)) == (1, 12)
    assert torch_release("torchvision", (0, 15)) == (2, 0)
    assert torch_release("torchvision", (0, 29)) == (2, 14)
    assert torch_release("torch", (1, 9)) == (1, 9)
    with pytest.raises(TableError):
        torch_release("torchvision", (0, 12))


@pytest.mark.parametrize("bad, message", [
    ({"kind": "function", "library": "torch", "name": "torch.x", "deprecated": "1.9", "replacement": "y",
      "arguments": "a", "reference": "https://example.org", "check": "skip"}, "check_reason"),
    ({"kind": "function", "library": "torch", "name": "torch.x", "deprecated": "1.9.1", "replacement": "y",
      "arguments": "a", "reference": "https://example.org", "check": "docstring"}, "major.minor"),
    ({"kind": "argument", "library": "torch", "deprecated": "1.9", "replacement": "y", "functions": ["torch.f"],
      "arguments": "a", "reference": "https://example.org", "check": "docstring", "rule": "DLX307"}, "legacy / missing"),
    ({"kind": "function", "library": "torch", "name": "torch.x", "deprecated": "1.9", "replacement": "y",
      "arguments": "a", "reference": "http://example.org", "check": "docstring"}, "https"),
    ({"kind": "function", "library": "torch", "name": "torch.x", "deprecated": "1.9", "replacement": "y",
      "arguments": "a", "reference": "https://example.org", "check": "docstring", "removd": "2.0"}, "unknown key(s) removd"),
    ({"kind": "function", "library": "torchvision", "name": "torchvision.x", "deprecated": "0.9", "replacement": "y",
      "arguments": "a", "reference": "https://example.org", "check": "docstring"}, "no PyTorch pairing"),
])
def test_malformed_entries_are_rejected(bad, message):
    with pytest.raises(TableError, match=re.escape(message)):
        build_table({"entry": [bad]})


_FIXABLE = {"kind": "function", "library": "torch", "name": "torch.x", "deprecated": "1.9", "replacement": "torch.y",
            "arguments": "a", "reference": "https://example.org", "check": "docstring"}


@pytest.mark.parametrize("extra, message", [
    ({"fix": "retype"}, "fix must be one of"),
    ({"fix": "rename"}, "needs drop_in = true"),
    ({"fix": "device-first"}, "fix_device goes with"),
    ({"fix": "rename", "drop_in": True, "fix_device": "cuda"}, "fix_device goes with"),
    ({"fix_positional": 2}, "without a fix"),
    ({"fix": "rename", "drop_in": True, "fix_positional": -1}, "non-negative integer"),
    ({"fix": "rename", "drop_in": True, "fix_keywords": ["a b"]}, "list of argument names"),
    ({"fix": "rename", "drop_in": True, "rule": "DLX306"}, "only DLX301 entries"),
])
def test_malformed_fix_fields_are_rejected(extra, message):
    with pytest.raises(TableError, match=re.escape(message)):
        build_table({"entry": [{**_FIXABLE, **extra}]})


def _parameters(obj):
    """(positional parameter names in order, every named parameter) of a function or class."""
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        params = list(inspect.signature(target).parameters.values())
    except ValueError:  # a builtin: its docstring starts with the signature, `ger(input, vec2, *, out=None) -> Tensor`
        header = obj.__doc__.strip().splitlines()[0].split(" -> ")[0]
        args = ast.parse(f"def {header}: pass").body[0].args
        positional = [a.arg for a in args.posonlyargs + args.args]
        return positional, set(positional) | {a.arg for a in args.kwonlyargs}
    if isinstance(obj, type):
        params = params[1:]  # self
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional, {p.name for p in params if p.kind is not p.VAR_KEYWORD}


MECHANICAL = [e for e in ENTRIES if e.fix in ("rename", "device-first", "device-keyword")]


@pytest.mark.parametrize("entry", MECHANICAL, ids=[_id(e) for e in MECHANICAL])
def test_mechanical_fix_keeps_every_argument_a_call_may_pass(entry):
    """What the fix lets through means the same in the replacement: the positional parameters
    (up to `fix_positional`) in the same order after the inserted device, and every keyword
    but `fix_keywords` under the same name."""
    old_positional, old_names = _parameters(resolve(entry.name))
    new_positional, new_names = _parameters(resolve(entry.replacement))
    if entry.fix == "device-first":
        assert new_positional[0] in ("device", "device_type")
        new_positional = new_positional[1:]
    if entry.fix == "device-keyword":
        assert "device_type" in new_names and "device_type" not in old_names
    kept = old_positional if entry.fix_positional is None else old_positional[: entry.fix_positional]
    assert len(new_positional) >= len(kept)
    for old, new in zip(kept, new_positional):  # a renamed parameter may only be passed by position
        assert old == new or old in entry.fix_keywords, (old, new)
    assert old_names - set(entry.fix_keywords) - set(old_positional[len(kept):]) <= new_names
