"""Exports of a complaints report (R5.5): CSV for any spreadsheet, XLSX with native charts.

CSV: UTF-8 with a byte-order mark (Excel on Chinese Windows opens it without garbling), one file of
sections separated by an empty row — a title row, a header row, then the data — for the totals beside
the previous period, each breakdown, the daily series and the risk points. Rates are written as
percentages with two decimals (``66.67%``, which Excel reads as a number), days with one decimal.

XLSX (XlsxWriter): a summary sheet, one sheet per breakdown with a bar chart, the daily series with a
column chart, the risk points, and a chart sheet of cases received vs decided per day. Numbers are
stored as numbers (rates as fractions formatted as percentages) so the sheet can be recalculated.

Texts come from the i18n catalogue in the report's locale (``complaint.report.*``); sheet names fall
back to short English names when a key is missing, because Excel limits them to 31 characters.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import xlsxwriter

from kefu.complaints.stats import DIMENSIONS, FIGURES, Report, delta
from kefu.core import clock, i18n

BOM = "\ufeff"
ROW_COLUMNS = ("key", "label", "count", "received", "accepted", "completed", "completion", "decided",
               "decided_on_time", "on_time", "avg_days")  # fmt: skip
ROW_KINDS = {"completion": "rate", "on_time": "rate", "avg_days": "days"}
SHEETS = {"summary": "Summary", "daily": "Daily", "risk": "Risk points", "chart": "Chart",
          **{d: d.replace("_", " ").capitalize() for d in DIMENSIONS}}  # fmt: skip
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def t(report: Report, key: str, **params: Any) -> str:
    return i18n.t(key, report.locale, **params)


def fmt(kind: str, value: Any) -> str:
    """A value for CSV: '' for none, percentages for rates, one decimal for days."""
    if value is None:
        return ""
    if kind == "rate":
        return f"{float(value) * 100:.2f}%"
    if kind == "days":
        return f"{float(value):.1f}"
    return str(value)


def _meta(report: Report) -> list[list[str]]:
    generated = clock.local(report.generated_at, report.timezone).strftime("%Y-%m-%d %H:%M")
    p, q = report.period, report.previous_period
    return [
        [t(report, "complaint.report.title"), p.label],
        [t(report, "complaint.report.period"), p.kind, p.start.isoformat(), p.end.isoformat()],
        [t(report, "complaint.report.previous"), q.label, q.start.isoformat(), q.end.isoformat()],
        [t(report, "complaint.report.generated"), generated, report.timezone],
    ]


def to_csv(report: Report) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in _meta(report):
        w.writerow(row)
    w.writerow([])
    w.writerow([t(report, "complaint.report.totals")])
    w.writerow(["figure", t(report, "complaint.report.figure"), t(report, "complaint.report.this_period"),
                t(report, "complaint.report.previous_period"), t(report, "complaint.report.change")])  # fmt: skip
    for name, kind in FIGURES:
        cur, prev = report.totals[name], report.previous_totals[name]
        change = None if name == "open_now" else delta(kind, cur, prev)
        w.writerow([name, t(report, f"complaint.report.figure.{name}"), fmt(kind, cur), fmt(kind, prev),
                    fmt(kind, change)])  # fmt: skip
    for dim in DIMENSIONS:
        w.writerow([])
        w.writerow([t(report, f"complaint.report.dim.{dim}")])
        w.writerow([t(report, f"complaint.report.col.{c}") for c in ROW_COLUMNS])
        for r in report.breakdowns[dim]:
            w.writerow([fmt(ROW_KINDS.get(c, "count"), r[c]) for c in ROW_COLUMNS])
    w.writerow([])
    w.writerow([t(report, "complaint.report.daily")])
    w.writerow([t(report, "complaint.report.col.day"), t(report, "complaint.report.col.received"),
                t(report, "complaint.report.col.decided")])  # fmt: skip
    for d in report.daily:
        w.writerow([d["day"], d["received"], d["decided"]])
    w.writerow([])
    w.writerow(
        [t(report, "complaint.report.risk_points"), t(report, "complaint.report.risk_rule", n=report.risk_min_count)]
    )
    w.writerow([t(report, f"complaint.report.col.{c}") for c in
                ("key", "label", "count", "previous", "change", "trend", "business_lines")])  # fmt: skip
    for p in report.risk_points:
        lines = "; ".join(f"{b['label']} {b['count']}" for b in p["business_lines"])
        w.writerow([p["key"], p["label"], p["count"], p["previous"], p["change"],
                    t(report, f"complaint.report.trend.{p['trend']}"), lines])  # fmt: skip
    return (BOM + buf.getvalue()).encode("utf-8")


# ---- XLSX ----------------------------------------------------------------------------------------


def _sheet_names(report: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, fallback in SHEETS.items():
        key = f"complaint.report.sheet.{code}"
        name = i18n.t(key, report.locale)
        name = _BAD_SHEET_CHARS.sub(" ", fallback if name == key else name).strip()[:31] or fallback
        while name in out.values():
            name = (name[:28] + f" {len(out)}")[:31]
        out[code] = name
    return out


def to_xlsx(report: Report) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    names = _sheet_names(report)
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1, "text_wrap": True, "valign": "top"})
    styles = {"rate": wb.add_format({"num_format": "0.0%"}), "days": wb.add_format({"num_format": "0.0"}),
              "count": wb.add_format({"num_format": "0"})}  # fmt: skip
    pts = wb.add_format({"num_format": "+0.0%;-0.0%;0.0%"})

    def cell(ws: Any, row: int, col: int, kind: str, value: Any, style: Any = None) -> None:
        if value is None:
            ws.write_blank(row, col, None)
        else:
            ws.write_number(row, col, float(value), style or styles[kind])

    ws = wb.add_worksheet(names["summary"])
    ws.set_column(0, 0, 26)
    ws.set_column(1, 4, 16)
    ws.write(0, 0, t(report, "complaint.report.title"), title)
    for i, row in enumerate(_meta(report)[1:], start=1):
        ws.write_row(i, 0, row)
    top = len(_meta(report)) + 1
    ws.write_row(top, 0, [t(report, "complaint.report.figure"), t(report, "complaint.report.this_period"),
                          t(report, "complaint.report.previous_period"), t(report, "complaint.report.change")], head)  # fmt: skip
    for i, (name, kind) in enumerate(FIGURES, start=top + 1):
        cur, prev = report.totals[name], report.previous_totals[name]
        ws.write(i, 0, t(report, f"complaint.report.figure.{name}"), bold)
        cell(ws, i, 1, kind, cur)
        cell(ws, i, 2, kind, prev)
        cell(ws, i, 3, kind, None if name == "open_now" else delta(kind, cur, prev), pts if kind == "rate" else None)

    for dim in DIMENSIONS:
        ws = wb.add_worksheet(names[dim])
        ws.set_column(0, 0, 18)
        ws.set_column(1, 1, 22)
        ws.set_column(2, len(ROW_COLUMNS) - 1, 11)
        ws.write(0, 0, t(report, f"complaint.report.dim.{dim}"), title)
        ws.write_row(1, 0, [t(report, f"complaint.report.col.{c}") for c in ROW_COLUMNS], head)
        rows = report.breakdowns[dim]
        for i, r in enumerate(rows, start=2):
            ws.write_string(i, 0, r["key"] or "")
            ws.write_string(i, 1, r["label"])
            for j, c in enumerate(ROW_COLUMNS[2:], start=2):
                cell(ws, i, j, ROW_KINDS.get(c, "count"), r[c])
        if rows:
            chart = wb.add_chart({"type": "bar"})
            chart.add_series({"name": t(report, "complaint.report.col.count"),
                              "categories": [names[dim], 2, 1, len(rows) + 1, 1],
                              "values": [names[dim], 2, 2, len(rows) + 1, 2], "data_labels": {"value": True}})  # fmt: skip
            chart.set_title({"name": t(report, f"complaint.report.dim.{dim}")})
            chart.set_legend({"none": True})
            chart.set_y_axis({"reverse": True})
            ws.insert_chart(len(rows) + 4, 1, chart, {"x_scale": 1.4, "y_scale": max(1.0, len(rows) / 10)})

    ws = wb.add_worksheet(names["daily"])
    ws.set_column(0, 2, 14)
    ws.write_row(0, 0, [t(report, "complaint.report.col.day"), t(report, "complaint.report.col.received"),
                        t(report, "complaint.report.col.decided")], head)  # fmt: skip
    for i, d in enumerate(report.daily, start=1):
        ws.write_string(i, 0, d["day"])
        ws.write_number(i, 1, d["received"])
        ws.write_number(i, 2, d["decided"])
    last = len(report.daily)

    def daily_chart() -> Any:
        chart = wb.add_chart({"type": "column"})
        for col in (1, 2):
            chart.add_series({"name": [names["daily"], 0, col], "categories": [names["daily"], 1, 0, last, 0],
                              "values": [names["daily"], 1, col, last, col]})  # fmt: skip
        chart.set_title({"name": t(report, "complaint.report.daily")})
        chart.set_legend({"position": "bottom"})
        return chart

    ws.insert_chart(1, 4, daily_chart(), {"x_scale": 1.6, "y_scale": 1.3})

    ws = wb.add_worksheet(names["risk"])
    ws.set_column(0, 1, 22)
    ws.set_column(2, 5, 11)
    ws.set_column(6, 6, 50)
    ws.write(0, 0, t(report, "complaint.report.risk_points"), title)
    ws.write(1, 0, t(report, "complaint.report.risk_rule", n=report.risk_min_count))
    cols = ("key", "label", "count", "previous", "change", "trend", "business_lines")
    ws.write_row(2, 0, [t(report, f"complaint.report.col.{c}") for c in cols], head)
    for i, p in enumerate(report.risk_points, start=3):
        lines = "; ".join(f"{b['label']} {b['count']}" for b in p["business_lines"])
        ws.write_row(i, 0, [p["key"], p["label"], p["count"], p["previous"], p["change"],
                            t(report, f"complaint.report.trend.{p['trend']}"), lines])  # fmt: skip

    sheet = wb.add_chartsheet(names["chart"])
    sheet.set_chart(daily_chart())
    wb.close()
    return buf.getvalue()
