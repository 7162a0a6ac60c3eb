"""Operations: Prometheus metrics, request ids and JSON logs, backups and restores.

Sits in the top domain layer: it reads the other domains' tables and the runtime's objects (MQTT
subscriber, page cache) at scrape time, so no domain imports it or carries metric calls."""
