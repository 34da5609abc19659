"""Every query of the staff domain. Reads are scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kefu.core.auth import Principal
from kefu.core.ids import MAX_ROW_ID
from kefu.core.permissions import CENTER_WIDE
from kefu.staff.models import ApiKey, AuthSession, Staff, Team


def _valid_id(row_id: int) -> bool:
    """Ids outside the column's range match nothing (and must not reach the driver: a 500, not a 404)."""
    return 1 <= row_id <= MAX_ROW_ID


def _scoped(stmt, principal: Principal | None):  # type: ignore[no-untyped-def]
    if principal is None or principal.roles & CENTER_WIDE:
        return stmt
    if principal.team_id is None:
        return stmt.where(Staff.id == principal.staff_id)
    return stmt.where(or_(Staff.team_id == principal.team_id, Staff.id == principal.staff_id))


async def get_staff(session: AsyncSession, staff_id: int, *, principal: Principal | None = None) -> Staff | None:
    if not _valid_id(staff_id):
        return None
    if principal is None or principal.roles & CENTER_WIDE:
        # identity-map hit when the request already loaded this staff member (e.g. the signed-in one)
        return await session.get(Staff, staff_id, options=[selectinload(Staff.roles)])
    stmt = _scoped(select(Staff).options(selectinload(Staff.roles)).where(Staff.id == staff_id), principal)
    return (await session.execute(stmt)).scalar_one_or_none()


async def names_of(session: AsyncSession, staff_ids: set[int]) -> dict[int, tuple[str, str]]:
    """{id: (staff_no, name)} for showing who did something (directory data, no personal fields)."""
    if not staff_ids:
        return {}
    rows = (await session.execute(select(Staff.id, Staff.staff_no, Staff.name).where(Staff.id.in_(staff_ids)))).all()
    return {r.id: (r.staff_no, r.name) for r in rows}


async def get_staff_by_no(session: AsyncSession, staff_no: str) -> Staff | None:
    stmt = select(Staff).options(selectinload(Staff.roles)).where(Staff.staff_no == staff_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_by_phone_bidx(session: AsyncSession, bidx: str) -> Sequence[Staff]:
    stmt = select(Staff).options(selectinload(Staff.roles)).where(Staff.phone_bidx == bidx)
    return (await session.execute(stmt)).scalars().all()


async def list_staff(
    session: AsyncSession,
    *,
    principal: Principal | None,
    q: str | None = None,
    status: str | None = None,
    team_id: int | None = None,
    role: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Staff], int]:
    stmt = select(Staff)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Staff.staff_no.ilike(like), Staff.name.ilike(like)))
    if status:
        stmt = stmt.where(Staff.status == status)
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    if role:
        from kefu.staff.models import StaffRole

        stmt = stmt.where(Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.role == role)))
    stmt = _scoped(stmt, principal)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await session.execute(
                stmt.options(selectinload(Staff.roles)).order_by(Staff.staff_no).offset(offset).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return rows, total


async def list_teams(session: AsyncSession) -> Sequence[Team]:
    return (await session.execute(select(Team).order_by(Team.code))).scalars().all()


async def get_team(session: AsyncSession, team_id: int) -> Team | None:
    if not _valid_id(team_id):
        return None
    return await session.get(Team, team_id)


async def get_team_by_code(session: AsyncSession, code: str) -> Team | None:
    return (await session.execute(select(Team).where(Team.code == code))).scalar_one_or_none()


async def session_by_hash(session: AsyncSession, token_hash: str) -> AuthSession | None:
    return (await session.execute(select(AuthSession).where(AuthSession.token_hash == token_hash))).scalar_one_or_none()


async def active_sessions(session: AsyncSession, staff_id: int) -> Sequence[AuthSession]:
    stmt = select(AuthSession).where(AuthSession.staff_id == staff_id, AuthSession.revoked_at.is_(None))
    return (await session.execute(stmt)).scalars().all()


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return (await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))).scalar_one_or_none()


async def api_keys_of(session: AsyncSession, owner_id: int | None = None) -> Sequence[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.id)
    if owner_id is not None:
        stmt = stmt.where(ApiKey.owner_id == owner_id)
    return (await session.execute(stmt)).scalars().all()


async def get_api_key(session: AsyncSession, key_id: int) -> ApiKey | None:
    if not _valid_id(key_id):
        return None
    return await session.get(ApiKey, key_id)


async def count_staff(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Staff))).scalar_one()
