"""``kefu simulate``: the real engine in virtual time against Erlang C, and the simulator's own rules.

Erlang C cases (one skill, FIFO, no abandonment, exponential talk times, answer at once): the
published A = 10 erlangs case (100 calls per 30 min, AHT 180 s) with 14 agents (88.835 % within
20 s, printed by the R package ErlangC and by pyworkforce) and 13 agents (79.559 %, printed by the R
package ErlangC; see test_erlang.py), and an M/M/2 at 50 % load with a 60 s target (textbook closed form
P(wait) = 2ρ²/(1+ρ) = 1/3, so 1 - exp(-0.5)/3 = 79.78 %). Run lengths were chosen from 40 seeds of
a plain M/M/N model: the standard deviation of the simulated share is 0.59 / 0.69 / 0.49 points at
100,000 / 140,000 / 45,000 calls, so ±2 points is about 3 standard deviations or more. Measured with
the engine over seeds 1, 2, 3, 11 (simulated minus Erlang C, points): 14 agents -0.96 / +0.21 /
-1.26 / +0.67; 13 agents -1.48 / +0.41 / -2.33 / +0.02; M/M/2 -0.35 / -0.21 / -0.28. Seed 3 draws
1.1 % more work than nominal (more arrivals, longer calls), which a 77 %-occupied center feels. The
seeds below were fixed before any run. Most of that spread is the random input, not the engine:
test_engine_serves_exactly_like_a_fifo_queue checks the engine call by call against the FIFO
recursion on the very same calls.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from dataclasses import replace

import pytest
import typer
from typer.testing import CliRunner

from kefu.routing import erlang
from kefu.routing.simulate import run
from kefu.routing.simulate_cli import simulate
from kefu.routing.simulate_model import SimConfig, erlang_c_peer, multi_skill_layout
from kefu.routing.types import QueueSpec


def _check_against_erlang(cfg: SimConfig, published: float) -> None:
    a = erlang.traffic_erlangs(cfg.arrivals_per_hour, cfg.aht_s)
    predicted = erlang.service_level(cfg.agents, a, cfg.aht_s, cfg.target_s)
    assert predicted == pytest.approx(published, abs=5e-5)
    r = run(cfg)
    assert r.abandoned == 0
    assert r.answered == r.calls
    assert r.calls == pytest.approx(cfg.arrivals_per_hour * (cfg.hours - cfg.warmup_hours), rel=0.02)
    assert abs(r.service_level - predicted) <= 0.02, (r.service_level, predicted)
    assert r.occupancy == pytest.approx(a / cfg.agents, abs=0.01)
    assert r.asa_seconds == pytest.approx(erlang.asa(cfg.agents, a, cfg.aht_s), rel=0.25)


def test_erlang_c_14_agents_100_calls_per_half_hour() -> None:
    cfg = SimConfig(agents=14, arrivals_per_hour=200, aht_s=180, hours=500, warmup_hours=2, target_s=20, seed=1)
    _check_against_erlang(cfg, 0.88835)


def test_erlang_c_13_agents_100_calls_per_half_hour() -> None:
    cfg = SimConfig(agents=13, arrivals_per_hour=200, aht_s=180, hours=700, warmup_hours=2, target_s=20, seed=2)
    _check_against_erlang(cfg, 0.7955948)


def test_erlang_c_two_agents_half_load() -> None:
    # A = 30 calls/h × 120 s = 1 erlang on 2 agents (rho = 0.5): P(wait) = 2·0.25/1.5 = 1/3,
    # SL(60 s) = 1 - (1/3)·exp(-(2-1)·60/120) = 0.797823
    cfg = SimConfig(agents=2, arrivals_per_hour=30, aht_s=120, hours=1500, warmup_hours=2, target_s=60, seed=3)
    _check_against_erlang(cfg, 1 - math.exp(-0.5) / 3)


def _fifo_reference(cfg: SimConfig) -> tuple[int, int, float]:
    """The same calls (same random streams, in the order the simulator draws them) through the textbook
    FIFO multi-server recursion: each call starts at max(arrival, earliest time an agent is free)."""
    arrivals = random.Random(f"kefu-sim:{cfg.seed}:arrivals")
    handles = random.Random(f"kefu-sim:{cfg.seed}:handle")
    rate = cfg.arrivals_per_hour / 3600
    free = [0.0] * cfg.agents
    calls = within = 0
    wait_sum = 0.0
    t = arrivals.expovariate(rate)
    while t < cfg.hours * 3600:
        handle = handles.expovariate(1.0) * cfg.aht_s
        start = max(t, heapq.heappop(free))
        heapq.heappush(free, start + handle + cfg.wrapup_s)
        calls += 1
        within += start - t <= cfg.target_s
        wait_sum += start - t
        t += arrivals.expovariate(rate)
    return calls, within, wait_sum


def test_engine_serves_exactly_like_a_fifo_queue() -> None:
    # one skill, equal priorities, agents answer at once: the engine must be work-conserving and FIFO,
    # so every call waits exactly as long as in the textbook recursion — not just on average
    cfg = SimConfig(agents=12, arrivals_per_hour=220, aht_s=180, wrapup_s=10, hours=40, target_s=20, seed=21)
    calls, within, wait_sum = _fifo_reference(cfg)
    r = run(cfg)
    assert r.calls == calls
    assert r.service_level == within / calls
    assert r.asa_seconds == pytest.approx(wait_sum / calls, rel=1e-9)
    assert r.asa_seconds > 10  # a busy queue, so the order of service matters


def test_same_seed_same_result_other_seed_differs() -> None:
    cfg = SimConfig(agents=5, arrivals_per_hour=80, aht_s=180, hours=20, patience_s=120, wrapup_s=10, seed=7)
    first, second = run(cfg), run(cfg)
    assert first == second
    assert first.calls > 1000
    other = run(replace(cfg, seed=8))
    assert other != first


def test_abandonment_rises_as_patience_shortens() -> None:
    base = {"agents": 9, "arrivals_per_hour": 170, "aht_s": 180, "hours": 30, "target_s": 20, "seed": 4}
    rates = [run(SimConfig(**base, patience_s=p)).abandon_rate for p in (600.0, 120.0, 30.0, 5.0)]
    assert rates == sorted(rates)
    assert rates[0] < rates[-1]
    assert len(set(rates)) == len(rates)
    assert rates[0] > 0
    patient = run(SimConfig(**base))
    assert patient.abandoned == 0
    assert patient.answered == patient.calls


def test_outcomes_add_up_and_service_level_definition() -> None:
    r = run(SimConfig(agents=4, arrivals_per_hour=90, aht_s=150, hours=30, patience_s=60, target_s=20, seed=5))
    assert r.answered + r.abandoned == r.calls
    assert 0 < r.abandoned < r.calls
    # service level counts abandoned calls in the denominator; the lenient figure does not
    assert r.service_level < r.service_level_answered
    assert r.service_level == pytest.approx(r.service_level_answered * r.answered / r.calls)
    assert r.within_rings <= r.service_level  # 3 rings × 5 s = 15 s < 20 s
    assert r.queues[0].calls == r.calls


def test_multi_skill_run_routes_by_skill() -> None:
    specs, people = multi_skill_layout(24, 3, 3)
    assert [q.skills for q in specs] == [("s1",), ("s2",), ("s3",)]
    orphan = QueueSpec(code="fx", skills=("foreign_exchange",))  # nobody holds this skill
    cfg = SimConfig(
        agents=24, arrivals_per_hour=300, aht_s=180, hours=40, patience_s=90, seed=6,
        queues=(*specs, orphan), queue_shares=(1.0, 1.0, 1.0, 0.2), agent_skills=people,
    )  # fmt: skip
    r = run(cfg)
    by = {q.queue: q for q in r.queues}
    assert set(by) == {"q1", "q2", "q3", "fx"}
    assert by["fx"].calls > 0
    assert by["fx"].answered == 0
    assert by["fx"].abandoned == by["fx"].calls
    for code in ("q1", "q2", "q3"):
        q = by[code]
        assert q.calls == pytest.approx(r.calls / 3.2, rel=0.1)
        assert q.answered + q.abandoned == q.calls
        assert q.service_level > 0.5
    assert 0.5 < r.occupancy < 1
    assert erlang_c_peer(cfg) is None  # Erlang C knows no skills


def test_shifts_profile_and_wrapup() -> None:
    # 3 agents work 00:00-12:00 only; calls come all day; callers give up after 2 minutes on average
    profile = tuple([30.0] * 24)
    cfg = SimConfig(agents=3, profile=profile, aht_s=120, hours=48, patience_s=120, seed=9, shifts=((0, 12),) * 3)
    r = run(cfg)
    assert r.calls == pytest.approx(30 * 48, rel=0.1)
    assert r.abandon_rate == pytest.approx(0.5, abs=0.08)  # the unstaffed half of the day
    # occupancy counts staffed time only: 30 calls/h × 120 s over 3 agents = 1/3 (a bit less: abandons)
    assert r.occupancy == pytest.approx(1 / 3, abs=0.05)
    wrapped = run(replace(cfg, wrapup_s=60.0))
    assert wrapped.occupancy > r.occupancy
    # a quiet night: hours 0-5 without calls
    quiet = tuple(0.0 if h < 6 else 40.0 for h in range(24))
    day = run(SimConfig(agents=3, profile=quiet, aht_s=120, hours=24, seed=9))
    assert day.calls == pytest.approx(40 * 18, rel=0.1)


def test_answer_delay_counts_as_waiting() -> None:
    r = run(SimConfig(agents=30, arrivals_per_hour=60, aht_s=60, hours=10, answer_delay_s=4, target_s=3, seed=1))
    assert r.answered == r.calls
    assert r.asa_seconds == pytest.approx(4.0)
    assert r.service_level == 0.0  # every call rang 4 s > 3 s target
    assert r.within_rings == 1.0


def test_invalid_config_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="24 values"):
        run(SimConfig(profile=(1.0, 2.0)))
    with pytest.raises(ValueError, match="warm-up"):
        run(SimConfig(hours=1, warmup_hours=2))
    with pytest.raises(ValueError, match="one .start, end. per agent"):
        run(SimConfig(agents=2, shifts=((8, 17),)))


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("simulate")(simulate)

    @app.callback()
    def _root() -> None:
        """test wrapper"""

    return app


def test_cli_json_output_shape() -> None:
    args = ["simulate", "--agents", "14", "--arrivals-per-hour", "200", "--aht", "180", "--hours", "20",
            "--target-seconds", "20", "--seed", "1", "--json"]  # fmt: skip
    res = CliRunner().invoke(_cli(), args)
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    out = json.loads(lines[0])
    for key in ("service_level", "asa_seconds", "abandon_rate", "occupancy", "calls"):
        assert key in out
    assert 0 <= out["service_level"] <= 1
    assert out["calls"] > 3000
    assert out["abandon_rate"] == 0
    assert out["erlang_c"]["service_level"] == pytest.approx(0.88835, abs=1e-5)
    again = json.loads(CliRunner().invoke(_cli(), args).stdout)
    assert {k: v for k, v in again.items() if k != "wall_seconds"} == {
        k: v for k, v in out.items() if k != "wall_seconds"
    }


def test_cli_multi_skill_table_and_bad_input() -> None:
    res = CliRunner().invoke(_cli(), ["simulate", "--agents", "12", "--arrivals-per-hour", "150", "--hours", "5",
                                      "--queues", "3", "--skills", "3", "--patience", "60"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "per queue" in res.stdout
    assert "q3" in res.stdout
    bad = CliRunner().invoke(_cli(), ["simulate", "--profile", "1,2,3", "--json"])
    assert bad.exit_code == 2
    assert "24 values" in bad.output
