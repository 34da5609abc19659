"""Leaving or suspension ends every way in at once (R3.6); post changes; reveal; team scoping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.core import audit
from kefu.staff import auth as staff_auth
from kefu.staff import service
from kefu.staff.models import AuthSession
from tests.factories import PASSWORD, Recorder, auth_headers, make_staff, make_team, raw_rows


@pytest.fixture
def status_events():
    rec = Recorder(service.STATUS_EVENT)
    yield rec
    rec.close()


@pytest.fixture
def post_events():
    rec = Recorder(service.POST_EVENT)
    yield rec
    rec.close()


async def _ways_in(rt, client, member) -> list[dict[str, str]]:
    """A bearer token, a web session cookie and an API key of one staff member; each works now."""
    bearer = {"Authorization": f"Bearer {(await auth_headers(client, member))['Authorization'][7:]}"}
    async with rt.db.transaction() as s:
        web_token, _ = await staff_auth.start_session(
            s, staff=member, kind="web", client_addr="127.0.0.1", user_agent="t"
        )
        key, _ = await staff_auth.create_api_key(
            s, actor=staff_auth._principal(member, kind="api"), name="own", scopes=["self.read"], expires_days=30
        )
    ways = [bearer, {"Cookie": f"kefu_session={web_token}"}, {"X-API-Key": key}]
    for h in ways:
        r = await client.get("/api/v1/staff/me", headers=h)
        assert r.status_code == 200, (h, r.text)
    return ways


@pytest.mark.parametrize("new_status", ["left", "suspended"])
async def test_leaving_or_suspension_ends_all_access_at_once(rt, client, status_events, new_status):
    admin = await make_staff(rt, roles=["admin"])
    admin_h = await auth_headers(client, admin)
    member = await make_staff(rt, roles=["team_lead", "agent"])
    ways = await _ways_in(rt, client, member)
    bystander = await make_staff(rt, roles=["agent"])
    bystander_h = await auth_headers(client, bystander)

    r = await client.post(
        f"/api/v1/staff/{member.id}/status", headers=admin_h, json={"status": new_status, "reason": "合同到期"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == new_status
    for h in ways:
        r = await client.get("/api/v1/staff/me", headers=h)
        assert r.status_code == 401, (h, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # the password no longer signs in either, and nobody else was affected
    r = await client.post("/api/v1/auth/token", json={"username": member.staff_no, "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["code"] == "account_inactive"
    assert (await client.get("/api/v1/staff/me", headers=bystander_h)).status_code == 200
    assert (await client.get("/api/v1/staff/me", headers=admin_h)).status_code == 200

    rows = await raw_rows(rt, "SELECT revoked_at, revoked_reason FROM auth_sessions WHERE staff_id = :i", i=member.id)
    assert rows
    assert all(r.revoked_at is not None and r.revoked_reason == new_status for r in rows)
    keys = await raw_rows(rt, "SELECT revoked_at FROM api_keys WHERE owner_id = :i", i=member.id)
    assert keys
    assert all(k.revoked_at is not None for k in keys)

    # the handover hook got the event once, after the commit
    assert status_events.payloads == [{"staff_id": member.id, "status": new_status, "previous": "active"}]
    async with rt.db.transaction() as s:
        (entry,) = (
            await s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action == f"staff.{new_status}"))
        ).scalars()
        assert entry.object_id == str(member.id)
        assert entry.purpose == "合同到期"
        assert entry.actor == admin.staff_no
        assert '"revoked":' in (entry.after or "")
        assert (await audit.verify(s)).ok

    if new_status == "suspended":
        r = await client.post(
            f"/api/v1/staff/{member.id}/status", headers=admin_h, json={"status": "active", "reason": "复职"}
        )
        assert r.status_code == 200
        # old credentials stay dead; a new sign-in works
        for h in ways:
            assert (await client.get("/api/v1/staff/me", headers=h)).status_code == 401
        assert (
            await client.post("/api/v1/auth/token", json={"username": member.staff_no, "password": PASSWORD})
        ).status_code == 200
    else:
        r = await client.post(
            f"/api/v1/staff/{member.id}/status", headers=admin_h, json={"status": "active", "reason": "回来了"}
        )
        assert r.status_code == 409


async def test_status_change_needs_a_reason_and_not_oneself(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    h = await auth_headers(client, admin)
    other = await make_staff(rt, roles=["agent"])
    r = await client.post(f"/api/v1/staff/{other.id}/status", headers=h, json={"status": "left", "reason": ""})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reason"
    r = await client.post(f"/api/v1/staff/{other.id}/status", headers=h, json={"status": "retired", "reason": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "status"
    r = await client.post(f"/api/v1/staff/{admin.id}/status", headers=h, json={"status": "left", "reason": "x"})
    assert r.status_code == 409
    r = await client.post("/api/v1/staff/999999/status", headers=h, json={"status": "left", "reason": "x"})
    assert r.status_code == 404


async def test_change_of_post_emits_event_and_is_audited(rt, client, post_events):
    admin = await make_staff(rt, roles=["admin"])
    h = await auth_headers(client, admin)
    t1, t2 = await make_team(rt), await make_team(rt)
    member = await make_staff(rt, roles=["agent"], team_id=t1)
    r = await client.patch(f"/api/v1/staff/{member.id}", headers=h, json={"roles": ["agent", "qa_inspector"]})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["agent", "qa_inspector"]
    r = await client.patch(f"/api/v1/staff/{member.id}", headers=h, json={"team_id": t2})
    assert r.status_code == 200
    r = await client.patch(f"/api/v1/staff/{member.id}", headers=h, json={"name": "新名字"})
    assert r.status_code == 200
    assert post_events.payloads == [
        {"staff_id": member.id, "old_roles": ["agent"], "new_roles": ["agent", "qa_inspector"],
         "old_team_id": t1, "new_team_id": t1},
        {"staff_id": member.id, "old_roles": ["agent", "qa_inspector"], "new_roles": ["agent", "qa_inspector"],
         "old_team_id": t1, "new_team_id": t2},
    ]  # fmt: skip
    updates = await raw_rows(rt, "SELECT before, after FROM audit_log WHERE action = 'staff.update' ORDER BY seq")
    assert len(updates) == 3
    assert '"roles":["agent"]' in updates[0].before
    assert '"qa_inspector"' in updates[0].after
    # nobody removes their own admin role
    r = await client.patch(f"/api/v1/staff/{admin.id}", headers=h, json={"roles": ["agent"]})
    assert r.status_code == 409


async def test_reveal_needs_permission_purpose_and_clearance(rt, client):
    target = await make_staff(rt, roles=["agent"], id_number="11010119900307123X", email="t@kefu-test.example")
    supervisor = await make_staff(rt, roles=["supervisor"])
    sh = await auth_headers(client, supervisor)
    url = f"/api/v1/staff/{target.id}/reveal"

    r = await client.get(f"/api/v1/staff/{target.id}", headers=sh)
    assert r.status_code == 200
    assert r.json()["id_number"] == "110***********123X"
    assert target.phone not in r.text

    r = await client.post(url, headers=sh, json={"field": "id_number"})
    assert r.status_code == 422
    assert "purpose" in [e["field"] for e in r.json()["errors"]]
    r = await client.post(url, headers=sh, json={"field": "id_number", "purpose": "  "})
    assert r.status_code == 422
    r = await client.post(url, headers=sh, json={"field": "id_number", "purpose": "核实客户投诉工单 #123"})
    assert r.status_code == 200, r.text
    assert r.json() == {"field": "id_number", "value": "11010119900307123X"}
    r = await client.post(url, headers=sh, json={"field": "phone", "purpose": "回电核实"})
    assert r.json()["value"] == target.phone

    # admin may reveal C2 (phone) but has no clearance for C3 (ID number)
    admin = await make_staff(rt, roles=["admin"])
    ah = await auth_headers(client, admin)
    r = await client.post(url, headers=ah, json={"field": "email", "purpose": "发送通知"})
    assert r.status_code == 200
    assert r.json()["value"] == "t@kefu-test.example"
    r = await client.post(url, headers=ah, json={"field": "id_number", "purpose": "想看看证件号码"})
    assert r.status_code == 403
    assert "clearance" in r.json()["detail"]
    # roles without the reveal permission are refused outright
    agent_h = await auth_headers(client, await make_staff(rt, roles=["agent"]))
    r = await client.post(url, headers=agent_h, json={"field": "phone", "purpose": "好奇心"})
    assert r.status_code == 403

    reveals = await raw_rows(
        rt, "SELECT actor, object_id, purpose, after FROM audit_log WHERE action = 'pii.reveal' ORDER BY seq"
    )
    assert [(e.actor, e.purpose) for e in reveals] == [
        (supervisor.staff_no, "核实客户投诉工单 #123"),
        (supervisor.staff_no, "回电核实"),
        (admin.staff_no, "发送通知"),
    ]
    assert all(e.object_id == str(target.id) for e in reveals)
    assert '"data_class":"C3"' in reveals[0].after
    log = await raw_rows(rt, "SELECT before, after FROM audit_log")
    assert not any(target.id_number in (e.before or "") + (e.after or "") for e in log), "clear values in the audit log"


async def test_team_lead_sees_only_own_team(rt, client):
    t1, t2 = await make_team(rt), await make_team(rt)
    lead = await make_staff(rt, roles=["team_lead"], team_id=t1)
    mine = [await make_staff(rt, roles=["agent"], team_id=t1) for _ in range(2)]
    theirs = [await make_staff(rt, roles=["agent"], team_id=t2) for _ in range(2)]
    h = await auth_headers(client, lead)
    r = await client.get("/api/v1/staff", headers=h, params={"limit": 200})
    assert r.status_code == 200
    ids = {s["id"] for s in r.json()["items"]}
    assert ids == {lead.id} | {s.id for s in mine}
    assert r.json()["total"] == 3
    r = await client.get("/api/v1/staff", headers=h, params={"team_id": t2})
    assert r.json()["total"] == 0
    assert (await client.get(f"/api/v1/staff/{mine[0].id}", headers=h)).status_code == 200
    r = await client.get(f"/api/v1/staff/{theirs[0].id}", headers=h)
    assert r.status_code == 404
    # a center-wide role sees everybody
    sup_h = await auth_headers(client, await make_staff(rt, roles=["supervisor"]))
    r = await client.get("/api/v1/staff", headers=sup_h, params={"limit": 200})
    assert {s.id for s in theirs} <= {s["id"] for s in r.json()["items"]}


async def test_password_reset_ends_sessions_and_forces_a_change(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    h = await auth_headers(client, admin)
    member = await make_staff(rt, roles=["agent"])
    ways = await _ways_in(rt, client, member)
    r = await client.post(f"/api/v1/staff/{member.id}/password-reset", headers=h)
    assert r.status_code == 200
    temp = r.json()["temporary_password"]
    for w in ways:
        assert (await client.get("/api/v1/staff/me", headers=w)).status_code == 401
    assert (
        await client.post("/api/v1/auth/token", json={"username": member.staff_no, "password": PASSWORD})
    ).status_code == 401
    r = await client.post("/api/v1/auth/token", json={"username": member.staff_no, "password": temp})
    assert r.status_code == 200
    mh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/v1/staff/me", headers=mh)).json()["must_change_password"] is True
    async with rt.db.transaction() as s:
        rows = (await s.execute(select(AuthSession).where(AuthSession.staff_id == member.id))).scalars().all()
        assert sum(1 for x in rows if x.revoked_reason == "password_reset") == 3 - 1  # token + web; key counted apart
