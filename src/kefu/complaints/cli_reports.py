"""``kefu complaints report``: the weekly or monthly complaints report (R5.5, R5.7) from the command line.

    kefu complaints report --period month --at 2026-11                 # JSON on stdout
    kefu complaints report --period week --at 2026-11-23 --format csv --out week.csv
    kefu complaints report --period month --at 2026-11 --format xlsx --out 2026-11.xlsx

``--at`` takes a day (2026-11-23), a month (2026-11) or an ISO week (2026-W48); the default is today.
``--format text`` prints the totals and risk points as a table. XLSX needs ``--out``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kefu.complaints import export, stats

app = typer.Typer(help="Complaint statistics: weekly and monthly reports, CSV / XLSX export")
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)

PeriodOpt = Annotated[str, typer.Option("--period", help="week (ISO, Monday–Sunday) or month")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="a day 2026-11-23, a month 2026-11 or a week 2026-W48; default today")
]
FormatOpt = Annotated[str, typer.Option("--format", help="json, csv, xlsx or text")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="write to this file instead of stdout")]
LocaleOpt = Annotated[str, typer.Option("--locale", help="language of the labels: zh-Hans, zh-Hant or en")]
FORMATS = ("json", "csv", "xlsx", "text")


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _text(report: stats.Report) -> None:
    table = Table(title=f"{report.period.label} ({report.period.start} – {report.period.end})")
    for col in ("figure", report.period.label, report.previous_period.label):
        table.add_column(col)
    for name, kind in stats.FIGURES:
        table.add_row(name, export.fmt(kind, report.totals[name]), export.fmt(kind, report.previous_totals[name]))
    console.print(table)
    if report.risk_points:
        risks = Table(title=f"risk points (>= {report.risk_min_count} cases decided)")
        for col in ("root cause", "count", "previous", "trend", "business lines"):
            risks.add_column(col)
        for p in report.risk_points:
            lines = ", ".join(f"{b['label']} {b['count']}" for b in p["business_lines"])
            risks.add_row(p["label"], str(p["count"]), str(p["previous"]), p["trend"], lines)
        console.print(risks)


async def _load(rt: Any, period: stats.Period, locale: str) -> stats.Report:
    async with rt.db.transaction() as s:
        return await stats.report(s, period=period, settings=rt.settings, locale=locale)


@app.callback(invoke_without_command=True)
def report(
    period: PeriodOpt = "month", at: AtOpt = None, format: FormatOpt = "json", out: OutOpt = None,
    locale: LocaleOpt = "zh-Hans",
) -> None:  # fmt: skip
    """Print or write the report of one week or month."""
    import asyncio

    from kefu.cli import _runtime, _with_close
    from kefu.core import clock
    from kefu.core.config import get_settings

    if format not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}")
    if format == "xlsx" and out is None:
        _fail("XLSX is binary: give --out FILE.xlsx")
    try:
        day = stats.parse_at(at, today=stats.local_day(clock.now(), get_settings().timezone))
        chosen = stats.period_for(period, day)
    except ValueError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    rt = _runtime()
    result = asyncio.run(_with_close(rt, _load(rt, chosen, locale)))
    if format == "text":
        _text(result)
        return
    body: bytes = (
        export.to_xlsx(result) if format == "xlsx" else export.to_csv(result) if format == "csv"
        else (json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    )  # fmt: skip
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    out.write_bytes(body)
    t = result.totals
    err.print(f"wrote {out} ({chosen.label}): received {t['received']}, accepted {t['accepted']}, "
              f"decided {t['decided']}, {len(result.risk_points)} risk point(s)")  # fmt: skip
