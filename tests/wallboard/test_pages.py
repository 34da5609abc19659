"""/wallboard, /wallboard/panels and GET /api/v1/routing/live on the same day of records: the JSON
shape (old keys kept, new figures added), the page for a supervisor and a team lead (scoped figures),
no complaint figures for a role without complaint.read, the alert banner, the inline SVG chart."""

from __future__ import annotations

import re

from kefu.web import wallboard_pages
from tests.web.helpers import web_login
from tests.web.phone_helpers import setup_routing

OLD_KEYS = {"at", "answer_target_seconds", "answer_within_rings", "queues", "agents", "today", "agent_totals"}
NEW_KEYS = {"service_level_goal", "interval", "series", "alerts", "channels", "follow_ups"}


def _section(html: str, attr: str) -> str:
    m = re.search(rf"<[^>]*{attr}[^>]*>.*?</(div|table|section)>", html, re.S)
    assert m, attr
    return m.group(0)


async def test_live_json_keeps_its_keys_and_adds_the_new_figures(rt, client, day):
    await setup_routing(rt)
    await web_login(client, day.supervisor)
    r = await client.get("/api/v1/routing/live")
    assert r.status_code == 200, r.text
    live = r.json()
    assert OLD_KEYS | NEW_KEYS | {"complaints"} <= set(live)
    assert live["service_level_goal"] == 0.8
    assert {"since", "until", "queues", "all"} <= set(live["today"])
    assert set(live["interval"]) == {"minutes", "start", "end", "queues", "all"}
    assert live["interval"]["start"].startswith("2026-11-23T10:00:00")
    assert len(live["series"]) == 21
    assert set(live["series"][0]) == {"start", "end", "offered", "answered", "abandoned", "service_level"}
    assert live["alerts"][0]["queue"] == "general"
    assert [c["channel"] for c in live["channels"]] == ["phone", "chat", "email"]
    assert live["follow_ups"] == {"scope": "all", "due_today": 1, "overdue": 3}
    assert live["messages_awaiting"] == {"sms": 0, "wechat": 0}  # SMS / WeChat nobody has answered
    assert set(live["complaints"]) == {"days", "total", "breached", "near", "accept", "decision", "top"}
    assert set(live["complaints"]["top"][0]) == {"id", "number", "category", "deadline", "due_at", "days_left",
                                                 "breached", "handler"}  # fmt: skip


async def test_supervisor_page_shows_alerts_chart_channels_and_backlog(rt, client, day):
    await setup_routing(rt)
    await web_login(client, day.supervisor)
    page = await client.get("/wallboard")
    assert page.status_code == 200, page.text
    html = page.text
    assert "/static/wallboard.css" in html
    row = re.search(r'<tr data-queue="general">.*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert re.search(r'data-field="interval_service_level">50.0%<', row)
    assert "below-target" in row
    alert = _section(html, 'data-alert="general"')
    assert "wall-alert-label" in alert
    assert "50.0%" in alert
    assert "40.0%" in alert
    assert "data-alert-live" in html
    assert 'aria-live="assertive"' in html
    svg = re.search(r"<svg viewBox[^>]*wall-chart-svg.*?</svg>", html, re.S).group(0)  # type: ignore[union-attr]
    assert 'role="img"' in svg
    assert "<desc" in svg
    assert svg.count('class="bar bar-offered"') == 3  # 09:00, 09:30, 10:00 had calls
    assert 'class="sl-line"' in svg
    assert 'class="goal"' in svg
    chat = re.search(r'<tr data-channel="chat">.*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "50.0%" in chat
    assert "(1/2)" in chat
    assert re.search(r'data-figure="follow_ups_overdue">3<', html)
    assert re.search(r'data-figure="complaints_breached">1<', html)
    assert day.numbers["late"] in html
    assert "韩处理" in html
    assert "测试投诉人" not in html  # no complainant data on the board


async def test_team_lead_sees_their_teams_figures(rt, client, day):
    await setup_routing(rt)
    await web_login(client, day.lead)
    page = await client.get("/wallboard")
    assert page.status_code == 200, page.text
    assert re.search(r'data-figure="follow_ups_overdue">2<', page.text)
    assert re.search(r'data-figure="complaints_breached">0<', page.text)
    assert day.numbers["late"] not in page.text
    assert day.numbers["near"] in page.text
    live = (await client.get("/api/v1/routing/live")).json()
    assert live["follow_ups"]["scope"] == "team"
    assert live["complaints"]["total"] == 2


async def test_no_complaint_figures_without_complaint_read(rt, client, day):
    await setup_routing(rt)
    await web_login(client, day.planner)  # wfm_planner: routing.monitor, no complaint.read
    page = await client.get("/wallboard")
    assert page.status_code == 200, page.text
    assert "data-complaints" not in page.text
    assert day.numbers["near"] not in page.text
    assert "data-follow-ups" in page.text
    live = (await client.get("/api/v1/routing/live")).json()
    assert "complaints" not in live
    panels = await client.get("/wallboard/panels")
    assert panels.status_code == 200
    assert "data-complaints" not in panels.text


async def test_panels_fragment_and_who_may_fetch_it(rt, client, day):
    await setup_routing(rt)
    await web_login(client, day.supervisor)
    r = await client.get("/wallboard/panels")
    assert r.status_code == 200
    assert r.headers["cache-control"].startswith("no-store")
    assert "<svg" in r.text
    assert "data-panels" in r.text
    assert "<html" not in r.text  # a fragment, not a page
    assert 'data-messages-awaiting="0"' in r.text
    assert 'href="/messages"' in r.text
    client.cookies.clear()
    await web_login(client, day.agent_a)
    assert (await client.get("/wallboard/panels")).status_code == 403


def test_chart_geometry():
    def slot(h, m, offered=0, answered=0, abandoned=0, sl=None):
        return {"start": None, "end": None, "offered": offered, "answered": answered, "abandoned": abandoned,
                "service_level": sl}  # fmt: skip

    series = [slot(h, m) for h in range(0, 9) for m in (0, 30)]
    series += [slot(9, 0, 10, 9, 1, 0.9), slot(9, 30, 4, 2, 2, 0.5), slot(10, 0)]
    c = wallboard_pages.chart(series)
    assert len(c["slots"]) == 16  # at least the last 8 hours
    assert c["max"] == 10
    nine = c["slots"][-3]
    offered = nine["bars"][0]
    assert offered["h"] == round(c["base"] - c["top"], 1)  # the tallest bar fills the plot
    assert [p["below"] for p in c["points"]] == [False, True]
    assert c["line"].startswith("M")
    assert " L" in c["line"]
    assert not c["empty"]
    assert wallboard_pages.chart([slot(0, 0)])["empty"]
