"""Signing keys (``/app/keys``): the organisation's registered keys (the registry's mirror), and
this device's own key, made and kept encrypted on the phone by ``static/sign.js``.  The authority
registers a device's address through the existing registry flow
(``POST /api/v1/signing/organisations/{id}/keys``); this page only shows it."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.parties.models import Organisation
from traceability_api.signing.service import keys_of
from traceability_api.workspace import signing
from traceability_api.workspace.web import PageDep, render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/keys")
def keys(request: Request, page: PageDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    rows = keys_of(session, page.user.principal.org_id)
    now = int(time.time())
    current = [k.address.lower() for k in rows if k.valid_at(now) and not k.custodial]
    org = session.get(Organisation, page.user.principal.org_id)
    assert org is not None
    domain = json.dumps(signing.domain_of(runtime, session, org))
    return render(request, "keys.html", page=page, keys=rows, now=now, registered=json.dumps(current), domain=domain)
