"""Complaint statistics on a fixed data set (tests/complaints/stats_data.py): every figure of the monthly
and weekly reports, breakdowns, the daily series and the risk points, with cases on the edges of the
periods in Asia/Shanghai time. Issue 6 §5 / R5.5 (classification, completion rates, weekly and monthly
reports) and R5.7 (recurring root causes as risk points). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kefu.complaints import stats
from kefu.core import clock
from tests.complaints import stats_data as data

NOV = stats.period_for("month", dt.date(2026, 11, 15))


@pytest.fixture
def now() -> Iterator[dt.datetime]:
    clock.freeze(data.NOW)
    yield data.NOW
    clock.freeze(None)


async def _report(rt: Any, period: stats.Period, locale: str = "zh-Hans") -> stats.Report:
    async with rt.db.transaction() as s:
        return await stats.report(s, period=period, settings=rt.settings, locale=locale)


def _rows(report: stats.Report, dim: str) -> list[tuple[Any, ...]]:
    cols = ("key", "count", "received", "accepted", "completed", "completion", "decided", "decided_on_time",
            "on_time", "avg_days")  # fmt: skip
    return [tuple(r[c] for c in cols) for r in report.breakdowns[dim]]


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    """R5.5: weekly statistics (ISO week Monday–Sunday) and monthly statistics (calendar month)."""
    week = stats.period_for("week", dt.date(2026, 11, 25))
    assert (week.start, week.end, week.label, week.days) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
        "2026-W48",
        7,
    )
    assert stats.previous(week) == stats.Period("week", dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert stats.following(week).start == dt.date(2026, 11, 30)
    first_week = stats.period_for("week", dt.date(2027, 1, 1))  # a Friday: its ISO week starts in 2026
    assert (first_week.start, first_week.label) == (dt.date(2026, 12, 28), "2026-W53")
    assert (NOV.start, NOV.end, NOV.label) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026-11")
    assert stats.previous(stats.period_for("month", dt.date(2026, 3, 31))) == stats.Period(
        "month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    )
    assert stats.previous(stats.period_for("month", dt.date(2026, 1, 9))).label == "2025-12"
    assert stats.following(NOV).label == "2026-12"
    custom = stats.custom_period(dt.date(2026, 11, 10), dt.date(2026, 11, 19))
    assert stats.previous(custom) == stats.Period("custom", dt.date(2026, 10, 31), dt.date(2026, 11, 9))
    # the bounds are local midnights (UTC+8), half open
    lo, hi = NOV.bounds("Asia/Shanghai")
    assert (lo, hi) == (dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC), dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC))


def test_period_parsing_names_what_to_write() -> None:
    today = dt.date(2026, 11, 23)
    assert stats.parse_at("", today=today) == today
    assert stats.parse_at("2026-11", today=today) == dt.date(2026, 11, 1)
    assert stats.parse_at("2026-11-25", today=today) == dt.date(2026, 11, 25)
    assert stats.parse_at("2026-W48", today=today) == dt.date(2026, 11, 23)
    for bad in ("2026-13", "2026-02-30", "2026-W60", "yesterday", "1999-12-31", "2026/11/01"):
        with pytest.raises(ValueError, match=r"2026-11|between"):
            stats.parse_at(bad, today=today)
    with pytest.raises(ValueError, match="end day"):
        stats.custom_period(dt.date(2026, 11, 2), dt.date(2026, 11, 1))
    with pytest.raises(ValueError, match="366"):
        stats.custom_period(dt.date(2025, 1, 1), dt.date(2026, 1, 2))
    with pytest.raises(ValueError, match="week or month"):
        stats.period_for("year", today)


async def test_monthly_totals_follow_the_cohort_rules(rt, now):
    """R5.5 / issue 6 §5: counts, completion rate, on-time rate, average days to decision and reopen
    rate of November 2026, October beside it. Edges: a case received at 00:00:00 on 1 November counts in
    November and one at 23:59:59 on 31 October in October (local time, not UTC); a decision at exactly
    00:00 on 1 December is December's and does not complete a November acceptance; merged duplicates
    are left out of the accepted cohort; a reopen at 23:59:59 on 31 October is October's."""
    await data.seed(rt)
    report = await _report(rt, NOV)
    assert report.totals == data.NOVEMBER
    assert report.previous_totals == data.OCTOBER
    assert report.previous_period == stats.Period("month", dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    december = await _report(rt, stats.following(NOV))
    assert (december.totals["received"], december.totals["decided"], december.totals["decided_on_time"]) == (1, 1, 0)
    assert december.totals["completion_rate"] is None  # nothing accepted: no rate rather than 0 %
    assert december.totals["reopen_rate"] is None


async def test_weekly_totals_split_at_monday_midnight(rt, now):
    """R5.5: weekly statistics. A case received on Sunday 22 November 23:30 belongs to week 47, one at
    Monday 23 November 00:00 to week 48."""
    await data.seed(rt)
    report = await _report(rt, stats.period_for("week", dt.date(2026, 11, 23)))
    t, p = report.totals, report.previous_totals
    assert (t["received"], t["major"], t["escalation_risk"], t["decided"], t["on_time_rate"], t["open_now"]) == (
        1, 1, 1, 0, None, 5)  # fmt: skip
    assert (p["received"], p["major"], p["decided"], p["on_time_rate"], p["avg_days_to_decision"], p["breached"],
            p["open_now"]) == (1, 1, 1, 0.0, 17.0, 2, 4)  # fmt: skip
    assert [d["received"] for d in report.daily] == [1, 0, 0, 0, 0, 0, 0]
    assert report.daily[0]["day"] == "2026-11-23"


async def test_breakdowns_by_category_business_line_channel(rt, now):
    """R5.5: classification by category (quality, service, general, emergency and their leaves), by
    business line and by channel; each row with its completion and on-time rates and average days.
    Rows are sorted by count (most first), then code."""
    await data.seed(rt)
    report = await _report(rt, NOV)
    # key, count, received, accepted, completed, completion, decided, on time, on-time rate, avg days
    assert _rows(report, "top_category") == [
        ("service", 4, 4, 2, 1, 0.5, 2, 2, 1.0, 5.0),
        ("quality", 3, 3, 4, 3, 0.75, 4, 2, 0.5, 15.8),
        ("emergency", 2, 2, 0, 0, None, 0, 0, None, None),
        ("general", 2, 2, 0, 0, None, 0, 0, None, None),
    ]
    assert _rows(report, "category") == [
        ("quality.fee", 3, 3, 4, 3, 0.75, 4, 2, 0.5, 15.8),
        ("emergency.fraud", 2, 2, 0, 0, None, 0, 0, None, None),
        ("service.wait", 2, 2, 1, 0, 0.0, 0, 0, None, None),
        ("general.advice", 1, 1, 0, 0, None, 0, 0, None, None),
        ("general.policy", 1, 1, 0, 0, None, 0, 0, None, None),
        ("service.attitude", 1, 1, 1, 1, 1.0, 2, 2, 1.0, 5.0),
        ("service.error", 1, 1, 0, 0, None, 0, 0, None, None),
    ]
    assert _rows(report, "business_line") == [
        ("cards", 3, 3, 2, 1, 0.5, 2, 2, 1.0, 5.0),
        ("credit_cards", 3, 3, 3, 2, 0.6667, 3, 2, 0.6667, 11.3),
        ("ebanking", 3, 3, 0, 0, None, 0, 0, None, None),
        ("accounts", 1, 1, 0, 0, None, 0, 0, None, None),
        ("transfers", 1, 1, 1, 1, 1.0, 1, 0, 0.0, 29.0),
    ]
    assert _rows(report, "channel") == [
        ("phone", 7, 7, 4, 2, 0.5, 4, 4, 1.0, 6.8),
        ("email", 1, 1, 0, 0, None, 0, 0, None, None),
        ("form", 1, 1, 1, 1, 1.0, 1, 0, 0.0, 17.0),
        ("letter", 1, 1, 0, 0, None, 0, 0, None, None),
        ("regulator", 1, 1, 0, 0, None, 0, 0, None, None),
        ("chat", 0, 0, 1, 1, 1.0, 1, 0, 0.0, 29.0),
    ]
    labels = {r["key"]: r["label"] for r in report.breakdowns["category"]}
    assert (labels["quality.fee"], labels["service.wait"]) == ("收费定价", "等候时间")
    top = {r["key"]: r["label"] for r in report.breakdowns["top_category"]}
    assert top["emergency"] == "紧急类"


async def test_root_cause_and_responsible_party_count_decided_cases(rt, now):
    """R5.3 / R5.5: root causes and responsible parties are final when a case is decided, so these
    breakdowns count the cases decided in the period; cases without findings form the unset row."""
    await data.seed(rt)
    report = await _report(rt, NOV, locale="en")
    assert _rows(report, "root_cause") == [
        ("fee_policy", 4, 3, 4, 3, 0.75, 4, 2, 0.5, 15.8),
        ("staff_attitude", 2, 1, 1, 1, 1.0, 2, 2, 1.0, 5.0),
        (None, 0, 7, 1, 0, 0.0, 0, 0, None, None),
    ]
    assert _rows(report, "responsible_party") == [
        ("product_dept", 3, 3, 3, 2, 0.6667, 3, 2, 0.6667, 11.3),
        ("service_center", 2, 1, 1, 1, 1.0, 2, 2, 1.0, 5.0),
        ("it", 1, 0, 1, 1, 1.0, 1, 0, 0.0, 29.0),
        (None, 0, 7, 1, 0, 0.0, 0, 0, None, None),
    ]
    assert report.breakdowns["root_cause"][0]["label"] == "Fee policy"  # labels in the asked locale


async def test_daily_series_buckets_by_local_day(rt, now):
    """Issue 6 §5 (charts): received and decided per local day. c5 arrived at 07:00 on 13 November,
    still 12 November in UTC: it counts on the 13th."""
    await data.seed(rt)
    report = await _report(rt, NOV)
    assert len(report.daily) == 30
    received = {d["day"][-5:]: d["received"] for d in report.daily if d["received"]}
    decided = {d["day"][-5:]: d["decided"] for d in report.daily if d["decided"]}
    assert received == {"11-01": 1, "11-02": 1, "11-03": 1, "11-05": 1, "11-10": 1, "11-13": 2, "11-14": 1,
                        "11-22": 1, "11-23": 1, "11-30": 1}  # fmt: skip
    assert decided == {"11-02": 1, "11-04": 1, "11-09": 1, "11-10": 1, "11-20": 1, "11-30": 1}
    assert sum(d["received"] for d in report.daily) == report.totals["received"]
    assert sum(d["decided"] for d in report.daily) == report.totals["decided"]


async def test_recurring_root_causes_are_risk_points(rt, now):
    """R5.7 (S1 §6(四) prevention: periodic analysis of risk points): root causes with at least
    complaint_risk_min_count cases decided in the period, the previous period's count and the trend,
    and the business lines they concentrate in."""
    await data.seed(rt)
    assert rt.settings.complaint_risk_min_count == 3
    report = await _report(rt, NOV)
    assert report.risk_min_count == 3
    assert [(p["key"], p["count"], p["previous"], p["change"], p["trend"]) for p in report.risk_points] == [
        ("fee_policy", 4, 1, 3, "up")
    ]
    lines = report.risk_points[0]["business_lines"]
    assert [(b["key"], b["count"], b["share"]) for b in lines] == [("credit_cards", 3, 0.75), ("transfers", 1, 0.25)]
    assert report.risk_points[0]["label"] == "收费政策"

    rt.settings.complaint_risk_min_count = 2
    report = await _report(rt, NOV)
    assert [(p["key"], p["count"], p["previous"], p["trend"]) for p in report.risk_points] == [
        ("fee_policy", 4, 1, "up"), ("staff_attitude", 2, 2, "same")]  # fmt: skip
    october = await _report(rt, stats.previous(NOV))
    assert [(p["key"], p["count"], p["previous"], p["trend"]) for p in october.risk_points] == [
        ("staff_attitude", 2, 0, "new")]  # fmt: skip
    assert october.risk_points[0]["business_lines"] == [{"key": "cards", "label": "借记卡", "count": 2, "share": 1.0}]


async def test_empty_period_has_zeros_and_no_rates(rt, now):
    report = await _report(rt, stats.period_for("week", dt.date(2026, 11, 23)))
    assert report.totals["received"] == 0
    assert all(report.totals[k] is None for k in ("completion_rate", "on_time_rate", "avg_days_to_decision",
                                                   "reopen_rate"))  # fmt: skip
    assert all(not rows for rows in report.breakdowns.values())
    assert report.risk_points == []
    assert [d["received"] for d in report.daily] == [0] * 7
    as_json = report.to_dict()
    assert as_json["period"] == {"kind": "week", "label": "2026-W48", "start": "2026-11-23", "end": "2026-11-29",
                                 "days": 7}  # fmt: skip


def test_rates_round_half_up() -> None:
    assert stats.rate(2, 3) == 0.6667
    assert stats.rate(1, 8) == 0.125
    assert stats.rate(1, 0) is None
    assert stats.average(63, 4) == 15.8  # 15.75: half up, not to even
    assert stats.average(5, 2) == 2.5
    assert stats.delta("rate", 0.6667, 0.6) == 0.0667
    assert stats.delta("count", 11, 6) == 5
    assert stats.delta("days", 12.2, 13.7) == -1.5
    assert stats.delta("rate", None, 0.5) is None
