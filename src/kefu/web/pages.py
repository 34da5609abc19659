"""Shared machinery of the server-rendered pages: templates, locale, CSRF, page routes and errors.

Page routes use ``PageRoute``: it turns the errors that the API renders as problem+json into what a
browser needs (a redirect to the login page, a friendly 403/404 page). API routes are untouched.
"""

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from kefu.core import clock, i18n
from kefu.core.auth import Principal, require
from kefu.core.errors import KefuError, NotAuthenticated, NotFound, PermissionDenied
from kefu.core.permissions import Permission

WEB_DIR = Path(__file__).resolve().parent
PRE_CSRF_COOKIE = "kefu_csrf"
PENDING_COOKIE = "kefu_pending"
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: the same policy for a page shown in a frame of the agent desktop (``?embed=1``): framed by this site only
CSP_EMBED = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
PASSWORD_PAGE = "/account/password"  # noqa: S105 - a page address, not a secret

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))


@pass_context
def _t(ctx: Context, key: str, **params: Any) -> str:
    return i18n.t(key, ctx.get("locale"), **params)


@pass_context
def _when(ctx: Context, value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    return clock.local(value, ctx.get("timezone") or "Asia/Shanghai").strftime(fmt)


def _yuan(fen: int | None) -> str:
    """Integer fen as yuan with thousands separators: 123450 -> '1,234.50'."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


templates.env.globals["t"] = _t
templates.env.filters["t"] = _t
templates.env.filters["when"] = _when
templates.env.filters["yuan"] = _yuan
templates.env.globals["LOCALES"] = i18n.LOCALES


class PageRedirect(Exception):
    """Raised by page dependencies to send the browser elsewhere (e.g. to change a password first)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def settings_of(request: Request) -> Any:
    return request.app.state.runtime.settings


def locale_of(request: Request, principal: Principal | None = None) -> str:
    if principal is None:
        principal = getattr(request.state, "principal", None)
    settings = settings_of(request)
    return i18n.choose_locale(
        request.cookies.get(i18n.LANG_COOKIE), principal.locale if principal else None, settings.default_locale
    )


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: never an open redirect to another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\n" in value or "\r" in value:
        return default
    return value


NAV: tuple[tuple[str, str, tuple[Permission, ...]], ...] = (
    ("home", "/", (Permission.SELF_READ,)),
    ("phone", "/phone", (Permission.CONTACT_HANDLE,)),
    ("customers", "/customers", (Permission.CUSTOMER_READ,)),
    ("contacts", "/contacts", (Permission.CONTACT_READ,)),
    ("follow_ups", "/follow-ups", (Permission.CONTACT_HANDLE,)),
    ("messages", "/messages", (Permission.CONTACT_HANDLE,)),
    ("kb", "/kb", (Permission.KB_READ,)),
    ("kb_workbench", "/kb/workbench", (Permission.KB_EDIT,)),
    ("bulletins", "/bulletins", (Permission.KB_READ,)),
    ("complaints", "/complaints", (Permission.COMPLAINT_READ,)),
    ("complaint_reports", "/complaints/reports", (Permission.COMPLAINT_REPORT,)),
    ("wallboard", "/wallboard", (Permission.ROUTING_MONITOR,)),
    ("scripts", "/scripts", (Permission.SCRIPT_MANAGE,)),
    ("manual_requests", "/manual-requests", (Permission.BANKING_MANUAL,)),
    ("staff", "/staff", (Permission.STAFF_READ,)),
    ("audit", "/audit", (Permission.AUDIT_READ,)),
    ("account", "/account", (Permission.SELF_READ,)),
)


def nav_for(principal: Principal | None) -> list[dict[str, str]]:
    if principal is None:
        return []
    return [
        {"key": key, "href": href}
        for key, href, perms in NAV
        if all(principal.can(p) for p in perms) and not (principal.must_change_password and key != "account")
    ]


def embedded(request: Request) -> bool:
    """A page asked for in the desktop's business dialog: ``?embed=1``, or any later page of that frame
    (a form posted or a link followed inside it; browsers say so with ``Sec-Fetch-Dest: iframe``)."""
    return request.query_params.get("embed") == "1" or request.headers.get("sec-fetch-dest") == "iframe"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
    no_store: bool = False,
) -> HTMLResponse:
    if principal is None:
        principal = getattr(request.state, "principal", None)
    settings = settings_of(request)
    locale = locale_of(request, principal)
    ctx: dict[str, Any] = {
        "locale": locale,
        "timezone": settings.timezone,
        "principal": principal,
        "nav": nav_for(principal),
        "csrf_token": principal.csrf_token if principal is not None and principal.kind == "web" else "",
        "current_path": request.url.path,
        "current_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "quote": quote,
        "Permission": Permission,
        "embed": embedded(request),
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    framed = bool(ctx.get("embed"))
    response.headers.setdefault("Content-Security-Policy", CSP_EMBED if framed else CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framed else "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, message_key: str, detail: str | None = None) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message_key": message_key, "detail": detail},
                  status_code=status)  # fmt: skip


def error_message(exc: KefuError, locale: str) -> dict[str, str]:
    """A translated heading for a service error plus the service's own detail."""
    key = f"error.{exc.code}"
    return {"title": i18n.t(key if i18n.has(key) else "error.generic", locale), "detail": exc.detail}


class PageRoute(APIRoute):
    """An APIRoute whose sign-in and permission failures become browser-friendly pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except PageRedirect as exc:
                return redirect(exc.url)
            except NotAuthenticated:
                target = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                if request.method != "GET" or target == "/":
                    return redirect("/login")
                return redirect("/login?next=" + quote(target, safe=""))
            except PermissionDenied as exc:
                key = "error.csrf" if exc.code == "csrf_failed" else "error.forbidden"
                return error_page(request, 403, key)
            except NotFound:
                return error_page(request, 404, "error.not_found")
            except RequestValidationError:
                return error_page(request, 400, "error.bad_request")

        return handler


def page_user(*perms: Permission, password_change_page: bool = False) -> Any:
    """Dependency for a signed-in page: ``require(*perms)``, then the forced password change."""

    async def dependency(principal: Principal = require(*perms)) -> Principal:
        if principal.must_change_password and not password_change_page:
            raise PageRedirect(PASSWORD_PAGE)
        return principal

    return Depends(dependency)


# ---- pre-session CSRF: a signed double-submit cookie for the sign-in forms ----------------------


def _sign(request: Request, nonce: str) -> str:
    key = settings_of(request).secret_bytes()
    return hmac.new(key, b"kefu-login-csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def pre_csrf_token(request: Request) -> tuple[str, str | None]:
    """(token for the form, new cookie value to set or None when the browser already has one)."""
    nonce = request.cookies.get(PRE_CSRF_COOKIE)
    if nonce and 20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return _sign(request, nonce), None
    nonce = secrets.token_urlsafe(24)
    return _sign(request, nonce), nonce


def set_pre_csrf_cookie(request: Request, response: Response, nonce: str | None) -> None:
    if nonce is not None:
        response.set_cookie(PRE_CSRF_COOKIE, nonce, httponly=True, samesite="lax",
                            secure=settings_of(request).cookie_secure, path="/")  # fmt: skip


def pre_csrf_ok(request: Request, sent: str | None) -> bool:
    nonce = request.cookies.get(PRE_CSRF_COOKIE)
    if not nonce or not sent:
        return False
    return hmac.compare_digest(_sign(request, nonce), sent)


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None
