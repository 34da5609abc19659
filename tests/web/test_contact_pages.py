"""Contact records (/contacts, /contacts/{id}, /customers/{id}/contacts) and follow-ups (/follow-ups)
through httpx: scope per role, filters and pages, the masked caller and summary, the event timeline,
audit of views, closing and reassigning follow-ups with CSRF, and bad input that never gives a 500."""

from __future__ import annotations

import datetime as dt
import re

from httpx import ASGITransport, AsyncClient

from kefu.core import clock
from tests.factories import make_customer, make_staff, make_team, raw_rows
from tests.web.helpers import csrf_of, web_login
from tests.web.phone_helpers import due_in, finished_call, setup_routing

PHONE = "13912345678"


async def _audits(rt, action: str) -> list[str]:  # type: ignore[no-untyped-def]
    rows = await raw_rows(rt, "SELECT object_id FROM audit_log WHERE action = :a ORDER BY seq", a=action)
    return [r.object_id for r in rows]


async def test_contact_list_is_scoped_filtered_and_paged(rt, client, app):
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent, other)
    customer = await make_customer(rt, phone=PHONE)
    token = await web_login(client, agent)
    mine = [await finished_call(rt, client, token, caller=PHONE) for _ in range(3)]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c2:
        theirs = await finished_call(rt, c2, await web_login(c2, other), caller="13600002222")

    page = await client.get("/contacts")
    assert page.status_code == 200
    ids = [int(x) for x in re.findall(r'data-contact-row="(\d+)"', page.text)]
    assert ids == sorted(mine, reverse=True)  # newest first, only the agent's own
    assert theirs not in ids
    assert "139****5678" in page.text
    assert PHONE not in page.text
    assert f'href="/customers/{customer.id}"' in page.text

    r = await client.get(
        "/contacts", params={"status": "closed", "customer_no": customer.customer_no, "queue": "general"}
    )
    assert len(re.findall(r"data-contact-row=", r.text)) == 3
    assert len(re.findall(r"data-contact-row=", (await client.get("/contacts?status=abandoned")).text)) == 0
    assert "没有符合条件" in (await client.get("/contacts?customer_no=C9999999999")).text
    r = await client.get("/contacts?date_from=yesterday")
    assert r.status_code == 422
    assert "alert-error" in r.text
    today = clock.local(clock.now(), rt.settings.timezone).date().isoformat()
    r = await client.get("/contacts", params={"date_from": today, "date_to": today, "page": "99999"})
    assert r.status_code == 200
    assert len(re.findall(r"data-contact-row=", r.text)) == 3
    assert (await client.get("/contacts?status=bogus&channel=fax&page=-3")).status_code == 200

    client.cookies.clear()
    qa = await make_staff(rt, roles=["qa_inspector"])
    await web_login(client, qa)
    ids = [int(x) for x in re.findall(r'data-contact-row="(\d+)"', (await client.get("/contacts")).text)]
    assert set(ids) == {*mine, theirs}  # quality inspectors read every contact
    assert (await client.get(f"/contacts?staff_no={other.staff_no}")).text.count("data-contact-row=") == 1
    client.cookies.clear()
    await web_login(client, await make_staff(rt, roles=["kb_editor"]))
    assert (await client.get("/contacts")).status_code == 403


async def test_contact_detail_shows_timeline_wrapup_and_follow_up(rt, client, app):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    await make_customer(rt, phone=PHONE)
    token = await web_login(client, agent)
    cid = await finished_call(rt, client, token, caller=PHONE, summary="客户手机 13800001111 挂失后补卡", result="follow_up",
                              follow_up={"details": "核实补卡进度后回电", "due_at": due_in(24)})  # fmt: skip
    page = await client.get(f"/contacts/{cid}")
    assert page.status_code == 200, page.text
    assert "139****5678" in page.text
    assert PHONE not in page.text
    assert "13800001111" not in page.text
    assert "138****1111" in page.text
    events = re.findall(r'data-event="([a-z_]+)"', page.text)
    assert events[:2] == ["arrived", "queued"]
    assert {"offered", "answered", "ended", "wrapped_up"} <= set(events)
    assert "来电接入" in page.text
    assert "完成小结" in page.text
    assert "核实补卡进度后回电" in page.text
    assert "待回复" in page.text
    assert "余额与明细" in page.text  # the category, in the reader's language
    assert str(cid) in await _audits(rt, "contact.view")
    client.cookies.set("kefu_lang", "en")
    assert "Balance and transactions" in (await client.get(f"/contacts/{cid}")).text

    assert (await client.get("/contacts/999999")).status_code == 404
    assert (await client.get("/contacts/abc")).status_code == 400
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c2:
        await web_login(c2, await make_staff(rt, roles=["agent"]))
        assert (await c2.get(f"/contacts/{cid}")).status_code == 404  # not in another agent's scope


async def test_customer_timeline_from_the_customer_page(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    customer = await make_customer(rt, phone=PHONE)
    token = await web_login(client, agent)
    first = await finished_call(rt, client, token, caller=PHONE, summary="第一次来电查询")
    second = await finished_call(rt, client, token, customer_no=customer.customer_no, summary="第二次来电补卡")
    page = await client.get(f"/customers/{customer.id}/contacts")
    assert page.status_code == 200
    ids = [int(x) for x in re.findall(r'data-contact-row="(\d+)"', page.text)]
    assert ids == [second, first]
    assert "第二次来电补卡" in page.text
    assert "已解决" in page.text
    assert str(customer.id) in await _audits(rt, "contact.timeline_view")
    assert (await client.get("/customers/999999/contacts")).status_code == 404
    customer_page = (await client.get(f"/customers/{customer.id}")).text
    assert f'href="/customers/{customer.id}/contacts" data-contact-history' in customer_page


async def test_follow_ups_mine_close_and_overdue(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    token = await web_login(client, agent)
    soon = await finished_call(rt, client, token, caller=PHONE, result="follow_up",
                               follow_up={"details": "回复利率调整时间", "due_at": due_in(0.25)})  # fmt: skip
    later = await finished_call(rt, client, token, caller=PHONE, result="follow_up",
                                follow_up={"details": "回复分期手续费", "due_at": due_in(30)})  # fmt: skip
    page = await client.get("/follow-ups")
    assert page.status_code == 200
    rows = re.findall(r'data-follow-up="(\d+)" data-state="([a-z]+)"', page.text)
    assert [state for _, state in rows] == ["soon", "open"]
    fid = int(rows[0][0])
    assert f"/contacts/{soon}" in page.text
    assert f"/contacts/{later}" in page.text

    clock.freeze(clock.now() + dt.timedelta(minutes=20))  # within the session's idle time
    page = await client.get("/follow-ups")
    assert re.findall(r'data-state="([a-z]+)"', page.text) == ["overdue", "open"]
    assert "已逾期" in page.text
    assert len(re.findall(r"data-follow-up=", (await client.get("/follow-ups?overdue=1")).text)) == 1

    r = await client.post(f"/follow-ups/{fid}/close", data={"answer_channel": "phone", "answer_note": "已电话答复"})
    assert r.status_code == 403  # no CSRF token
    r = await client.post(f"/follow-ups/{fid}/close",
                          data={"csrf_token": token, "answer_channel": "phone", "answer_note": "x"})  # fmt: skip
    assert r.status_code == 422
    assert "alert-error" in r.text
    r = await client.post(f"/follow-ups/{fid}/close",
                          data={"csrf_token": token, "answer_channel": "pigeon", "answer_note": "已答复"})  # fmt: skip
    assert r.status_code == 422
    r = await client.post(f"/follow-ups/{fid}/close", data={"csrf_token": token, "answer_channel": "phone",
                                                           "answer_note": "已电话告知客户利率调整时间", "status": "open"})  # fmt: skip
    assert r.status_code == 303
    assert "done=closed" in r.headers["location"]
    assert (await raw_rows(rt, "SELECT status FROM follow_ups WHERE id = :i", i=fid))[0].status == "done"
    assert str(fid) in await _audits(rt, "followup.close")
    done = (await client.get("/follow-ups?status=done")).text
    assert "已电话告知客户利率调整时间" in done
    assert "答复方式：电话" in done
    r = await client.post(f"/follow-ups/{fid}/close",
                          data={"csrf_token": token, "answer_channel": "phone", "answer_note": "再次办结"})  # fmt: skip
    assert r.status_code == 409
    assert "alert-error" in r.text
    assert (
        await client.post("/follow-ups/999999/close", data={"csrf_token": token, "answer_note": "无"})
    ).status_code == 404
    # agents do not reassign
    r = await client.post(f"/follow-ups/{fid}/reassign", data={"csrf_token": token, "staff_no": agent.staff_no})
    assert r.status_code == 403


async def test_team_lead_and_supervisor_see_and_reassign_follow_ups(rt, client, app):
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    mate = await make_staff(rt, roles=["agent"], team_id=team)
    lead = await make_staff(rt, roles=["team_lead"], team_id=team)
    await setup_routing(rt, agent)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as desk:
        token = await web_login(desk, agent)
        await finished_call(rt, desk, token, caller=PHONE, result="follow_up",
                            follow_up={"details": "核实挂失费用", "due_at": due_in(5)})  # fmt: skip
    fid = int((await raw_rows(rt, "SELECT id FROM follow_ups"))[0].id)

    lead_token = await web_login(client, lead)
    page = await client.get("/follow-ups")
    assert 'aria-current="page"' in page.text
    assert "本组" in page.text
    team_page = await client.get("/follow-ups?scope=team")
    assert "核实挂失费用" in team_page.text
    assert "data-reassign-form" in team_page.text
    form = {"csrf_token": lead_token, "staff_no": mate.staff_no, "reason": "短", "scope": "team"}
    r = await client.post(f"/follow-ups/{fid}/reassign", data=form)
    assert r.status_code == 422
    assert "alert-error" in r.text
    r = await client.post(f"/follow-ups/{fid}/reassign", data={**form, "staff_no": "NOBODY", "reason": "休假调整"})
    assert r.status_code == 422
    r = await client.post(f"/follow-ups/{fid}/reassign", data={**form, "reason": "原负责人休假"})
    assert r.status_code == 303
    assert "scope=team" in r.headers["location"]
    owner = (await raw_rows(rt, "SELECT owner_id FROM follow_ups WHERE id = :i", i=fid))[0].owner_id
    assert owner == mate.id
    assert str(fid) in await _audits(rt, "followup.reassign")

    client.cookies.clear()
    supervisor = await make_staff(rt, roles=["supervisor"])
    await web_login(client, supervisor)
    page = await client.get("/follow-ups")
    assert page.status_code == 200
    assert "全中心" in page.text
    assert "核实挂失费用" in page.text
    assert csrf_of(page.text)
    client.cookies.clear()
    await web_login(client, await make_staff(rt, roles=["qa_inspector"]))
    assert (await client.get("/follow-ups")).status_code == 403
