"""``kefu complaints``: list and show cases (masked), run the clock sweep once, and list cases whose
retention period is over (nothing is deleted in this release)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kefu.core.errors import KefuError

app = typer.Typer(help="Complaints: list, show, sweep, retention", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)  # tables stay whole in pipes and logs
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _run(work: Any) -> Any:
    """Run ``work(rt, session)`` in one transaction of a fresh runtime."""
    from kefu.cli import _runtime, _with_close

    rt = _runtime()

    async def go() -> Any:
        async with rt.db.transaction() as s:
            return await work(rt, s)

    return asyncio.run(_with_close(rt, go()))


def _clock(c: Any, rt: Any, cal: Any) -> Any:
    from kefu.complaints import clock as cclock
    from kefu.core import clock

    return cclock.view(c, now=clock.now(), rules=cclock.Rules.from_settings(rt.settings), cal=cal)


@app.command("list")
def list_cases(
    status: Annotated[list[str] | None, typer.Option("--status", help="only these statuses (repeatable)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
) -> None:
    """Cases due soonest first, with their clock (names and phones masked)."""
    from kefu.complaints import repository as repo
    from kefu.complaints import views
    from kefu.core import calendar, clock

    async def work(rt: Any, s: Any) -> list[dict[str, Any]]:
        from kefu.staff.models import Staff

        cal = await calendar.load(s, rt.settings)
        rows = await repo.list_all(s, status=status, limit=limit)
        out = []
        for c in rows:
            item = views.case_out(c, clock_view=_clock(c, rt, cal), locale="zh-Hans")
            handler = await s.get(Staff, c.handler_id) if c.handler_id else None
            item["handler_staff_no"] = handler.staff_no if handler else None
            item["received_local"] = clock.local(c.received_at, rt.settings.timezone).strftime("%Y-%m-%d %H:%M")
            out.append(item)
        return out

    items = _run(work)
    if as_json:
        for item in items:
            typer.echo(json.dumps(item, default=str, ensure_ascii=False))
        return
    table = Table(title=f"Complaints ({len(items)})")
    for col in ("number", "status", "received", "complainant", "category", "handler", "due", "days left", "clock"):
        table.add_column(col)
    for i in items:
        ck = i["clock"]
        table.add_row(i["number"], i["status"], i["received_local"], i["complainant_name"], i["category_label"],
                      i["handler_staff_no"] or "-", str(ck["due_date"] or "-"),
                      "-" if ck["days_left"] is None else str(ck["days_left"]), ck["colour"])  # fmt: skip
    console.print(table)


@app.command()
def show(number: Annotated[str, typer.Argument(help="case number (TS…) or id")]) -> None:
    """One case: masked details, clock, clock changes, notices and the timeline summaries."""
    from kefu.complaints import clocking, views
    from kefu.complaints import repository as repo
    from kefu.core import calendar

    async def work(rt: Any, s: Any) -> dict[str, Any] | None:
        c = await repo.get(s, int(number)) if number.isdigit() else await repo.by_number(s, number)
        if c is None:
            return None
        out = views.case_out(c, clock_view=_clock(c, rt, await calendar.load(s, rt.settings)), locale="zh-Hans")
        out["clock_changes"] = [
            clocking.clock_detail(ch) | {"reason": None} for ch in await repo.clock_changes_of(s, c.id)
        ]
        out["notices"] = [{"kind": n.kind, "channel": n.channel, "status": m.status if m else "to_print",
                           "created_at": n.created_at} for n, m in await repo.notices_of(s, c.id)]  # fmt: skip
        out["timeline"] = [{"at": e.at, "kind": e.kind, "summary": e.summary} for e in await repo.timeline_of(s, c.id)]
        return out

    out = _run(work)
    if out is None:
        _fail(f"no complaint {number}")
    typer.echo(json.dumps(out, default=str, ensure_ascii=False, indent=2))


@app.command()
def sweep() -> None:
    """Run the clock sweep once: warnings, breaches, overdue acceptance, overdue plan nodes."""
    from kefu.cli import _runtime, _with_close
    from kefu.complaints import jobs

    rt = _runtime()
    counts = asyncio.run(_with_close(rt, jobs.sweep(rt)))
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@app.command()
def retention(limit: Annotated[int, typer.Option(min=1, max=100_000, help="at most this many")] = 1000) -> None:
    """Closed cases kept past their retention date (complaint_retention_years after closing). Nothing is
    deleted: review them and archive through your records process."""
    from kefu.complaints import clocking
    from kefu.complaints import repository as repo

    async def work(rt: Any, s: Any) -> list[tuple[str, str, str]]:
        rows = await repo.past_retention(s, day=clocking.today(), limit=limit)
        return [(c.number or str(c.id), str(c.closed_at)[:10], str(c.retain_until)) for c in rows]

    rows = _run(work)
    if not rows:
        console.print("no closed complaint is past its retention date")
        return
    table = Table(title=f"Past retention ({len(rows)}); nothing deleted")
    for col in ("number", "closed", "retain until"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("digest")
def digest_cmd(
    period: Annotated[str, typer.Option("--period", help="week (the last one) or month (the last one)")] = "week",
    at: Annotated[str | None, typer.Option("--at", help="a day, month (2026-11) or week (2026-W47) instead")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="comma-separated addresses; default: the configured ones")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="send even if this period's digest was sent before")] = False,
) -> None:
    """E-mail the weekly or monthly statistics (R5.5) now, as the worker does every Monday and on the 1st."""
    import datetime as dt

    from kefu.complaints import digest
    from kefu.complaints.periods import parse_at, period_for
    from kefu.core import clock

    if period not in ("week", "month"):
        _fail("--period is week or month")
    addresses = [a.strip() for a in to.split(",") if a.strip()] if to else None

    async def work(rt: Any, s: Any) -> tuple[Any, int]:
        today = clock.local(clock.now(), rt.settings.timezone).date()
        try:
            # default: the period just ended (the day before this week's Monday / this month's 1st)
            back = today.isoweekday() if period == "week" else today.day
            day = parse_at(at, today=today) if at else today - dt.timedelta(days=back)
            chosen = period_for(period, day)
        except (ValueError, KefuError) as exc:
            _fail(str(getattr(exc, "detail", exc)))
        return chosen, await digest.send(s, period=chosen, settings=rt.settings, to=addresses, force=force)

    chosen, sent = _run(work)
    if sent:
        console.print(f"{chosen.label}: digest queued for {sent} address(es)")
    else:
        console.print(f"{chosen.label}: nothing sent (no addresses configured, or already sent: use --force)")


def _mount_report() -> None:
    from kefu.complaints.cli_reports import report

    app.command("report")(report)


_mount_report()
