# Sourced by tools/setup_tex.sh and tools/setup_browser.sh (Debian/Ubuntu packages).
# apt_install WHAT "ALL PACKAGES" PACKAGE...: as root, installs the PACKAGEs; otherwise says to
# install ALL PACKAGES (what a fresh machine needs) and exits 1.
apt_install() {
  local what=$1 all=$2
  shift 2
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing: apt-get install --no-install-recommends $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    echo "$what packages installed."
  else
    echo "Install them, then run the command again:" >&2
    echo "  sudo apt-get install --no-install-recommends $all" >&2
    exit 1
  fi
}
