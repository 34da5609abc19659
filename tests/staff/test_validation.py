"""Bad input is a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import auth_headers, make_staff

PROBLEM = "application/problem+json"


def _fields(r) -> list[str]:
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["status"] == r.status_code
    assert body["detail"]
    return [e["field"] for e in body.get("errors", [])]


@pytest.fixture
async def admin_h(rt, client):
    return await auth_headers(client, await make_staff(rt, roles=["admin"]))


def _new(**kw):
    body = {"staff_no": "N1001", "name": "测试员", "roles": ["agent"], "password": "Good-pass-2026"}
    body.update(kw)
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"staff_no": "工号 1"}, "staff_no"),
        ({"staff_no": ""}, "staff_no"),
        ({"name": ""}, "name"),
        ({"roles": []}, "roles"),
        ({"roles": "agent"}, "roles"),
        ({"phone": "call me"}, "phone"),
        ({"email": "no-at-sign"}, "email"),
        ({"id_number": "12345"}, "id_number"),
        ({"team_id": "abc"}, "team_id"),
        ({"team_id": 0}, "team_id"),
        ({"team_id": 2**80}, "team_id"),
        ({"locale": "fr"}, "locale"),
        ({"password": 12345678901}, "password"),
    ],
)
async def test_create_staff_validation_names_the_field(client, admin_h, change, field):
    r = await client.post("/api/v1/staff", headers=admin_h, json=_new(**change))
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert field in r.json()["detail"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1A", "at least 10 characters"),
        ("onlyletters-here", "both letters and digits"),
        ("1234567890123", "both letters and digits"),
        ("N1001-and-more-1", "not containing the staff number"),
        ("password123", "not a commonly used password"),
    ],
)
async def test_password_policy_errors_name_the_field(client, admin_h, password, problem):
    r = await client.post("/api/v1/staff", headers=admin_h, json=_new(password=password))
    assert r.status_code == 422, r.text
    assert _fields(r)
    assert set(_fields(r)) == {"password"}
    assert problem in r.json()["detail"]


async def test_service_level_errors_name_the_field(rt, client, admin_h):
    r = await client.post("/api/v1/staff", headers=admin_h, json=_new(roles=["wizard"]))
    assert r.status_code == 422
    assert _fields(r) == ["roles"]
    r = await client.post("/api/v1/staff", headers=admin_h, json=_new(team_id=424242))
    assert r.status_code == 422
    assert _fields(r) == ["team_id"]
    assert (await client.post("/api/v1/staff", headers=admin_h, json=_new())).status_code == 201
    r = await client.post("/api/v1/staff", headers=admin_h, json=_new())
    assert r.status_code == 409
    assert _fields(r) == ["staff_no"]
    r = await client.post("/api/v1/teams", headers=admin_h, json={"code": "has space", "name": "x"})
    assert r.status_code == 422
    assert _fields(r) == ["code"]


async def test_own_password_change_policy(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    h = await auth_headers(client, agent)
    url = "/api/v1/staff/me/password"
    r = await client.post(url, headers=h, json={"current_password": "Wrong-pass-999", "new_password": "New-pass-2027"})
    assert r.status_code == 422
    assert _fields(r) == ["current_password"]
    r = await client.post(url, headers=h, json={"current_password": "Test-pass-2026x", "new_password": "short"})
    assert r.status_code == 422
    assert set(_fields(r)) == {"new_password"}
    r = await client.post(url, headers=h, json={"current_password": "Test-pass-2026x", "new_password": "New-pass-2027"})
    assert r.status_code == 204
    r = await client.post("/api/v1/auth/token", json={"username": agent.staff_no, "password": "New-pass-2027"})
    assert r.status_code == 200


async def test_malformed_bodies_are_never_500(client, admin_h):
    cases = [
        ("POST", "/api/v1/staff", b"{not json"),
        ("POST", "/api/v1/staff", b"[]"),
        ("POST", "/api/v1/staff", b'"a string"'),
        ("POST", "/api/v1/staff", b"null"),
        ("POST", "/api/v1/staff", b'{"staff_no": {"$gt": ""}}'),
        ("POST", "/api/v1/auth/token", b"{"),
        ("POST", "/api/v1/auth/token", b'{"username": 1, "password": []}'),
        ("POST", "/api/v1/auth/token", b'{"username": "' + b"x" * 5000 + b'", "password": "p"}'),
        ("POST", "/api/v1/auth/token", b'{"username": "\\ud800", "password": "p"}'),
        ("POST", "/api/v1/teams", b"\xff\xfe\x00garbage"),
        ("PATCH", "/api/v1/staff/1", b'{"roles": [1, 2]}'),
    ]
    for method, url, body in cases:
        r = await client.request(method, url, headers={**admin_h, "Content-Type": "application/json"}, content=body)
        assert 400 <= r.status_code < 500, (url, body[:40], r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), (url, body[:40])
    r = await client.post("/api/v1/auth/token", content=b"username=a&password=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert 400 <= r.status_code < 500
    r = await client.get("/api/v1/staff", headers=admin_h, params={"limit": "many"})
    assert r.status_code == 422
    assert _fields(r) == ["limit"]
    r = await client.get("/api/v1/no-such-thing", headers=admin_h)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.delete("/api/v1/staff", headers=admin_h)
    assert r.status_code == 405
    assert r.headers["content-type"].startswith(PROBLEM)


HUGE = [str(2**63), str(2**64 + 1), "9" * 40, "-1", "0", "-" + "9" * 30, "1e3", "0x10"]


async def test_out_of_range_ids_in_paths_are_never_500(rt, client, admin_h):
    auditor_h = await auth_headers(client, await make_staff(rt, roles=["supervisor"]))
    templates = [
        ("GET", "/api/v1/staff/{}", None, admin_h),
        ("PATCH", "/api/v1/staff/{}", {"name": "x"}, admin_h),
        ("POST", "/api/v1/staff/{}/status", {"status": "left", "reason": "x"}, admin_h),
        ("POST", "/api/v1/staff/{}/password-reset", None, admin_h),
        ("POST", "/api/v1/staff/{}/totp-reset", None, admin_h),
        ("POST", "/api/v1/staff/{}/reveal", {"field": "phone", "purpose": "核实身份"}, auditor_h),
        ("PATCH", "/api/v1/teams/{}", {"name": "x"}, admin_h),
        ("DELETE", "/api/v1/api-keys/{}", None, admin_h),
    ]
    for method, template, body, headers in templates:
        for value in HUGE:
            r = await client.request(method, template.format(value), headers=headers, json=body)
            assert r.status_code in (404, 422), (method, template, value, r.status_code, r.text[:200])
            assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.get("/api/v1/staff", headers=admin_h, params={"team_id": str(2**70)})
    assert r.status_code == 422
    assert _fields(r) == ["team_id"]


async def test_out_of_range_ids_below_the_router_match_nothing(rt):
    """Callers other than the API (web pages, jobs) pass ids unchecked: they must get 'not found'."""
    from kefu.core.errors import NotFound
    from kefu.staff import auth as staff_auth
    from kefu.staff import repository as repo
    from kefu.staff import service

    admin = await make_staff(rt, roles=["admin"])
    actor = staff_auth._principal(admin, kind="web")
    async with rt.db.transaction() as s:
        for value in (2**63, 2**70, -(2**70), 0):
            assert await repo.get_staff(s, value) is None
            assert await repo.get_staff(s, value, principal=actor) is None
            assert await repo.get_team(s, value) is None
            assert await repo.get_api_key(s, value) is None
            with pytest.raises(NotFound):
                await service.set_status(s, actor=actor, staff_id=value, status="left", reason="x")
            with pytest.raises(NotFound):
                await service.reveal(s, actor=actor, staff_id=value, field="phone", purpose="核实身份")
            with pytest.raises(NotFound):
                await service.update_team(s, team_id=value, name="x", description=None)
