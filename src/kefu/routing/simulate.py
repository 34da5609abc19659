"""``kefu simulate``: a discrete-event simulation that drives the REAL routing engine in virtual time.

The engine (with the in-process :class:`~kefu.routing.memory.MemoryStore`) reads its clock from the
simulation, so every routing rule — longest-idle agent, priority ageing, skills and proficiency,
ring-outs, bullseye widening/overflow, abandonment — is the production code. The simulation only
plays callers and agents: calls arrive, agents answer an offer after ``answer_delay_s``, talk for a
drawn handle time, wrap up, and become READY again; callers hang up when their patience runs out.

Events sit in a heap keyed by (virtual time, sequence number) — ties are processed in the order
they were scheduled, which keeps a run deterministic. ``engine.tick()`` runs only at the moments
something time-driven can happen: when an offer would ring out (only if agents answer too slowly)
and when a waiting call reaches a queue's widen/overflow threshold. Callbacks are not generated.

Written by hand rather than on simpy: the engine is async while simpy's processes are generators,
and the few event kinds here fit one loop that is faster than simpy's process machinery. See
:mod:`kefu.routing.simulate_model` for the inputs and the exact definition of every figure.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from kefu.routing.engine import Engine
from kefu.routing.memory import MemoryStore
from kefu.routing.simulate_model import SimConfig, SimResult, Tally
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
    OfferTimedOut,
    OfferWithdrawn,
    Presence,
    PresenceChanged,
)

__all__ = ["SimConfig", "SimResult", "run", "run_async"]

# event kinds (ints: compared only for equality, never ordered — the sequence number breaks ties)
_ARRIVE, _ANSWER, _END, _READY, _ABANDON, _TICK, _SHIFT_ON, _SHIFT_OFF = range(8)

ProgressFn = Callable[[float], None]


@dataclass
class _Call:
    arrived: float
    queue: int
    counted: bool
    handle: float
    connected: bool = False


@dataclass
class _State:
    now: float = 0.0
    seq: int = 0
    heap: list[tuple[float, int, int, int, int]] = field(default_factory=list)


def run(config: SimConfig, progress: ProgressFn | None = None) -> SimResult:
    """Run one simulation to the end (blocking). ``progress`` gets the share of virtual time done (0-1)."""
    return asyncio.run(run_async(config, progress))


async def run_async(config: SimConfig, progress: ProgressFn | None = None) -> SimResult:
    config.validate()
    return await _Simulation(config, progress).run()


class _Simulation:
    def __init__(self, cfg: SimConfig, progress: ProgressFn | None) -> None:
        self.cfg = cfg
        self.progress = progress
        self.st = _State()
        st = self.st
        self.engine = Engine(
            MemoryStore(),
            clock=lambda: st.now,
            config=EngineConfig(offer_timeout_s=cfg.offer_timeout_s, wrap_up_limit_s=max(cfg.wrapup_s * 2, 120.0)),
        )
        self.specs = cfg.queue_specs()
        self.codes = [q.code for q in self.specs]
        shares = cfg.shares()
        total = sum(shares)
        acc, self.cum_shares = 0.0, []
        for s in shares:
            acc += s / total
            self.cum_shares.append(acc)
        self.cum_shares[-1] = 1.0
        self.rng_arrivals = random.Random(f"kefu-sim:{cfg.seed}:arrivals")  # noqa: S311 - simulation, not crypto
        self.rng_handle = random.Random(f"kefu-sim:{cfg.seed}:handle")  # noqa: S311
        self.rng_patience = random.Random(f"kefu-sim:{cfg.seed}:patience")  # noqa: S311
        self.start = cfg.warmup_hours * 3600.0
        self.stop = cfg.hours * 3600.0
        self.calls: dict[int, _Call] = {}
        self.offers: dict[int, int] = {}  # contact -> agent it rings at
        self.leaving: set[int] = set()  # agents whose shift ended during a call
        self.login_at: dict[int, float] = {}
        self.tallies = [Tally() for _ in self.specs]
        self.next_contact = 1
        self.staffed_s = 0.0
        self.work_s = 0.0
        self.max_wait = 0.0
        self.offers_made = 0
        self.engine_calls = 0
        self.ticks = 0
        self.tick_at: set[float] = set()
        self.rings_s = cfg.rings * cfg.ring_s
        self.bullseye = sorted(
            {t for q in self.specs for t in (q.widen_after_s, q.overflow_after_s) if t is not None and t >= 0}
        )

    # ---- event heap --------------------------------------------------------------------------

    def _push(self, t: float, kind: int, a: int = 0, b: int = 0) -> None:
        st = self.st
        st.seq += 1
        heapq.heappush(st.heap, (t, st.seq, kind, a, b))

    def _window(self, t0: float, t1: float) -> float:
        return max(0.0, min(t1, self.stop) - max(t0, self.start))

    # ---- arrivals ----------------------------------------------------------------------------

    def _next_arrival(self, t: float) -> float:
        """Next arrival after ``t`` of a Poisson process whose rate is constant within each hour."""
        cfg = self.cfg
        if cfg.profile is None:
            rate = cfg.arrivals_per_hour / 3600.0
            return t + self.rng_arrivals.expovariate(rate) if rate > 0 else math.inf
        work = self.rng_arrivals.expovariate(1.0)  # unit-rate exponential, spent across the hours
        while t < self.stop:
            hour_end = (math.floor(t / 3600.0) + 1) * 3600.0
            rate = cfg.profile[int(t // 3600.0) % 24] / 3600.0
            if rate > 0 and t + work / rate < hour_end:
                return t + work / rate
            work -= rate * (hour_end - t)
            t = hour_end
        return math.inf

    def _handle_time(self) -> float:
        if self.cfg.handle_times:
            return self.rng_handle.choice(self.cfg.handle_times)
        return self.rng_handle.expovariate(1.0) * self.cfg.aht_s

    def _pick_queue(self) -> int:
        if len(self.cum_shares) == 1:
            return 0
        u = self.rng_arrivals.random()
        for i, c in enumerate(self.cum_shares):
            if u < c:
                return i
        return len(self.cum_shares) - 1

    # ---- setup -------------------------------------------------------------------------------

    async def _setup(self) -> None:
        cfg = self.cfg
        await self.engine.configure_queues(self.specs)
        for i in range(cfg.agents):
            agent_id = i + 1
            await self.engine.upsert_agent(AgentSpec(agent_id=agent_id, skills=cfg.skills_of(i)))
            if not cfg.shifts:
                await self._login(agent_id)
                continue
            start, end = cfg.shifts[i]
            length = (end - start) if end > start else (end + 24 - start)
            if length <= 0:
                continue
            day = -1  # an overnight shift of the day before may still be running at hour 0
            while day * 24 + start < cfg.hours:
                on, off = (day * 24 + start) * 3600.0, (day * 24 + start + length) * 3600.0
                if off > 0:
                    self._push(max(on, 0.0), _SHIFT_ON, agent_id)
                    self._push(off, _SHIFT_OFF, agent_id)
                day += 1
        first = self._next_arrival(0.0)
        if first < self.stop:
            self._push(first, _ARRIVE)

    async def _login(self, agent_id: int) -> None:
        self.login_at[agent_id] = self.st.now
        self.leaving.discard(agent_id)
        self.engine_calls += 1
        await self._apply(await self.engine.set_presence(agent_id, Presence.READY))

    def _logged_out(self, agent_id: int) -> None:
        since = self.login_at.pop(agent_id, None)
        if since is not None:
            self.staffed_s += self._window(since, self.st.now)

    # ---- the loop ----------------------------------------------------------------------------

    async def run(self) -> SimResult:
        await self._setup()
        st, heap, eng = self.st, self.st.heap, self.engine
        step = self.stop / 100.0
        next_report = step
        while heap:
            t, _, kind, a, b = heapq.heappop(heap)
            if t >= self.stop and not self.calls:
                break  # arrivals are over and every call has an outcome
            st.now = t
            if self.progress is not None and t >= next_report:
                self.progress(min(1.0, t / self.stop))
                next_report = (math.floor(t / step) + 1) * step
            if kind == _ARRIVE:
                await self._arrive()
            elif kind == _ANSWER:
                if self.offers.get(a) == b:
                    self.engine_calls += 1
                    await self._apply(await eng.accept(a, b))
            elif kind == _END:
                self.engine_calls += 2
                await self._apply(await eng.end(a))
                await eng.forget_contact(a)
                self.calls.pop(a, None)
            elif kind == _READY:
                await self._ready(a)
            elif kind == _ABANDON:
                call = self.calls.get(a)
                if call is not None and not call.connected:
                    self.engine_calls += 2
                    await self._apply(await eng.abandon(a))
                    await eng.forget_contact(a)
            elif kind == _TICK:
                self.tick_at.discard(t)
                self.ticks += 1
                self.engine_calls += 1
                await self._apply(await eng.tick())
            elif kind == _SHIFT_ON:
                if a not in self.login_at:
                    await self._login(a)
                else:
                    self.leaving.discard(a)  # back-to-back shifts: stay on
            elif kind == _SHIFT_OFF:
                await self._shift_off(a)
        st.now = max(st.now, self.stop)  # agents still logged in were staffed to the end of the window
        for agent_id in list(self.login_at):
            self._logged_out(agent_id)
        if self.progress is not None:
            self.progress(1.0)
        return self._result()

    async def _arrive(self) -> None:
        cfg, now = self.cfg, self.st.now
        nxt = self._next_arrival(now)
        if nxt < self.stop:
            self._push(nxt, _ARRIVE)
        q = self._pick_queue()
        cid = self.next_contact
        self.next_contact += 1
        counted = now >= self.start
        self.calls[cid] = _Call(arrived=now, queue=q, counted=counted, handle=self._handle_time())
        patience = self.rng_patience.expovariate(1.0) * cfg.patience_s if cfg.patience_s is not None else None
        if counted:
            self.tallies[q].calls += 1
        self.engine_calls += 1
        await self._apply(await self.engine.arrive(ContactSpec(contact_id=cid, queue=self.codes[q])))
        if patience is not None and not self.calls[cid].connected:
            self._push(now + patience, _ABANDON, cid)
        if self.bullseye and not self.calls[cid].connected:
            for after in self.bullseye:
                self._schedule_tick(now + after)

    def _schedule_tick(self, t: float) -> None:
        if t not in self.tick_at:
            self.tick_at.add(t)
            self._push(t, _TICK)

    async def _ready(self, agent_id: int) -> None:
        if agent_id not in self.login_at:
            return  # logged out meanwhile (shift over during a no-answer pause)
        self.engine_calls += 1
        if agent_id in self.leaving:
            self.leaving.discard(agent_id)
            await self._apply(await self.engine.set_presence(agent_id, Presence.LOGGED_OUT))
            self._logged_out(agent_id)
        else:
            await self._apply(await self.engine.set_presence(agent_id, Presence.READY))

    async def _shift_off(self, agent_id: int) -> None:
        if agent_id not in self.login_at:
            return
        view = await self.engine.agent(agent_id)
        if view is not None and view.presence in (Presence.BUSY, Presence.WRAP_UP, Presence.OFFERED):
            self.leaving.add(agent_id)  # finish the call (an offer is answered first), then log out
            return
        self.engine_calls += 1
        await self._apply(await self.engine.set_presence(agent_id, Presence.LOGGED_OUT))
        self._logged_out(agent_id)

    # ---- decisions ---------------------------------------------------------------------------

    async def _apply(self, decisions: list[Decision]) -> None:
        cfg, now = self.cfg, self.st.now
        for d in decisions:
            kind = type(d)  # decisions are plain final dataclasses: exact type checks, most frequent first
            if kind is PresenceChanged:
                pc = cast(PresenceChanged, d)
                if pc.presence is Presence.NOT_READY and pc.reason == NO_ANSWER:
                    self._push(now + cfg.no_answer_pause_s, _READY, pc.agent_id)
            elif kind is Offered:
                offer = cast(Offered, d)
                self.offers[offer.contact_id] = offer.agent_id
                self.offers_made += 1
                if cfg.answer_delay_s < cfg.offer_timeout_s:
                    self._push(now + cfg.answer_delay_s, _ANSWER, offer.contact_id, offer.agent_id)
                else:
                    self._schedule_tick(offer.expires_at)
            elif kind is Connected:
                conn = cast(Connected, d)
                self._connected(conn.contact_id, conn.agent_id)
            elif kind is Ended:
                self._push(now + cfg.wrapup_s, _READY, cast(Ended, d).agent_id)
            elif kind is Abandoned:
                gone_id = cast(Abandoned, d).contact_id
                self.offers.pop(gone_id, None)
                gone = self.calls.pop(gone_id, None)
                if gone is not None and gone.counted:
                    self.tallies[gone.queue].abandoned += 1
            elif isinstance(d, OfferTimedOut | OfferWithdrawn):
                if self.offers.get(d.contact_id) == d.agent_id:
                    del self.offers[d.contact_id]

    def _connected(self, contact_id: int, agent_id: int) -> None:
        cfg, now = self.cfg, self.st.now
        self.offers.pop(contact_id, None)
        call = self.calls[contact_id]
        call.connected = True
        self._push(now + call.handle, _END, contact_id, agent_id)
        self.work_s += self._window(now, now + call.handle + cfg.wrapup_s)
        if call.counted:
            wait = now - call.arrived
            tally = self.tallies[call.queue]
            tally.answered += 1
            tally.wait_sum += wait
            tally.within_target += wait <= cfg.target_s
            tally.within_rings += wait <= self.rings_s
            self.max_wait = max(self.max_wait, wait)

    # ---- result ------------------------------------------------------------------------------

    def _result(self) -> SimResult:
        cfg = self.cfg
        total = Tally.merged(self.tallies)
        whole = total.result("*")
        return SimResult(
            calls=total.calls,
            answered=total.answered,
            abandoned=total.abandoned,
            service_level=whole.service_level,
            service_level_answered=total.within_target / total.answered if total.answered else 0.0,
            within_rings=whole.within_rings,
            asa_seconds=whole.asa_seconds,
            max_wait_seconds=self.max_wait,
            abandon_rate=whole.abandon_rate,
            occupancy=self.work_s / self.staffed_s if self.staffed_s else 0.0,
            target_seconds=cfg.target_s,
            rings=cfg.rings,
            ring_seconds=cfg.ring_s,
            hours=cfg.hours,
            warmup_hours=cfg.warmup_hours,
            agents=cfg.agents,
            seed=cfg.seed,
            offers=self.offers_made,
            engine_calls=self.engine_calls,
            ticks=self.ticks,
            queues=[t.result(code) for code, t in zip(self.codes, self.tallies, strict=True)],
        )
