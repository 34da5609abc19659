"""Typed request dependencies: ``DbSession``, ``CurrentStaff``, ``require(Permission.X)``, ``public()``.

The staff domain registers the resolver that turns a cookie, bearer token or API key into a
``Principal``; core only knows the shape of a principal and how to check it against the matrix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, context
from kefu.core.crypto import DataClass
from kefu.core.db import run_after_commit
from kefu.core.errors import KefuError, NotAuthenticated, PermissionDenied
from kefu.core.observability import route_template
from kefu.core.permissions import Permission, Role

log = structlog.get_logger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_SELF_PERMS = {Permission.SELF_READ, Permission.SELF_MANAGE}
SESSION_COOKIE = "kefu_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass
class Principal:
    staff_id: int
    staff_no: str
    name: str
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    team_id: int | None
    kind: str  # web | api | apikey | pending
    session_id: int | None = None
    api_key_id: int | None = None
    csrf_token: str | None = None
    clearance: DataClass | None = None
    locale: str = "zh-Hans"
    must_change_password: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.kind == "apikey":
            return f"apikey:{self.api_key_id}({self.staff_no})"
        return self.staff_no

    def can(self, perm: Permission) -> bool:
        return perm in self.permissions


Resolver = Callable[[Request, AsyncSession], Awaitable[Principal | None]]
_resolver: Resolver | None = None


def set_resolver(fn: Resolver) -> None:
    global _resolver
    _resolver = fn


# ---- database session per request (convention 1) ---------------------------------------------


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    rt = request.app.state.runtime
    committed = False
    try:
        async with rt.db.writer():
            session: AsyncSession = rt.db.sessionmaker()
            try:
                yield session
            except KefuError as exc:
                if exc.commit:
                    await session.commit()
                    committed = True
                else:
                    await session.rollback()
                await session.close()
                raise
            except BaseException:
                await session.rollback()
                await session.close()
                raise
            else:
                await session.commit()
                committed = True
                await session.close()
    finally:
        if committed:
            await run_after_commit(session)


DbSession = Annotated[AsyncSession, Depends(get_db)]


async def resolve_principal(request: Request, db: AsyncSession) -> Principal | None:
    if "principal" in request.state._state:
        return request.state.principal  # type: ignore[no-any-return]
    if _resolver is None:
        raise RuntimeError("no principal resolver configured")
    principal = await _resolver(request, db)
    request.state.principal = principal
    if principal is not None:
        ctx = context.current()
        ctx.actor_id = principal.staff_id
        ctx.actor_label = principal.label
        structlog.contextvars.bind_contextvars(actor=principal.label)
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.kind != "web" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or sent != principal.csrf_token:
        raise PermissionDenied(
            "The form's security token is missing or out of date. Reload the page and try again.",
            code="csrf_failed",
        )


async def audit_denial(request: Request, db: AsyncSession, principal: Principal | None, reason: str) -> None:
    """Record a denial in the request's own transaction; the error raised after it commits (so the
    entry survives) because nothing else has been written yet when a route's permission is checked."""
    await audit.record(
        db,
        action="auth.denied",
        object_type="route",
        object_id=f"{request.method} {route_template(request.scope)}"[:80],
        outcome="denied",
        after={"reason": reason},
        actor_id=principal.staff_id if principal else None,
        actor=principal.label if principal else "anonymous",
    )


def require(*perms: Permission) -> Any:
    """Dependency: a signed-in principal holding every permission in ``perms``."""

    async def dependency(request: Request, db: DbSession) -> Principal:
        principal = await resolve_principal(request, db)
        if principal is None or principal.kind == "pending":
            raise NotAuthenticated(
                "Sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token, "
                "an X-API-Key header, or use the web login."
            )
        if principal.must_change_password and any(p not in _SELF_PERMS for p in perms):
            raise PermissionDenied(
                "Change your temporary password first (POST /api/v1/staff/me/password, or the account page).",
                code="password_change_required",
            )
        missing = [p for p in perms if not principal.can(p)]
        if missing:
            await audit_denial(request, db, principal, "missing " + ",".join(missing))
            raise PermissionDenied(
                f"Your role does not allow this ({', '.join(missing)}). Ask an administrator if you need it.",
                extra={"required": list(missing)},
                commit=True,
            )
        try:
            await _check_csrf(request, principal)
        except PermissionDenied as exc:
            await audit_denial(request, db, principal, "csrf")
            exc.commit = True
            raise
        return principal

    dependency.kefu_permissions = perms  # type: ignore[attr-defined]
    return Depends(dependency)


def public() -> Any:
    """Marks a route as open to anyone (login, health); the route walker test relies on it."""

    async def dependency() -> None:
        return None

    dependency.kefu_public = True  # type: ignore[attr-defined]
    return Depends(dependency)


CurrentStaff = Annotated[Principal, require(Permission.SELF_READ)]


def iter_routes(app: Any) -> list[Any]:
    """Every route of the app, flattened through included routers (FastAPI keeps those nested)."""
    from fastapi.routing import iter_route_contexts

    return list(iter_route_contexts(app.routes))


def route_permissions(route: Any) -> tuple[bool, tuple[Permission, ...]]:
    """(is_public, permissions) declared by a route's dependencies, searched recursively."""
    found: list[Permission] = []
    is_public = False

    def walk(dep: Any) -> None:
        nonlocal is_public
        call = getattr(dep, "call", None)
        if call is not None:
            if getattr(call, "kefu_public", False):
                is_public = True
            found.extend(getattr(call, "kefu_permissions", ()))
        for sub in getattr(dep, "dependencies", []):
            walk(sub)

    walk(route.dependant)
    return is_public, tuple(dict.fromkeys(found))
