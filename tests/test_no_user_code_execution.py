"""dlx-lint never runs code of the project it checks.

A project whose every Python file, if imported or executed, appends its name to a marker file
outside the project: the linted script itself, a local package it imports (``__init__.py`` and
the module), ``conftest.py``, ``setup.py``, ``sitecustomize.py``, ``usercustomize.py``, a
``.pth`` file, modules named like those dlx-lint imports (``argparse.py``, ``json.py``,
``libcst.py``, ``torch.py``...: ``python -m`` puts the working directory first on
``sys.path``), a notebook whose cells write the marker, and an executable ``evil.sh``.

It is checked by the real command, run as ``python -m dlx_lint`` from inside the project (the
way the VS Code client starts the server, the riskiest way to start it): ``check``, ``check
--fix --unsafe-fixes``, each with and without ``--cross-file``, and by the language server
started in the project folder (open, diagnostics, hover, code actions, cross-file inference on,
with editor settings that name the executable). Each run must report the expected findings
(so a run that silently did nothing fails) and leave no marker.

Configuration cannot name a program either: no key of ``[tool.dlx-lint]`` or of the editor
settings is a command or an interpreter (those, ``dlx-lint.interpreter`` and ``dlx-lint.path``,
belong to the VS Code client, which restricts them in untrusted workspaces: checked in
tests/test_vscode_extension.py); unknown keys such as ``command`` are rejected, and a
``cache-dir`` naming the executable is only ever treated as a directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import REPO
from .lsp_support import SERVER_COMMAND, capabilities, make_recording_client, open_document, wait_for

# Modules dlx-lint (CLI, engine, cross-file inference, server) imports after start-up.
SHADOWED = ("argparse", "json", "tomllib", "difflib", "tokenize", "dataclasses", "typing", "libcst", "jedi",
            "parso", "pygls", "lsprotocol", "torch", "concurrent", "multiprocessing", "logging", "asyncio")

TRAIN = """\
import torch
from helpers.optim import make_optimizer

open({marker!r}, "a").write("train.py\\n")


def train(model, loader, criterion):
    optimizer = make_optimizer(model)
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def resume(path):
    return torch.load(path)
"""
# DLX025 (torch.load without weights_only) is always found; DLX001 (no zero_grad) only when the
# optimizer from helpers/optim.py is followed, that is with cross-file inference.
ALWAYS = ("DLX025", 16)
CROSS_FILE_ONLY = ("DLX001", 12)

OPTIM = """\
import torch

open({marker!r}, "a").write("helpers/optim.py\\n")


def make_optimizer(model, lr=1e-3):
    return torch.optim.AdamW(model.parameters(), lr=lr)
"""


def _bait(marker: Path, name: str) -> str:
    return f"open({str(marker)!r}, 'a').write({name + chr(10)!r})\n"


def make_project(root: Path, marker: Path) -> Path:
    """Build the hostile project in `root` (see the module docstring); returns its folder."""
    project = root / "project"
    (project / "helpers").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'hostile'\n\n[tool.dlx-lint]\nselect = [\"ALL\"]\n")
    (project / "train.py").write_text(TRAIN.format(marker=str(marker)))
    (project / "helpers" / "__init__.py").write_text(_bait(marker, "helpers/__init__.py"))
    (project / "helpers" / "optim.py").write_text(OPTIM.format(marker=str(marker)))
    for name in ("conftest.py", "setup.py", "sitecustomize.py", "usercustomize.py", "__main__.py"):
        (project / name).write_text(_bait(marker, name))
    for module in SHADOWED:
        (project / f"{module}.py").write_text(_bait(marker, f"{module}.py") + "raise SystemExit('shadowed module imported')\n")
    (project / "zz-evil.pth").write_text(f"import os; {_bait(marker, 'zz-evil.pth').strip()}\n")
    evil = project / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho evil.sh >> '{marker}'\n")
    evil.chmod(0o755)
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                     "language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
             "source": ["import torch\n", _bait(marker, "notebook.ipynb"), "!sh evil.sh\n"]},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
             "source": ["%run train.py\n", "state = torch.load('model.pt')\n"]},
        ],
    }
    (project / "notebook.ipynb").write_text(json.dumps(notebook, indent=1))
    return project


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """(the project folder, the marker path, outside it)."""
    marker = tmp_path / "EXECUTED"
    return make_project(tmp_path, marker), marker


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "lint_rules"), str(REPO / "server")])
    env.pop("PYTHONSAFEPATH", None)  # the unsafe default: the working directory first on sys.path
    return env


def _run(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dlx_lint", "check", "--no-cache", *arguments]
    return subprocess.run(command, cwd=project, env=_environment(), capture_output=True, text=True, timeout=120)


def _executed(marker: Path) -> str:
    return marker.read_text() if marker.exists() else ""


def _findings(output: str, filename: str) -> set[tuple[str, int]]:
    return {(code, int(row)) for row, code in re.findall(rf"^{re.escape(filename)}:(\d+):\d+: (DLX\d+)", output, re.M)}


@pytest.mark.parametrize("cross_file", [False, True], ids=["single-file", "cross-file"])
def test_check_runs_nothing_from_the_project(hostile, cross_file):
    project, marker = hostile
    result = _run(project, "train.py", "notebook.ipynb", *(["--cross-file"] if cross_file else []))
    assert not _executed(marker), _executed(marker)
    assert result.returncode == 1, result.stderr
    found = _findings(result.stdout, "train.py")
    assert ALWAYS in found
    assert (CROSS_FILE_ONLY in found) == cross_file
    assert re.search(r"^notebook\.ipynb:cell 1:2:\d+: DLX025", result.stdout, re.M), result.stdout


@pytest.mark.parametrize("cross_file", [False, True], ids=["single-file", "cross-file"])
def test_fix_runs_nothing_from_the_project(hostile, cross_file):
    project, marker = hostile
    result = _run(project, "--fix", "--unsafe-fixes", *(["--cross-file"] if cross_file else []))
    assert not _executed(marker), _executed(marker)
    assert "Found" in result.stdout or "fixed" in result.stdout, result.stdout + result.stderr
    assert "weights_only=" in (project / "train.py").read_text()
    notebook = json.loads((project / "notebook.ipynb").read_text())
    assert "weights_only=" in "".join(notebook["cells"][1]["source"])
    # The baits themselves are untouched data.
    assert (project / "setup.py").read_text().startswith("open(")


def test_the_project_really_is_hostile(hostile):
    """The control: running the project's code, or Python with its folder first on the path,
    does write the marker, so the absence of the marker above means something."""
    project, marker = hostile
    env = _environment()
    subprocess.run([sys.executable, "-c", "import json"], cwd=project, env=env, capture_output=True, timeout=60)
    assert "json.py" in _executed(marker)
    subprocess.run([sys.executable, "-c", "import helpers"], cwd=project, env=env, capture_output=True, timeout=60)
    assert "helpers/__init__.py" in _executed(marker)


def test_pyproject_cannot_name_a_program(hostile):
    project, marker = hostile
    pyproject = project / "pyproject.toml"
    for key in ("command", "interpreter", "path", "server-command"):
        pyproject.write_text(f'[tool.dlx-lint]\n{key} = "./evil.sh"\n')
        result = _run(project, "train.py")
        assert result.returncode == 2
        assert f"unknown key {key!r}" in result.stderr
    # cache-dir naming the executable: only ever used as a directory (and refused, it is a file).
    pyproject.write_text('[tool.dlx-lint]\ncache-dir = "evil.sh"\n')
    result = subprocess.run([sys.executable, "-m", "dlx_lint", "check", "train.py"], cwd=project, env=_environment(),
                            capture_output=True, text=True, timeout=120)
    assert ALWAYS in _findings(result.stdout, "train.py")
    assert "cannot write the cache" in result.stderr
    assert not _executed(marker), _executed(marker)
    assert (project / "evil.sh").read_text().startswith("#!/bin/sh")


async def test_language_server_runs_nothing_from_the_project(hostile):
    project, marker = hostile
    client = make_recording_client()
    # As the VS Code client starts it: `python -m dlx_lint server` in the workspace folder.
    await client.start_io(*SERVER_COMMAND, cwd=str(project), env=_environment())
    try:
        evil = str(project / "evil.sh")
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities("visual-studio-code"),
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")],
            initialization_options={"lintDebounceMs": 20, "crossFile": True, "unsafeFixes": True,
                                    "interpreter": evil, "path": evil, "command": evil, "serverPath": evil},
        ))
        client.set_configuration({"dlx-lint": {"crossFile": True, "interpreter": evil, "path": evil}})
        path = project / "train.py"
        uri = path.as_uri()
        text = path.read_text()
        open_document(client, uri, text)
        await wait_for(lambda: bool(client.diagnostics.get(uri)), "diagnostics for train.py")
        found = {(d.code, d.range.start.line + 1) for d in client.diagnostics[uri]}
        assert {ALWAYS, CROSS_FILE_ONLY} <= found
        row = text.splitlines().index("        optimizer.step()")
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=row, character=9)))
        load = next(d for d in client.diagnostics[uri] if d.code == "DLX025")
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=load.range,
            context=types.CodeActionContext(diagnostics=[load])))
        assert any("weights_only" in (a.title or "") for a in actions or [] if isinstance(a, types.CodeAction)), actions
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
            await client._server.wait()
    assert isinstance(hover, types.Hover) and "DLX001" in hover.contents.value  # found through helpers/optim.py
    assert not _executed(marker), _executed(marker)
