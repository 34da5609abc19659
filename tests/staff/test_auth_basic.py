from __future__ import annotations

from kefu.core import audit
from tests.factories import auth_headers, make_staff


async def test_token_and_me(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    headers = await auth_headers(client, agent)
    r = await client.get("/api/v1/staff/me", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["staff_no"] == agent.staff_no
    assert body["roles"] == ["agent"]
    assert "****" in body["phone"]
    async with rt.db.transaction() as s:
        assert (await audit.verify(s)).ok


async def test_wrong_password_is_problem_json(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    r = await client.post("/api/v1/auth/token", json={"username": agent.staff_no, "password": "nope-nope-1"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "wrong" in r.json()["detail"]
