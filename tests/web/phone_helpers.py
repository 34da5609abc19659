"""Helpers of the phone desk, wallboard, contact and follow-up page tests: a routing configuration (a
queue, a department, IVR routes, agents' skills, the wrap-up categories) and calls driven through the
JSON API the pages' scripts use. Every person and number is generated."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from httpx import AsyncClient

from kefu.contacts import demo as contacts_demo
from kefu.core import clock, runtime
from kefu.routing import config_service
from tests.factories import raw_rows

HOTLINE = "400-000-0000"


async def setup_routing(rt: runtime.Runtime, *agents: Any) -> None:
    """Queue ``general`` (skill general), department ``card_backoffice``, IVR routes, skills, categories."""
    async with rt.db.transaction() as s:
        await config_service.create_queue(s, actor=None, code="general", name="综合业务", skills=["general"])
        await config_service.create_queue(s, actor=None, code="card_backoffice", name="卡部后台", skills=["cards"],
                                          is_department=True)  # fmt: skip
        await config_service.create_ivr_route(s, actor=None, dialled_number=HOTLINE, ivr_prefix="",
                                              queue_code="general", label="未选择 / no choice")  # fmt: skip
        await config_service.create_ivr_route(s, actor=None, dialled_number=HOTLINE, ivr_prefix="2",
                                              queue_code="general", label="2 储蓄 / savings")  # fmt: skip
        await config_service.create_ivr_route(s, actor=None, dialled_number="*", ivr_prefix="", queue_code="general",
                                              label="其他号码 / any other number")  # fmt: skip
        for agent in agents:
            await config_service.set_skills(s, actor=None, staff_id=agent.id, skills={"general": 5})
        await contacts_demo.seed_categories(s)


async def leaf_category(rt: runtime.Runtime, code: str = "account.balance") -> int:
    rows = await raw_rows(rt, "SELECT id FROM wrapup_categories WHERE code = :c", c=code)
    assert rows, f"no category {code}"
    return int(rows[0].id)


def h(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token}


async def go_ready(client: AsyncClient, token: str) -> None:
    r = await client.post("/api/v1/desk/presence", json={"presence": "ready"}, headers=h(token))
    assert r.status_code == 200, r.text


async def simulate(client: AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/cti/simulate", json=body, headers=h(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def answered_call(client: AsyncClient, token: str, **body: Any) -> int:
    """Ready, a simulated call that rings here, answered. Returns the contact id."""
    await go_ready(client, token)
    answer = await simulate(client, token, **body)
    assert answer["action"] == "route", answer
    cid = int(answer["contact_id"])
    r = await client.post(f"/api/v1/desk/contacts/{cid}/accept", headers=h(token))
    assert r.status_code == 204, r.text
    return cid


async def finished_call(
    rt: runtime.Runtime, client: AsyncClient, token: str, *, summary: str = "客户查询余额，已告知", result: str = "resolved",
    follow_up: dict[str, Any] | None = None, **body: Any,
) -> int:  # fmt: skip
    """A call answered, hung up and wrapped up through the API; the agent stays in wrap-up-free state."""
    cid = await answered_call(client, token, **body)
    r = await client.post(f"/api/v1/desk/contacts/{cid}/hangup", headers=h(token))
    assert r.status_code == 204, r.text
    payload: dict[str, Any] = {"category_id": await leaf_category(rt), "summary": summary, "result": result}
    if follow_up is not None:
        payload["follow_up"] = follow_up
    r = await client.post(f"/api/v1/contacts/{cid}/wrapup", json=payload, headers=h(token))
    assert r.status_code == 201, r.text
    return cid


def due_in(hours: float) -> str:
    return (clock.now() + dt.timedelta(hours=hours)).isoformat()


def section(html: str, name: str) -> str:
    """The HTML of one data-section of the phone desk (up to the next section)."""
    m = re.search(rf'data-section="{re.escape(name)}".*?(?=data-section="|\Z)', html, re.S)
    assert m, f"no section {name}"
    return m.group(0)
