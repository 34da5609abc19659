"""Random operations against the engine, every invariant checked after every step.

A seeded random walk on each store, and a hypothesis state machine on the in-process store (it
shrinks a failing sequence to a short one). After each call: the decisions replay without a contact
ringing at two agents or an agent given two contacts (:class:`Ledger`), and the records agree with
each other and with the indexes, with no contact left waiting while a READY agent may take it.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kefu.routing.engine import Engine, EngineError
from kefu.routing.memory import MemoryStore
from kefu.routing.store import RoutingStore
from kefu.routing.types import AgentSpec, ContactSpec, Decision, EngineConfig, Presence, QueueSpec, TransferMode
from tests.routing.conftest import Clock, Ledger, check_indexes, check_state, records

CODES = {"unknown_agent", "unknown_contact", "unknown_queue", "bad_state", "conflict"}
SKILLS = ("s0", "s1", "s2", "s3")
QUEUES = [
    QueueSpec("q0", ("s0",), min_proficiency=4, widen_after_s=20, overflow_after_s=50, overflow_queue="q1"),
    QueueSpec("q1", ("s1",), base_priority=10.0),
    QueueSpec("q2", ("s0", "s2"), min_proficiency=3, acceleration=2.0, widen_after_s=15),
    QueueSpec("q3", ("s3",), acceleration=0.5, overflow_after_s=40, overflow_queue="q0"),
]
AGENT_IDS = tuple(range(1, 9))


class World:
    """The random walk's driver: picks operations that are usually valid, sometimes not."""

    def __init__(self, engine: Engine, clock: Clock, rng: random.Random) -> None:
        self.engine, self.clock, self.rng = engine, clock, rng
        self.ledger = Ledger()
        self.contacts: list[int] = []
        self.next_id = 1

    async def start(self) -> None:
        await self.engine.configure_queues(QUEUES)
        await self.engine.tick()
        for aid in AGENT_IDS:
            await self.engine.upsert_agent(AgentSpec(aid, self.skills()))
            if aid % 2:
                await self.call("presence", self.engine.set_presence(aid, Presence.READY))

    def skills(self) -> dict[str, int]:
        return {s: self.rng.randint(1, 9) for s in self.rng.sample(SKILLS, self.rng.randint(1, 3))}

    async def call(self, op: str, coro: Any, declined: tuple[int, int] | None = None) -> None:
        try:
            ds: list[Decision] = await coro or []
        except EngineError as exc:
            refusal: EngineError | None = exc
        else:
            refusal = None
        if refusal is not None:
            assert refusal.code in CODES, refusal.code
            return
        if declined:
            self.ledger.declined(*declined)
        self.ledger.apply(ds)

    async def step(self, op: str) -> None:
        e, rng, led = self.engine, self.rng, self.ledger
        if op == "arrive":
            cid = self.next_id
            self.next_id += 1
            self.contacts.append(cid)
            due = self.clock.t + rng.choice((30, 90)) if rng.random() < 0.1 else None
            target = rng.choice(AGENT_IDS) if rng.random() < 0.1 else None
            spec = ContactSpec(cid, rng.choice(QUEUES).code, priority_bonus=rng.choice((0.0, 0.0, 30.0)),
                               due_at=due, target_agent=target)  # fmt: skip
            await self.call(op, e.arrive(spec))
        elif op == "presence":
            p = rng.choice((Presence.READY, Presence.READY, Presence.NOT_READY, Presence.LOGGED_OUT))
            await self.call(op, e.set_presence(rng.choice(AGENT_IDS), p, "break" if p is Presence.NOT_READY else None))
        elif op in ("accept", "decline"):
            if led.ringing and rng.random() < 0.9:
                cid, aid = rng.choice(sorted(led.ringing.items()))
            else:
                cid, aid = rng.choice(self.contacts or [1]), rng.choice(AGENT_IDS)
            if op == "accept":
                await self.call(op, e.accept(cid, aid))
            else:
                ok = led.ringing.get(cid) == aid
                await self.call(op, e.decline(cid, aid), (cid, aid) if ok else None)
        elif op == "abandon":
            await self.call(op, e.abandon(rng.choice(self.contacts or [1])))
        elif op in ("end", "transfer", "cancel"):
            if not led.connected:
                return
            cid, aid = rng.choice(sorted(led.connected.items()))
            if op == "end":
                await self.call(op, e.end(cid))
            elif op == "cancel":
                await self.call(op, e.cancel_transfer(cid, aid))
            else:
                mode = rng.choice((TransferMode.BLIND, TransferMode.CONSULT))
                queue = rng.choice([q.code for q in QUEUES] + [None])
                target = rng.choice(AGENT_IDS) if queue is None or rng.random() < 0.2 else None
                await self.call(op, e.transfer(cid, aid, queue=queue, agent_id=target, mode=mode))
        elif op == "tick":
            self.clock.advance(rng.choice((0.5, 1.0, 5.0, 16.0, 40.0)))
            await self.call(op, e.tick())
        elif op == "skills":
            await self.call(op, e.upsert_agent(AgentSpec(rng.choice(AGENT_IDS), self.skills())))
        elif op == "forget":
            await self.call(op, e.forget_contact(rng.choice(self.contacts or [1])))


OPS = ["arrive"] * 6 + ["presence"] * 5 + ["accept"] * 5 + ["decline", "abandon", "abandon", "cancel", "skills"]
OPS += ["end"] * 3 + ["transfer"] * 2 + ["tick"] * 5 + ["forget"]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_walk_keeps_every_invariant(store: RoutingStore, seed: int) -> None:
    clock = Clock()
    engine = Engine(store, clock=clock, config=EngineConfig(offer_timeout_s=15.0, wrap_up_limit_s=60.0))
    rng = random.Random(seed)
    world = World(engine, clock, rng)
    await world.start()
    steps = 400 if isinstance(store, MemoryStore) else 200
    for _ in range(steps):
        await world.step(rng.choice(OPS))
        await check_state(engine, world.contacts)
    agents, contacts = await records(store, world.contacts)
    await check_indexes(store, agents, contacts)
    assert world.ledger.offers > steps // 25  # the walk did route


class EngineMachine(RuleBasedStateMachine):
    """The same walk, with hypothesis choosing (and shrinking) the operations and their randomness."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @initialize(seed=st.integers(0, 2**16), reoffer=st.booleans())
    def start(self, seed: int, reoffer: bool) -> None:
        self.clock = Clock()
        config = EngineConfig(offer_timeout_s=15.0, wrap_up_limit_s=60.0, reoffer_declined=reoffer)
        self.engine = Engine(MemoryStore(), clock=self.clock, config=config)
        self.world = World(self.engine, self.clock, random.Random(seed))
        self.run(self.world.start())

    @rule(op=st.sampled_from(sorted(set(OPS))))
    def step(self, op: str) -> None:
        self.run(self.world.step(op))

    @invariant()
    def consistent(self) -> None:
        if hasattr(self, "world"):
            self.run(check_state(self.engine, self.world.contacts))

    def teardown(self) -> None:
        self.loop.close()


EngineMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestEngineStateMachine = EngineMachine.TestCase
