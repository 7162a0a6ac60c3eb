"""Diary spreadsheet import: the XLSX template, the upload page (all-or-nothing, or the valid rows
and the report) and the same import for machines, ``POST /api/v1/diary/import`` with an API key.
Reading is ``sheet.read_rows``; each row goes through ``diary_import.import_rows``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.service import Principal
from traceability_api.runtime import Runtime
from traceability_api.workspace import i18n, views
from traceability_api.workspace.diary_import import WORDS, Mode, Report, import_rows
from traceability_api.workspace.sheet import COLUMNS, SheetRefused, read_rows, template
from traceability_api.workspace.web import PageDep, PostDep, render

router = APIRouter(prefix="/app", include_in_schema=False)
api = APIRouter(prefix="/api/v1/diary", tags=["evidence"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Lang = Literal["vi", "en"]


def _xlsx(session: Session, p: Principal, lang: str) -> Response:
    data = template(views.plots(session, p), lang)
    name = "nhat-ky-mau.xlsx" if lang == "vi" else "diary-template.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                    "Cache-Control": "no-store"})  # fmt: skip


async def _run(file: UploadFile, mode: Mode, p: Principal, session: Session, runtime: Runtime, lang: str) -> Report:
    s: Settings = runtime.settings
    rows = read_rows(await file.read(s.import_max_bytes + 1), s.import_max_bytes, s.import_max_rows)
    report = import_rows(session, p, rows, mode, s, runtime.capture_checks, lang)
    session.commit()
    return report


def _labelled(report: Report, lang: str) -> list[dict[str, Any]]:
    t = i18n.T[lang]
    return [{"row": r.row, "ok": r.ok, "errors": {t.get(k, k) if k != "_form" else "": m for k, m in r.errors.items()}}
            for r in report.rows]  # fmt: skip


@router.get("/diary/template.xlsx")
def template_page(page: PageDep, session: SessionDep) -> Response:
    return _xlsx(session, page.user.principal, page.lang)


@router.get("/diary/import")
def import_form(request: Request, page: PageDep) -> Response:
    return render(request, "diary_import.html", page=page, w=WORDS[page.lang], mode="all", errors={})


@router.post("/diary/import")
async def import_page(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep,
    file: Annotated[UploadFile | None, File()] = None, mode: Annotated[str, Form(max_length=8)] = "all",
) -> Response:  # fmt: skip
    m: Mode = "valid" if mode == "valid" else "all"
    ctx: dict[str, Any] = {"w": WORDS[page.lang], "mode": m}
    if file is None or not file.filename:
        return render(request, "diary_import.html", 422, page=page, errors={"file": page.t["required"]}, **ctx)
    try:
        report = await _run(file, m, page.user.principal, session, runtime, page.lang)
    except SheetRefused as exc:
        session.rollback()
        return render(request, "diary_import.html", exc.status, page=page, errors={"file": WORDS[page.lang][exc.key]},
                      **ctx)  # fmt: skip
    status = 422 if report.refused and report.stored == 0 else 200
    return render(request, "diary_import.html", status, page=page, errors={}, report=report,
                  rows=_labelled(report, page.lang), **ctx)  # fmt: skip


@api.get("/template.xlsx", summary="The diary spreadsheet template (XLSX) with this organisation's plots")
def template_api(p: PrincipalDep, session: SessionDep, lang: Annotated[Lang, Query()] = "vi") -> Response:
    return _xlsx(session, p, lang)


@api.post("/import", summary="Import a diary spreadsheet (XLSX): a report per row; all-or-nothing or the valid rows")
async def import_api(
    p: PrincipalDep, session: SessionDep, runtime: RuntimeDep, file: Annotated[UploadFile, File()],
    mode: Annotated[Mode, Query()] = "all", lang: Annotated[Lang, Query()] = "vi",
) -> JSONResponse:  # fmt: skip
    try:
        report = await _run(file, mode, p, session, runtime, lang)
    except SheetRefused as exc:
        session.rollback()
        return JSONResponse({"detail": WORDS[lang][exc.key]}, status_code=exc.status)
    body = {"mode": mode, "stored": report.stored, "refused": report.refused, "columns": list(COLUMNS),
            "rows": [{"row": r.row, "ok": r.ok, "errors": r.errors} for r in report.rows]}  # fmt: skip
    return JSONResponse(body, status_code=422 if report.refused and report.stored == 0 else 200)
