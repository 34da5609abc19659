"""Exports of the complaints report (issue 6 §5: "CSV/XLSX export"; R5.5 weekly / monthly reports):
the CSV parses and holds the figures of the fixed data set, the XLSX opens with openpyxl with the same
numbers and its charts, the HTTP endpoints and the CLI give the same report. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import openpyxl
import pytest

from kefu.complaints import export, stats
from kefu.core import clock, i18n
from tests.complaints import stats_data as data
from tests.factories import auth_headers, cli_env

NOV = stats.period_for("month", data.NOW.date().replace(month=11, day=1))
API = "/api/v1/complaints/reports"


@pytest.fixture
def now() -> Iterator[None]:
    clock.freeze(data.NOW)
    yield
    clock.freeze(None)


async def _report(rt: Any, locale: str = "zh-Hans") -> stats.Report:
    await data.seed(rt)
    async with rt.db.transaction() as s:
        return await stats.report(s, period=NOV, settings=rt.settings, locale=locale)


def _sections(body: bytes) -> dict[str, list[list[str]]]:
    """The CSV's sections keyed by their title row's first cell (the first section: 'meta')."""
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    out: dict[str, list[list[str]]] = {}
    title, block = "meta", []
    for row in rows:
        if not row:
            out[title] = block
            title, block = "", []
            continue
        if not title:
            title = row[0]
            continue
        block.append(row)
    out[title] = block
    return out


def _by_first(rows: list[list[str]]) -> dict[str, list[str]]:
    return {r[0]: r for r in rows}


async def test_csv_holds_every_figure(rt, now):
    """Issue 6 §5: CSV export with the totals beside the previous period, the breakdowns, the daily
    series and the risk points (R5.7)."""
    report = await _report(rt)
    sections = _sections(export.to_csv(report))
    totals = _by_first(sections[export.t(report, "complaint.report.totals")][1:])  # after the header row
    assert [name for name, _ in stats.FIGURES] == list(totals)
    assert totals["received"][2:] == ["11", "6", "5"]
    assert totals["completion_rate"][2:] == ["66.67%", "60.00%", "6.67%"]
    assert totals["on_time_rate"][2:] == ["66.67%", "66.67%", "0.00%"]
    assert totals["avg_days_to_decision"][2:] == ["12.2", "13.7", "-1.5"]
    assert totals["reopen_rate"][2:] == ["33.33%", "50.00%", "-16.67%"]
    assert totals["open_now"][2:] == ["6", "1", ""]  # a figure of today: no change column
    lines = _by_first(sections[export.t(report, "complaint.report.dim.business_line")][1:])
    assert lines["credit_cards"] == ["credit_cards", "信用卡", "3", "3", "3", "2", "66.67%", "3", "2", "66.67%", "11.3"]
    assert lines["ebanking"][6] == ""  # no acceptance: no completion rate
    roots = _by_first(sections[export.t(report, "complaint.report.dim.root_cause")][1:])
    assert roots[""][2:4] == ["0", "7"]  # the unset row: no case decided, 7 received without findings
    daily = sections[export.t(report, "complaint.report.daily")][1:]
    assert len(daily) == 30
    assert daily[12] == ["2026-11-13", "2", "0"]
    risks = sections[export.t(report, "complaint.report.risk_points")][1:]
    assert risks[0][:5] == ["fee_policy", "收费政策", "4", "1", "3"]
    assert risks[0][6] == "信用卡 3; 转账汇款 1"
    meta = sections["meta"]
    assert meta[0][1] == "2026-11"
    assert meta[1][1:] == ["month", "2026-11-01", "2026-11-30"]


async def test_xlsx_opens_and_holds_the_numbers(rt, now):
    """Issue 6 §5: XLSX export with charts; numbers stay numbers (rates as fractions)."""
    report = await _report(rt, locale="en")
    wb = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(report)))
    names = export._sheet_names(report)
    assert wb.sheetnames == [names[k] for k in ("summary", *stats.DIMENSIONS, "daily", "risk", "chart")]
    assert [cs.title for cs in wb.chartsheets] == [names["chart"]]  # a native chart sheet
    summary = wb[names["summary"]]
    values = [[c.value for c in row] for row in summary.iter_rows(min_row=7, max_row=7 + len(stats.FIGURES) - 1)]
    by_figure = dict(zip([n for n, _ in stats.FIGURES], values, strict=True))
    assert by_figure["received"][1:4] == [11, 6, 5]
    assert by_figure["completion_rate"][1:3] == [0.6667, 0.6]
    assert by_figure["avg_days_to_decision"][1:3] == [12.2, 13.7]
    assert summary.cell(row=by_figure_row(summary, "completion_rate"), column=2).number_format == "0.0%"
    cats = wb[names["category"]]
    rows = [[c.value for c in r] for r in cats.iter_rows(min_row=3, max_row=3 + len(report.breakdowns["category"]) - 1)]
    assert rows[0][:8] == ["quality.fee", "Fees and pricing", 3, 3, 4, 3, 0.75, 4]
    assert len(cats._charts) == 1
    daily = wb[names["daily"]]
    assert [daily.cell(row=14, column=c).value for c in (1, 2, 3)] == ["2026-11-13", 2, 0]
    assert len(daily._charts) == 1
    risk = wb[names["risk"]]
    assert [risk.cell(row=4, column=c).value for c in range(1, 6)] == ["fee_policy", "Fee policy", 4, 1, 3]


def by_figure_row(ws: Any, figure: str) -> int:
    return 7 + [n for n, _ in stats.FIGURES].index(figure)


async def test_http_report_and_exports(rt, client, handler, agent, now):
    """R5.5: the report over HTTP for COMPLAINT_REPORT holders (handlers, supervisors); agents get 403."""
    await data.seed(rt)
    headers = await auth_headers(client, handler)
    r = await client.get(API, params={"period": "month", "at": "2026-11"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == data.NOVEMBER
    assert body["previous_totals"] == data.OCTOBER
    assert body["period"]["label"] == "2026-11"
    assert body["risk_points"][0]["key"] == "fee_policy"
    week = await client.get(API, params={"period": "week", "at": "2026-W48"}, headers=headers)
    assert week.json()["period"]["start"] == "2026-11-23"
    custom = await client.get(API, params={"period": "custom", "start": "2026-11-01", "end": "2026-11-30"},
                              headers=headers)  # fmt: skip
    assert custom.json()["totals"] == data.NOVEMBER

    r = await client.get(f"{API}/export.csv", params={"period": "month", "at": "2026-11-05"}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="complaints-month-2026-11.csv"'
    assert _by_first(_sections(r.content)[i18n.t("complaint.report.totals", "zh-Hans")][1:])["received"][2] == "11"
    r = await client.get(f"{API}/export.xlsx", params={"period": "week", "at": "2026-11-23"}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="complaints-week-2026-W48.xlsx"'
    assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames

    denied = await client.get(API, headers=await auth_headers(client, agent))
    assert denied.status_code == 403


async def test_http_bad_periods_are_422_naming_the_field(rt, client, supervisor, now):
    headers = await auth_headers(client, supervisor)
    for params, field in (({"at": "2026-13"}, "at"), ({"at": "1900-01"}, "at"), ({"period": "custom"}, "start"),
                          ({"period": "custom", "start": "2026-11-02", "end": "2026-11-01"}, "end"),
                          ({"period": "year"}, "period")):  # fmt: skip
        r = await client.get(API, params=params, headers=headers)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == [field], params


async def _run(args: list[str], env: dict[str, str]) -> Any:
    """The report CLI in a worker thread (it runs its own event loop)."""
    return await anyio.to_thread.run_sync(_invoke, args, env)


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    """Invoke the report CLI in-process; restores the runtime and keyring it replaces (like run_cli)."""
    from typer.testing import CliRunner

    from kefu.complaints.cli_reports import app
    from kefu.core import crypto, runtime
    from kefu.core import logging as kefu_logging
    from kefu.core.config import get_settings

    previous, ring = runtime._runtime, crypto._keyring
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()
        runtime.install(previous)
        if ring is not None:
            crypto._keyring, crypto._index_key = ring, ring.index_key()
        kefu_logging.configure("WARNING", stream=sys.stderr)


async def test_cli_report_json_csv_xlsx(rt, settings, tmp_path, now):
    """`kefu complaints report --period month --at 2026-11 [--format json|csv|xlsx] [--out FILE]`."""
    await data.seed(rt)
    env = cli_env(settings)
    r = await _run(["--period", "month", "--at", "2026-11"], env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"] == data.NOVEMBER
    out = tmp_path / "nov.csv"
    r = await _run(["--period", "month", "--at", "2026-11", "--format", "csv", "--out", str(out)], env)
    assert r.exit_code == 0, r.output
    assert _by_first(_sections(out.read_bytes())[i18n.t("complaint.report.totals", "zh-Hans")][1:])["decided"][2] == "6"
    xlsx = tmp_path / "w48.xlsx"
    r = await _run(["--period", "week", "--at", "2026-W48", "--format", "xlsx", "--out", str(xlsx)], env)
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(xlsx).sheetnames
    r = await _run(["--period", "month", "--at", "2026-11", "--format", "text"], env)
    assert r.exit_code == 0, r.output
    assert "fee_policy" not in r.stdout
    assert "收费政策" in r.stdout
    for bad in (["--format", "xlsx"], ["--format", "pdf"], ["--at", "2026-13"], ["--period", "year"]):
        r = await _run(bad, env)
        assert r.exit_code == 1, (bad, r.output)
