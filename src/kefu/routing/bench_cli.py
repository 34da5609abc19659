"""``kefu bench …``: benchmarks a person can run on their own machine (``bench_app``, mounted by cli.py)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

bench_app = typer.Typer(help="Measure how fast this machine runs Kefu's hot paths", no_args_is_help=True)


@bench_app.callback()
def _group() -> None:
    """Benchmarks (figures only; targets are in bench/ and docs)."""


@bench_app.command("routing")
def routing(
    agents: Annotated[int, typer.Option(min=1, help="agents in the simulated center")] = 2000,
    queues: Annotated[int, typer.Option(min=1, help="queues (each needs 1-2 skills)")] = 20,
    skills: Annotated[int, typer.Option(min=1, help="distinct skills")] = 10,
    store: Annotated[str, typer.Option(help="routing store: memory (in-process) or redis")] = "memory",
    redis_url: Annotated[
        str | None, typer.Option(help="Redis for --store redis (default: KEFU_REDIS_URL or redis://127.0.0.1:6379/0)")
    ] = None,
    decisions: Annotated[int, typer.Option(min=1, help="offers to make before stopping")] = 20000,
    seed: Annotated[int, typer.Option(help="seed of the random load")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="engine calls in flight at once")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Routing decisions per second and decision latency (p50/p99) under a seeded contact-center load."""
    from kefu.routing.bench import DEFAULT_REDIS_URL, run_bench

    if store not in ("memory", "redis"):
        raise typer.BadParameter("use memory or redis", param_hint="--store")
    url = None
    if store == "redis":
        url = redis_url or os.environ.get("KEFU_REDIS_URL") or DEFAULT_REDIS_URL
    try:
        result = asyncio.run(
            run_bench(agents=agents, queues=queues, skills=skills, store=store, redis_url=url, decisions=decisions,
                      seed=seed, concurrency=concurrency)
        )  # fmt: skip
    except (OSError, RedisError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] cannot reach Redis at {url}: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"Routing engine, {store} store")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("agents / queues / skills", f"{result['agents']} / {result['queues']} / {result['skills']}"),
        ("decisions (offers made)", f"{result['decisions']:,}"),
        ("decisions per second", f"{result['decisions_per_s']:,.0f}"),
        ("decision latency p50", f"{result['p50_ms']:.3f} ms"),
        ("decision latency p99", f"{result['p99_ms']:.3f} ms"),
        ("engine calls", f"{result['engine_calls']:,}"),
        ("virtual time simulated", f"{result['virtual_s']:,.0f} s"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    Console(width=None if sys.stdout.isatty() else 100).print(table)
