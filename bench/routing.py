"""Routing benchmark: decisions per second and decision latency, beside a naive router in the same run.

Ours: the real engine (``kefu.routing.bench.run_bench``) under a seeded load — 2,000 agents, 20
queues, 10 skills, contacts arriving at 95 % of capacity, rings, answers, ring-outs, wrap-ups — where
a decision is one offer and its latency the engine call that made it. Peer: the selection a naive
router makes per decision, a scan of a plain list of the 2,000 agents for the longest-idle ready one
holding the queue's skills (selection only: no state, no bookkeeping, so it flatters the peer). The
Redis store is measured too when Redis answers (KEFU_BENCH_REDIS_URL, else redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import os
import random
import time

from bench.foundation import Result, emit
from kefu.routing.bench import make_setup, run_bench

AGENTS, QUEUES, SKILLS = 2000, 20, 10
TARGET_MEMORY = 5000  # decisions/s in-process
TARGET_P99_MS = 5.0
TARGET_REDIS = 1000


def _naive(decisions: int = 20000, seed: int = 1) -> tuple[float, float]:
    """(selections per second, p99 ms) of a linear scan over the agents per decision."""
    rng = random.Random(seed)
    specs, people = make_setup(rng, AGENTS, QUEUES, SKILLS)
    agents = [[p.agent_id, p.skills, True, rng.random()] for p in people]  # id, skills, ready, idle_since
    lat = []
    t_all = time.perf_counter()
    for i in range(decisions):
        q = specs[rng.randrange(len(specs))]
        t0 = time.perf_counter()
        best = None
        for a in agents:
            if a[2] and all(a[1].get(s, 0) >= q.min_proficiency for s in q.skills):
                if best is None or a[3] < best[3]:
                    best = a
        lat.append(time.perf_counter() - t0)
        if best is not None:
            best[3] = i + 1.0  # back in line as the most recently idle
    elapsed = time.perf_counter() - t_all
    lat.sort()
    return decisions / elapsed, lat[int(len(lat) * 0.99)] * 1000


async def _redis_up(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    finally:
        await client.aclose()


async def run_all() -> list[Result]:
    results: list[Result] = []
    ours = await run_bench(agents=AGENTS, queues=QUEUES, skills=SKILLS, store="memory", decisions=20000)
    rate, p99 = _naive()
    emit(results, [
        Result(f"routing decisions/s, {AGENTS} agents (memory)", f"{ours['decisions_per_s']:,.0f}/s",
               "naive scan of all agents per decision", f"{rate:,.0f}/s", f">= {TARGET_MEMORY:,}/s",
               ours["decisions_per_s"] >= TARGET_MEMORY),
        Result("routing decision p99 (memory)", f"{ours['p99_ms']:.2f} ms", "naive scan p99", f"{p99:.2f} ms",
               f"< {TARGET_P99_MS:.0f} ms", ours["p99_ms"] < TARGET_P99_MS),
    ])  # fmt: skip
    url = os.environ.get("KEFU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    if await _redis_up(url):
        red = await run_bench(agents=AGENTS, queues=QUEUES, skills=SKILLS, store="redis", redis_url=url, decisions=5000)
        emit(results, [
            Result("routing decisions/s (Redis store)", f"{red['decisions_per_s']:,.0f}/s", "in-process store, same load",
                   f"{ours['decisions_per_s']:,.0f}/s", f">= {TARGET_REDIS:,}/s", red["decisions_per_s"] >= TARGET_REDIS),
            Result("routing decision p99 (Redis store)", f"{red['p99_ms']:.2f} ms", "in-process store p99",
                   f"{ours['p99_ms']:.2f} ms", "-", None),
        ])  # fmt: skip
        # two engine calls at a time, as concurrent requests make them (claims conflict and retry)
        two = await run_bench(agents=AGENTS, queues=QUEUES, skills=SKILLS, store="redis", redis_url=url,
                              decisions=5000, concurrency=2)  # fmt: skip
        emit(results, [
            Result("routing decisions/s (Redis, 2 at a time)", f"{two['decisions_per_s']:,.0f}/s",
                   "Redis store, 1 at a time", f"{red['decisions_per_s']:,.0f}/s", f">= {TARGET_REDIS:,}/s",
                   two["decisions_per_s"] >= TARGET_REDIS),
            Result("routing decision p99 (Redis, 2 at a time)", f"{two['p99_ms']:.2f} ms", "Redis store, 1 at a time",
                   f"{red['p99_ms']:.2f} ms", "-", None),
        ])  # fmt: skip
    return results


def main() -> list[Result]:
    return asyncio.run(run_all())


if __name__ == "__main__":
    main()
