"""The agent's chats and e-mails on the desk (/api/v1/desk/digital): list, accept, decline, transfer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.routing import digital

router = APIRouter(tags=["desk"])
Agent = Annotated[Principal, require(Permission.CONTACT_HANDLE)]


class DigitalTransferIn(BaseModel):
    queue: str | None = Field(default=None, max_length=40)
    staff_no: str | None = Field(default=None, max_length=20)


@router.get("/api/v1/desk/digital")
async def mine(request: Request, db: DbSession, principal: Agent) -> dict[str, Any]:
    """Chats and e-mails ringing at, open with, or awaiting the wrap-up of the signed-in agent."""
    return {"contacts": await digital.mine(db, rt=request.app.state.runtime, actor=principal)}


@router.post("/api/v1/desk/digital/{contact_id}/accept", status_code=204)
async def accept(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await digital.accept(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/digital/{contact_id}/decline", status_code=204)
async def decline(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await digital.decline(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/digital/{contact_id}/transfer", status_code=204)
async def transfer(contact_id: RowId, body: DigitalTransferIn, request: Request, db: DbSession,
                   principal: Agent) -> None:  # fmt: skip
    await digital.transfer(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id,
                           queue=body.queue, staff_no=body.staff_no)  # fmt: skip
