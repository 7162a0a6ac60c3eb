"""Who read our data: the organisation's admins and auditors see the logged reads of its non-public
data by other organisations, through ``authority.read_log`` (the path ``/api/v1/audit-log/reads``
takes too)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.authority.read_log import may_see_reads, reads_of
from traceability_api.deps import SessionDep
from traceability_api.workspace import i18n
from traceability_api.workspace.web import PageDep, render

router = APIRouter(prefix="/app", include_in_schema=False)
PAGE_ROWS = 200

# what a logged read showed, in words (the path stays beside it): (path pattern, Vietnamese, English)
WHAT: list[tuple[str, str, str]] = [
    (r"^/app/console/lots/\d+", "Sơ đồ truy xuất của lô (bảng điều hành cơ quan quản lý)",
     "A lot's lineage graph (authority console)"),
    (r"^/app/console/lots", "Tìm lô hàng (bảng điều hành cơ quan quản lý)", "Lot search (authority console)"),
    (r"^/app/console/recalls", "Lệnh thu hồi (bảng điều hành cơ quan quản lý)", "A recall (authority console)"),
    (r"^/api/v1/trace/lots/", "Sơ đồ truy xuất của lô (API)", "A lot's lineage graph (API)"),
    (r"^/api/v1/trace/places/", "Các lô làm từ sản phẩm của một vùng trồng (API)",
     "The lots made from a plot's produce (API)"),
    (r"^/api/v1/recalls/", "Lệnh thu hồi (API)", "A recall (API)"),
    (r"^/api/v1/mass-balance", "Cân đối khối lượng vào ra của các lô (API)", "Lots' mass balance (API)"),
    (r"^/api/v1/fsma/", "Hồ sơ FSMA 204 (xuất khẩu sang Mỹ)", "FSMA 204 records (exports to the US)"),
    (r"national-record", "Hồ sơ truy xuất quốc gia của lô", "A lot's national traceability record"),
    (r"^/api/v1/exports", "Xuất dữ liệu của cơ quan quản lý", "An authority's data export"),
    (r"/diary", "Nhật ký canh tác", "Farm diary"),
    (r"^/app/lots/\d+", "Trang lô hàng (không gian làm việc)", "A lot's page (workspace)"),
    (r"^(/api/v1/events|/epcis)", "Các bước đã ghi (sự kiện truy xuất)", "Recorded steps (traceability events)"),
]  # fmt: skip


def read_what(path: str, lang: str) -> str:
    """The words for what a logged read showed; blank for a path not listed (the path says it)."""
    for pattern, vi, en in WHAT:
        if re.search(pattern, path):
            return vi if lang == "vi" else en
    return ""


@router.get("/reads")
def reads(request: Request, page: PageDep, session: SessionDep) -> Response:
    p = page.user.principal
    if not may_see_reads(p):
        return render(request, "message.html", 403, page=page, message=page.t["reads_forbidden"])
    rows = reads_of(session, p, limit=PAGE_ROWS)[::-1]  # newest first on the page
    shown = [(i18n.when(r.at, page.lang, page.settings.zone), r, read_what(r.path, page.lang)) for r in rows]
    return render(request, "reads.html", page=page, rows=shown)
