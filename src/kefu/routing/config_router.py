"""HTTP endpoints of the routing configuration under /api/v1/routing: queues, skills, agents' skills, IVR routes.

Reading the queue and skill lists needs only a signed-in staff member (agents pick transfer targets, WFM
planners and supervisors plan and watch, administrators configure); agents' skills and IVR routes, and
every change, need ``routing.configure``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from kefu.core.auth import CurrentStaff, DbSession, Principal, require
from kefu.core.errors import NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.routing import config_service as service
from kefu.routing.config_schemas import (
    CODE,
    SKILL_NAMES,
    AgentSkillsIn,
    AgentSkillsOut,
    IvrRouteIn,
    IvrRouteOut,
    QueueCreate,
    QueueOut,
    QueueUpdate,
    SkillOut,
)
from kefu.routing.models import SKILLS

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])
Configurer = Annotated[Principal, require(Permission.ROUTING_CONFIGURE)]
QueueCode = Annotated[str, Path(max_length=40, pattern=CODE, description="queue code, e.g. credit_cards")]


@router.get("/skills", response_model=list[SkillOut])
async def list_skills(principal: CurrentStaff) -> list[SkillOut]:
    """The center's skills with their display names (zh-Hans, zh-Hant, en)."""
    return [SkillOut(code=s, names=SKILL_NAMES[s]) for s in SKILLS]


@router.get("/queues", response_model=list[QueueOut])
async def list_queues(
    db: DbSession,
    principal: CurrentStaff,
    include_inactive: Annotated[bool, Query(description="also the deactivated queues")] = False,
) -> list[QueueOut]:
    """Queues and departments (transfer targets), by code."""
    return [QueueOut(**service.queue_view(q)) for q in await service.list_queues(db, include_inactive=include_inactive)]


@router.post("/queues", response_model=QueueOut, status_code=201)
async def create_queue(body: QueueCreate, db: DbSession, principal: Configurer) -> QueueOut:
    """Create a queue (or a department, ``is_department``: reached by transfer only)."""
    q = await service.create_queue(db, actor=principal, **body.model_dump())
    return QueueOut(**service.queue_view(q))


@router.patch("/queues/{code}", response_model=QueueOut)
async def update_queue(code: QueueCode, body: QueueUpdate, db: DbSession, principal: Configurer) -> QueueOut:
    """Change some settings; send ``null`` to clear widen/overflow, ``active: true`` to reactivate."""
    q = await service.update_queue(db, actor=principal, code=code, **body.model_dump(exclude_unset=True))
    return QueueOut(**service.queue_view(q))


@router.delete("/queues/{code}", response_model=QueueOut)
async def deactivate_queue(code: QueueCode, db: DbSession, principal: Configurer) -> QueueOut:
    """Deactivate a queue (kept for history; IVR routes to it are skipped). Refused while a queue overflows to it."""
    q = await service.deactivate_queue(db, actor=principal, code=code)
    return QueueOut(**service.queue_view(q))


async def _known_staff(db: DbSession, staff_id: int) -> None:
    from kefu.staff import repository as staff_repo

    if await staff_repo.get_staff(db, staff_id) is None:
        raise NotFound(f"No staff member with id {staff_id}.")


@router.get("/agents/{staff_id}/skills", response_model=AgentSkillsOut)
async def get_agent_skills(staff_id: RowId, db: DbSession, principal: Configurer) -> AgentSkillsOut:
    await _known_staff(db, staff_id)
    return AgentSkillsOut(staff_id=staff_id, skills=await service.skills_of(db, staff_id))


@router.put("/agents/{staff_id}/skills", response_model=AgentSkillsOut)
async def set_agent_skills(
    staff_id: RowId, body: AgentSkillsIn, db: DbSession, principal: Configurer
) -> AgentSkillsOut:
    """Replace an agent's (or team lead's) skills: skill → proficiency 1-10."""
    skills = await service.set_skills(db, actor=principal, staff_id=staff_id, skills=body.skills)
    return AgentSkillsOut(staff_id=staff_id, skills=skills)


@router.get("/ivr-routes", response_model=list[IvrRouteOut])
async def list_ivr_routes(db: DbSession, principal: Configurer) -> list[IvrRouteOut]:
    return [IvrRouteOut(**service.ivr_view(r)) for r in await service.list_ivr_routes(db)]


@router.post("/ivr-routes", response_model=IvrRouteOut, status_code=201)
async def create_ivr_route(body: IvrRouteIn, db: DbSession, principal: Configurer) -> IvrRouteOut:
    """Send calls to a number ('*': any) whose IVR choices start with ``ivr_prefix`` to a queue (longest wins)."""
    r = await service.create_ivr_route(db, actor=principal, **body.model_dump())
    return IvrRouteOut(**service.ivr_view(r))


@router.delete("/ivr-routes/{route_id}", status_code=204)
async def delete_ivr_route(route_id: RowId, db: DbSession, principal: Configurer) -> Response:
    await service.delete_ivr_route(db, actor=principal, route_id=route_id)
    return Response(status_code=204)
