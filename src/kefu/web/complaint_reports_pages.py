"""The complaints reports page (/complaints/reports, COMPLAINT_REPORT; R5.5, R5.7): a week or month
picker with previous / next, the totals as tiles beside the previous period, bar charts by category,
business line and root cause, received vs decided per day, the recurring root causes (risk points) and
the CSV / XLSX export links (the API endpoints of ``complaints.router_reports``; the browser's session
cookie signs them in).

Charts are inline SVG drawn on the server (no script, printable): each has a title and a description
for screen readers and the same numbers in a table next to it. The page calls ``complaints.stats`` only;
it never queries the database itself.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from kefu.complaints import stats
from kefu.core import clock
from kefu.core.auth import DbSession, Principal
from kefu.core.permissions import Permission
from kefu.web.pages import PageRoute, locale_of, page_user, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reporter = page_user(Permission.COMPLAINT_REPORT)
PAGE = "/complaints/reports"
EXPORT = "/api/v1/complaints/reports/export"
KINDS = ("week", "month")
#: the tiles in order: (figure, which direction is better: 1 higher, -1 lower, 0 neither)
TILES: tuple[tuple[str, int], ...] = (
    ("received", -1), ("accepted", 0), ("completion_rate", 1), ("decided", 1), ("on_time_rate", 1),
    ("avg_days_to_decision", -1), ("closed", 1), ("reopen_rate", -1), ("major", -1), ("escalation_risk", -1),
    ("breached", -1), ("open_now", 0),
)  # fmt: skip
KIND_OF = dict(stats.FIGURES)
CHART_DIMS = ("category", "business_line", "root_cause")
TABLE_DIMS = ("top_category", "category", "business_line", "channel", "root_cause", "responsible_party")
BAR_W, BAR_H, BAR_GAP, BAR_LABEL, BAR_TOP = 480, 18, 8, 130, 12
DAY_W, DAY_H, DAY_LEFT, DAY_BOTTOM, DAY_TOP = 960, 240, 34, 26, 14


def show(kind: str, value: Any) -> str:
    """A figure for the screen: 66.7 %, 12.2, 11, or — when there is none."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if kind == "days":
        return f"{float(value):.1f}"
    return f"{int(value):,}"


def nice_peak(value: int) -> int:
    """The axis maximum: the value rounded up to 1, 2 or 5 × a power of ten (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def fit(label: str, ems: float = 10.0) -> str:
    """``label`` shortened with … to about ``ems`` em (a CJK character is 1 em, others about 0.55)."""
    used = 0.0
    for i, ch in enumerate(label):
        used += 1.0 if ord(ch) > 0x2E80 else 0.55
        if used > ems:
            return label[: max(i - 1, 1)].rstrip() + "…"
    return label


def tick_values(peak: int) -> list[int]:
    """Whole-number axis ticks from 0 to ``peak`` (peak is 1, 2 or 5 × a power of ten)."""
    steps = 4 if peak % 4 == 0 else 5 if peak % 5 == 0 else 2 if peak % 2 == 0 else 1
    return [peak * k // steps for k in range(steps + 1)]


def tile(name: str, better: int, report: stats.Report) -> dict[str, Any]:
    kind = KIND_OF[name]
    cur, prev = report.totals[name], report.previous_totals[name]
    change = None if name == "open_now" else stats.delta(kind, cur, prev)
    direction = "none" if change is None else "up" if change > 0 else "down" if change < 0 else "same"
    tone = "neutral" if change in (None, 0) or better == 0 else "good" if (change > 0) == (better > 0) else "bad"
    if change is None:
        change_text = ""
    elif kind == "rate":
        change_text = f"{float(change) * 100:+.1f}"
    elif kind == "days":
        change_text = f"{float(change):+.1f}"
    else:
        change_text = f"{int(change):+,}"
    return {"name": name, "kind": kind, "value": show(kind, cur), "previous": show(kind, prev),
            "change": change_text, "direction": direction, "tone": tone}  # fmt: skip


def bar_chart(rows: list[dict[str, Any]], *, top: int = 12) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of ``count`` per row (the first ``top`` rows)."""
    shown = rows[:top]
    peak = nice_peak(max((int(r["count"]) for r in shown), default=0))
    span = BAR_W - BAR_LABEL - 40
    bars = []
    for i, r in enumerate(shown):
        width = round(span * int(r["count"]) / peak, 1)
        y = BAR_TOP + 14 + i * (BAR_H + BAR_GAP)
        label = str(r["label"])
        bars.append({"y": y, "text_y": y + BAR_H - 5, "width": width, "value": r["count"], "title": label,
                     "label": fit(label), "value_x": BAR_LABEL + width + 6})  # fmt: skip
    ticks = [{"x": round(BAR_LABEL + span * v / peak, 1), "label": str(v)} for v in tick_values(peak)]
    height = BAR_TOP + 14 + len(shown) * (BAR_H + BAR_GAP) + 4
    return {"width": BAR_W, "height": height, "x0": BAR_LABEL, "label_x": BAR_LABEL - 8, "bar_h": BAR_H,
            "bars": bars, "ticks": ticks, "hidden": len(rows) - len(shown)}  # fmt: skip


def daily_chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Received per day as columns and decided per day as a line with markers (two shapes, not two colours)."""
    n = max(len(daily), 1)
    peak = nice_peak(max([max(d["received"], d["decided"]) for d in daily] or [0]))
    plot_w, plot_h = DAY_W - DAY_LEFT - 8, DAY_H - DAY_TOP - DAY_BOTTOM
    slot = plot_w / n
    base = DAY_TOP + plot_h

    def y(v: int) -> float:
        return round(base - plot_h * v / peak, 1)

    every = 1 if n <= 10 else math.ceil(n / 10)
    days = []
    for i, d in enumerate(daily):
        cx = round(DAY_LEFT + slot * (i + 0.5), 1)
        day = dt.date.fromisoformat(d["day"])
        days.append({"x": round(cx - slot * 0.3, 1), "w": round(slot * 0.6, 1), "cx": cx, "y": y(d["received"]),
                     "h": round(base - y(d["received"]), 1), "dy": y(d["decided"]), "received": d["received"],
                     "decided": d["decided"], "day": d["day"],
                     "label": f"{day.month}/{day.day}" if i % every == 0 else ""})  # fmt: skip
    ticks = [{"y": y(v), "label": str(v)} for v in tick_values(peak)]
    return {"width": DAY_W, "height": DAY_H, "left": DAY_LEFT, "right": DAY_W - 8, "base": base, "top": DAY_TOP,
            "days": days, "ticks": ticks, "line": " ".join(f"{d['cx']},{d['dy']}" for d in days)}  # fmt: skip


def _url(path: str, kind: str, at: dt.date) -> str:
    return f"{path}?{urlencode({'period': kind, 'at': at.isoformat()})}"


@router.get(PAGE)
async def reports_page(
    request: Request, db: DbSession, period: str = "month", at: str = "", principal: Principal = Reporter
) -> Response:
    """The weekly or monthly complaints report with charts, risk points and export links."""
    settings = settings_of(request)
    tz = settings.timezone
    today = stats.local_day(clock.now(), tz)
    error = None
    kind = period if period in KINDS else "month"
    try:
        if period not in KINDS:
            raise ValueError("Choose the period week or month.")
        chosen = stats.period_for(kind, stats.parse_at(at, today=today))
    except ValueError as exc:
        error = str(exc)
        chosen = stats.period_for(kind, today)
    locale = locale_of(request, principal)
    report = await stats.report(db, period=chosen, settings=settings, locale=locale)
    before, after = stats.previous(chosen), stats.following(chosen)
    ctx = {
        "report": report, "period": chosen, "kind": kind, "kinds": KINDS, "at": chosen.start.isoformat(),
        "error": error, "tiles": [tile(name, better, report) for name, better in TILES],
        "charts": {dim: bar_chart(report.breakdowns[dim]) for dim in CHART_DIMS},
        "daily": daily_chart(report.daily), "table_dims": TABLE_DIMS, "chart_dims": CHART_DIMS, "show": show,
        "prev_url": _url(PAGE, kind, before.start), "next_url": _url(PAGE, kind, after.start),
        "is_current": chosen.start <= today <= chosen.end,
        "current_urls": {k: _url(PAGE, k, today) for k in KINDS},
        "csv_url": _url(EXPORT + ".csv", kind, chosen.start), "xlsx_url": _url(EXPORT + ".xlsx", kind, chosen.start),
    }  # fmt: skip
    return render(request, "complaint_reports.html", ctx, principal=principal, status_code=422 if error else 200)
