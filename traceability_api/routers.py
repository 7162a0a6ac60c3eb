"""One place listing every domain router."""

from __future__ import annotations

from fastapi import FastAPI

from traceability_api.route_prefix import include as include_router


def include_routers(app: FastAPI) -> None:
    from traceability_api.anchoring.router import router as proofs
    from traceability_api.authority.router import router as authority
    from traceability_api.consumer.dl_keys import router as dl_keys
    from traceability_api.consumer.labels_router import router as labels
    from traceability_api.consumer.router import router as resolver
    from traceability_api.events.lot_router import router as lot_events
    from traceability_api.events.router import router as events
    from traceability_api.evidence.router import router as evidence
    from traceability_api.fsma.router import router as fsma
    from traceability_api.husbandry.router import router as husbandry
    from traceability_api.landing.router import router as landing
    from traceability_api.lots.router import router as lots
    from traceability_api.national.router import router as national
    from traceability_api.opendata.router import router as opendata
    from traceability_api.ops.router import router as ops
    from traceability_api.parties.router import router as parties
    from traceability_api.places.router import router as places
    from traceability_api.privacy.router import router as privacy
    from traceability_api.registries.router import router as registries
    from traceability_api.signing.router import router as signing

    for router in (
        parties,
        places,
        lots,
        lot_events,
        events,
        evidence,
        husbandry,
        registries,
        proofs,
        labels,
        authority,
        national,
        fsma,
        resolver,
        landing,
        dl_keys,
        ops,
        signing,
        privacy,
        opendata,
    ):
        include_router(app, router)
    from traceability_api.epcis_rest.router import include as include_epcis_rest

    include_epcis_rest(app)
    from traceability_api.workspace.router import include as include_workspace

    include_workspace(app)
    from traceability_api.console.router import include as include_console

    include_console(app)
