"""The ``kefu simulate`` command (registered in kefu.cli with ``app.command("simulate")(simulate)``)."""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.routing.erlang import ErlangCResult
from kefu.routing.simulate_model import SimConfig, SimResult, erlang_c_peer, multi_skill_layout

#: runs expected to have fewer calls than this finish in a blink: no progress bar
_PROGRESS_FROM_CALLS = 20_000


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{what} must be numbers separated by commas, e.g. 120,180,240") from None


def _shifts(text: str, agents: int) -> tuple[tuple[float, float], ...]:
    """``"8-17:10,12-21:4"`` = 10 agents 08:00-17:00 and 4 agents 12:00-21:00."""
    out: list[tuple[float, float]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            span, _, count = part.partition(":")
            start, _, end = span.partition("-")
            out.extend([(float(start), float(end))] * int(count or "1"))
        except ValueError:
            raise typer.BadParameter(f"shift {part!r}: write START-END:AGENTS, e.g. 8-17:10") from None
    if len(out) != agents:
        raise typer.BadParameter(f"the shifts cover {len(out)} agents but --agents is {agents}")
    return tuple(out)


def _settings_rings() -> tuple[float, int, float]:
    """ring seconds, answer-within rings and offer timeout from the settings (defaults if unreadable)."""
    try:
        from kefu.core.config import get_settings

        s = get_settings()
        return s.ring_seconds, s.answer_within_rings, s.offer_timeout_seconds
    except Exception:  # noqa: BLE001 - a broken environment must not stop an offline simulation
        return 5.0, 3, 15.0


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def result_json(result: SimResult, peer: ErlangCResult | None, wall_seconds: float) -> dict[str, Any]:
    """The ``--json`` object: every SimResult field, the Erlang C peer (or null) and the wall time."""
    out = result.as_dict()
    out["erlang_c"] = asdict(peer) if peer is not None else None
    out["wall_seconds"] = round(wall_seconds, 3)
    return _finite(out)  # type: ignore[no-any-return]


def simulate(
    agents: Annotated[int, typer.Option(help="agents (all logged in unless --shifts)")] = 14,
    arrivals_per_hour: Annotated[
        float, typer.Option(help="Poisson arrivals per hour (ignored with --profile)")
    ] = 200.0,
    aht: Annotated[float, typer.Option(help="mean talk time in seconds (exponential)")] = 180.0,
    hours: Annotated[float, typer.Option(help="virtual hours to simulate")] = 500.0,
    target_seconds: Annotated[
        float, typer.Option(help="service-level target: answered within this many seconds")
    ] = 20.0,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same result)")] = 1,
    patience: Annotated[
        float | None, typer.Option(help="mean caller patience in seconds (exponential); none = no abandonment")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="24 comma-separated calls/hour values, hour 0 to 23")] = None,
    wrapup: Annotated[float, typer.Option(help="wrap-up seconds after each call")] = 0.0,
    handle_times: Annotated[
        str | None, typer.Option(help="empirical talk times in seconds, comma-separated (replaces --aht)")
    ] = None,
    queues: Annotated[int, typer.Option(help="queues (multi-skill run: queue i needs skill i mod --skills)")] = 1,
    skills: Annotated[int, typer.Option(help="distinct skills for a multi-skill run")] = 1,
    shifts: Annotated[
        str | None, typer.Option(help="agent shifts, e.g. '8-17:10,12-21:4' (must cover --agents)")
    ] = None,
    warmup: Annotated[float, typer.Option(help="hours at the start not counted")] = 0.0,
    answer_delay: Annotated[float, typer.Option(help="seconds an agent takes to answer a ringing offer")] = 0.0,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Simulate the contact center in virtual time with the real routing engine, beside Erlang C."""
    from kefu.routing import simulate as sim

    ring_s, rings, offer_timeout = _settings_rings()
    queue_specs: tuple[Any, ...] = ()
    agent_skills: tuple[dict[str, int], ...] = ()
    if queues > 1 or skills > 1:
        try:
            queue_specs, agent_skills = multi_skill_layout(agents, queues, skills)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    config = SimConfig(
        agents=agents,
        arrivals_per_hour=arrivals_per_hour,
        profile=_floats(profile, "--profile") if profile else None,
        aht_s=aht,
        handle_times=_floats(handle_times, "--handle-times") if handle_times else None,
        wrapup_s=wrapup,
        patience_s=patience,
        answer_delay_s=answer_delay,
        offer_timeout_s=offer_timeout,
        queues=queue_specs,
        agent_skills=agent_skills,
        shifts=_shifts(shifts, agents) if shifts else (),
        hours=hours,
        warmup_hours=warmup,
        target_s=target_seconds,
        ring_s=ring_s,
        rings=rings,
        seed=seed,
    )
    try:
        config.validate()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    err = Console(stderr=True)
    rate = sum(config.profile) / 24 if config.profile else arrivals_per_hour
    show_bar = (err.is_terminal or not json_output) and rate * hours >= _PROGRESS_FROM_CALLS
    t0 = time.perf_counter()
    if show_bar:
        columns = (TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("simulate", total=1.0)
            result = sim.run(config, progress=lambda done: bar.update(task, completed=done))
    else:
        result = sim.run(config)
    wall = time.perf_counter() - t0
    peer = erlang_c_peer(config)
    if json_output:
        sys.stdout.write(json.dumps(result_json(result, peer, wall)) + "\n")
        return
    _print_table(result, peer, wall)


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _print_table(r: SimResult, peer: ErlangCResult | None, wall: float) -> None:
    console = Console()
    title = f"{r.agents} agents, {r.hours:g} h simulated (seed {r.seed}) in {wall:.1f} s"
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("simulated", justify="right")
    table.add_column("Erlang C", justify="right")
    p = peer
    table.add_row("calls", f"{r.calls:,}", "")
    table.add_row("answered", f"{r.answered:,}", "")
    table.add_row("abandoned", f"{r.abandoned:,} ({_pct(r.abandon_rate)})", "0 (no abandonment)" if p else "")
    table.add_row(f"service level ({r.target_seconds:g} s)", _pct(r.service_level), _pct(p.service_level) if p else "-")
    table.add_row(f"answered within {r.rings} rings ({r.rings * r.ring_seconds:g} s)", _pct(r.within_rings), "")
    table.add_row("ASA", f"{r.asa_seconds:.1f} s", f"{p.asa_seconds:.1f} s" if p else "-")
    table.add_row("longest wait", f"{r.max_wait_seconds:.0f} s", "")
    table.add_row("occupancy", _pct(r.occupancy), _pct(p.occupancy) if p else "-")
    console.print(table)
    if len(r.queues) > 1:
        qt = Table(title="per queue")
        for col in ("queue", "calls", "service level", "within rings", "ASA", "abandoned"):
            qt.add_column(col, justify="left" if col == "queue" else "right")
        for q in r.queues:
            qt.add_row(q.queue, f"{q.calls:,}", _pct(q.service_level), _pct(q.within_rings), f"{q.asa_seconds:.1f} s",
                       _pct(q.abandon_rate))  # fmt: skip
        console.print(qt)
    if p is None:
        console.print("Erlang C does not apply (several queues or empirical handle times).")
