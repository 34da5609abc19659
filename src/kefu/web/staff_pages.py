"""Staff administration pages: directory with search and filters, create, detail and actions."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, NotFound, ValidationFailed
from kefu.core.ids import RowId
from kefu.core.permissions import Permission, Role
from kefu.staff import repository as repo
from kefu.staff import service
from kefu.staff.models import STAFF_PII, StaffStatus
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
Roles = Annotated[list[str] | None, Form()]
PER_PAGE = 20
STATUSES = [s.value for s in StaffStatus]
ROLES = [r.value for r in Role]
DONE_KEYS = {"created", "updated", "status", "twofactor"}


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 18 else None


def _clean(value: str, limit: int) -> str:
    return value.strip()[:limit]


@router.get("/staff")
async def staff_list(
    request: Request, db: DbSession, q: str = "", status: str = "", team: str = "", role: str = "", page: int = 1,
    principal: Principal = page_user(Permission.STAFF_READ),
) -> Response:  # fmt: skip
    q = _clean(q, 40)
    status = status if status in STATUSES else ""
    role = role if role in ROLES else ""
    team_id = _int(team)
    page = max(1, min(page, 100_000))
    rows, total = await repo.list_staff(
        db, principal=principal, q=q or None, status=status or None, team_id=team_id, role=role or None,
        offset=(page - 1) * PER_PAGE, limit=PER_PAGE,
    )  # fmt: skip
    teams = await repo.list_teams(db)
    filters = {"q": q, "status": status, "team": str(team_id or ""), "role": role}
    base = {k: v for k, v in filters.items() if v}
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    ctx = {
        "items": [service.masked_view(s) for s in rows],
        "total": total,
        "filters": filters,
        "teams": teams,
        "team_names": {t.id: t.name for t in teams},
        "statuses": STATUSES,
        "roles": ROLES,
        "page": page,
        "pages": pages,
        "prev_url": "/staff?" + urlencode({**base, "page": page - 1}) if page > 1 else None,
        "next_url": "/staff?" + urlencode({**base, "page": page + 1}) if page < pages else None,
    }
    return render(request, "staff_list.html", ctx)


def _new_ctx(teams: Any, form: dict[str, Any] | None = None, error: dict[str, str] | None = None) -> dict[str, Any]:
    empty = {"staff_no": "", "name": "", "roles": [], "team_id": "", "phone": "", "email": ""}
    return {"teams": teams, "roles": ROLES, "form": form or empty, "error": error}


@router.get("/staff/new")
async def staff_new(
    request: Request, db: DbSession, principal: Principal = page_user(Permission.STAFF_MANAGE)
) -> Response:
    return render(request, "staff_new.html", _new_ctx(await repo.list_teams(db)))


@router.post("/staff/new")
async def staff_create(
    request: Request, db: DbSession, staff_no: Field = "", name: Field = "", roles: Roles = None,
    team_id: Field = "", password: Field = "", phone: Field = "", email: Field = "",
    principal: Principal = page_user(Permission.STAFF_MANAGE),
) -> Response:  # fmt: skip
    no, who, tel, mail = _clean(staff_no, 20), _clean(name, 80), _clean(phone, 30), _clean(email, 120)
    form = {"staff_no": no, "name": who, "roles": roles or [], "team_id": team_id, "phone": tel, "email": mail}
    locale = locale_of(request)
    try:
        if not no or not who:
            raise ValidationFailed("Give a staff number and a name.", code="missing_fields")
        s = await service.create_staff(
            db, staff_no=no, name=who, roles=roles or [], password=password[:128], team_id=_int(team_id),
            phone=tel or None, email=mail or None,
        )  # fmt: skip
    except KefuError as exc:
        await db.rollback()
        ctx = _new_ctx(await repo.list_teams(db), form, error_message(exc, locale))
        return render(request, "staff_new.html", ctx, status_code=exc.status)
    return redirect(f"/staff/{s.id}?done=created")


async def _detail_ctx(db: AsyncSession, principal: Principal, staff_id: int) -> dict[str, Any]:
    s = await repo.get_staff(db, staff_id, principal=principal)
    if s is None:
        raise NotFound(f"No staff member {staff_id} that you can see.")
    teams = await repo.list_teams(db)
    return {
        "s": service.masked_view(s),
        "staff": s,
        "teams": teams,
        "team_names": {t.id: t.name for t in teams},
        "roles": ROLES,
        "pii_fields": list(STAFF_PII),
        "revealed": None,
        "temp_password": None,
        "error": None,
        "error_for": None,
        "form": {},
    }


@router.get("/staff/{staff_id}")
async def staff_detail(
    request: Request, staff_id: RowId, db: DbSession, done: str = "",
    principal: Principal = page_user(Permission.STAFF_READ),
) -> Response:  # fmt: skip
    ctx = await _detail_ctx(db, principal, staff_id)
    ctx["done"] = done if done in DONE_KEYS else ""
    return render(request, "staff_detail.html", ctx)


async def _failed(
    request: Request, db: AsyncSession, principal: Principal, staff_id: int, exc: KefuError, where: str,
    form: dict[str, Any],
) -> Response:  # fmt: skip
    """Undo the half-done change, then show the page again with the message next to the form."""
    await db.rollback()
    ctx = await _detail_ctx(db, principal, staff_id)
    ctx.update(error=error_message(exc, locale_of(request)), error_for=where, form=form)
    return render(request, "staff_detail.html", ctx, status_code=exc.status)


@router.post("/staff/{staff_id}/edit")
async def staff_edit(
    request: Request, staff_id: RowId, db: DbSession, roles: Roles = None, team_id: Field = "",
    principal: Principal = page_user(Permission.STAFF_MANAGE),
) -> Response:  # fmt: skip
    team = _int(team_id)
    try:
        await service.update_staff(db, actor=principal, staff_id=staff_id, roles=roles or [], team_id=team,
                                   clear_team=team is None)  # fmt: skip
    except KefuError as exc:
        return await _failed(request, db, principal, staff_id, exc, "edit", {"roles": roles or [], "team_id": team})
    return redirect(f"/staff/{staff_id}?done=updated")


@router.post("/staff/{staff_id}/status")
async def staff_status(
    request: Request, staff_id: RowId, db: DbSession, status: Field = "", reason: Field = "",
    principal: Principal = page_user(Permission.STAFF_MANAGE),
) -> Response:  # fmt: skip
    try:
        await service.set_status(db, actor=principal, staff_id=staff_id, status=status, reason=_clean(reason, 500))
    except KefuError as exc:
        return await _failed(request, db, principal, staff_id, exc, "status", {"status": status, "reason": reason})
    return redirect(f"/staff/{staff_id}?done=status")


@router.post("/staff/{staff_id}/password-reset")
async def staff_password_reset(
    request: Request, staff_id: RowId, db: DbSession, principal: Principal = page_user(Permission.STAFF_MANAGE)
) -> Response:
    try:
        _, temp = await service.reset_password(db, actor=principal, staff_id=staff_id)
    except KefuError as exc:
        return await _failed(request, db, principal, staff_id, exc, "password", {})
    ctx = await _detail_ctx(db, principal, staff_id)
    ctx["temp_password"] = temp
    return render(request, "staff_detail.html", ctx, no_store=True)


@router.post("/staff/{staff_id}/totp-reset")
async def staff_totp_reset(
    request: Request, staff_id: RowId, db: DbSession, principal: Principal = page_user(Permission.STAFF_MANAGE)
) -> Response:
    try:
        await service.reset_two_factor(db, actor=principal, staff_id=staff_id)
    except KefuError as exc:
        return await _failed(request, db, principal, staff_id, exc, "twofactor", {})
    return redirect(f"/staff/{staff_id}?done=twofactor")


@router.post("/staff/{staff_id}/reveal")
async def staff_reveal(
    request: Request, staff_id: RowId, db: DbSession, field: Field = "", purpose: Field = "",
    principal: Principal = page_user(Permission.STAFF_REVEAL),
) -> Response:  # fmt: skip
    try:
        value = await service.reveal(db, actor=principal, staff_id=staff_id, field=field, purpose=_clean(purpose, 500))
    except KefuError as exc:
        return await _failed(request, db, principal, staff_id, exc, "reveal", {"field": field, "purpose": purpose})
    ctx = await _detail_ctx(db, principal, staff_id)
    ctx["revealed"] = {"field": field, "value": value}
    return render(request, "staff_detail.html", ctx, no_store=True)
