"""FSMA 204 rows kept on write (``fsma.cache``, migration 0024): the CSV sent from the kept rows is
byte for byte the CSV built from the events; every kind of write that changes a row marks it stale
(triggers) and a refresh rebuilds it; a write during a refresh keeps its mark; an organisation gets
the kept rows only when they are its rows.  On SQLite and PostgreSQL (COPY)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, or_, select, text, update
from sqlmodel import Session

from tests.test_fsma_fastpath import GTINS, STEPS, _generate, engine  # noqa: F401  (fixture)
from traceability_api.events.models import Event, EventLot
from traceability_api.fsma import cache, records, sheet
from traceability_api.fsma.records import Selection
from traceability_api.lots.models import Lot
from traceability_api.places.models import Place

_E: Any = Event
_PL: Any = Place
MAX = records.MAX_ROWS


def _kept(eng: Engine, sel: Selection) -> bytes:
    return b"".join(cache.csv_pieces(eng, sel, MAX))


def _built(eng: Engine, sel: Selection) -> bytes:
    with Session(eng) as s:
        return b"".join(sheet.csv_chunks(records.row_chunks(s, sel, records.count_rows(s, sel))))


def _same(eng: Engine, sel: Selection) -> int:
    kept, built = _kept(eng, sel), _built(eng, sel)
    assert kept.splitlines() == built.splitlines()
    assert kept == built
    return kept.count(b"\r\n") - 1


def _add_event(eng: Engine, lot_id: int, step: str, t: datetime, org: int, **doc: Any) -> int:
    with eng.begin() as c:
        eid = int(c.execute(select(func.max(_E.id))).scalar_one()) + 1
        c.execute(insert(Event.__table__), [{  # type: ignore[attr-defined]
            "id": eid, "org_id": org, "member_id": 1, "client_event_id": f"x{eid}", "hash_id": f"ni:///x{eid}",
            "event_type": "ObjectEvent", "biz_step": step, "event_time": t, "record_time": t, "place_id": 9,
            "document": {"type": "ObjectEvent", **doc}}])  # fmt: skip
        c.execute(insert(EventLot.__table__), [{"event_id": eid, "lot_id": lot_id, "role": "epc"}])  # type: ignore[attr-defined]
    return eid


def _marked(eng: Engine) -> set[int]:
    with eng.connect() as c:
        return set(c.execute(select(cache.fsma_stale_lot.c.lot_id)).scalars())


def test_kept_csv_is_the_csv_built_from_the_events(engine: Engine) -> None:  # noqa: F811
    _generate(engine, 240)
    with engine.begin() as c:  # what the database's COPY escapes must come back as it was
        c.execute(update(Place).where(_PL.id == 2).values(name='Vườn "số 2", a\\b\tc\nd\re\\nf ='))
    assert len(_marked(engine)) > 240  # the triggers marked every lot the generated events name
    assert cache.refresh(engine) > 240
    assert cache.stale(engine) == 0 and cache.refresh(engine) == 0
    assert _same(engine, Selection()) > 700
    for g in GTINS:
        assert _same(engine, Selection(gtin=g)) > 300
    since, until = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    assert _same(engine, Selection(gtin=GTINS[0], since=since, until=until)) > 10
    assert _same(engine, Selection(tlc_from="MX-00010", tlc_to="MX-00090", org_id=1)) > 10
    assert _same(engine, Selection(ftl_only=True)) == 0
    assert b'Vuon ""so 2"", a\\b\tc\nd\re\\nf =' in _kept(engine, Selection())


def test_writes_mark_their_lots_stale_and_a_refresh_rebuilds_them(engine: Engine) -> None:  # noqa: F811
    _generate(engine, 80)
    cache.refresh(engine)
    everything = Selection()
    base = _kept(engine, everything)
    t = datetime(2025, 1, 2, tzinfo=UTC)

    # a new event of a lot (a shipment): that lot only
    _add_event(engine, 5, STEPS[2], t, 1, bizTransactionList=[{"type": "inv", "bizTransaction": "urn:agritrace:doc:N"}])
    assert _marked(engine) == {5}
    assert cache.refresh(engine) >= 1  # and the lots made from it
    assert _kept(engine, everything) != base and _same(engine, everything)

    # a cooling of a lot packed into another: the packed lot's row reads it (a descendant)
    with engine.connect() as c:
        out_lot, in_lot = c.execute(text(
            "SELECT o.lot_id, i.lot_id FROM event_lot o "
            "JOIN event e ON e.id = o.event_id AND e.biz_step LIKE '%packing' "
            "JOIN event_lot i ON i.event_id = o.event_id AND i.role = 'input' WHERE o.role = 'output' "
            "AND NOT EXISTS (SELECT 1 FROM event_lot x JOIN event y ON y.id = x.event_id "
            "WHERE x.lot_id = i.lot_id AND y.biz_step LIKE '%cooling') ORDER BY o.lot_id LIMIT 1"
        )).one()  # fmt: skip
    before = _built(engine, everything)
    _add_event(engine, in_lot, STEPS[1], t, 2)
    assert _marked(engine) == {in_lot} and _built(engine, everything) != before
    assert cache.refresh(engine) >= 2  # the cooled lot and the lot packed from it
    assert _same(engine, everything)

    # an event's visibility, a lot's code
    with engine.begin() as c:
        c.execute(update(Event).where(_E.id == 3).values(visibility="private"))
        c.execute(text("UPDATE lot SET lot_code = 'MX-RENAMED' WHERE id = 7"))
    lots_of_3 = set(engine.connect().execute(text("SELECT lot_id FROM event_lot WHERE event_id = 3")).scalars())
    assert _marked(engine) == lots_of_3 | {7}
    cache.refresh(engine)
    assert b"MX-RENAMED" in _kept(engine, everything) and _same(engine, everything)

    # a place renamed: every row is at an older generation; an export of one product rebuilds its lots
    with engine.begin() as c:
        c.execute(update(Place).where(_PL.id == 9).values(name="Kho lạnh mới"))
    assert _marked(engine) == set()
    cache.refresh(engine, GTINS[0])
    assert _same(engine, Selection(gtin=GTINS[0])) > 50
    assert b"Kho lanh moi" not in _kept(engine, Selection(gtin=GTINS[1]))  # not rebuilt yet
    cache.refresh(engine)  # the background refresh
    assert b"Kho lanh moi" in _kept(engine, Selection(gtin=GTINS[1])) and _same(engine, everything)


def _generation(eng: Engine) -> int:
    with eng.connect() as c:
        return int(c.execute(select(cache.fsma_state.c.generation)).scalar_one())


def test_a_product_renamed_marks_its_own_lots_not_every_row(engine: Engine) -> None:  # noqa: F811
    """Migration 0026: a product's change raised the generation (0024), so the refresh rebuilt every
    lot of every product; now it marks the product's lots, and the lots made from them are rebuilt
    with them (a packing row names its inputs' product)."""
    _generate(engine, 80)
    cache.refresh(engine)
    everything = Selection()
    generation = _generation(engine)
    with engine.begin() as c:
        product_id = c.execute(text("SELECT id FROM product WHERE gtin = :g"), {"g": GTINS[0]}).scalar_one()
        own = set(c.execute(text("SELECT id FROM lot WHERE product_id = :p"), {"p": product_id}).scalars())
        made_from = set(c.execute(text(
            "SELECT k.child_lot_id FROM lot_link k JOIN lot l ON l.id = k.child_lot_id "
            "WHERE k.parent_lot_id IN (SELECT id FROM lot WHERE product_id = :p) AND l.product_id <> :p"
        ), {"p": product_id}).scalars())  # fmt: skip
        c.execute(text("UPDATE product SET name = 'Gạo đổi tên', name_en = NULL WHERE id = :p"), {"p": product_id})
    assert own and _marked(engine) == own and _generation(engine) == generation
    assert cache.refresh(engine) >= len(own | made_from)
    kept = _kept(engine, everything)
    assert b"Gao doi ten" in kept and _same(engine, everything)
    with engine.begin() as c:  # a column the rows do not read marks nothing
        c.execute(text("UPDATE product SET unit = unit WHERE id = :p"), {"p": product_id})
    assert _marked(engine) == set()


def test_a_write_during_a_refresh_keeps_its_mark(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The refresh read lot 3's mark, then a write marked lot 3 again before the refresh committed:
    the refresh must not delete the newer mark (its rows may lack that write)."""
    _generate(engine, 20)
    cache.refresh(engine)
    _add_event(engine, 3, STEPS[2], datetime(2025, 3, 1, tzinfo=UTC), 1)
    rebuild = cache._rebuild

    def rebuild_then_mark_again(session: Session, lots: list[int], generation: int) -> None:
        rebuild(session, lots, generation)
        session.connection().execute(text("UPDATE fsma_stale_lot SET seq = seq + 1 WHERE lot_id = 3"))

    monkeypatch.setattr(cache, "_rebuild", rebuild_then_mark_again)
    assert cache._refresh_chunk(engine, None) == 1
    assert _marked(engine) == {3}
    monkeypatch.undo()
    assert cache.refresh(engine) == 1 and _marked(engine) == set()


def test_an_organisation_gets_the_kept_rows_only_when_they_are_its_rows(engine: Engine) -> None:  # noqa: F811
    """The distributor (organisation 2) keeps its coolings private: the farm's rows of the cooled
    lots draw on them, so the farm's export is built for it from the events; the distributor's own
    rows draw only on its own private events and public ones, so the kept rows are its rows; an
    authority's read is logged against the distributor."""
    _generate(engine, 60)
    with engine.begin() as c:
        c.execute(update(Event).where(_E.org_id == 2).values(visibility="private"))
    cache.refresh(engine)
    farm = Selection(gtin=GTINS[0], org_id=1, visible=or_(_E.visibility == "public", _E.org_id == 1))
    distributor = Selection(gtin=GTINS[0], org_id=2, visible=or_(_E.visibility == "public", _E.org_id == 2))
    with Session(engine) as s:
        assert not cache.usable(s, farm, 1, reads_everything=False)
        assert cache.usable(s, distributor, 2, reads_everything=False)
        assert cache.usable(s, farm, 99, reads_everything=True)
        every = Selection(gtin=GTINS[0])
        assert cache.private_owners(s, every, 99) == records.private_owners(s, every, 99) == {2}
        assert cache.private_owners(s, distributor, 2) == set()
    assert _kept(engine, farm) != _built(engine, farm)  # why the farm must not get them
    assert _same(engine, distributor) > 5


def test_the_refresh_loop_rebuilds_what_writes_marked(engine: Engine) -> None:  # noqa: F811
    from traceability_api.fsma.refresher import FsmaRefresher

    _generate(engine, 12)
    loop = FsmaRefresher(engine, period_s=60, first_delay_s=0)
    assert loop.run_once() >= 12 and cache.stale(engine) == 0
    _add_event(engine, 2, STEPS[3], datetime(2025, 5, 1, tzinfo=UTC) + timedelta(hours=1), 3)
    assert cache.stale(engine) == 1 and loop.run_once() >= 1 and loop.rebuilt >= 13
    assert _same(engine, Selection())


def test_an_export_facing_a_large_rebuild_builds_its_rows_from_the_events(
    engine: Engine,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a place is renamed every row is stale: rebuilding a year of a product first would take
    longer than building the export from the events, so the export does that and leaves the rebuild
    to the background loop; with a small backlog it refreshes and answers from the kept rows."""
    from traceability_api.parties.models import OrgKind, Role
    from traceability_api.parties.service import Principal

    authority = Principal(0, "inspector", Role.auditor, 99, OrgKind.authority)
    _generate(engine, 30)
    monkeypatch.setattr(cache, "FALLBACK_LOTS", 10)
    assert cache.backlog(engine) > 10
    with Session(engine) as s:
        assert cache.kept_csv(s, engine, authority, Selection(gtin=GTINS[0]), MAX) is None
    assert cache.backlog(engine) > 10  # nothing rebuilt in the request
    cache.refresh(engine)
    _add_event(engine, 4, STEPS[2], datetime(2025, 4, 1, tzinfo=UTC), 1)
    with Session(engine) as s:
        pieces = cache.kept_csv(s, engine, authority, Selection(gtin=GTINS[0]), MAX)
    assert pieces is not None and b"".join(pieces) == _built(engine, Selection(gtin=GTINS[0]))
    assert cache.backlog(engine) == 0


def test_refreshes_and_writes_at_the_same_time_take_turns(engine: Engine) -> None:  # noqa: F811
    """Two refreshes (the loop and an export, or two worker processes) and a writer at once: none
    fails (SQLite: the refresh takes the write lock before it reads; PostgreSQL: an advisory lock),
    and once they are done the kept rows are the rows built from the events."""
    import threading

    _generate(engine, 60)
    errors: list[BaseException] = []

    def run(fn: Any) -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def writes() -> None:
        for k in range(5):
            _add_event(engine, 2 + k, STEPS[2], datetime(2025, 6, 1, tzinfo=UTC) + timedelta(hours=k), 1)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in (lambda: cache.refresh(engine),
                                                                    lambda: cache.refresh(engine), writes)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cache.refresh(engine)
    assert cache.backlog(engine) == 0 and _same(engine, Selection()) > 100


def test_a_lot_whose_events_are_no_tracing_events_is_refreshed_to_no_rows(engine: Engine) -> None:  # noqa: F811
    """Found by the capture benchmark: a stale lot with only events that are no critical tracking
    event (an inspection, say) gave the rebuild an empty chunk of rows, and the loop failed on it
    every round, so no mark was ever cleared."""
    _generate(engine, 3)
    assert cache.refresh(engine) >= 3
    with engine.connect() as c:
        rows_before = c.execute(select(func.count()).select_from(cache.fsma_row)).scalar_one()
    assert sheet.csv_lines([]) == []
    with engine.begin() as c:  # a lot of its own, observed and never shipped, received or made
        lot = dict(c.execute(select(Lot.__table__).where(Lot.__table__.c.id == 1)).mappings().one())  # type: ignore[attr-defined]
        c.execute(insert(Lot.__table__), [{**lot, "id": 999, "lot_code": "INSPECTED-ONLY"}])  # type: ignore[attr-defined]
    _add_event(engine, 999, "https://ref.gs1.org/cbv/BizStep-inspecting", datetime(2025, 5, 2, tzinfo=UTC), 1)
    assert 999 in _marked(engine)
    assert cache.refresh(engine) >= 1
    assert cache.stale(engine) == 0
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(cache.fsma_row)).scalar_one() == rows_before
        assert c.execute(select(cache.fsma_lot.c.lot_id).where(cache.fsma_lot.c.lot_id == 999)).first() is not None
    assert _same(engine, Selection())
