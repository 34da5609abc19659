"""What an agent does on the phone (R1.2, R1.6, R1.7, R1.8): presence, answer, hold, transfer, hang up,
scheduled callbacks. Every function runs the engine, then records its decisions through the service glue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.routing import service as svc
from kefu.routing import types as t
from kefu.routing.engine import Engine, EngineError


async def _engine(session: AsyncSession, rt: runtime.Runtime) -> Engine:
    return await svc.get_engine(rt, session)


async def ensure_agent(session: AsyncSession, engine: Engine, staff_id: int) -> t.AgentView:
    """The engine knows every agent with skills after loading; a newcomer is added on first use."""
    view = await engine.agent(staff_id)
    if view is None:
        from kefu.routing import config_service

        await engine.upsert_agent(
            t.AgentSpec(agent_id=staff_id, skills=await config_service.skills_of(session, staff_id))
        )
        view = await engine.agent(staff_id)
    if view is None:  # pragma: no cover - the engine just added it
        raise NotFound("This agent is not known to the routing engine.")
    return view


async def _run(session: AsyncSession, rt: runtime.Runtime, engine: Engine, coro: Any) -> list[t.Decision]:
    try:
        decisions: list[t.Decision] = await coro
    except EngineError as exc:
        raise svc.engine_error(exc) from exc
    await svc.apply(session, decisions, rt=rt, engine=engine)
    return decisions


async def state(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal) -> dict[str, Any]:
    """The agent's desk after a (re)load: presence, the contact ringing or connected, wrap-ups owed."""
    engine = await _engine(session, rt)
    view = await ensure_agent(session, engine, actor.staff_id)
    current: list[dict[str, Any]] = []
    # calls only: the agent's chats and e-mails are in kefu.routing.digital.mine (their tabs on the desktop)
    mine = [c for c in await contacts.open_for_agent(session, agent_id=actor.staff_id) if c.channel == "phone"]
    if view.contact_id is not None and view.contact_id not in {c.id for c in mine}:
        # a consult transfer ringing here: the record still names the first agent until this one accepts
        mine.append(await contacts.get_contact(session, view.contact_id))
    for c in mine:
        payload = await svc.offer_payload(session, c.id)
        ec = await engine.contact(c.id)
        payload["consult"] = c.agent_id != actor.staff_id  # a consult transfer ringing here
        payload["status"] = "offered" if payload["consult"] else c.status
        payload["answered_at"] = c.answered_at.isoformat() if c.answered_at and c.agent_id == actor.staff_id else None
        payload["on_hold"] = c.hold_started_at is not None
        payload["expires_at"] = svc.to_dt(ec.offer_expires_at).isoformat() if ec and ec.offer_expires_at else None
        payload["transfer_pending"] = bool(ec and ec.transfer_mode is not None and ec.transfer_from == actor.staff_id)
        current.append(payload)
    pending = [{"contact_id": c.id, "queue": c.queue_code, "ended_at": c.ended_at.isoformat() if c.ended_at else None}
               for c in await contacts.pending_wrapups(session, agent_id=actor.staff_id)]  # fmt: skip
    return {
        "agent_id": actor.staff_id, "staff_no": actor.staff_no, "presence": view.presence.value,
        "reason": view.reason, "since": svc.to_dt(view.since).isoformat(), "skills": view.skills,
        "contacts": current, "pending_wrapups": pending, "reasons": list(svc.NOT_READY_REASONS),
    }  # fmt: skip


async def set_presence(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, presence: t.Presence, reason: str | None
) -> t.AgentView:
    if presence not in t.SELF_SERVICE_PRESENCE:
        raise ValidationFailed(
            "Presence must be ready, not_ready or logged_out.", extra={"errors": [{"field": "presence"}]}
        )
    if presence == t.Presence.NOT_READY and reason not in svc.NOT_READY_REASONS:
        raise ValidationFailed(f"Give a reason for not being ready: one of {', '.join(svc.NOT_READY_REASONS)}.",
                               extra={"errors": [{"field": "reason"}]})  # fmt: skip
    engine = await _engine(session, rt)
    view = await ensure_agent(session, engine, actor.staff_id)
    if presence == t.Presence.READY:
        if not view.skills:
            raise Conflict("You have no skills yet, so no queue can reach you. Ask your supervisor to assign skills.",
                           code="no_skills")  # fmt: skip
        owed = await contacts.pending_wrapups(session, agent_id=actor.staff_id)
        if owed:
            raise Conflict(f"Record the wrap-up of contact {owed[0].id} first: a contact cannot be closed without it.",
                           code="wrapup_required", extra={"contact_id": owed[0].id})  # fmt: skip
    await _run(
        session,
        rt,
        engine,
        engine.set_presence(actor.staff_id, presence, reason if presence == t.Presence.NOT_READY else None),
    )
    out = await engine.agent(actor.staff_id)
    assert out is not None  # noqa: S101
    from kefu.routing import digital

    await digital.sync_agent(session, rt=rt, staff_id=actor.staff_id, reset=presence == t.Presence.READY)
    await svc.sync_presence(session, out)
    svc.publish_after_commit(session, rt, [svc.presence_message(out)])
    return out


async def _own_contact(session: AsyncSession, actor: Principal, contact_id: int) -> Any:
    c = await contacts.get_contact(session, contact_id)
    if c.agent_id != actor.staff_id:
        raise Conflict("This contact is not ringing at or connected to you.", code="not_your_contact")
    return c


async def accept(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    engine = await _engine(session, rt)
    await _run(session, rt, engine, engine.accept(contact_id, actor.staff_id))


async def decline(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    engine = await _engine(session, rt)
    await _run(session, rt, engine, engine.decline(contact_id, actor.staff_id))


async def hold(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int, on: bool) -> None:
    c = await _own_contact(session, actor, contact_id)
    await set_hold(session, rt=rt, contact=c, on=on, strict=True)


async def set_hold(session: AsyncSession, *, rt: runtime.Runtime, contact: Any, on: bool, strict: bool) -> None:
    """Put a connected call on hold or take it off (the desk's button, or the PBX's event). ``strict``: asking
    for the state the call is already in is an error (a person pressed twice) rather than a retry to ignore."""
    if contact.status != "connected":
        raise Conflict("Only a connected call can be put on hold or resumed.", code="not_connected")
    if on == (contact.hold_started_at is not None):
        if strict:
            raise Conflict("The call is already on hold." if on else "The call is not on hold.", code="hold_state")
        return
    await contacts.record(session, contact_id=contact.id, kind="held" if on else "resumed", at=clock.now(),
                          agent_id=contact.agent_id, settings=rt.settings)  # fmt: skip
    to = {"agents": [contact.agent_id], "monitors": True}
    svc.publish_after_commit(session, rt, [svc._message("hold", to, contact_id=contact.id, on=on)])


async def hang_up(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    """End the call (the contact record closes a hold still open); the agent goes to wrap-up."""
    await _own_contact(session, actor, contact_id)
    engine = await _engine(session, rt)
    await _run(session, rt, engine, engine.end(contact_id))


async def transfer(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int, queue: str | None,
    staff_no: str | None, mode: t.TransferMode,
) -> None:  # fmt: skip
    if not queue and not staff_no:
        raise ValidationFailed("Choose a queue (department) or an agent to transfer to.",
                               extra={"errors": [{"field": "queue"}]})  # fmt: skip
    await _own_contact(session, actor, contact_id)
    target: int | None = None
    if staff_no:
        from kefu.staff import service as staff_service

        member = await staff_service.get_by_staff_no(session, staff_no)
        if member is None or member.status != "active":
            raise ValidationFailed(f"No active agent with staff number {staff_no}.",
                                   extra={"errors": [{"field": "staff_no"}]})  # fmt: skip
        if member.id == actor.staff_id:
            raise ValidationFailed("You cannot transfer a call to yourself.", extra={"errors": [{"field": "staff_no"}]})
        target = member.id
    engine = await _engine(session, rt)
    await _run(
        session, rt, engine, engine.transfer(contact_id, actor.staff_id, queue=queue, agent_id=target, mode=mode)
    )
    await audit.record(session, action="contact.transfer", object_type="contact", object_id=contact_id,
                       after={"queue": queue, "staff_no": staff_no, "mode": mode.value})  # fmt: skip


async def cancel_transfer(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    await _own_contact(session, actor, contact_id)
    engine = await _engine(session, rt)
    await _run(session, rt, engine, engine.cancel_transfer(contact_id, actor.staff_id))


async def schedule_callback(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int, due_at: dt.datetime,
    queue: str | None, to_self: bool,
) -> Any:  # fmt: skip
    """预约回拨 (R1.8): call the customer back at the time they chose; offered to an agent when due."""
    origin = await contacts.get_contact(session, contact_id)
    if actor.staff_id not in (origin.agent_id, origin.owner_id):
        raise Conflict("Only the agent who handled the contact can promise a callback on it.",
                               code="not_your_contact")  # fmt: skip
    if due_at.tzinfo is None:
        raise ValidationFailed("Give the callback time with its time zone (e.g. 2026-11-24T15:00:00+08:00).",
                               extra={"errors": [{"field": "due_at"}]})  # fmt: skip
    now = clock.now()
    if due_at <= now or due_at > now + dt.timedelta(days=30):
        raise ValidationFailed("The callback time must be in the future and within 30 days.",
                               extra={"errors": [{"field": "due_at"}]})  # fmt: skip
    engine = await _engine(session, rt)
    queue_code = queue or origin.queue_code
    if queue_code not in {q.code for q in await engine.queues()}:
        raise ValidationFailed(f"No queue {queue_code}.", extra={"errors": [{"field": "queue"}]})
    cb = await contacts.open_contact(
        session, channel="phone", direction="outbound", queue_code=queue_code, arrived_at=now,
        caller_number=origin.caller_number, customer_id=origin.customer_id, identify=False,
        priority_bonus=origin.priority_bonus, scheduled_for=due_at, callback_of=origin.id,
        owner_id=origin.owner_id or actor.staff_id, actor=actor,
    )  # fmt: skip
    spec = t.ContactSpec(contact_id=cb.id, queue=queue_code, channel="phone", priority_bonus=cb.priority_bonus,
                         target_agent=actor.staff_id if to_self else None, owner_agent=cb.owner_id,
                         due_at=svc.to_ts(due_at))  # fmt: skip
    await _run(session, rt, engine, engine.arrive(spec))
    await audit.record(session, action="contact.callback_scheduled", object_type="contact", object_id=cb.id,
                       after={"callback_of": origin.id, "due_at": due_at.isoformat(), "queue": queue_code,
                              "to_self": to_self})  # fmt: skip
    return cb
