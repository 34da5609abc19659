"""Staff administration through the pages: list, create, change post, status, resets, reveal."""

from __future__ import annotations

import re

from kefu.core import audit
from kefu.staff import repository
from tests.factories import make_staff, make_team
from tests.web.helpers import csrf_of, post_login, web_login


async def _new_id(location: str) -> int:
    m = re.match(r"/staff/(\d+)\?done=created", location)
    assert m, location
    return int(m.group(1))


async def test_create_staff_via_form(rt, client):
    team = await make_team(rt, name="理财二组")
    admin = await make_staff(rt, roles=["admin"])
    token = await web_login(client, admin)
    form = await client.get("/staff/new")
    assert form.status_code == 200
    assert "新增员工" in form.text
    r = await client.post("/staff/new", data={
        "csrf_token": token, "staff_no": "W20001", "name": "测试甲", "roles": ["agent", "team_lead"],
        "team_id": str(team), "password": "Start-pass-2026", "phone": "13812345678", "email": "jia@example.com",
    })  # fmt: skip
    assert r.status_code == 303, r.text
    staff_id = await _new_id(r.headers["location"])
    detail = await client.get(r.headers["location"])
    assert "员工账户已创建" in detail.text
    assert "138****5678" in detail.text
    assert "13812345678" not in detail.text
    assert "理财二组" in detail.text
    assert "班组长" in detail.text
    listing = await client.get("/staff", params={"q": "W2000"})
    assert f'href="/staff/{staff_id}"' in listing.text
    assert "共 1 人" in listing.text


async def test_create_errors_keep_input(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    token = await web_login(client, admin)
    data = {"csrf_token": token, "staff_no": admin.staff_no, "name": "重复工号", "roles": ["agent"],
            "password": "Start-pass-2026", "phone": "13900001111"}  # fmt: skip
    r = await client.post("/staff/new", data=data)
    assert r.status_code == 409
    assert "与现有数据冲突" in r.text
    assert "already taken" in r.text
    assert 'value="重复工号"' in r.text
    assert 'value="13900001111"' in r.text
    weak = await client.post("/staff/new", data={**data, "staff_no": "W30001", "password": "short"})
    assert weak.status_code == 422
    assert 'value="W30001"' in weak.text
    no_role = await client.post("/staff/new", data={**data, "staff_no": "W30002", "roles": []})
    assert no_role.status_code == 422
    missing = await client.post("/staff/new", data={"csrf_token": token, "staff_no": "", "name": ""})
    assert missing.status_code == 422
    assert "请填写工号和姓名" in missing.text
    async with rt.db.transaction() as s:
        assert await repository.get_staff_by_no(s, "W30001") is None


async def test_suspend_needs_reason_and_ends_sessions(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    agent = await make_staff(rt, roles=["agent"])
    token = await web_login(client, admin)
    r = await client.post(f"/staff/{agent.id}/status", data={"csrf_token": token, "status": "suspended", "reason": " "})
    assert r.status_code == 422
    assert "填写内容有误" in r.text
    r = await client.post(f"/staff/{agent.id}/status",
                          data={"csrf_token": token, "status": "suspended", "reason": "长期病假"})  # fmt: skip
    assert r.status_code == 303
    detail = await client.get(r.headers["location"])
    assert "已停用" in detail.text
    assert "恢复启用" in detail.text
    client.cookies.clear()
    refused = await post_login(client, agent.staff_no)
    assert refused.status_code == 401
    assert "已停用" in refused.text
    async with rt.db.transaction() as s:
        assert (await audit.verify(s)).ok


async def test_cannot_suspend_self_message(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    token = await web_login(client, admin)
    r = await client.post(f"/staff/{admin.id}/status", data={"csrf_token": token, "status": "left", "reason": "测试"})
    assert r.status_code == 409
    assert "cannot suspend or close your own account" in r.text
    assert "测试" in r.text  # the reason is kept


async def test_edit_post_and_reset_password(rt, client):
    team = await make_team(rt, name="贵宾组")
    admin = await make_staff(rt, roles=["admin"])
    agent = await make_staff(rt, roles=["agent"])
    token = await web_login(client, admin)
    r = await client.post(f"/staff/{agent.id}/edit",
                          data={"csrf_token": token, "roles": ["agent", "qa_inspector"], "team_id": str(team)})  # fmt: skip
    assert r.status_code == 303
    detail = (await client.get(r.headers["location"])).text
    assert "质检员" in detail
    assert "贵宾组" in detail
    reset = await client.post(f"/staff/{agent.id}/password-reset", data={"csrf_token": token})
    assert reset.status_code == 200
    assert reset.headers["cache-control"] == "no-store"
    m = re.search(r"data-temp-password>([^<]+)<", reset.text)
    assert m
    again = await client.get(f"/staff/{agent.id}")
    assert m.group(1) not in again.text  # shown once
    client.cookies.clear()
    r = await post_login(client, agent.staff_no, m.group(1))
    assert r.status_code == 303
    assert (await client.get("/")).headers["location"] == "/account/password"


async def test_reveal_needs_purpose_and_is_audited(rt, client):
    supervisor = await make_staff(rt, roles=["supervisor"])
    agent = await make_staff(rt, roles=["agent"], phone="13700002222")
    token = await web_login(client, supervisor)
    detail = await client.get(f"/staff/{agent.id}")
    assert "137****2222" in detail.text
    assert "13700002222" not in detail.text
    assert "/status" not in detail.text  # no management actions for a supervisor
    short = await client.post(f"/staff/{agent.id}/reveal", data={"csrf_token": token, "field": "phone", "purpose": "x"})
    assert short.status_code == 422
    assert "13700002222" not in short.text
    r = await client.post(f"/staff/{agent.id}/reveal",
                          data={"csrf_token": token, "field": "phone", "purpose": "核实紧急联系方式"})  # fmt: skip
    assert r.status_code == 200
    assert "13700002222" in r.text
    async with rt.db.transaction() as s:
        from kefu.audit import repository as audit_repo

        rows, _ = await audit_repo.search(s, action="pii.reveal")
        assert rows
        assert rows[0].purpose == "核实紧急联系方式"


async def test_staff_list_filters_and_paging(rt, client):
    team = await make_team(rt, name="外呼组")
    admin = await make_staff(rt, roles=["admin"])
    for _ in range(22):
        await make_staff(rt, roles=["agent"], team_id=team)
    await make_staff(rt, roles=["qa_inspector"])
    await web_login(client, admin)
    page1 = await client.get("/staff", params={"team": str(team)})
    assert "共 22 人" in page1.text
    assert "第 1 / 2 页" in page1.text
    assert "page=2" in page1.text
    page2 = await client.get("/staff", params={"team": str(team), "page": "2"})
    assert page2.text.count('<td><a href="/staff/') == 2
    qa = await client.get("/staff", params={"role": "qa_inspector"})
    assert "共 1 人" in qa.text
    suspended = await client.get("/staff", params={"status": "suspended"})
    assert "没有符合条件的员工" in suspended.text
    odd = await client.get("/staff", params={"status": "bogus", "team": "x", "role": "nope"})
    assert odd.status_code == 200


async def test_reset_two_factor(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    other = await make_staff(rt, roles=["agent"], totp=True)
    token = await web_login(client, admin)
    r = await client.post(f"/staff/{other.id}/totp-reset", data={"csrf_token": token})
    assert r.status_code == 303
    assert "双因素验证已重置" in (await client.get(r.headers["location"])).text
    page = await client.get(f"/staff/{other.id}")
    assert csrf_of(page.text) == token
