"""The manual-request queue page: requests registered while the core was offline, newest first,
filtered and paged, closed with a required result note; masked details; the 403 page for roles
without banking.manual."""

from __future__ import annotations

import datetime as dt
import json
import re

from kefu.banking.models import ManualRequest
from tests.customers.helpers import audit_rows
from tests.factories import make_staff
from tests.web.desk_helpers import PHONE, make_desk, post, verify_by_pin
from tests.web.helpers import web_login


async def _register_offline(rt, client, d, details: str, operation: str = "transfer") -> None:
    vid = await verify_by_pin(client, d)
    rt.settings.core_banking = "offline"
    try:
        r = await post(client, d, "/manual-requests", verification_id=str(vid), operation=operation, details=details)
        assert r.status_code == 303, r.text
    finally:
        rt.settings.core_banking = "embedded"


def _request_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-manual-request="(\d+)"', html)]


async def test_queue_lists_offline_request_masked_and_processes_it(rt, client):
    d = await make_desk(rt, client)
    words = f"客户来电 {PHONE}，身份证 {d.id_number}，要求向 6222 0000 1111 转账 500 元"
    await _register_offline(rt, client, d, words)
    home = await client.get("/")
    assert 'data-nav="manual_requests"' in home.text
    assert "人工登记" in home.text
    page = await client.get("/manual-requests")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    (rid,) = _request_ids(page.text)
    assert "待处理" in page.text
    assert f'href="/customers/{d.customer.id}">{d.customer.customer_no}</a>' in page.text
    assert "转账" in page.text
    assert d.agent.staff_no in page.text
    assert "data-process-form" in page.text
    assert PHONE not in page.text, "clear phone on the queue page"
    assert d.id_number not in page.text, "clear ID number on the queue page"
    assert "137****6810" in page.text

    done = await client.post(f"/manual-requests/{rid}/process",
                             data={"csrf_token": d.token, "outcome": f"已在核心系统办理，回拨 {PHONE}",
                                   "status": "pending", "page": "1"})  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/manual-requests?status=pending&done=processed"
    after = await client.get(done.headers["location"])
    assert "已标记为已处理" in after.text
    assert _request_ids(after.text) == []
    assert "没有符合条件的人工登记" in after.text
    processed = await client.get("/manual-requests", params={"status": "processed"})
    assert _request_ids(processed.text) == [rid]
    assert "已处理" in processed.text
    assert "已在核心系统办理" in processed.text
    assert "data-process-form" not in processed.text
    assert PHONE not in processed.text, "the result note is scrubbed too"

    rows = await audit_rows(rt, "banking.manual_request.process")
    assert len(rows) == 1
    entry = rows[0]
    assert entry.object_type == "manual_request"
    assert entry.object_id == str(rid)
    assert entry.outcome == "ok"
    assert json.loads(entry.before) == {"status": "pending"}
    assert json.loads(entry.after)["status"] == "processed"
    assert entry.actor == d.agent.staff_no

    again = await client.post(f"/manual-requests/{rid}/process",
                              data={"csrf_token": d.token, "outcome": "再次处理", "status": "pending"})  # fmt: skip
    assert again.status_code == 409
    assert "与现有数据冲突" in again.text
    assert "already processed" in again.text
    assert len(await audit_rows(rt, "banking.manual_request.process")) == 1


async def test_empty_note_is_refused_with_the_message(rt, client):
    d = await make_desk(rt, client)
    await _register_offline(rt, client, d, "客户要求临时挂失借记卡", operation="card_loss_temporary")
    (rid,) = _request_ids((await client.get("/manual-requests")).text)
    r = await client.post(f"/manual-requests/{rid}/process",
                          data={"csrf_token": d.token, "outcome": "   ", "status": "pending"})  # fmt: skip
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "填写内容有误" in r.text
    assert "say what was done" in r.text
    assert _request_ids(r.text) == [rid], "the request stays pending, with its form"
    assert "data-process-form" in r.text
    assert await audit_rows(rt, "banking.manual_request.process") == []
    no_csrf = await client.post(f"/manual-requests/{rid}/process", data={"outcome": "已办理"})
    assert no_csrf.status_code == 403
    assert "表单安全校验未通过" in no_csrf.text
    missing = await client.post("/manual-requests/999999/process", data={"csrf_token": d.token, "outcome": "已办理"})
    assert missing.status_code == 404
    assert "No manual request 999999" in missing.text


async def test_newest_first_local_time_filter_and_pages(rt, client):
    d = await make_desk(rt, client)
    base = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)
    async with rt.db.transaction() as s:
        for i in range(21):
            s.add(ManualRequest(customer_id=d.customer.id, operation="balance", details=f"第 {i} 次来电",
                                details_masked=f"第 {i} 次来电", status="pending", created_by=d.agent.id,
                                created_at=base + dt.timedelta(minutes=i)))  # fmt: skip
    first = await client.get("/manual-requests")
    ids = _request_ids(first.text)
    assert len(ids) == 20
    assert ids == sorted(ids, reverse=True)
    assert "第 20 次来电" in first.text
    assert "第 0 次来电" not in first.text
    assert "2026-03-02 10:50" in first.text, "shown in Asia/Shanghai"
    assert "第 1 / 2 页" in first.text
    assert 'href="/manual-requests?status=pending&amp;page=2"' in first.text
    second = await client.get("/manual-requests", params={"status": "pending", "page": "2"})
    assert "第 0 次来电" in second.text
    assert len(_request_ids(second.text)) == 1
    beyond = await client.get("/manual-requests", params={"page": "99"})
    assert "第 2 / 2 页" in beyond.text
    processed = await client.get("/manual-requests", params={"status": "processed"})
    assert _request_ids(processed.text) == []
    everything = await client.get("/manual-requests", params={"status": "all", "page": "2"})
    assert len(_request_ids(everything.text)) == 1
    odd = await client.get("/manual-requests", params={"status": "bogus", "page": "x"})
    assert odd.status_code == 200
    assert len(_request_ids(odd.text)) == 20


async def test_role_without_banking_manual_gets_403_page(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    token = await web_login(client, editor)
    home = await client.get("/")
    assert 'data-nav="manual_requests"' not in home.text
    r = await client.get("/manual-requests")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "无权访问" in r.text
    p = await client.post("/manual-requests/1/process", data={"csrf_token": token, "outcome": "已办理"})
    assert p.status_code == 403
    assert "无权访问" in p.text
    denied = await audit_rows(rt, "auth.denied")
    assert denied, "the refused page is audited"
