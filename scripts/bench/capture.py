#!/usr/bin/env python
"""Benchmark: EPCIS capture over HTTP (API key auth) against the database's own speed, same run.

    .venv/bin/python scripts/bench/capture.py [--db postgresql|sqlite] [--clients 8] [--batch 50]
                                              [--seconds 8] [--reps 3] [--workers 2] [--only single|batch]
                                              [--profile PREFIX]   (py-spy: pip install py-spy)

Documents are realistic: every client records on its own lots, one event in five commissions a
new lot with lot master data (ilmd: harvest date, variety), the others are observations /
inspections with varied event times, readPoints and dispositions.

* single: each of --clients threads POSTs one event at a time to ``/api/v1/events``.
  Reference: the same kind of rows (the ``event`` table's columns, realistic documents) inserted
  from Python with one transaction per row by --clients connections (``INSERT``; commit).
* batch: each client POSTs EPCIS documents of --batch events to ``/api/v1/capture``.
  References: the same rows written --batch per transaction by --clients connections, once with
  ``COPY`` and once with ``executemany`` of the ``INSERT`` (psycopg 3).

The reference tables are ``LIKE event INCLUDING ALL`` (same columns, indexes and constraints).
Each figure is measured --reps times, interleaved with its references; printed: every repetition,
then min / median of project, reference and the ratio.  Latency percentiles are over all requests
of a repetition (nearest-rank on the sorted samples, not a sample picked by index of a few).
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import psycopg
from common import (
    arguments,
    cooperative,
    cpu_s,
    migrated,
    percentile,
    profiler,
    run_threads,
    scratch_database,
    server,
    server_pids,
)
from sqlmodel import Session

from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events

GTIN = "08930000000019"
LOTS_PER_CLIENT = 5
VARIETIES = ("ST25", "OM5451", "Jasmine 85", "IR50404", "Dai Thom 8")
STEPS = (("inspecting", "active"), ("storing", "in_progress"), ("sampling", "active"), ("sensor_reporting", None))
NOW = datetime.now(UTC).replace(microsecond=0)


def lot_uri(client: int, n: int) -> str:
    return f"https://id.gs1.org/01/{GTIN}/10/C{client}L{n}"


def bootstrap(url: str, clients: int) -> str:
    engine = migrated(url)
    with Session(engine) as s:
        org, issued, p = cooperative(s, "HTX bench", GTIN)
        events = [
            commissioning(c, n, random.Random(c * 100 + n)) for c in range(clients) for n in range(LOTS_PER_CLIENT)
        ]
        capture_events(s, p, events, DEFAULT_CONTEXT, Settings(), checks=CAPTURE_CHECKS)
        s.commit()
    engine.dispose()
    return issued.api_key


def commissioning(client: int, n: int, rng: random.Random, lot: str | None = None) -> dict[str, Any]:
    when = (NOW - timedelta(days=5, seconds=rng.randrange(86400))).isoformat()
    return {
        "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": when,
        "eventTimeZoneOffset": "+07:00", "action": "ADD", "bizStep": "commissioning", "disposition": "active",
        "readPoint": {"id": f"https://id.gs1.org/414/893000000{client:03d}9"},
        "quantityList": [{"epcClass": lot or lot_uri(client, n), "quantity": 1e8, "uom": "KGM"}],
        "ilmd": {"agri:harvestDate": (NOW - timedelta(days=6)).date().isoformat(),
                 "agri:variety": rng.choice(VARIETIES), "agri:moisturePct": round(rng.uniform(12, 16), 1)},
    }  # fmt: skip


def observation(client: int, rng: random.Random) -> dict[str, Any]:
    step, disp = rng.choice(STEPS)
    when = NOW - timedelta(days=3, seconds=-rng.randrange(0, 2 * 86400))
    ev: dict[str, Any] = {
        "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": when.isoformat(),
        "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": step,
        "readPoint": {"id": f"https://id.gs1.org/414/893000000{client:03d}9"},
        "quantityList": [{"epcClass": lot_uri(client, rng.randrange(LOTS_PER_CLIENT)),
                          "quantity": round(rng.uniform(1, 50), 2), "uom": "KGM"}],
    }  # fmt: skip
    if disp:
        ev["disposition"] = disp
    if step == "sensor_reporting":
        ev["sensorElementList"] = [{"sensorMetadata": {"time": when.isoformat()}, "sensorReport": [
            {"type": "gs1:Temperature", "value": round(rng.uniform(20, 34), 1), "uom": "CEL"},
            {"type": "gs1:RelativeHumidity", "value": round(rng.uniform(50, 90), 1), "uom": "A93"}]}]  # fmt: skip
    return ev


class Events:
    """Each client's stream of realistic events (one in five commissions a new lot)."""

    def __init__(self, client: int, seed: int) -> None:
        self.client, self.rng, self.new = client, random.Random(seed), 0

    def next(self) -> dict[str, Any]:
        if self.rng.random() < 0.2:
            self.new += 1
            lot = f"https://id.gs1.org/01/{GTIN}/10/N{self.client}-{uuid.uuid4().hex[:10]}"
            return commissioning(self.client, 0, self.rng, lot)
        return observation(self.client, self.rng)


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": DEFAULT_CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": NOW.isoformat(), "epcisBody": {"eventList": events}}  # fmt: skip


# --- the project: HTTP with API key auth -------------------------------------------------------


def http_run(base: str, key: str, clients: int, batch: int, seconds: float) -> tuple[float, list[float], list[str]]:
    """events/s, request latencies (s), errors: ``clients`` threads posting for ``seconds``."""
    done = [0] * clients
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        gen = Events(i, i + 1000 * time.time_ns())
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            start.wait()
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                if batch < 0:  # the reference: an authenticated GET answered by one small query
                    t0 = time.perf_counter()
                    r = c.get("/api/v1/organisations/me")
                    lat[i].append(time.perf_counter() - t0)
                    done[i] += 1 if r.status_code == 200 else 0
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                if batch == 0:
                    path, body, n, ok = "/api/v1/events", gen.next(), 1, (201,)
                else:
                    path, body, n, ok = "/api/v1/capture", document([gen.next() for _ in range(batch)]), batch, (201,)
                t0 = time.perf_counter()
                r = c.post(path, json=body)
                lat[i].append(time.perf_counter() - t0)
                if r.status_code not in ok:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                done[i] += n

    elapsed = run_threads([partial(worker, i) for i in range(clients)], start)
    return sum(done) / elapsed, [x for xs in lat for x in xs], errors


# --- the references: the same rows straight into the database ----------------------------------

COLUMNS = ("org_id", "member_id", "client_event_id", "hash_id", "event_type", "biz_step", "action", "disposition",
           "event_time", "place_id", "record_time", "document", "hash_rule")  # fmt: skip


def row_of(ev: dict[str, Any], org_id: int) -> tuple[Any, ...]:
    doc = json.dumps(ev, separators=(",", ":"))
    return (org_id, org_id, ev["eventID"], "ni:///sha-256;" + hashlib.sha256(doc.encode()).hexdigest() + "?ver=CBV2.0",
            ev["type"], ev["bizStep"], ev["action"], ev.get("disposition"), datetime.fromisoformat(ev["eventTime"]),
            None, datetime.now(UTC), doc, 2)  # fmt: skip


def ref_run(dsn: str, clients: int, batch: int, seconds: float, how: str) -> float:
    """rows/s of ``how`` (row: one transaction per row; copy / executemany: ``batch`` rows each)."""
    done = [0] * clients
    start = threading.Barrier(clients + 1)
    cols = ", ".join(COLUMNS)
    ins = f"INSERT INTO ref_event ({cols}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"

    def worker(i: int) -> None:
        gen = Events(i, i + 7919 * time.time_ns())
        with psycopg.connect(dsn) as conn:
            org_id = conn.execute("SELECT min(id) FROM organisation").fetchone()[0]  # type: ignore[index]
            start.wait()
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                rows = [row_of(gen.next(), org_id) for _ in range(max(batch, 1))]
                with conn.transaction(), conn.cursor() as cur:
                    if how == "copy":
                        with cur.copy(f"COPY ref_event ({cols}) FROM STDIN") as cp:
                            for r in rows:
                                cp.write_row(r)
                    else:
                        cur.executemany(ins, rows)
                done[i] += len(rows)

    elapsed = run_threads([partial(worker, i) for i in range(clients)], start)  # before sum(done): they count
    return sum(done) / elapsed


def summary(name: str, project: list[float], refs: dict[str, list[float]]) -> None:
    def mm(xs: list[float]) -> str:
        return f"min {min(xs):8,.0f}  median {statistics.median(xs):8,.0f}"

    print(f"  {name:<34} {mm(project)} events/s")  # noqa: T201
    for ref, xs in refs.items():
        ratios = [p / r for p, r in zip(project, xs, strict=True)]
        ratio = f"ratio min {min(ratios):.0%} median {statistics.median(ratios):.0%}"
        print(f"  {'reference ' + ref:<34} {mm(xs)} per s    {ratio}")  # noqa: T201


def run(
    kind: str, clients: int, batch: int, seconds: float, reps: int, workers: int, only: str | None, profile: str | None
) -> None:
    with scratch_database(kind) as (tmp, url):
        key = bootstrap(url, clients)
        env = {"DATABASE_URL": url, "AGRITRACE_CHAIN_ENABLED": "false", "AGRITRACE_DATA_DIR": tmp,
               "AGRITRACE_RATE_LIMIT_ENABLED": "false"}  # fmt: skip  # a benchmark is one client at full speed
        dsn = url if kind == "postgresql" else None
        if dsn:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE TABLE ref_event (LIKE event INCLUDING ALL)")
        print(f"capture[{kind}] clients={clients} workers={workers} {seconds:.0f} s per repetition")  # noqa: T201
        results: dict[str, tuple[list[float], dict[str, list[float]]]] = {}
        cpu: dict[str, list[float]] = {}
        with server(env, workers) as base:
            pids = server_pids(base)

            def served(size: int) -> tuple[float, list[float], list[str], float]:
                """http_run, plus the server's CPU milliseconds per event (or per request)."""
                c0 = cpu_s(pids)
                rate, lat, errors = http_run(base, key, clients, size, seconds)
                return rate, lat, errors, (cpu_s(pids) - c0) * 1000 / max(1.0, rate * seconds)

            http_run(base, key, clients, 0, 3.0)  # warm-up: connections, compiled schema validators, caches
            http_run(base, key, clients, -1, 1.0)
            if only in (None, "batch"):
                http_run(base, key, clients, batch, 3.0)  # the document validator is compiled on first use too
            plans: list[tuple[str, int, dict[str, Callable[[], float]]]] = []
            if only in (None, "single"):
                me = "GET /organisations/me, same server"
                refs: dict[str, Callable[[], float]] = {}
                if dsn:
                    refs["INSERT, 1 tx/row"] = lambda: ref_run(dsn, clients, 0, seconds, "row")

                def get_me() -> float:
                    rate, _, _, ms = served(-1)
                    cpu.setdefault(me, []).append(ms)
                    return rate

                refs[me] = get_me
                plans.append(("single event POST /api/v1/events", 0, refs))
            if only in (None, "batch"):
                brefs = {
                    f"COPY, {batch} rows/tx": lambda: ref_run(dsn, clients, batch, seconds, "copy"),
                    f"executemany, {batch} rows/tx": lambda: ref_run(dsn, clients, batch, seconds, "many"),
                } if dsn else {}  # fmt: skip
                plans.append((f"batch of {batch} POST /api/v1/capture", batch, brefs))
            for name, size, refs in plans:
                proj: list[float] = []
                got: dict[str, list[float]] = {r: [] for r in refs}
                for rep in range(reps):
                    spy = profiler(base, seconds, f"{profile}.{'single' if size == 0 else 'batch'}.txt") if (
                        profile and rep == 0) else None  # fmt: skip
                    rate, lat, errors, ms = served(size)
                    if spy is not None:
                        spy.wait()
                    proj.append(rate)
                    cpu.setdefault(name, []).append(ms)
                    line = (f"  rep {rep + 1} {name}: {rate:,.0f} events/s over {len(lat)} requests, "
                            f"p50 {percentile(lat, 0.5) * 1000:.1f} ms p95 {percentile(lat, 0.95) * 1000:.1f} ms "
                            f"p99 {percentile(lat, 0.99) * 1000:.1f} ms; server CPU {ms:.2f} ms/event; "
                            f"errors {len(errors)}")  # fmt: skip
                    print(line + (f" (first: {errors[0]})" if errors else ""), flush=True)  # noqa: T201
                    for ref, fn in refs.items():
                        got[ref].append(fn())
                        print(f"  rep {rep + 1} reference {ref}: {got[ref][-1]:,.0f} per s", flush=True)  # noqa: T201
                results[name] = (proj, got)
        for name, (proj, got) in results.items():
            summary(name, proj, got)
        for name, ms in cpu.items():
            per = f"min {min(ms):6.2f}  median {statistics.median(ms):6.2f} ms per event (GET: per request)"
            print(f"  server CPU {name:<40} {per}")  # noqa: T201


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=["single", "batch"])
    ap.add_argument("--profile", metavar="PREFIX", help="py-spy the server in repetition 1: PREFIX.single.txt ...")
    a = ap.parse_args()
    run(a.db, a.clients, a.batch, a.seconds, a.reps, a.workers, a.only, a.profile)


if __name__ == "__main__":
    main()
