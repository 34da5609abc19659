"""Staff administration rules: create, change post, suspend, leave, reset password, reveal data.

Keyword-only functions; they never commit (convention 1) and audit every change (convention 3).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, events, pii, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import MASKERS, blind_index
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import Role
from kefu.staff import repository as repo
from kefu.staff.models import STAFF_PII, ApiKey, AuthSession, Staff, StaffRole, StaffStatus, Team
from kefu.staff.passwords import check_policy, hash_password

STATUS_EVENT = "staff.status_changed"
POST_EVENT = "staff.post_changed"


def masked_view(s: Staff) -> dict[str, Any]:
    """What screens, responses and audit entries may show of a staff member."""
    return {
        "id": s.id,
        "staff_no": s.staff_no,
        "name": s.name,
        "team_id": s.team_id,
        "status": s.status,
        "roles": sorted(r.role for r in s.roles),
        "phone": MASKERS["phone"](s.phone),
        "email": MASKERS["email"](s.email),
        "id_number": MASKERS["id_number"](s.id_number),
        "totp_enabled": s.totp_enabled,
    }


def _check_roles(roles: list[str]) -> list[Role]:
    if not roles:
        raise ValidationFailed("Give at least one role.", extra={"errors": [{"field": "roles"}]})
    try:
        return sorted({Role(r) for r in roles})
    except ValueError as exc:
        raise ValidationFailed(
            f"Unknown role. Roles are: {', '.join(r.value for r in Role)}.",
            extra={"errors": [{"field": "roles", "message": str(exc)}]},
        ) from exc


def _set_pii(s: Staff, *, phone: str | None, email: str | None, id_number: str | None) -> None:
    if phone is not None:
        s.phone = phone or None
        s.phone_bidx = blind_index(phone, context="staff.phone") if phone else None
    if email is not None:
        s.email = email or None
    if id_number is not None:
        s.id_number = id_number or None
        s.id_number_bidx = blind_index(id_number, context="staff.id_number") if id_number else None


async def _team_or_error(session: AsyncSession, team_id: int | None) -> None:
    if team_id is not None and await repo.get_team(session, team_id) is None:
        raise ValidationFailed(f"Team {team_id} does not exist.", extra={"errors": [{"field": "team_id"}]})


async def create_staff(
    session: AsyncSession,
    *,
    staff_no: str,
    name: str,
    roles: list[str],
    password: str,
    team_id: int | None = None,
    phone: str | None = None,
    email: str | None = None,
    id_number: str | None = None,
    locale: str = "zh-Hans",
    must_change_password: bool = True,
) -> Staff:
    settings = runtime.get().settings
    role_list = _check_roles(roles)
    if await repo.get_staff_by_no(session, staff_no) is not None:
        raise Conflict(f"Staff number {staff_no} is already taken.", extra={"errors": [{"field": "staff_no"}]})
    await _team_or_error(session, team_id)
    check_policy(password, staff_no=staff_no, min_length=settings.password_min_length)
    now = clock.now()
    s = Staff(
        staff_no=staff_no,
        name=name,
        team_id=team_id,
        status=StaffStatus.ACTIVE.value,
        locale=locale,
        password_hash=hash_password(password),
        password_changed_at=now,
        must_change_password=must_change_password,
        failed_logins=0,
        totp_enabled=False,
        created_at=now,
        updated_at=now,
    )
    s.roles = [StaffRole(role=r.value) for r in role_list]
    _set_pii(s, phone=phone, email=email, id_number=id_number)
    session.add(s)
    await session.flush()
    await audit.record(session, action="staff.create", object_type="staff", object_id=s.id, after=masked_view(s))
    return s


async def update_staff(
    session: AsyncSession,
    *,
    actor: Principal,
    staff_id: int,
    name: str | None = None,
    roles: list[str] | None = None,
    team_id: int | None = None,
    clear_team: bool = False,
    phone: str | None = None,
    email: str | None = None,
    id_number: str | None = None,
    locale: str | None = None,
) -> Staff:
    s = await _get(session, staff_id)
    before = masked_view(s)
    post_changed = False
    if name is not None:
        s.name = name
    if roles is not None:
        new_roles = {r.value for r in _check_roles(roles)}
        if s.id == actor.staff_id and Role.ADMIN.value in before["roles"] and Role.ADMIN.value not in new_roles:
            raise Conflict("You cannot remove your own admin role; ask another administrator.")
        if new_roles != set(before["roles"]):
            s.roles = [StaffRole(role=r) for r in sorted(new_roles)]
            post_changed = True
    if clear_team or team_id is not None:
        await _team_or_error(session, team_id)
        if team_id != s.team_id:
            s.team_id = None if clear_team else team_id
            post_changed = True
    if locale is not None:
        s.locale = locale
    _set_pii(s, phone=phone, email=email, id_number=id_number)
    s.updated_at = clock.now()
    await session.flush()
    after = masked_view(s)
    await audit.record(session, action="staff.update", object_type="staff", object_id=s.id, before=before, after=after)
    if post_changed:
        # R3.6: a change of post revokes what the old post gave; other domains hand over open work.
        await events.emit(
            session,
            POST_EVENT,
            {"staff_id": s.id, "old_roles": before["roles"], "new_roles": after["roles"],
             "old_team_id": before["team_id"], "new_team_id": after["team_id"]},
        )  # fmt: skip
    return s


async def set_status(session: AsyncSession, *, actor: Principal, staff_id: int, status: str, reason: str) -> Staff:
    try:
        new = StaffStatus(status)
    except ValueError as exc:
        raise ValidationFailed(
            "Status must be active, suspended or left.", extra={"errors": [{"field": "status"}]}
        ) from exc
    if not reason.strip():
        raise ValidationFailed("Give a reason for the change.", extra={"errors": [{"field": "reason"}]})
    s = await _get(session, staff_id)
    if s.id == actor.staff_id and new != StaffStatus.ACTIVE:
        raise Conflict("You cannot suspend or close your own account.")
    if s.status == StaffStatus.LEFT.value and new != StaffStatus.LEFT:
        raise Conflict("This staff member has left; create a new account if they return.")
    if s.status == new.value:
        return s
    before = masked_view(s)
    now = clock.now()
    s.status = new.value
    s.updated_at = now
    if new == StaffStatus.LEFT:
        s.left_at = now
    revoked = 0
    if new != StaffStatus.ACTIVE:
        revoked = await revoke_all_access(session, staff_id=s.id, reason=new.value)
    await session.flush()
    await audit.record(
        session,
        action=f"staff.{new.value}" if new != StaffStatus.ACTIVE else "staff.reactivate",
        object_type="staff",
        object_id=s.id,
        before=before,
        after={**masked_view(s), "revoked": revoked},
        purpose=reason,
    )
    await events.emit(session, STATUS_EVENT, {"staff_id": s.id, "status": new.value, "previous": before["status"]})
    return s


async def revoke_all_access(session: AsyncSession, *, staff_id: int, reason: str) -> int:
    """End every session, token and API key of one staff member at once. Returns how many."""
    now = clock.now()
    r1 = await session.execute(
        update(AuthSession)
        .where(AuthSession.staff_id == staff_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    r2 = await session.execute(
        update(ApiKey)
        .where(ApiKey.owner_id == staff_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return int(r1.rowcount or 0) + int(r2.rowcount or 0)  # type: ignore[attr-defined]


async def reset_password(session: AsyncSession, *, actor: Principal, staff_id: int) -> tuple[Staff, str]:
    """Set a one-time password that must be changed at next sign-in; ends current sessions."""
    s = await _get(session, staff_id)
    if s.status != StaffStatus.ACTIVE.value:
        raise Conflict("Only active accounts can have their password reset.")
    temp = "Kf" + secrets.token_urlsafe(9) + str(secrets.randbelow(10))
    s.password_hash = hash_password(temp)
    s.password_changed_at = clock.now()
    s.must_change_password = True
    s.failed_logins = 0
    s.locked_until = None
    await revoke_all_access(session, staff_id=s.id, reason="password_reset")
    await audit.record(session, action="staff.password_reset", object_type="staff", object_id=s.id)
    return s, temp


async def reset_two_factor(session: AsyncSession, *, actor: Principal, staff_id: int) -> Staff:
    s = await _get(session, staff_id)
    s.totp_secret = None
    s.totp_enabled = False
    s.totp_last_step = None
    await revoke_all_access(session, staff_id=s.id, reason="2fa_reset")
    await audit.record(session, action="staff.totp_reset", object_type="staff", object_id=s.id)
    return s


async def reveal(session: AsyncSession, *, actor: Principal, staff_id: int, field: str, purpose: str) -> str | None:
    """Show one personal field in clear, for a stated purpose, with clearance; always audited (R3.4)."""
    if field not in STAFF_PII:
        raise ValidationFailed(f"Field must be one of {', '.join(STAFF_PII)}.", extra={"errors": [{"field": "field"}]})
    pii.check_purpose(purpose)
    pii.check_clearance(actor, STAFF_PII[field][0], field)
    s = await repo.get_staff(session, staff_id, principal=actor)
    if s is None:
        raise NotFound(f"No staff member {staff_id} that you can see.")
    return await pii.reveal(
        session, actor=actor, object_type="staff", object_id=s.id, field=field,
        data_class=STAFF_PII[field][0], value=getattr(s, field), purpose=purpose,
    )  # fmt: skip


async def find_by_phone(session: AsyncSession, *, phone: str) -> list[Staff]:
    return list(await repo.find_by_phone_bidx(session, blind_index(phone, context="staff.phone")))


async def create_team(session: AsyncSession, *, code: str, name: str, description: str = "") -> Team:
    if await repo.get_team_by_code(session, code) is not None:
        raise Conflict(f"Team code {code} is already taken.", extra={"errors": [{"field": "code"}]})
    t = Team(code=code, name=name, description=description, created_at=clock.now())
    session.add(t)
    await session.flush()
    await audit.record(session, action="team.create", object_type="team", object_id=t.id,
                       after={"code": code, "name": name})  # fmt: skip
    return t


async def update_team(session: AsyncSession, *, team_id: int, name: str | None, description: str | None) -> Team:
    t = await repo.get_team(session, team_id)
    if t is None:
        raise NotFound(f"No team {team_id}.")
    before = {"code": t.code, "name": t.name, "description": t.description}
    if name is not None:
        t.name = name
    if description is not None:
        t.description = description
    await audit.record(session, action="team.update", object_type="team", object_id=t.id, before=before,
                       after={"code": t.code, "name": t.name, "description": t.description})  # fmt: skip
    return t


async def _get(session: AsyncSession, staff_id: int) -> Staff:
    s = await repo.get_staff(session, staff_id)
    if s is None:
        raise NotFound(f"No staff member with id {staff_id}.")
    return s


async def get_by_staff_no(session: AsyncSession, staff_no: str) -> Staff | None:
    """A staff member by staff number (= their phone extension for routing)."""
    return await repo.get_staff_by_no(session, staff_no)


async def staff_numbers(session: AsyncSession, staff_ids: set[int]) -> dict[int, str]:
    """Staff number of each id (the number agents give customers); unknown ids are left out."""
    out: dict[int, str] = {}
    for staff_id in sorted(staff_ids):
        member = await repo.get_staff(session, staff_id)
        if member is not None:
            out[staff_id] = member.staff_no
    return out


async def team_of(session: AsyncSession, staff_id: int) -> int | None:
    member = await repo.get_staff(session, staff_id)
    return member.team_id if member is not None else None
