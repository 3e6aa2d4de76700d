"""Cross-file inference (`dlx_lint.crossfile`): rules see through imports of workspace modules
when asked, never execute user code, stay bounded, and change nothing when off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

pytest.importorskip("jedi")

from dlx_lint import crossfile  # noqa: E402
from dlx_lint.engine import lint_source  # noqa: E402
from dlx_lint.semantic.kinds import Kind  # noqa: E402
from dlx_lint.semantic.model import SemanticModel  # noqa: E402
from dlx_lint.settings import Settings  # noqa: E402

UTILS = """\
import torch


def make_optimizer(model, lr=1e-3):
    return torch.optim.AdamW(model.parameters(), lr=lr)
"""

MODELS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, d_in=32, hidden=64, p=0.1):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(self.drop(self.fc1(x)).relu())


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)


def build_model():
    return Net()
"""

# DLX001: the optimizer comes from a helper in utils.py and is a local variable, so without
# cross-file inference nothing says it is an optimizer.
TRAIN = """\
import torch
from utils import make_optimizer


def train(model, loader, criterion):
    optimizer = make_optimizer(model)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""

# DLX008: the model's class (with Dropout) is defined in models.py.
EVALUATE = """\
import torch
from models import Net, Plain


def evaluate(model: Net, loader):
    with torch.no_grad():
        return [model(x) for x, _ in loader]


def evaluate_plain(model: Plain, loader):
    with torch.no_grad():
        return [model(x) for x, _ in loader]
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'ws'\n")
    (tmp_path / "utils.py").write_text(UTILS)
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    return tmp_path


def _codes(path: Path, cross_file: bool) -> list[tuple[str, int]]:
    settings = Settings(cross_file=cross_file)
    return [(d.code, d.row) for d in lint_source(str(path), path.read_text(), settings, raise_errors=True)]


def test_missing_zero_grad_fires_only_with_cross_file(workspace):
    assert _codes(workspace / "train.py", cross_file=False) == []
    assert _codes(workspace / "train.py", cross_file=True) == [("DLX001", 10)]


def test_eval_mode_fires_for_a_model_class_of_another_file_only_with_cross_file(workspace):
    assert _codes(workspace / "evaluate.py", cross_file=False) == []
    # Net has Dropout: evaluating it in training mode matters; Plain has no mode-dependent layer.
    assert _codes(workspace / "evaluate.py", cross_file=True) == [("DLX008", 7)]


def _model(path: Path) -> SemanticModel:
    text = path.read_text()
    return SemanticModel(cst.parse_module(text), text, str(path), None, resolver=crossfile.resolver_for(str(path)))


def _assigned(model: SemanticModel, name: str):
    return next(a.value for a in model.assigns if model.module.code_for_node(a.targets[0].target) == name)


def test_origins_see_through_helpers_classes_and_relative_imports(workspace):
    package = workspace / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .models import Net\n")
    (package / "models.py").write_text(MODELS)
    (package / "run.py").write_text("from .models import build_model\nfrom . import models\n"
                                     "a = build_model()\nb = models.Plain()\n")
    model = _model(package / "run.py")
    built = model.origin(_assigned(model, "a"))
    assert built.kind is Kind.MODULE and built.cls is None and built.foreign is not None
    assert built.foreign.name == "Net" and built.foreign.model.path.endswith("models.py")
    plain = model.origin(_assigned(model, "b"))
    assert plain.kind is Kind.MODULE and plain.foreign.name == "Plain"


def test_resolution_never_runs_the_code_it_reads(workspace):
    marker = workspace / "executed.txt"
    (workspace / "sideeffect.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nimport torch\n\n\ndef make():\n    return torch.optim.SGD([], lr=0.1)\n"
    )
    (workspace / "use.py").write_text("from sideeffect import make\nopt = make()\n")
    model = _model(workspace / "use.py")
    assert model.origin(_assigned(model, "opt")).kind is Kind.OPTIMIZER
    assert not marker.exists()


def test_library_names_never_reach_jedi(workspace):
    (workspace / "lib_only.py").write_text("import torch\nfrom torch.optim import AdamW\nopt = AdamW([])\nx = numpy_thing()\n")
    model = _model(workspace / "lib_only.py")
    before = model.resolver.stats.snapshot()["jedi_calls"]
    model.origin(_assigned(model, "opt"))
    model.origin(_assigned(model, "x"))
    assert model.resolver.stats.snapshot()["jedi_calls"] == before


def test_answers_are_cached_and_follow_edits_of_the_target_file(workspace):
    model = _model(workspace / "train.py")
    resolver = model.resolver
    first = resolver.definition(model, "utils.make_optimizer")
    hits = resolver.stats.snapshot()["cache_hits"]
    again = resolver.definition(model, "utils.make_optimizer")
    assert again.node is first.node and resolver.stats.snapshot()["cache_hits"] == hits + 1
    # An edit that moves the function: the stamp changes, jedi answers again, the file is re-parsed.
    (workspace / "utils.py").write_text("# moved\n\n\n" + UTILS)
    moved = resolver.definition(model, "utils.make_optimizer")
    assert moved is not None and moved.node is not first.node
    assert moved.model.source.startswith("# moved")


def test_an_exhausted_request_budget_leaves_names_unresolved(workspace):
    model = _model(workspace / "evaluate.py")
    resolver = model.resolver
    timeouts = resolver.stats.snapshot()["timeouts"]
    with resolver.request(budget=0.0):
        assert resolver.definition(model, "models.Plain") is None
    assert resolver.stats.snapshot()["timeouts"] == timeouts + 1


def test_definitions_outside_the_workspace_are_not_followed(workspace, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "far.py").write_text("def helper():\n    return 1\n")
    (workspace / "inside.py").write_text("def helper():\n    return 1\n")
    (workspace / "linked.py").symlink_to(outside / "far.py")  # jedi finds it; it lives outside
    (workspace / "near.py").write_text("from linked import helper\nfrom inside import helper as h\n")
    model = _model(workspace / "near.py")
    assert model.resolver.definition(model, "inside.helper") is not None
    assert model.resolver.definition(model, "linked.helper") is None


def test_without_jedi_linting_stays_single_file(workspace, monkeypatch):
    def refuse(*args, **kwargs):
        raise ImportError("no jedi")

    monkeypatch.setattr(crossfile, "WorkspaceResolver", refuse)
    monkeypatch.setattr(crossfile, "_RESOLVERS", {})
    assert _codes(workspace / "train.py", cross_file=True) == []


def test_synthetic_scripts_cover_absolute_relative_and_attribute_names():
    assert crossfile._synthetic_scripts("utils.make") == ["from utils import make\nmake", "import utils\nutils.make"]
    assert crossfile._synthetic_scripts(".models.Net") == ["from .models import Net\nNet", "from . import models\nmodels.Net"]
    assert crossfile._synthetic_scripts("..Net") == ["from .. import Net\nNet"]


def test_cli_cross_file_flag(workspace):
    def run(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dlx_lint", "check", *flags, "train.py"], cwd=workspace,
                              capture_output=True, text=True, timeout=120)

    plain = run("--no-cache")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    crossed = run("--cross-file")
    assert crossed.returncode == 1
    assert "train.py:10:9: DLX001" in crossed.stdout
    assert not (workspace / ".dlx_lint_cache").exists()  # --cross-file does not use the result cache


def test_workspace_root_from_markers_folders_and_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(crossfile, "_ROOTS", {})
    monkeypatch.setattr(crossfile, "_WORKSPACE_FOLDERS", [])
    library = tmp_path / "lib" / "pkg" / "sub"
    library.mkdir(parents=True)
    for directory in (tmp_path / "lib" / "pkg", library):
        (directory / "__init__.py").write_text("")
    (library / "mod.py").write_text("")
    # No marker anywhere: the directory above the top-level package.
    assert crossfile.workspace_root(str(library / "mod.py")) == str(tmp_path / "lib")
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setattr(crossfile, "_ROOTS", {})
    assert crossfile.workspace_root(str(library / "mod.py")) == str(tmp_path)
    crossfile.add_workspace_roots([str(tmp_path / "lib")])  # an editor folder wins over markers
    assert crossfile.workspace_root(str(library / "mod.py")) == str(tmp_path / "lib")


def test_cli_cross_file_in_worker_processes(workspace):
    scripts = workspace / "scripts"
    scripts.mkdir()
    (scripts / "__init__.py").write_text("")
    for index in range(16):  # 16 files and -j 2: two worker processes, each starting its own jedi
        (scripts / f"train_{index}.py").write_text(TRAIN)
    result = subprocess.run([sys.executable, "-m", "dlx_lint", "check", "--cross-file", "-j", "2", "--select", "DLX001", "scripts"],
                            cwd=workspace, capture_output=True, text=True, timeout=300)
    assert result.stdout.count("DLX001") == 16, result.stdout + result.stderr


def test_jedi_is_imported_only_when_cross_file_inference_is_on(workspace):
    code = ("import sys; from pathlib import Path; from dlx_lint.engine import lint_source; from dlx_lint.settings import Settings; "
            f"p = Path({str(workspace / 'train.py')!r}); lint_source(str(p), p.read_text(), Settings()); "
            "import dlx_lint.expert.hover, dlx_lint.expert.params; "
            "print('jedi' in sys.modules, any(m.split('.')[0] in ('pygls', 'lsprotocol') for m in sys.modules)); "
            "lint_source(str(p), p.read_text(), Settings(cross_file=True)); print('jedi' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "False", "True"], result.stderr
