#!/usr/bin/env bash
# Make sure `make lighthouse` can run: Chromium (tools/setup_browser.sh), Node.js and npm, and
# Lighthouse as pinned in package-lock.json, installed with `npm ci`. The tests need none of this.
# Installs what is missing when run as root; otherwise says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_browser.sh
. tools/apt_install.sh
if ! command -v npm >/dev/null 2>&1; then
  echo "Lighthouse: missing npm."
  # Node.js may come from elsewhere (its own npm); install only what is really missing.
  # shellcheck disable=SC2046  # one word a package
  apt_install Lighthouse "nodejs npm" $(command -v node >/dev/null 2>&1 && echo npm || echo nodejs npm)
fi
# npm ci again only when the lock file changed since the last install.
stamp=node_modules/.lock-$(cksum < package-lock.json | cut -d' ' -f1)
if [ ! -e "$stamp" ] || [ ! -e node_modules/.bin/lighthouse ]; then
  echo "Installing the pinned npm tools (Lighthouse): npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  rm -f node_modules/.lock-*
  touch "$stamp"
fi
