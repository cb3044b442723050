#!/usr/bin/env bash
# Make sure the browser checks can run: Debian's Chromium (tests/book/test_browser.py, `make lighthouse`)
# and the npm tools pinned in package-lock.json (axe-core, Lighthouse), installed with `npm ci`.
# Installs what is missing when run as root; otherwise says exactly what to install.
# Never downloads a browser of its own: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/apt_install.sh
PACKAGES="chromium nodejs npm"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=("chromium")
command -v npm >/dev/null 2>&1 || missing+=("npm")
if [ ${#missing[@]} -gt 0 ]; then
  echo "Browser checks: missing ${missing[*]}."
  # Node.js may come from elsewhere (its own npm); install only what is really missing.
  wanted="chromium"
  command -v npm >/dev/null 2>&1 || wanted="$wanted $(command -v node >/dev/null 2>&1 && echo npm || echo nodejs npm)"
  # shellcheck disable=SC2086  # one word a package
  apt_install Browser "$PACKAGES" $wanted
fi
# npm ci again only when the lock file changed since the last install.
stamp=node_modules/.lock-$(cksum < package-lock.json | cut -d' ' -f1)
if [ ! -e "$stamp" ] || [ ! -e node_modules/axe-core/axe.min.js ]; then
  echo "Installing the pinned npm tools (axe-core, Lighthouse): npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  rm -f node_modules/.lock-*
  touch "$stamp"
fi
