#!/usr/bin/env bash
# Make sure the TeX tools the PDF build needs are present (Debian/Ubuntu packages).
# Installs them when missing and run as root; otherwise says exactly what to install.
set -euo pipefail
. "$(dirname "$0")/apt_install.sh"
PACKAGES="texlive-xetex latexmk fonts-freefont-otf texlive-fonts-recommended poppler-utils"
missing=()
for tool in xelatex latexmk pdftotext pdfinfo; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -e /usr/share/fonts/opentype/freefont/FreeSerif.otf ] || missing+=("FreeSerif font")
[ ${#missing[@]} -eq 0 ] && exit 0
echo "PDF build: missing ${missing[*]}."
# shellcheck disable=SC2086  # one word a package
apt_install TeX "$PACKAGES" $PACKAGES
