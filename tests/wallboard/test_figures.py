"""The wallboard's figures from hand-made records: service level today and this half hour, ASA,
abandonment, the half-hour series, the alert flag, channels with chat first replies, follow-ups due and
overdue per scope, complaints near breach per scope."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.complaints import near_breach
from kefu.contacts import stats
from kefu.routing import monitor
from tests.factories import principal_of
from tests.wallboard.helpers import NOW, local


async def _day_figures(rt):
    since, until = monitor.today_bounds(rt.settings)
    async with rt.db.transaction() as s:
        today = await stats.totals(s, since=since, until=until, queue=None, settings=rt.settings)
        half = await stats.day_by_half_hour(s, since=since, until=until, settings=rt.settings)
    return today, half


async def test_service_level_today_and_this_half_hour(rt, day):
    today, half = await _day_figures(rt)
    general = next(q for q in today["queues"] if q["queue"] == "general")
    # today: answered 10 s, 20 s, 5 s (2 within 15 s); abandoned 30 s, 40 s and a short 3 s; one still queued
    assert (general["offered"], general["answered"], general["abandoned"], general["abandoned_short"]) == (7, 3, 3, 1)
    assert general["service_level"] == pytest.approx(2 / (3 + 3 - 1))
    assert general["asa_seconds"] == pytest.approx((10 + 20 + 5) / 3, abs=0.01)
    assert general["abandon_rate"] == pytest.approx((3 - 1) / (7 - 1), abs=1e-4)
    # this half hour (10:00-10:30): answered 5 s; abandoned 40 s and a short 3 s; one queued
    assert half["minutes"] == 30
    assert (half["start"], half["end"]) == (local(10), local(10, 30))
    now = {q["queue"]: q for q in half["queues"]}
    assert (now["general"]["offered"], now["general"]["answered"], now["general"]["abandoned"]) == (4, 1, 2)
    assert now["general"]["service_level"] == pytest.approx(1 / (1 + 2 - 1))
    assert now["general"]["asa_seconds"] == 5.0
    assert now["loans"]["service_level"] == 1.0
    assert half["all"]["offered"] == 5
    assert half["all"]["service_level"] == pytest.approx(2 / (2 + 2 - 1), abs=1e-4)


async def test_half_hour_series_of_the_day(rt, day):
    _, half = await _day_figures(rt)
    series = half["series"]
    assert series[0]["start"] == local(0)
    assert series[-1]["start"] == local(10)
    assert len(series) == 21  # 00:00 … 10:00, empty half hours included
    by = {s["start"]: s for s in series}
    assert {k: by[local(9)][k] for k in ("offered", "answered", "abandoned")} == {"offered": 2, "answered": 2,
                                                                                 "abandoned": 0}  # fmt: skip
    assert by[local(9)]["service_level"] == 0.5
    assert (by[local(9, 30)]["abandoned"], by[local(9, 30)]["service_level"]) == (1, 0.0)
    assert by[local(8)]["offered"] == 0
    assert by[local(8)]["service_level"] is None
    assert by[local(10)]["offered"] == 5


async def test_alert_when_the_service_level_is_under_the_goal(rt, day):
    today, half = await _day_figures(rt)
    alerts = monitor.alerts(today, half)
    assert [a["queue"] for a in alerts] == ["general"]  # loans: 100 %
    assert alerts[0]["below"] == ["interval", "today"]
    assert alerts[0]["goal"] == monitor.SERVICE_LEVEL_GOAL == 0.8
    assert monitor.alerts(today, half, goal=0.3) == []  # 40 % today and 50 % now are above a 30 % goal
    only_interval = monitor.alerts({"queues": []}, half, goal=0.6)
    assert [(a["queue"], a["below"]) for a in only_interval] == [("general", ["interval"])]


async def test_channels_waiting_handled_and_first_replies_per_channel(rt, day):
    since, until = monitor.today_bounds(rt.settings)
    async with rt.db.transaction() as s:
        rows = {r["channel"]: r for r in await stats.channels_today(s, since=since, until=until, settings=rt.settings)}
    assert list(rows) == ["phone", "chat", "email"]
    assert (rows["phone"]["waiting"], rows["phone"]["offered"], rows["phone"]["handled"]) == (1, 8, 4)
    assert (rows["chat"]["waiting"], rows["chat"]["offered"], rows["chat"]["handled"]) == (1, 3, 2)
    assert rows["chat"]["first_response"] == {"target_seconds": 60, "measured": 2, "within": 1, "rate": 0.5}
    assert (rows["email"]["waiting"], rows["email"]["offered"], rows["email"]["handled"]) == (1, 1, 1)
    assert rows["email"]["first_response"] == {"target_seconds": 24 * 3600, "measured": 1, "within": 1, "rate": 1.0}
    assert "first_response" not in rows["phone"]


async def test_follow_ups_due_today_and_overdue_per_scope(rt, day):
    end = monitor.day_end(rt.settings)
    assert end == local(0, day=24).astimezone(dt.UTC)
    now = NOW.astimezone(dt.UTC)
    async with rt.db.transaction() as s:
        center = await stats.follow_ups_due(s, principal=principal_of(day.supervisor), now=now, day_end=end)
        team = await stats.follow_ups_due(s, principal=principal_of(day.lead), now=now, day_end=end)
        mine = await stats.follow_ups_due(s, principal=principal_of(day.agent_b), now=now, day_end=end)
    assert center == {"scope": "all", "due_today": 1, "overdue": 3}
    assert team == {"scope": "team", "due_today": 1, "overdue": 2}
    assert mine == {"scope": "mine", "due_today": 0, "overdue": 1}


async def test_complaints_near_breach_per_scope(rt, day):
    async with rt.db.transaction() as s:
        center = await near_breach.near_breach(s, actor=principal_of(day.supervisor), settings=rt.settings)
        team = await near_breach.near_breach(s, actor=principal_of(day.lead), settings=rt.settings)
        wide = await near_breach.near_breach(s, actor=principal_of(day.supervisor), settings=rt.settings, days=10)
    assert center["days"] == 3  # the largest of complaint_warn_days
    assert {k: center[k] for k in ("total", "breached", "near", "accept", "decision")} == {
        "total": 3, "breached": 1, "near": 2, "accept": 1, "decision": 2}  # fmt: skip
    top = center["top"]
    assert [c["number"] for c in top] == [day.numbers["late"], day.numbers["near"], day.numbers["accept"]]
    assert [c["deadline"] for c in top] == ["decision", "decision", "accept"]
    assert [c["breached"] for c in top] == [True, False, False]
    assert [c["days_left"] for c in top] == [-1, 1, 2]
    assert top[0]["category"] == "quality.fee"
    assert top[0]["handler"]["name"] == "韩处理"
    assert top[2]["handler"] is None
    assert "complainant_name" not in top[0]
    assert "matter" not in top[0]
    # the team lead reads the cases their team registered: the late one came from the other team
    assert (team["total"], team["breached"], [c["number"] for c in team["top"]]) == (
        2, 0, [day.numbers["near"], day.numbers["accept"]])  # fmt: skip
    assert wide["total"] == 4  # the case due in 7 days joins; paused and decided ones never count
    assert near_breach.may_see(principal_of(day.supervisor))
    assert not near_breach.may_see(principal_of(day.planner))
