"""Erlang C (M/M/N queue): probability of waiting, service level within t, ASA, agents needed.

The model: calls arrive as a Poisson process, handle times are exponential with mean ``aht``, N
identical agents serve one FIFO queue, nobody hangs up. ``traffic`` A = arrival rate × AHT in
erlangs. For A < N:

- Erlang B by the recursion B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)) — no factorials or powers,
  so it stays accurate for thousands of agents (the textbook sum of A^k/k! overflows a float near
  k = 170);
- probability of waiting C = N·B / (N - A·(1 - B));
- service level SL(t) = P(wait <= t) = 1 - C·exp(-(N - A)·t / AHT), over all calls;
- ASA (mean wait over all calls) = C·AHT / (N - A); occupancy = A / N.

For A >= N the queue grows without bound: C = 1, SL = 0, ASA = infinity.

Written here rather than imported: the packages that have it (pyworkforce and others) pull in
pandas/ortools, too heavy for a runtime dependency (see docs/architecture.md); the formulas are a
dozen lines. Used as the oracle of the simulation tests and as the "peer" printed beside the
figures of ``kefu simulate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def _check(servers: int, traffic: float) -> None:
    if servers < 0:
        raise ValueError(f"servers must be 0 or more, got {servers}")
    if traffic < 0 or math.isnan(traffic):
        raise ValueError(f"traffic must be 0 erlangs or more, got {traffic}")


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability of an M/M/N/N loss system (iterative recursion, stable for any N)."""
    _check(servers, traffic)
    b = 1.0
    for n in range(1, servers + 1):
        ab = traffic * b
        b = ab / (n + ab)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that a call waits (all N agents busy on arrival); 1.0 when A >= N."""
    _check(servers, traffic)
    if traffic >= servers:
        return 1.0
    if traffic == 0:
        return 0.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1.0 - b))


def service_level(servers: int, traffic: float, aht: float, target: float) -> float:
    """P(wait <= target) over all calls (0-1); ``aht`` and ``target`` in the same unit (seconds)."""
    if aht <= 0:
        raise ValueError(f"aht must be positive, got {aht}")
    if target < 0:
        raise ValueError(f"target must be 0 or more, got {target}")
    if traffic >= servers:
        return 0.0
    c = erlang_c(servers, traffic)
    return 1.0 - c * math.exp(-(servers - traffic) * target / aht)


def asa(servers: int, traffic: float, aht: float) -> float:
    """Average speed of answer (mean wait over all calls, in the unit of ``aht``); inf when A >= N."""
    if aht <= 0:
        raise ValueError(f"aht must be positive, got {aht}")
    if traffic >= servers:
        return math.inf
    return erlang_c(servers, traffic) * aht / (servers - traffic)


def traffic_erlangs(calls_per_hour: float, aht_seconds: float) -> float:
    """Offered load A in erlangs: calls per hour × AHT in hours."""
    return calls_per_hour * aht_seconds / 3600.0


def agents_for_service_level(
    traffic: float, aht: float, target: float, goal: float, *, max_agents: int = 100_000
) -> int:
    """The fewest agents whose Erlang C service level within ``target`` reaches ``goal`` (0-1)."""
    if not 0 <= goal < 1:
        raise ValueError(f"goal must be in [0, 1), got {goal}")
    n = max(1, math.floor(traffic) + 1)
    while n <= max_agents:
        if service_level(n, traffic, aht, target) >= goal:
            return n
        n += 1
    raise ValueError(f"no staffing up to {max_agents} agents reaches a service level of {goal:.0%}")


@dataclass(frozen=True)
class ErlangCResult:
    """Erlang C figures for one interval (or a weighted day, see :func:`erlang_c_profile`)."""

    agents: int
    traffic: float  # erlangs
    wait_probability: float
    service_level: float  # P(wait <= target_seconds), 0-1
    asa_seconds: float
    occupancy: float  # A / N (1.0 when overloaded)
    target_seconds: float


def erlang_c_summary(agents: int, calls_per_hour: float, aht_seconds: float, target_seconds: float) -> ErlangCResult:
    """All Erlang C figures for ``agents`` serving ``calls_per_hour`` calls of mean ``aht_seconds``."""
    a = traffic_erlangs(calls_per_hour, aht_seconds)
    return ErlangCResult(
        agents=agents,
        traffic=a,
        wait_probability=erlang_c(agents, a),
        service_level=service_level(agents, a, aht_seconds, target_seconds),
        asa_seconds=asa(agents, a, aht_seconds),
        occupancy=min(1.0, a / agents) if agents else 1.0,
        target_seconds=target_seconds,
    )


def erlang_c_profile(
    calls_per_hour: Sequence[float], agents_per_hour: Sequence[int], aht_seconds: float, target_seconds: float
) -> ErlangCResult:
    """The planner's per-interval Erlang C over a day: each hour on its own (steady state assumed
    within the hour), figures weighted by that hour's calls (occupancy by staffed agent-hours).

    ``agents`` of the result is the largest hourly staffing. An overloaded hour counts with service
    level 0 and makes the ASA infinite.
    """
    if len(calls_per_hour) != len(agents_per_hour):
        raise ValueError("calls_per_hour and agents_per_hour must have the same length")
    total = sum(calls_per_hour)
    if total <= 0:
        raise ValueError("the profile has no calls")
    hours = [
        erlang_c_summary(n, c, aht_seconds, target_seconds)
        for c, n in zip(calls_per_hour, agents_per_hour, strict=True)
    ]
    staffed = sum(agents_per_hour)
    work = sum(min(h.traffic, h.agents) for h in hours)
    return ErlangCResult(
        agents=max(agents_per_hour),
        traffic=sum(h.traffic for h in hours) / len(hours),
        wait_probability=sum(h.wait_probability * c for h, c in zip(hours, calls_per_hour, strict=True)) / total,
        service_level=sum(h.service_level * c for h, c in zip(hours, calls_per_hour, strict=True)) / total,
        asa_seconds=sum(h.asa_seconds * c for h, c in zip(hours, calls_per_hour, strict=True) if c) / total,
        occupancy=work / staffed if staffed else 1.0,
        target_seconds=target_seconds,
    )
