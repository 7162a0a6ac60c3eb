#!/usr/bin/env bash
# Checks the local services the integration tests use and starts those that are installed but stopped.
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
  echo "services: PostgreSQL is down on 127.0.0.1:5432; starting it"
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 1883; then
  echo "services: Mosquitto is down on 127.0.0.1:1883; starting it"
  command -v mosquitto >/dev/null && mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
for i in $(seq 1 50); do up 5432 && break; sleep 0.2; done
for i in $(seq 1 50); do up 1883 && break; sleep 0.2; done
up 5432 || { echo "services: PostgreSQL is required on 127.0.0.1:5432 (database 'test', trust auth) and could not be started" >&2; exit 1; }
up 1883 || { echo "services: Mosquitto is required on 127.0.0.1:1883 (the MQTT tests) and could not be started (Debian package mosquitto)" >&2; exit 1; }
exit 0
