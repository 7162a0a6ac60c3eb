#!/usr/bin/env python
"""Benchmark: the cost of non-public events at capture (salts, disclosure commitment, its outbox
row) and of checking revealed fields.

    .venv/bin/python scripts/bench/privacy.py [--db postgresql|sqlite] [--events 2000] [--batch 50] [--reps 3]

1. Capture (in process, capture_events with the service's checks, one transaction per document of
   --batch events): public events (reference) against the same events marked partners-only.
2. The commitment alone for a typical farm-diary spraying (14 fields), and the check of its
   revealed fields (what `agritrace verify` does per non-public event, chain excluded).
"""

from __future__ import annotations

import statistics
import time

from common import arguments, scratch_database
from signatures import observe, setup, timed_capture

from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.consensus import disclosure
from traceability_api.privacy.visibility import public_paths

SPRAYING = {
    "type": "ObjectEvent", "eventTime": "2025-01-15T16:30:00+07:00", "eventTimeZoneOffset": "+07:00",
    "epcList": [], "action": "OBSERVE", "bizStep": "https://ns.agritrace.vn/voc/BizStep-spraying",
    "bizLocation": {"id": "https://id.gs1.org/414/8930000000019"}, "agri:visibility": "partners",
    "eventID": "urn:uuid:00000000-0000-4000-8000-000000000000",
    "agri:diary": {"product": "Anvil 5SC", "active_ingredient": "Hexaconazole", "dose": 0.5, "dose_unit": "l/ha",
                   "phi_days": 7, "supplier_lot": "NCC-2025-0042"},
}  # fmt: skip


def capture_bench(kind: str, n: int, batch: int, reps: int) -> None:
    settings = Settings(chain_enabled=False)
    results: dict[str, list[float]] = {"public (reference)": [], "partners-only (commitment)": []}
    for _ in range(reps):
        with scratch_database(kind) as (tmp, url):
            engine, p, _ = setup(url, settings)
            lot = "https://id.gs1.org/01/08930000000019/10/B1"

            def docs(visibility: str | None, lot: str = lot) -> list[list[dict[str, object]]]:
                evs = [observe(lot, i) | ({"agri:visibility": visibility} if visibility else {}) for i in range(n)]
                return [evs[i : i + batch] for i in range(0, n, batch)]

            timed_capture(engine, p, docs(None)[:2], settings, CAPTURE_CHECKS)  # warm-up
            results["public (reference)"].append(timed_capture(engine, p, docs(None), settings, CAPTURE_CHECKS))
            results["partners-only (commitment)"].append(
                timed_capture(engine, p, docs("partners"), settings, CAPTURE_CHECKS)
            )
            engine.dispose()
    ref = statistics.median(results["public (reference)"])
    print(f"capture[{kind}] {n} events per repetition in documents of {batch}, {reps} repetitions:")  # noqa: T201
    for name, values in results.items():
        med = statistics.median(values)
        print(f"  {name:<28} min {min(values):>7,.0f} median {med:>7,.0f} events/s = {med / ref:.2f} x reference")  # noqa: T201


def core_bench(n: int = 2000) -> None:
    t0 = time.perf_counter()
    for _ in range(n):
        salts = disclosure.salts_for(SPRAYING)
        root = disclosure.commit(SPRAYING, salts).root_hex
    commit_us = (time.perf_counter() - t0) / n * 1e6
    revealed = disclosure.reveal(SPRAYING, salts, public_paths("partners"))
    t0 = time.perf_counter()
    for _ in range(n):
        assert not disclosure.check_revealed(root, revealed)
    check_us = (time.perf_counter() - t0) / n * 1e6
    fields = len(disclosure.fields_of(SPRAYING))
    print(f"commitment of a {fields}-field spraying: {commit_us:.0f} us; check of its {len(revealed)} revealed"  # noqa: T201
          f" fields: {check_us:.0f} us (one core)")  # fmt: skip


def main() -> None:
    ap = arguments(__doc__, db="sqlite")
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    core_bench()
    capture_bench(args.db, args.events, args.batch, args.reps)


if __name__ == "__main__":
    main()
