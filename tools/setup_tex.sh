#!/usr/bin/env bash
# Make sure the TeX tools the PDF build needs are present (Debian/Ubuntu packages).
# Installs them when missing and run as root; otherwise says exactly what to install.
set -euo pipefail
PACKAGES="texlive-xetex latexmk fonts-freefont-otf texlive-fonts-recommended poppler-utils"
missing=()
for tool in xelatex latexmk pdftotext pdfinfo; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -e /usr/share/fonts/opentype/freefont/FreeSerif.otf ] || missing+=("FreeSerif font")
[ ${#missing[@]} -eq 0 ] && exit 0
echo "PDF build: missing ${missing[*]}."
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing: apt-get install --no-install-recommends $PACKAGES"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  echo "TeX packages installed."
else
  echo "Install them, then run the command again:" >&2
  echo "  sudo apt-get install --no-install-recommends $PACKAGES" >&2
  exit 1
fi
