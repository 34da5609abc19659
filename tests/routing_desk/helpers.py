"""Helpers for the desk, CTI and live-channel tests: a small center with queues, agents and a CTI key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

from kefu.contacts import demo as contacts_demo
from kefu.core import clock, runtime
from kefu.routing import config_service
from kefu.staff import auth as staff_auth
from tests.factories import auth_headers, make_staff, make_team

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@dataclass
class Center:
    agents: list[Any]
    headers: list[dict[str, str]]
    cti: dict[str, str]
    supervisor: dict[str, str]
    leaf_category: int


async def make_center(rt: runtime.Runtime, client: AsyncClient, *, agents: int = 2) -> Center:
    clock.freeze(T0)
    team = await make_team(rt)
    members = [await make_staff(rt, roles=["agent"], team_id=team) for _ in range(agents)]
    admin = await make_staff(rt, roles=["admin"])
    sup = await make_staff(rt, roles=["supervisor"], team_id=team)
    async with rt.db.transaction() as s:
        await config_service.create_queue(s, actor=None, code="general", name="综合", skills=["general"])
        await config_service.create_queue(s, actor=None, code="cards", name="挂失", skills=["cards"], base_priority=100)
        await config_service.create_queue(s, actor=None, code="card_backoffice", name="卡部", skills=["cards"],
                                          is_department=True)  # fmt: skip
        await config_service.create_ivr_route(s, actor=None, dialled_number="*", ivr_prefix="", queue_code="general")
        await config_service.create_ivr_route(s, actor=None, dialled_number="*", ivr_prefix="1", queue_code="cards",
                                              priority_bonus=50)  # fmt: skip
        for m in members:
            await config_service.set_skills(s, actor=None, staff_id=m.id, skills={"general": 5, "cards": 5})
        await contacts_demo.seed_categories(s)
        key, _ = await staff_auth.create_api_key(
            s, actor=staff_auth.principal_for(admin, kind="api"), name="pbx", scopes=["cti.events"], expires_days=None
        )
    leaf = await first_leaf(client, await auth_headers(client, members[0]))
    return Center(
        agents=members,
        headers=[await auth_headers(client, m) for m in members],
        cti={"X-API-Key": key},
        supervisor=await auth_headers(client, sup),
        leaf_category=leaf,
    )


async def first_leaf(client: AsyncClient, headers: dict[str, str]) -> int:
    r = await client.get("/api/v1/wrapup-categories", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    nodes = body if isinstance(body, list) else body.get("items", body.get("categories", []))

    def walk(items: list[dict[str, Any]]) -> int | None:
        for n in items:
            kids = n.get("children") or []
            if not kids and n.get("active", True):
                return int(n["id"])
            found = walk(kids)
            if found:
                return found
        return None

    leaf = walk(nodes)
    assert leaf, body
    return leaf


async def call(client: AsyncClient, center: Center, call_id: str, **kw: Any) -> dict[str, Any]:
    body = {"event": "call.new", "call_id": call_id, "caller": kw.pop("caller", "13900001111"),
            "dialled": "400-000-0000", **kw}  # fmt: skip
    r = await client.post("/api/v1/cti/events", json=body, headers=center.cti)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def cti(client: AsyncClient, center: Center, event: str, call_id: str, **kw: Any) -> Any:
    return await client.post("/api/v1/cti/events", json={"event": event, "call_id": call_id, **kw}, headers=center.cti)


async def ready(client: AsyncClient, headers: dict[str, str]) -> Any:
    return await client.post("/api/v1/desk/presence", json={"presence": "ready"}, headers=headers)


async def desk(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/v1/desk", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def contact(client: AsyncClient, headers: dict[str, str], contact_id: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/contacts/{contact_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def wrapup(client: AsyncClient, center: Center, headers: dict[str, str], contact_id: int, **kw: Any) -> Any:
    body = {"category_id": center.leaf_category, "summary": kw.pop("summary", "客户咨询挂失流程，已办理"),
            "result": kw.pop("result", "resolved"), **kw}  # fmt: skip
    return await client.post(f"/api/v1/contacts/{contact_id}/wrapup", json=body, headers=headers)
