"""Summaries, descriptions and examples of the API's operations, in one place.  A route's own
``summary=`` or docstring wins; a test checks that every operation ends up documented."""

from __future__ import annotations

import base64
import json
from typing import Any

from traceability_api.api_docs import husbandry_docs, national_docs, registries_docs
from traceability_api.consensus.gs1_uri import with_check_digit

PADDY = with_check_digit("8930000001001")
RICE = with_check_digit("8930000001002")
PADDY_LOT = f"https://id.gs1.org/01/{PADDY}/10/TP-2503-12"
STORE_GLN = with_check_digit("893000000002")

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
    ("POST", "/api/v1/grants"): {
        "inspector": _ex(
            "Let the provincial inspectors read a lot's records for a month",
            {"lot_id": 1, "grantee_org_id": 4, "expires_at": "2025-04-01T00:00:00+07:00", "note": "kiểm tra định kỳ"},
        )
    },
    ("POST", "/api/v1/signing/organisations/{org_id}/keys"): {
        "own": _ex("The cooperative's own signer address", {"address": "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"})
    },
    ("POST", "/api/v1/signing/organisations/{org_id}/keys/{address}/rotate"): {
        "own": _ex("Replace by a new own key", {"new_address": "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"}),
        "custodial": _ex("Replace by a key AgriTrace holds", {}),
    },
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

_NEXT_PAGE_TOKEN = (
    base64.urlsafe_b64encode(  # the shape of the stateless cursor /epcis hands out
        json.dumps({"q": "3f1c0a9b2e7d4c65", "v": "2025-03-01T02:00:00+00:00", "i": 42, "n": None}).encode()
    )
    .decode()
    .rstrip("=")
)
PARAM_EXAMPLES: dict[str, Any] = {
    "gtin": RICE, "lot_code": "GST25-2503", "serial": "0001", "lot": PADDY_LOT, "lot_id": 1, "place_id": 1,
    "event_id": 1, "member_id": 2, "device_id": 1, "recall_id": 1, "digest": "ab" * 32, "fmt": "csv", "tlc": "XCL-2506-14",
    "grant_id": 1,
    "EQ_bizStep": "shipping", "GE_eventTime": "2025-03-01T00:00:00+07:00", "since": "2025-03-01T00:00:00+07:00",
    "url": f"https://trace.example.vn/01/{RICE}/10/GST25-2503", "code": f"/01/{RICE}/10/FAKE-01", "lang": "vi", "kind": "plot",
    "captureID": "1", "eventID": "urn:uuid:6d5f9f3e-1b7a-4c2e-9a51-0d3c2b8e4f10", "token": _NEXT_PAGE_TOKEN,
    "queryName": "paddy-shipments", "subscriptionID": "1",
    "org_id": 2, "address": "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A",
}  # fmt: skip

# ``value`` of the EPCIS top-level resources (/epcis/<kind>/{value}[/events]) depends on the resource.
_RESOURCE_VALUES: dict[str, str] = {
    "eventTypes": "ObjectEvent",
    "epcs": PADDY_LOT,
    "bizSteps": "commissioning",
    "bizLocations": f"https://id.gs1.org/414/{STORE_GLN}",
    "readPoints": f"https://id.gs1.org/414/{STORE_GLN}/254/1",
    "dispositions": "active",
}
PATH_PARAM_EXAMPLES: dict[str, dict[str, Any]] = {
    f"/epcis/{kind}/{{value}}{tail}": {"value": value}
    for kind, value in _RESOURCE_VALUES.items()
    for tail in ("", "/events")
}  # a path's own examples win over PARAM_EXAMPLES
PATH_PARAM_EXAMPLES |= {  # open data (opendata/router.py)
    "/opendata/{name}": {"name": "monthly_volumes.csv"},
    "/opendata/files/{file_id}/{name}": {"file_id": 1, "name": "products.csv"},
    "/opendata/proofs/{sha256}": {"sha256": "ab" * 32},
}

_AUTH = " Needs an API key (Authorization: Bearer <key>)."
_PUBLIC = " Public: no API key."
# (summary, description); a summary of None keeps the route's own ``summary=``.
DOCS: dict[tuple[str, str], tuple[str | None, str]] = {
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
    ("GET", "/api/v1/diary/template.xlsx"): ("Diary spreadsheet template", "An XLSX with the diary's columns, the activity list and the caller's plots (`lang`: vi or en)." + _AUTH),
    ("POST", "/api/v1/diary/import"): ("Import a diary spreadsheet", "An XLSX made from the template (multipart `file`); each row is checked like a diary entry and reported in `lang`; `mode=all` stores nothing if a row is refused (422), `mode=valid` stores the valid rows. Send `Idempotency-Key` to make a retry safe." + _AUTH),
    ("POST", "/api/v1/devices"): ("Register a sensor", "A sensor at a place; its HMAC secret is shown once." + _AUTH),
    ("GET", "/api/v1/devices"): ("List sensors", "The caller's sensors." + _AUTH),
    ("POST", "/api/v1/devices/{device_id}/readings"): ("Send sensor readings", "A device's signed batch of readings (X-Device-Signature, no API key)."),
    ("POST", "/api/v1/lots/{lot_id}/sensor-summary"): ("Summarise a lot's sensor readings", "An anchored EPCIS sensorElementList event." + _AUTH),
    ("GET", "/api/v1/events/{event_id}/proof"): ("Proof of an event", "Merkle proof, root, transaction and block of the event's anchor." + _AUTH),
    ("GET", "/api/v1/proofs/lots/{gtin}/{lot_code}"): ("Proof bundle of a lot", "Everything needed to verify the lot against the chain without AgriTrace (see `agritrace verify`)." + _PUBLIC),
    ("GET", "/api/v1/proofs/lots/{gtin}/{lot_code}/status"): ("Verification status of a lot", "Verified, pending or not verified, per record kind." + _PUBLIC),
    ("GET", "/api/v1/grants"): ("Sharing grants", "Grants your organisation gave or holds, newest first, each with whether it is live (not expired, not revoked)." + _AUTH),
    ("DELETE", "/api/v1/grants/{grant_id}"): ("Revoke a grant", "Admin of the organisation that gave it: the grantee loses read access at once." + _AUTH),
    ("GET", "/api/v1/signing/domain"): ("Signing domain", "What the caller's organisation signs events with: its registry reference, chain, contract and the EIP-712 typed data (input of `agritrace sign --domain`)." + _AUTH),
    ("GET", "/api/v1/signing/organisations/{org_id}/keys"): ("Signing keys", "An organisation's registered signing keys and their windows (block times); own organisation, or any for an authority." + _AUTH),
    ("POST", "/api/v1/signing/organisations/{org_id}/keys"): ("Register a signing key", "Authority admin: registers an organisation's own signer address on chain (optionally attested by an X.509 certificate)." + _AUTH),
    ("POST", "/api/v1/signing/organisations/{org_id}/custodial"): ("Give a custodial key", "Authority admin: a key held by AgriTrace (encrypted at rest) signs the organisation's events on its behalf, and says so." + _AUTH),
    ("POST", "/api/v1/signing/organisations/{org_id}/keys/{address}/revoke"): ("Revoke a signing key", "Authority admin: the key is invalid from this block on; events anchored earlier stay valid." + _AUTH),
    ("POST", "/api/v1/signing/organisations/{org_id}/keys/{address}/rotate"): ("Rotate a signing key", "Authority admin: the key ends now and a new one (own or custodial) starts." + _AUTH),
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
    ("GET", "/api/v1/fsma/spreadsheet.{fmt}"): ("FSMA 204 sortable spreadsheet", "One row per critical tracking event of a product with every key data element (21 CFR 1.1455), XLSX or CSV; an organisation its own records, an authority any." + _AUTH),
    ("GET", "/api/v1/fsma/kde-check"): ("FSMA 204 KDE check", "Events whose required key data elements are missing, event by event, with the CFR section of each." + _AUTH),
    ("GET", "/api/v1/fsma/plan.pdf"): ("FSMA 204 traceability plan", "The organisation's traceability plan (21 CFR 1.1315) as a PDF in English, with the farm map." + _AUTH),
    ("GET", "/api/v1/fsma/lots/{gtin}/{tlc}/upstream"): ("Upstream KDEs of a received lot", "For a firm that holds or received the lot: every CTE upstream with its KDEs, and the proof bundle." + _AUTH),
    ("GET", "/api/v1/audit-log"): ("Audit log", "The append-only, anchored log of writes (authorities and auditors)." + _AUTH),
    ("GET", "/api/v1/audit-log/reads"): ("Who read our data", "Logged reads of the organisation's non-public data by other organisations (its admins and auditors)." + _AUTH),
    ("GET", "/01/{gtin}"): ("Resolve a product", "GS1 Digital Link resolver: HTML for people, application/linkset+json for machines (application/ld+json: the linkset as JSON-LD)." + _PUBLIC),
    ("GET", "/01/{gtin}/10/{lot_code}"): ("Resolve a lot", "The consumer page of a lot, or its linkset (Accept: application/linkset+json)." + _PUBLIC),
    ("GET", "/01/{gtin}/10/{lot_code}/21/{serial}"): ("Resolve a serialised unit", "The consumer page of one labelled unit; the token t proves the label is genuine." + _PUBLIC),
    ("GET", "/01/{gtin}/21/{serial}"): ("Resolve a serial", "Redirects to the unit's lot page." + _PUBLIC),
    ("GET", "/embed/01/{gtin}/10/{lot_code}"): ("Embeddable widget", "A compact widget for an iframe on an e-commerce listing." + _PUBLIC),
    ("GET", "/badge/01/{gtin}/10/{lot_code}.svg"): ("Verification badge", "An SVG badge with the lot's verification status." + _PUBLIC),
    ("POST", "/report-code"): ("Report a code that is not registered", "The form on the unknown-code page: stores a counterfeit report for the brand owner and the authority (CSRF token, same origin, rate-limited)." + _PUBLIC),
    ("GET", "/api/v1/counterfeit-reports"): ("Counterfeit reports", "Reports of unregistered codes: a brand owner sees those naming its GTINs, an authority sees all." + _AUTH),
    ("GET", "/oembed"): ("oEmbed", "oEmbed (rich) for a trace link, for e-commerce platforms." + _PUBLIC),
    ("GET", "/.well-known/gs1resolver"): ("GS1 resolver description", "The GS1-Conformant Resolver description file: root, primary keys, link-type namespace, JSON-LD context of the linksets." + _PUBLIC),
}  # fmt: skip

# The EPCIS 2.0 REST binding (/epcis): every response carries GS1-EPCIS-Version and GS1-CBV-Version
# (2.0.0); a request may send them, or GS1-EPCIS-Min/-Max and GS1-CBV-Min/-Max, and gets 406 if it
# insists on other versions.  Errors are RFC 7807 problems (application/problem+json) with an
# epcisException type.
_EPCIS = " GS1-EPCIS-Version / GS1-CBV-Version 2.0.0 (406 otherwise); errors are application/problem+json."
_PAGED = (
    ' Paged: perPage (1-1000, default 30); the next page is the Link rel="next" header, or'
    " nextPageToken in the body, to send back with the same parameters."
)
_QUERY = (
    " Filters are the EPCIS 2.0 SimpleEventQuery URL parameters: eventType, GE_/LT_eventTime,"
    " GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, EQ_readPoint, EQ_bizLocation, MATCH_epc,"
    " MATCH_anyEPC, MATCH_epcClass, EQ_/GT_/GE_/LT_/LE_quantity, EQ_bizTransaction_<type>, EQ_source_<type>,"
    " EQ_/GT_/GE_/LT_/LE_/EXISTS_ on ILMD_, INNER_, sensor and extension (prefix:name) fields, plus"
    " orderBy (eventTime, recordTime), orderDirection, eventCountLimit and maxEventCount; repeat a"
    " parameter or join values with | for OR; an unknown parameter is a 400 QueryParameterException."
    " Only events the caller may read are returned, as an EPCISQueryDocument (JSON-LD)."
)
_RESOURCE_DOCS = {
    "eventTypes": ("the five EPCIS event types", "ObjectEvent"),
    "epcs": (
        "the EPCs and EPC classes (Digital Link URIs) of the caller's most recent 5,000 readable events",
        "an EPC or EPC class (URL-encoded Digital Link URI)",
    ),
    "bizSteps": (
        "the business steps of the events the caller may read",
        "a business step (commissioning or its CBV URI)",
    ),
    "bizLocations": (
        "the business locations (GLN Digital Links) of the caller's most recent 5,000 readable events",
        "a business location",
    ),
    "readPoints": ("the read points of the caller's most recent 5,000 readable events", "a read point"),
    "dispositions": ("the dispositions of the events the caller may read", "a disposition (active or its CBV URI)"),
}
for _kind, (_what, _one) in _RESOURCE_DOCS.items():
    DOCS[("GET", f"/epcis/{_kind}")] = (
        None,
        f"A Collection of {_what}. Paged: perPage (1-1000, default 30) and"
        ' nextPageToken (from the Link rel="next" header).' + _EPCIS + _AUTH,
    )
    DOCS[("GET", f"/epcis/{_kind}/{{value}}")] = (
        None,
        f"{_one[0].upper()}{_one[1:]}: a Collection of its sub-resources"
        " (events); 404 if no event the caller may read has it." + _EPCIS + _AUTH,
    )
    DOCS[("GET", f"/epcis/{_kind}/{{value}}/events")] = (
        None,
        f"Events with {_one}, narrowed by any other query"
        " parameter (not the one the path gives)." + _QUERY + _PAGED + _EPCIS + _AUTH,
    )

DOCS |= {
    ("GET", "/epcis"): (None, "The top-level resources of the EPCIS 2.0 REST binding (events, eventTypes, epcs, bizSteps, bizLocations, readPoints, dispositions, capture, queries). OPTIONS on any /epcis path answers, without a key, the supported versions (GS1-EPCIS-Min/-Max, GS1-CBV-Min/-Max) and capture limits." + _EPCIS + _AUTH),
    ("POST", "/epcis/capture"): (None, "Asynchronous capture of an EPCISDocument (application/ld+json or application/json; EPCIS 2.0 or 1.2 XML with application/xml); an EPCISQueryDocument's events are accepted too. Answers 202 with Location: /epcis/capture/{captureID}, the job to poll, and GS1-EPCIS-Capture-Limit / GS1-EPCIS-Capture-File-Size-Limit. GS1-Capture-Error-Behaviour: rollback (default, all or nothing) or proceed (each valid event is stored, the others listed in the job's errors). 413 above the event or size limit. Needs a member who may write." + _EPCIS + _AUTH),
    ("GET", "/epcis/capture"): (None, "The capture jobs of the caller's organisation, newest first (perPage, 1-1000, default 30): captureID, createdAt, finishedAt, running, success, captureErrorBehaviour and errors." + _EPCIS + _AUTH),
    ("GET", "/epcis/capture/{captureID}"): (None, "One capture job of the caller's organisation: whether it is running, succeeded, and the problems of the events it refused; 404 for a job of another organisation." + _EPCIS + _AUTH),
    ("POST", "/epcis/events"): (None, "Synchronous capture of one EPCIS 2.0 event (JSON-LD; @context defaults to the EPCIS 2.0 context): 201 with the stored event and Location: /epcis/events/{eventID}, or 200 if the same event (same eventID or hash) was captured before. Needs a member who may write." + _EPCIS + _AUTH),
    ("GET", "/epcis/events"): (None, "The EPCIS 2.0 query interface over URL parameters." + _QUERY + _PAGED + " URLs longer than 8000 characters get 414." + _EPCIS + _AUTH),
    ("GET", "/epcis/events/{eventID}"): (None, "One event, found by its eventID or its CBV hash id (ni:///sha-256;...), URL-encoded in the path, as an EPCISQueryDocument; 404 if the caller may not read it." + _EPCIS + _AUTH),
    ("GET", "/epcis/queries"): (None, "The named queries of the caller's organisation: name and query parameters." + _EPCIS + _AUTH),
    ("POST", "/epcis/queries"): (None, 'Store a named query: {"name": "<1-100 of A-Z a-z 0-9 . _ ~ ->", "query": {<SimpleEventQuery parameters>}}. The parameters are checked (400); 409 if the name is taken; at most 100 per organisation. Answers 201 with Location: /epcis/queries/{queryName}.' + _EPCIS + _AUTH),
    ("GET", "/epcis/queries/{queryName}"): (None, "One named query of the caller's organisation." + _EPCIS + _AUTH),
    ("DELETE", "/epcis/queries/{queryName}"): (None, "Deletes the named query and every subscription to it (204)." + _EPCIS + _AUTH),
    ("GET", "/epcis/queries/{queryName}/events"): (None, "Runs the named query now: its events as an EPCISQueryDocument named after it. Only perPage and nextPageToken may be added. A WebSocket connection on the same path (Authorization or X-API-Key header) streams each new matching event as it is captured." + _PAGED + _EPCIS + _AUTH),
    ("POST", "/epcis/queries/{queryName}/subscriptions"): (None, 'Subscribe a webhook: {"dest": "https://...", "stream": true, "signatureToken": "<secret>", "initialRecordTime": "<ISO time>", "reportIfEmpty": false}. Matching events are POSTed to dest as EPCISQueryDocuments (application/ld+json) as they are captured, with GS1-Signature (HMAC-SHA256 of the body with signatureToken) when a token is given. Only stream subscriptions (no schedule); dest must be a public http(s) URL; at most 20 per query. initialRecordTime also delivers events recorded since then.' + _EPCIS + _AUTH),
    ("GET", "/epcis/queries/{queryName}/subscriptions"): (None, "The subscriptions of a named query: subscriptionID, dest, createdAt, lastNotifiedAt, initialRecordTime, reportIfEmpty." + _EPCIS + _AUTH),
    ("GET", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): (None, "One subscription of a named query." + _EPCIS + _AUTH),
    ("DELETE", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): (None, "Ends a subscription: no more webhook deliveries (204)." + _EPCIS + _AUTH),
}  # fmt: skip

# The GS1 Digital Link resolver for keys other than /01 (GTIN): public, like the /01 pages.
_DL_CHECK = " The whole link (path and query) is checked against GS1 Digital Link syntax: 400 with the reason if it is not valid."
_DL_NO_RECORDS = " A valid link answers 404: this service holds no records for {what} yet." + _DL_CHECK + _PUBLIC
DOCS |= {
    ("GET", "/gtin/{rest}"): (None, "A GTIN link in GS1 short-name form (/gtin/<GTIN>/lot/<lot>/ser/<serial>): 301 to the canonical numeric link (/01/<GTIN>/10/<lot>/21/<serial>) on this resolver." + _DL_CHECK + _PUBLIC),
    ("GET", "/00/{rest}"): (None, "An SSCC (logistic unit) link, /00/<SSCC>." + _DL_NO_RECORDS.format(what="SSCCs")),
    ("GET", "/sscc/{rest}"): (None, "An SSCC link in short-name form, /sscc/<SSCC>." + _DL_NO_RECORDS.format(what="SSCCs")),
    ("GET", "/414/{rest}"): (None, "A GLN (location) link, /414/<GLN>[/254/<extension>]." + _DL_NO_RECORDS.format(what="GLNs")),
    ("GET", "/gln/{rest}"): (None, "A GLN link in short-name form, /gln/<GLN>[/glnx/<extension>]." + _DL_NO_RECORDS.format(what="GLNs")),
    ("GET", "/417/{rest}"): (None, "A party GLN link, /417/<GLN>." + _DL_NO_RECORDS.format(what="party GLNs")),
    ("GET", "/party/{rest}"): (None, "A party GLN link in short-name form, /party/<GLN>." + _DL_NO_RECORDS.format(what="party GLNs")),
    ("GET", "/8004/{rest}"): (None, "A GIAI (individual asset) link, /8004/<GIAI>." + _DL_NO_RECORDS.format(what="GIAIs")),
    ("GET", "/giai/{rest}"): (None, "A GIAI link in short-name form, /giai/<GIAI>." + _DL_NO_RECORDS.format(what="GIAIs")),
}  # fmt: skip

# the husbandry domain's operations (livestock, poultry, aquaculture, flowers) in their own module
BODY_EXAMPLES |= husbandry_docs.BODY_EXAMPLES
PARAM_EXAMPLES |= husbandry_docs.PARAM_EXAMPLES
DOCS |= husbandry_docs.DOCS
BODY_EXAMPLES |= registries_docs.BODY_EXAMPLES
PARAM_EXAMPLES |= registries_docs.PARAM_EXAMPLES
DOCS |= registries_docs.DOCS

# the national traceability record's operations (issue 16) in their own module
BODY_EXAMPLES |= national_docs.BODY_EXAMPLES
PARAM_EXAMPLES |= national_docs.PARAM_EXAMPLES
DOCS |= national_docs.DOCS
