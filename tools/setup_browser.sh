#!/usr/bin/env bash
# Make sure the browser tests can run (tests/book/test_browser.py): Debian's Chromium, which Playwright
# drives. axe-core comes from the Python package axe-playwright-python (requirements.lock): no Node.js.
# Installs Chromium when run as root; otherwise says exactly what to install.
# Never downloads a browser of its own: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/apt_install.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "Browser tests: missing chromium."
  apt_install Browser chromium chromium
fi
