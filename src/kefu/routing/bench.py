"""Routing benchmark: a seeded contact-center load driven through the real engine in virtual time.

Agents hold 2–5 of the skills at random proficiencies; queues need 1–2 skills (some widen after 60 s
and overflow to another queue after 180 s); contacts arrive (Poisson, about 95 % of the agents'
capacity, some VIP), ring 1–8 s and are answered (3 % ring out: the agent goes not-ready for 20 s),
last 2 minutes on average, some callers give up; agents wrap up 5–15 s and go ready again; the engine
ticks every virtual second. A *decision* is one offer made; its latency is the wall time of the engine
call that produced it; ``decisions_per_s`` is decisions divided by the wall time of every engine call
of the run (arrivals, accepts, ends, presence changes, ticks, forgets), so it is the engine's capacity.
With ``concurrency`` > 1 that many calls (the next events in time) run at once, as requests do on a
server; it helps the Redis store, whose calls mostly wait for round trips, and not the in-process one.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import random
import statistics
import time
from contextvars import ContextVar
from typing import Any

from kefu.routing.engine import Engine, EngineError
from kefu.routing.memory import MemoryStore
from kefu.routing.store import RoutingStore
from kefu.routing.types import (
    NO_ANSWER,
    Abandoned,
    AgentSpec,
    Connected,
    ContactSpec,
    Decision,
    Ended,
    EngineConfig,
    Offered,
    Presence,
    PresenceChanged,
    QueueSpec,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
AHT_S = 120.0
RING_OUT_SHARE = 0.03


def make_setup(rng: random.Random, agents: int, queues: int, skills: int) -> tuple[list[QueueSpec], list[AgentSpec]]:
    names = [f"skill{i}" for i in range(skills)]
    specs = []
    for q in range(queues):
        need = tuple(rng.sample(names, min(len(names), rng.choice((1, 1, 2)))))
        bullseye = q % 3 == 0 and queues > 1
        specs.append(QueueSpec(
            code=f"q{q}", skills=need, min_proficiency=rng.randint(1, 5), base_priority=rng.choice((0.0, 0.0, 20.0)),
            acceleration=rng.choice((1.0, 1.0, 2.0)), widen_after_s=60.0 if bullseye else None,
            overflow_after_s=180.0 if bullseye else None, overflow_queue=f"q{(q + 1) % queues}" if bullseye else None,
        ))  # fmt: skip
    people = []
    for a in range(1, agents + 1):
        held = rng.sample(names, min(len(names), rng.randint(2, 5)))
        people.append(AgentSpec(a, {s: rng.randint(1, 10) for s in held}))
    for i, spec in enumerate(specs):  # every queue has someone qualified
        if not any(all(p.skills.get(s, 0) >= spec.min_proficiency for s in spec.skills) for p in people):
            people[i % agents].skills.update({s: 10 for s in spec.skills})
    return specs, people


def make_store(store: str, redis_url: str | None) -> RoutingStore:
    if store == "memory":
        return MemoryStore()
    if store == "redis":
        from kefu.routing.redis_store import RedisStore

        url = redis_url or os.environ.get("KEFU_REDIS_URL") or DEFAULT_REDIS_URL
        return RedisStore(url, prefix=f"kefubench{os.getpid()}x{random.randrange(10**6)}")  # noqa: S311
    raise ValueError(f"unknown store {store!r}: use memory or redis")


async def run_bench(
    *,
    agents: int,
    queues: int,
    skills: int,
    store: str = "memory",
    redis_url: str | None = None,
    decisions: int = 20000,
    seed: int = 1,
    concurrency: int = 1,
) -> dict[str, Any]:
    """Drive the load until ``decisions`` offers were made; ``concurrency`` engine calls at a time."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible load, not a secret
    specs, people = make_setup(rng, agents, queues, skills)
    st = make_store(store, redis_url)
    _now.set(0.0)
    engine = Engine(st, clock=_now.get, config=EngineConfig(offer_timeout_s=15.0, wrap_up_limit_s=120.0))
    try:
        await engine.configure_queues(specs)
        for p in people:
            await engine.upsert_agent(p)
        for p in people:
            await engine.set_presence(p.agent_id, Presence.READY)
            _now.set(_now.get() + 0.001)
        out = await _drive(engine, rng, specs, agents, decisions, max(1, concurrency))
        return {"store": store, **out, "concurrency": max(1, concurrency)}
    finally:
        reset = getattr(st, "reset", None)
        if reset is not None:
            await reset()
        await st.close()


_now: ContextVar[float] = ContextVar("bench_now", default=0.0)  # virtual time, per concurrent call
Event = tuple[float, int, str, int, int]


async def _call(engine: Engine, ev: Event, spec: ContactSpec | None) -> tuple[list[Decision], float]:
    t, _, kind, a, b = ev
    _now.set(t)
    t0 = time.perf_counter()
    try:
        if spec is not None:
            out = await engine.arrive(spec)
        elif kind == "tick":
            out = await engine.tick()
        elif kind == "accept":
            out = await engine.accept(a, b)
        elif kind == "end":
            out = await engine.end(a)
        elif kind == "ready":
            out = await engine.set_presence(a, Presence.READY)
        elif kind == "abandon":
            out = await engine.abandon(a)
        else:  # forget
            await engine.forget_contact(a)
            out = []
    except EngineError:
        out = []  # e.g. an accept after the offer rang out: the load is random, the engine is right
    return out, time.perf_counter() - t0


async def _drive(
    engine: Engine, rng: random.Random, specs: list[QueueSpec], agents: int, target: int, concurrency: int
) -> dict[str, Any]:
    rate = 0.95 * agents / (AHT_S + 10.0)  # arrivals per virtual second
    events: list[Event] = []
    seq = 0

    def at(t: float, kind: str, a: int = 0, b: int = 0) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, a, b))

    start = _now.get()
    at(start + rng.expovariate(rate), "arrive")
    at(start + 1.0, "tick")
    latencies: list[float] = []
    busy_s = 0.0
    calls = 0
    next_id = 1
    live: set[int] = set()  # contacts not yet answered (may be abandoned)
    last = start
    while len(latencies) < target and events:
        batch: list[tuple[Event, ContactSpec | None]] = []
        while events and len(batch) < concurrency:
            ev = heapq.heappop(events)
            t, _, kind, a, _b = ev
            last = t
            spec = None
            if kind == "arrive":
                spec = ContactSpec(next_id, specs[rng.randrange(len(specs))].code,
                                   priority_bonus=50.0 if rng.random() < 0.05 else 0.0)  # fmt: skip
                live.add(next_id)
                at(t + rng.expovariate(1 / 300), "abandon", next_id)
                at(t + rng.expovariate(rate), "arrive")
                next_id += 1
            elif kind == "tick":
                at(t + 1.0, "tick")
            elif kind == "abandon" and a not in live:
                continue
            batch.append((ev, spec))
        if not batch:
            continue
        t0 = time.perf_counter()
        if len(batch) == 1:
            results = [await _call(engine, *batch[0])]
        else:
            results = await asyncio.gather(*(_call(engine, ev, spec) for ev, spec in batch))
        busy_s += time.perf_counter() - t0
        calls += len(batch)
        for (ev, _), (out, spent) in zip(batch, results, strict=True):
            _react(out, at, ev[0], rng, live, latencies, spent)
    ordered = sorted(latencies)
    n = len(ordered)
    return {
        "agents": agents,
        "queues": len(specs),
        "skills": len({s for q in specs for s in q.skills}),
        "decisions": n,
        "decisions_per_s": round(n / busy_s, 1) if busy_s else 0.0,
        "p50_ms": round(statistics.median(ordered) * 1000, 3) if n else 0.0,
        "p99_ms": round(ordered[min(n - 1, int(n * 0.99))] * 1000, 3) if n else 0.0,
        "engine_calls": calls,
        "virtual_s": round(last - start, 1),
    }


def _react(
    out: list[Decision], at: Any, t: float, rng: random.Random, live: set[int], lat: list[float], spent: float
) -> None:
    for d in out:
        if isinstance(d, Offered):
            lat.append(spent)
            if rng.random() >= RING_OUT_SHARE:
                at(t + rng.uniform(1.0, 8.0), "accept", d.contact_id, d.agent_id)
        elif isinstance(d, Connected):
            live.discard(d.contact_id)
            at(t + rng.expovariate(1 / AHT_S), "end", d.contact_id)
        elif isinstance(d, Ended):
            at(t, "forget", d.contact_id)
            at(t + rng.uniform(5.0, 15.0), "ready", d.agent_id)
        elif isinstance(d, Abandoned):
            live.discard(d.contact_id)
            at(t, "forget", d.contact_id)
        elif isinstance(d, PresenceChanged) and d.reason == NO_ANSWER:
            at(t + 20.0, "ready", d.agent_id)
