#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine with Python 3.11: the system libraries the Qt
# window (xcb platform plugin) and Qt WebEngine load, the PDF check tool, a Japanese font, and a
# virtual environment in .venv. Safe to run again: it installs only what is missing.
# Quiet on success; anything it prints is worth reading.
set -euo pipefail
cd "$(dirname "$0")/.."

# GUI runtime libraries: the Debian packages owning every library that `ldd` lists for Qt's xcb
# plugin (plugins/platforms/libqxcb.so, libQt6XcbQpa), its GL integrations, libQt6Gui/Widgets/
# OpenGL/PrintSupport, libQt6WebEngineCore/Widgets and QtWebEngineProcess in the PySide6 wheel
# (see app/display_check.py:gui_binaries). Read off ldd + dpkg -S on Debian 12, not from memory;
# tests/test_system_libraries.py fails when a library is missing or its package is not listed here.
gui_packages=(
  libasound2 libbrotli1 libbsd0 libc6 libcap2 libcom-err2 libdbus-1-3 libdrm2 libegl1 libexpat1
  libffi8 libfontconfig1 libfreetype6 libgbm1 libgcc-s1 libgcrypt20 libgl1 libglib2.0-0 libglvnd0
  libglx0 libgpg-error0 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0
  liblz4-1 liblzma5 libmd0 libnspr4 libnss3 libpcre2-8-0 libpng16-16 libstdc++6 libsystemd0
  libudev1 libwayland-server0 libx11-6 libx11-xcb1 libxau6 libxcb1 libxcb-cursor0 libxcb-dri3-0
  libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0
  libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xkb1 libxcomposite1 libxdamage1 libxdmcp6 libxext6 libxfixes3 libxkbcommon0
  libxkbcommon-x11-0 libxkbfile1 libxrandr2 libxrender1 libxtst6 libzstd1 zlib1g
)
# PDF checks in the tests (pdftotext) and a Japanese font for widgets, plots and the map page.
other_packages=(poppler-utils fonts-noto-cjk)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Tools' chatter (apt's "debconf: delaying package configuration", pip's notices) goes to a log
# that is shown only when a step fails.
quietly() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; echo "setup: failed: $*" >&2; exit 1; }; }

installed() {  # Ubuntu 24.04 renamed some libraries with a t64 suffix (libasound2t64, …)
  local p
  for p in "$1" "$1t64"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && return 0
  done
  return 1
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${gui_packages[@]}" "${other_packages[@]}"; do
    installed "$p" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  noninteractive=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" = 0 ]; then apt=("${noninteractive[@]}")
  elif command -v sudo >/dev/null 2>&1; then apt=(sudo "${noninteractive[@]}")  # sudo asks on the tty
  else apt=(); fi
  if [ ${#apt[@]} -gt 0 ]; then
    echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
    quietly "${apt[@]}" update -qq
    wanted=()
    for p in "${missing[@]}"; do
      if apt-cache show "$p" >/dev/null 2>&1; then wanted+=("$p")
      elif apt-cache show "${p}t64" >/dev/null 2>&1; then wanted+=("${p}t64")
      else wanted+=("$p"); fi   # let apt name it if it is truly unknown
    done
    quietly "${apt[@]}" install -y -qq --no-install-recommends "${wanted[@]}"
  else
    echo "setup: please install these Debian packages (as root): apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
# pip's own notices (a newer pip exists, running as root, …) are not problems of this project.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_WARN_SCRIPT_LOCATION=1
quietly .venv/bin/python -m pip install -q --upgrade pip
quietly .venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -c "import PySide6, sqlcipher3, pandas, sklearn, pyqtgraph, folium" \
  || { echo "setup: the virtual environment is incomplete" >&2; exit 1; }
echo "setup: ready (.venv)"
