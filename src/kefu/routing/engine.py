"""The routing engine: who is offered which contact, when, and what happens around the offer.

Pure rules over a :class:`~kefu.routing.store.RoutingStore`, deterministic given the clock. Each public
call is one transaction: it reads, decides, and commits every change at once; when another engine
sharing the store changed the same records first, the call runs again on fresh state (never more than
a few times; then ``EngineError("conflict")``). The decisions are returned in the order they happened.

Beyond docs/notes' contract (``routing_api.md``), the engine:

- emits ``PresenceChanged`` whenever an agent enters READY, NOT_READY or LOGGED_OUT, whether the agent
  asked (``set_presence``) or the engine did it (ring-out, decline, caller hung up while ringing, a
  consult leg withdrawn); OFFERED / BUSY / WRAP_UP are implied by Offered / Connected / Ended /
  TransferRequested / TransferCompleted;
- a declined contact goes to another READY agent; when only the decliner could take it, it waits and
  the next ``tick`` may offer it to the decliner again (``reoffer_declined``), not the same call;
- a contact for a named agent (transfer to an agent) does not widen; when its queue overflows it moves
  there for anyone. If the named agent rings out, declines or goes not-ready while ringing, a blind
  transfer falls back to its queue for anyone, a consult transfer fails (``TransferFailed``) and the
  contact stays with the first agent;
- a connected contact that ends during a consult transfer withdraws the leg (``OfferWithdrawn`` reason
  ``contact_ended`` when ringing, then ``TransferFailed``);
- a callback whose ``due_at`` is already past on arrival is routed at once (``CallbackDue``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from kefu.routing import operations as ops
from kefu.routing.rules import AgentRec, ContactRec
from kefu.routing.selection import Tx, route_agent
from kefu.routing.store import RoutingStore
from kefu.routing.types import (
    SELF_SERVICE_PRESENCE,
    AgentSpec,
    AgentView,
    ContactSpec,
    ContactState,
    ContactView,
    Decision,
    EngineConfig,
    Presence,
    QueueSpec,
    TransferMode,
)

T = TypeVar("T")
MAX_ATTEMPTS = 50


class EngineError(Exception):
    """``code``: unknown_agent | unknown_contact | unknown_queue | bad_state | conflict."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class QueueStatus:
    """One row of the wallboard."""

    queue: str
    waiting: int  # contacts WAITING or OFFERED in this queue (consult legs count in their target queue)
    oldest_wait_s: float  # 0 when none
    scheduled: int  # callbacks not yet due
    agents_ready: int  # qualified agents (normal proficiency) READY
    agents_busy: int  # qualified agents OFFERED/BUSY/WRAP_UP
    agents_not_ready: int  # qualified agents NOT_READY (logged-out agents are not counted)


class Engine:
    def __init__(
        self, store: RoutingStore, *, clock: Callable[[], float], config: EngineConfig = EngineConfig()
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self._sweep_pending = False
        self._rng = random.Random()  # noqa: S311 - retry back-off only, never a decision

    async def _run(self, op: Callable[[Tx], Awaitable[T]]) -> tuple[T, list[Decision]]:
        store = self.store
        for attempt in range(MAX_ATTEMPTS):
            fresh = attempt > 0
            cfg = await store.queue_set(fresh=fresh)
            tx = Tx(store, cfg, self.clock(), self.config, fresh or not store.caching)
            try:
                result = await op(tx)
            except EngineError as exc:
                if not fresh and (tx.cached_reads or exc.code == "unknown_queue"):
                    continue  # perhaps a stale local copy (or a queue another node just added): look again
                raise
            if not tx.dirty:
                if tx.cached_reads:
                    continue  # nothing to do, according to a local copy: make sure
                return result, tx.out
            agents = [(old, tx.agents[aid]) for aid, old in tx.orig_a.items()]
            contacts = [(old, tx.contacts[cid]) for cid, old in tx.orig_c.items()]
            unchanged = tx.unchanged_reads()
            if await store.commit(cfg.version, agents, contacts, tx.stamps, unchanged):
                return result, tx.out
            if attempt > 2:
                await asyncio.sleep(self._rng.random() * 0.001 * min(attempt, 20))
            else:
                await asyncio.sleep(0)
        raise EngineError("conflict", "The routing state kept changing under this request; try again.")

    async def _decide(self, op: Callable[[Tx], Awaitable[None]]) -> list[Decision]:
        return (await self._run(op))[1]

    # ---- configuration --------------------------------------------------------------------------
    async def configure_queues(self, queues: Iterable[QueueSpec]) -> None:
        """Replace the queue set. Contacts already waiting are re-examined at the next ``tick``."""
        specs = list(queues)
        codes = [q.code for q in specs]
        if len(set(codes)) != len(codes):
            dup = sorted({c for c in codes if codes.count(c) > 1})
            raise EngineError("conflict", f"Queue codes must be unique; repeated: {', '.join(dup)}.")
        for q in specs:
            if q.overflow_queue is not None and q.overflow_queue not in codes:
                raise EngineError(
                    "unknown_queue", f"Queue {q.code} overflows to {q.overflow_queue}, which is not configured."
                )
        await self.store.replace_queues(specs)

    async def queues(self) -> list[QueueSpec]:
        return list((await self.store.queue_set(fresh=True)).queues.values())

    async def upsert_agent(self, spec: AgentSpec) -> list[Decision]:
        """Create an agent (LOGGED_OUT) or replace its skills (a READY agent is routed with them at once)."""

        async def op(tx: Tx) -> None:
            a = await tx.agent(spec.agent_id)
            skills = {k: int(v) for k, v in spec.skills.items()}
            if a is None:
                tx.new_agent(AgentRec(spec.agent_id, skills, Presence.LOGGED_OUT, None, tx.now))
                return
            a = tx.edit_agent(a)
            a.skills = skills
            await route_agent(tx, a)

        return await self._decide(op)

    # ---- presence --------------------------------------------------------------------------------
    async def set_presence(self, agent_id: int, presence: Presence, reason: str | None = None) -> list[Decision]:
        if presence not in SELF_SERVICE_PRESENCE:
            raise EngineError("bad_state", f"An agent may ask for ready, not ready or logged out, not {presence}.")

        async def op(tx: Tx) -> None:
            a = await _need_agent(tx, agent_id)
            if a.presence is Presence.BUSY:
                raise EngineError("bad_state", f"Agent {agent_id} is on a contact; end or transfer it first.")
            await ops.set_presence(tx, a, presence, reason)

        return await self._decide(op)

    async def agent(self, agent_id: int) -> AgentView | None:
        a = await self.store.agent(agent_id, True)
        return a.view() if a is not None else None

    async def agents(self) -> list[AgentView]:
        return [a.view() for a in sorted(await self.store.all_agents(), key=lambda a: a.agent_id)]

    # ---- contacts --------------------------------------------------------------------------------
    async def arrive(self, spec: ContactSpec) -> list[Decision]:
        """Enqueue a contact (or schedule it when ``due_at`` is in the future), then route it."""

        async def op(tx: Tx) -> None:
            if spec.queue not in tx.cfg.queues:
                raise EngineError("unknown_queue", f"No queue {spec.queue!r} is configured.")
            # first try: create without reading (the commit refuses an existing id); a retry finds out why
            if tx.fresh and await tx.contact(spec.contact_id) is not None:
                raise EngineError("conflict", f"Contact {spec.contact_id} is already known to the routing engine.")
            if spec.target_agent is not None:
                await _need_agent(tx, spec.target_agent)
            await ops.arrive(tx, spec)

        return await self._decide(op)

    async def accept(self, contact_id: int, agent_id: int) -> list[Decision]:
        async def op(tx: Tx) -> None:
            c, a = await _need_offer(tx, contact_id, agent_id)
            exp = c.offer_expires_at
            if exp is not None and tx.now > exp:
                raise EngineError("bad_state", f"The offer of contact {contact_id} rang out; it goes to another agent.")
            await ops.accept(tx, c, a)

        return await self._decide(op)

    async def decline(self, contact_id: int, agent_id: int) -> list[Decision]:
        async def op(tx: Tx) -> None:
            c, a = await _need_offer(tx, contact_id, agent_id)
            await ops.decline(tx, c, a)

        return await self._decide(op)

    async def abandon(self, contact_id: int) -> list[Decision]:
        async def op(tx: Tx) -> None:
            c = await _need_contact(tx, contact_id)
            if c.state not in (ContactState.WAITING, ContactState.OFFERED, ContactState.SCHEDULED):
                what = "connected: end it" if c.state is ContactState.CONNECTED else "already ended"
                raise EngineError("bad_state", f"Contact {contact_id} is {what} instead.")
            await ops.abandon(tx, c)

        return await self._decide(op)

    async def end(self, contact_id: int) -> list[Decision]:
        async def op(tx: Tx) -> None:
            c = await _need_contact(tx, contact_id)
            if c.state is not ContactState.CONNECTED:
                raise EngineError("bad_state", f"Contact {contact_id} is {c.state}, not connected: it cannot end.")
            await ops.end(tx, c)

        return await self._decide(op)

    async def transfer(
        self,
        contact_id: int,
        from_agent: int,
        *,
        queue: str | None = None,
        agent_id: int | None = None,
        mode: TransferMode = TransferMode.BLIND,
    ) -> list[Decision]:
        if queue is None and agent_id is None:
            raise EngineError("bad_state", "Say where to transfer: a queue, an agent, or both.")
        if agent_id is not None and agent_id == from_agent:
            raise EngineError("bad_state", "An agent cannot transfer a contact to themselves.")

        async def op(tx: Tx) -> None:
            c = await _need_contact(tx, contact_id)
            await _need_agent(tx, from_agent)
            if c.state is not ContactState.CONNECTED or c.agent_id != from_agent:
                raise EngineError("bad_state", f"Contact {contact_id} is not connected to agent {from_agent}.")
            if c.transfer_mode is not None:
                raise EngineError("bad_state", f"A transfer of contact {contact_id} is already in progress.")
            target_queue = queue if queue is not None else c.queue
            if target_queue not in tx.cfg.queues:
                raise EngineError("unknown_queue", f"No queue {target_queue!r} is configured.")
            if agent_id is not None:
                await _need_agent(tx, agent_id)
            await ops.transfer(tx, c, from_agent, target_queue, agent_id, mode)

        return await self._decide(op)

    async def cancel_transfer(self, contact_id: int, from_agent: int) -> list[Decision]:
        async def op(tx: Tx) -> None:
            c = await _need_contact(tx, contact_id)
            await _need_agent(tx, from_agent)
            if c.transfer_mode is not TransferMode.CONSULT or c.transfer_from != from_agent:
                raise EngineError("bad_state", f"Agent {from_agent} has no consult transfer of contact {contact_id}.")
            await ops.cancel_transfer(tx, c)

        return await self._decide(op)

    async def contact(self, contact_id: int) -> ContactView | None:
        c = await self.store.contact(contact_id, True)
        return c.view() if c is not None else None

    async def waiting(self, queue: str | None = None) -> list[ContactView]:
        """WAITING / OFFERED contacts (consult legs too), highest priority first."""
        cfg = await self.store.queue_set(fresh=True)
        if queue is not None and queue not in cfg.queues:
            raise EngineError("unknown_queue", f"No queue {queue!r} is configured.")
        now = self.clock()
        rows = [c for c in await self.store.queue_contacts(queue) if c.leg]
        rows.sort(key=lambda c: cfg.rank(c, now))
        return [c.view() for c in rows]

    async def status(self) -> list[QueueStatus]:
        cfg = await self.store.queue_set(fresh=True)
        now = self.clock()
        counts = {q: [0, 0.0, 0, 0, 0, 0] for q in cfg.queues}
        for c in await self.store.queue_contacts(None):
            row = counts.get(c.queue)
            if row is None:
                continue
            if c.state is ContactState.SCHEDULED:
                row[2] += 1
            elif c.leg:
                row[0] += 1
                row[1] = max(row[1], now - c.waiting_since)
        for a in await self.store.all_agents():
            p = a.presence
            if p is Presence.LOGGED_OUT:
                continue
            col = 3 if p is Presence.READY else 5 if p is Presence.NOT_READY else 4
            for q in cfg.quals(a.skills)[0]:
                counts[q][col] += 1
        return [QueueStatus(q, int(r[0]), float(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
                for q, r in counts.items()]  # fmt: skip

    async def tick(self) -> list[Decision]:
        """Ring-outs, widening, overflow, callbacks due, wrap-up overdue, then route what they freed."""

        async def op(tx: Tx) -> None:
            self._sweep_pending = await ops.tick(tx, self._sweep_pending)

        out = await self._decide(op)
        self._sweep_pending = False
        return out

    async def forget_contact(self, contact_id: int) -> None:
        async def op(tx: Tx) -> None:
            c = await _need_contact(tx, contact_id)
            if c.state is not ContactState.ENDED:
                raise EngineError(
                    "bad_state", f"Contact {contact_id} is {c.state}; only an ended contact is forgotten."
                )
            tx.delete_contact(c)

        await self._decide(op)


async def _need_agent(tx: Tx, agent_id: int) -> AgentRec:
    a = await tx.agent(agent_id)
    if a is None:
        raise EngineError("unknown_agent", f"Agent {agent_id} is not known to the routing engine (no skills loaded).")
    return a


async def _need_contact(tx: Tx, contact_id: int) -> ContactRec:
    c = await tx.contact(contact_id)
    if c is None:
        raise EngineError("unknown_contact", f"Contact {contact_id} is not known to the routing engine.")
    return c


async def _need_offer(tx: Tx, contact_id: int, agent_id: int) -> tuple[ContactRec, AgentRec]:
    c = await _need_contact(tx, contact_id)
    a = await _need_agent(tx, agent_id)
    if c.offer_agent != agent_id or a.presence is not Presence.OFFERED or a.contact_id != contact_id:
        raise EngineError("bad_state", f"Contact {contact_id} is not ringing at agent {agent_id}.")
    return c, a
