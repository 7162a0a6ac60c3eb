"""Console: the organisations' signing keys in the on-chain key registry (issue 15).  The list (own or
custodial, window as dates, status, attestation) for every authority member; the forms (register an
own address, give a custodial key, rotate, revoke) for the authority's admins.  Each write is the JSON
API's own path (``signing/registrar.py`` over ``signing/service.py``): who may, the address check, the
chain transaction then its mirror row, the capture gate told afterwards; refusals are shown next to
their field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from chain.errors import ChainError
from chain.registry import NO_END
from traceability_api.console.paging import Pages, page_holding, pages_of
from traceability_api.console.web import Console, ConsoleDep, ConsolePostDep, render
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import get_org
from traceability_api.registries.views import organisations
from traceability_api.runtime import Runtime
from traceability_api.signing import attestation, registrar
from traceability_api.signing.attestation import AttestationIn
from traceability_api.signing.models import SigningKey
from traceability_api.signing.router import KeyIn, RotateIn
from traceability_api.timeutil import utcnow
from traceability_api.validation import DbId, db_id_of
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.web import see_other

router = APIRouter(prefix="/app/console", include_in_schema=False)
Opt = Annotated[str, Form(max_length=500)]
KEYS_PER_PAGE = 50


@dataclass
class KeyRow:
    key: SigningKey
    status: str  # active / not_yet_valid / expired / revoked, at the time the page is made
    valid_from: str  # dates in the province's zone
    valid_until: str | None  # None: no end
    revoked_on: str | None
    attested_by: str | None


@dataclass
class OrgKeys:
    org: Organisation
    keys: list[KeyRow]


def status_of(k: SigningKey, now: int) -> str:
    """The key's state at block time ``now`` (the registry's rule: [valid_from, valid_until), until revoked)."""
    if k.revoked_at is not None and k.revoked_at <= now:
        return "revoked"
    if now < k.valid_from:
        return "not_yet_valid"
    return "expired" if now >= k.valid_until else "active"


def _day(t: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).date().isoformat()


def chain_now(runtime: Runtime) -> int:
    """The latest block's time (the clock the registry's windows are in); the server's clock without a
    chain or when the node does not answer (the list still shows; only the status may lag)."""
    if runtime.chain is not None:
        contract = runtime.chain.contract
        try:
            return contract.block_timestamp(contract.block_number())
        except ChainError:
            pass
    return int(utcnow().timestamp())


def _listed() -> Any:
    """The keys in the list's order: by organisation name (then id), then key."""
    return (
        select(SigningKey, Organisation)
        .join(Organisation, col(Organisation.id) == SigningKey.org_id)
        .order_by(col(Organisation.name), col(Organisation.id), col(SigningKey.id))
    )


def key_rows(
    session: Session, zone: ZoneInfo, now: int, page: int = 1
) -> tuple[list[OrgKeys], list[Organisation], Pages]:
    """(page ``page`` of the keys, ``KEYS_PER_PAGE`` at most, grouped by organisation: one spanning
    two pages is named on both; organisations without a key, by name; the page).  The keys' status
    at block time ``now``."""
    total = int(session.exec(select(func.count()).select_from(SigningKey)).one())
    at = pages_of(total, page, KEYS_PER_PAGE)
    groups: list[OrgKeys] = []
    for k, org in session.exec(_listed().offset(at.offset).limit(at.size)):
        until = None if k.valid_until >= NO_END else _day(k.valid_until, zone)
        revoked = None if k.revoked_at is None else _day(k.revoked_at, zone)
        attested = attestation.subject_of(k.attestation)
        row = KeyRow(k, status_of(k, now), _day(k.valid_from, zone), until, revoked, attested)
        if not groups or groups[-1].org.id != org.id:
            groups.append(OrgKeys(org, []))
        groups[-1].keys.append(row)
    has_key = exists().where(col(SigningKey.org_id) == Organisation.id)
    without = list(session.exec(select(Organisation).where(~has_key).order_by(col(Organisation.name)).limit(5000)))
    return groups, without, at


def page_of_key(session: Session, address: str) -> int:
    """The page of the list that shows the key ``address`` (the first when there is no such key)."""
    found = session.exec(_listed().where(SigningKey.address == address)).first()
    if found is None:
        return 1
    key, org = found
    before = or_(
        col(Organisation.name) < org.name,
        and_(col(Organisation.name) == org.name, col(Organisation.id) < org.id),
        and_(col(Organisation.id) == org.id, col(SigningKey.id) < key.id),
    )
    q = select(func.count()).select_from(SigningKey).join(Organisation, col(Organisation.id) == SigningKey.org_id)
    return page_holding(int(session.exec(q.where(before)).one()), KEYS_PER_PAGE)


def _page(request: Request, console: Console, session: Session, runtime: Runtime, v: dict[str, Any],
          errors: Errors, status: int = 200, page: int = 1) -> Response:  # fmt: skip
    with_keys, without, at = key_rows(session, runtime.settings.zone, chain_now(runtime), page)
    done = request.query_params.get("done", "")[:42]
    notice = f"{console.ct['saved']}: {done}" if done and request.method == "GET" else None
    return render(request, "console_keys.html", console, status, with_keys=with_keys, without=without, pages=at,
                  orgs=organisations(session), v=v, errors=errors, notice=notice, chain=runtime.chain is not None,
                  writes=registrar.may_register(console.page.user.principal))  # fmt: skip


def _saved(session: Session, key: SigningKey) -> Response:
    """Back to the list after a successful change: the page holding the key, which names the key and
    scrolls to it."""
    page = page_of_key(session, key.address)
    at = f"page={page}&" if page > 1 else ""
    return see_other(f"/app/console/keys?{at}done={quote(key.address)}#{quote(key.address)}")


@router.get("/keys")
def list_keys(request: Request, console: ConsoleDep, session: SessionDep, runtime: RuntimeDep,
              page: int = 1) -> Response:  # fmt: skip
    """``page``: clamped to the pages there are (as the lot search); not a number: 422."""
    return _page(request, console, session, runtime, {}, {}, page=page)


def _unix(raw: str, zone: ZoneInfo) -> int | None:
    """A form's date as Unix seconds at 00:00 in the province's zone; 0 when empty; None when not a date."""
    if not raw.strip():
        return 0
    try:
        return int(datetime.combine(date.fromisoformat(raw.strip()), time(0), zone).timestamp())
    except ValueError:
        return None


def _refused(request: Request, console: Console, session: Session, runtime: Runtime, v: dict[str, Any],
             exc: DomainError, field: str, suffix: str = "") -> Response:  # fmt: skip
    """The list with the refusal next to its field; one about a key (``suffix`` ``:<address>``) on
    the page holding that key."""
    session.rollback()
    if runtime.chain is None:  # the page shows no forms: the refusal goes at the top
        field, suffix = "_form", ""
    errors = from_domain(exc, console.page.lang, field)
    page = page_of_key(session, suffix[1:]) if suffix else 1
    return _page(request, console, session, runtime, v, {f"{k}{suffix}": m for k, m in errors.items()},
                 exc.status_code, page)  # fmt: skip


def _not_allowed(request: Request, console: Console, session: Session, runtime: Runtime) -> Response | None:
    """The refusal page when the signed-in member may not write keys (before any form check)."""
    try:
        registrar.require_registrar(console.page.user.principal)
    except DomainError as exc:
        return _refused(request, console, session, runtime, {}, exc, "_form")
    return None


@router.post("/keys")
def register_key(
    request: Request, console: ConsolePostDep, session: SessionDep, runtime: RuntimeDep,
    org_id: Opt = "", address: Opt = "", valid_from: Opt = "", valid_until: Opt = "",
    att_certificates: Annotated[str, Form(max_length=64_000)] = "", att_signature: Opt = "",
) -> Response:  # fmt: skip
    if (refusal := _not_allowed(request, console, session, runtime)) is not None:
        return refusal
    v = {"org_id": org_id, "address": address, "valid_from": valid_from, "valid_until": valid_until,
         "att_certificates": att_certificates, "att_signature": att_signature}  # fmt: skip
    ct, zone = console.ct, runtime.settings.zone
    window = {"valid_from": _unix(valid_from, zone), "valid_until": _unix(valid_until, zone)}
    errors: Errors = {k: ct["k_bad_date"] for k, t in window.items() if t is None}
    if (target := db_id_of(org_id.strip())) is None:
        errors["org_id"] = console.page.t["required"]
    att = None
    if att_certificates.strip() or att_signature.strip():  # an X.509 attestation: both parts, or neither
        if not (att_certificates.strip() and att_signature.strip()):
            errors["att_certificates"] = ct["k_att_both"]
        else:
            att = AttestationIn(certificates=att_certificates.strip(), signature=att_signature.strip())
    try:
        data = KeyIn.model_validate({"address": address.strip()} | {k: t for k, t in window.items() if t is not None})
    except ValidationError as exc:
        errors = from_validation(exc, console.page.lang) | errors
    if errors:
        return _page(request, console, session, runtime, v, errors, 422)
    try:
        assert target is not None  # no errors: org_id was checked above
        org = get_org(session, target)
    except DomainError as exc:
        return _refused(request, console, session, runtime, v, exc, "org_id")
    try:
        attested = None if att is None else registrar.attest(session, runtime, org, data.address, att)
    except DomainError as exc:
        return _refused(request, console, session, runtime, v, exc, "att_certificates")
    try:
        key = registrar.register_own_key(session, runtime, org, data.address, data.valid_from, data.valid_until,
                                         attested)  # fmt: skip
        registrar.done(runtime, session)
    except DomainError as exc:
        return _refused(request, console, session, runtime, v, exc, "address")
    return _saved(session, key)


@router.post("/keys/custodial")
def custodial_key(
    request: Request, console: ConsolePostDep, session: SessionDep, runtime: RuntimeDep, org_id: Opt = ""
) -> Response:
    if (refusal := _not_allowed(request, console, session, runtime)) is not None:
        return refusal
    v = {"custodial_org_id": org_id}
    if (target := db_id_of(org_id.strip())) is None:
        return _page(request, console, session, runtime, v, {"custodial_org_id": console.page.t["required"]}, 422)
    try:
        key = registrar.add_custodial_key(session, runtime, get_org(session, target))
        registrar.done(runtime, session)
    except DomainError as exc:
        return _refused(request, console, session, runtime, v, exc, "custodial_org_id")
    return _saved(session, key)


@router.post("/keys/{org_id}/{address}/revoke")
def revoke_key(
    org_id: DbId, address: str, request: Request, console: ConsolePostDep, session: SessionDep,
    runtime: RuntimeDep, confirm: Opt = "",
) -> Response:  # fmt: skip
    if len(address) > 42:
        return render(request, "message.html", console, 404, message=console.page.t["not_found"])
    if (refusal := _not_allowed(request, console, session, runtime)) is not None:
        return refusal
    if confirm != "yes":
        errors = {f"confirm:{address}": console.ct["k_confirm_needed"]}
        return _page(request, console, session, runtime, {}, errors, 422, page_of_key(session, address))
    try:
        key = registrar.revoke_key(session, runtime, org_id, address)
        registrar.done(runtime, session)
    except DomainError as exc:
        return _refused(request, console, session, runtime, {}, exc, "confirm", f":{address}")
    return _saved(session, key)


@router.post("/keys/{org_id}/{address}/rotate")
def rotate_key(
    org_id: DbId, address: str, request: Request, console: ConsolePostDep, session: SessionDep,
    runtime: RuntimeDep, new_address: Opt = "",
) -> Response:  # fmt: skip
    if len(address) > 42:
        return render(request, "message.html", console, 404, message=console.page.t["not_found"])
    if (refusal := _not_allowed(request, console, session, runtime)) is not None:
        return refusal
    v = {"new_address": {address: new_address}}
    try:
        data = RotateIn.model_validate({"new_address": new_address.strip() or None})
    except ValidationError as exc:
        errors = {f"{k}:{address}": m for k, m in from_validation(exc, console.page.lang).items()}
        return _page(request, console, session, runtime, v, errors, 422, page_of_key(session, address))
    try:
        key = registrar.rotate_key(session, runtime, org_id, address, data.new_address)
        registrar.done(runtime, session)
    except DomainError as exc:
        return _refused(request, console, session, runtime, v, exc, "new_address", f":{address}")
    return _saved(session, key)
