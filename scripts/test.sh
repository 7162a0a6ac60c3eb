#!/usr/bin/env bash
# Install, make sure the services the tests need are up, then run the whole suite twice:
# once on SQLite and once on PostgreSQL (127.0.0.1:5432, database "test").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/services.sh
mkdir -p test-artifacts
export PYTHONDONTWRITEBYTECODE=1
echo "== test suite on SQLite"
AGRITRACE_TEST_DB=sqlite .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== test suite on PostgreSQL"
AGRITRACE_TEST_DB=postgresql .venv/bin/python -m pytest -q -p no:cacheprovider -m "not sqlite_only" "$@"
