"""``run_bench`` and ``kefu bench routing`` on tiny sizes (figures are never asserted, only their shape)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kefu.routing.bench import run_bench
from kefu.routing.bench_cli import bench_app


async def test_run_bench_makes_the_decisions_asked_for() -> None:
    out = await run_bench(agents=30, queues=4, skills=3, decisions=200, seed=3)
    assert out["store"] == "memory"
    assert out["decisions"] == 200
    assert (out["agents"], out["queues"]) == (30, 4)
    assert out["decisions_per_s"] > 0
    assert 0 < out["p50_ms"] <= out["p99_ms"]
    assert out["engine_calls"] > out["decisions"]  # accepts, ends, ready again, ticks…
    again = await run_bench(agents=30, queues=4, skills=3, decisions=200, seed=3)
    assert (again["engine_calls"], again["virtual_s"]) == (out["engine_calls"], out["virtual_s"])  # seeded


async def test_run_bench_with_calls_in_flight() -> None:
    out = await run_bench(agents=20, queues=3, skills=3, decisions=100, concurrency=4)
    assert out["decisions"] == 100
    assert out["concurrency"] == 4


def test_cli_prints_json_or_a_table() -> None:
    runner = CliRunner()
    args = ["routing", "--agents", "25", "--queues", "3", "--skills", "3", "--decisions", "100"]
    res = runner.invoke(bench_app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"store", "agents", "queues", "skills", "decisions", "decisions_per_s", "p50_ms", "p99_ms"} <= set(out)
    res = runner.invoke(bench_app, args)
    assert res.exit_code == 0, res.output
    assert "decisions per second" in res.output
    res = runner.invoke(bench_app, [*args, "--store", "disk"])
    assert res.exit_code != 0
    assert "memory or redis" in res.output
