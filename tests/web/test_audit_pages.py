"""Audit viewer: filters, paging by sequence, expandable entries, chain verification."""

from __future__ import annotations

from tests.factories import make_staff
from tests.web.helpers import web_login


async def test_audit_viewer_filters_and_details(rt, client):
    auditor = await make_staff(rt, roles=["auditor"])
    target = await make_staff(rt, roles=["agent"])
    await web_login(client, auditor)
    page = await client.get("/audit")
    assert page.status_code == 200
    assert "审计日志" in page.text
    assert "staff.create" in page.text
    assert "创建员工" in page.text
    only = await client.get("/audit", params={"action": "staff.create", "object_id": str(target.id)})
    assert only.text.count('class="audit-entry') == 1
    assert "变更后" in only.text
    assert "&#34;staff_no&#34;" in only.text
    prefix = await client.get("/audit", params={"action": "auth."})
    assert "auth.session_start" in prefix.text
    assert "staff.create" not in prefix.text
    by_actor = await client.get("/audit", params={"actor": auditor.staff_no})
    assert "auth.session_start" in by_actor.text
    none = await client.get("/audit", params={"date_from": "2001-01-01", "date_to": "2001-01-02"})
    assert "没有符合条件的记录" in none.text
    bad = await client.get("/audit", params={"date_from": "yesterday"})
    assert bad.status_code == 200
    assert "日期格式不正确" in bad.text


async def test_audit_paging_by_sequence(rt, client):
    auditor = await make_staff(rt, roles=["auditor"])
    for _ in range(32):
        await make_staff(rt, roles=["agent"])
    await web_login(client, auditor)
    first = await client.get("/audit", params={"action": "staff.create"})
    assert first.text.count('class="audit-entry') == 30
    assert "before_seq=" in first.text
    import re

    m = re.search(r'href="(/audit\?[^"]*before_seq=\d+)"', first.text)
    assert m
    older = await client.get(m.group(1).replace("&amp;", "&"))
    assert older.text.count('class="audit-entry') == 3  # 33 staff were created in total
    assert "回到最新" in older.text


async def test_verify_chain_button(rt, client):
    auditor = await make_staff(rt, roles=["auditor"])
    await web_login(client, auditor)
    page = await client.get("/audit")
    assert 'href="/audit/verify"' in page.text
    r = await client.get("/audit/verify")
    assert r.status_code == 200
    assert "校验通过" in r.text


async def test_supervisor_reads_but_cannot_verify(rt, client):
    supervisor = await make_staff(rt, roles=["supervisor"])
    await web_login(client, supervisor)
    page = await client.get("/audit")
    assert page.status_code == 200
    assert 'href="/audit/verify"' not in page.text
    assert (await client.get("/audit/verify")).status_code == 403
