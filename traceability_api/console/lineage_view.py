"""The lineage graph page's view model: ``authority/trace.graph`` (lots, transformation edges,
custody hand-overs) laid out by ``graph_layout`` and each lot's proof status from
``anchoring/proofs.verify_events`` (the one verification: hashes recomputed, Merkle proofs, roots on
chain): verified, waiting to be anchored, or failed (a record no longer matches its proof)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from chain.client import AnchorContract
from traceability_api.anchoring.proofs import verify_events
from traceability_api.authority import trace
from traceability_api.console.graph_layout import NODE_H, NODE_W, Layout, layout
from traceability_api.events.models import Event, EventLot
from traceability_api.parties.models import Organisation

STATUSES = {"verified": "#1b7f3b", "pending": "#9a6700", "not_verified": "#b3261e"}  # stroke of each node


@dataclass(frozen=True)
class Node:
    id: int
    x: int
    y: int
    product: str
    lot: str
    gtin: str
    holder: str
    quantity: float
    uom: str
    status: str  # the lot's: active, in_transit, consumed, recalled
    proof: str  # verified | pending | not_verified
    problems: list[str]
    colour: str
    root: bool


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    quantity: float | None


@dataclass(frozen=True)
class Shipment:
    lot: str
    step: str
    time: str
    recorded_by: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class LineageView:
    root: int
    nodes: list[Node]
    edges: list[Edge]
    shipments: list[Shipment]
    width: int
    height: int
    orgs: frozenset[int] = frozenset()  # whose lots and steps it shows (owners, holders, recorders)
    node_w: int = NODE_W
    node_h: int = NODE_H
    # a node's lines: longer than this many characters, a line is drawn to the box's inner width
    # (13 px bold: the product; 12 px: lot and quantity, holder), cut at max_chars first
    fit_bold: int = 22
    fit_chars: int = 27
    max_chars: int = 34

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(proof status, border colour) of the nodes, for the legend's swatches."""
        return list(STATUSES.items())


def proof_status(session: Session, lot_ids: list[int], contract: AnchorContract | None) -> dict[int, Any]:
    """Each lot's verification over its events: one query for all the events, one root cache."""
    rows = session.exec(
        select(EventLot.lot_id, Event).join(Event, col(Event.id) == EventLot.event_id)
        .where(col(EventLot.lot_id).in_(lot_ids))
    ).all()  # fmt: skip
    by_lot: dict[int, dict[int, Event]] = defaultdict(dict)
    for lot_id, ev in rows:
        by_lot[lot_id][ev.id or 0] = ev
    roots: dict[str, bool] = {}
    return {i: verify_events(session, list(by_lot[i].values()), contract, roots) for i in lot_ids}


def lineage(session: Session, lot_id: int, contract: AnchorContract | None) -> LineageView:
    g = trace.graph(session, lot_id)
    names = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    ids = [int(n["id"]) for n in g["nodes"]]
    lay: Layout = layout(
        {int(n["id"]): int(n["distance"]) for n in g["nodes"]}, [(e["from"], e["to"]) for e in g["edges"]]
    )
    proofs = proof_status(session, ids, contract)
    nodes = []
    for n in sorted(g["nodes"], key=lambda n: (n["distance"], n["id"])):
        box, v = lay.boxes[n["id"]], proofs[n["id"]]
        nodes.append(Node(n["id"], box.x, box.y, n["product"], n["lot"], n["gtin"], names.get(n["holder"], "?"),
                          n["remaining"], n["uom"], str(n["status"]), v.status, v.problems[:3],
                          STATUSES[v.status], n["id"] == lot_id))  # fmt: skip
    edges = [Edge(*lay.edge(e["from"], e["to"]), e["quantity"]) for e in g["edges"]]
    lots = {int(n["id"]): f"{n['product']} · {n['lot']}" for n in g["nodes"]}
    ships = [Shipment(lots.get(c["lot"], "?"), c["step"], c["time"], names.get(c["recordedBy"], "?"), c["quantity"],
                      c["uom"])
             for c in g["custody"]]  # fmt: skip
    orgs = {n[k] for n in g["nodes"] for k in ("owner", "holder")} | {c["recordedBy"] for c in g["custody"]}
    return LineageView(lot_id, nodes, edges, ships, lay.width, lay.height, frozenset(o for o in orgs if o is not None))
