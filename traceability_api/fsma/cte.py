"""Which AgriTrace event is which FSMA 204 critical tracking event (docs/fsma204.md):

| EPCIS event | CTE |
|---|---|
| ObjectEvent `commissioning` ADD of a lot with an origin place (harvest; not a stocking of fry) | harvesting |
| ObjectEvent `agri:BizStep-cooling` (cold store; `agri:coldStore` names the sensor device) | cooling |
| TransformationEvent `packing` (a raw commodity packed into a new lot) | initial packing |
| TransformationEvent, any other step | transformation |
| ObjectEvent `shipping` / `receiving` | shipping / receiving |

Reference documents are the event's ``bizTransactionList`` (CBV ``inv``, ``bol``, ``po`` ...; ours:
``agri:BTT-phyto`` phytosanitary certificate, ``agri:BTT-container`` container number or SSCC,
``agri:BTT-health_cert``, ``agri:BTT-harvest_log``; a number without a GLN is
``urn:agritrace:doc:<number>``); the TLC source is ``ilmd.agri:tlcSource`` (a place or GLN URI) or else
where the lot was created; the destination market is ``agri:destinationMarket`` (ISO 3166 alpha-2)
on a shipping event."""

from __future__ import annotations

from traceability_api.epcis import vocabulary as voc
from traceability_api.fsma.kde_columns import CTE

COOLING = voc.AGRI_NS + "BizStep-cooling"
PACKING = voc.BIZSTEP + "packing"
TLC_SOURCE = "agri:tlcSource"
TLC_SOURCE_REFERENCE = "agri:tlcSourceReference"
DESTINATION_MARKET = "agri:destinationMarket"
DOC_URN = "urn:agritrace:doc:"  # a document number without a GLN (CBV: urn:epcglobal:cbv:bt:<GLN>:<number>)
COLD_STORE = "agri:coldStore"
# the steps that can be a CTE (SQL filter; cte_of decides)
STEPS = (voc.COMMISSIONING, COOLING, voc.SHIPPING, voc.RECEIVING)
BTT_NAMES = {  # bizTransaction type -> the reference document type written in the spreadsheet
    "inv": "Invoice",
    "bol": "Bill of lading",
    "po": "Purchase order",
    "desadv": "Despatch advice",
    "recadv": "Receiving advice",
    "prodorder": "Production order",
    "phyto": "Phytosanitary certificate",
    "health_cert": "Health certificate",
    "container": "Container / SSCC",
    "harvest_log": "Harvest log",
}


def cte_of(
    event_type: str, biz_step: str | None, role: str, origin_place_id: int | None, activity: object
) -> CTE | None:
    """The CTE of one (event, lot) pair, or None when the pair is not a CTE."""
    if event_type == "TransformationEvent":
        if role != "output":
            return None
        return CTE.initial_packing if biz_step == PACKING else CTE.transformation
    if role != "epc":
        return None
    if biz_step == voc.COMMISSIONING:
        return CTE.harvesting if origin_place_id is not None and activity != "stocking" else None
    return {COOLING: CTE.cooling, voc.SHIPPING: CTE.shipping, voc.RECEIVING: CTE.receiving}.get(biz_step or "")


def btt_name(kind: object) -> str:
    """``cbv:BTT-inv``, ``https://ref.gs1.org/cbv/BTT-inv``, ``inv`` or ``agri:BTT-phyto`` -> its name."""
    k = str(kind or "").rsplit("BTT-", 1)[-1].rsplit(":", 1)[-1]
    return BTT_NAMES.get(k, k)


def doc_number(value: object) -> str:
    """``urn:epcglobal:cbv:bt:<GLN>:<number>`` -> the number; other identifiers as they are."""
    v = str(value or "")
    if v.startswith("urn:epcglobal:cbv:bt:"):
        return v.split(":", 5)[-1]
    if v.startswith(DOC_URN):
        return v[len(DOC_URN) :]
    return v
