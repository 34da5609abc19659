"""/api/v1/routing: permissions per role, problem+json errors, 404 for unknown codes and ids."""

from __future__ import annotations

import re

from kefu.core.auth import route_permissions
from kefu.core.permissions import MATRIX, Permission, Role
from tests.factories import api_routes, auth_headers, make_staff
from tests.routing_config.helpers import BASE

PROBLEM = "application/problem+json"
CREDIT = {"code": "credit_cards", "name": "信用卡", "skills": ["credit_cards"], "min_proficiency": 5,
          "widen_after_s": 30, "overflow_after_s": 60, "overflow_queue": "general"}  # fmt: skip


async def _headers(rt, client, *roles):
    staff = await make_staff(rt, roles=list(roles))
    return staff, await auth_headers(client, staff)


def _problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert (body["code"], body["status"]) == (code, status), body
    assert body["detail"], body
    return body


async def test_supervisor_configures_agent_may_not(rt, client):
    _, sup = await _headers(rt, client, "supervisor")
    _, agent = await _headers(rt, client, "agent")
    r = await client.post(
        f"{BASE}/queues", headers=agent, json={"code": "general", "name": "综合", "skills": ["general"]}
    )
    assert _problem(r, 403, "permission_denied")["required"] == [Permission.ROUTING_CONFIGURE.value]
    r = await client.post(
        f"{BASE}/queues", headers=sup, json={"code": "general", "name": "综合", "skills": ["general"]}
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{BASE}/queues", headers=sup, json=CREDIT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["code"], body["overflow_queue"], body["active"], body["widen_after_s"]) == (
        "credit_cards", "general", True, 30)  # fmt: skip
    # every signed-in role reads the list (agents pick transfer targets, WFM plans)
    for role in ("agent", "wfm_planner", "admin", "qa_inspector"):
        _, h = await _headers(rt, client, role)
        r = await client.get(f"{BASE}/queues", headers=h)
        assert [q["code"] for q in r.json()] == ["credit_cards", "general"], (role, r.text)
    r = await client.patch(f"{BASE}/queues/credit_cards", headers=agent, json={"name": "x"})
    _problem(r, 403, "permission_denied")
    r = await client.patch(
        f"{BASE}/queues/credit_cards", headers=sup, json={"widen_after_s": None, "name": "信用卡中心"}
    )
    assert (r.json()["widen_after_s"], r.json()["name"]) == (None, "信用卡中心"), r.text
    r = await client.delete(f"{BASE}/queues/general", headers=sup)
    assert _problem(r, 409, "conflict")["overflowing_queues"] == ["credit_cards"]
    r = await client.delete(f"{BASE}/queues/credit_cards", headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    r = await client.get(f"{BASE}/queues", headers=agent)
    assert [q["code"] for q in r.json()] == ["general"]
    r = await client.get(f"{BASE}/queues", headers=agent, params={"include_inactive": "true"})
    assert [q["code"] for q in r.json()] == ["credit_cards", "general"]
    r = await client.patch(f"{BASE}/queues/credit_cards", headers=sup, json={"active": True})
    assert r.json()["active"] is True, r.text


async def test_errors_are_problem_json(rt, client):
    _, sup = await _headers(rt, client, "supervisor")
    r = await client.patch(f"{BASE}/queues/nowhere", headers=sup, json={"name": "x"})
    assert "nowhere" in _problem(r, 404, "not_found")["detail"]
    r = await client.delete(f"{BASE}/queues/nowhere", headers=sup)
    _problem(r, 404, "not_found")
    r = await client.patch(f"{BASE}/queues/Not-A-Code", headers=sup, json={"name": "x"})
    assert _problem(r, 422, "validation_failed")["errors"][0]["field"] == "code"
    # a rule of the service: the overflow queue must exist
    r = await client.post(f"{BASE}/queues", headers=sup, json=CREDIT)
    body = _problem(r, 422, "validation_failed")
    assert body["errors"] == [{"field": "overflow_queue", "message": "overflow_queue 'general' does not exist."}]
    # a rule of the schema: proficiency 1-10, no unknown fields
    r = await client.post(f"{BASE}/queues", headers=sup, json=CREDIT | {"min_proficiency": 11, "colour": "red"})
    fields = {e["field"] for e in _problem(r, 422, "validation_failed")["errors"]}
    assert fields == {"min_proficiency", "colour"}
    r = await client.post(f"{BASE}/queues", headers=sup, json={"code": "general", "name": "综合", "skills": ["x"]})
    assert _problem(r, 422, "validation_failed")["errors"][0]["field"] == "skills"
    await client.post(f"{BASE}/queues", headers=sup, json={"code": "general", "name": "综合", "skills": ["general"]})
    r = await client.post(
        f"{BASE}/queues", headers=sup, json={"code": "general", "name": "综合", "skills": ["general"]}
    )
    _problem(r, 409, "conflict")
    r = await client.get(f"{BASE}/queues")
    _problem(r, 401, "not_authenticated")


async def test_skills_list_and_agent_skills(rt, client):
    _, sup = await _headers(rt, client, "supervisor")
    agent, agent_h = await _headers(rt, client, "agent")
    r = await client.get(f"{BASE}/skills", headers=agent_h)
    skills = {s["code"]: s["names"] for s in r.json()}
    assert skills["credit_cards"] == {"zh-Hans": "信用卡", "zh-Hant": "信用卡", "en": "Credit cards"}
    assert list(skills)[0] == "general"
    assert len(skills) == 10
    url = f"{BASE}/agents/{agent.id}/skills"
    r = await client.put(url, headers=sup, json={"skills": {"general": 6, "vip": 8}})
    assert r.json() == {"staff_id": agent.id, "skills": {"general": 6, "vip": 8}}, r.text
    r = await client.put(url, headers=sup, json={"skills": {"savings": 7}})
    assert r.status_code == 200
    r = await client.get(url, headers=sup)
    assert r.json() == {"staff_id": agent.id, "skills": {"savings": 7}}
    _problem(await client.get(url, headers=agent_h), 403, "permission_denied")
    _problem(await client.put(url, headers=agent_h, json={"skills": {}}), 403, "permission_denied")
    r = await client.put(url, headers=sup, json={"skills": {"savings": 70, "cooking": 3}})
    assert {e["field"] for e in _problem(r, 422, "validation_failed")["errors"]} == {"skills.savings", "skills.cooking"}
    r = await client.put(url, headers=sup, json={})
    _problem(r, 422, "validation_failed")  # replacing needs the set, even an empty one
    r = await client.put(f"{BASE}/agents/999999/skills", headers=sup, json={"skills": {"general": 5}})
    _problem(r, 404, "not_found")
    _problem(await client.get(f"{BASE}/agents/999999/skills", headers=sup), 404, "not_found")


async def test_ivr_routes(rt, client):
    _, sup = await _headers(rt, client, "supervisor")
    _, agent = await _headers(rt, client, "agent")
    await client.post(f"{BASE}/queues", headers=sup, json={"code": "cards", "name": "挂失", "skills": ["cards"]})
    body = {"dialled_number": "400-000-0000", "ivr_prefix": "1", "queue_code": "cards", "priority_bonus": 200}
    _problem(await client.post(f"{BASE}/ivr-routes", headers=agent, json=body), 403, "permission_denied")
    r = await client.post(f"{BASE}/ivr-routes", headers=sup, json=body)
    assert r.status_code == 201, r.text
    route = r.json()
    assert (route["dialled_number"], route["ivr_prefix"], route["priority_bonus"]) == ("4000000000", "1", 200.0)
    _problem(await client.post(f"{BASE}/ivr-routes", headers=sup, json=body), 409, "conflict")
    r = await client.post(f"{BASE}/ivr-routes", headers=sup, json=body | {"queue_code": "loans"})
    assert _problem(r, 422, "validation_failed")["errors"][0]["field"] == "queue_code"
    r = await client.get(f"{BASE}/ivr-routes", headers=sup)
    assert [x["id"] for x in r.json()] == [route["id"]]
    _problem(await client.get(f"{BASE}/ivr-routes", headers=agent), 403, "permission_denied")
    _problem(await client.delete(f"{BASE}/ivr-routes/{route['id']}", headers=agent), 403, "permission_denied")
    r = await client.delete(f"{BASE}/ivr-routes/{route['id']}", headers=sup)
    assert r.status_code == 204
    _problem(await client.delete(f"{BASE}/ivr-routes/{route['id']}", headers=sup), 404, "not_found")


MINE = {f"{BASE}{p}" for p in ("/skills", "/queues", "/queues/{code}", "/agents/{staff_id}/skills", "/ivr-routes",
                                "/ivr-routes/{route_id}")}  # fmt: skip


def _ops(app):
    out = []
    for r in api_routes(app):
        if getattr(r, "path", "") in MINE:
            _, perms = route_permissions(r)
            out += [(m, r.path, perms) for m in sorted(r.methods or ()) if m != "HEAD"]
    return out


async def test_every_role_against_the_matrix(rt, app, client):
    ops = _ops(app)
    assert len(ops) == 10, ops
    assert all(perms for _, _, perms in ops)
    target = await make_staff(rt, roles=["agent"])
    ids = {"staff_id": target.id, "code": "nowhere", "route_id": 999}
    for role in Role:
        _, headers = await _headers(rt, client, role.value)
        for method, path, perms in ops:
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
            r = await client.request(
                method, url, headers=headers, json={} if method in ("POST", "PATCH", "PUT") else None
            )
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:200]}"
            if set(perms) <= MATRIX[role]:
                assert r.status_code not in (401, 403), where
                assert r.status_code < 500, where
            else:
                assert r.status_code == 403, where
                assert r.json()["code"] == "permission_denied", where
