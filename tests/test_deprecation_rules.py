"""Behaviour of the DLX3xx rules beyond their examples: target-torch-version gating, messages,
severities, aliases and re-bindings, and shapes that must stay silent."""

from __future__ import annotations

import textwrap

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.diagnostics import Severity


def lint(source, select=("DLX3",), target=None):
    settings = Settings(select=select, target_torch_version=target)
    return lint_source("t.py", textwrap.dedent(source), settings, raise_errors=True)


def rows(found):
    return sorted((d.row, d.code) for d in found)


AMP = """
import torch

def step(model, x):
    with torch.cuda.amp.autocast():
        return model(x), torch.qr(x)
"""


@pytest.mark.parametrize("target, expected", [
    (None, [(5, "DLX301"), (6, "DLX301")]),   # unset: the newest release, every entry applies
    ((2, 4), [(5, "DLX301"), (6, "DLX301")]),  # autocast deprecated in 2.4, torch.qr in 1.9
    ((2, 3), [(6, "DLX301")]),                 # torch.amp.autocast("cuda") is the 2.4 spelling
    ((1, 8), []),                              # torch.linalg.qr's deprecation came with 1.9
])
def test_target_torch_version_decides_which_entries_apply(target, expected):
    assert rows(lint(AMP, target=target)) == expected


def test_torchvision_entries_use_the_paired_torch_release():
    source = "from torchvision import models\nm = models.resnet18(pretrained=True)\n"
    assert rows(lint(source, target=(1, 12))) == [(2, "DLX304")]   # torchvision 0.13 <-> torch 1.12
    assert rows(lint(source, target=(1, 11))) == []


def test_removed_function_message_gives_replacement_and_argument_order():
    found = lint("import torch\nx = torch.solve(b, a)\n")
    assert [d.code for d in found] == ["DLX302"]
    assert found[0].severity is Severity.ERROR
    assert "torch.linalg.solve" in found[0].message and "opposite order" in found[0].message
    assert "1.13" in found[0].message and "1.9" in found[0].message


def test_deprecated_import_severity_follows_the_symbol():
    found = lint("from torch import symeig\nfrom torch.nn.utils import weight_norm\n")
    severities = {d.row: d.severity for d in found if d.code == "DLX303"}
    assert severities == {1: Severity.ERROR, 2: Severity.WARNING}


def test_one_finding_per_import_statement_naming_every_symbol():
    found = lint("from torch.cuda.amp import GradScaler, autocast, common\n")
    assert rows(found) == [(1, "DLX303")]
    assert "torch.cuda.amp.GradScaler" in found[0].message and "torch.cuda.amp.autocast" in found[0].message


def test_reference_assignment_and_later_call_are_separate_nodes():
    source = """
    import torch
    f = torch.symeig
    vals = f(a, eigenvectors=True)
    """
    assert rows(lint(source)) == [(3, "DLX302"), (4, "DLX302")]


def test_attribute_passed_as_value_and_decorator_are_reported_once():
    source = """
    import torch
    from functools import partial

    ctx = partial(torch.backends.cuda.sdp_kernel, enable_math=True)

    @torch.cuda.amp.custom_bwd
    def backward(ctx, g):
        return g
    """
    assert rows(lint(source)) == [(5, "DLX301"), (7, "DLX301")]


def test_members_of_removed_modules():
    source = """
    from torch._six import inf
    import torch

    bound = torch._six.inf
    """
    assert rows(lint(source)) == [(2, "DLX303"), (5, "DLX302")]


@pytest.mark.parametrize("source", [
    # A parameter, a local, a method and the builtin that share a table symbol's last name.
    "import torch\ndef f(solve, range):\n    return solve(1), range(3)\n",
    "import torch\nclass S:\n    def symeig(self):\n        return 1\nS().symeig()\n",
    "import torch\nnorm = lambda x: x\nnorm(2)\n",
    "import torch\nfor i in range(3):\n    pass\n",
    # keyword argument names, attribute names on other objects, and assignment targets
    "import torch\nfrom torch.nn.utils import parametrizations\nm = parametrizations.weight_norm(layer, name='weight')\n",
    "import torch\ncfg.weight_norm = True\nopt.step(grad=p.grad)\n",
    # timm and transformers have a current `pretrained=`
    "import timm\nimport torch\nm = timm.create_model('resnet18', pretrained=True)\n",
    # **kwargs at the call site: the arguments are unknown
    "import torch\nfrom torch.utils.checkpoint import checkpoint\ny = checkpoint(f, x, **kw)\n",
    # the v1 ToTensor is not deprecated
    "import torch\nfrom torchvision import transforms\nt = transforms.ToTensor()\n",
])
def test_near_misses_are_silent(source):
    assert [(d.row, d.code, d.message) for d in lint(source)] == []


def test_legacy_loss_message_maps_literals_to_reduction():
    found = lint("import torch.nn as nn\nc = nn.NLLLoss(size_average=False, reduce=True)\nd = nn.L1Loss(reduce=flag)\n")
    assert rows(found) == [(2, "DLX307"), (3, "DLX307")]
    assert 'reduction="sum"' in found[0].message
    assert "reduction=" in found[1].message and '"none"' not in found[1].message


def test_legacy_loss_flags_passed_positionally_are_reported_with_their_position():
    # NLLLoss(weight, size_average, ignore_index, reduce, reduction): `reduce` is 4th, not 3rd.
    found = lint("""
        import torch.nn as nn
        import torch.nn.functional as F
        a = nn.NLLLoss(weight, False)
        b = nn.NLLLoss(weight, None, -100, False)
        c = nn.MSELoss(False, False)
        d = F.nll_loss(x, y, w, None, -100, flag)
        e = nn.NLLLoss(weight, False, reduce=True)
        """, select=("DLX307",))
    assert [(d.row, d.message) for d in found] == [
        (4, 'positional argument 2 (`size_average`) on `NLLLoss` deprecated since PyTorch 0.4.1; use `reduction="sum"`'),
        (5, 'positional argument 4 (`reduce`) on `NLLLoss` deprecated since PyTorch 0.4.1; use `reduction="none"`'),
        (6, 'positional argument 1 (`size_average`) and positional argument 2 (`reduce`) on `MSELoss` deprecated since PyTorch 0.4.1; use `reduction="none"`'),
        (7, "positional argument 6 (`reduce`) on `nll_loss` deprecated since PyTorch 0.4.1; use `reduction=` (`reduction='mean' | 'sum' | 'none'`: `reduce=False` is `'none'`; otherwise `size_average=False` is `'sum'` and `True` is `'mean'` (torch.nn._reduction.legacy_get_string))"),
        (8, 'positional argument 2 (`size_average`) and `reduce=` on `NLLLoss` deprecated since PyTorch 0.4.1; use `reduction="sum"`'),
    ]


@pytest.mark.parametrize("source", [
    "import torch.nn as nn\nc = nn.NLLLoss(w, False)\n",
    "from torch.nn import functional as fn\ny = fn.kl_div(x, t, True)\n",
    "from torch.nn.functional import binary_cross_entropy as bce\ny = bce(p, t, w, False)\n",
])
def test_a_file_without_the_flags_names_still_reaches_the_rule(source):
    """The prefilter: a positional flag leaves no `size_average` / `reduce` in the text."""
    assert "size_average" not in source and "reduce" not in source
    assert rows(lint(source, select=("DLX307",))) == [(2, "DLX307")]


@pytest.mark.parametrize("source", [
    # None is the default of both flags: PyTorch warns only when one of them is not None.
    "import torch.nn as nn\nc = nn.BCELoss(size_average=None, reduce=None)\n",
    "import torch.nn as nn\nc = nn.BCELoss(reduce=None)\n",
    "import torch.nn as nn\nc = nn.NLLLoss(w, None, -100, None)\n",
    "import torch.nn.functional as F\ny = F.mse_loss(x, t, None, None, 'sum')\n",
    # positional arguments before the legacy positions, and one after `*args`
    "import torch.nn as nn\nc = nn.NLLLoss(w)\nd = nn.PoissonNLLLoss(True, False)\n",
    "import torch.nn.functional as F\ny = F.mse_loss(*pair, False)\n",
])
def test_legacy_loss_flags_at_their_default_are_silent(source):
    assert lint(source, select=("DLX307",)) == []


def test_legacy_loss_none_next_to_a_literal_counts_as_true():
    found = lint("import torch.nn as nn\nc = nn.BCELoss(size_average=None, reduce=True)\nd = nn.BCELoss(size_average=False, reduce=None)\n")
    assert [(d.row, d.message) for d in found] == [
        (2, '`reduce=` on `BCELoss` deprecated since PyTorch 0.4.1; use `reduction="mean"`'),
        (3, '`size_average=` on `BCELoss` deprecated since PyTorch 0.4.1; use `reduction="sum"`'),
    ]


def test_target_torch_version_from_cli_and_pyproject(tmp_path):
    # The setting reaches the rules through both configuration routes.
    import subprocess
    import sys

    (tmp_path / "amp.py").write_text("import torch\nwith torch.cuda.amp.autocast():\n    pass\n")

    def codes(*args):
        process = subprocess.run([sys.executable, "-m", "dlx_lint", "check", "--select", "DLX3",
                                  "--output-format", "json", *args, "amp.py"],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert process.returncode in (0, 1), process.stderr
        import json
        return [d["code"] for d in json.loads(process.stdout or "[]")]

    assert codes() == ["DLX301"]
    assert codes("--target-torch-version", "2.3") == []
    (tmp_path / "pyproject.toml").write_text('[tool.dlx-lint]\ntarget-torch-version = "2.1"\n')
    assert codes() == []
    assert codes("--target-torch-version", "2.4") == ["DLX301"]


def test_version_checked_imports_are_fallbacks_but_a_bare_guard_is_not():
    fallback = """
    import torch
    if torch.__version__ >= "2.4":
        from torch.amp import autocast
    else:
        from torch.cuda.amp import autocast

    def run(model, x):
        with autocast("cuda"):
            return model(x)
    """
    assert lint(fallback) == []
    guarded_only = """
    import torch
    if torch.cuda.is_available():
        from torch.cuda.amp import autocast
    """
    assert rows(lint(guarded_only)) == [(4, "DLX303")]


def test_pretrained_message_depends_on_the_literal():
    found = lint("from torchvision import models\na = models.resnet18(pretrained=False)\nb = models.resnet18(pretrained=True)\n")
    assert [d.row for d in found] == [2, 3]
    assert found[0].message.endswith("pass `weights=None`")
    assert "IMAGENET1K_V1" in found[1].message


# ------------------------------------------------------------------ fixes (DLX301, DLX303)


def fix(source, select=("DLX301", "DLX303"), target=None):
    from dlx_lint.fixer import fix_source

    settings = Settings(select=select, target_torch_version=target)
    return fix_source("t.py", textwrap.dedent(source), settings, unsafe=True).text


MIGRATION = """
import torch
from functorch import vmap, grad
from torch.cuda.amp import autocast

def step(model, x, a):
    g = vmap(grad(model))(x)
    with autocast():
        y = model(x)
    return g, y, torch.qr(a)
"""


def test_both_rules_fix_without_conflict_and_converge():
    from dlx_lint.fixer import parses

    fixed = fix(MIGRATION)
    assert fixed == textwrap.dedent("""
        import torch
        from torch.func import vmap, grad
        from torch.cuda.amp import autocast

        def step(model, x, a):
            g = vmap(grad(model))(x)
            with torch.amp.autocast("cuda"):
                y = model(x)
            return g, y, torch.linalg.qr(a)
        """)
    assert parses(fixed)
    # What is left is the (now unused) deprecated import, which has no fix.
    assert rows(lint(fixed)) == [(4, "DLX303")]
    assert fix(fixed) == fixed
    # DLX301 alone leaves the functorch import and its uses to DLX303.
    alone = fix(MIGRATION, select=("DLX301",))
    assert "from functorch import vmap, grad" in alone and "vmap(grad(model))" in alone


def test_fixes_follow_the_target_torch_version():
    # No finding, no fix: autocast's deprecation came with 2.4.
    assert "torch.cuda.amp.autocast()" in fix("import torch\nwith torch.cuda.amp.autocast():\n    pass\n", target=(2, 3))
    upper = "import torch\nu = torch.cholesky(a, upper=True)\n"
    assert fix(upper, target=(1, 10)) == upper  # Tensor.mH arrived in 1.11
    assert fix(upper, target=(1, 11)) == "import torch\nu = torch.linalg.cholesky(a).mH\n"


def test_fixes_in_a_notebook_cell():
    import json

    from dlx_lint.fixer import fix_source

    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["import torch\n", "from functorch import vmap"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["with torch.cuda.amp.autocast(enabled=True):\n", "    y = vmap(f)(x)"]},
    ]
    notebook = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    settings = Settings(select=("DLX301", "DLX303"))
    result = fix_source("t.ipynb", notebook, settings, unsafe=True)
    sources = ["".join(c["source"]) for c in json.loads(result.text)["cells"]]
    assert sources == [
        "import torch\nfrom torch.func import vmap",
        "text",
        'with torch.amp.autocast("cuda", enabled=True):\n    y = vmap(f)(x)',
    ]


def test_fixed_code_computes_the_same_on_torch():
    """The rewrites run on the installed torch give what the deprecated calls gave (the unsafe
    ones included: their values are exact for the shapes they accept). In a subprocess:
    `torch.qr` and `torch.cholesky` warn once per process, and the table test expects it."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    source = textwrap.dedent("""
        import torch
        import torch.nn.functional as F

        def compute(a, v, spd, x):
            out = [torch.range(0, 3), torch.range(1, 10, 3), torch.range(-2, 5, step=2),
                   torch.range(0, 3, dtype=torch.int64)]
            out += list(torch.qr(a)) + list(torch.qr(a, some=False)) + list(torch.qr(a, True))
            out += [torch.cholesky(spd), torch.cholesky(spd, upper=True), torch.ger(v, v)]
            out.append(F.upsample(x, scale_factor=2))
            scaler = torch.cpu.amp.GradScaler(init_scale=8.0, enabled=False)
            with torch.cpu.amp.autocast(dtype=torch.bfloat16):
                out.append(torch.mm(a.T, a).float())
            out.append(torch.tensor(scaler.get_scale()))
            return out
        """)
    fixed = fix(source)
    assert "torch.range" not in fixed and "torch.qr" not in fixed and "cpu.amp" not in fixed
    script = textwrap.dedent("""
        import sys, warnings
        import torch
        warnings.simplefilter("ignore")
        generator = torch.Generator().manual_seed(0)
        a = torch.randn(5, 3, generator=generator, dtype=torch.float64)
        b = torch.randn(4, 4, generator=generator, dtype=torch.float64)
        args = (a, a[:, 0], b @ b.T + 4 * torch.eye(4, dtype=torch.float64), torch.ones(1, 1, 2, 2))
        results = []
        for text in sys.argv[1:]:
            namespace = {}
            exec(compile(text, "t.py", "exec"), namespace)
            results.append(namespace["compute"](*args))
        assert len(results[0]) == len(results[1])
        for i, (old, new) in enumerate(zip(*results)):
            assert old.dtype == new.dtype and torch.equal(old, new), i
        """)
    done = subprocess.run([sys.executable, "-c", script, source, fixed], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_replacement_given_as_a_phrase_is_not_quoted_as_code():
    # `torch._six`'s replacement is prose holding code; quoting it whole gave "use `the
    # standard library (`math.inf`, ...)`" with broken backticks.
    (found,) = lint("from torch._six import inf\n")
    assert "; use the standard library (`math.inf`, `str`, `collections.abc`)" in found.message
    (found,) = lint("import torch\nx = torch.ger(a, b)\n", select=("DLX301",))
    assert "; use `torch.outer`" in found.message
