"""The complaints reports page (/complaints/reports; issue 6 §5–6, R5.5 weekly / monthly reports with
charts, R5.7 risk points) through httpx: who may open it, the figures of the fixed data set in the tiles,
charts that carry a title, a description and a data table, the period picker, and export links that
download with the page's session. Generated data only."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from kefu.core import clock
from tests.complaints import stats_data as data
from tests.factories import make_staff
from tests.web.helpers import web_login

PAGE = "/complaints/reports"


@pytest.fixture
def now() -> Iterator[None]:
    clock.freeze(data.NOW)
    yield
    clock.freeze(None)


async def as_user(client: Any, staff: Any) -> None:
    client.cookies.clear()
    await web_login(client, staff)


def tile(html: str, name: str) -> str:
    m = re.search(rf'data-tile="{name}">.*?<span class="value" data-value>([^<]*)</span>', html, re.S)
    assert m, f"no tile {name}"
    return m.group(1)


def row(html: str, table: str, key: str) -> dict[str, str]:
    section = html.split(f'data-table="{table}"', 1)[1].split("</table>", 1)[0]
    m = re.search(rf'<tr data-row="{key}">(.*?)</tr>', section, re.S)
    assert m, f"no row {key} in {table}"
    return dict(re.findall(r'data-col="(\w+)">([^<]*)<', m.group(1)))


def hrefs(html: str, attr: str) -> str:
    m = re.search(rf'href="([^"]+)"[^>]*{attr}', html)
    assert m, attr
    return m.group(1).replace("&amp;", "&")


async def test_handler_sees_the_monthly_report_with_charts_and_tables(rt, client, now):
    """R5.5: monthly statistics with charts (by category, business line, root cause; received vs decided
    per day), completion and on-time rates; R5.7: the risk points."""
    await data.seed(rt)
    handler = await make_staff(rt, roles=["complaint_handler"])
    await as_user(client, handler)
    page = await client.get(PAGE, params={"period": "month", "at": "2026-11-05"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-period="2026-11"' in html
    assert (tile(html, "received"), tile(html, "completion_rate"), tile(html, "on_time_rate")) == (
        "11",
        "66.7%",
        "66.7%",
    )
    assert (tile(html, "avg_days_to_decision"), tile(html, "reopen_rate"), tile(html, "open_now")) == (
        "12.2",
        "33.3%",
        "6",
    )
    received = html.split('data-tile="received"', 1)[1].split("</li>", 1)[0]
    assert 'data-delta="up"' in received
    assert 'data-change="+5"' in received
    assert 'data-previous="6"' in received
    assert "cr-tone-bad" in html.split('data-tile="received"')[0][-80:]
    completion = html.split('data-tile="completion_rate"', 1)[1].split("</li>", 1)[0]
    assert 'data-change="+6.7"' in completion
    assert 'data-previous="60.0%"' in completion
    for chart in ("daily", "category", "business_line", "root_cause"):
        svg = html.split(f'data-chart="{chart}"', 1)[1].split("</svg>", 1)[0]
        assert "<title" in svg, chart
        assert "<desc" in svg, chart
        assert f'aria-labelledby="cr-{chart}-t cr-{chart}-d"' in html
    daily = html.split('data-chart="daily"', 1)[1].split("</svg>", 1)[0]
    assert daily.count('class="cr-received"') == 30
    assert 'data-day="2026-11-13" data-received="2"' in daily
    assert row(html, "business_line", "credit_cards") == {"received": "3", "accepted": "3", "completion": "66.7%",
                                                          "decided": "3", "on_time": "66.7%", "avg_days": "11.3"}  # fmt: skip
    assert row(html, "category", "general.advice")["completion"] == "—"
    assert row(html, "root_cause", "fee_policy")["decided"] == "4"
    for table in ("top_category", "channel", "responsible_party", "daily"):
        assert f'data-table="{table}"' in html
    risk = html.split('data-risk="fee_policy"', 1)[1].split("</tr>", 1)[0]
    assert 'data-col="count">4<' in risk
    assert 'data-trend="up"' in risk
    assert 'data-line="credit_cards"' in risk
    assert "收费政策" in html
    assert "信用卡" in html


async def test_export_links_download_with_the_session(rt, client, now):
    """Issue 6 §5: CSV / XLSX export of the report shown."""
    await data.seed(rt)
    supervisor = await make_staff(rt, roles=["supervisor"])
    await as_user(client, supervisor)
    html = (await client.get(PAGE, params={"period": "week", "at": "2026-11-25"})).text
    assert 'data-period="2026-W48"' in html
    csv_url, xlsx_url = hrefs(html, 'data-export="csv"'), hrefs(html, 'data-export="xlsx"')
    assert csv_url == "/api/v1/complaints/reports/export.csv?period=week&at=2026-11-23"
    r = await client.get(csv_url)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["received"] == [x[0] for x in rows if x and x[0] == "received"]
    assert next(x for x in rows if x and x[0] == "received")[2:4] == ["1", "1"]
    r = await client.get(xlsx_url)
    assert r.status_code == 200
    assert r.content[:2] == b"PK"  # a zip: the XLSX package
    assert r.headers["content-disposition"].endswith('filename="complaints-week-2026-W48.xlsx"')


async def test_period_picker_and_browsing(rt, client, now):
    handler = await make_staff(rt, roles=["complaint_handler"])
    await as_user(client, handler)
    html = (await client.get(PAGE, params={"period": "month", "at": "2026-11"})).text
    assert hrefs(html, "data-nav-prev") == f"{PAGE}?period=month&at=2026-10-01"
    assert hrefs(html, "data-nav-next") == f"{PAGE}?period=month&at=2026-12-01"
    assert hrefs(html, "data-nav-current") == f"{PAGE}?period=month&at=2026-12-02"  # the clock is on 2 December
    assert '<option value="month" selected>' in html
    assert 'name="at" type="date" value="2026-11-01"' in html
    # the default is this month; an empty period has no rates, shown as a dash, and no risk points
    html = (await client.get(PAGE)).text
    assert 'data-period="2026-12"' in html
    assert "data-nav-current" not in html
    assert tile(html, "completion_rate") == "—"
    assert "data-risk=" not in html
    # a bad day re-renders the page (current period) with the message, never a 500
    bad = await client.get(PAGE, params={"period": "month", "at": "2026-13-01"})
    assert bad.status_code == 422
    assert 'class="alert alert-error"' in bad.text
    assert "2026-W48" in bad.text
    assert 'data-period="2026-12"' in bad.text
    odd = await client.get(PAGE, params={"period": "year"})
    assert odd.status_code == 422
    assert 'data-period="2026-12"' in odd.text


async def test_agents_may_not_open_the_reports(rt, client):
    """R5.5 reports go to management: COMPLAINT_REPORT (handlers, supervisors, QA, auditors), not agents."""
    r = await client.get(PAGE)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcomplaints%2Freports"
    agent = await make_staff(rt, roles=["agent"])
    await as_user(client, agent)
    assert (await client.get(PAGE)).status_code == 403
    assert (await client.get("/api/v1/complaints/reports/export.csv")).status_code == 403
    auditor = await make_staff(rt, roles=["auditor"])
    await as_user(client, auditor)
    assert (await client.get(PAGE)).status_code == 200
