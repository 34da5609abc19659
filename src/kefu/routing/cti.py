"""Telephony integration (CTI): call events from a PBX, and what Kefu answers (R1.1, R1.2, R1.6).

A telephony system posts events to ``POST /api/v1/cti/events`` with an API key holding ``cti.events``;
the answer to ``call.new`` says whether to ring an agent extension now (``route``), hold the caller in a
queue (``queue``, the engine rings an agent later: ``cti.route`` messages on the websocket), or ``reject``.
Events are idempotent by ``call_id`` so a PBX may retry. The built-in softphone simulator uses the same
functions. The contract is documented in docs/cti.md.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.core import clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.routing import desk
from kefu.routing import service as svc
from kefu.routing import types as t
from kefu.routing.engine import EngineError
from kefu.routing.schemas import CtiEvent

UNROUTED = "unrouted"


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field}]})


async def _agent_by_extension(session: AsyncSession, extension: str | None) -> int:
    from kefu.staff import service as staff_service

    if not extension:
        raise _bad("extension", "Give the agent's extension (their staff number).")
    member = await staff_service.get_by_staff_no(session, extension)
    if member is None or member.status != "active":
        raise _bad("extension", f"No active agent has extension {extension}.")
    return member.id


async def _extension_of(session: AsyncSession, staff_id: int) -> str | None:
    from kefu.staff import repository as staff_repo

    names = await staff_repo.names_of(session, {staff_id})
    return names[staff_id][0] if staff_id in names else None


async def _answer(session: AsyncSession, contact: Any, decisions: list[t.Decision]) -> dict[str, Any]:
    base = {"call_id": contact.external_ref, "contact_id": contact.id, "status": contact.status}
    if contact.status == "rejected":
        reason = contact.end_reason if contact.end_reason not in (None, "rejected") else "no_route"
        return {**base, "action": "reject", "reason": reason}
    offered = [d for d in decisions if isinstance(d, t.Offered) and d.contact_id == contact.id]
    agent_id = (
        offered[-1].agent_id if offered else (contact.agent_id if contact.status in ("offered", "connected") else None)
    )
    if agent_id is not None:
        return {
            **base,
            "action": "route",
            "queue": contact.queue_code,
            "extension": await _extension_of(session, agent_id),
        }
    return {**base, "action": "queue", "queue": contact.queue_code}


async def new_call(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, call_id: str, caller: str | None,
    dialled: str | None, ivr: list[str], customer_hint: str | None,
) -> dict[str, Any]:  # fmt: skip
    from kefu.customers import service as customers
    from kefu.routing import config_service

    existing = await contacts.contact_by_ref(session, channel="phone", external_ref=call_id)
    if existing is not None:  # a retry: the same answer
        return await _answer(session, existing, [])
    engine = await svc.get_engine(rt, session)
    now = clock.now()
    customer_id = await customers.id_by_number(session, customer_hint) if customer_hint else None
    route = await config_service.route_for(session, dialled_number=dialled, ivr_choices=ivr)
    contact = await contacts.open_contact(
        session, channel="phone", direction="inbound", queue_code=route.queue_code if route else UNROUTED,
        arrived_at=now, caller_number=caller, dialled_number=dialled, ivr_choices=ivr, customer_id=customer_id,
        identify=customer_id is None, external_ref=call_id, priority_bonus=route.priority_bonus if route else 0.0,
        actor=actor,
    )  # fmt: skip
    if route is None:
        await contacts.record(session, contact_id=contact.id, kind="rejected", at=now, settings=rt.settings,
                              end_reason="no_route")  # fmt: skip
        return await _answer(session, contact, [])
    bonus = route.priority_bonus
    if contact.customer_id:
        card = await customers.caller_card(session, contact.customer_id)
        bonus += svc.TIER_BONUS.get(card["tier"], 0.0) if card else 0.0
    contact.priority_bonus = bonus
    spec = t.ContactSpec(contact_id=contact.id, queue=route.queue_code, channel="phone", priority_bonus=bonus,
                         waiting_since=svc.to_ts(now))  # fmt: skip
    try:
        decisions = await engine.arrive(spec)
    except EngineError as exc:
        raise svc.engine_error(exc) from exc
    await svc.apply(session, decisions, rt=rt, engine=engine)
    await session.refresh(contact)
    return await _answer(session, contact, decisions)


async def handle(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, event: CtiEvent) -> dict[str, Any]:
    if event.event == "call.new":
        return await new_call(session, rt=rt, actor=actor, call_id=event.call_id, caller=event.caller,
                              dialled=event.dialled, ivr=event.ivr, customer_hint=event.customer_hint)  # fmt: skip
    contact = await contacts.contact_by_ref(session, channel="phone", external_ref=event.call_id)
    if contact is None:
        raise NotFound(f"No call {event.call_id}: send call.new first.")
    engine = await svc.get_engine(rt, session)
    decisions: list[t.Decision] = []
    try:
        if event.event == "call.answered":
            agent_id = await _agent_by_extension(session, event.extension)
            if not (contact.status == "connected" and contact.agent_id == agent_id):
                decisions = await engine.accept(contact.id, agent_id)
        elif event.event in ("call.held", "call.resumed"):
            await desk.set_hold(session, rt=rt, contact=contact, on=event.event == "call.held", strict=False)
        elif event.event == "call.transferred":
            if contact.status != "connected" or contact.agent_id is None:
                raise Conflict("Only a connected call can be transferred.", code="not_connected")
            target = await _agent_by_extension(session, event.extension) if event.extension else None
            if not event.queue and target is None:
                raise _bad("queue", "Give the queue or the extension the call was transferred to.")
            decisions = await engine.transfer(contact.id, contact.agent_id, queue=event.queue, agent_id=target,
                                              mode=t.TransferMode(event.mode))  # fmt: skip
        elif event.event == "call.hangup":
            decisions = await _hang_up(session, rt, engine, contact)
    except EngineError as exc:
        raise svc.engine_error(exc) from exc
    await svc.apply(session, decisions, rt=rt, engine=engine)
    await session.refresh(contact)
    return {"call_id": contact.external_ref, "contact_id": contact.id, "status": contact.status, "ok": True}


async def _hang_up(session: AsyncSession, rt: runtime.Runtime, engine: Any, contact: Any) -> list[t.Decision]:
    """The caller is gone: abandoned if not yet answered, ended if connected. The engine's view decides (another
    node may have connected the call a moment ago); a race with an answer is retried once."""
    for attempt in (1, 2):
        view = await engine.contact(contact.id)
        if view is None:
            return []  # already ended, abandoned or rejected: a retry, nothing to do
        try:
            if view.state == t.ContactState.CONNECTED:
                return list(await engine.end(contact.id))  # the record closes a hold still open
            if view.state == t.ContactState.ENDED:
                return []
            return list(await engine.abandon(contact.id))
        except EngineError as exc:
            if exc.code != "bad_state" or attempt == 2:
                raise
    return []
