#!/usr/bin/env bash
# Install, then run AgriTrace on its embedded defaults (SQLite + a local anvil chain) with demo data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/agritrace serve --demo "$@"
