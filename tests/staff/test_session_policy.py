"""R3.2 (no shared accounts) and password ageing."""

from __future__ import annotations

import datetime as dt

from kefu.core import clock
from kefu.core.audit import AuditEntry
from kefu.core.auth import SESSION_COOKIE
from kefu.staff import auth
from kefu.staff import repository as repo
from tests.factories import PASSWORD, make_staff, token_for


async def _web_session(rt, staff) -> str:  # type: ignore[no-untyped-def]
    async with rt.db.transaction() as s:
        loaded = await repo.get_staff(s, staff.id)
        token, _ = await auth.start_session(s, staff=loaded, kind="web", client_addr="127.0.0.1", user_agent="t")
    return token


async def _me_with_cookie(client, token: str) -> int:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token)
    r = await client.get("/api/v1/staff/me")
    client.cookies.clear()
    return int(r.status_code)


async def test_second_web_sign_in_ends_the_first(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    first = await _web_session(rt, agent)
    assert await _me_with_cookie(client, first) == 200
    second = await _web_session(rt, agent)
    assert await _me_with_cookie(client, first) == 401
    assert await _me_with_cookie(client, second) == 200
    async with rt.db.transaction() as s:
        from sqlalchemy import select

        entries = (await s.execute(select(AuditEntry).where(AuditEntry.action == "auth.session_start"))).scalars().all()
    assert any('"replaced_sessions":1' in (e.after or "") for e in entries)


async def test_several_web_sessions_allowed_when_setting_is_off(rt, client):
    rt.settings.single_web_session = False
    agent = await make_staff(rt, roles=["agent"])
    first = await _web_session(rt, agent)
    await _web_session(rt, agent)
    assert await _me_with_cookie(client, first) == 200


async def test_api_tokens_are_not_replaced_by_web_sign_in(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    token = await token_for(client, agent)
    await _web_session(rt, agent)
    r = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


async def test_old_password_must_be_changed(rt, client):
    lead = await make_staff(rt, roles=["team_lead"])
    clock.freeze(clock.now() + dt.timedelta(days=rt.settings.password_max_age_days + 1))
    token = await token_for(client, lead)
    headers = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/staff/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["must_change_password"] is True
    r = await client.get("/api/v1/staff", headers=headers)
    assert r.status_code == 403
    assert r.json()["code"] == "password_change_required"
    r = await client.post(
        "/api/v1/staff/me/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "Fresh-pass-2027y"},
    )
    assert r.status_code == 204
    r = await client.get("/api/v1/staff", headers=headers)
    assert r.status_code == 200
