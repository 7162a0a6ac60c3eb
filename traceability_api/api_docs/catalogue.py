"""Summaries, descriptions and examples of the API's operations, in one place.  A route's own
``summary=`` or docstring wins; a test checks that every operation ends up documented."""

from __future__ import annotations

from typing import Any

from traceability_api.consensus.gs1_uri import with_check_digit

PADDY = with_check_digit("8930000001001")
RICE = with_check_digit("8930000001002")
PADDY_LOT = f"https://id.gs1.org/01/{PADDY}/10/TP-2503-12"

HARVEST_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2025-03-01T09:00:00+07:00",
    "eventTimeZoneOffset": "+07:00",
    "action": "ADD",
    "bizStep": "commissioning",
    "disposition": "active",
    "quantityList": [{"epcClass": PADDY_LOT, "quantity": 28000, "uom": "KGM"}],
    "ilmd": {"agri:harvestDate": "2025-03-01", "agri:variety": "ST25"},
}
INSPECTION_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2025-03-01T15:00:00+07:00",
    "eventTimeZoneOffset": "+07:00",
    "action": "OBSERVE",
    "bizStep": "inspecting",
    "quantityList": [{"epcClass": PADDY_LOT, "quantity": 5, "uom": "KGM"}],
}
EPCIS_DOCUMENT: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2025-03-01T15:05:00+07:00",
    "epcisBody": {
        "eventList": [
            {**e, "quantityList": [{**e["quantityList"][0], "epcClass": PADDY_LOT.replace("-12", "-13")}]}
            for e in (HARVEST_EVENT, INSPECTION_EVENT)
        ]
    },
}


def _ex(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


BODY_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/events"): {
        "harvest": _ex("Harvest of a paddy lot (commissioning)", HARVEST_EVENT),
        "inspection": _ex("Quality inspection of the lot", INSPECTION_EVENT),
    },
    ("POST", "/api/v1/capture"): {"document": _ex("Harvest and inspection in one document", EPCIS_DOCUMENT)},
    ("POST", "/api/v1/organisations"): {
        "cooperative": _ex(
            "A rice cooperative",
            {"name": "HTX Nông nghiệp Thạnh Phú", "kind": "cooperative", "admin_name": "Nguyễn Văn Tư",
             "address": "Ấp Thạnh Phú, xã Thạnh Phú, huyện Cờ Đỏ, Cần Thơ", "province": "Cần Thơ"},
        )
    },
    ("POST", "/api/v1/members"): {"recorder": _ex("A field recorder", {"name": "Trần Thị Ba", "role": "recorder"})},
    ("POST", "/api/v1/places"): {
        "plot": _ex(
            "A rice plot with its planting area code",
            {"kind": "plot", "name": "Cánh đồng lớn, thửa 12", "planting_area_code": "CT-CD-TP-012", "area_ha": 4.5,
             "geo": {"type": "Point", "coordinates": [105.5821, 10.1222]}},
        )
    },
    ("POST", "/api/v1/products"): {
        "rice": _ex(
            "Packed rice with a shelf life",
            {"gtin": RICE, "name": "Gạo ST25 Thạnh Phú", "name_en": "Thanh Phu ST25 rice", "unit": "KGM",
             "shelf_life_days": 365, "ocop_stars": 4, "certifications": ["VietGAP"]},
        )
    },
    ("POST", "/api/v1/lots"): {
        "harvest": _ex(
            "Harvest 28 t of paddy from plot 1",
            {"gtin": PADDY, "lot_code": "TP-2503-12", "quantity": 28000, "uom": "KGM", "plot_id": 1,
             "harvest_date": "2025-03-01", "variety": "ST25", "event_time": "2025-03-01T09:00:00+07:00"},
        )
    },
    ("POST", "/api/v1/events/{event_id}/corrections"): {
        "wrong_quantity": _ex(
            "Declare an event wrong and add the corrected one",
            {"reason": "incorrect_data", "correctiveEvents": [HARVEST_EVENT | {"eventTime": "2025-03-01T09:30:00+07:00"}]},
        )
    },
    ("POST", "/api/v1/places/{place_id}/diary"): {
        "spraying": _ex(
            "Spraying with its pre-harvest interval",
            {"activity": "spraying", "time": "2025-01-15T16:30:00+07:00", "product": "Anvil 5SC",
             "active_ingredient": "hexaconazole", "dose": 1.0, "dose_unit": "l/ha", "area_ha": 4.5, "phi_days": 14},
        ),
        "sowing": _ex("Sowing, local time (the place's zone)", {"activity": "sowing", "time": "2024-11-25T06:30"}),
    },
    ("POST", "/api/v1/devices"): {
        "store": _ex(
            "A temperature logger in a rice store",
            {"name": "Kho gạo – nhiệt độ", "kind": "temperature", "place_id": 2, "threshold_low": 15,
             "threshold_high": 32},
        )
    },
    ("POST", "/api/v1/lots/{lot_id}/labels"): {"sheet": _ex("24 labels on A4", {"layout": "a4-3x8", "copies": 24})},
    ("POST", "/api/v1/recalls"): {
        "recall": _ex("Recall a lot and everything made from it",
                      {"lot_ids": [1], "reason": "pesticide residue above MRL", "scope": "downstream"})
    },
}  # fmt: skip

PARAM_EXAMPLES: dict[str, Any] = {
    "gtin": RICE, "lot_code": "GST25-2503", "serial": "0001", "lot": PADDY_LOT, "lot_id": 1, "place_id": 1,
    "event_id": 1, "member_id": 2, "device_id": 1, "recall_id": 1, "digest": "ab" * 32, "fmt": "csv",
    "EQ_bizStep": "shipping", "GE_eventTime": "2025-03-01T00:00:00+07:00", "since": "2025-03-01T00:00:00+07:00",
    "url": f"https://trace.example.vn/01/{RICE}/10/GST25-2503", "code": f"/01/{RICE}/10/FAKE-01", "lang": "vi", "kind": "plot",
}  # fmt: skip

_AUTH = " Needs an API key (Authorization: Bearer <key>)."
_PUBLIC = " Public: no API key."
DOCS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/healthz"): ("Database and chain status", "Liveness and readiness: database reachable, chain and anchor contract in use." + _PUBLIC),
    ("POST", "/api/v1/organisations"): ("Create an organisation", "Authority only: a new organisation with its first admin, whose API key is returned once." + _AUTH),
    ("GET", "/api/v1/organisations"): ("List organisations", "The organisations the caller may see: its own, or every one for an authority." + _AUTH),
    ("GET", "/api/v1/organisations/me"): ("The caller's organisation", "The organisation of the API key's member, with its party URI." + _AUTH),
    ("POST", "/api/v1/members"): ("Add a member", "Admin only: a new member of the caller's organisation with a role; the key is returned once." + _AUTH),
    ("GET", "/api/v1/members"): ("List members", "The members of the caller's organisation and their roles." + _AUTH),
    ("DELETE", "/api/v1/members/{member_id}/keys"): ("Revoke a member's keys", "Admin only: revokes every API key of the member and deactivates it." + _AUTH),
    ("POST", "/api/v1/places"): ("Register a place", "A plot (planting area code, GeoJSON point or polygon), farm, facility or vehicle." + _AUTH),
    ("GET", "/api/v1/places"): ("List places", "The caller's places, optionally of one kind." + _AUTH),
    ("GET", "/api/v1/places/{place_id}"): ("Read a place", "One place the caller may read." + _AUTH),
    ("POST", "/api/v1/products"): ("Register a product", "A trade item by its GTIN (check digit validated; stored as GTIN-14)." + _AUTH),
    ("GET", "/api/v1/products"): ("List products", "Every registered product." + _AUTH),
    ("POST", "/api/v1/lots"): ("Register a harvest lot", "Recorded as an EPCIS commissioning ObjectEvent; refused inside a pre-harvest interval unless an admin gives phi_override_reason." + _AUTH),
    ("GET", "/api/v1/lots"): ("List lots", "Lots the caller owns or holds (all for authorities and auditors), paged by id." + _AUTH),
    ("GET", "/api/v1/lots/{lot_id}"): ("Read a lot", "One lot the caller may read, with its product." + _AUTH),
    ("POST", "/api/v1/events"): ("Capture one EPCIS event", "Validated against the GS1 EPCIS 2.0 schema, authorised, hashed (CBV 2.0 event hash) and queued for anchoring." + _AUTH),
    ("GET", "/api/v1/events"): ("EPCIS query", "Events as an EPCISQueryDocument (JSON-LD), filtered by lot, bizStep and time, paged with nextPageToken." + _AUTH),
    ("POST", "/api/v1/capture"): ("Capture an EPCIS document", "Every event of an EPCISDocument, all or nothing." + _AUTH),
    ("GET", "/api/v1/events/{event_id}"): ("Read an event", "One stored event with its hash id." + _AUTH),
    ("POST", "/api/v1/events/{event_id}/corrections"): ("Declare an event erroneous", "An EPCIS errorDeclaration; the event stays, corrective events are added." + _AUTH),
    ("POST", "/api/v1/attachments"): ("Upload a photo or document", "A JPEG, PNG or PDF as evidence; returns its SHA-256, to cite in diary entries." + _AUTH),
    ("GET", "/api/v1/attachments/{digest}"): ("Download an attachment", "The uploaded file with this SHA-256." + _AUTH),
    ("POST", "/api/v1/places/{place_id}/diary"): ("Add a farm-diary entry", "Recorded as an EPCIS ObjectEvent with AgriTrace's farm-step vocabulary; a time without a zone is read in the place's zone." + _AUTH),
    ("GET", "/api/v1/places/{place_id}/diary"): ("List a place's diary", "The place's diary entries as events, oldest first." + _AUTH),
    ("POST", "/api/v1/devices"): ("Register a sensor", "A sensor at a place; its HMAC secret is shown once." + _AUTH),
    ("GET", "/api/v1/devices"): ("List sensors", "The caller's sensors." + _AUTH),
    ("POST", "/api/v1/devices/{device_id}/readings"): ("Send sensor readings", "A device's signed batch of readings (X-Device-Signature, no API key)."),
    ("POST", "/api/v1/lots/{lot_id}/sensor-summary"): ("Summarise a lot's sensor readings", "An anchored EPCIS sensorElementList event." + _AUTH),
    ("GET", "/api/v1/events/{event_id}/proof"): ("Proof of an event", "Merkle proof, root, transaction and block of the event's anchor." + _AUTH),
    ("GET", "/api/v1/proofs/lots/{gtin}/{lot_code}"): ("Proof bundle of a lot", "Everything needed to verify the lot against the chain without AgriTrace (see `agritrace verify`)." + _PUBLIC),
    ("GET", "/api/v1/proofs/lots/{gtin}/{lot_code}/status"): ("Verification status of a lot", "Verified, pending or not verified, per record kind." + _PUBLIC),
    ("GET", "/api/v1/anchoring/status"): ("Anchoring status", "Pending records, last batches and the contract in use." + _AUTH),
    ("GET", "/api/v1/lots/{lot_id}/qr.{fmt}"): ("QR code of a lot", "The lot's GS1 Digital Link as SVG or PNG." + _AUTH),
    ("POST", "/api/v1/lots/{lot_id}/labels"): ("Print labels", "A PDF sheet of lot labels, or of new serialised units with signed tokens." + _AUTH),
    ("GET", "/api/v1/trace/lots/{lot_id}"): ("Trace a lot", "Lineage graph up and/or downstream, through transformations, with custody." + _AUTH),
    ("GET", "/api/v1/trace/lots/{lot_id}/origins"): ("Origins of a lot", "The plots that fed this lot." + _AUTH),
    ("GET", "/api/v1/trace/places/{place_id}/downstream"): ("Lots from a plot", "Every lot containing produce of this plot." + _AUTH),
    ("GET", "/api/v1/mass-balance"): ("Mass balance", "Quantities in vs out per lot and organisation; flags lots selling more than they received." + _AUTH),
    ("POST", "/api/v1/recalls"): ("Open a recall", "Authority or owner: recalls lots (and what was made from them); every holder is listed." + _AUTH),
    ("GET", "/api/v1/recalls/{recall_id}"): ("Recall report", "Every affected lot, its holder and quantity." + _AUTH),
    ("GET", "/api/v1/exports/epcis"): ("Export EPCIS", "An EPCIS 2.0 JSON-LD document of the events the caller may read." + _AUTH),
    ("GET", "/api/v1/exports/events.{fmt}"): ("Export a table", "Key data elements per event as CSV (UTF-8 with BOM) or XLSX." + _AUTH),
    ("GET", "/api/v1/audit-log"): ("Audit log", "The append-only, anchored log of writes (authorities and auditors)." + _AUTH),
    ("GET", "/01/{gtin}"): ("Resolve a product", "GS1 Digital Link resolver: HTML for people, application/linkset+json for machines." + _PUBLIC),
    ("GET", "/01/{gtin}/10/{lot_code}"): ("Resolve a lot", "The consumer page of a lot, or its linkset (Accept: application/linkset+json)." + _PUBLIC),
    ("GET", "/01/{gtin}/10/{lot_code}/21/{serial}"): ("Resolve a serialised unit", "The consumer page of one labelled unit; the token t proves the label is genuine." + _PUBLIC),
    ("GET", "/01/{gtin}/21/{serial}"): ("Resolve a serial", "Redirects to the unit's lot page." + _PUBLIC),
    ("GET", "/embed/01/{gtin}/10/{lot_code}"): ("Embeddable widget", "A compact widget for an iframe on an e-commerce listing." + _PUBLIC),
    ("GET", "/badge/01/{gtin}/10/{lot_code}.svg"): ("Verification badge", "An SVG badge with the lot's verification status." + _PUBLIC),
    ("POST", "/report-code"): ("Report a code that is not registered", "The form on the unknown-code page: stores a counterfeit report for the brand owner and the authority (CSRF token, same origin, rate-limited)." + _PUBLIC),
    ("GET", "/api/v1/counterfeit-reports"): ("Counterfeit reports", "Reports of unregistered codes: a brand owner sees those naming its GTINs, an authority sees all." + _AUTH),
    ("GET", "/oembed"): ("oEmbed", "oEmbed (rich) for a trace link, for e-commerce platforms." + _PUBLIC),
}  # fmt: skip
