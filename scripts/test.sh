#!/usr/bin/env bash
# Install, make sure the services the tests need are up, then run the whole suite twice, side by
# side (one pass per core): on SQLite and on PostgreSQL (127.0.0.1:5432, database "test").
# Each pass writes its own log; both are printed when they end, and the command fails if either does.
# `scripts/test.sh -m "not slow"` passes pytest options to both passes; AGRITRACE_TEST_PASSES=sqlite
# (or postgresql) runs one pass only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/services.sh
mkdir -p test-artifacts
export PYTHONDONTWRITEBYTECODE=1
passes="${AGRITRACE_TEST_PASSES:-sqlite postgresql}"
logs="$(mktemp -d)"
declare -A pid
for db in $passes; do
  extra=()
  [ "$db" = postgresql ] && extra=(-m "not sqlite_only")
  AGRITRACE_TEST_DB="$db" .venv/bin/python -m pytest -q -p no:cacheprovider "${extra[@]}" "$@" \
    >"$logs/$db.log" 2>&1 &
  pid[$db]=$!
done
status=0
for db in $passes; do
  rc=0
  wait "${pid[$db]}" || rc=$?
  echo "== test suite on $db (exit $rc)"
  cat "$logs/$db.log"
  [ "$rc" = 0 ] || status=1
done
rm -rf "$logs"
exit "$status"
