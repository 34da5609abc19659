"""``kefu calendar``: list, set and seed public holidays and make-up working days.

``seed`` loads the State Council notices shipped in ``data/calendar/cn.json`` (or ``--file``); days
already in the database are kept as they are, so it is safe to run again after editing a day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Business-day calendar: public holidays and make-up working days", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _run(work: Any) -> Any:
    """Run ``work(session)`` in one committed transaction, audited as the command line."""
    from kefu.cli import _runtime, _with_close
    from kefu.core import context

    rt = _runtime()

    async def go() -> Any:
        token = context.bind(context.RequestContext(actor_label="cli"))
        try:
            async with rt.db.transaction() as s:
                return await work(s)
        finally:
            context.reset(token)

    return asyncio.run(_with_close(rt, go()))


def _parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{value!r} is not a day; write it as YYYY-MM-DD, e.g. 2026-10-01")


@app.command("list")
def list_days(year: Annotated[int | None, typer.Option(help="only this year, e.g. 2026")] = None) -> None:
    """Print the holidays and make-up working days (all years, or one)."""
    from kefu.core import calendar

    async def work(s: Any) -> list[tuple[dt.date, str, str]]:
        return [(r.day, r.kind, r.name) for r in await calendar.list_days(s, year=year)]

    rows = _run(work)
    if not rows:
        console.print(f"no calendar entries{f' for {year}' if year else ''}; run `kefu calendar seed`")
        return
    table = Table("day", "weekday", "kind", "name")
    for day, kind, name in rows:
        table.add_row(day.isoformat(), _WEEKDAYS[day.weekday()], kind, name)
    console.print(table)


@app.command("set")
def set_day(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    kind: Annotated[str, typer.Argument(help="holiday (a day off) or workday (a weekend day worked)")],
    name: Annotated[str, typer.Argument(help="e.g. 国庆节 or 国庆节调休上班")] = "",
) -> None:
    """Add or change the entry of one day (audited)."""
    from kefu.core import calendar
    from kefu.core.errors import KefuError

    parsed = _parse_day(day)

    async def work(s: Any) -> tuple[str, str]:
        row = await calendar.set_day(s, day=parsed, kind=kind, name=name)
        return row.kind, row.name

    try:
        saved_kind, saved_name = _run(work)
    except KefuError as exc:
        _fail(exc.detail)
    console.print(f"{parsed.isoformat()} ({_WEEKDAYS[parsed.weekday()]}): {saved_kind} {saved_name}".rstrip())


@app.command("seed")
def seed(
    file: Annotated[
        Path | None, typer.Option("--file", help="a calendar file shaped like data/calendar/cn.json")
    ] = None,
) -> None:
    """Load the State Council holidays and make-up working days (idempotent; edited days are kept)."""
    from kefu.core import calendar

    path = file or calendar.DEFAULT_PATH
    if not path.is_file():
        _fail(f"no file {path}")
    try:
        calendar.read_defaults(path)
    except (ValueError, KeyError, AttributeError) as exc:
        _fail(f"cannot read {path}: {exc}")

    async def work(s: Any) -> int:
        return await calendar.seed_defaults(s, path)

    added = _run(work)
    console.print(f"calendar: {added} day(s) added from {path.name}")
