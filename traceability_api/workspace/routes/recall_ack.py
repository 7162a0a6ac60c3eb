"""Holders acknowledge a recall: from the one-time link of its notification (no sign-in: the link's
token is the proof; opening the link only shows the button, so mail scanners that fetch links do not
acknowledge) or with the button on their workspace home (signed in, CSRF checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from traceability_api.authority.models import Recall
from traceability_api.authority.recall_notices import (
    LinkUsed,
    acknowledge_by_member,
    acknowledge_by_token,
    lots_for,
    notice_by_token,
)
from traceability_api.deps import SessionDep
from traceability_api.errors import Conflict, DomainError, NotFound
from traceability_api.validation import DbId
from traceability_api.workspace import i18n
from traceability_api.workspace.messages import from_domain
from traceability_api.workspace.web import PostDep, lang_of, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,64}$")]


def _refused(request: Request, exc: DomainError) -> Response:
    t = i18n.T[lang_of(request)]
    return render(request, "message.html", exc.status_code,
                  message=t["recall_link_used"] if isinstance(exc, LinkUsed) else t["recall_link_bad"])  # fmt: skip


@router.get("/recall-ack/{notice_id}/{token}")
def ack_page(notice_id: DbId, token: Token, request: Request, session: SessionDep) -> Response:
    try:
        notice = notice_by_token(session, notice_id, token)
    except DomainError as exc:
        return _refused(request, exc)
    recall = session.get(Recall, notice.recall_id)
    assert recall is not None
    lots = lots_for(recall, notice.org_id)
    return render(request, "recall_ack.html", recall=recall, lots=lots, action=request.url.path)


@router.post("/recall-ack/{notice_id}/{token}")
def ack_by_link(notice_id: DbId, token: Token, request: Request, session: SessionDep) -> Response:
    try:
        acknowledge_by_token(session, notice_id, token)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _refused(request, exc)
    return render(request, "message.html", message=i18n.T[lang_of(request)]["recall_acked"])


def _ack_refusal(exc: DomainError, lang: str) -> str:
    """The refusal in the page's language (the domain's messages are English)."""
    if isinstance(exc, Conflict):
        return i18n.T[lang]["recall_already_acked"]
    if isinstance(exc, NotFound):
        return i18n.T[lang]["recall_notice_missing"]
    return from_domain(exc, lang)["_form"]


@router.post("/recalls/{notice_id}/ack")
def ack_in_workspace(notice_id: DbId, request: Request, page: PostDep, session: SessionDep) -> Response:
    try:
        acknowledge_by_member(session, page.user.principal, notice_id)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return render(request, "message.html", exc.status_code, page=page, message=_ack_refusal(exc, page.lang))
    return see_other("/app?done=recall_acked")
