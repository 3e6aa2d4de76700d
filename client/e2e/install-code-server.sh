#!/usr/bin/env bash
# Installs code-server (VS Code served to a browser) from the npm registry alone: nothing is
# downloaded from anywhere else (its install scripts would fetch ripgrep, node headers and
# prebuilt native modules; instead Debian's ripgrep is linked in and the native modules are
# built against /usr/include/node).
#
# usage: install-code-server.sh CACHE_DIR
#   Installs into CACHE_DIR/code-server-$CODE_SERVER_VERSION once (a .complete marker makes
#   later calls instant) and prints the launcher's path as the last line of stdout.
# needs: node 20 + npm, ripgrep, build-essential, libkrb5-dev (installed by .ci/run), flock.
# 4.100.3 is the newest code-server whose engines accept Node 20 (VS Code 1.100).
set -euo pipefail
VERSION=${CODE_SERVER_VERSION:-4.100.3}
CACHE=${1:?usage: install-code-server.sh CACHE_DIR}
DEST="$CACHE/code-server-$VERSION"
BIN="$DEST/node_modules/.bin/code-server"
mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock -w 1800 9
if [ -f "$DEST/.complete" ] && [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi
for tool in node npm rg c++ make; do
    command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing" >&2; exit 3; }
done
[ -f /usr/include/node/node.h ] || { echo "install-code-server: no Node headers in /usr/include/node" >&2; exit 3; }
export npm_config_nodedir=/usr        # node-gyp uses these headers instead of downloading them
export npm_config_yes=true            # node-pty's install script runs `npx node-gyp`
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
t0=$(date +%s)
lap() { echo "install-code-server: $1 ($(( $(date +%s) - t0 ))s)" >&2; }
# A registry fetch that fails is tried again (3 times in all).
retry() { local n; for n in 1 2 3; do "$@" && return 0; echo "install-code-server: attempt $n of '$*' failed" >&2; sleep $((n * 5)); done; return 1; }
rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
npm init -y >/dev/null
retry npm install --ignore-scripts "code-server@$VERSION" >&2
lap "fetched code-server $VERSION"
npm rebuild argon2 --foreground-scripts >&2   # its prebuilt download fails; builds from source
VSC="$DEST/node_modules/code-server/lib/vscode"
cd "$VSC"
retry npm install --omit=dev --ignore-scripts >&2
# @vscode/ripgrep's install script downloads a binary unless bin/rg exists already.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild --foreground-scripts >&2
lap "built VS Code's native modules"
rm -rf node_modules.asar
ln -s node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && retry npm install --omit=dev >&2)
lap "installed the built-in extensions' dependencies"
XDG_CONFIG_HOME="$DEST/.xdg-config" "$BIN" --version >&2
touch "$DEST/.complete"
echo "$BIN"
