#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine with Python 3.11: the system libraries Qt
# WebEngine and PDF checks need, a Japanese font, and a virtual environment in .venv.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libnss3 libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
          libasound2 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxshmfence1 libxcb-cursor0
          poppler-utils fonts-noto-cjk)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null 2>&1; then apt=(sudo apt-get); else apt=(); fi
  if [ ${#apt[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages: ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import PySide6, sqlcipher3, pandas, sklearn, pyqtgraph, folium" \
  || { echo "setup: the virtual environment is incomplete" >&2; exit 1; }
echo "setup: ready (.venv)"
