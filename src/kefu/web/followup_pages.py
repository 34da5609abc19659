"""Follow-ups (/follow-ups, R1.7): promises to verify and reply, by promised time, due and overdue ones
highlighted. An agent sees their own (``mine``, CONTACT_HANDLE); a team lead their team's and a
supervisor the whole center (FOLLOWUP_MANAGE). Closing one records how the customer was answered;
reassigning one (FOLLOWUP_MANAGE) needs a reason. The contacts service checks scope and audits."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import followups
from kefu.contacts import repository as contacts_repo
from kefu.contacts.models import AnswerChannel
from kefu.contacts.views import follow_up_view
from kefu.core import clock
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import repository as customers_repo
from kefu.staff import repository as staff_repo
from kefu.web import desk
from kefu.web.contact_pages import page_number, staff_names
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Reader = page_user(Permission.CONTACT_READ)
Manager = page_user(Permission.FOLLOWUP_MANAGE)
PER_PAGE = 20
STATUSES = ("open", "done", "cancelled", "all")
ANSWER_CHANNELS = tuple(c.value for c in AnswerChannel)
NOTE_LIMIT = 2000


def scopes_for(principal: Principal) -> list[str]:
    """The lists this person may open: their own, their team's, the whole center's."""
    out = ["mine"] if principal.can(Permission.CONTACT_HANDLE) else []
    if principal.can(Permission.FOLLOWUP_MANAGE):
        if contacts_repo.center_wide(principal):
            out.append("all")
        elif contacts_repo.leads_team(principal) is not None:
            out.append("team")
    return out


def _query(scope: str, status: str, overdue: bool, page: int, **extra: str) -> str:
    params: dict[str, Any] = {"scope": scope, "status": status}
    if overdue:
        params["overdue"] = "1"
    if page > 1:
        params["page"] = page
    params.update(extra)
    return "/follow-ups?" + urlencode(params)


async def _render(
    request: Request, db: AsyncSession, principal: Principal, *, scope: str, status: str, overdue: bool, page: int,
    done: str = "", error: dict[str, str] | None = None, error_for: int | None = None, form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    scopes = scopes_for(principal)
    if not scopes:
        raise PermissionDenied("Follow-ups are for agents, team leads and supervisors.")
    scope = scope if scope in scopes else scopes[0]

    async def fetch(p: int) -> tuple[Any, int]:
        return await followups.list_follow_ups(
            db, actor=principal, scope=scope, status=None if status == "all" else status, overdue=overdue,
            offset=(p - 1) * PER_PAGE, limit=PER_PAGE,
        )  # fmt: skip

    rows, total = await fetch(page)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    if page > pages:
        page = pages
        rows, total = await fetch(page)
    now = clock.now()
    items = [follow_up_view(f, now=now) for f in rows]
    numbers = await customers_repo.customer_numbers(db, {f["customer_id"] for f in items if f["customer_id"]})
    names = await staff_names(db, {f["owner_id"] for f in items} | {f["closed_by"] for f in items})
    for f in items:
        f["customer_no"] = numbers.get(f["customer_id"]) if f["customer_id"] else None
        f["mine"] = f["owner_id"] == principal.staff_id and principal.can(Permission.CONTACT_HANDLE)
        f["manage"] = followups.may_manage(principal, next(r for r in rows if r.id == f["id"]))
        f["soon"] = f["status"] == "open" and not f["overdue"] and (f["due_at"] - now).total_seconds() < 3600
    inline = any(f["id"] == error_for for f in items)
    ctx = {
        "items": items, "total": total, "page": page, "pages": pages, "scope": scope, "scopes": scopes,
        "status": status, "statuses": STATUSES, "overdue": overdue, "names": names, "channels": ANSWER_CHANNELS,
        "prev_url": _query(scope, status, overdue, page - 1) if page > 1 else None,
        "next_url": _query(scope, status, overdue, page + 1) if page < pages else None,
        "done": done, "error": error, "error_for": error_for if inline else None,
        "error_top": error if error and not inline else None, "form": form or {},
    }  # fmt: skip
    return render(request, "follow_ups.html", ctx, status_code=status_code, no_store=True)


def _status(value: str | None) -> str:
    return value if value in STATUSES else "open"


@router.get("/follow-ups")
async def follow_up_list(
    request: Request, db: DbSession, scope: str = "", status: str = "", overdue: str = "", page: str = "",
    done: str = "", principal: Principal = Reader,
) -> Response:  # fmt: skip
    return await _render(request, db, principal, scope=scope, status=_status(status), overdue=overdue == "1",
                         page=page_number(page), done=done if done in ("closed", "reassigned") else "")  # fmt: skip


@router.post("/follow-ups/{follow_up_id}/close")
async def follow_up_close(
    request: Request, follow_up_id: RowId, db: DbSession, answer_channel: Field = "", answer_note: Field = "",
    outcome: Field = "done", scope: Field = "", status: Field = "", overdue: Field = "", page: Field = "",
    principal: Principal = Reader,
) -> Response:  # fmt: skip
    """Close with how the customer was answered (or cancel); the service checks owner or manager."""
    note = (answer_note or "")[:NOTE_LIMIT]
    back: dict[str, Any] = {
        "scope": scope,
        "status": _status(status),
        "overdue": overdue == "1",
        "page": page_number(page),
    }
    try:
        if outcome not in ("done", "cancelled"):
            raise desk.field_error("outcome", "Close as done or cancelled.")
        if answer_channel and answer_channel not in ANSWER_CHANNELS:
            raise desk.field_error("answer_channel", "Choose how the customer was answered.")
        await followups.close(db, actor=principal, follow_up_id=follow_up_id, answer_channel=answer_channel or None,
                              answer_note=note, outcome=outcome)  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _render(request, db, principal, **back, error=error_message(exc, locale_of(request)),
                             error_for=follow_up_id, form={"answer_note": note, "answer_channel": answer_channel},
                             status_code=exc.status)  # fmt: skip
    return redirect(_query(back["scope"] or "mine", back["status"], back["overdue"], back["page"], done="closed"))


@router.post("/follow-ups/{follow_up_id}/reassign")
async def follow_up_reassign(
    request: Request, follow_up_id: RowId, db: DbSession, staff_no: Field = "", reason: Field = "",
    scope: Field = "", status: Field = "", overdue: Field = "", page: Field = "", principal: Principal = Manager,
) -> Response:  # fmt: skip
    """Give an open follow-up to another agent, with the reason (audited by the service)."""
    number, why = desk.clean(staff_no, 20), desk.clean(reason, 500)
    back: dict[str, Any] = {
        "scope": scope,
        "status": _status(status),
        "overdue": overdue == "1",
        "page": page_number(page),
    }
    try:
        if len(why) < 4:
            raise desk.field_error("reason", "Give the reason for the reassignment (at least 4 characters).")
        member = await staff_repo.get_staff_by_no(db, number) if number else None
        if member is None:
            raise desk.field_error("staff_no", f"No staff member with staff number {number or '(empty)'}.")
        await followups.reassign(db, actor=principal, follow_up_id=follow_up_id, owner_id=member.id, reason=why)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _render(request, db, principal, **back, error=error_message(exc, locale_of(request)),
                             error_for=follow_up_id, form={"staff_no": number, "reason": why},
                             status_code=exc.status)  # fmt: skip
    return redirect(_query(back["scope"] or "team", back["status"], back["overdue"], back["page"], done="reassigned"))
