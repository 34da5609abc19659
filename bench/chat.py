"""Chat channel benchmark: routing with capacity slots and the full chat cycle, each beside the phone
measured in the same run on the same machine.

1. Routing (in-process store, virtual time): the real engine for the chat channel with 2,000 agents × 3
   slots (ids ``staff * 100 + k``, as ``kefu.routing.digital``); after every engine call the slots of each
   agent it touched are synced by the rule of ``digital._sync_one`` (one READY slot at most, the next free
   slot READY as soon as one is offered, a wrapped-up slot released, a rung-out agent paused until ready
   again) — replicated here without the database, every step an engine call as in production. Seeded load
   as ``kefu.routing.bench``: the same queues and skills, Poisson arrivals at 95 % of the capacity, rings,
   answers, 3 % ring-outs, callers giving up, wrap-ups. A decision is an offer; its latency the engine call
   that made it plus the slot syncs that follow. Peer: the plain phone engine (one agent, one contact)
   driven by the same load generator, so the difference is what the slots cost.
2. Full cycle through the services on a migrated database (20 agents ready, the demo knowledge base,
   reranking off, one transaction per step as one request each): chat start → a customer message the bot
   answers → hand over → accept → agent message → close → wrap-up, beside a phone call: CTI call.new →
   call.answered → call.hangup → wrap-up → ready. SQLite always; PostgreSQL too when
   KEFU_BENCH_DATABASE_URL is set (``make bench`` sets it when a local server answers).
Run alone: ``python -m bench.chat``.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import statistics
import time
from typing import Any

from sqlalchemy import text

from bench.foundation import Result, emit, on_each_database
from kefu.core import runtime
from kefu.core.config import Settings
from kefu.routing import types as t
from kefu.routing.bench import make_setup
from kefu.routing.digital import SLOT_BASE, plan_slots, slot_id, staff_of
from kefu.routing.engine import Engine, EngineError
from kefu.routing.memory import MemoryStore

AGENTS, QUEUES, SKILLS, CAPACITY = 2000, 20, 10, 3
DECISIONS = 10_000
AHT_S, RING_OUT_SHARE = 120.0, 0.03
#: A 2,000-agent center holding 3 chats each, chats of ~6 minutes: ~17 new chats/s at full load, each a handful
#: of decisions (offer, accept, end, slot changes): ~100 decisions/s. The target keeps ten times that in hand.
TARGET_RATE, TARGET_P99_MS = 1000, 5.0
CHATS, DESK_AGENTS, WARM = 150, 20, 5
TARGET_CYCLE_MS = 150.0
PASSWORD = "Bench-chat-2026x"

# ---- 1. routing with slots, engine level -------------------------------------------------------------


class _Load:
    """A seeded load on one engine; ``cap`` slots per agent (0: the phone engine, agents without slots)."""

    def __init__(self, cap: int, seed: int = 1) -> None:
        self.cap, self.rng = cap, random.Random(seed)
        self.specs, self.people = make_setup(self.rng, AGENTS, QUEUES, SKILLS)
        self.now = 0.0
        self.engine = Engine(MemoryStore(), clock=lambda: self.now,
                             config=t.EngineConfig(offer_timeout_s=15.0, wrap_up_limit_s=10.0**9))  # fmt: skip
        self.events: list[tuple[float, int, str, int, int]] = []
        self.seq = 0
        self.owed: dict[int, int] = {}  # ended contacts whose wrap-up is not yet recorded, per agent
        self.live: set[int] = set()
        self.latencies: list[float] = []
        self.busy = 0.0

    def at(self, when: float, kind: str, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, a, b))

    async def sync(self, staff: int, *, reset: bool = False) -> list[t.Decision]:
        """``digital._sync_one`` for an agent whose phone presence is open, minus the database: the same
        rule (``digital.plan_slots``) over the slots read once."""
        e, out = self.engine, []
        slots = [v for k in range(1, self.cap + 1) if (v := await e.agent(slot_id(staff, k))) is not None]
        state = {v.agent_id: v.presence for v in slots}
        for slot_no, presence in plan_slots(state, is_open=True, reset=reset, owed=self.owed.get(staff, 0)):
            out += await e.set_presence(slot_no, presence)
        return out

    async def settle(self, decisions: list[t.Decision]) -> list[t.Decision]:
        """``digital._settle``: sync every agent the decisions touched until nothing moves."""
        out, pending = list(decisions), decisions
        for _ in range(10):
            touched = {staff_of(a) for d in pending if (a := getattr(d, "agent_id", None)) is not None}
            pending = [d for staff in sorted(touched) for d in await self.sync(staff)]
            if not pending:
                break
            out += pending
        return out

    async def setup(self) -> None:
        await self.engine.configure_queues(self.specs)
        for p in self.people:
            if self.cap:
                for k in range(1, self.cap + 1):
                    await self.engine.upsert_agent(t.AgentSpec(slot_id(p.agent_id, k), dict(p.skills)))
                await self.sync(p.agent_id, reset=True)
            else:
                await self.engine.upsert_agent(p)
                await self.engine.set_presence(p.agent_id, t.Presence.READY)
            self.now += 0.001

    async def call(self, kind: str, a: int, b: int) -> list[t.Decision]:
        e = self.engine
        try:
            if kind == "arrive":
                q = self.specs[self.rng.randrange(len(self.specs))].code
                out = await e.arrive(t.ContactSpec(a, q, priority_bonus=50.0 if self.rng.random() < 0.05 else 0.0))
            elif kind == "tick":
                out = await e.tick()
            elif kind == "accept":
                out = await e.accept(a, b)
            elif kind == "end":
                out = await e.end(a)
            elif kind == "abandon":
                out = await e.abandon(a)
            elif kind == "forget":
                await e.forget_contact(a)
                out = []
            elif self.cap:  # "wrapped" (the wrap-up recorded) or "ready" (back from a ring-out): sync the slots
                if kind == "wrapped":
                    self.owed[a] -= 1
                out = await self.sync(a, reset=kind == "ready")
            else:
                out = await e.set_presence(a, t.Presence.READY)
        except EngineError:
            return []  # e.g. an accept after the offer rang out: the load is random, the engine is right
        return await self.settle(out) if self.cap else out

    async def run(self) -> dict[str, float]:
        await self.setup()
        rate = 0.95 * AGENTS * max(1, self.cap) / (AHT_S + 10.0)
        self.at(self.now + self.rng.expovariate(rate), "arrive")
        self.at(self.now + 1.0, "tick")
        next_id = 1
        while len(self.latencies) < DECISIONS and self.events:
            when, _, kind, a, b = heapq.heappop(self.events)
            self.now = when
            if kind == "arrive":
                a, next_id = next_id, next_id + 1
                self.live.add(a)
                self.at(when + self.rng.expovariate(1 / 300), "abandon", a)
                self.at(when + self.rng.expovariate(rate), "arrive")
            elif kind == "tick":
                self.at(when + 1.0, "tick")
            elif kind == "abandon" and a not in self.live:
                continue
            t0 = time.perf_counter()
            out = await self.call(kind, a, b)
            spent = time.perf_counter() - t0
            self.busy += spent
            self.react(out, when, spent)
        lat = sorted(self.latencies)
        return {"rate": len(lat) / self.busy, "p50": statistics.median(lat) * 1000,
                "p99": lat[int(len(lat) * 0.99)] * 1000}  # fmt: skip

    def react(self, out: list[t.Decision], now: float, spent: float) -> None:
        owner = staff_of if self.cap else (lambda agent: agent)
        for d in out:
            if isinstance(d, t.Offered):
                self.latencies.append(spent)
                if self.rng.random() >= RING_OUT_SHARE:
                    self.at(now + self.rng.uniform(1.0, 8.0), "accept", d.contact_id, d.agent_id)
            elif isinstance(d, t.Connected):
                self.live.discard(d.contact_id)
                self.at(now + self.rng.expovariate(1 / AHT_S), "end", d.contact_id)
            elif isinstance(d, t.Ended):
                self.owed[owner(d.agent_id)] = self.owed.get(owner(d.agent_id), 0) + 1
                self.at(now, "forget", d.contact_id)
                self.at(now + self.rng.uniform(5.0, 15.0), "wrapped", owner(d.agent_id))
            elif isinstance(d, t.Abandoned):
                self.live.discard(d.contact_id)
                self.at(now, "forget", d.contact_id)
            elif isinstance(d, t.PresenceChanged) and d.reason == t.NO_ANSWER:
                self.at(now + 20.0, "ready", owner(d.agent_id))


async def bench_routing() -> list[Result]:
    assert CAPACITY < SLOT_BASE
    chat = await _Load(CAPACITY).run()
    phone = await _Load(0).run()
    name = f"{AGENTS:,} agents × {CAPACITY} slots"
    return [
        Result(f"chat routing decisions/s, {name}", f"{chat['rate']:,.0f}/s", "phone engine, same load, no slots",
               f"{phone['rate']:,.0f}/s", f">= {TARGET_RATE:,}/s", chat["rate"] >= TARGET_RATE),
        Result("chat routing decision p99 (+ slot syncs)", f"{chat['p99']:.2f} ms", "phone engine p99",
               f"{phone['p99']:.2f} ms", f"< {TARGET_P99_MS:g} ms", chat["p99"] < TARGET_P99_MS),
    ]  # fmt: skip


# ---- 2. the full cycle through the services ------------------------------------------------------------


async def _center(rt: runtime.Runtime) -> tuple[list[Any], Any, int]:
    """20 agents with skill ``general``, queue and IVR route, wrap-up categories, the demo knowledge base."""
    from kefu.contacts import demo as contacts_demo
    from kefu.knowledge import demo as kb_demo
    from kefu.routing import config_service
    from kefu.staff import auth as staff_auth
    from kefu.staff import service as staff_service

    async with rt.db.transaction() as s:
        admin = await staff_service.create_staff(s, staff_no="BC0000", name="压测管理员", roles=["admin"],
                                                 password=PASSWORD, must_change_password=False)  # fmt: skip
        pbx = staff_auth.principal_for(admin, kind="api")
        agents = []
        for i in range(DESK_AGENTS):
            member = await staff_service.create_staff(s, staff_no=f"BC{i + 1:04d}", name=f"坐席{i:02d}",
                                                      roles=["agent"], password=PASSWORD, must_change_password=False)  # fmt: skip
            agents.append(staff_auth.principal_for(member, kind="web"))
        await s.flush()
        await config_service.create_queue(s, actor=None, code="general", name="综合", skills=["general"])
        await config_service.create_ivr_route(s, actor=None, queue_code="general")
        for p in agents:
            await config_service.set_skills(s, actor=None, staff_id=p.staff_id, skills={"general": 5})
        await contacts_demo.seed_categories(s)
        await kb_demo.seed(s)
    async with rt.db.transaction() as s:
        leaf = (await s.execute(text("SELECT id FROM wrapup_categories WHERE code = 'account.balance'"))).scalar_one()
    return agents, pbx, int(leaf)


async def _ready(rt: runtime.Runtime, agent: Any) -> None:
    from kefu.routing import desk

    async with rt.db.transaction() as s:
        await desk.set_presence(s, rt=rt, actor=agent, presence=t.Presence.READY, reason=None)


async def _wrap_up(rt: runtime.Runtime, agent: Any, contact_id: int, leaf: int) -> None:
    from kefu.contacts.wrapup import submit_wrapup

    async with rt.db.transaction() as s:
        await submit_wrapup(s, actor=agent, contact_id=contact_id, category_id=leaf, summary="客户咨询信用卡年费，已解答",
                            result="resolved", kb_entries=[], follow_up=None, settings=rt.settings)  # fmt: skip


async def _chat_cycle(rt: runtime.Runtime, i: int, by_id: dict[int, Any], leaf: int) -> None:
    from kefu.chat import service as chat
    from kefu.contacts import service as contacts
    from kefu.routing import digital

    async with rt.db.transaction() as s:
        _c, token, _ = await chat.start(s, rt=rt, topic="general", locale="zh-Hans", name="林女士", phone=None,
                                        origin=None, address=f"10.1.{i // 200}.{i % 200}")  # fmt: skip
    async with rt.db.transaction() as s:
        await chat.customer_says(s, rt=rt, chat=await chat.by_token(s, rt=rt, token=token), text="信用卡年费怎么收")
    async with rt.db.transaction() as s:
        cid = await chat.hand_over(s, rt=rt, chat=await chat.by_token(s, rt=rt, token=token))
    async with rt.db.transaction() as s:
        agent = by_id[(await contacts.get_contact(s, cid)).agent_id]
        await digital.accept(s, rt=rt, actor=agent, contact_id=cid)
    async with rt.db.transaction() as s:
        await chat.agent_says(s, rt=rt, actor=agent, contact_id=cid, text="您好，我是客服，请问有什么可以帮您？")
    async with rt.db.transaction() as s:
        await chat.agent_closes(s, rt=rt, actor=agent, contact_id=cid)
    await _wrap_up(rt, agent, cid, leaf)


async def _phone_cycle(rt: runtime.Runtime, i: int, by_no: dict[str, Any], pbx: Any, leaf: int) -> None:
    from kefu.routing import cti
    from kefu.routing.schemas import CtiEvent

    call_id = f"bench-{i}"

    async def event(**kw: Any) -> dict[str, Any]:
        async with rt.db.transaction() as s:
            return await cti.handle(s, rt=rt, actor=pbx, event=CtiEvent(call_id=call_id, **kw))

    answer = await event(event="call.new", caller=f"139{i:08d}", dialled="4000000000")
    if answer["action"] != "route":
        raise RuntimeError(f"call {call_id} was not routed: {answer}")
    agent = by_no[answer["extension"]]
    await event(event="call.answered", extension=answer["extension"])
    await event(event="call.hangup")
    await _wrap_up(rt, agent, int(answer["contact_id"]), leaf)
    await _ready(rt, agent)


async def _timed(n: int, cycle: Any) -> tuple[float, float, float]:
    """(cycles/s, wall ms per cycle, CPU ms per cycle) over ``n`` cycles after ``WARM`` warm-up ones."""
    for i in range(WARM):
        await cycle(-1 - i)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(n):
        await cycle(i)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return n / wall, wall / n * 1000, cpu / n * 1000


async def _bench_cycle(label: str, settings: Settings) -> list[Result]:
    settings.kb_rerank = False
    settings.argon2_time_cost, settings.argon2_memory_kib = 1, 8192  # nobody signs in: cheap staff creation
    rt = runtime.build(settings)
    try:
        agents, pbx, leaf = await _center(rt)
        for a in agents:
            await _ready(rt, a)
        by_id = {a.staff_id: a for a in agents}
        by_no = {a.staff_no: a for a in agents}
        chat = await _timed(CHATS, lambda i: _chat_cycle(rt, i, by_id, leaf))
        phone = await _timed(CHATS, lambda i: _phone_cycle(rt, i, by_no, pbx, leaf))
    finally:
        await rt.close()
        runtime.install(None)
    sqlite = label == "SQLite"
    target = f"< {TARGET_CYCLE_MS:g} ms" if sqlite else "-"
    return [
        Result(f"chat full cycle, wall per chat ({label})", f"{chat[1]:.1f} ms", "phone cycle, wall per call",
               f"{phone[1]:.1f} ms", target, chat[1] < TARGET_CYCLE_MS if sqlite else None),
        Result(f"chat full cycle, CPU per chat ({label})", f"{chat[2]:.1f} ms", "phone cycle, CPU per call",
               f"{phone[2]:.1f} ms", "-", None),
        Result(f"chats per second, 1 at a time ({label})", f"{chat[0]:.1f}/s", "phone calls per second",
               f"{phone[0]:.1f}/s", "-", None),
    ]  # fmt: skip


async def run_all() -> list[Result]:
    results: list[Result] = []
    emit(results, await bench_routing())
    return results + await on_each_database("chat", _bench_cycle)


if __name__ == "__main__":
    asyncio.run(run_all())
