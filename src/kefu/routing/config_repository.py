"""Every query of the routing configuration: queues, agents' skills and IVR routes.

Configuration is center-wide: who may read or change it is decided by permission (router), not by team.
Staff records are read through the staff domain's repository (see config_service), never from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.ids import MAX_ROW_ID
from kefu.routing.models import AgentSkill, IvrRoute, RoutingQueue


async def get_queue(session: AsyncSession, code: str) -> RoutingQueue | None:
    return (await session.execute(select(RoutingQueue).where(RoutingQueue.code == code))).scalar_one_or_none()


async def list_queues(session: AsyncSession, *, include_inactive: bool = False) -> Sequence[RoutingQueue]:
    stmt = select(RoutingQueue).order_by(RoutingQueue.code)
    if not include_inactive:
        stmt = stmt.where(RoutingQueue.active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def overflow_map(session: AsyncSession) -> dict[str, str]:
    """{queue: overflow queue} of the active queues that overflow somewhere."""
    stmt = select(RoutingQueue.code, RoutingQueue.overflow_queue).where(
        RoutingQueue.active.is_(True), RoutingQueue.overflow_queue.is_not(None)
    )
    return {code: target for code, target in (await session.execute(stmt)).all() if target}


async def ivr_routes_to(session: AsyncSession, queue_code: str) -> Sequence[IvrRoute]:
    stmt = select(IvrRoute).where(IvrRoute.queue_code == queue_code).order_by(IvrRoute.id)
    return (await session.execute(stmt)).scalars().all()


# ---- agents' skills ------------------------------------------------------------------------------


async def skills_of(session: AsyncSession, staff_id: int) -> dict[str, int]:
    if not 1 <= staff_id <= MAX_ROW_ID:
        return {}
    stmt = select(AgentSkill.skill, AgentSkill.proficiency).where(AgentSkill.staff_id == staff_id)
    return {skill: proficiency for skill, proficiency in (await session.execute(stmt)).all()}


async def replace_skills(session: AsyncSession, staff_id: int, skills: dict[str, int]) -> None:
    await session.execute(delete(AgentSkill).where(AgentSkill.staff_id == staff_id))
    session.add_all(AgentSkill(staff_id=staff_id, skill=k, proficiency=v) for k, v in sorted(skills.items()))
    await session.flush()


async def skills_by_staff(session: AsyncSession, staff_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """{staff id: {skill: proficiency}} of every staff member holding a skill (or of ``staff_ids`` only)."""
    stmt = select(AgentSkill.staff_id, AgentSkill.skill, AgentSkill.proficiency).order_by(
        AgentSkill.staff_id, AgentSkill.skill
    )
    if staff_ids is not None:
        ids = list(staff_ids)
        if not ids:
            return {}
        stmt = stmt.where(AgentSkill.staff_id.in_(ids))
    out: dict[int, dict[str, int]] = {}
    for staff_id, skill, proficiency in (await session.execute(stmt)).all():
        out.setdefault(staff_id, {})[skill] = proficiency
    return out


# ---- IVR routes ----------------------------------------------------------------------------------


async def list_ivr_routes(session: AsyncSession) -> Sequence[IvrRoute]:
    stmt = select(IvrRoute).order_by(IvrRoute.dialled_number, IvrRoute.ivr_prefix, IvrRoute.id)
    return (await session.execute(stmt)).scalars().all()


async def get_ivr_route(session: AsyncSession, route_id: int) -> IvrRoute | None:
    if not 1 <= route_id <= MAX_ROW_ID:
        return None
    return await session.get(IvrRoute, route_id)


async def find_ivr_route(session: AsyncSession, dialled_number: str, ivr_prefix: str) -> IvrRoute | None:
    stmt = select(IvrRoute).where(IvrRoute.dialled_number == dialled_number, IvrRoute.ivr_prefix == ivr_prefix)
    return (await session.execute(stmt)).scalar_one_or_none()


async def ivr_candidates(session: AsyncSession, numbers: Sequence[str], prefixes: Sequence[str]) -> Sequence[IvrRoute]:
    """Routes for any of ``numbers`` with any of ``prefixes`` whose queue is active."""
    active = select(RoutingQueue.code).where(RoutingQueue.active.is_(True))
    stmt = select(IvrRoute).where(
        IvrRoute.dialled_number.in_(list(numbers)),
        IvrRoute.ivr_prefix.in_(list(prefixes)),
        IvrRoute.queue_code.in_(active),
    )
    return (await session.execute(stmt)).scalars().all()


async def delete_ivr_route(session: AsyncSession, route: IvrRoute) -> None:
    await session.delete(route)
    await session.flush()
