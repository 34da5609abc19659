"""One engine call's transaction and the selection rules that read candidates through it.

A :class:`Tx` is the engine's view during one call: records it read (cached, so one call sees one
state of each record), records it changed (clones, with the version they were read at) and the
decisions made. Selection — the longest-idle qualified READY agent for a contact, the highest-priority
contact an agent qualifies for — reads the stores' ordered indexes and checks each candidate against
the transaction's own changes (an agent offered a contact earlier in the same call is no longer READY).
"""

from __future__ import annotations

import heapq

from kefu.routing.rules import AgentRec, ContactRec, QueueSet, targeted_index
from kefu.routing.store import RoutingStore
from kefu.routing.types import ContactState, Decision, EngineConfig, Offered, Presence

_MISSING = object()
_READY = Presence.READY
_WAITING = ContactState.WAITING
_OFFERED = ContactState.OFFERED


class Tx:
    __slots__ = (
        "store",
        "cfg",
        "now",
        "conf",
        "fresh",
        "cached_reads",
        "agents",
        "contacts",
        "orig_a",
        "orig_c",
        "out",
        "stamps",
        "reads",
    )

    def __init__(self, store: RoutingStore, cfg: QueueSet, now: float, conf: EngineConfig, fresh: bool) -> None:
        self.store = store
        self.cfg = cfg
        self.now = now
        self.conf = conf
        #: reads bypass any local copy the store keeps (always so on a store that keeps none)
        self.fresh = fresh
        self.cached_reads = False
        self.agents: dict[int, AgentRec | None] = {}
        self.contacts: dict[int, ContactRec | None] = {}
        self.orig_a: dict[int, AgentRec | None] = {}
        self.orig_c: dict[int, ContactRec | None] = {}
        self.out: list[Decision] = []
        self.stamps: dict[str, int] = {}  # indexes scanned: what was not found there must still not be there
        #: records read directly (a shared store only): the commit checks those it does not change
        self.reads: list[AgentRec | ContactRec] | None = [] if store.concurrent else None

    # ---- reads (cached for the whole call) ----------------------------------------------------
    async def agent(self, agent_id: int) -> AgentRec | None:
        r = self.agents.get(agent_id, _MISSING)
        if r is _MISSING:
            self.cached_reads |= not self.fresh
            r = self.agents[agent_id] = await self.store.agent(agent_id, self.fresh)
            if self.reads is not None and r is not None:
                self.reads.append(r)  # type: ignore[arg-type]
        return r  # type: ignore[return-value]

    async def contact(self, contact_id: int) -> ContactRec | None:
        r = self.contacts.get(contact_id, _MISSING)
        if r is _MISSING:
            self.cached_reads |= not self.fresh
            c, agents = await self.store.contact_bundle(contact_id, self.fresh)
            self.contacts[contact_id] = r = c
            for a in agents:
                self.agents.setdefault(a.agent_id, a)
            if self.reads is not None:
                self.reads.extend(agents)
                if c is not None:
                    self.reads.append(c)
        return r  # type: ignore[return-value]

    def seen_agent(self, rec: AgentRec) -> AgentRec | None:
        """The transaction's version of an agent found by a scan."""
        return self.agents.setdefault(rec.agent_id, rec)

    def seen_contact(self, rec: ContactRec) -> ContactRec | None:
        return self.contacts.setdefault(rec.contact_id, rec)

    # ---- writes --------------------------------------------------------------------------------
    def edit_agent(self, a: AgentRec) -> AgentRec:
        """A changeable copy of ``a`` (the transaction's current version of it) — the same one on later calls."""
        aid = a.agent_id
        if aid in self.orig_a:
            return a
        self.orig_a[aid] = a
        self.agents[aid] = a = a.clone()
        return a

    def edit_contact(self, c: ContactRec) -> ContactRec:
        cid = c.contact_id
        if cid in self.orig_c:
            return c
        self.orig_c[cid] = c
        self.contacts[cid] = c = c.clone()
        return c

    def new_agent(self, a: AgentRec) -> None:
        self.orig_a[a.agent_id] = None
        self.agents[a.agent_id] = a

    def new_contact(self, c: ContactRec) -> None:
        self.orig_c[c.contact_id] = None
        self.contacts[c.contact_id] = c

    def delete_contact(self, c: ContactRec) -> None:
        self.orig_c.setdefault(c.contact_id, c)
        self.contacts[c.contact_id] = None

    def unchanged_reads(self) -> list[AgentRec | ContactRec]:
        """Records read (a shared store only) that this call does not change: the commit checks them."""
        if not self.reads:
            return []
        out: list[AgentRec | ContactRec] = []
        seen: set[tuple[bool, int]] = set()
        for r in self.reads:
            if isinstance(r, AgentRec):
                key = (True, r.agent_id)
                if r.agent_id in self.orig_a or key in seen:
                    continue
            else:
                key = (False, r.contact_id)
                if r.contact_id in self.orig_c or key in seen:
                    continue
            seen.add(key)
            out.append(r)
        return out

    @property
    def dirty(self) -> bool:
        return bool(self.orig_a or self.orig_c)


# ---- selection ------------------------------------------------------------------------------------


async def best_agent(tx: Tx, c: ContactRec, exclude: int | None = None) -> AgentRec | None:
    """The longest-idle READY agent who may take ``c``; agents it rang out at only when no-one else can."""
    reoffer = tx.conf.reoffer_declined
    declined = c.declined_by
    if c.target_agent is not None:
        a = await tx.agent(c.target_agent)
        if a is None or a.presence is not _READY or a.agent_id == exclude:
            return None
        if a.agent_id in declined and not reoffer:
            return None
        return a
    keys = tx.cfg.keys.get(c.queue)
    if keys is None:
        return None
    names = (keys.r, keys.rw) if c.widened else (keys.r,)
    limit = 4
    while True:
        batches = await tx.store.scan_agents(names, 0, limit, tx.stamps)
        found = batches[0] if len(batches) == 1 else heapq.merge(*batches, key=_idle_order)
        fallback: AgentRec | None = None
        for rec in found:
            a = tx.seen_agent(rec)
            if a is None or a.presence is not _READY or a.agent_id == exclude:
                continue
            if declined and a.agent_id in declined:
                if fallback is None:
                    fallback = a
                continue
            return a
        if all(len(b) < limit for b in batches):
            return fallback if reoffer else None
        limit *= 8  # rare: the first ones were taken in this call or declined it; look further


def _idle_order(a: AgentRec) -> tuple[float, int]:
    return (a.idle_since if a.idle_since is not None else a.since, a.agent_id)


async def best_contact(tx: Tx, a: AgentRec, exclude: int | None = None) -> ContactRec | None:
    """The highest-priority routable contact ``a`` may take, among every queue it qualifies for."""
    cfg = tx.cfg
    aid = a.agent_id
    normal, wide = cfg.quals(a.skills)
    keys = cfg.keys
    names = [keys[q].w for q in normal]
    names.extend(keys[q].ww for q in wide)
    names.append(targeted_index(aid))
    best: ContactRec | None = None
    best_rank: tuple[float, float, int] | None = None
    now = tx.now
    first = 2  # each index is in priority order: its head is nearly always the one
    batches = await tx.store.scan_contacts(names, 0, first, tx.stamps)
    for name, batch in zip(names, batches, strict=True):
        targeted = name[0] == "t"
        offset, limit = 0, first
        while True:
            found = None
            for rec in batch:
                c = tx.seen_contact(rec)
                if c is None or not c.routable or c.contact_id == exclude:
                    continue
                if targeted:
                    if c.target_agent != aid:
                        continue
                elif c.target_agent is not None or not (c.queue in normal or (c.widened and c.queue in wide)):
                    continue
                if aid in c.declined_by and not await _may_reoffer(tx, c, aid):
                    continue
                rank = cfg.rank(c, now)
                if best_rank is None or rank < best_rank:
                    best, best_rank = c, rank
                found = c
                if not targeted:
                    break  # the index is in priority order: the first one is this queue's best
            if (found is not None and not targeted) or len(batch) < limit:
                break
            offset += limit
            limit *= 4
            (batch,) = await tx.store.scan_contacts((name,), offset, limit, tx.stamps)
    return best


async def _may_reoffer(tx: Tx, c: ContactRec, aid: int) -> bool:
    """An agent ``c`` already rang out at may have it again only when no other READY agent may."""
    if not tx.conf.reoffer_declined:
        return False
    other = await best_agent(tx, c, exclude=aid)
    return other is None or other.agent_id in c.declined_by


def offer(tx: Tx, c: ContactRec, a: AgentRec) -> None:
    c = tx.edit_contact(c)
    a = tx.edit_agent(a)
    now = tx.now
    exp = now + tx.conf.offer_timeout_s
    if c.state is _WAITING:
        c.state = _OFFERED
    c.offer_agent = a.agent_id
    c.offer_expires_at = exp
    c.offers += 1
    c.parked = False
    a.presence = Presence.OFFERED
    a.since = now
    a.reason = None
    a.contact_id = c.contact_id
    tx.out.append(Offered(now, c.contact_id, a.agent_id, c.queue, exp))


async def route_contact(tx: Tx, c: ContactRec, exclude: int | None = None) -> bool:
    """Offer ``c`` to the best agent now, if any. True when offered."""
    a = await best_agent(tx, c, exclude)
    if a is None:
        return False
    offer(tx, c, a)
    return True


async def route_agent(tx: Tx, a: AgentRec, exclude: int | None = None) -> bool:
    """Offer a READY agent the best contact it may take, if any. True when offered."""
    if a.presence is not _READY:
        return False
    c = await best_contact(tx, a, exclude)
    if c is None:
        return False
    offer(tx, c, a)
    return True
