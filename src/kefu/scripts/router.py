"""HTTP endpoints under /api/v1/scripts: read the call scripts (any signed-in staff member: what agents
say on calls is no secret, and QA reads them too; retired scripts only with ``script.manage``), the one
that applies to a queue and channel, and writing them (``script.manage``: team leads, supervisors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kefu.core.auth import DbSession, Principal, require
from kefu.core.errors import NotFound, PermissionDenied
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.scripts import service
from kefu.scripts.schemas import ScriptIn, ScriptList, ScriptOut, ScriptPatch

router = APIRouter(prefix="/api/v1/scripts", tags=["scripts"])
Reader = Annotated[Principal, require(Permission.SELF_READ)]
Manager = Annotated[Principal, require(Permission.SCRIPT_MANAGE)]


@router.get("", response_model=ScriptList)
async def list_scripts(
    db: DbSession,
    principal: Reader,
    include_inactive: Annotated[bool, Query(description="retired scripts too (script.manage)")] = False,
    scenario: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Every active script by scenario, channel and language."""
    if include_inactive and not principal.can(Permission.SCRIPT_MANAGE):
        raise PermissionDenied("Only team leads and supervisors (script.manage) see retired scripts; "
                               "leave out include_inactive.")  # fmt: skip
    rows = await service.list_scripts(db, include_inactive=include_inactive, scenario=scenario)
    return {"items": [service.view(s) for s in rows], "total": len(rows)}


@router.get("/for", response_model=ScriptOut)
async def script_for(
    db: DbSession,
    principal: Reader,
    queue: Annotated[str, Query(min_length=1, max_length=40, description="the contact's queue code")],
    channel: Annotated[str, Query(pattern="^(phone|chat|email)$")] = "phone",
    locale: Annotated[str | None, Query(max_length=10, description="the customer's language")] = None,
) -> dict[str, Any]:
    """The script that applies: the scenario naming the queue, else the default; in the language asked for,
    else Simplified Chinese."""
    s = await service.for_contact(db, queue=queue, channel=channel, locale=locale)
    if s is None:
        raise NotFound(f"No active script for {channel} and no default one; a team lead can write one on /scripts.")
    return service.view(s)


@router.get("/{script_id}", response_model=ScriptOut)
async def get_script(script_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    s = await service.get(db, script_id)
    if not s.active and not principal.can(Permission.SCRIPT_MANAGE):
        raise NotFound(f"No active call script {script_id}.")
    return service.view(s)


@router.post("", response_model=ScriptOut, status_code=201)
async def create_script(body: ScriptIn, db: DbSession, principal: Manager) -> dict[str, Any]:
    """A new script (version 1); audited."""
    return service.view(await service.create(db, actor=principal, data=body.model_dump()))


@router.patch("/{script_id}", response_model=ScriptOut)
async def update_script(script_id: RowId, body: ScriptPatch, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Change fields (``active: false`` retires it); the version goes up; audited."""
    return service.view(await service.update(db, actor=principal, script_id=script_id, changes=body.changes()))
