"""The console's sections, in menu order: (path, key of the section's title in ``i18n.T``).
A section adds its line here and its router in ``router.py``."""

from __future__ import annotations

SECTIONS: list[tuple[str, str]] = [
    ("/app/console", "overview"),
    ("/app/console/lots", "lots"),  # crecall
    ("/app/console/recalls", "recalls"),  # crecall
    ("/app/console/codes", "codes"),
    ("/app/console/certificates", "certificates"),
    ("/app/console/keys", "signing_keys"),
    ("/app/console/national-record", "national_record"),
    ("/app/console/map", "map"),
    ("/app/console/figures", "figures"),
    ("/app/console/anomalies", "anomalies"),
]
