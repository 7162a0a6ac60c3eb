"""The traceability plan of 21 CFR 1.1315, in English, from the organisation's own data, as a PDF
(reportlab): (a)(1) how records are kept (format and place), (a)(2) how foods on the Food
Traceability List are identified, (a)(3) how traceability lot codes are assigned, (a)(4) the point
of contact, (a)(5) for a firm that grows or raises a listed food, a farm map with the name and
coordinates of each field or container.  Vietnamese names are romanised (the PDF's core fonts have
no Vietnamese glyphs, and US readers expect them so)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from traceability_api.errors import NotFound
from traceability_api.fsma.romanise import romanise
from traceability_api.lots.models import Product
from traceability_api.parties.models import Organisation
from traceability_api.places.models import PRODUCTION_KINDS, Place

MAX_FIELDS = 500  # a farm map of more fields is cut (and says so)


@dataclass
class PlanData:
    org: Organisation
    listed: list[Product]
    other: list[Product]
    fields: list[Place]
    sites: list[Place]


def load(session: Session, org_id: int) -> PlanData:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    products = list(session.exec(select(Product).where(Product.org_id == org_id).order_by(Product.gtin)).all())  # type: ignore[arg-type]
    places = list(session.exec(select(Place).where(Place.org_id == org_id).order_by(Place.id)).all())  # type: ignore[arg-type]
    return PlanData(
        org,
        [p for p in products if p.ftl_category],
        [p for p in products if not p.ftl_category],
        [p for p in places if p.kind in PRODUCTION_KINDS],
        [p for p in places if p.kind not in PRODUCTION_KINDS],
    )


def _point(p: Place) -> tuple[float, float] | None:
    """(lat, lon) of a point, or of a polygon's first ring's mean vertex."""
    g = p.geo or {}
    if g.get("type") == "Point":
        lon, lat = g["coordinates"][:2]
        return float(lat), float(lon)
    if g.get("type") == "Polygon" and g.get("coordinates"):
        ring = g["coordinates"][0]
        return sum(v[1] for v in ring) / len(ring), sum(v[0] for v in ring) / len(ring)
    return None


def _map(fields: list[Place]) -> Any:
    """A plain plot of the fields' coordinates, labelled by name (north up, equal degrees)."""
    from reportlab.graphics.shapes import Circle, Drawing, Rect, String
    from reportlab.lib import colors

    w, h, pad = 460.0, 260.0, 30.0
    d = Drawing(w, h)
    d.add(Rect(0, 0, w, h, strokeColor=colors.grey, fillColor=None))
    pts = [(f, pt) for f in fields if (pt := _point(f)) is not None]
    if not pts:
        d.add(String(pad, h / 2, "No coordinates recorded for these fields.", fontSize=9))
        return d
    lats, lons = [pt[0] for _, pt in pts], [pt[1] for _, pt in pts]
    span = max(max(lats) - min(lats), max(lons) - min(lons), 0.01)
    scale = min((w - 2 * pad) / span, (h - 2 * pad) / span)
    for i, (f, (lat, lon)) in enumerate(pts, start=1):
        x, y = pad + (lon - min(lons)) * scale, pad + (lat - min(lats)) * scale
        d.add(Circle(x, y, 3, fillColor=colors.darkgreen, strokeColor=None))
        d.add(String(x + 5, y + 3, f"{i}. {romanise(f.name)[:40]}", fontSize=7))
    d.add(String(pad, 8, f"lat {min(lats):.4f}-{max(lats):.4f}, lon {min(lons):.4f}-{max(lons):.4f}", fontSize=7))
    return d


def render(data: PlanData, today: date, base_url: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    ss = getSampleStyleSheet()
    org = data.org
    name = romanise(org.name)

    def para(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), ss[style])

    def table(head: list[str], body: list[list[str]]) -> Table:
        t = Table([head, *body], repeatRows=1)
        t.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
        return t

    story: list[Any] = [
        para(f"Traceability Plan - {name}", "Title"),
        para(
            f"21 CFR Part 1 Subpart S, section 1.1315. Prepared {today.isoformat()} from the firm's AgriTrace records. "
            "Previous versions of this plan are kept for 2 years after they are replaced (1.1315(b))."
        ),  # fmt: skip
        para("1. How records are maintained (1.1315(a)(1))", "Heading2"),
        para(
            "Every critical tracking event (harvesting, cooling, initial packing, shipping, receiving, transformation) "
            "is recorded electronically as a GS1 EPCIS 2.0 event in AgriTrace when it happens, by the member who "
            "performs it (phone workspace or API). Each record's hash is anchored on a blockchain and signed by the "
            "firm, so that a later change is detectable. Records are kept for 2 years (1.1455). Within 24 hours of an "
            "FDA request "
            f"the electronic sortable spreadsheet is produced from {base_url}/api/v1/fsma/spreadsheet.xlsx (or CSV, or "
            "'agritrace export fsma'); the KDE check lists any record with a missing key data element beforehand."
        ),  # fmt: skip
        para("2. How foods on the Food Traceability List are identified (1.1315(a)(2))", "Heading2"),
        para(
            "Each product has a GTIN-14. A product on the FDA Food Traceability List carries its FTL category in "
            "the product record; these products are:"
        ),  # fmt: skip
        table(
            ["GTIN", "Product", "FTL category"],
            [[p.gtin, romanise(p.name_en or p.name), romanise(p.ftl_category)] for p in data.listed]
            or [["-", "none recorded", "-"]],
        ),  # fmt: skip
        para(f"Other products of the firm ({len(data.other)}) are not on the list."),
        para("3. How traceability lot codes are assigned (1.1315(a)(3))", "Heading2"),
        para(
            "A traceability lot code (TLC) is the GS1 batch/lot number (AI 10, 1-20 letters, digits and . _ -) of "
            "a GTIN, unique per product. It is assigned when the food is initially packed, or transformed (never "
            "when merely shipped or received), at the place recorded as the TLC source (ilmd agri:tlcSource, "
            "else the event's location); the lot's label carries it as a GS1 Digital Link QR code. Places where "
            "this firm assigns codes:"
        ),  # fmt: skip
        table(
            ["Place", "Kind", "Identifier", "Address"],
            [
                [
                    romanise(s.name),
                    s.kind.value,
                    s.gln or s.sector_code or f"place {s.id}",
                    romanise(s.address or org.address),
                ]
                for s in data.sites
            ]
            or [["-", "-", "-", "-"]],
        ),  # fmt: skip
        para("4. Point of contact (1.1315(a)(4))", "Heading2"),
        para(
            f"{romanise(org.contact_name) or 'Not recorded'}, {name}, {romanise(org.address)}, "
            f"phone {org.phone or 'not recorded'}."
        ),  # fmt: skip
    ]
    if data.fields:
        cut = len(data.fields) > MAX_FIELDS
        fields = data.fields[:MAX_FIELDS]
        story += [
            para("5. Farm map (1.1315(a)(5))", "Heading2"),
            para(
                "Fields, growing areas and containers (ponds, cages) where the firm grows or raises food, "
                "with their names as used in its harvest records and their coordinates (WGS 84)."
                + (f" The first {MAX_FIELDS} of {len(data.fields)} are shown." if cut else "")
            ),  # fmt: skip
            _map(fields),
            Spacer(1, 6),
            table(
                ["#", "Name", "Kind", "Code", "Area (ha)", "Latitude, longitude"],
                [
                    [
                        str(i),
                        romanise(f.name),
                        f.kind.value,
                        f.planting_area_code or f.sector_code or "",
                        f"{f.area_ha:g}" if f.area_ha else "",
                        f"{pt[0]:.5f}, {pt[1]:.5f}" if (pt := _point(f)) else "not recorded",
                    ]
                    for i, f in enumerate(fields, start=1)
                ],
            ),  # fmt: skip
        ]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=LETTER, title=f"Traceability Plan - {name}", author=name).build(story)
    return buf.getvalue()
