"""The VS Code extension (package.json at the root, TypeScript in client/).

- the manifest: what VS Code needs to install and activate it, and settings whose names the
  server actually reads (server/dlx_lint_server/settings.py);
- `npm run typecheck` (tsc --noEmit, strict), `npm run lint` (typescript-eslint) and
  `npm test` (node:test unit tests of interpreter resolution, settings, rule under cursor);
- the real-client end-to-end test, client/e2e/run-e2e.sh: code-server + Chromium + the packaged
  .vsix, a positive scenario and a negative control (see that script). Screenshots, logs and
  summary.json stay in out/e2e/ (git-ignored).

Node 20 and npm are required; `node_modules` is installed with `npm ci` when missing or older
than package-lock.json. Nothing here is skipped silently: DLX_SKIP_NODE=1 skips the whole
module, DLX_SKIP_E2E=1 only the end-to-end test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlx_lint_server.settings import LOG_LEVELS, SEVERITY_VALUES, EditorSettings, parse_editor_settings

REPO = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((REPO / "package.json").read_text())
SECTION = "dlx-lint"
CLIENT_ONLY = {"enable", "interpreter", "path", "trace.server"}
E2E_OUT = REPO / "out" / "e2e"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def npm() -> str:
    if os.environ.get("DLX_SKIP_NODE") == "1":
        pytest.skip("DLX_SKIP_NODE=1: the VS Code extension is not tested")
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.fail("node/npm not found: the VS Code extension tests need Node 20 (or set DLX_SKIP_NODE=1)")
    installed = REPO / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (REPO / "package-lock.json").stat().st_mtime:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO, capture_output=True, text=True,
                              timeout=900, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"npm ci failed:\n{_tail(done.stdout + done.stderr)}"
    return npm


def run_npm(npm: str, script: str, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run([npm, "run", script], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"npm run {script} failed:\n{_tail(output)}"
    return output


# -- the manifest ----------------------------------------------------------------------------

def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("^~>=").split(".")[:2])


def test_manifest_installs_in_vscode_1_100_and_activates_without_the_python_extension():
    assert _version(MANIFEST["engines"]["vscode"]) <= (1, 100)
    assert "extensionDependencies" not in MANIFEST  # else it never activates where ms-python is absent
    assert set(MANIFEST["activationEvents"]) >= {"onLanguage:python", "onNotebook:jupyter-notebook", "onNotebook:interactive"}
    assert MANIFEST["main"] == "./dist/extension.js"
    untrusted = MANIFEST["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    assert set(untrusted["restrictedConfigurations"]) == {"dlx-lint.interpreter", "dlx-lint.path"}
    commands = {c["command"]: c["title"] for c in MANIFEST["contributes"]["commands"]}
    assert commands == {
        "dlx-lint.restart": "Restart Server",
        "dlx-lint.showLogs": "Show Logs",
        "dlx-lint.fixAll": "Fix All Auto-fixable Problems",
        "dlx-lint.showRuleDocumentation": "Show Rule Documentation",
    }
    kinds = [a["actions"]["kind"] for a in MANIFEST["contributes"]["codeActions"]]
    assert kinds == ["source.fixAll.dlx-lint"]


def _settings() -> dict[str, dict]:
    properties = MANIFEST["contributes"]["configuration"]["properties"]
    return {key.removeprefix(f"{SECTION}."): value for key, value in properties.items()}


def test_every_setting_has_a_description_and_a_default():
    settings = _settings()
    assert set(settings) >= CLIENT_ONLY | {
        "select", "ignore", "extendSelect", "severity", "unsafeFixes", "lintOnChange", "configurationPreference",
        "codeAction.fixViolation.enable", "codeAction.disableRuleComment.enable", "logLevel",
    }
    for key, schema in settings.items():
        assert "default" in schema, key
        assert schema.get("description") or schema.get("markdownDescription"), key


def _nested(dotted: str, value) -> dict:
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


def _merge(target: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


SAMPLES = {
    "select": ["DLX0"], "extendSelect": ["DLX101"], "ignore": ["DLX010"], "severity": {"DLX001": "hint"},
    "unsafeFixes": True, "lintOnChange": False, "configurationPreference": "filesystemFirst", "logLevel": "debug",
    "codeAction.fixViolation.enable": False, "codeAction.disableRuleComment.enable": False,
}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_the_server_reads_each_contributed_setting_under_its_name(key):
    # The shape VS Code gives for the section (dotted keys nested), as the client sends it.
    assert key in _settings()
    parsed = parse_editor_settings(_nested(key, SAMPLES[key]))
    assert parsed.problems == ()
    assert parsed != EditorSettings(), f"the server ignored {key}"


def test_contributed_defaults_and_enums_are_what_the_server_accepts():
    settings = _settings()
    defaults = {key: settings[key]["default"] for key in SAMPLES}
    defaults.pop("select")  # [] is left out by the client (it means "the default rule set")
    nested: dict = {}
    for key, value in defaults.items():
        _merge(nested, _nested(key, value))
    assert parse_editor_settings(nested) == EditorSettings()
    assert set(settings["logLevel"]["enum"]) <= set(LOG_LEVELS)
    assert set(settings["severity"]["additionalProperties"]["enum"]) <= set(SEVERITY_VALUES)


# -- TypeScript: types, lint, unit tests --------------------------------------------------------

def test_typescript_typechecks_in_strict_mode(npm):
    assert json.loads((REPO / "tsconfig.json").read_text())["compilerOptions"]["strict"] is True
    run_npm(npm, "typecheck")


def test_typescript_lint(npm):
    run_npm(npm, "lint")


def test_client_unit_tests(npm):
    # DLX_TEST_PYTHON lets the installation check run against an interpreter that has dlx-lint.
    output = run_npm(npm, "test", env={"DLX_TEST_PYTHON": sys.executable})
    assert "# fail 0" in output
    assert "# skipped 0" in output
    passed = int(output.split("# pass ")[1].split()[0])
    assert passed >= 20, output


# -- the real client -------------------------------------------------------------------------

def test_real_vscode_end_to_end(npm):
    if os.environ.get("DLX_SKIP_E2E") == "1":
        pytest.skip("DLX_SKIP_E2E=1: the real-VS Code end-to-end test is not run")
    done = subprocess.run(["bash", str(REPO / "client" / "e2e" / "run-e2e.sh"), str(E2E_OUT)], cwd=REPO,
                          capture_output=True, text=True, timeout=2700, stdin=subprocess.DEVNULL,
                          env={**os.environ, "DLX_PYTHON": sys.executable})
    output = done.stdout + done.stderr
    E2E_OUT.mkdir(parents=True, exist_ok=True)
    (E2E_OUT / "run.log").write_text(output)
    assert done.returncode == 0, f"client/e2e/run-e2e.sh failed (artefacts in {E2E_OUT}):\n{_tail(output, 80)}"
    summary = json.loads((E2E_OUT / "summary.json").read_text())
    assert summary["positive"]["ok"], summary["positive"]
    assert all(summary["positive"]["gui_checks"].values()) and all(summary["positive"]["api_checks"].values())
    # The control: same checks, interpreter without dlx-lint -> they fail, one install hint shown.
    assert summary["negative"]["ok"], summary["negative"]
    assert summary["negative"]["api_checks"]["diagnostic"] is False
    assert len(summary["negative"]["shown_problems"]) == 1
