"""Routing store in Redis, shared by every ``kefu serve`` node (cluster mode).

Keys, all under ``{prefix}:routing:``: ``a:{id}`` / ``c:{id}`` hold a record (JSON, version first);
``i:{index}`` are sorted sets (see :mod:`kefu.routing.rules` for the indexes, :mod:`kefu.routing.redis_lua`
for members); ``cfg`` / ``cfgv`` the queue set and its version; ``seq`` counts commits; ``sweep`` asks
the next tick to route every waiting contact.

Every commit is one Lua script: it checks the queue-set version and the version of every record the
engine changes, and only then writes the records and their index changes — so two engines can never
both offer one contact or both give one agent a contact (one of them finds a version moved and runs its
call again). Reads of an index and the records it points to are one script too (one round trip, one
consistent snapshot). The scripts touch keys they compute from the prefix, so this needs a single Redis
(or a Redis Cluster with the whole prefix in one hash slot, e.g. ``prefix="{kefu}"``).

Scripts and record reads go over one pipelined connection (:mod:`kefu.routing.resp`, which says why);
redis-py does the rest. Records this store read or wrote are kept by version and served to the engine
for ``fresh=False`` reads; a stale copy only makes a commit fail, and the engine then reads again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from kefu.routing.redis_lua import (
    S_BUNDLE,
    S_COMMIT,
    S_DUE,
    S_READ,
    S_RECONFIGURE,
    TIED,
    Script,
    decode_agent,
    decode_contact,
    encode_agent,
    encode_contact,
    member,
    spec_from_json,
    spec_to_json,
)
from kefu.routing.resp import RespConnection
from kefu.routing.rules import (
    ALL_AGENTS,
    ALL_CONTACTS,
    OFFERS,
    OVERFLOW,
    RECHECK,
    SCHEDULED,
    WIDEN,
    WRAP,
    AgentRec,
    ContactRec,
    Entry,
    QueueSet,
    agent_entries,
    contact_entries,
    targeted_index,
)
from kefu.routing.store import AgentChange, ContactChange
from kefu.routing.types import QueueSpec

_CACHE_MAX = 50_000
#: indexes the engine looks in for someone to route to: adding to one bumps its stamp
ROUTABLE = ("w:", "ww:", "r:", "rw:", "t:")


class RedisStore:
    caching = True
    concurrent = True

    def __init__(self, url: str, prefix: str = "kefu") -> None:
        self._pool = aioredis.ConnectionPool.from_url(url, decode_responses=True)
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=self._pool)
        self._conn = RespConnection(url)
        self.prefix = p = f"{prefix}:routing:"
        self._a = p + "a:"
        self._c = p + "c:"
        self._i = p + "i:"
        self._cfg_key, self._cfgv_key, self._seq_key, self._sweep_key = p + "cfg", p + "cfgv", p + "seq", p + "sweep"
        self._stamps_key = p + "stamps"
        self._cfg: QueueSet | None = None
        self._agents: dict[int, AgentRec] = {}
        self._contacts: dict[int, ContactRec] = {}
        self._tied: dict[str, bool] = {}

    async def _call(self, *args: str | int) -> Any:
        return await self._conn.call(*args)

    async def _eval(self, script: Script, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        try:
            return await self._call("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self._call("EVAL", script.text, len(keys), *keys, *args)

    # ---- local copies --------------------------------------------------------------------------
    def _agent(self, r: list[Any]) -> AgentRec:
        a = decode_agent(r)
        cur = self._agents.get(a.agent_id)
        if cur is None or cur.v <= a.v:
            if cur is None and len(self._agents) > _CACHE_MAX:
                self._agents.clear()
            self._agents[a.agent_id] = a
        return a

    def _contact(self, r: list[Any]) -> ContactRec:
        c = decode_contact(r)
        cur = self._contacts.get(c.contact_id)
        if cur is None or cur.v <= c.v:
            if cur is None and len(self._contacts) > _CACHE_MAX:
                self._contacts.clear()
            self._contacts[c.contact_id] = c
        return c

    # ---- configuration ---------------------------------------------------------------------
    async def queue_set(self, fresh: bool = False) -> QueueSet:
        if self._cfg is None or fresh:
            raw, ver = await self.client.mget(self._cfg_key, self._cfgv_key)
            specs = [spec_from_json(d) for d in json.loads(raw)] if raw else []
            version = int(ver) if ver else 0
            if self._cfg is None or self._cfg.version != version:
                self._cfg = QueueSet.build(specs, version)
        return self._cfg

    async def replace_queues(self, specs: Sequence[QueueSpec]) -> None:
        new_cfg = QueueSet.build(specs, 0)
        for _ in range(100):
            seq = str(await self.client.get(self._seq_key) or "0")
            old_cfg = await self.queue_set(fresh=True)
            agents = await self.all_agents()
            contacts = (await self._range([ALL_CONTACTS], 0, 0, self._c, self._contact))[0]
            stale = {k for q in (*old_cfg.keys.values(), *new_cfg.keys.values()) for k in (q.w, q.ww, q.r, q.rw, q.q)}
            stale.update(targeted_index(a.agent_id) for a in agents)
            stale.update(targeted_index(c.target_agent) for c in contacts if c.target_agent is not None)
            stale.update((OFFERS, SCHEDULED, WIDEN, OVERFLOW, WRAP, RECHECK, ALL_AGENTS, ALL_CONTACTS))
            entries = [e for a in agents for e in agent_entries(a, new_cfg)]
            entries += [e for c in contacts for e in contact_entries(c, new_cfg)]
            adds = [(e[0], repr(e[1]), member(e)) for e in entries]
            doc = json.dumps([spec_to_json(q) for q in specs])
            keys = [self._cfg_key, self._cfgv_key, self._seq_key, self._sweep_key]
            if await self._eval(S_RECONFIGURE, keys, [seq, doc, self.prefix, json.dumps([sorted(stale), adds])]):
                self._cfg = None
                return
        raise RuntimeError("routing state kept changing while the queues were being replaced")

    # ---- reads -------------------------------------------------------------------------------
    async def agent(self, agent_id: int, fresh: bool = True) -> AgentRec | None:
        if not fresh:
            hit = self._agents.get(agent_id)
            if hit is not None:
                return hit
        raw = await self._call("GET", self._a + str(agent_id))
        return self._agent(json.loads(raw)) if raw else None

    async def contact(self, contact_id: int, fresh: bool = True) -> ContactRec | None:
        if not fresh:
            hit = self._contacts.get(contact_id)
            if hit is not None:
                return hit
        raw = await self._call("GET", self._c + str(contact_id))
        return self._contact(json.loads(raw)) if raw else None

    async def contact_bundle(self, contact_id: int, fresh: bool = True) -> tuple[ContactRec | None, list[AgentRec]]:
        if not fresh:
            c = self._contacts.get(contact_id)
            if c is not None:
                agents = self._agents
                named = (c.agent_id, c.offer_agent, c.transfer_from, c.target_agent)
                if all(x is None or x in agents for x in named):
                    return c, [agents[x] for x in named if x is not None]
        raw = json.loads(await self._eval(S_BUNDLE, [self._c + str(contact_id)], [self._a]))
        if not raw:
            return None, []
        return self._contact(raw[0]), [self._agent(x) for x in raw[1:]]

    async def _range(
        self, names: Sequence[str], offset: int, limit: int, pre: str, dec: Any, stamps: dict[str, int] | None = None
    ) -> list[list[Any]]:
        if not names:
            return []
        keys = [self._i + n for n in names]
        keys.append(self._stamps_key)
        raw = json.loads(await self._eval(S_READ, keys, [offset, limit, *([pre] * len(names)), *names]))
        if stamps is not None:
            for n, st in zip(names, raw[-1], strict=True):
                stamps.setdefault(n, int(st))
        return [[dec(x) for x in vals] for vals in raw[:-1]]

    async def scan_agents(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[AgentRec]]:
        return await self._range(indexes, offset, limit, self._a, self._agent, stamps)

    async def scan_contacts(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[ContactRec]]:
        return await self._range(indexes, offset, limit, self._c, self._contact, stamps)

    async def due(
        self, indexes: Sequence[str], until: float, agent_index: str, agent_until: float
    ) -> tuple[list[list[ContactRec]], list[AgentRec], bool]:
        keys = [self._i + n for n in indexes] + [self._i + agent_index, self._sweep_key]
        raw = json.loads(await self._eval(S_DUE, keys, [repr(until), repr(agent_until), self._c, self._a]))
        n = len(indexes)
        return [[self._contact(x) for x in vals] for vals in raw[:n]], [self._agent(x) for x in raw[n]], bool(raw[-1])

    async def all_agents(self) -> list[AgentRec]:
        return (await self._range([ALL_AGENTS], 0, 0, self._a, self._agent))[0]

    async def queue_contacts(self, queue: str | None) -> list[ContactRec]:
        cfg = await self.queue_set(fresh=True)
        names = [cfg.keys_for(queue).q] if queue is not None else [k.q for k in cfg.keys.values()]
        return [c for batch in await self._range(names, 0, 0, self._c, self._contact) for c in batch]

    # ---- writes ------------------------------------------------------------------------------
    async def commit(
        self,
        cfg_version: int,
        agents: Sequence[AgentChange],
        contacts: Sequence[ContactChange],
        stamps: dict[str, int] | None = None,
        unchanged: Sequence[AgentRec | ContactRec] = (),
    ) -> bool:
        cfg = self._cfg
        if cfg is None or cfg.version != cfg_version:
            return False
        recs: list[tuple[str, str, str]] = []
        rems: list[tuple[str, str]] = []
        adds: list[tuple[str, str, str]] = []

        tied = self._tied

        def diff(old_e: list[Entry], new_e: list[Entry], ident: int) -> None:
            o, n = set(old_e), set(new_e)
            plain = f"{ident:020d}"
            for e in o - n:
                t = tied.get(e[0])
                if t is None:
                    t = tied[e[0]] = e[0].startswith(TIED)
                rems.append((e[0], f"{e[2] + 1e12:018.4f}|{plain}" if t else plain))
            for e in n - o:
                t = tied.get(e[0])
                if t is None:
                    t = tied[e[0]] = e[0].startswith(TIED)
                adds.append((e[0], repr(e[1]), f"{e[2] + 1e12:018.4f}|{plain}" if t else plain))

        for old_a, new_a in agents:
            base = old_a.v if old_a is not None else 0
            aid = old_a.agent_id if old_a is not None else new_a.agent_id  # type: ignore[union-attr]
            recs.append((f"a:{aid}", str(base), encode_agent(new_a, base + 1) if new_a is not None else ""))
            diff(agent_entries(old_a, cfg) if old_a else [], agent_entries(new_a, cfg) if new_a else [], aid)
        for old_c, new_c in contacts:
            base = old_c.v if old_c is not None else 0
            cid = old_c.contact_id if old_c is not None else new_c.contact_id  # type: ignore[union-attr]
            recs.append((f"c:{cid}", str(base), encode_contact(new_c, base + 1) if new_c is not None else ""))
            diff(contact_entries(old_c, cfg) if old_c else [], contact_entries(new_c, cfg) if new_c else [], cid)
        read = [(n, str(v)) for n, v in stamps.items()] if stamps else []
        same = [(f"a:{r.agent_id}" if isinstance(r, AgentRec) else f"c:{r.contact_id}", str(r.v)) for r in unchanged]
        bump = sorted({a[0] for a in adds if a[0].startswith(ROUTABLE)})
        payload = json.dumps([recs, rems, adds, read, same, bump], separators=(",", ":"))
        keys = [self._cfgv_key, self._seq_key, self._stamps_key]
        res = await self._eval(S_COMMIT, keys, [cfg_version, self.prefix, payload])
        if res != 1:
            for old_a, new_a in agents:  # our copies of these are likely stale
                self._agents.pop((old_a or new_a).agent_id, None)  # type: ignore[union-attr]
            for old_c, new_c in contacts:
                self._contacts.pop((old_c or new_c).contact_id, None)  # type: ignore[union-attr]
            if res == -1:
                self._cfg = None
            return False
        for old_a, new_a in agents:
            if new_a is not None:
                new_a.v = (old_a.v if old_a is not None else 0) + 1
                self._agents[new_a.agent_id] = new_a
            else:
                self._agents.pop(old_a.agent_id, None)  # type: ignore[union-attr]
        for old_c, new_c in contacts:
            if new_c is not None:
                new_c.v = (old_c.v if old_c is not None else 0) + 1
                self._contacts[new_c.contact_id] = new_c
            else:
                self._contacts.pop(old_c.contact_id, None)  # type: ignore[union-attr]
        return True

    # ---- housekeeping ------------------------------------------------------------------------
    async def reset(self) -> None:
        """Delete every key of this store (tests, ``kefu bench``)."""
        batch: list[str] = []
        async for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await self.client.unlink(*batch)
                batch = []
        if batch:
            await self.client.unlink(*batch)
        self._cfg = None
        self._agents.clear()
        self._contacts.clear()

    async def close(self) -> None:
        await self._conn.close()
        await self.client.aclose()
        await self._pool.disconnect()
