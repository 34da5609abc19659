"""Routing engine fixtures: a fake clock, each store (Redis when KEFU_TEST_REDIS_URL is set), and checks.

Every engine-rules test runs on the in-process store and again on Redis, each Redis test under its
own key prefix, deleted afterwards. Time is a float the test advances; nothing sleeps.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from kefu.routing.engine import Engine, EngineError
from kefu.routing.memory import MemoryStore
from kefu.routing.rules import AgentRec, ContactRec, agent_entries, contact_entries
from kefu.routing.store import RoutingStore
from kefu.routing.types import (
    Abandoned,
    AgentSpec,
    Connected,
    ContactSpec,
    ContactState,
    Decision,
    Ended,
    EngineConfig,
    Offered,
    OfferTimedOut,
    OfferWithdrawn,
    Presence,
    QueueSpec,
    TransferCompleted,
    TransferFailed,
    TransferMode,
    TransferRequested,
)

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL")
NO_REDIS = "KEFU_TEST_REDIS_URL is not set: the Redis routing store is tested only when it is"


class Clock:
    """The engine's clock in tests: a float the test moves forward."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


def redis_store(prefix: str) -> Any:
    from kefu.routing.redis_store import RedisStore

    assert REDIS_URL
    return RedisStore(REDIS_URL, prefix=prefix)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RoutingStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    if not REDIS_URL:
        pytest.skip(NO_REDIS)
    st = redis_store(f"kefutest:{uuid.uuid4().hex[:12]}")
    try:
        yield st
    finally:
        await st.reset()
        await st.close()


@pytest.fixture
def config() -> EngineConfig:
    return EngineConfig(offer_timeout_s=15.0, wrap_up_limit_s=120.0)


@pytest.fixture
def engine(store: RoutingStore, clock: Clock, config: EngineConfig) -> Engine:
    return Engine(store, clock=clock, config=config)


# ---- helpers ------------------------------------------------------------------------------------


async def setup(
    engine: Engine,
    clock: Clock,
    queues: Iterable[QueueSpec],
    agents: dict[int, dict[str, int]],
    ready: Iterable[int] = (),
) -> None:
    """Configure queues and agents; make ``ready`` READY in that order, one second apart (longest idle first)."""
    await engine.configure_queues(queues)
    await engine.tick()  # consume the sweep a configuration asks for
    for aid, skills in agents.items():
        await engine.upsert_agent(AgentSpec(aid, skills))
    for aid in ready:
        await engine.set_presence(aid, Presence.READY)
        clock.advance(1)


def offers(ds: list[Decision]) -> list[tuple[int, int]]:
    return [(d.contact_id, d.agent_id) for d in ds if isinstance(d, Offered)]


def kinds(ds: list[Decision]) -> list[str]:
    return [type(d).__name__ for d in ds]


async def arrive(engine: Engine, cid: int, queue: str, **kw: Any) -> list[Decision]:
    return await engine.arrive(ContactSpec(cid, queue, **kw))


async def connect(engine: Engine, cid: int, queue: str, agent: int, **kw: Any) -> None:
    """A contact that arrives and is answered by ``agent`` (who must be the one it is offered to)."""
    ds = await arrive(engine, cid, queue, **kw)
    assert offers(ds) == [(cid, agent)], ds
    await engine.accept(cid, agent)


async def raises(code: str, coro: Any) -> EngineError:
    with pytest.raises(EngineError) as info:
        await coro
    assert info.value.code == code, (info.value.code, info.value.message)
    return info.value


# ---- invariants ---------------------------------------------------------------------------------


async def records(store: RoutingStore, contact_ids: Iterable[int]) -> tuple[list[AgentRec], list[ContactRec]]:
    agents = await store.all_agents()
    contacts = [c for c in [await store.contact(cid) for cid in contact_ids] if c is not None]
    return agents, contacts


async def check_state(engine: Engine, contact_ids: Iterable[int], *, settled: bool = True) -> None:
    """Cross-record invariants, on the store's records.

    One contact per agent and one agent ringing per contact, agents and contacts naming each other,
    indexes equal to what the records imply, and (``settled``) no routable contact left while a READY
    agent may take it.
    """
    store = engine.store
    agents, contacts = await records(store, contact_ids)
    by_agent = {a.agent_id: a for a in agents}
    by_contact = {c.contact_id: c for c in contacts}
    held: dict[tuple[Presence, int], int] = {}  # a consult leg rings at one agent while connected to another
    for a in agents:
        if a.presence in (Presence.OFFERED, Presence.BUSY):
            assert a.contact_id is not None, a
            key = (a.presence, a.contact_id)
            assert key not in held, f"contact {a.contact_id} {a.presence} at agents {held[key]} and {a}"
            held[key] = a.agent_id
            c = by_contact.get(a.contact_id)
            assert c is not None, a
            if a.presence is Presence.OFFERED:
                assert c.offer_agent == a.agent_id, (a, c)
            else:
                assert c.state is ContactState.CONNECTED, (a, c)
                assert c.agent_id == a.agent_id, (a, c)
        else:
            assert a.contact_id is None, a
        assert (a.idle_since is not None) == (a.presence in (Presence.READY, Presence.OFFERED)), a
    ringing: set[int] = set()
    for c in contacts:
        if c.offer_agent is not None:
            assert c.offer_agent not in ringing
            ringing.add(c.offer_agent)
            a = by_agent[c.offer_agent]
            assert a.presence is Presence.OFFERED, (a, c)
            assert a.contact_id == c.contact_id, (a, c)
            assert c.leg, c
            assert c.offer_expires_at is not None, c
        if c.state is ContactState.CONNECTED:
            assert c.agent_id is not None
            a = by_agent[c.agent_id]
            assert a.presence is Presence.BUSY, (a, c)
            assert a.contact_id == c.contact_id, (a, c)
        if c.state is ContactState.OFFERED:
            assert c.offer_agent is not None, c
        if c.state is ContactState.WAITING:
            assert c.offer_agent is None, c
            assert c.agent_id is None, c
        if c.transfer_mode is TransferMode.CONSULT:
            assert c.state is ContactState.CONNECTED, c
            assert c.transfer_from == c.agent_id, c
    await check_indexes(store, agents, contacts, complete=False)
    if settled:
        await check_work_conserving(engine, agents, contacts)


async def check_work_conserving(engine: Engine, agents: list[AgentRec], contacts: list[ContactRec]) -> None:
    cfg = await engine.store.queue_set(fresh=True)
    ready = [a for a in agents if a.presence is Presence.READY]
    for c in contacts:
        if not c.routable or c.parked:
            continue
        for a in ready:
            if c.target_agent is not None:
                may = a.agent_id == c.target_agent
            else:
                normal, wide_only = cfg.quals(a.skills)
                may = c.queue in normal or (c.widened and c.queue in wide_only)
            if a.agent_id in c.declined_by and not engine.config.reoffer_declined:
                may = False
            assert not may, f"contact {c} waits while agent {a} is ready for it"


async def check_indexes(
    store: RoutingStore, agents: list[AgentRec], contacts: list[ContactRec], *, complete: bool = True
) -> None:
    """The store's indexes hold exactly the entries its records imply (``complete``: contacts lists all)."""
    cfg = await store.queue_set(fresh=True)
    want: set[tuple[str, int]] = set()
    for a in agents:
        want.update((e[0], e[3]) for e in agent_entries(a, cfg))
    for c in contacts:
        want.update((e[0], e[3]) for e in contact_entries(c, cfg))
    have = await index_members(store)
    if not complete:
        ids = {c.contact_id for c in contacts}
        have = {(n, i) for n, i, kind in have_kinds(have, ids) if kind}
    assert have == want, f"missing {sorted(want - have)[:10]}, extra {sorted(have - want)[:10]}"


def have_kinds(have: set[tuple[str, int]], ids: set[int]) -> Iterable[tuple[str, int, bool]]:
    contact_indexes = ("w:", "ww:", "q:", "t:", "off", "sched", "widen", "ovf", "recheck", "c")
    for n, i in have:
        is_contact = n.startswith(contact_indexes)
        yield n, i, (i in ids) if is_contact else True


async def index_members(store: RoutingStore) -> set[tuple[str, int]]:
    if isinstance(store, MemoryStore):  # its record dicts stand for the "a" and "c" indexes
        out = {(n, e[2]) for n, sl in store._idx.items() for e in sl}
        return out | {("a", i) for i in store._agents} | {("c", i) for i in store._contacts}
    out: set[tuple[str, int]] = set()
    client = store.client  # type: ignore[attr-defined]
    pre = store.prefix + "i:"  # type: ignore[attr-defined]
    async for key in client.scan_iter(match=pre + "*"):
        for m in await client.zrange(key, 0, -1):
            out.add((key[len(pre) :], int(m.rsplit("|", 1)[-1])))
    return out


class Ledger:
    """Replays decisions: no contact rung at two agents at once, no agent given two contacts."""

    def __init__(self) -> None:
        self.ringing: dict[int, int] = {}  # contact -> agent it rings at
        self.holds: dict[int, int] = {}  # agent -> contact offered to / connected with it
        self.connected: dict[int, int] = {}  # contact -> agent
        self.offers = 0

    def declined(self, cid: int, aid: int) -> None:
        assert self.ringing.pop(cid) == aid
        assert self.holds.pop(aid) == cid

    def apply(self, ds: Iterable[Decision]) -> None:
        for d in ds:
            if isinstance(d, Offered):
                assert d.contact_id not in self.ringing, f"{d}: already ringing at {self.ringing[d.contact_id]}"
                assert d.agent_id not in self.holds, f"{d}: agent already has {self.holds[d.agent_id]}"
                self.ringing[d.contact_id] = d.agent_id
                self.holds[d.agent_id] = d.contact_id
                self.offers += 1
            elif isinstance(d, OfferTimedOut | OfferWithdrawn):
                assert self.ringing.pop(d.contact_id) == d.agent_id, d
                assert self.holds.pop(d.agent_id) == d.contact_id, d
            elif isinstance(d, Connected):
                assert self.ringing.pop(d.contact_id) == d.agent_id, d
                self.connected[d.contact_id] = d.agent_id
            elif isinstance(d, TransferCompleted):
                first = self.connected.get(d.contact_id)
                if first == d.from_agent:  # consult: the first agent is released now
                    assert self.holds.pop(d.from_agent) == d.contact_id
            elif isinstance(d, TransferRequested) and d.mode is TransferMode.BLIND:
                assert self.connected.pop(d.contact_id) == d.from_agent
                assert self.holds.pop(d.from_agent) == d.contact_id
            elif isinstance(d, Ended):
                assert self.connected.pop(d.contact_id) == d.agent_id
                assert self.holds.pop(d.agent_id) == d.contact_id
            elif isinstance(d, Abandoned) and d.agent_id is not None:
                assert self.ringing.pop(d.contact_id) == d.agent_id
                assert self.holds.pop(d.agent_id) == d.contact_id
            elif isinstance(d, TransferFailed):
                pass
