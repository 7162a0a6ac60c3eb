"""The columns of the electronic sortable spreadsheet and the KDEs each CTE requires, with their
source in 21 CFR Part 1 Subpart S (final rule, 87 FR 70910, 21 Nov 2022; compliance date moved to
20 July 2028).  One row of the spreadsheet is one CTE of one traceability lot; a KDE a CTE does not
have stays empty.  ``REQUIRED`` is what the KDE check and the tests hold the records to.

Sources, checked against the eCFR text:
- § 1.1325(a) harvesting (raw agricultural commodity, not from a fishing vessel): (a)(1)(i) the
  immediate subsequent recipient, (ii) commodity and variety, (iii) quantity and unit, (iv) the farm
  where harvested, (v) for produce the field or growing-area name, (vi) for aquacultured food the
  container (pond, cage ...) name, (vii) date of harvesting, (viii) reference document type and
  number; (a)(2) business name and phone number of the harvester (given to the initial packer).
- § 1.1325(b) cooling before initial packing: (1) subsequent recipient, (2) commodity and variety,
  (3) quantity and unit, (4) where cooled, (5) date of cooling, (6) farm where harvested,
  (7) reference document type and number.
- § 1.1330(a) initial packing: (1) commodity and variety received, (2) date received, (3) quantity
  and unit received, (4) farm where harvested, (5)/(6) field or container name, (7) harvester's
  business name and phone, (8) date of harvesting, (9)/(10) where and when cooled (if applicable),
  (11) the traceability lot code assigned, (12) product description, (13) quantity and unit packed,
  (14) location of the TLC source (where packed) and TLC source reference if any, (15) date of
  initial packing, (16) reference document type and number.
- § 1.1340(a) shipping: (1) TLC, (2) quantity and unit, (3) product description, (4) immediate
  subsequent recipient, (5) location shipped from, (6) date shipped, (7) TLC source or TLC source
  reference, (8) reference document type and number; (b) (1)-(7) travel with the goods.
- § 1.1345(a) receiving: (1) TLC, (2) quantity and unit, (3) product description, (4) immediate
  previous source, (5) where received, (6) date received, (7) TLC source or TLC source reference,
  (8) reference document type and number.
- § 1.1350(a) transformation: (1) for the food used: TLC, product description, quantity and unit;
  (2) for the new food: (i) new TLC, (ii) location of the TLC source (where transformed) and TLC
  source reference if any, (iii) date completed, (iv) product description, (v) quantity and unit,
  (vi) reference document type and number.
- § 1.1455(c)(3)(ii): on FDA's request, within 24 hours, an electronic sortable spreadsheet with
  the KDEs of the foods and date ranges asked for.
- § 1.1310 (definition of "location description"): business name, phone number, and physical
  address or geographic coordinates.  § 1.1315: the traceability plan (see ``plan.py``).
"""

from __future__ import annotations

from enum import StrEnum


class CTE(StrEnum):
    harvesting = "harvesting"
    cooling = "cooling"
    initial_packing = "initial packing"
    shipping = "shipping"
    receiving = "receiving"
    transformation = "transformation"
    # first land-based receiving (food from a fishing vessel, § 1.1335) does not occur: our fish is farmed


# key, English header, kind ("text", "date", "number", "datetime")
COLUMNS: list[tuple[str, str, str]] = [
    ("cte", "Critical Tracking Event", "text"),
    ("event_date", "Event Date", "date"),
    ("event_time", "Event Time (local)", "datetime"),
    ("tlc", "Traceability Lot Code", "text"),
    ("gtin", "GTIN", "text"),
    ("product_description", "Product Description", "text"),
    ("commodity_variety", "Commodity and Variety", "text"),
    ("quantity", "Quantity", "number"),
    ("unit", "Unit of Measure", "text"),
    ("location_description", "Location Description (where the event took place)", "text"),
    ("location_id", "Location Identifier (GLN or place)", "text"),
    ("harvest_farm", "Farm Where Harvested", "text"),
    ("field_or_container", "Field / Growing Area / Container Name", "text"),
    ("harvester_name", "Harvester Business Name", "text"),
    ("harvester_phone", "Harvester Phone", "text"),
    ("harvest_date", "Harvest Date", "date"),
    ("cooling_location", "Cooling Location (if cooled)", "text"),
    ("cooling_date", "Cooling Date (if cooled)", "date"),
    ("input_tlcs", "Input TLCs (TLC, product, quantity)", "text"),
    ("tlc_source_location", "TLC Source Location", "text"),
    ("tlc_source_reference", "TLC Source Reference", "text"),
    ("previous_source", "Immediate Previous Source", "text"),
    ("subsequent_recipient", "Immediate Subsequent Recipient", "text"),
    ("reference_document_type", "Reference Document Type", "text"),
    ("reference_document_number", "Reference Document Number", "text"),
    ("destination_market", "Destination Market", "text"),
    # importing-market requirement, not 21 CFR 1 (see MARKET_CODE_COLUMNS)
    ("origin_code", "Planting-Area / Farm Code (registered)", "text"),
    ("house_code", "Packing-House / Establishment Code (registered)", "text"),
    ("recorded_by", "Recorded By", "text"),
    ("event_id", "EPCIS Event ID (CBV 2.0 hash)", "text"),
]
KEYS = [k for k, _, _ in COLUMNS]

# Optional columns and their source: the registered codes importing markets ask for on each consignment
# (docs/registries.md), filled by ``market_codes.fill``; no CTE requires them (never in ``REQUIRED``).
MARKET_CODE_COLUMNS: dict[str, str] = {
    "origin_code": "importing-market requirement, not 21 CFR 1: mã số vùng trồng (PUC) of the harvest plots, "
    "or the aquaculture pond / cage / hatchery code (Nghị định 55/2017/NĐ-CP)",
    "house_code": "importing-market requirement, not 21 CFR 1: mã số cơ sở đóng gói (PHC) of the packhouses, "
    "or the fish processing establishment code (DL ..., Thông tư 48/2013/TT-BNNPTNT)",
}
KIND = {k: kind for k, _, kind in COLUMNS}

# CTE -> [(KDE column, source)]; quantity and unit, reference type and number are one KDE each in
# the rule, two columns here, both required
REQUIRED: dict[CTE, list[tuple[str, str]]] = {
    CTE.harvesting: [
        ("subsequent_recipient", "1.1325(a)(1)(i)"),
        ("commodity_variety", "1.1325(a)(1)(ii)"),
        ("quantity", "1.1325(a)(1)(iii)"),
        ("unit", "1.1325(a)(1)(iii)"),
        ("harvest_farm", "1.1325(a)(1)(iv)"),
        ("field_or_container", "1.1325(a)(1)(v)-(vi)"),
        ("harvest_date", "1.1325(a)(1)(vii)"),
        ("reference_document_type", "1.1325(a)(1)(viii)"),
        ("reference_document_number", "1.1325(a)(1)(viii)"),
        ("harvester_name", "1.1325(a)(2)"),
        ("harvester_phone", "1.1325(a)(2)"),
    ],
    CTE.cooling: [
        ("subsequent_recipient", "1.1325(b)(1)"),
        ("commodity_variety", "1.1325(b)(2)"),
        ("quantity", "1.1325(b)(3)"),
        ("unit", "1.1325(b)(3)"),
        ("location_description", "1.1325(b)(4)"),
        ("event_date", "1.1325(b)(5)"),
        ("harvest_farm", "1.1325(b)(6)"),
        ("reference_document_type", "1.1325(b)(7)"),
        ("reference_document_number", "1.1325(b)(7)"),
    ],
    CTE.initial_packing: [
        ("commodity_variety", "1.1330(a)(1)"),
        ("input_tlcs", "1.1330(a)(2)-(3)"),
        ("harvest_farm", "1.1330(a)(4)"),
        ("field_or_container", "1.1330(a)(5)-(6)"),
        ("harvester_name", "1.1330(a)(7)"),
        ("harvester_phone", "1.1330(a)(7)"),
        ("harvest_date", "1.1330(a)(8)"),
        ("tlc", "1.1330(a)(11)"),
        ("product_description", "1.1330(a)(12)"),
        ("quantity", "1.1330(a)(13)"),
        ("unit", "1.1330(a)(13)"),
        ("tlc_source_location", "1.1330(a)(14)"),
        ("event_date", "1.1330(a)(15)"),
        ("reference_document_type", "1.1330(a)(16)"),
        ("reference_document_number", "1.1330(a)(16)"),
    ],
    CTE.shipping: [
        ("tlc", "1.1340(a)(1)"),
        ("quantity", "1.1340(a)(2)"),
        ("unit", "1.1340(a)(2)"),
        ("product_description", "1.1340(a)(3)"),
        ("subsequent_recipient", "1.1340(a)(4)"),
        ("location_description", "1.1340(a)(5)"),
        ("event_date", "1.1340(a)(6)"),
        ("tlc_source_location", "1.1340(a)(7)"),
        ("reference_document_type", "1.1340(a)(8)"),
        ("reference_document_number", "1.1340(a)(8)"),
    ],
    CTE.receiving: [
        ("tlc", "1.1345(a)(1)"),
        ("quantity", "1.1345(a)(2)"),
        ("unit", "1.1345(a)(2)"),
        ("product_description", "1.1345(a)(3)"),
        ("previous_source", "1.1345(a)(4)"),
        ("location_description", "1.1345(a)(5)"),
        ("event_date", "1.1345(a)(6)"),
        ("tlc_source_location", "1.1345(a)(7)"),
        ("reference_document_type", "1.1345(a)(8)"),
        ("reference_document_number", "1.1345(a)(8)"),
    ],
    CTE.transformation: [
        ("input_tlcs", "1.1350(a)(1)"),
        ("tlc", "1.1350(a)(2)(i)"),
        ("tlc_source_location", "1.1350(a)(2)(ii)"),
        ("event_date", "1.1350(a)(2)(iii)"),
        ("product_description", "1.1350(a)(2)(iv)"),
        ("quantity", "1.1350(a)(2)(v)"),
        ("unit", "1.1350(a)(2)(v)"),
        ("reference_document_type", "1.1350(a)(2)(vi)"),
        ("reference_document_number", "1.1350(a)(2)(vi)"),
    ],
}
# what a shipper hands the receiver with the goods (§ 1.1340(b): (a)(1)-(7))
SHIPPED_WITH_GOODS = [k for k, src in REQUIRED[CTE.shipping] if not src.startswith("1.1340(a)(8)")]

assert all(k in KIND for cols in REQUIRED.values() for k, _ in cols), "REQUIRED names unknown columns"
assert all(k in KIND for k in MARKET_CODE_COLUMNS), "MARKET_CODE_COLUMNS names unknown columns"


def missing(row: dict[str, object]) -> list[tuple[str, str]]:
    """The required KDEs (column, source) a row of ``cte`` leaves empty."""
    return [(k, src) for k, src in REQUIRED[CTE(str(row["cte"]))] if row.get(k) in (None, "")]
