#!/usr/bin/env bash
# Installs everything AgriTrace needs into the checkout; safe to run any number of times.
#   .venv/   Python 3.11 virtualenv with the project and its dev tools
#   .tools/  anvil (Foundry) and solc from the npm registry, pinned by .tools/package-lock.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "setup: Python 3.11 is required (found $("$PY" --version 2>&1))" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup: npm (Node.js) is required to install anvil and solc" >&2; exit 1; }

# Debian packages: headless Chromium (browser tests), pdftotext (label tests), DejaVu fonts (labels)
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} from Debian"
    apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; } \
      || { echo "setup: could not install ${need[*]}" >&2; exit 1; }
  else
    echo "setup: please install the Debian packages: ${need[*]}" >&2; exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.agritrace-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi

tstamp=".tools/node_modules/.agritrace-installed"
twant="$(sha256sum .tools/package-lock.json | cut -d' ' -f1)"
if [ ! -f "$tstamp" ] || [ "$(cat "$tstamp")" != "$twant" ]; then
  (cd .tools && npm install --no-audit --no-fund --loglevel=error)
  echo "$twant" > "$tstamp"
fi
# the anvil npm package ships the binary in a per-platform optional dependency
ls .tools/node_modules/@foundry-rs/anvil-*/bin/anvil >/dev/null 2>&1 \
  || { echo "setup: anvil binary missing after npm install" >&2; exit 1; }
