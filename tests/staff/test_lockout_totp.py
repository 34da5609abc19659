"""Lockout after repeated failures, and TOTP two-factor sign-in."""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import select

from kefu.core import audit, clock
from tests.factories import PASSWORD, make_staff

T0 = dt.datetime(2026, 11, 23, 2, 0, 0, tzinfo=dt.UTC)
TOKEN = "/api/v1/auth/token"


async def _entries(rt, action: str) -> list[audit.AuditEntry]:
    async with rt.db.transaction() as s:
        stmt = select(audit.AuditEntry).where(audit.AuditEntry.action == action).order_by(audit.AuditEntry.seq)
        return list((await s.execute(stmt)).scalars().all())


async def test_lockout_after_five_failures_for_fifteen_minutes(rt, client):
    clock.freeze(T0)
    agent = await make_staff(rt, roles=["agent"])
    login = {"username": agent.staff_no, "password": PASSWORD}
    wrong = {**login, "password": "Wrong-pass-123"}
    for attempt in range(1, 5):
        r = await client.post(TOKEN, json=wrong)
        assert r.status_code == 401, (attempt, r.text)
        clock.advance(dt.timedelta(seconds=10))
    r = await client.post(TOKEN, json=wrong)
    assert r.status_code == 423, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["retry_after_minutes"] == 15
    failed = await _entries(rt, "auth.login_failed")
    assert len(failed) == 5
    assert all(e.object_id == str(agent.id) and e.outcome == "failed" for e in failed)
    assert '"locked":true' in (failed[-1].after or "")

    # the right password is refused while locked, and the refusal is audited
    clock.advance(dt.timedelta(minutes=14))
    r = await client.post(TOKEN, json=login)
    assert r.status_code == 423, r.text
    assert "locked" in r.json()["detail"]
    assert len(await _entries(rt, "auth.login_refused")) == 1
    # after 15 minutes it works again, and the failure count starts afresh
    clock.freeze(T0 + dt.timedelta(seconds=40) + dt.timedelta(minutes=15))
    r = await client.post(TOKEN, json=login)
    assert r.status_code == 200, r.text
    for _ in range(4):
        assert (await client.post(TOKEN, json=wrong)).status_code == 401
    assert (await client.post(TOKEN, json=login)).status_code == 200
    assert (await client.post(TOKEN, json=wrong)).status_code == 401, "a success resets the count"
    async with rt.db.transaction() as s:
        assert (await audit.verify(s)).ok


async def test_unknown_account_failures_are_audited_without_lockout(rt, client):
    for _ in range(6):
        r = await client.post(TOKEN, json={"username": "NOBODY1", "password": "Whatever-123"})
        assert r.status_code == 401
        assert r.json()["detail"] == "Staff number or password is wrong."
    failed = await _entries(rt, "auth.login_failed")
    assert len(failed) == 6
    assert all(e.actor == "anonymous" for e in failed)


async def test_totp_required_for_admin(rt, client):
    rt.settings.totp_required_roles = ["admin"]
    # an admin without two-factor set up cannot get a token with a password alone
    bare = await make_staff(rt, roles=["admin"])
    r = await client.post(TOKEN, json={"username": bare.staff_no, "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["code"] == "totp_enrolment_required"
    # an agent is not asked
    agent = await make_staff(rt, roles=["agent"])
    assert (await client.post(TOKEN, json={"username": agent.staff_no, "password": PASSWORD})).status_code == 200

    admin = await make_staff(rt, roles=["admin"], totp=True)
    totp = pyotp.TOTP(admin.totp_secret)
    r = await client.post(TOKEN, json={"username": admin.staff_no, "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["code"] == "totp_required"

    clock.freeze(T0)
    code = totp.at(T0)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await client.post(TOKEN, json={"username": admin.staff_no, "password": PASSWORD, "totp": wrong_code})
    assert r.status_code == 401
    assert "two-factor" in r.json()["detail"]
    r = await client.post(TOKEN, json={"username": admin.staff_no, "password": PASSWORD, "totp": code})
    assert r.status_code == 200, r.text
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["totp_enabled"] is True
    # the same code cannot be used twice, even within its 30 s window
    clock.advance(dt.timedelta(seconds=5))
    r = await client.post(TOKEN, json={"username": admin.staff_no, "password": PASSWORD, "totp": code})
    assert r.status_code == 401, r.text
    # the next code is fine
    clock.advance(dt.timedelta(seconds=30))
    r = await client.post(TOKEN, json={"username": admin.staff_no, "password": PASSWORD, "totp": totp.at(clock.now())})
    assert r.status_code == 200, r.text
    # a good code does not rescue a wrong password
    clock.advance(dt.timedelta(seconds=30))
    r = await client.post(
        TOKEN, json={"username": admin.staff_no, "password": "Wrong-pass-123", "totp": totp.at(clock.now())}
    )
    assert r.status_code == 401


async def test_totp_enrolment_through_the_api(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    r = await client.post(TOKEN, json={"username": agent.staff_no, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.post("/api/v1/staff/me/totp/setup", headers=headers)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    r = await client.post("/api/v1/staff/me/totp/confirm", headers=headers, json={"code": "000000"})
    assert r.status_code == 401 or pyotp.TOTP(secret).now() == "000000"
    r = await client.post("/api/v1/staff/me/totp/confirm", headers=headers, json={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 204, r.text
    r = await client.post(TOKEN, json={"username": agent.staff_no, "password": PASSWORD})
    assert r.json()["code"] == "totp_required"
    assert len(await _entries(rt, "auth.totp_enrolled")) == 1
