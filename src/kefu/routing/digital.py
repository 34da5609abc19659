"""Routing of chats and e-mails (R1.1, R1.3): the same engine as calls, one per digital channel, with capacity.

Each digital channel (``chat``, ``email``) has its own :class:`~kefu.routing.engine.Engine` (in-process store,
or Redis under ``{prefix}:{channel}`` in cluster mode) loaded with the same queues as the phone engine. An
agent appears in it as *slots*: ``staff_id * SLOT_BASE + k`` for k = 1 … capacity (``KEFU_CHAT_CAPACITY``,
``KEFU_EMAIL_CAPACITY``), each holding the agent's skills. At most one slot of an agent is READY at a time,
and only while the agent holds fewer contacts than the capacity: when that slot is offered a chat, the next
free slot becomes READY *now*, so it queues behind the other agents' longest-idle slots and new chats spread
across the team instead of filling one agent first.

The agent's phone presence is the one switch: the digital slots are open while the agent is ready, ringing,
on a call or in a call's wrap-up, and closed when the agent is not ready or logged out. A chat offer that
rings out at an agent who is otherwise ready sets them not ready (``no_answer``), as a call would; while on
a call the channel just pauses until the agent is ready again.

A slot whose conversation ended stays in wrap-up until the contact's wrap-up record is saved (R1.5): the
``contact.wrapped_up`` event, the desk's own reads and the timer release it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.contacts.wrapup import WRAPPED_UP_EVENT
from kefu.core import clock, events, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.routing import service as svc
from kefu.routing import types as t
from kefu.routing.engine import Engine, EngineError

log = structlog.get_logger(__name__)

CHANNELS = ("chat", "email")
SLOT_BASE = 100
KEY = "routing.digital."
#: phone presence in which the agent's digital channels are open
OPEN_PRESENCE = frozenset({t.Presence.READY, t.Presence.OFFERED, t.Presence.BUSY, t.Presence.WRAP_UP})
#: emitted (outbox event) when an agent accepts a chat or an e-mail: the channel's domain reacts
CONNECTED_EVENT = "contact.digital_connected"
_USED = frozenset({t.Presence.OFFERED, t.Presence.BUSY, t.Presence.WRAP_UP})


def slot_id(staff_id: int, k: int) -> int:
    return staff_id * SLOT_BASE + k


def staff_of(slot: int) -> int:
    return slot // SLOT_BASE


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValidationFailed(f"Channel must be one of {', '.join(CHANNELS)}.",
                               extra={"errors": [{"field": "channel"}]})  # fmt: skip


def capacity(settings: Any, channel: str) -> int:
    return int(settings.chat_capacity if channel == "chat" else settings.email_capacity)


class _Holder(svc.EngineHolder):
    """The engine of one digital channel, built on first use."""

    def __init__(self, rt: runtime.Runtime, channel: str) -> None:
        super().__init__(rt)
        self.channel = channel

    async def _build(self, session: AsyncSession | None) -> Engine:
        self.loop = asyncio.get_running_loop()
        settings = self.rt.settings
        if settings.redis_url:
            from kefu.routing.redis_store import RedisStore

            self.store = RedisStore(settings.redis_url, prefix=f"{settings.redis_prefix}:{self.channel}")
        else:
            from kefu.routing.memory import MemoryStore

            self.store = MemoryStore()
        offer = settings.chat_offer_seconds if self.channel == "chat" else settings.email_offer_seconds
        # wrap-up reminders come from the phone engine and the contacts domain; never from a slot
        config = t.EngineConfig(offer_timeout_s=float(offer), wrap_up_limit_s=10.0**9)
        engine = Engine(self.store, clock=svc.engine_now, config=config)
        if session is not None:
            await _load(self.rt, self.channel, engine, session)
        else:
            async with self.rt.db.transaction() as s:
                await _load(self.rt, self.channel, engine, s)
        return engine


async def engine_for(rt: runtime.Runtime, channel: str, session: AsyncSession | None = None) -> Engine:
    _check_channel(channel)
    holder = rt.extras.get(KEY + channel)
    if holder is None:
        holder = rt.extras[KEY + channel] = _Holder(rt, channel)
    return await holder.get(session)  # type: ignore[no-any-return]


def _built(rt: runtime.Runtime) -> list[tuple[str, _Holder]]:
    return [(ch, h) for ch in CHANNELS if (h := rt.extras.get(KEY + ch)) is not None and h.engine is not None]


async def _load(rt: runtime.Runtime, channel: str, engine: Engine, s: AsyncSession) -> None:
    """Queues from the configuration; put back this channel's contacts that were waiting when the process
    stopped. A chat that was connected ends (its customer's socket is gone); an e-mail that was being worked
    on goes back to its queue (the customer is still waiting for the answer)."""
    from kefu.routing import config_service

    queues, _agents = await config_service.engine_config(s)
    await engine.configure_queues(queues)
    known = {q.code for q in queues}
    decisions: list[t.Decision] = []
    now = clock.now()
    for c in await contacts.unfinished(s):
        if c.channel != channel or await engine.contact(c.id) is not None:
            continue
        if c.queue_code not in known or (c.status == "connected" and channel == "chat"):
            await contacts.record(s, contact_id=c.id, kind="ended", at=now, agent_id=c.agent_id,
                                  settings=rt.settings, end_reason="system_restart")  # fmt: skip
            continue
        if c.status in ("connected", "offered"):
            await contacts.record(s, contact_id=c.id, kind="transfer_requested", at=now, agent_id=c.agent_id,
                                  settings=rt.settings, mode="blind", queue=c.queue_code, reason="system_restart")  # fmt: skip
        spec = t.ContactSpec(contact_id=c.id, queue=c.queue_code, channel=channel, priority_bonus=c.priority_bonus,
                             waiting_since=svc.to_ts(c.queued_at or c.arrived_at), owner_agent=None)  # fmt: skip
        decisions.extend(await engine.arrive(spec))
    if decisions:
        await _settle(s, rt, channel, engine, decisions)


# ---- slots ---------------------------------------------------------------------------------------


async def _slots(
    engine: Engine, staff_id: int, skills: dict[str, int], cap: int, decisions: list[t.Decision]
) -> list[t.AgentView]:
    """The agent's slots, created or given the agent's current skills (a ready slot may be offered a contact at
    once: those decisions go to ``decisions``)."""
    out: list[t.AgentView] = []
    for k in range(1, cap + 1):
        view = await engine.agent(slot_id(staff_id, k))
        if view is None or view.skills != skills:
            decisions.extend(await engine.upsert_agent(t.AgentSpec(agent_id=slot_id(staff_id, k), skills=dict(skills))))
            view = await engine.agent(slot_id(staff_id, k))
        assert view is not None  # noqa: S101
        out.append(view)
    return out


async def _owed(session: AsyncSession, staff_id: int, channel: str) -> int:
    return sum(1 for c in await contacts.pending_wrapups(session, agent_id=staff_id) if c.channel == channel)


async def _sync_one(
    session: AsyncSession, rt: runtime.Runtime, channel: str, engine: Engine, staff_id: int, *, reset: bool
) -> list[t.Decision]:
    voice = await (await svc.get_engine(rt, session)).agent(staff_id)
    skills = dict(voice.skills) if voice is not None else {}
    is_open = voice is not None and voice.presence in OPEN_PRESENCE and bool(skills)
    if not is_open and (await engine.agent(slot_id(staff_id, 1))) is None:
        return []  # never opened: nothing to close
    out: list[t.Decision] = []
    slots = await _slots(engine, staff_id, skills, capacity(rt.settings, channel), out)
    wrapping = any(v.presence is t.Presence.WRAP_UP for v in slots)
    owed = await _owed(session, staff_id, channel) if wrapping else 0
    for slot_no, presence in plan_slots({v.agent_id: v.presence for v in slots}, is_open=is_open, reset=reset,
                                        owed=owed):  # fmt: skip
        out.extend(await engine.set_presence(slot_no, presence))
    return out


def plan_slots(state: dict[int, t.Presence], *, is_open: bool, reset: bool, owed: int) -> list[tuple[int, t.Presence]]:
    """The presence changes that bring one agent's slots (slot id → presence, in slot order) in line with the
    rules: wrap-ups recorded free their slot; closed → no slot ready and ringing offers move on; paused by a
    ring-out (a slot not ready) → nothing new until ``reset``; open → exactly one ready slot while fewer than
    all are in use. Pure: logging a slot out is deterministic, and setting one ready comes last."""
    now = dict(state)
    changes: list[tuple[int, t.Presence]] = []

    def to(slot_no: int, presence: t.Presence) -> None:
        changes.append((slot_no, presence))
        now[slot_no] = presence

    for n in [n for n, p in now.items() if p is t.Presence.WRAP_UP][owed:]:
        to(n, t.Presence.LOGGED_OUT)  # wrap-up recorded (or nothing owed: a blind transfer)
    paused = any(p is t.Presence.NOT_READY for p in now.values())
    if not is_open or (paused and not reset):
        for n, p in list(now.items()):  # closed: a ringing offer moves on too; open conversations stay
            if p is t.Presence.READY or (not is_open and p is t.Presence.OFFERED):
                to(n, t.Presence.LOGGED_OUT)
        return changes
    for n, p in list(now.items()):
        if p is t.Presence.NOT_READY:
            to(n, t.Presence.LOGGED_OUT)
    ready = [n for n, p in now.items() if p is t.Presence.READY]
    for n in ready[1:]:
        to(n, t.Presence.LOGGED_OUT)
    used = sum(1 for p in now.values() if p in _USED)
    if not ready and used < len(now):
        to(next(n for n, p in now.items() if p is t.Presence.LOGGED_OUT), t.Presence.READY)
    return changes


async def sync_agent(session: AsyncSession, *, rt: runtime.Runtime, staff_id: int, reset: bool = False) -> None:
    """Open or close the agent's chat and e-mail slots to follow their phone presence (``reset``: the agent
    asked to be ready: a channel paused by an unanswered offer opens again)."""
    for channel in CHANNELS:
        engine = await engine_for(rt, channel, session)
        decisions = await _sync_one(session, rt, channel, engine, staff_id, reset=reset)
        if decisions:
            await _settle(session, rt, channel, engine, decisions)


# ---- decisions -> contact records and live messages ------------------------------------------------


def _msg(kind: str, staff_id: int, **payload: Any) -> dict[str, Any]:
    return {"name": svc.LIVE, "to": {"agents": [staff_id]}, "payload": {"type": kind, **payload}}


async def _settle(
    session: AsyncSession, rt: runtime.Runtime, channel: str, engine: Engine, decisions: Sequence[t.Decision]
) -> None:
    """Record ``decisions``, then let every agent they touched refill or close slots, until nothing moves."""
    pending = list(decisions)
    for _ in range(10):
        touched, absent = await _apply(session, rt, channel, engine, pending)
        for staff_id in absent:
            await _absent(session, rt, staff_id)
        pending = []
        for staff_id in sorted(touched):
            pending.extend(await _sync_one(session, rt, channel, engine, staff_id, reset=False))
        if not pending:
            return
    log.warning("digital_settle_unfinished", channel=channel)


async def _apply(
    session: AsyncSession, rt: runtime.Runtime, channel: str, engine: Engine, decisions: Iterable[t.Decision]
) -> tuple[set[int], set[int]]:
    settings = rt.settings
    messages: list[dict[str, Any]] = []
    touched: set[int] = set()
    absent: set[int] = set()

    async def rec(contact_id: int, kind: str, at: float, slot: int | None = None, **data: Any) -> None:
        try:
            await contacts.record(session, contact_id=contact_id, kind=kind, at=svc.to_dt(at),
                                  agent_id=staff_of(slot) if slot is not None else None, settings=settings, **data)  # fmt: skip
        except NotFound:
            log.warning("digital_contact_missing", contact_id=contact_id, kind=kind)

    for d in decisions:
        if isinstance(d, t.Offered):
            staff = staff_of(d.agent_id)
            await rec(d.contact_id, "offered", d.at, d.agent_id, queue=d.queue)
            touched.add(staff)
            with contextlib.suppress(NotFound):
                payload = await svc.offer_payload(session, d.contact_id)
                payload["expires_at"] = svc.to_dt(d.expires_at).isoformat()
                messages.append(_msg("digital.offer", staff, **payload))
        elif isinstance(d, t.OfferTimedOut | t.OfferWithdrawn):
            staff = staff_of(d.agent_id)
            reason = d.reason if isinstance(d, t.OfferWithdrawn) else t.NO_ANSWER
            await rec(d.contact_id, "ring_out" if isinstance(d, t.OfferTimedOut) else "withdrawn", d.at, d.agent_id,
                      reason=reason)  # fmt: skip
            touched.add(staff)
            if isinstance(d, t.OfferTimedOut):
                absent.add(staff)
            messages.append(_msg("digital.offer_cancelled", staff, contact_id=d.contact_id, channel=channel,
                                 reason=reason))  # fmt: skip
        elif isinstance(d, t.Connected):
            staff = staff_of(d.agent_id)
            await rec(d.contact_id, "answered", d.at, d.agent_id, waited_s=d.waited_s, owner_id=staff, queue=d.queue)
            touched.add(staff)
            messages.append(_msg("digital.connected", staff, contact_id=d.contact_id, channel=channel))
            await events.emit(session, CONNECTED_EVENT, {"contact_id": d.contact_id, "channel": channel,
                                                         "staff_id": staff})  # fmt: skip
        elif isinstance(d, t.TransferRequested):
            target = staff_of(d.target_agent) if d.target_agent is not None else None
            await rec(d.contact_id, "transfer_requested", d.at, d.from_agent, mode=d.mode.value, queue=d.queue,
                      target_agent=target)  # fmt: skip
            touched.add(staff_of(d.from_agent))
            messages.append(_msg("digital.ended", staff_of(d.from_agent), contact_id=d.contact_id, channel=channel,
                                 reason="transferred"))  # fmt: skip
        elif isinstance(d, t.TransferCompleted):
            to_staff = staff_of(d.to_agent)
            await rec(
                d.contact_id, "transferred", d.at, d.to_agent, from_agent=staff_of(d.from_agent), to_agent=to_staff
            )
            touched.update((staff_of(d.from_agent), to_staff))
        elif isinstance(d, t.TransferFailed):
            await rec(d.contact_id, "transfer_failed", d.at, d.from_agent, reason=d.reason)
        elif isinstance(d, t.Widened):
            await rec(d.contact_id, "widened", d.at, queue=d.queue)
        elif isinstance(d, t.Overflowed):
            await rec(d.contact_id, "overflowed", d.at, from_queue=d.from_queue, to_queue=d.to_queue)
        elif isinstance(d, t.Abandoned):
            await rec(d.contact_id, "abandoned", d.at, d.agent_id, waited_s=d.waited_s)
            if d.agent_id is not None:
                touched.add(staff_of(d.agent_id))
                messages.append(_msg("digital.offer_cancelled", staff_of(d.agent_id), contact_id=d.contact_id,
                                     channel=channel, reason="abandoned"))  # fmt: skip
            with contextlib.suppress(EngineError):
                await engine.forget_contact(d.contact_id)
        elif isinstance(d, t.Ended):
            staff = staff_of(d.agent_id)
            await rec(d.contact_id, "ended", d.at, d.agent_id)
            touched.add(staff)
            messages.append(_msg("digital.ended", staff, contact_id=d.contact_id, channel=channel, reason="ended"))
            with contextlib.suppress(EngineError):
                await engine.forget_contact(d.contact_id)
        elif isinstance(d, t.PresenceChanged):
            touched.add(staff_of(d.agent_id))
    if messages:
        svc.publish_after_commit(session, rt, messages)
    return touched, absent


async def _absent(session: AsyncSession, rt: runtime.Runtime, staff_id: int) -> None:
    """A digital offer rang out: an agent who is otherwise ready is away from the desk (not ready, no answer)."""
    voice_engine = await svc.get_engine(rt, session)
    view = await voice_engine.agent(staff_id)
    if view is None or view.presence is not t.Presence.READY:
        return  # on a call: the channel pauses (its slot stays not ready) until the agent is ready again
    decisions = await voice_engine.set_presence(staff_id, t.Presence.NOT_READY, t.NO_ANSWER)
    await svc.apply(session, decisions, rt=rt, engine=voice_engine)


# ---- what the desk and the channels call ------------------------------------------------------------


async def _run(session: AsyncSession, rt: runtime.Runtime, channel: str, engine: Engine, coro: Any) -> None:
    try:
        decisions: list[t.Decision] = await coro
    except EngineError as exc:
        raise svc.engine_error(exc) from exc
    await _settle(session, rt, channel, engine, decisions)


OFFLINE = "routing.digital.offline"


def mark_offline(rt: runtime.Runtime) -> None:
    """A command-line runtime (``kefu mail import``) in embedded mode: the routing engines live in the serving
    process, so contacts opened here stay queued in the database and that process picks them up
    (:func:`release_wrapped`'s sweep) instead of a throw-away engine of this process taking them."""
    rt.extras[OFFLINE] = True


async def route(
    session: AsyncSession, *, rt: runtime.Runtime, contact_id: int, channel: str, queue: str,
    priority_bonus: float = 0.0,
) -> None:  # fmt: skip
    """Hand a new chat or e-mail (an open ``contacts`` row of that channel) to the routing engine."""
    if rt.extras.get(OFFLINE) and not rt.settings.redis_url:
        return  # queued in the database; the serving process routes it within seconds
    engine = await engine_for(rt, channel, session)
    if queue not in {q.code for q in await engine.queues()}:
        raise ValidationFailed(f"No queue {queue!r} is configured for {channel}; ask a supervisor to add it.",
                               extra={"errors": [{"field": "queue"}]})  # fmt: skip
    if await engine.contact(contact_id) is not None:
        return  # the engine was built just now and loaded it with the other waiting contacts
    spec = t.ContactSpec(contact_id=contact_id, queue=queue, channel=channel, priority_bonus=priority_bonus)
    await _run(session, rt, channel, engine, engine.arrive(spec))


async def _slot_of(engine: Engine, staff_id: int, contact_id: int) -> int:
    ec = await engine.contact(contact_id)
    if ec is None:
        raise Conflict("This conversation is no longer waiting or open.", code="not_your_contact")
    slot = ec.offered_to if ec.offered_to is not None else ec.agent_id
    if slot is None or staff_of(slot) != staff_id:
        raise Conflict("This conversation is not offered to or open with you.", code="not_your_contact")
    return slot


async def _channel_of(session: AsyncSession, contact_id: int) -> str:
    c = await contacts.get_contact(session, contact_id)
    if c.channel not in CHANNELS:
        raise Conflict(f"Contact {contact_id} is a {c.channel} contact, not a chat or an e-mail.", code="not_digital")
    return str(c.channel)


async def accept(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    channel = await _channel_of(session, contact_id)
    engine = await engine_for(rt, channel, session)
    slot = await _slot_of(engine, actor.staff_id, contact_id)
    await _run(session, rt, channel, engine, engine.accept(contact_id, slot))


async def decline(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    channel = await _channel_of(session, contact_id)
    engine = await engine_for(rt, channel, session)
    slot = await _slot_of(engine, actor.staff_id, contact_id)
    await _run(session, rt, channel, engine, engine.decline(contact_id, slot))


async def finish(
    session: AsyncSession, *, rt: runtime.Runtime, contact_id: int, by_agent: int | None, reason: str
) -> None:
    """End the conversation: connected → the agent's wrap-up (``ended``); still waiting or ringing → abandoned.
    ``by_agent`` (the agent closing it) must be the one connected. Finishing an ended contact changes nothing."""
    channel = await _channel_of(session, contact_id)
    engine = await engine_for(rt, channel, session)
    ec = await engine.contact(contact_id)
    if ec is None:
        c = await contacts.get_contact(session, contact_id)
        if c.status in ("queued", "offered", "connected"):  # unknown to this node's engine: record the end
            kind = "ended" if c.status == "connected" else "abandoned"
            await contacts.record(session, contact_id=contact_id, kind=kind, at=clock.now(), agent_id=c.agent_id,
                                  settings=rt.settings, end_reason=reason)  # fmt: skip
        return
    if ec.state is t.ContactState.CONNECTED:
        if by_agent is not None and (ec.agent_id is None or staff_of(ec.agent_id) != by_agent):
            raise Conflict("Only the agent in this conversation can close it.", code="not_your_contact")
        await _run(session, rt, channel, engine, engine.end(contact_id))
    elif ec.state is not t.ContactState.ENDED:
        await _run(session, rt, channel, engine, engine.abandon(contact_id))


async def transfer(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int, queue: str | None,
    staff_no: str | None,
) -> None:  # fmt: skip
    """Blind transfer of a chat or e-mail to a queue, or to a named agent who has a free slot now."""
    if not queue and not staff_no:
        raise ValidationFailed("Choose a queue (department) or an agent to transfer to.",
                               extra={"errors": [{"field": "queue"}]})  # fmt: skip
    channel = await _channel_of(session, contact_id)
    engine = await engine_for(rt, channel, session)
    slot = await _slot_of(engine, actor.staff_id, contact_id)
    target: int | None = None
    if staff_no:
        from kefu.staff import service as staff_service

        member = await staff_service.get_by_staff_no(session, staff_no)
        if member is None or member.status != "active" or member.id == actor.staff_id:
            raise ValidationFailed(f"No other active agent with staff number {staff_no}.",
                                   extra={"errors": [{"field": "staff_no"}]})  # fmt: skip
        for k in range(1, capacity(rt.settings, channel) + 1):
            view = await engine.agent(slot_id(member.id, k))
            if view is not None and view.presence is t.Presence.READY:
                target = view.agent_id
        if target is None:
            raise Conflict(f"Agent {staff_no} cannot take another {channel} now; transfer to a queue instead.",
                           code="agent_full")  # fmt: skip
    await _run(session, rt, channel, engine,
               engine.transfer(contact_id, slot, queue=queue or None, agent_id=target, mode=t.TransferMode.BLIND))  # fmt: skip
    from kefu.core import audit

    await audit.record(session, action="contact.transfer", object_type="contact", object_id=contact_id,
                       after={"queue": queue, "staff_no": staff_no, "mode": "blind", "channel": channel})  # fmt: skip


async def mine(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal) -> list[dict[str, Any]]:
    """The agent's chats and e-mails: ringing, open, and ended awaiting their wrap-up (oldest first)."""
    await sync_agent(session, rt=rt, staff_id=actor.staff_id)
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for channel in CHANNELS:
        engine = await engine_for(rt, channel, session)
        for k in range(1, capacity(rt.settings, channel) + 1):
            view = await engine.agent(slot_id(actor.staff_id, k))
            if view is None or view.contact_id is None or view.contact_id in seen:
                continue
            ec = await engine.contact(view.contact_id)
            with contextlib.suppress(NotFound):
                payload = await svc.offer_payload(session, view.contact_id)
                offered = view.presence is t.Presence.OFFERED
                payload["status"] = "offered" if offered else "connected"
                payload["expires_at"] = (svc.to_dt(ec.offer_expires_at).isoformat()
                                         if offered and ec and ec.offer_expires_at else None)  # fmt: skip
                out.append(payload)
                seen.add(view.contact_id)
    for c in await contacts.pending_wrapups(session, agent_id=actor.staff_id):
        if c.channel in CHANNELS and c.id not in seen:
            payload = await svc.offer_payload(session, c.id)
            payload["status"], payload["expires_at"] = "wrap_up", None
            out.append(payload)
    out.sort(key=lambda p: int(p["contact_id"]))
    return out


# ---- timer, configuration, events ------------------------------------------------------------------


async def tick(rt: runtime.Runtime) -> None:
    """Ring-outs, widening and overflow of the digital engines built in this process; release slots whose
    wrap-up was recorded elsewhere."""
    for channel, holder in _built(rt):
        engine = holder.engine
        assert engine is not None  # noqa: S101
        decisions = await engine.tick()
        if decisions:
            async with rt.db.transaction() as s:
                await _settle(s, rt, channel, engine, decisions)


async def release_wrapped(rt: runtime.Runtime) -> None:
    """The timer's sweep: agents with a slot in wrap-up whose wrap-up has been recorded get the slot back, and
    waiting chats and e-mails this engine does not know (stored by a command of another process) are routed."""
    for channel in CHANNELS:
        known = await engine_for(rt, channel)
        async with rt.db.transaction() as s:
            strays = [c for c in await contacts.unfinished(s)
                      if c.channel == channel and c.status == "queued" and await known.contact(c.id) is None]  # fmt: skip
            for c in strays:
                await route(s, rt=rt, contact_id=c.id, channel=channel, queue=c.queue_code,
                            priority_bonus=c.priority_bonus)  # fmt: skip
    for channel, holder in _built(rt):
        engine = holder.engine
        assert engine is not None  # noqa: S101
        staff = {staff_of(a.agent_id) for a in await engine.agents() if a.presence is t.Presence.WRAP_UP}
        for staff_id in sorted(staff):
            async with rt.db.transaction() as s:
                decisions = await _sync_one(s, rt, channel, engine, staff_id, reset=False)
                if decisions:
                    await _settle(s, rt, channel, engine, decisions)


async def reconfigure(rt: runtime.Runtime, session: AsyncSession) -> None:
    """Reload the queues into the digital engines built in this process (after a configuration change)."""
    from kefu.routing import config_service

    built = _built(rt)
    if not built:
        return
    queues, _agents = await config_service.engine_config(session)
    for _channel, holder in built:
        assert holder.engine is not None  # noqa: S101
        await holder.engine.configure_queues(queues)


@events.subscribe(WRAPPED_UP_EVENT)
async def on_wrapped_up(session: AsyncSession, payload: dict[str, Any]) -> None:
    """A chat's or e-mail's wrap-up was recorded: its slot is free again (in the serving process; the timer
    catches what another thread or node recorded)."""
    rt = runtime.get()
    if not rt.settings.redis_url and not any(h.loop is asyncio.get_running_loop() for _c, h in _built(rt)):
        return
    staff_id = payload.get("agent_id")
    if isinstance(staff_id, int):
        await sync_agent(session, rt=rt, staff_id=staff_id)
