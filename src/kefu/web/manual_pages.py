"""The manual-request queue (R9.3): requests registered by hand while the core system was down,
newest first, filtered by status and paged; a pending request is closed with a result note once it
has been carried out in the core system. Only the scrubbed copy of the customer's words is shown."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import manual
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import repository as customer_repo
from kefu.staff import repository as staff_repo
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
Handler = page_user(Permission.BANKING_MANUAL)
PER_PAGE = 20
STATUSES = ("pending", "processed", "all")
MAX_PAGE = 100_000
OUTCOME_LIMIT = 500


def _status(value: str | None) -> str:
    return value if value in STATUSES else "pending"


def _page(value: str | int | None) -> int:
    text = str(value or "").strip()
    return max(1, min(int(text), MAX_PAGE)) if text.isdigit() and len(text) < 7 else 1


def _url(status: str, page: int, **extra: str) -> str:
    params: dict[str, Any] = {"status": status}
    if page > 1:
        params["page"] = page
    params.update(extra)
    return "/manual-requests?" + urlencode(params)


async def _rows(db: AsyncSession, status: str, page: int) -> tuple[list[dict[str, Any]], int, int]:
    """One page of requests, newest first, as (rows, total, page): a page past the end shows the last.

    The banking service returns masked details only (never the encrypted words of the customer)."""
    wanted = None if status == "all" else status

    async def fetch(p: int) -> dict[str, Any]:
        return await manual.list_requests(db, status=wanted, customer_id=None, offset=(p - 1) * PER_PAGE,
                                          limit=PER_PAGE, newest_first=True)  # fmt: skip

    result = await fetch(page)
    total = int(result["total"])
    last = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    if page > last:
        page = last
        result = await fetch(page)
    items: list[dict[str, Any]] = result["items"]
    numbers = await customer_repo.customer_numbers(db, {r["customer_id"] for r in items})
    staff = await staff_repo.names_of(db, {i for r in items for i in (r["created_by"], r["processed_by"]) if i})
    rows = []
    for r in items:
        created, processed = staff.get(r["created_by"], ("", "")), staff.get(r["processed_by"] or 0, ("", ""))
        rows.append({
            **r, "customer_no": numbers.get(r["customer_id"], ""), "details_masked": r["details"],
            "created_by_no": created[0], "created_by_name": created[1],
            "processed_by_no": processed[0], "processed_by_name": processed[1],
        })  # fmt: skip
    return rows, total, page


async def _render(
    request: Request, db: AsyncSession, status: str, page: int, *, done: str = "", error: dict[str, str] | None = None,
    error_for: int | None = None, note: str = "", status_code: int = 200,
) -> Response:  # fmt: skip
    items, total, page = await _rows(db, status, page)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    inline = any(r["id"] == error_for and r["status"] == "pending" for r in items)
    ctx = {
        "items": items,
        "total": total,
        "status": status,
        "statuses": STATUSES,
        "page": page,
        "pages": pages,
        "prev_url": _url(status, page - 1) if page > 1 else None,
        "next_url": _url(status, page + 1) if page < pages else None,
        "done": done,
        "error": error,
        "error_for": error_for if inline else None,
        "error_top": error if error and not inline else None,
        "note": note,
    }
    return render(request, "manual_requests.html", ctx, status_code=status_code, no_store=True)


@router.get("/manual-requests")
async def manual_requests(
    request: Request, db: DbSession, status: str = "", page: str = "", done: str = "",
    principal: Principal = Handler,
) -> Response:  # fmt: skip
    return await _render(request, db, _status(status), _page(page), done="processed" if done == "processed" else "")


@router.post("/manual-requests/{request_id}/process")
async def manual_request_process(
    request: Request, request_id: RowId, db: DbSession, outcome: Field = "", status: Field = "", page: Field = "",
    principal: Principal = Handler,
) -> Response:  # fmt: skip
    """Close a pending request with what was done in the core system; the service audits it."""
    note = desk.clean(outcome, OUTCOME_LIMIT)
    back_status, back_page = _status(status), _page(page)
    try:
        await manual.process(db, actor=principal, request_id=request_id, outcome=note)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _render(request, db, back_status, back_page, error=error_message(exc, locale_of(request)),
                             error_for=request_id, note=note, status_code=exc.status)  # fmt: skip
    return redirect(_url(back_status, back_page, done="processed"))
