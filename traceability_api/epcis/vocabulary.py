"""CBV 2.0 vocabulary we act on, and AgriTrace's own extension vocabulary.

CBV has no steps for farm work, so AgriTrace defines them as web-vocabulary URIs under
``https://ns.agritrace.vn/voc/`` (prefix ``agri``).  Use them as full URIs in ``bizStep``
(a bare word is read as CBV).  Lot master data (``ilmd``) uses CBV master-data attributes
where they exist and ``agri:`` ones otherwise.  See docs/vocabulary.md.
"""

from __future__ import annotations

CBV = "https://ref.gs1.org/cbv/"
AGRI_NS = "https://ns.agritrace.vn/voc/"
AGRI_PREFIX = "agri"

BIZSTEP = CBV + "BizStep-"
DISP = CBV + "Disp-"
SDT = CBV + "SDT-"

COMMISSIONING = BIZSTEP + "commissioning"
SHIPPING = BIZSTEP + "shipping"
RECEIVING = BIZSTEP + "receiving"
DESTROYING = BIZSTEP + "destroying"
PICKING = BIZSTEP + "picking"  # of a TransformationEvent: part of a lot split off into a new lot (events/split.py)
OWNING_PARTY = SDT + "owning_party"
POSSESSING_PARTY = SDT + "possessing_party"
RECALLED = DISP + "recalled"

FARM_STEPS = {
    "land_preparation": "Land preparation / làm đất",
    "sowing": "Sowing / gieo sạ",
    "planting": "Planting / xuống giống",
    "fertilising": "Fertilising / bón phân",
    "spraying": "Spraying plant protection products / phun thuốc BVTV",
    "irrigating": "Irrigating / tưới nước",
    "pest_observation": "Pest observation / thăm đồng",
    "pruning": "Pruning / tỉa cành",
    "bagging": "Fruit bagging / bao trái",
    # livestock, poultry, aquaculture and ornamentals (issue 17); lots they create are CBV commissioning
    "stocking": "Stocking / thả giống",
    "feeding": "Feeding / cho ăn",
    "vaccination": "Vaccination / tiêm phòng vắc xin",
    "veterinary_drug": "Veterinary drug / dùng thuốc thú y",
    "water_treatment": "Water treatment / xử lý nước",
    "mortality": "Mortality / hao hụt (chết)",
    "egg_collection": "Egg collection / nhặt trứng",
    "egg_processing": "Egg processing / chế biến trứng",
    "fish_harvest": "Fish harvest / thu hoạch cá",
    "flower_planting": "Flower planting / trồng hoa",
    "pot_sale": "Sale of pots / bán chậu hoa",
}
FARM_STEP_URIS = {AGRI_NS + "BizStep-" + k: v for k, v in FARM_STEPS.items()}

# ilmd keys (expanded) that feed lot master data
ILMD_HARVEST_DATE = ("urn:epcglobal:cbv:mda:harvestStartDate", AGRI_NS + "harvestDate")
ILMD_PLOT = AGRI_NS + "plot"
ILMD_VARIETY = AGRI_NS + "variety"


def full_uri(value: str | None, prefix: str) -> str | None:
    """A CBV bare word (``shipping``) or URN as its web-vocabulary URI; URIs unchanged."""
    if value is None:
        return None
    if ":" not in value:
        return prefix + value
    for urn, kind in (("urn:epcglobal:cbv:bizstep:", "BizStep-"), ("urn:epcglobal:cbv:disp:", "Disp-"),
                      ("urn:epcglobal:cbv:sdt:", "SDT-"), ("urn:epcglobal:cbv:btt:", "BTT-"),
                      ("urn:epcglobal:cbv:er:", "ER-")):  # fmt: skip
        if value.startswith(urn):
            return CBV + kind + value[len(urn) :]
    if value.startswith("cbv:"):
        return CBV + value[4:]
    return value
