"""Home page (per role) and the own-account pages: profile, password change, two-factor set-up."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from kefu.core import i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, NotFound, ValidationFailed
from kefu.core.permissions import Permission
from kefu.staff import auth, service
from kefu.staff import repository as repo
from kefu.staff.models import AuthSession, Staff
from kefu.web.login import enrolment_secret, group_secret, qr_svg
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
DONE_KEYS = {"password", "twofactor"}


async def _me(db: DbSession, principal: Principal) -> Staff:
    staff = await repo.get_staff(db, principal.staff_id)
    if staff is None:
        raise NotFound("Your account no longer exists.")
    return staff


async def _profile(db: DbSession, principal: Principal) -> dict[str, Any]:
    staff = await _me(db, principal)
    team = await repo.get_team(db, staff.team_id) if staff.team_id is not None else None
    session_row = await db.get(AuthSession, principal.session_id) if principal.session_id else None
    return {
        "me": service.masked_view(staff),
        "team": team,
        "staff": staff,
        "signed_in_at": session_row.created_at if session_row else None,
    }


@router.get("/")
async def home(request: Request, db: DbSession, principal: Principal = page_user(Permission.SELF_READ)) -> Response:
    ctx = await _profile(db, principal)
    return render(request, "home.html", ctx)


@router.get("/account")
async def account(
    request: Request, db: DbSession, done: str = "", principal: Principal = page_user(Permission.SELF_READ)
) -> Response:
    ctx = await _profile(db, principal)
    ctx["done"] = done if done in DONE_KEYS else ""
    return render(request, "account.html", ctx)


def _password_error(exc: KefuError, locale: str, min_length: int) -> str:
    errors = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
    fields = {e.get("field") for e in errors}
    if "current_password" in fields:
        return i18n.t("account.password.current_wrong", locale)
    if "password" in fields or any("message" in e for e in errors):  # the policy lists what is missing
        return i18n.t("account.password.policy", locale, min=min_length)
    if "new_password" in fields:
        return i18n.t("account.password.same", locale)
    return error_message(exc, locale)["title"]


@router.get("/account/password")
async def password_page(
    request: Request, principal: Principal = page_user(Permission.SELF_MANAGE, password_change_page=True)
) -> Response:
    return render(request, "account_password.html", {"min_length": settings_of(request).password_min_length})


@router.post("/account/password")
async def password_submit(
    request: Request, db: DbSession, current_password: Field = "", new_password: Field = "",
    confirm_password: Field = "",
    principal: Principal = page_user(Permission.SELF_MANAGE, password_change_page=True),
) -> Response:  # fmt: skip
    locale = locale_of(request)
    min_length = settings_of(request).password_min_length
    ctx: dict[str, Any] = {"min_length": min_length}
    if new_password != confirm_password:
        ctx["error"] = i18n.t("account.password.mismatch", locale)
        return render(request, "account_password.html", ctx, status_code=422)
    try:
        await auth.change_own_password(db, principal=principal, current=current_password[:200],
                                       new=new_password[:200])  # fmt: skip
    except ValidationFailed as exc:
        await db.rollback()
        ctx["error"] = _password_error(exc, locale, min_length)
        return render(request, "account_password.html", ctx, status_code=exc.status)
    return redirect("/account?done=password")


@router.get("/account/two-factor")
async def twofactor_page(
    request: Request, db: DbSession, principal: Principal = page_user(Permission.SELF_MANAGE)
) -> Response:
    staff = await _me(db, principal)
    if staff.totp_enabled:
        return redirect("/account")
    secret, uri = await enrolment_secret(db, staff)
    return render(request, "account_twofactor.html", {"qr": qr_svg(uri), "secret": group_secret(secret)},
                  no_store=True)  # fmt: skip


@router.post("/account/two-factor")
async def twofactor_submit(
    request: Request, db: DbSession, code: Field = "", principal: Principal = page_user(Permission.SELF_MANAGE)
) -> Response:
    staff = await _me(db, principal)
    if staff.totp_enabled:
        return redirect("/account")
    secret, uri = await enrolment_secret(db, staff)
    try:
        await auth.confirm_enrolment(db, staff=staff, code=code[:12])
    except KefuError as exc:
        await db.commit()
        ctx = {"qr": qr_svg(uri), "secret": group_secret(secret),
               "error": i18n.t("login.error.enrol_wrong", locale_of(request))}  # fmt: skip
        return render(request, "account_twofactor.html", ctx, status_code=exc.status, no_store=True)
    return redirect("/account?done=twofactor")
