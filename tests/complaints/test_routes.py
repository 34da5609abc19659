"""HTTP API of complaint cases (/api/v1/complaints): permissions on every route, problem+json errors
(409 for illegal steps, 422 with field errors, 429 from the public form's limit), and the main flows."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from kefu.complaints import router as complaints_router
from kefu.core.auth import iter_routes, route_permissions
from tests.complaints.case_helpers import fresh_phone
from tests.complaints.conftest import People
from tests.factories import auth_headers, make_staff

pytestmark = pytest.mark.usefixtures("frozen")
BASE = "/api/v1/complaints"
PROBLEM = "application/problem+json"


def _intake(**kw: Any) -> dict[str, Any]:
    body = {"channel": "phone", "complainant_name": "测试客户丙", "complainant_phone": fresh_phone(),
            "matter": "网银转账失败但已扣款，要求尽快退回。", "business_line": "ebanking", "category": "quality.system"}  # fmt: skip
    body.update(kw)
    return body


def _public(**kw: Any) -> dict[str, Any]:
    body = {"name": "测试客户丁", "phone": fresh_phone(), "business_line": "cards", "matter": "借记卡被多扣手续费。",
            "consent": True}  # fmt: skip
    body.update(kw)
    return body


def test_every_route_declares_a_permission_or_is_public() -> None:
    for route in iter_routes(complaints_router.router):
        is_public, perms = route_permissions(route)
        assert is_public or perms, route.path
        assert is_public == route.path.endswith("/public"), route.path


async def test_unauthenticated_is_401(client: AsyncClient) -> None:
    for method, path in (
        ("GET", BASE),
        ("GET", f"{BASE}/1"),
        ("POST", f"{BASE}/1/accept"),
        ("GET", f"{BASE}/taxonomy"),
    ):
        r = await client.request(method, path, json={})
        assert r.status_code == 401, path
        assert r.headers["content-type"].startswith(PROBLEM)


async def test_agent_registers_and_reads_only_own(client: AsyncClient, people: People, rt: Any) -> None:
    """Agents register (complaint.intake) and read the cases they registered; they cannot handle them."""
    agent = await auth_headers(client, people.agent)
    r = await client.post(BASE, json=_intake(), headers=agent)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "received"
    assert case["number"].startswith("TS20261123-")
    assert "*" in case["complainant_name"]
    assert "****" in case["complainant_phone"]
    assert case["matter"].startswith("网银转账失败")
    other = await make_staff(rt, roles=["agent"])
    other_h = await auth_headers(client, other)
    theirs = (await client.post(BASE, json=_intake(), headers=other_h)).json()
    page = (await client.get(BASE, params={"scope": "all"}, headers=agent)).json()
    assert [i["id"] for i in page["items"]] == [case["id"]]
    assert page["total"] == 1
    r = await client.get(f"{BASE}/{theirs['id']}", headers=agent)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(f"{BASE}/{case['id']}/accept", json={}, headers=agent)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/{case['id']}/notes", json={"text": "客户来电催办"}, headers=agent)
    assert r.status_code == 201


async def test_intake_validation_is_422_with_fields(client: AsyncClient, people: People) -> None:
    agent = await auth_headers(client, people.agent)
    r = await client.post(BASE, json=_intake(category="nonsense.leaf"), headers=agent)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "category"
    r = await client.post(BASE, json=_intake(complainant_phone=None), headers=agent)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "complainant_phone"
    r = await client.post(BASE, json=_intake(channel="form"), headers=agent)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "channel"


async def test_handler_flow_and_illegal_step_is_409(client: AsyncClient, people: People) -> None:
    """Issue 6: received → accepted (acknowledgement notice, due date) → investigating → findings →
    decided → confirmed → closed; an illegal step is a 409 naming the status and the allowed next steps."""
    agent = await auth_headers(client, people.agent)
    h = await auth_headers(client, people.handler)
    cid = (await client.post(BASE, json=_intake(), headers=agent)).json()["id"]
    inbox = (await client.get(BASE, params={"scope": "unassigned"}, headers=h)).json()
    assert cid in [i["id"] for i in inbox["items"]]
    r = await client.post(f"{BASE}/{cid}/accept", json={}, headers=h)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["clock"]["due_date"] == "2026-12-08"
    assert page["clock"]["colour"] == "ok"
    assert [(n["kind"], n["channel"], n["status"]) for n in page["notices"]] == [("acknowledgement", "sms", "pending")]
    assert page["may"]["handle"]
    assert page["allowed_next"] == ["investigating", "merged"]
    r = await client.post(f"{BASE}/{cid}/transition", json={"to": "closed"}, headers=h)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert "is accepted" in problem["detail"]
    assert problem["allowed"] == ["investigating", "merged"]
    assert (await client.post(f"{BASE}/{cid}/transition", json={"to": "investigating"}, headers=h)).status_code == 200
    r = await client.post(f"{BASE}/{cid}/decide", json={"decision": "退回扣款并致歉"}, headers=h)
    assert r.status_code == 409
    assert "root cause" in r.json()["detail"]
    r = await client.post(f"{BASE}/{cid}/findings", json={"responsible_party": "it", "root_cause": "system_fault"},
                          headers=h)  # fmt: skip
    assert r.status_code == 200
    assert r.json()["root_cause"] == "system_fault"
    assert (
        await client.post(f"{BASE}/{cid}/decide", json={"decision": "退回扣款并致歉"}, headers=h)
    ).status_code == 200
    r = await client.post(f"{BASE}/{cid}/response", json={"response": "confirmed", "satisfaction": 4}, headers=h)
    assert r.status_code == 200
    r = await client.post(f"{BASE}/{cid}/close", json={}, headers=h)
    page = r.json()
    assert page["status"] == "closed"
    assert page["retain_until"] == "2029-11-23"
    assert [n["kind"] for n in page["notices"]] == ["acknowledgement", "decision", "closed"]
    assert [e["kind"] for e in page["timeline"]].count("status") >= 6


async def test_clock_routes_extension_pause_resume_new_facts(client: AsyncClient, people: People) -> None:
    """办法: extension requested by the handler, approved by another person with complaint.approve; pause,
    resume and new facts through the API."""
    agent = await auth_headers(client, people.agent)
    h = await auth_headers(client, people.handler)
    sup = await auth_headers(client, people.supervisor)
    cid = (await client.post(BASE, json=_intake(), headers=agent)).json()["id"]
    await client.post(f"{BASE}/{cid}/accept", json={}, headers=h)
    r = await client.post(f"{BASE}/{cid}/extensions", json={"reason": "需调取多方记录"}, headers=h)
    assert r.status_code == 201
    assert r.json()["level"] == 1
    assert r.json()["status"] == "pending"
    change_id = r.json()["id"]
    listed = (await client.get(f"{BASE}/extensions", headers=sup)).json()
    assert [x["id"] for x in listed] == [change_id]
    r = await client.post(f"{BASE}/extensions/{change_id}/decide", json={"approve": True}, headers=h)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/extensions/{change_id}/decide", json={"approve": True}, headers=sup)
    assert r.status_code == 200
    assert r.json()["clock"]["due_date"] == "2026-12-23"
    r = await client.post(f"{BASE}/{cid}/pause", json={"reason": "送外部机构检测"}, headers=h)
    assert r.json()["clock"]["colour"] == "paused"
    r = await client.post(f"{BASE}/{cid}/resume", headers=h)
    assert r.json()["clock"]["state"] == "running"
    r = await client.post(f"{BASE}/{cid}/new-facts", json={"received_on": "2026-11-30", "summary": "客户补充材料"},
                          headers=h)  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "received_on"
    r = await client.post(f"{BASE}/{cid}/new-facts", json={"received_on": "2026-11-23", "summary": "客户补充材料"},
                          headers=h)  # fmt: skip
    assert r.status_code == 200
    assert r.json()["clock"]["due_date"] == "2026-12-08"
    kinds = [c["kind"] for c in r.json()["clock_changes"]]
    assert kinds == ["start", "extend", "pause", "resume", "restart"]


async def test_patch_merge_reveal_taxonomy(client: AsyncClient, people: People) -> None:
    agent = await auth_headers(client, people.agent)
    h = await auth_headers(client, people.handler)
    a = (await client.post(BASE, json=_intake(), headers=agent)).json()["id"]
    b = (await client.post(BASE, json=_intake(), headers=agent)).json()["id"]
    r = await client.patch(f"{BASE}/{a}", json={"severity": "major"}, headers=h)
    assert r.status_code == 200
    assert r.json()["major"]
    assert r.json()["escalated_at"]
    r = await client.post(f"{BASE}/{b}/merge", json={"into_id": a, "reason": "同一事项重复投诉"}, headers=h)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["merged_cases"]] == [b]
    r = await client.post(f"{BASE}/{a}/reveal", json={"field": "phone", "purpose": "回电核实情况"}, headers=h)
    assert r.status_code == 200
    assert r.json()["value"].isdigit()
    r = await client.post(f"{BASE}/{a}/reveal", json={"field": "phone", "purpose": "回电核实"}, headers=agent)
    assert r.status_code == 403
    tax = (await client.get(f"{BASE}/taxonomy", headers=agent)).json()
    assert {c["code"] for c in tax["categories"]} == {"quality", "service", "general", "emergency"}


async def test_public_form_validation_and_rate_limit(client: AsyncClient, rt: Any) -> None:
    """The public form (R5.1): 201 with the case number; 422 with field errors; more than
    complaint_form_per_hour registered complaints from one address → 429 problem+json (refused posts don't count)."""
    rt.settings.complaint_form_per_hour = 2
    r = await client.post(f"{BASE}/public", json=_public())
    assert r.status_code == 201, r.text
    assert r.json()["number"].startswith("TS20261123-")
    assert r.json()["message"]
    r = await client.post(f"{BASE}/public", json=_public(consent=False))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "consent"
    r = await client.post(f"{BASE}/public", json=_public(name=""))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "name"
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(f"{BASE}/public", json=_public())
    assert r.status_code == 201  # the refused posts above did not use the allowance
    r = await client.post(f"{BASE}/public", json=_public())
    assert r.status_code == 429
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "too_many_requests"


async def _cli(args: list[str], settings: Any) -> Any:
    """Run the CLI in a worker thread (it starts its own event loop and runtime)."""
    import anyio

    return await anyio.to_thread.run_sync(_cli_sync, args, settings)


def _cli_sync(args: list[str], settings: Any) -> Any:
    """``kefu complaints …`` in-process (the lead mounts the group in kefu.cli), restoring the test runtime."""
    import sys

    from typer.testing import CliRunner

    from kefu.complaints.cli import app as complaints_app
    from kefu.core import crypto, runtime
    from kefu.core import logging as kefu_logging
    from kefu.core.config import get_settings
    from tests.factories import cli_env

    previous, ring = runtime._runtime, crypto._keyring
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(complaints_app, args, env=cli_env(settings))
    finally:
        get_settings.cache_clear()
        runtime.install(previous)
        if ring is not None:
            crypto._keyring, crypto._index_key = ring, ring.index_key()
        kefu_logging.configure("WARNING", stream=sys.stderr)


async def test_cli_list_show_sweep_retention(rt: Any, people: People, settings: Any) -> None:
    """``kefu complaints list|show|sweep|retention`` (masked output; retention lists, never deletes)."""
    import datetime as dt

    from tests.complaints.case_helpers import register
    from tests.complaints.conftest import complaint_row

    c = await register(rt, people.agent, complainant_name="测试客户戊")
    async with rt.db.transaction() as s:
        old = await complaint_row(s, status="closed", retain_until=dt.date(2026, 1, 1))
    r = await _cli(["list", "--json"], settings)
    assert r.exit_code == 0, r.output
    assert c.number in r.output
    assert "测***戊" in r.output
    assert "测试客户戊" not in r.output
    r = await _cli(["list"], settings)  # the table names the handler by staff number and the category by label
    assert r.exit_code == 0, r.output
    assert "测***戊" in r.output
    assert "测试客户戊" not in r.output
    r = await _cli(["show", str(c.number)], settings)
    assert r.exit_code == 0
    assert '"status": "received"' in r.output
    assert "测试客户戊" not in r.output
    assert (await _cli(["show", "TS19990101-000000"], settings)).exit_code == 1
    r = await _cli(["retention"], settings)
    assert r.exit_code == 0
    assert old.number in r.output
    assert c.number not in r.output
    r = await _cli(["sweep"], settings)
    assert r.exit_code == 0, r.output
