"""The live routing engine of this process and the glue between it and the durable contact record.

One :class:`~kefu.routing.engine.Engine` per runtime: over an in-process store in embedded mode, over
Redis in cluster mode (every ``kefu serve`` node shares it). Every engine call returns decisions;
:func:`apply` writes them into the contacts domain (timestamps, events), keeps the presence log, and
queues live messages that are published on the bus after the transaction commits (convention 2).
A timer task in ``kefu serve`` calls :func:`tick` (ring-outs, overflow, callbacks due).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.core import clock, events, runtime
from kefu.core.crypto import mask_phone
from kefu.core.db import after_commit
from kefu.core.errors import Conflict, KefuError, NotFound
from kefu.routing import types as t
from kefu.routing.engine import Engine, EngineError
from kefu.routing.models import PresenceLog

log = structlog.get_logger(__name__)

ENGINE_KEY = "routing.engine"
LIVE = "routing.live"

#: Priority points by customer tier (R1.8: VIP first). One point = one second of waiting at acceleration 1.
TIER_BONUS: dict[str, float] = {"normal": 0, "gold": 20, "platinum": 40, "diamond": 60, "private": 90}

#: Reasons an agent may give for not being ready (codes; the screens translate them).
NOT_READY_REASONS: tuple[str, ...] = ("break", "meal", "training", "meeting", "coaching", "admin_work", "outbound")


def engine_now() -> float:
    return clock.now().timestamp()


def to_dt(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def to_ts(value: dt.datetime) -> float:
    return value.timestamp()


class EngineHolder:
    """Builds a runtime's engine once, on first use (subclasses build other channels' engines)."""

    def __init__(self, rt: runtime.Runtime) -> None:
        self.rt = rt
        self.engine: Engine | None = None
        self.store: Any = None
        self.lock = asyncio.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def get(self, session: AsyncSession | None) -> Engine:
        if self.engine is None:
            async with self.lock:
                if self.engine is None:
                    self.engine = await self._build(session)
        return self.engine

    async def _build(self, session: AsyncSession | None) -> Engine:
        self.loop = asyncio.get_running_loop()
        settings = self.rt.settings
        if settings.redis_url:
            from kefu.routing.redis_store import RedisStore

            self.store = RedisStore(settings.redis_url, prefix=settings.redis_prefix)
        else:
            from kefu.routing.memory import MemoryStore

            self.store = MemoryStore()
        engine = Engine(
            self.store,
            clock=engine_now,
            config=t.EngineConfig(
                offer_timeout_s=settings.offer_timeout_seconds, wrap_up_limit_s=float(settings.wrapup_limit_seconds)
            ),
        )
        if session is not None:
            await _load(self.rt, engine, session)
        else:
            async with self.rt.db.transaction() as s:
                await _load(self.rt, engine, s)
        return engine

    async def aclose(self) -> None:
        closer = getattr(self.store, "close", None)
        if closer is not None:
            await closer()


async def get_engine(rt: runtime.Runtime | None = None, session: AsyncSession | None = None) -> Engine:
    """The runtime's engine, built on first use. Pass the caller's ``session`` when inside a transaction
    (SQLite allows one writer: a second transaction opened here would wait for the caller's)."""
    rt = rt or runtime.get()
    holder = rt.extras.get(ENGINE_KEY)
    if holder is None:
        holder = rt.extras[ENGINE_KEY] = EngineHolder(rt)
    return await holder.get(session)  # type: ignore[no-any-return]


async def _load(rt: runtime.Runtime, engine: Engine, s: AsyncSession) -> None:
    """Load queues and agents' skills, and put back the contacts that were waiting when the process stopped."""
    from kefu.routing import config_service

    queues, agents = await config_service.engine_config(s)
    await engine.configure_queues(queues)
    for spec in agents:
        await engine.upsert_agent(spec)
    known = {q.code for q in queues}
    ended: list[t.Decision] = []
    for c in await contacts.unfinished(s):
        if c.channel != "phone":
            continue  # chats and e-mails: kefu.routing.digital
        if await engine.contact(c.id) is not None:
            continue  # cluster mode: the shared store still has it
        if c.status == "connected" or c.queue_code not in known:
            await contacts.record(s, contact_id=c.id, kind="ended", at=clock.now(), agent_id=c.agent_id,
                                  settings=rt.settings, end_reason="system_restart")  # fmt: skip
            continue
        cspec = t.ContactSpec(
            contact_id=c.id, queue=c.queue_code, channel=c.channel, priority_bonus=c.priority_bonus,
            waiting_since=to_ts(c.queued_at or c.arrived_at), owner_agent=c.owner_id,
            due_at=to_ts(c.scheduled_for) if c.status == "scheduled" and c.scheduled_for else None,
        )  # fmt: skip
        ended.extend(await engine.arrive(cspec))
    if ended:
        await apply(s, ended, rt=rt, engine=engine)


async def reconfigure(rt: runtime.Runtime | None = None) -> None:
    """Reload queues and agents' skills after a configuration change (presence and contacts are kept)."""
    from kefu.routing import config_service

    rt = rt or runtime.get()
    if ENGINE_KEY not in rt.extras:
        from kefu.routing import digital

        async with rt.db.transaction() as s:
            await digital.reconfigure(rt, s)  # the chat / e-mail engines may be built already
        return  # the phone engine is not built yet: it loads the new configuration when first used
    engine = await get_engine(rt)
    async with rt.db.transaction() as s:
        queues, agents = await config_service.engine_config(s)
        await engine.configure_queues(queues)
        decisions: list[t.Decision] = []
        for spec in agents:
            decisions.extend(await engine.upsert_agent(spec))
        configured = {spec.agent_id for spec in agents}
        for view in await engine.agents():
            if view.agent_id not in configured and view.skills:  # skills removed, or no longer an active agent
                decisions.extend(await engine.upsert_agent(t.AgentSpec(agent_id=view.agent_id, skills={})))
        if decisions:
            await apply(s, decisions, rt=rt, engine=engine)
        from kefu.routing import digital

        await digital.reconfigure(rt, s)


def engine_error(exc: EngineError) -> KefuError:
    if exc.code in ("unknown_contact", "unknown_agent"):
        return NotFound(str(exc))
    return Conflict(str(exc), code=f"routing_{exc.code}")


# ---- decisions -> contact record, presence log, live messages -----------------------------------


def _message(kind: str, to: dict[str, Any], **payload: Any) -> dict[str, Any]:
    return {"name": LIVE, "to": to, "payload": {"type": kind, **payload}}


async def offer_payload(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """What the ringing agent sees: masked caller, identified customer (masked), queue, IVR choices."""
    from kefu.customers import service as customers

    c = await contacts.get_contact(session, contact_id)
    card = await customers.caller_card(session, c.customer_id) if c.customer_id else None
    return {
        "contact_id": c.id, "channel": c.channel, "direction": c.direction, "queue": c.queue_code,
        "caller": mask_phone(c.caller_number) if c.caller_number else "", "dialled": c.dialled_number or "",
        "ivr": c.ivr_choices or "", "customer": card, "external_ref": c.external_ref,
    }  # fmt: skip


async def apply(
    session: AsyncSession, decisions: Sequence[t.Decision], *, rt: runtime.Runtime, engine: Engine
) -> list[dict[str, Any]]:
    """Record ``decisions`` in the contacts domain and queue their live messages for after commit."""
    settings = rt.settings
    messages: list[dict[str, Any]] = []
    touched: set[int] = set()

    async def rec(contact_id: int, kind: str, at: float, agent_id: int | None = None, **data: Any) -> None:
        try:
            await contacts.record(session, contact_id=contact_id, kind=kind, at=to_dt(at), agent_id=agent_id,
                                  settings=settings, **data)  # fmt: skip
        except NotFound:
            log.warning("routing_contact_missing", contact_id=contact_id, kind=kind)

    for d in decisions:
        if isinstance(d, t.Offered):
            await rec(d.contact_id, "offered", d.at, d.agent_id, queue=d.queue)
            touched.add(d.agent_id)
            with contextlib.suppress(NotFound):
                payload = await offer_payload(session, d.contact_id)
                payload["expires_at"] = to_dt(d.expires_at).isoformat()
                messages.append(_message("offer", {"agents": [d.agent_id]}, **payload))
                if payload.get("external_ref"):
                    messages.append(_message("cti.route", {"cti": True}, call_id=payload["external_ref"],
                                             contact_id=d.contact_id, agent_id=d.agent_id))  # fmt: skip
        elif isinstance(d, t.OfferTimedOut):
            await rec(d.contact_id, "ring_out", d.at, d.agent_id)
            touched.add(d.agent_id)
            messages.append(_message("offer_cancelled", {"agents": [d.agent_id]}, contact_id=d.contact_id,
                                     reason="no_answer"))  # fmt: skip
        elif isinstance(d, t.OfferWithdrawn):
            await rec(d.contact_id, "withdrawn", d.at, d.agent_id, reason=d.reason)
            touched.add(d.agent_id)
            messages.append(_message("offer_cancelled", {"agents": [d.agent_id]}, contact_id=d.contact_id,
                                     reason=d.reason))  # fmt: skip
        elif isinstance(d, t.Connected):
            await rec(d.contact_id, "answered", d.at, d.agent_id, waited_s=d.waited_s, owner_id=d.owner_agent,
                      queue=d.queue)  # fmt: skip
            touched.add(d.agent_id)
            messages.append(_message("connected", {"agents": [d.agent_id]}, contact_id=d.contact_id))
        elif isinstance(d, t.TransferRequested):
            await rec(d.contact_id, "transfer_requested", d.at, d.from_agent, mode=d.mode.value, queue=d.queue,
                      target_agent=d.target_agent)  # fmt: skip
            touched.add(d.from_agent)
        elif isinstance(d, t.TransferCompleted):
            await rec(d.contact_id, "transferred", d.at, d.to_agent, from_agent=d.from_agent, to_agent=d.to_agent)
            touched.update((d.from_agent, d.to_agent))
            messages.append(_message("transferred", {"agents": [d.from_agent, d.to_agent]},
                                     contact_id=d.contact_id, from_agent=d.from_agent, to_agent=d.to_agent))  # fmt: skip
        elif isinstance(d, t.TransferFailed):
            await rec(d.contact_id, "transfer_failed", d.at, d.from_agent, reason=d.reason)
            touched.add(d.from_agent)
            messages.append(_message("transfer_failed", {"agents": [d.from_agent]}, contact_id=d.contact_id,
                                     reason=d.reason))  # fmt: skip
        elif isinstance(d, t.Widened):
            await rec(d.contact_id, "widened", d.at, queue=d.queue)
        elif isinstance(d, t.Overflowed):
            await rec(d.contact_id, "overflowed", d.at, from_queue=d.from_queue, to_queue=d.to_queue)
        elif isinstance(d, t.CallbackDue):
            await rec(d.contact_id, "callback_due", d.at, queue=d.queue)
        elif isinstance(d, t.Abandoned):
            await rec(d.contact_id, "abandoned", d.at, d.agent_id, waited_s=d.waited_s)
            if d.agent_id is not None:
                touched.add(d.agent_id)
                messages.append(_message("offer_cancelled", {"agents": [d.agent_id]}, contact_id=d.contact_id,
                                         reason="abandoned"))  # fmt: skip
            with contextlib.suppress(EngineError):
                await engine.forget_contact(d.contact_id)
        elif isinstance(d, t.Ended):
            await rec(d.contact_id, "ended", d.at, d.agent_id)
            touched.add(d.agent_id)
            messages.append(_message("ended", {"agents": [d.agent_id]}, contact_id=d.contact_id))
            with contextlib.suppress(EngineError):
                await engine.forget_contact(d.contact_id)
        elif isinstance(d, t.PresenceChanged):
            touched.add(d.agent_id)
        elif isinstance(d, t.WrapUpOverdue):
            messages.append(_message("wrapup_overdue", {"agents": [d.agent_id], "monitors": True},
                                     agent_id=d.agent_id, seconds=round(d.seconds)))  # fmt: skip
    for agent_id in sorted(touched):
        view = await engine.agent(agent_id)
        if view is not None and await sync_presence(session, view):
            messages.append(presence_message(view))
    if messages:
        publish_after_commit(session, rt, messages)
    presence_changed = sorted({d.agent_id for d in decisions if isinstance(d, t.PresenceChanged)})
    if presence_changed:
        from kefu.routing import digital

        for agent_id in presence_changed:  # chats and e-mails follow the phone presence
            await digital.sync_agent(session, rt=rt, staff_id=agent_id)
    return messages


def presence_message(view: t.AgentView) -> dict[str, Any]:
    return _message("presence", {"agents": [view.agent_id], "monitors": True}, agent_id=view.agent_id,
                    presence=view.presence.value, reason=view.reason, contact_id=view.contact_id)  # fmt: skip


def publish_after_commit(session: AsyncSession, rt: runtime.Runtime, messages: Iterable[dict[str, Any]]) -> None:
    batch = list(messages)

    async def _publish_live() -> None:
        for m in batch:
            await rt.bus.publish(m)

    after_commit(session, _publish_live)


async def sync_presence(session: AsyncSession, view: t.AgentView) -> bool:
    """Keep the presence log in step with the engine; True when it changed."""
    row = (
        await session.execute(
            select(PresenceLog)
            .where(PresenceLog.staff_id == view.agent_id, PresenceLog.ended_at.is_(None))
            .order_by(PresenceLog.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is not None and row.presence == view.presence.value and row.reason == view.reason:
        return False
    if row is None and view.presence == t.Presence.LOGGED_OUT:
        return False
    now = clock.now()
    if row is not None:
        row.ended_at = now
    if view.presence != t.Presence.LOGGED_OUT:
        session.add(PresenceLog(staff_id=view.agent_id, presence=view.presence.value, reason=view.reason,
                                started_at=now))  # fmt: skip
    await session.flush()
    return True


# ---- the timer -----------------------------------------------------------------------------------


async def tick(rt: runtime.Runtime | None = None) -> list[t.Decision]:
    """One round of timers: ring-outs, widening, overflow, callbacks due, wrap-up reminders, routing."""
    rt = rt or runtime.get()
    engine = await get_engine(rt)
    decisions = await engine.tick()
    if decisions:
        async with rt.db.transaction() as s:
            await apply(s, decisions, rt=rt, engine=engine)
    return decisions


async def run_timer(rt: runtime.Runtime, stop: asyncio.Event) -> None:
    """Run :func:`tick` every ``routing_tick_seconds`` until ``stop`` is set (started by ``kefu serve``)."""
    from kefu.routing import digital

    interval = rt.settings.routing_tick_seconds
    rounds = 0
    while not stop.is_set():
        try:
            await tick(rt)
            await digital.tick(rt)
            rounds += 1
            if rounds % 5 == 0:
                await digital.release_wrapped(rt)
        except Exception:  # keep the timer alive; the next round retries
            log.exception("routing_tick_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


# ---- staff leaving or suspended: out of routing ----------------------------------------------------


@events.subscribe("staff.status_changed")
async def on_staff_status_changed(session: AsyncSession, payload: dict[str, Any]) -> None:
    """A suspended or departed agent stops receiving contacts at once: logged out (a ringing offer moves on),
    skills dropped. A call in progress is left to finish. In embedded mode only the serving process holds the
    engine; elsewhere (the job thread) there is nothing to change."""
    if payload.get("status") not in ("suspended", "left"):
        return
    rt = runtime.get()
    holder = rt.extras.get(ENGINE_KEY)
    if not rt.settings.redis_url and (holder is None or holder.loop is not asyncio.get_running_loop()):
        return  # embedded mode, and not the serving loop (e.g. the job thread sweeping a left-over event)
    engine = await get_engine(rt, session)
    agent_id = int(payload["staff_id"])
    view = await engine.agent(agent_id)
    if view is None:
        return
    decisions: list[t.Decision] = []
    if view.presence in (t.Presence.READY, t.Presence.NOT_READY, t.Presence.OFFERED):
        decisions.extend(await engine.set_presence(agent_id, t.Presence.LOGGED_OUT))
    decisions.extend(await engine.upsert_agent(t.AgentSpec(agent_id=agent_id, skills={})))
    await apply(session, decisions, rt=rt, engine=engine)
