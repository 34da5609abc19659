"""HTTP endpoints of the agent desk (/api/v1/desk), the live monitor (/api/v1/routing/live) and the CTI
interface (/api/v1/cti)."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request

from kefu.core.auth import DbSession, Principal, require
from kefu.core.errors import NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.routing import cti, desk, monitor
from kefu.routing import types as t
from kefu.routing.schemas import (
    AgentOut,
    CallbackIn,
    CtiAnswer,
    CtiEvent,
    PresenceIn,
    SimulatedCall,
    SimulatedHangup,
    TransferIn,
)
from kefu.routing.service import to_dt

router = APIRouter(tags=["desk"])
Agent = Annotated[Principal, require(Permission.CONTACT_HANDLE)]
Monitor = Annotated[Principal, require(Permission.ROUTING_MONITOR)]
Telephony = Annotated[Principal, require(Permission.CTI_EVENTS)]
Simulator = Annotated[Principal, require(Permission.CTI_SIMULATE)]


def _rt(request: Request) -> Any:
    return request.app.state.runtime


def _agent_out(view: t.AgentView) -> AgentOut:
    return AgentOut(agent_id=view.agent_id, presence=view.presence.value, reason=view.reason,
                    since=to_dt(view.since), contact_id=view.contact_id)  # fmt: skip


@router.get("/api/v1/desk")
async def desk_state(request: Request, db: DbSession, principal: Agent) -> dict[str, Any]:
    """The agent's presence, the contact ringing or connected, and wrap-ups still owed."""
    return await desk.state(db, rt=_rt(request), actor=principal)


@router.post("/api/v1/desk/presence")
async def set_presence(body: PresenceIn, request: Request, db: DbSession, principal: Agent) -> AgentOut:
    """Ready, not ready (with a reason) or logged out. Ready needs every wrap-up recorded."""
    view = await desk.set_presence(db, rt=_rt(request), actor=principal, presence=t.Presence(body.presence),
                                   reason=body.reason)  # fmt: skip
    return _agent_out(view)


@router.post("/api/v1/desk/contacts/{contact_id}/accept", status_code=204)
async def accept(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await desk.accept(db, rt=_rt(request), actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/contacts/{contact_id}/decline", status_code=204)
async def decline(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await desk.decline(db, rt=_rt(request), actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/contacts/{contact_id}/hold", status_code=204)
async def hold(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await desk.hold(db, rt=_rt(request), actor=principal, contact_id=contact_id, on=True)


@router.post("/api/v1/desk/contacts/{contact_id}/resume", status_code=204)
async def resume(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await desk.hold(db, rt=_rt(request), actor=principal, contact_id=contact_id, on=False)


@router.post("/api/v1/desk/contacts/{contact_id}/hangup", status_code=204)
async def hang_up(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    """End the call; the agent is in wrap-up until the wrap-up record is saved."""
    await desk.hang_up(db, rt=_rt(request), actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/contacts/{contact_id}/transfer", status_code=204)
async def transfer(contact_id: RowId, body: TransferIn, request: Request, db: DbSession, principal: Agent) -> None:
    """Blind (released at once) or consult (stay on the line until the new agent accepts) transfer to a queue,
    department or agent. The first agent stays the owner until the new one accepts (首问负责)."""
    await desk.transfer(db, rt=_rt(request), actor=principal, contact_id=contact_id, queue=body.queue,
                        staff_no=body.staff_no, mode=t.TransferMode(body.mode))  # fmt: skip


@router.post("/api/v1/desk/contacts/{contact_id}/cancel-transfer", status_code=204)
async def cancel_transfer(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await desk.cancel_transfer(db, rt=_rt(request), actor=principal, contact_id=contact_id)


@router.post("/api/v1/desk/contacts/{contact_id}/callback", status_code=201)
async def schedule_callback(
    contact_id: RowId, body: CallbackIn, request: Request, db: DbSession, principal: Agent
) -> dict[str, Any]:
    """预约回拨: call the customer back at the time they chose (offered to you, or to the queue, when due)."""
    cb = await desk.schedule_callback(db, rt=_rt(request), actor=principal, contact_id=contact_id,
                                      due_at=body.due_at, queue=body.queue, to_self=body.to_self)  # fmt: skip
    return {"contact_id": cb.id, "scheduled_for": cb.scheduled_for, "queue": cb.queue_code}


@router.get("/api/v1/routing/live", tags=["routing"])
async def live(request: Request, db: DbSession, principal: Monitor) -> dict[str, Any]:
    """The wallboard: every queue now (waiting, oldest wait, agents) and today's service level."""
    return await monitor.snapshot(db, rt=_rt(request), actor=principal)


@router.post("/api/v1/cti/events", tags=["cti"])
async def cti_event(body: CtiEvent, request: Request, db: DbSession, principal: Telephony) -> CtiAnswer:
    """A telephony system's call event (docs/cti.md). The answer to call.new says route, queue or reject."""
    return CtiAnswer(**await cti.handle(db, rt=_rt(request), actor=principal, event=body))


async def _simulated_caller(db: Any, customer_no: str | None) -> str:
    """A simulated call comes from the customer's own phone when a customer number is given (so they are
    identified by it, as on a real line), otherwise from a random mobile number."""
    from kefu.customers import service as customers

    customer_id = await customers.id_by_number(db, customer_no) if customer_no else None
    phone = await customers.primary_phone(db, customer_id) if customer_id else None
    return phone or "13" + "".join(secrets.choice("0123456789") for _ in range(9))


def _simulator_on(request: Request) -> None:
    if not request.app.state.settings.softphone_simulator:
        raise NotFound("The softphone simulator is turned off here (KEFU_SOFTPHONE_SIMULATOR=false).")


@router.post("/api/v1/cti/simulate", tags=["cti"])
async def simulate_call(body: SimulatedCall, request: Request, db: DbSession, principal: Simulator) -> CtiAnswer:
    """The built-in softphone: a simulated incoming call through the same path as a PBX's call.new."""
    _simulator_on(request)
    caller = body.caller or await _simulated_caller(db, body.customer_no)
    event = CtiEvent(event="call.new", call_id=f"sim-{uuid.uuid4().hex[:16]}", caller=caller,
                     dialled=body.dialled, ivr=body.ivr, customer_hint=body.customer_no)  # fmt: skip
    return CtiAnswer(**await cti.handle(db, rt=_rt(request), actor=principal, event=event))


@router.post("/api/v1/cti/simulate/hangup", tags=["cti"])
async def simulate_hangup(body: SimulatedHangup, request: Request, db: DbSession, principal: Simulator) -> CtiAnswer:
    """The simulated caller hangs up (abandons if not yet answered)."""
    _simulator_on(request)
    if not body.call_id.startswith("sim-"):
        raise NotFound("Only simulated calls (call ids starting with sim-) can be hung up here.")
    event = CtiEvent(event="call.hangup", call_id=body.call_id)
    return CtiAnswer(**await cti.handle(db, rt=_rt(request), actor=principal, event=event))
