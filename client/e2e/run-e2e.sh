#!/usr/bin/env bash
# Real-client end-to-end test of the VS Code extension, in a real VS Code workbench
# (code-server 4.100.3, VS Code 1.100) driven by Debian's Chromium through playwright-core.
#
# 1. builds and packages the extension (`vsce package` -> dlx-lint-<version>.vsix) and the
#    test-driver extension (client/e2e/driver), installs code-server into a cache once;
# 2. scenario "positive": a fresh profile with the .vsix installed and dlx-lint.interpreter
#    set to $DLX_PYTHON (which has dlx-lint); the GUI script (client/e2e/gui.ts) and the API
#    driver check diagnostics, hover, quick fixes, commands, settings and a notebook;
# 3. scenario "negative" (the control): the same, with dlx-lint.interpreter set to a fresh
#    venv without dlx-lint; the same checks must FAIL, with the one "not installed" message;
# 4. client/e2e/verdict.py judges both; the exit status is 0 only when the positive
#    scenario passed and the negative one failed for that reason.
#
# usage: client/e2e/run-e2e.sh [OUT_DIR]       (default: out/e2e; screenshots and logs there)
# env:   DLX_PYTHON      interpreter with dlx-lint installed (default: .venv/bin/python)
#        DLX_E2E_CACHE   where code-server is installed once (default: ~/.cache/dlx-lint-e2e)
#        DLX_SHARED_DIR  folder holding cases/ (default: ../shared next to the checkout, /work/shared)
#        CHROMIUM        browser binary (default: /usr/bin/chromium)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/out/e2e}" && cd "${1:-$ROOT/out/e2e}" && pwd)
CACHE=${DLX_E2E_CACHE:-${HOME:-/root}/.cache/dlx-lint-e2e}
PY=${DLX_PYTHON:-$ROOT/.venv/bin/python}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CASE=125_tabular_regressor_zero_grad_once_per_epoch.py
CASE_LINE=36
NOTEBOOK=304_hard_notebook_two_bugs.ipynb
T0=$(date +%s)
step() { echo "=== e2e: $1 [$(( $(date +%s) - T0 ))s]"; }
die() { echo "e2e: $1" >&2; exit 3; }

SHARED=""
for candidate in "${DLX_SHARED_DIR:-}" "$ROOT/../shared" /work/shared; do
    if [ -n "$candidate" ] && [ -f "$candidate/cases/$CASE" ]; then SHARED=$candidate; break; fi
done
[ -n "$SHARED" ] || die "shared cases not found (set DLX_SHARED_DIR)"
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (apt-get install chromium)"
command -v rg >/dev/null || die "ripgrep missing (apt-get install ripgrep)"
"$PY" -c 'import dlx_lint_server' || die "$PY cannot import dlx_lint_server"

cd "$ROOT"
step "npm dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi

step "build and package"
rm -rf "$OUT"/*.vsix
npx @vscode/vsce package --out "$OUT/" </dev/null >"$OUT/vsce.log" 2>&1 || { cat "$OUT/vsce.log"; die "vsce package failed"; }
VERSION=$(node -p 'require("./package.json").version')
VSIX="$OUT/dlx-lint-$VERSION.vsix"
[ -f "$VSIX" ] || die "vsce produced no $VSIX"
node client/build.mjs --e2e
DRIVER="$OUT/dlx-lint-e2e-driver.vsix"
(cd client/e2e/driver && "$ROOT/node_modules/.bin/vsce" package --no-dependencies --skip-license --allow-missing-repository \
    --out "$DRIVER" </dev/null >"$OUT/vsce-driver.log" 2>&1) || { cat "$OUT/vsce-driver.log"; die "packaging the driver failed"; }

step "code-server (cached in $CACHE)"
CS_BIN=$(bash client/e2e/install-code-server.sh "$CACHE" 2>"$OUT/code-server-install.log" | tail -n 1) \
    || { tail -n 30 "$OUT/code-server-install.log"; die "code-server install failed"; }

# What the engine declares about DLX001's fix (the driver asserts the quick fix accordingly).
FIX=$("$PY" -c 'from dlx_lint.registry import find_rule; print(find_rule("DLX001").fix_availability.value)')
# The `dlx-lint` executable next to that interpreter (for the dlx-lint.path check).
DLX_LINT=$("$PY" -c 'import os, sys, sysconfig; print(os.path.join(sysconfig.get_path("scripts"), "dlx-lint"))')
[ -x "$DLX_LINT" ] || die "no dlx-lint executable at $DLX_LINT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# scenario NAME INTERPRETER WAIT_MS: one fresh profile, workspace and code-server.
scenario() {
    local name=$1 python=$2 wait_ms=$3 run="$OUT/$1"
    rm -rf "$run"
    mkdir -p "$run"/{ud/User,ext,ws,xdg}
    cp "$SHARED/cases/$CASE" "$SHARED/cases/$NOTEBOOK" "$run/ws/"
    python3 - "$run/ud/User/settings.json" "$python" <<'PY'
import json, sys
json.dump({
    "workbench.startupEditor": "none", "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": False, "extensions.autoUpdate": False,
    "update.mode": "none", "workbench.tips.enabled": False, "workbench.enableExperiments": False,
    "chat.disableAIFeatures": True, "editor.hover.delay": 150, "files.autoSave": "off",
    "dlx-lint.interpreter": sys.argv[2], "dlx-lint.logLevel": "info",
}, open(sys.argv[1], "w"), indent=1)
PY
    export XDG_CONFIG_HOME="$run/xdg/config" XDG_DATA_HOME="$run/xdg/data" XDG_CACHE_HOME="$run/xdg/cache"
    # (an unpacked folder in the extensions dir is dropped by code-server 4.100: both are .vsix)
    for vsix in "$VSIX" "$DRIVER"; do
        "$CS_BIN" --user-data-dir "$run/ud" --extensions-dir "$run/ext" --install-extension "$vsix" >>"$run/install-extension.log" 2>&1 \
            || { cat "$run/install-extension.log"; return 2; }
    done
    local port
    port=$(free_port)
    printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" >"$run/config.yaml"
    export DLX_E2E_OUT="$run/api.json" DLX_E2E_CASE="$CASE" DLX_E2E_CASE_LINE="$CASE_LINE" DLX_E2E_NOTEBOOK="$NOTEBOOK" \
        DLX_E2E_WAIT_MS="$wait_ms" DLX_E2E_FIX="$FIX" DLX_E2E_EXPECT_PYTHON="$python" DLX_E2E_DLX_LINT_PATH="$DLX_LINT"
    setsid "$CS_BIN" --config "$run/config.yaml" --user-data-dir "$run/ud" --extensions-dir "$run/ext" \
        --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
        "$run/ws" >"$run/code-server.log" 2>&1 &
    local cs=$!
    local up=""
    for _ in $(seq 300); do
        if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/healthz" 2>/dev/null; then up=1; break; fi
        sleep 0.2
    done
    local rc=0
    if [ -n "$up" ]; then
        timeout 900 node out/e2e/gui.js "http://127.0.0.1:$port/?folder=$run/ws" "$run" "$run/api.json" 2>&1 | tee "$run/gui.log" || rc=$?
    else
        echo "code-server did not come up" | tee "$run/gui.log"; rc=2
    fi
    kill -- "-$cs" 2>/dev/null || kill "$cs" 2>/dev/null || true
    wait "$cs" 2>/dev/null || true
    # Keep the extension's own log next to the screenshots.
    find "$run/ud/logs" -name '*dlx-lint*.log' -exec cp {} "$run/" \; 2>/dev/null || true
    unset DLX_E2E_OUT DLX_E2E_EXPECT_PYTHON DLX_E2E_DLX_LINT_PATH
    echo "e2e: scenario $name: gui exit $rc"
}

step "scenario positive (dlx-lint.interpreter = $PY)"
scenario positive "$PY" 60000
# One retry of the positive scenario, in a fresh profile, if the slow UI made it fail; the
# first attempt's artefacts stay in positive-attempt-1/ and summary.json records it.
if ! python3 client/e2e/verdict.py "$OUT" positive >"$OUT/positive-verdict.txt"; then
    cat "$OUT/positive-verdict.txt"
    rm -rf "$OUT/positive-attempt-1"
    mv "$OUT/positive" "$OUT/positive-attempt-1"
    step "scenario positive, second attempt"
    scenario positive "$PY" 60000
fi

step "scenario negative (dlx-lint.interpreter = a venv without dlx-lint)"
NODLX="$OUT/no-dlx-venv"
rm -rf "$NODLX"
"$PY" -m venv --without-pip "$NODLX"
if "$NODLX/bin/python" -c 'import dlx_lint_server' 2>/dev/null; then die "the control venv can import dlx_lint_server"; fi
scenario negative "$NODLX/bin/python" 20000

step "verdict"
python3 client/e2e/verdict.py "$OUT"
