#!/usr/bin/env python
"""Benchmark: a province's day compressed in time, across three service instances.

    .venv/bin/python scripts/bench/province.py [--scale 0.02] [--day-seconds 60] [--reps 3]

Three ``agritrace serve`` processes share one PostgreSQL database, one anvil node with 2 s blocks
(standing in for a permissioned network) and one Mosquitto broker.  ``--scale 1`` is the
province: 500 cooperatives (each day: 4 diary entries, 2 harvests, 8 inspections), 10,000
sensors reporting every minute (one signed batch of 60 readings per hour, half over MQTT and half
over HTTP), 50,000 consumer scans and 200 authority traces and exports; the default is 1 % of
that.  Each repetition replays one day in ``--day-seconds``, requests spread evenly over it and
sent round-robin to the instances.  Prints each goal and whether it held (capture p95 < 100 ms,
event -> anchored p95 < 5 s, consumer p95 < 100 ms, no error answers), memory per instance, and
the reference measured in the same run: ``/healthz`` p95 (the stack's floor) and the ratios.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import arguments, migrated
from cryptography.fernet import Fernet
from eth_account import Account
from sqlalchemy import func
from sqlmodel import Session, select

from chain.client import connect
from chain.node import AnvilNode
from tests.cluster import MqttDevice, base_env, fresh_pg_database, gtin_of, start_instance, wait_for, wait_until_up
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus
from traceability_api.events.models import Event
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import create_organisation

# (when in the day, kind, request, what it waits for first: an inspection waits for its lot's harvest)
Task = tuple[float, str, Callable[[httpx.Client, str], httpx.Response | None], threading.Event | None]


class Province:
    def __init__(self, urls: list[str], engine: Any, prefix: str, scale: float) -> None:
        self.urls, self.engine, self.prefix = urls, engine, prefix
        self.n_coops = max(3, round(500 * scale))
        self.n_sensors = max(6, round(10_000 * scale))
        self.n_scans = max(50, round(50_000 * scale))
        self.n_authority = max(6, round(200 * scale))
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.lots: list[tuple[str, str, int]] = []  # (gtin, lot code, lot id)
        self.coops: list[dict[str, Any]] = []
        self.devices: list[tuple[int, str, list[int]]] = []  # (id, secret, [seq])
        self.authority_key = ""

    # ---- setup (not timed) --------------------------------------------------------------------
    def setup(self) -> None:
        with Session(self.engine) as s:
            _, auth = create_organisation(s, OrganisationCreate(name="Sở NN&PTNT", kind="authority", admin_name="a"))  # type: ignore[arg-type]
            self.authority_key = auth.api_key
            coops = [OrganisationCreate(name=f"HTX {i}", kind="cooperative", admin_name="a")  # type: ignore[arg-type]
                     for i in range(self.n_coops)]  # fmt: skip
            keys = [create_organisation(s, c)[1].api_key for c in coops]
            s.commit()
        per_coop = -(-self.n_sensors // self.n_coops)
        for i, key in enumerate(keys):
            with httpx.Client(base_url=self.urls[i % 3], headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                g = gtin_of(1000 + i)
                ok(c.post("/api/v1/products", json={"gtin": g, "name": f"Lúa ST25 HTX {i}", "unit": "KGM"}))
                place = {"kind": "plot", "name": f"Ruộng {i}", "planting_area_code": f"CT-{i:04d}",
                         "geo": {"type": "Point", "coordinates": [105.5, 10.1]}}  # fmt: skip
                plot = ok(c.post("/api/v1/places", json=place)).json()
                self.coops.append({"key": key, "gtin": g, "plot": plot["id"]})
                for k in range(min(per_coop, self.n_sensors - len(self.devices))):
                    d = ok(c.post("/api/v1/devices", json={"name": f"s{k}", "kind": "temperature"})).json()
                    self.devices.append((d["device"]["id"], d["secret"], [0]))
                lot = ok(c.post("/api/v1/lots", json=harvest(g, plot["id"], f"S{i}"))).json()
                self.lots.append((g, f"S{i}", lot["id"]))

    # ---- one day ------------------------------------------------------------------------------
    def day(self, rep: int, seconds: float) -> dict[str, Any]:
        for v in self.lat.values():
            v.clear()
        self.errors.clear()
        tasks: list[Task] = []
        rnd = random.Random(rep)
        at = lambda: rnd.uniform(0, seconds)  # noqa: E731
        for ci, coop in enumerate(self.coops):
            for k in range(4):
                body = {"activity": "irrigating", "time": f"2025-0{1 + rep % 9}-{10 + k:02d}T07:00:00+07:00",
                        "water_mm": 10 + ci % 7}  # fmt: skip
                tasks.append((at(), "capture", self._post(coop["key"], f"/api/v1/places/{coop['plot']}/diary", body),
                              None))  # fmt: skip
            for h in range(2):
                code = f"R{rep}-{ci}-{h}"
                t, harvested = at(), threading.Event()
                tasks.append((t, "capture", self._harvest(coop, code, harvested), None))
                for k in range(4):
                    tasks.append((t + seconds * 0.02 * (k + 1), "capture", self._inspect(coop, code, k), harvested))
        base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=rep + 1)
        mqtt_devices = self.mqtt_devices()
        for hour in range(24):
            for i, dev in enumerate(self.devices):
                ts = [(base + timedelta(hours=hour, minutes=m)).isoformat() for m in range(60)]
                when = hour * seconds / 24 + at() / 24
                if i % 2 == 0:
                    tasks.append((when, "sensor_mqtt", self._mqtt(mqtt_devices[dev[0]], ts), None))
                else:
                    tasks.append((when, "sensor_http", self._http_batch(dev, ts), None))
        for _ in range(self.n_scans):
            tasks.append((at(), "consumer", self._scan(rnd), None))
        for k in range(self.n_authority):
            tasks.append((at(), "authority", self._authority(rnd, k), None))
        for k in range(int(seconds * 2)):
            tasks.append((k / 2, "reference", lambda c, url: c.get(url + "/healthz"), None))
        started = self._run(sorted(tasks, key=lambda t: t[0]))
        mqtt_answers = [d.answers.get(timeout=120) for d in mqtt_devices.values() for _ in range(24)]
        elapsed = (datetime.now(UTC) - started).total_seconds()
        self.errors += [f"mqtt {a['error']}" for a in mqtt_answers if "error" in a]
        wait_for("everything anchored", lambda: waiting(self.engine) == 0, 180, 0.5)
        return {
            "anchor": anchor_latencies(self.engine, started),
            "lat": {k: list(v) for k, v in self.lat.items()},
            "errors": list(self.errors),
            "requests": sum(len(v) for v in self.lat.values()) + len(mqtt_answers),
            "elapsed": elapsed,
        }

    def mqtt_devices(self) -> dict[int, MqttDevice]:
        """Every other device publishes over MQTT; one connection each, kept across days (its seq goes on)."""
        if not hasattr(self, "_mqtt_clients"):
            self._mqtt_clients = {d[0]: MqttDevice(self.prefix, d[0], d[1]) for d in self.devices[::2]}
        return self._mqtt_clients

    def close(self) -> None:
        for d in getattr(self, "_mqtt_clients", {}).values():
            d.close()

    def _run(self, tasks: list[Task]) -> datetime:
        start, started = time.monotonic(), datetime.now(UTC)
        clients = threading.local()
        counter = iter(range(10**9))

        def one(task: Task) -> None:
            delay = task[0] - (time.monotonic() - start)
            if delay > 0:
                time.sleep(delay)  # the day's schedule, not a wait for a result
            if task[3] is not None:
                task[3].wait(120)
            # idle connections expire before uvicorn's 5 s keep-alive closes them under a request
            c = getattr(clients, "c", None) or httpx.Client(timeout=60, limits=httpx.Limits(keepalive_expiry=2.0))
            clients.c = c
            url = self.urls[next(counter) % len(self.urls)]
            t0 = time.perf_counter()
            try:
                r = task[2](c, url)
            except httpx.HTTPError as exc:
                with self.lock:
                    self.errors.append(f"{task[1]}: {exc.__class__.__name__}")
                return
            with self.lock:
                if r is not None and r.status_code >= 400:
                    self.errors.append(f"{task[1]} {r.request.url.path[:60]} {r.status_code} {r.text[:120]}")
                elif task[1] != "sensor_mqtt":
                    self.lat[task[1]].append(time.perf_counter() - t0)

        with ThreadPoolExecutor(max_workers=24) as pool:
            list(pool.map(one, tasks))
        return started

    # ---- requests -----------------------------------------------------------------------------
    def _post(self, key: str, path: str, body: Any) -> Callable[[httpx.Client, str], httpx.Response]:
        return lambda c, url: c.post(url + path, json=body, headers={"Authorization": f"Bearer {key}"})

    def _harvest(self, coop: dict[str, Any], code: str, done: threading.Event) -> Callable[[httpx.Client, str], Any]:
        def run(c: httpx.Client, url: str) -> httpx.Response:
            try:
                r = c.post(url + "/api/v1/lots", json=harvest(coop["gtin"], coop["plot"], code),
                           headers={"Authorization": f"Bearer {coop['key']}"})  # fmt: skip
                if r.status_code == 201:
                    with self.lock:
                        self.lots.append((coop["gtin"], code, r.json()["id"]))
                return r
            finally:
                done.set()

        return run

    def _inspect(self, coop: dict[str, Any], code: str, k: int) -> Callable[[httpx.Client, str], httpx.Response]:
        what = {"epcClass": f"https://id.gs1.org/01/{coop['gtin']}/10/{code}", "quantity": 1, "uom": "KGM"}
        ev = {"type": "ObjectEvent", "eventTime": f"2025-03-01T{8 + k:02d}:00:00+07:00",
              "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "inspecting",
              "quantityList": [what]}  # fmt: skip
        return self._post(coop["key"], "/api/v1/events", ev)

    def _http_batch(self, dev: tuple[int, str, list[int]], ts: list[str]) -> Callable[[httpx.Client, str], Any]:
        from traceability_api.evidence.sensors import sign

        def run(c: httpx.Client, url: str) -> httpx.Response:
            dev[2][0] += 1
            body = json.dumps({"seq": dev[2][0], "readings": [{"ts": t, "value": 28.5} for t in ts]}).encode()
            sig = sign(dev[1].encode(), body)
            path = f"{url}/api/v1/devices/{dev[0]}/readings"
            return c.post(path, content=body, headers={"X-Device-Signature": sig})

        return run

    def _mqtt(self, device: MqttDevice, ts: list[str]) -> Callable[[httpx.Client, str], None]:
        return lambda _c, _url: device.send([{"ts": t, "value": 28.5} for t in ts])

    def _scan(self, rnd: random.Random) -> Callable[[httpx.Client, str], httpx.Response]:
        def run(c: httpx.Client, url: str) -> httpx.Response:
            g, code, _ = rnd.choice(self.lots)
            return c.get(f"{url}/01/{g}/10/{code}")

        return run

    def _authority(self, rnd: random.Random, k: int) -> Callable[[httpx.Client, str], httpx.Response]:
        h = {"Authorization": f"Bearer {self.authority_key}"}

        def run(c: httpx.Client, url: str) -> httpx.Response:
            g, code, lot_id = rnd.choice(self.lots)
            if k % 2:
                return c.get(f"{url}/api/v1/trace/lots/{lot_id}", headers=h)
            lot = f"https://id.gs1.org/01/{g}/10/{code}"
            return c.get(f"{url}/api/v1/exports/epcis", params={"lot": lot}, headers=h)

        return run


def harvest(g: str, plot: int, code: str) -> dict[str, Any]:
    return {"gtin": g, "lot_code": code, "quantity": 1000.0, "plot_id": plot, "harvest_date": "2025-02-28",
            "event_time": "2025-02-28T17:00:00+07:00"}  # fmt: skip


def ok(r: httpx.Response) -> httpx.Response:
    if r.status_code >= 400:
        raise SystemExit(f"setup failed: {r.request.method} {r.request.url.path} {r.status_code} {r.text[:300]}")
    return r


def waiting(engine: Any) -> int:
    with Session(engine) as s:
        on = AnchorItem.batch_id == AnchorBatch.id
        joined = select(func.count()).select_from(AnchorItem).outerjoin(AnchorBatch, on)  # type: ignore[arg-type]
        q = joined.where((AnchorItem.batch_id.is_(None)) | (AnchorBatch.status != BatchStatus.anchored))  # type: ignore[union-attr]
        return int(s.exec(q).one())


def anchor_latencies(engine: Any, since: datetime) -> list[float]:
    """Seconds from an event's capture (its outbox row) to its batch recorded anchored, after the
    configured confirmations: what a verifier waits."""
    with Session(engine) as s:
        rows = s.exec(select(AnchorItem.created_at, AnchorBatch.anchored_at)
                      .join(AnchorBatch, AnchorItem.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
                      .join(Event, Event.id == AnchorItem.ref_id)  # type: ignore[arg-type]
                      .where(AnchorItem.kind == "event", AnchorItem.created_at >= since)).all()  # fmt: skip
    return [(done - made).total_seconds() for made, done in rows if done is not None]


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(0.95 * len(s)))] if s else float("nan")


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--scale", type=float, default=0.01, help="1 = the whole province")
    ap.add_argument("--day-seconds", type=float, default=60)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument(
        "--anchor-max-delay",
        type=float,
        default=0.3,
        help="AGRITRACE_ANCHOR_MAX_DELAY_S of the instances (the service's default)",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="province-"))
    with fresh_pg_database() as db, AnvilNode(extra_args=("--block-time", "2")) as node:
        key = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [key.address, hex(10**24)])  # type: ignore[arg-type]
        prefix = f"province-{uuid.uuid4().hex[:8]}/agritrace"
        env = base_env(DATABASE_URL=db, CHAIN_RPC_URL=node.url, AGRITRACE_ANCHOR_PRIVATE_KEY=key.key.hex(),
                       AGRITRACE_ANCHOR_MAX_DELAY_S=str(args.anchor_max_delay), AGRITRACE_MQTT_URL="mqtt://127.0.0.1:1883",
                       AGRITRACE_MQTT_TOPIC_PREFIX=prefix, AGRITRACE_MQTT_GROUP="g" + prefix.split("/")[0],
                       AGRITRACE_MASTER_KEY=Fernet.generate_key().decode(), AGRITRACE_LABEL_SECRET=uuid.uuid4().hex,
                       AGRITRACE_LOG_JSON="false")  # fmt: skip
        engine = migrated(db)
        insts = [start_instance("a", env | {"AGRITRACE_DATA_DIR": str(tmp / "a")}, tmp / "a")]
        insts += [start_instance(n, env | {"AGRITRACE_DATA_DIR": str(tmp / n)}, tmp / n, wait=False) for n in "bc"]
        try:
            for inst in insts[1:]:
                wait_until_up(inst)
            prov = Province([i.url for i in insts], engine, prefix, args.scale)
            prov.setup()
            say(f"scale {args.scale}: {prov.n_coops} cooperatives, {prov.n_sensors} sensors "
                  f"({prov.n_sensors * 24 * 60:,} readings), {prov.n_scans} scans, {prov.n_authority} authority "
                f"requests; a day in {args.day_seconds:.0f} s; 3 instances, anvil 2 s blocks, anchoring at most "
                f"{args.anchor_max_delay} s after capture, PostgreSQL")  # fmt: skip
            runs = []
            for rep in range(args.reps):
                runs.append(prov.day(rep, args.day_seconds))
                runs[-1]["rss"] = [i.rss_mib() for i in insts]
                run = runs[-1]
                say(
                    f"  day {rep + 1}: {run['requests']} requests and MQTT batches in {run['elapsed']:.0f} s "
                    f"(scheduled over {args.day_seconds:.0f} s), {len(run['errors'])} errors"
                )
                for e in run["errors"][:5]:
                    say("    error:", e)
            prov.close()
            report(runs)
        finally:
            for inst in insts:
                inst.stop()
            engine.dispose()


def report(runs: list[dict[str, Any]]) -> None:
    def fig(name: str, f: Callable[[dict[str, Any]], float]) -> tuple[float, float]:
        vals = [f(r) for r in runs]
        return min(vals), statistics.median(vals)

    ref = fig("reference", lambda r: p95(r["lat"]["reference"]) * 1000)
    rows = [("capture p95 (ms)", fig("c", lambda r: p95(r["lat"]["capture"]) * 1000), 100),
            ("sensor HTTP batch p95 (ms)", fig("s", lambda r: p95(r["lat"]["sensor_http"]) * 1000), None),
            ("consumer page p95 (ms)", fig("p", lambda r: p95(r["lat"]["consumer"]) * 1000), 100),
            ("authority trace/export p95 (ms)", fig("a", lambda r: p95(r["lat"]["authority"]) * 1000), None),
            ("event -> anchored p95 (s)", fig("e", lambda r: p95(r["anchor"])), 5),
            ("error answers", fig("x", lambda r: len(r["errors"])), 0),
            ("max RSS per instance (MiB)", fig("m", lambda r: max(r["rss"])), None)]  # fmt: skip
    say(f"\n{'figure':34} {'min':>9} {'median':>9}  goal      held   ratio to /healthz p95 (median)")
    for name, (lo, med), goal in rows:
        held = "" if goal is None else ("yes" if (med < goal if goal else med == 0) else "NO")
        goal_s = "" if goal is None else (f"< {goal}" if goal else "0")
        ratio = f"{med / ref[1]:.1f}x" if "(ms)" in name and ref[1] else ""
        say(f"{name:34} {lo:9.1f} {med:9.1f}  {goal_s:8}  {held:5}  {ratio}")
    say(f"{'reference: /healthz p95 (ms)':34} {ref[0]:9.1f} {ref[1]:9.1f}")


if __name__ == "__main__":
    main()
