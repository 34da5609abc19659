"""Signing in: passwords with lockout, TOTP two-factor, web sessions, API tokens and API keys."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

import pyotp
from fastapi import Request
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, runtime
from kefu.core.auth import SESSION_COOKIE, Principal
from kefu.core.errors import AuthFailed, Conflict, Locked, PermissionDenied, ValidationFailed
from kefu.core.ids import new_token, token_digest
from kefu.core.permissions import Permission, Role, clearance_for, permissions_for
from kefu.staff import repository as repo
from kefu.staff.models import ApiKey, AuthSession, Staff, StaffStatus
from kefu.staff.passwords import burn_time, check_policy, hash_password, verify_password

TOTP_ISSUER = "Kefu"


def _digest(token: str) -> str:
    return token_digest(token, runtime.get().settings.secret_bytes())


def totp_required(staff: Staff) -> bool:
    required = set(runtime.get().settings.totp_required_roles)
    return any(r.role in required for r in staff.roles)


@dataclass
class LoginResult:
    staff: Staff
    needs_totp: bool  # password ok; a code is still needed
    needs_enrolment: bool  # two-factor is required but not set up yet


async def check_password(
    session: AsyncSession, *, staff_no: str, password: str, totp: str | None = None
) -> LoginResult:
    """Check the password (and the TOTP code when given). Failures count toward lockout."""
    settings = runtime.get().settings
    now = clock.now()
    staff = await repo.get_staff_by_no(session, staff_no.strip())
    if staff is None:
        burn_time(password)
        await audit.record(session, action="auth.login_failed", object_type="staff_no", object_id=staff_no[:20],
                           outcome="failed", after={"reason": "unknown"}, actor="anonymous")  # fmt: skip
        raise AuthFailed("Staff number or password is wrong.")
    if staff.locked_until is not None and staff.locked_until > now:
        minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
        await audit.record(session, action="auth.login_refused", object_type="staff", object_id=staff.id,
                           outcome="locked", actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
        raise Locked(
            f"This account is locked after repeated failures. Try again in {minutes} minute(s) "
            "or ask an administrator to reset the password.",
            extra={"retry_after_minutes": minutes},
        )
    ok, rehash = verify_password(staff.password_hash, password)
    if ok and totp is not None and staff.totp_enabled:
        ok = _check_totp(staff, totp)
        reason = "totp"
    else:
        reason = "password"
    if not ok:
        staff.failed_logins += 1
        locked = staff.failed_logins >= settings.lockout_threshold
        if locked:
            staff.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            staff.failed_logins = 0
        await audit.record(session, action="auth.login_failed", object_type="staff", object_id=staff.id,
                           outcome="failed", after={"reason": reason, "locked": locked},
                           actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
        if locked:
            raise Locked(
                f"Too many failed attempts: the account is locked for {settings.lockout_minutes} minutes.",
                extra={"retry_after_minutes": settings.lockout_minutes},
            )
        what = "two-factor code" if reason == "totp" else "staff number or password"
        raise AuthFailed(f"The {what} is wrong.")
    if staff.status != StaffStatus.ACTIVE.value:
        await audit.record(session, action="auth.login_refused", object_type="staff", object_id=staff.id,
                           outcome=staff.status, actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
        raise AuthFailed("This account is not active. Ask your administrator.", code="account_inactive")
    if rehash:
        staff.password_hash = hash_password(password)
    max_age = settings.password_max_age_days
    if max_age and not staff.must_change_password and now - staff.password_changed_at > dt.timedelta(days=max_age):
        staff.must_change_password = True
        await audit.record(session, action="auth.password_expired", object_type="staff", object_id=staff.id,
                           actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
    needs_enrolment = totp_required(staff) and not staff.totp_enabled
    needs_totp = staff.totp_enabled and totp is None
    if not needs_totp:
        staff.failed_logins = 0
        staff.locked_until = None
    return LoginResult(staff=staff, needs_totp=needs_totp, needs_enrolment=needs_enrolment)


def _check_totp(staff: Staff, code: str) -> bool:
    if not staff.totp_secret:
        return False
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(staff.totp_secret)
    now = clock.now()
    for drift in (0, -1, 1):
        at = now + dt.timedelta(seconds=30 * drift)
        step = int(at.timestamp()) // 30
        if secrets.compare_digest(totp.at(at), code):
            if staff.totp_last_step is not None and step <= staff.totp_last_step:
                return False  # a code is good once
            staff.totp_last_step = step
            return True
    return False


async def start_session(
    session: AsyncSession, *, staff: Staff, kind: str, client_addr: str | None, user_agent: str | None
) -> tuple[str, AuthSession]:
    settings = runtime.get().settings
    now = clock.now()
    lifetime = {
        "web": dt.timedelta(hours=settings.session_max_hours),
        "api": dt.timedelta(hours=settings.token_hours),
        "pending": dt.timedelta(minutes=5),
    }[kind]
    token = new_token({"web": "kfs", "api": "kft", "pending": "kfp"}[kind])
    row = AuthSession(
        staff_id=staff.id, kind=kind, token_hash=_digest(token), csrf_token=secrets.token_urlsafe(24),
        created_at=now, last_seen_at=now, expires_at=now + lifetime,
        client_addr=client_addr, user_agent=(user_agent or "")[:200],
    )  # fmt: skip
    replaced = 0
    if kind == "web" and settings.single_web_session:
        # R3.2: one desk, one person; a second sign-in elsewhere ends the first (and is audited)
        result = await session.execute(
            update(AuthSession)
            .where(AuthSession.staff_id == staff.id, AuthSession.kind == "web", AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="replaced")
        )
        replaced = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.add(row)
    if kind != "pending":
        staff.last_login_at = now
    await session.flush()
    await audit.record(session, action="auth.session_start", object_type="staff", object_id=staff.id,
                       after={"kind": kind, "session_id": row.id, "replaced_sessions": replaced},
                       actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
    return token, row


async def end_session(session: AsyncSession, *, principal: Principal) -> None:
    if principal.session_id is None:
        return
    row = await session.get(AuthSession, principal.session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        row.revoked_reason = "logout"
        await audit.record(session, action="auth.logout", object_type="staff", object_id=principal.staff_id)


async def pending_staff(session: AsyncSession, token: str | None) -> tuple[AuthSession, Staff] | None:
    """The staff member behind a pending (password-checked, two-factor outstanding) sign-in."""
    if not token:
        return None
    row = await repo.session_by_hash(session, _digest(token))
    if row is None or row.kind != "pending" or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    staff = await repo.get_staff(session, row.staff_id)
    if staff is None or staff.status != StaffStatus.ACTIVE.value:
        return None
    return row, staff


async def begin_enrolment(session: AsyncSession, *, staff: Staff) -> tuple[str, str]:
    """Create a new TOTP secret (not yet active). Returns (secret, otpauth URI)."""
    if staff.totp_enabled:
        raise Conflict("Two-factor sign-in is already set up for this account.")
    secret = pyotp.random_base32()
    staff.totp_secret = secret
    await session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.staff_no, issuer_name=TOTP_ISSUER)
    return secret, uri


async def confirm_enrolment(session: AsyncSession, *, staff: Staff, code: str) -> None:
    if staff.totp_enabled:
        raise Conflict("Two-factor sign-in is already set up for this account.")
    if not staff.totp_secret or not _check_totp(staff, code):
        raise AuthFailed("The code does not match. Check the time on your phone and type the current code.")
    staff.totp_enabled = True
    await audit.record(session, action="auth.totp_enrolled", object_type="staff", object_id=staff.id,
                       actor=staff.staff_no, actor_id=staff.id)  # fmt: skip


async def verify_second_factor(session: AsyncSession, *, staff: Staff, code: str) -> None:
    """The web sign-in's second step. Wrong codes count toward the same lockout as passwords."""
    settings = runtime.get().settings
    now = clock.now()
    if staff.locked_until is not None and staff.locked_until > now:
        raise Locked("This account is locked after repeated failures. Try again later.")
    if not _check_totp(staff, code):
        staff.failed_logins += 1
        locked = staff.failed_logins >= settings.lockout_threshold
        if locked:
            staff.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            staff.failed_logins = 0
        await audit.record(session, action="auth.login_failed", object_type="staff", object_id=staff.id,
                           outcome="failed", after={"reason": "totp", "locked": locked},
                           actor=staff.staff_no, actor_id=staff.id)  # fmt: skip
        if locked:
            raise Locked(f"Too many failed attempts: the account is locked for {settings.lockout_minutes} minutes.")
        raise AuthFailed("The two-factor code is wrong.")
    staff.failed_logins = 0
    staff.locked_until = None


async def change_own_password(session: AsyncSession, *, principal: Principal, current: str, new: str) -> None:
    staff = await repo.get_staff(session, principal.staff_id)
    assert staff is not None  # noqa: S101
    ok, _ = verify_password(staff.password_hash, current)
    if not ok:
        raise ValidationFailed("The current password is wrong.", extra={"errors": [{"field": "current_password"}]})
    if current == new:
        raise ValidationFailed("Choose a password different from the current one.",
                               extra={"errors": [{"field": "new_password"}]})  # fmt: skip
    check_policy(
        new, staff_no=staff.staff_no, min_length=runtime.get().settings.password_min_length, field="new_password"
    )
    staff.password_hash = hash_password(new)
    staff.password_changed_at = clock.now()
    staff.must_change_password = False
    await audit.record(session, action="auth.password_changed", object_type="staff", object_id=staff.id)


# ---- principal resolution (registered with core.auth) ------------------------------------------


def _principal(staff: Staff, *, kind: str, **kw: object) -> Principal:
    roles = frozenset(Role(r.role) for r in staff.roles)
    return Principal(
        staff_id=staff.id, staff_no=staff.staff_no, name=staff.name, roles=roles,
        permissions=permissions_for(roles), team_id=staff.team_id, kind=kind,
        clearance=clearance_for(roles), locale=staff.locale,
        must_change_password=staff.must_change_password, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def principal_for(staff: Staff, *, kind: str) -> Principal:
    """The principal of a staff member acting outside a request (``kind`` e.g. "cli")."""
    return _principal(staff, kind=kind)


async def resolve(request: Request, session: AsyncSession) -> Principal | None:
    now = clock.now()
    api_key = request.headers.get("x-api-key")
    authz = request.headers.get("authorization", "")
    bearer = authz[7:].strip() if authz.lower().startswith("bearer ") else None
    if bearer and bearer.startswith("kfk_"):
        api_key, bearer = bearer, None
    if api_key:
        key = await repo.api_key_by_hash(session, _digest(api_key))
        if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            return None
        staff = await repo.get_staff(session, key.owner_id)
        if staff is None or staff.status != StaffStatus.ACTIVE.value:
            return None
        if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
            key.last_used_at = now
        p = _principal(staff, kind="apikey", api_key_id=key.id)
        p.permissions = frozenset(Permission(s) for s in json.loads(key.scopes) if s in Permission.__members__.values())
        p.clearance = None
        return p
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    row = await repo.session_by_hash(session, _digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.kind == "pending":
        return None
    if bearer is None and row.kind != "web":
        return None
    settings = runtime.get().settings
    if row.kind == "web" and now - row.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes):
        return None
    staff = await repo.get_staff(session, row.staff_id)
    if staff is None or staff.status != StaffStatus.ACTIVE.value:
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=60):
        row.last_seen_at = now
    return _principal(staff, kind=row.kind, session_id=row.id, csrf_token=row.csrf_token)


# ---- API keys ----------------------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession, *, actor: Principal, name: str, scopes: list[str], expires_days: int | None
) -> tuple[str, ApiKey]:
    try:
        perms = sorted({Permission(s) for s in scopes})
    except ValueError as exc:
        raise ValidationFailed(
            f"Unknown scope. Scopes are permission names: {', '.join(p.value for p in Permission)}.",
            extra={"errors": [{"field": "scopes"}]},
        ) from exc
    if not perms:
        raise ValidationFailed("Give at least one scope.", extra={"errors": [{"field": "scopes"}]})
    beyond = [p for p in perms if not actor.can(p)]
    if beyond:
        raise PermissionDenied(f"A key cannot carry scopes you do not hold yourself: {', '.join(beyond)}.")
    token = new_token("kfk")
    now = clock.now()
    key = ApiKey(
        name=name, prefix=token[:10], key_hash=_digest(token), scopes=json.dumps([p.value for p in perms]),
        owner_id=actor.staff_id, created_at=now,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days else None,
    )  # fmt: skip
    session.add(key)
    await session.flush()
    await audit.record(session, action="apikey.create", object_type="api_key", object_id=key.id,
                       after={"name": name, "scopes": [p.value for p in perms], "prefix": key.prefix})  # fmt: skip
    return token, key


async def revoke_api_key(session: AsyncSession, *, key_id: int) -> ApiKey:
    from kefu.core.errors import NotFound

    key = await repo.get_api_key(session, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.revoked_reason = "revoked"
        await audit.record(session, action="apikey.revoke", object_type="api_key", object_id=key.id)
    return key
