"""Sign-in pages: password, the two-factor step, first-time two-factor enrolment, sign-out."""

from typing import Annotated, Any
from urllib.parse import quote

import pyotp
import segno
from fastapi import APIRouter, Form, Request, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock, i18n
from kefu.core.auth import SESSION_COOKIE, DbSession, Principal, public, resolve_principal
from kefu.core.errors import AuthFailed, KefuError, Locked
from kefu.core.permissions import Permission
from kefu.staff import auth
from kefu.staff.models import AuthSession, Staff
from kefu.web.pages import (
    PENDING_COOKIE,
    PageRoute,
    client_addr,
    error_message,
    locale_of,
    page_user,
    pre_csrf_ok,
    pre_csrf_token,
    redirect,
    render,
    safe_next,
    set_pre_csrf_cookie,
    settings_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]


def login_error(exc: KefuError, locale: str) -> str:
    """The sign-in failures in the reader's language (the service's texts are English)."""
    if isinstance(exc, Locked):
        minutes = exc.extra.get("retry_after_minutes", 1)
        return i18n.t("login.error.locked", locale, minutes=minutes)
    if exc.code == "account_inactive":
        return i18n.t("login.error.inactive", locale)
    if "two-factor" in exc.detail:
        return i18n.t("login.error.totp_wrong", locale)
    if isinstance(exc, AuthFailed):
        return i18n.t("login.error.wrong", locale)
    return error_message(exc, locale)["title"]


def _form_page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    token, new_cookie = pre_csrf_token(request)
    response = render(request, template, {"form_token": token, **context}, status_code=status_code, no_store=True)
    set_pre_csrf_cookie(request, response, new_cookie)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, *, path: str = "/",
                max_age: int | None = None) -> None:  # fmt: skip
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=settings_of(request).cookie_secure,
                        path=path, max_age=max_age)  # fmt: skip


async def _finish(request: Request, db: AsyncSession, staff: Staff, pending: AuthSession | None, nxt: str) -> Response:
    if pending is not None:
        pending.revoked_at = clock.now()
        pending.revoked_reason = "completed"
    token, _ = await auth.start_session(db, staff=staff, kind="web", client_addr=client_addr(request),
                                        user_agent=request.headers.get("user-agent"))  # fmt: skip
    response = redirect(safe_next(nxt))
    _set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(PENDING_COOKIE, path="/login")
    return response


@router.get("/login", dependencies=[public()])
async def login_page(request: Request, db: DbSession, next: str = "/", expired: int = 0) -> Response:
    principal = await resolve_principal(request, db)
    if principal is not None and principal.kind == "web":
        return redirect(safe_next(next))
    notice = i18n.t("login.expired", locale_of(request)) if expired else None
    return _form_page(request, "login.html", {"next": safe_next(next), "staff_no": "", "notice": notice})


@router.post("/login", dependencies=[public()])
async def login_submit(
    request: Request, db: DbSession, staff_no: Field = "", password: Field = "", csrf_token: Field = "",
    next: Field = "/",
) -> Response:  # fmt: skip
    locale = locale_of(request)
    nxt = safe_next(next)
    ctx: dict[str, Any] = {"next": nxt, "staff_no": staff_no.strip()[:20]}
    if not pre_csrf_ok(request, csrf_token):
        return _form_page(request, "login.html", {**ctx, "error": i18n.t("error.csrf", locale)}, 403)
    if not staff_no.strip() or not password:
        return _form_page(request, "login.html", {**ctx, "error": i18n.t("login.error.missing", locale)}, 422)
    try:
        result = await auth.check_password(db, staff_no=staff_no.strip()[:20], password=password[:200])
    except (AuthFailed, Locked) as exc:
        await db.commit()  # failed attempts count toward lockout and stay in the audit log
        return _form_page(request, "login.html", {**ctx, "error": login_error(exc, locale)}, exc.status)
    if not (result.needs_totp or result.needs_enrolment):
        return await _finish(request, db, result.staff, None, nxt)
    token, _ = await auth.start_session(db, staff=result.staff, kind="pending", client_addr=client_addr(request),
                                        user_agent=request.headers.get("user-agent"))  # fmt: skip
    step = "/login/totp" if result.needs_totp else "/login/enrol"
    response = redirect(f"{step}?next={quote(nxt, safe='')}" if nxt != "/" else step)
    _set_cookie(request, response, PENDING_COOKIE, token, path="/login", max_age=300)
    return response


async def _pending(request: Request, db: AsyncSession) -> tuple[AuthSession, Staff] | None:
    found = await auth.pending_staff(db, request.cookies.get(PENDING_COOKIE))
    if found is None:
        return None
    row, staff = found
    if staff.locked_until is not None and staff.locked_until > clock.now():
        row.revoked_at = clock.now()
        row.revoked_reason = "locked"
        return None
    return found


def _expired() -> Response:
    response = redirect("/login?expired=1")
    response.delete_cookie(PENDING_COOKIE, path="/login")
    return response


@router.get("/login/totp", dependencies=[public()])
async def totp_page(request: Request, db: DbSession, next: str = "/") -> Response:
    found = await _pending(request, db)
    if found is None:
        return _expired()
    return _form_page(request, "login_totp.html", {"next": safe_next(next), "staff_no": found[1].staff_no})


@router.post("/login/totp", dependencies=[public()])
async def totp_submit(
    request: Request, db: DbSession, code: Field = "", csrf_token: Field = "", next: Field = "/"
) -> Response:
    locale = locale_of(request)
    found = await _pending(request, db)
    if found is None:
        return _expired()
    row, staff = found
    ctx = {"next": safe_next(next), "staff_no": staff.staff_no}
    if not pre_csrf_ok(request, csrf_token):
        return _form_page(request, "login_totp.html", {**ctx, "error": i18n.t("error.csrf", locale)}, 403)
    try:
        await auth.verify_second_factor(db, staff=staff, code=code[:12])
    except AuthFailed as exc:
        if staff.locked_until is not None and staff.locked_until > clock.now():
            row.revoked_at = clock.now()
            row.revoked_reason = "locked"
        await db.commit()
        return _form_page(request, "login_totp.html", {**ctx, "error": login_error(exc, locale)}, exc.status)
    return await _finish(request, db, staff, row, ctx["next"])


def qr_svg(uri: str) -> Markup:
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#10243e", light="#ffffff", border=2)
    return Markup(svg)  # noqa: S704 - segno output: an SVG built from the URI, no user markup


async def enrolment_secret(db: AsyncSession, staff: Staff) -> tuple[str, str]:
    """The not-yet-confirmed secret (kept across page reloads so a scanned code stays valid)."""
    if staff.totp_secret and not staff.totp_enabled:
        secret = staff.totp_secret
        return secret, pyotp.TOTP(secret).provisioning_uri(name=staff.staff_no, issuer_name=auth.TOTP_ISSUER)
    return await auth.begin_enrolment(db, staff=staff)


def group_secret(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@router.get("/login/enrol", dependencies=[public()])
async def enrol_page(request: Request, db: DbSession, next: str = "/") -> Response:
    found = await _pending(request, db)
    if found is None:
        return _expired()
    staff = found[1]
    if staff.totp_enabled:
        return redirect("/login/totp")
    secret, uri = await enrolment_secret(db, staff)
    ctx = {"next": safe_next(next), "staff_no": staff.staff_no, "qr": qr_svg(uri), "secret": group_secret(secret)}
    return _form_page(request, "login_enrol.html", ctx)


@router.post("/login/enrol", dependencies=[public()])
async def enrol_submit(
    request: Request, db: DbSession, code: Field = "", csrf_token: Field = "", next: Field = "/"
) -> Response:
    locale = locale_of(request)
    found = await _pending(request, db)
    if found is None:
        return _expired()
    row, staff = found
    if staff.totp_enabled:
        return redirect("/login/totp")
    secret, uri = await enrolment_secret(db, staff)
    ctx: dict[str, Any] = {"next": safe_next(next), "staff_no": staff.staff_no, "qr": qr_svg(uri),
                           "secret": group_secret(secret)}  # fmt: skip
    if not pre_csrf_ok(request, csrf_token):
        return _form_page(request, "login_enrol.html", {**ctx, "error": i18n.t("error.csrf", locale)}, 403)
    try:
        await auth.confirm_enrolment(db, staff=staff, code=code[:12])
    except KefuError as exc:
        await db.commit()
        return _form_page(request, "login_enrol.html", {**ctx, "error": i18n.t("login.error.enrol_wrong", locale)},
                          exc.status)  # fmt: skip
    return await _finish(request, db, staff, row, ctx["next"])


@router.post("/logout")
async def logout(
    request: Request, db: DbSession,
    principal: Principal = page_user(Permission.SELF_READ, password_change_page=True),
) -> Response:  # fmt: skip
    await auth.end_session(db, principal=principal)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}", dependencies=[public()])
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """The language menu: remembers the choice in the ``kefu_lang`` cookie for a year."""
    response = redirect(safe_next(next))
    locale = i18n.normalise(code)
    if locale is not None:
        response.set_cookie(i18n.LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", path="/",
                            secure=settings_of(request).cookie_secure, httponly=True)  # fmt: skip
    return response
