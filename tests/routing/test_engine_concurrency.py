"""Several engines on one Redis (one per ``kefu serve`` node), called concurrently.

Each engine has its own RedisStore (own connection, own local copies) on the same prefix. Batches of
arrivals, presence changes, accepts, declines, ends and ticks run at once through asyncio.gather,
many of them competing for the same agents and contacts. From the decisions (replayed in the order
the calls finished) no contact ever rings at two agents and no agent is given two contacts; the final
records agree with each other and with the indexes, and no contact is left waiting beside a READY
agent who may take it.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest

from kefu.routing.engine import Engine, EngineError
from kefu.routing.types import AgentSpec, ContactSpec, Decision, EngineConfig, Presence, QueueSpec
from tests.routing.conftest import NO_REDIS, REDIS_URL, Clock, Ledger, check_indexes, check_state, records, redis_store

pytestmark = pytest.mark.skipif(not REDIS_URL, reason=NO_REDIS)

QUEUES = [QueueSpec("a", ("s0",)), QueueSpec("b", ("s1",), base_priority=5.0), QueueSpec("c", ("s0", "s1"))]
ENGINES = 3
AGENTS = 12


async def test_engines_sharing_redis_never_double_assign() -> None:
    prefix = f"kefutest:{uuid.uuid4().hex[:12]}"
    stores = [redis_store(prefix) for _ in range(ENGINES)]
    refused = count_refused(stores)
    clock = Clock()
    engines = [Engine(s, clock=clock, config=EngineConfig(offer_timeout_s=15.0)) for s in stores]
    rng = random.Random(7)
    ledger = Ledger()
    contacts: list[int] = []
    done: list[tuple[str, Any, list[Decision]]] = []
    try:
        await engines[0].configure_queues(QUEUES)
        await engines[0].tick()
        for aid in range(1, AGENTS + 1):
            await engines[aid % ENGINES].upsert_agent(
                AgentSpec(aid, {"s0": rng.randint(1, 9), "s1": rng.randint(1, 9)})
            )

        async def call(op: str, arg: Any, coro: Any) -> None:
            try:
                ds = await coro
            except EngineError as exc:
                refusal: EngineError | None = exc
            else:
                refusal = None
            if refusal is not None:
                assert refusal.code in ("bad_state", "conflict"), refusal
                return
            if op == "decline":
                ledger.declined(*arg)
            ledger.apply(ds)  # in the order calls finish: a later call saw the earlier one's commit
            done.append((op, arg, ds))

        next_id = 1
        for _ in range(80):
            batch = []
            for _ in range(rng.randint(6, 14)):
                e = rng.choice(engines)
                r = rng.random()
                if r < 0.3:
                    cid = next_id
                    next_id += 1
                    contacts.append(cid)
                    batch.append(call("arrive", cid, e.arrive(ContactSpec(cid, rng.choice(QUEUES).code))))
                elif r < 0.5:
                    aid = rng.randint(1, AGENTS)
                    p = Presence.READY if rng.random() < 0.75 else Presence.NOT_READY
                    batch.append(
                        call("presence", aid, e.set_presence(aid, p, "break" if p is Presence.NOT_READY else None))
                    )
                elif r < 0.75 and ledger.ringing:
                    cid, aid = rng.choice(sorted(ledger.ringing.items()))
                    batch.append(call("accept", (cid, aid), e.accept(cid, aid)))
                    if rng.random() < 0.3:  # the same answer seen by two nodes
                        batch.append(call("accept", (cid, aid), rng.choice(engines).accept(cid, aid)))
                elif r < 0.8 and ledger.ringing:
                    cid, aid = rng.choice(sorted(ledger.ringing.items()))
                    batch.append(call("decline", (cid, aid), e.decline(cid, aid)))
                elif r < 0.9 and ledger.connected:
                    cid = rng.choice(sorted(ledger.connected))
                    batch.append(call("end", cid, e.end(cid)))
                else:
                    batch.append(call("tick", None, e.tick()))  # every node ticks: only one does the work
            await asyncio.gather(*batch)
            clock.advance(rng.choice((0.5, 2.0, 8.0)))
        for e in engines:  # let parked contacts and ring-outs settle
            await e.tick()
        await check_state(engines[0], contacts)
        agents, recs = await records(stores[0], contacts)
        await check_indexes(stores[0], agents, recs)
        offered = sum(1 for _, _, ds in done for d in ds if type(d).__name__ == "Offered")
        assert offered >= 80
        assert any(op == "accept" for op, _, _ in done)
        assert refused[0] > 0  # the nodes did collide, and the losers ran their calls again
    finally:
        await stores[0].reset()
        for s in stores:
            await s.close()


def count_refused(stores: list[Any]) -> list[int]:
    """Count the commits each store refused (a version or stamp had moved)."""
    refused = [0]
    for st in stores:
        commit = st.commit

        async def counting(*args: Any, _commit: Any = commit, **kw: Any) -> bool:
            ok: bool = await _commit(*args, **kw)
            refused[0] += not ok
            return ok

        st.commit = counting
    return refused


async def test_two_engines_race_for_one_agent() -> None:
    """Many contacts arriving at once on two nodes, one ready agent: exactly one offer."""
    prefix = f"kefutest:{uuid.uuid4().hex[:12]}"
    stores = [redis_store(prefix) for _ in range(2)]
    refused = count_refused(stores)
    clock = Clock()
    engines = [Engine(s, clock=clock) for s in stores]
    try:
        await engines[0].configure_queues([QueueSpec("a", ("s0",))])
        await engines[0].upsert_agent(AgentSpec(1, {"s0": 5}))
        await engines[1].set_presence(1, Presence.READY)
        results = await asyncio.gather(*(engines[i % 2].arrive(ContactSpec(i, "a")) for i in range(1, 21)))
        offered = [(d.contact_id, d.agent_id) for ds in results for d in ds if type(d).__name__ == "Offered"]
        assert len(offered) == 1
        assert offered[0][1] == 1
        agent = await engines[0].agent(1)
        assert agent is not None
        assert agent.contact_id == offered[0][0]
        assert len(await engines[1].waiting("a")) == 20
        assert refused[0] > 0
        await check_state(engines[0], range(1, 21))
    finally:
        await stores[0].reset()
        for s in stores:
            await s.close()
