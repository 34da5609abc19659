"""Inputs and outputs of ``kefu simulate``: :class:`SimConfig`, :class:`SimResult`, multi-skill layouts
and the Erlang C figures to print beside a run (the "peer").

Definitions used by every figure (calls counted = calls that *arrive* in the measured window
``[warmup_hours, hours)``; arrivals stop at ``hours`` and the run goes on until every counted call
has been answered or abandoned, so each counted call has an outcome):

- ``service_level`` = calls answered with a wait <= ``target_seconds`` / calls counted. Abandoned
  calls stay in the denominator (the strict, "calls offered" definition). Without abandonment this
  is exactly Erlang C's service level P(wait <= t) over all arrivals.
- ``service_level_answered`` = the same numerator / calls answered (the lenient definition).
- ``within_rings`` = calls answered within ``rings × ring_seconds`` / calls counted (R1.2's
  "answered within N rings").
- ``asa_seconds`` = mean wait of answered calls (arrival to answer); ``abandon_rate`` = abandoned /
  calls counted.
- ``occupancy`` = (talk + wrap-up time) / staffed (logged-in) time, both clipped to the window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from kefu.routing.erlang import ErlangCResult, erlang_c_profile, erlang_c_summary
from kefu.routing.types import QueueSpec

DEFAULT_SKILL = "general"
DEFAULT_QUEUE = "general"


@dataclass(frozen=True)
class SimConfig:
    """One simulation run. Times in seconds, except ``hours``/``warmup_hours`` and shift hours.

    - Arrivals: a Poisson process of ``arrivals_per_hour`` calls/hour, or, when ``profile`` (24
      values, calls/hour for each hour of the day, repeated every day) is given, a piecewise-constant
      (non-homogeneous) Poisson process. Each call goes to a queue drawn with ``queue_shares``.
    - Handle (talk) time: exponential with mean ``aht_s``, or drawn from ``handle_times`` (empirical
      samples) when given; then ``wrapup_s`` of wrap-up, after which the agent is READY again.
      Erlang C's service time is talk + wrap-up.
    - Patience: exponential with mean ``patience_s``; the caller hangs up if not answered by then
      (``None`` = nobody abandons).
    - Agents answer an offer ``answer_delay_s`` after it starts ringing. An offer rings for
      ``offer_timeout_s``; if the delay is not shorter, the offer rings out (the engine's RONA: the
      agent goes not-ready for ``no_answer_pause_s``, then READY).
    - Queues: empty = one queue ``general`` needing skill ``general``. Agents: ``agent_skills``
      (one dict per agent) or, when empty, every skill any queue needs at proficiency 5.
    - Shifts: empty = every agent logged in all the time; else one ``(start_hour, end_hour)`` per
      agent, hours of the day (0-24), repeated every day; ``end <= start`` means overnight. An agent
      still on a call when the shift ends finishes it (and the wrap-up) first.
    - Determinism: every random draw comes from ``random.Random`` streams derived from ``seed``
      (arrivals, handle times, patience are separate streams, so runs that differ only in patience
      see the same calls).
    """

    agents: int = 14
    arrivals_per_hour: float = 200.0
    profile: tuple[float, ...] | None = None
    aht_s: float = 180.0
    handle_times: tuple[float, ...] | None = None
    wrapup_s: float = 0.0
    patience_s: float | None = None
    answer_delay_s: float = 0.0
    offer_timeout_s: float = 15.0
    no_answer_pause_s: float = 30.0
    queues: tuple[QueueSpec, ...] = ()
    queue_shares: tuple[float, ...] = ()
    agent_skills: tuple[dict[str, int], ...] = ()
    shifts: tuple[tuple[float, float], ...] = ()
    hours: float = 500.0
    warmup_hours: float = 0.0
    target_s: float = 20.0
    ring_s: float = 5.0
    rings: int = 3
    seed: int = 1

    def validate(self) -> None:
        """Raise ValueError with a message a person can act on."""
        if self.agents < 1:
            raise ValueError("agents must be at least 1")
        if self.arrivals_per_hour < 0 or math.isnan(self.arrivals_per_hour):
            raise ValueError("arrivals per hour must be 0 or more")
        if self.profile is not None:
            if len(self.profile) != 24:
                raise ValueError(
                    f"the hourly profile needs 24 values (calls/hour for hours 0-23), got {len(self.profile)}"
                )
            if any(v < 0 for v in self.profile):
                raise ValueError("hourly profile values must be 0 or more")
        if self.aht_s <= 0:
            raise ValueError("AHT must be positive (seconds)")
        if self.handle_times is not None and (not self.handle_times or any(h <= 0 for h in self.handle_times)):
            raise ValueError("empirical handle times must be a non-empty list of positive seconds")
        if self.wrapup_s < 0 or self.answer_delay_s < 0 or self.no_answer_pause_s < 0:
            raise ValueError("wrap-up, answer delay and no-answer pause must be 0 seconds or more")
        if self.offer_timeout_s <= 0:
            raise ValueError("the offer timeout must be positive (seconds)")
        if self.patience_s is not None and self.patience_s <= 0:
            raise ValueError("patience must be positive (seconds), or left out for no abandonment")
        if self.hours <= 0:
            raise ValueError("hours to simulate must be positive")
        if not 0 <= self.warmup_hours < self.hours:
            raise ValueError(f"warm-up must be at least 0 and shorter than the run ({self.hours} h)")
        if self.target_s < 0 or self.ring_s <= 0 or self.rings < 1:
            raise ValueError("target seconds must be 0 or more, ring seconds positive, rings at least 1")
        codes = [q.code for q in self.queue_specs()]
        if len(set(codes)) != len(codes):
            raise ValueError("queue codes must be unique")
        if self.queue_shares and (len(self.queue_shares) != len(codes) or any(s < 0 for s in self.queue_shares)):
            raise ValueError(f"queue shares need one non-negative value per queue ({len(codes)})")
        if self.queue_shares and sum(self.queue_shares) <= 0:
            raise ValueError("queue shares must not all be 0")
        if self.agent_skills and len(self.agent_skills) != self.agents:
            raise ValueError(f"agent skills need one entry per agent ({self.agents}), got {len(self.agent_skills)}")
        if self.shifts:
            if len(self.shifts) != self.agents:
                raise ValueError(f"shifts need one (start, end) per agent ({self.agents}), got {len(self.shifts)}")
            if any(not (0 <= s <= 24 and 0 <= e <= 24) for s, e in self.shifts):
                raise ValueError("shift hours must be hours of the day between 0 and 24")

    def queue_specs(self) -> tuple[QueueSpec, ...]:
        return self.queues or (QueueSpec(code=DEFAULT_QUEUE, skills=(DEFAULT_SKILL,)),)

    def skills_of(self, agent_index: int) -> dict[str, int]:
        if self.agent_skills:
            return dict(self.agent_skills[agent_index])
        return {s: 5 for q in self.queue_specs() for s in q.skills}

    def shares(self) -> tuple[float, ...]:
        n = len(self.queue_specs())
        return self.queue_shares or tuple(1.0 for _ in range(n))

    def mean_handle_s(self) -> float:
        """Mean talk time: ``aht_s``, or the mean of the empirical samples."""
        if self.handle_times:
            return sum(self.handle_times) / len(self.handle_times)
        return self.aht_s

    def rate_per_hour(self, hour_of_day: int) -> float:
        return self.profile[hour_of_day] if self.profile is not None else self.arrivals_per_hour


@dataclass(frozen=True)
class QueueResult:
    queue: str
    calls: int
    answered: int
    abandoned: int
    service_level: float  # answered within target / calls (0-1)
    within_rings: float
    asa_seconds: float
    abandon_rate: float


@dataclass(frozen=True)
class SimResult:
    """Figures of one run; see the module docstring for the exact definitions."""

    calls: int
    answered: int
    abandoned: int
    service_level: float
    service_level_answered: float
    within_rings: float
    asa_seconds: float
    max_wait_seconds: float
    abandon_rate: float
    occupancy: float
    target_seconds: float
    rings: int
    ring_seconds: float
    hours: float
    warmup_hours: float
    agents: int
    seed: int
    offers: int  # offers made (more than answered calls when offers ring out)
    engine_calls: int  # calls into the engine (arrive, accept, end, presence, tick, …)
    ticks: int
    queues: list[QueueResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Tally:
    """Counters of one queue during a run (calls counted in the window only)."""

    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    within_target: int = 0
    within_rings: int = 0
    wait_sum: float = 0.0

    @classmethod
    def merged(cls, tallies: list[Tally]) -> Tally:
        out = cls()
        for t in tallies:
            out.calls += t.calls
            out.answered += t.answered
            out.abandoned += t.abandoned
            out.within_target += t.within_target
            out.within_rings += t.within_rings
            out.wait_sum += t.wait_sum
        return out

    def result(self, queue: str) -> QueueResult:
        n = self.calls
        return QueueResult(
            queue=queue,
            calls=n,
            answered=self.answered,
            abandoned=self.abandoned,
            service_level=self.within_target / n if n else 0.0,
            within_rings=self.within_rings / n if n else 0.0,
            asa_seconds=self.wait_sum / self.answered if self.answered else 0.0,
            abandon_rate=self.abandoned / n if n else 0.0,
        )


def multi_skill_layout(
    agents: int, queues: int, skills: int, *, cross_skilled: float = 0.25
) -> tuple[tuple[QueueSpec, ...], tuple[dict[str, int], ...]]:
    """A simple multi-skill center: queue ``q{i}`` needs skill ``s{i mod S}`` (S = min(skills,
    queues), so every skill has a queue); agent j holds skill ``s{j mod S}`` at proficiency 7, and a
    ``cross_skilled`` share of the agents (spread evenly over the skills) also ``s{(j+1) mod S}`` at
    proficiency 4."""
    if queues < 1 or skills < 1:
        raise ValueError("queues and skills must be at least 1")
    used = min(skills, queues)
    specs = tuple(
        QueueSpec(code=f"q{i + 1}", skills=(f"s{i % used + 1}",), name=f"queue {i + 1}") for i in range(queues)
    )
    every = max(1, round(1 / cross_skilled)) if cross_skilled > 0 else 0
    people: list[dict[str, int]] = []
    for j in range(agents):
        held = {f"s{j % used + 1}": 7}
        if every and used > 1 and (j // used) % every == every - 1:  # every skill gets its share of them
            held[f"s{(j + 1) % used + 1}"] = 4
        people.append(held)
    return specs, tuple(people)


def staffed_by_hour(cfg: SimConfig) -> list[float]:
    """Agents logged in during each hour of the day (fractions for partial hours)."""
    if not cfg.shifts:
        return [float(cfg.agents)] * 24
    out = [0.0] * 24
    for start, end in cfg.shifts:
        stop = end if end > start else end + 24
        for h in range(48):
            overlap = max(0.0, min(stop, h + 1) - max(start, h))
            out[h % 24] += overlap
    return out


def erlang_c_peer(cfg: SimConfig) -> ErlangCResult | None:
    """Erlang C for this run, when the model applies: one queue and exponential talk times.

    Constant rate and no shifts: plain Erlang C. An hourly profile or shifts: per-hour Erlang C
    weighted by calls (what a WFM planner computes), over the simulated hours. The Erlang C service
    time is talk + wrap-up. Abandonment is ignored by Erlang C (it over-states waits then).
    """
    if len(cfg.queue_specs()) != 1 or cfg.handle_times:
        return None
    service = cfg.aht_s + cfg.wrapup_s
    if cfg.profile is None and not cfg.shifts:
        return erlang_c_summary(cfg.agents, cfg.arrivals_per_hour, service, cfg.target_s)
    staffed = staffed_by_hour(cfg)
    first = math.floor(cfg.warmup_hours)
    hours = range(first, max(first + 1, math.ceil(cfg.hours)))
    calls = [cfg.rate_per_hour(h % 24) for h in hours]
    agents = [math.floor(staffed[h % 24] + 1e-9) for h in hours]
    if sum(calls) <= 0:
        return None
    return erlang_c_profile(calls, agents, service, cfg.target_s)
