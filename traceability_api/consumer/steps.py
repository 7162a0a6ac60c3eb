"""The journey of a lot as consumer-page steps: names, stages, local times, quantities, and what a
processing step took in and gave out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from consumer_site import formatting as fmt
from consumer_site.i18n import ORG_KINDS, STAGES, STEP_NAMES, STRINGS
from consumer_site.viewmodel import Step
from traceability_api.epcis import vocabulary as voc

# cooling: agri:BizStep-cooling, the cold store's step after harvest (FSMA 204's cooling), not cultivation
_DISTRIBUTION = {
    "shipping",
    "receiving",
    "storing",
    "transporting",
    "retail_selling",
    "loading",
    "unloading",
    "cooling",
}
_INPUT_STEPS = {"fertilising", "spraying"}
_OFFSET = re.compile(r'"eventTimeZoneOffset"\s*:\s*"([^"]{1,10})"')
# a lot-creating sector activity (stocking, egg collection, fish harvest) names itself in ilmd
_ACTIVITY = re.compile(r'"agri:activity"\s*:\s*"([a-z_]{1,30})"')
_QUANTITY = re.compile(r'"quantity"\s*:\s*([0-9.eE+]{1,20})\s*,\s*"uom"\s*:\s*"([A-Z0-9]{1,3})"')


def step_key(e: Any) -> str:
    if e.event_type == "TransformationEvent":  # picking: part of a lot split off into a new lot (events/split.py)
        return "split" if e.biz_step == voc.PICKING else "transform"
    activity = _ACTIVITY.search(getattr(e, "document_text", None) or "")
    if activity and activity[1] in voc.FARM_STEPS:
        return activity[1]  # stocking (a lot of animals), egg collection, fish harvest
    step = e.biz_step or ""
    if step == voc.RECALLED or e.disposition == voc.RECALLED and step.endswith("holding"):
        return "recall"
    for prefix in (voc.BIZSTEP, voc.AGRI_NS + "BizStep-"):
        if step.startswith(prefix):
            return step[len(prefix) :]
    return step.rsplit("/", 1)[-1] or e.event_type


def stage_of(e: Any, key: str) -> str:
    if key == "split":  # part of a lot split off to be shipped
        return "distribution"
    if e.event_type == "TransformationEvent" or key in ("packing", "transform"):
        return "processing"
    if key in ("commissioning", "egg_collection", "fish_harvest"):
        return "harvest"
    if key in _INPUT_STEPS:
        return "inputs"
    if key in _DISTRIBUTION:
        return "distribution"
    if (e.biz_step or "").startswith(voc.AGRI_NS) or key in voc.FARM_STEPS:
        return "cultivation"
    return "quality"


def step_title(key: str, lang: str) -> str:
    if key in STEP_NAMES[lang]:
        return STEP_NAMES[lang][key]
    farm = voc.FARM_STEPS.get(key)
    if farm:
        en, _, vi = farm.partition(" / ")
        title = vi if lang == "vi" and vi else en
        return title[:1].upper() + title[1:]
    return key.replace("_", " ")


def event_zone(ev: Any) -> Any:
    """The zone the event was recorded in (its eventTimeZoneOffset), read from the stored text."""
    m = _OFFSET.search(ev.document_text or "")
    return fmt.zone(m[1] if m else None)


def _qty(links: list[Any], codes: dict[int, str], lang: str, *, with_code: bool = False) -> str:
    parts = []
    for t in links:
        if not t.quantity and not with_code:
            continue
        q = fmt.quantity(t.quantity, t.uom, lang) if t.quantity else ""
        parts.append(f"{codes.get(t.lot_id, '')} {q}".strip() if with_code else q)
    return ", ".join(parts[:3]) + (" …" if len(parts) > 3 else "")


def make_step(
    ev: Any, links: list[Any], lang: str, *, who: str | None, where: str | None, codes: dict[int, str]
) -> Step:
    key = step_key(ev)
    step = Step(
        stage=STAGES[lang][stage_of(ev, key)], title=step_title(key, lang),
        time=fmt.when(ev.event_time, lang, event_zone(ev)),
        who=who, where=where,
    )  # fmt: skip
    if ev.event_type == "TransformationEvent":
        t = STRINGS[lang]
        ins = _qty([x for x in links if x.role == "input"], codes, lang, with_code=True)
        outs = _qty([x for x in links if x.role == "output"], codes, lang, with_code=True)
        step.inputs = f"{t['inputs']}: {ins}" if ins else ""
        step.outputs = f"{t['outputs']}: {outs}" if outs else ""
    else:
        step.quantity = _qty(links, codes, lang)
        m = None if step.quantity or key not in voc.FARM_STEPS else _QUANTITY.search(ev.document_text or "")
        if m:  # a step of the lot's origin place (stocking a pond): its own quantity
            step.quantity = fmt.quantity(float(m[1]), m[2], lang)
    step.signed = signed_text(getattr(ev, "signature", None), who, lang)
    return step


def private_step(ev: Any, fields: dict[str, Any], lang: str, *, who: str | None) -> Step:
    """A non-public step: who recorded it and when, its hash, and only the fields revealed to the
    public (the step's kind for a partners-only step); never its content."""
    t = STRINGS[lang]
    step_uri = voc.full_uri(fields.get("bizStep"), voc.BIZSTEP) if fields.get("bizStep") else None
    key = step_key(_Revealed(step_uri, ev.event_type if fields.get("type") else "")) if step_uri else None
    digest = ev.hash_id.removeprefix("ni:///sha-256;")[:16]
    step = Step(
        stage=STAGES[lang][stage_of(_Revealed(step_uri, ""), key)] if key else t["private_step"],
        title=step_title(key, lang) if key else t["private_step"],
        time=fmt.when(ev.event_time, lang, fmt.zone(fields.get("eventTimeZoneOffset"))),
        who=who,
        private=t["private_" + ("partners" if ev.visibility == "partners" else "private")].format(hash=digest),
    )
    buyer = fields.get("agri:buyer")
    kind = buyer.get("kind") if isinstance(buyer, dict) else None
    if isinstance(kind, str) and kind in ORG_KINDS[lang]:
        step.inputs = t["buyer_kind"].format(kind=ORG_KINDS[lang][kind])
    step.signed = signed_text(getattr(ev, "signature", None), who, lang)
    return step


@dataclass
class _Revealed:
    """The few columns step naming reads, from revealed fields only (never the stored text)."""

    biz_step: str | None
    event_type: str
    disposition: str | None = None
    document_text: str = ""


def signed_text(envelope: Any, who: str | None, lang: str) -> str | None:
    """Who signed the step, in words; None for an unsigned step."""
    if not isinstance(envelope, dict):
        return None
    name = who or str(envelope.get("org", ""))
    key = "signed_on_behalf" if envelope.get("custodial") else "signed_by"
    return STRINGS[lang][key].format(who=name)
