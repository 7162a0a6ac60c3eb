"""Open data: aggregated, licence-tagged public datasets (CSV and JSON), their DCAT-AP catalogue in
JSON-LD, and each file's SHA-256 anchored like events.  See docs/open-data.md."""
