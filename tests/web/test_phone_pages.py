"""The phone desk (/phone) and the wallboard (/wallboard) through httpx: who may open them, a call from
the simulator to the wrap-up with the forms that work without JavaScript, a consult transfer offered
to a second agent, CSRF, bad input, and the wallboard's first snapshot."""

from __future__ import annotations

import re

from httpx import ASGITransport, AsyncClient

from kefu.core.crypto import mask_name
from tests.factories import make_customer, make_staff, raw_rows
from tests.web.helpers import csrf_of, web_login
from tests.web.phone_helpers import answered_call, finished_call, go_ready, h, leaf_category, section, setup_routing

PHONE = "13912345678"


async def test_who_may_open_the_phone_desk_and_the_wallboard(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    await web_login(client, agent)
    page = await client.get("/phone")
    assert page.status_code == 200, page.text
    assert 'data-nav="phone"' in page.text
    assert 'data-nav="contacts"' in page.text
    assert 'data-nav="wallboard"' not in page.text
    assert 'data-section="presence"' in page.text
    assert "软电话模拟器" in page.text  # the simulator is on by default
    assert "2 储蓄 / savings" in page.text  # IVR menu from the configured routes
    assert 'id="phone-config"' in page.text
    assert "/static/phone.js" in page.text
    assert (await client.get("/wallboard")).status_code == 403
    client.cookies.clear()
    for roles in (["supervisor"], ["qa_inspector"], ["kb_editor"]):
        member = await make_staff(rt, roles=roles)
        await web_login(client, member)
        r = await client.get("/phone")
        assert r.status_code == 403, roles
        assert "无权访问" in r.text
        assert (await client.post("/phone/presence", data={"presence": "ready"})).status_code == 403
        client.cookies.clear()
    lead = await make_staff(rt, roles=["team_lead"])
    await web_login(client, lead)
    assert (await client.get("/phone")).status_code == 200
    board = await client.get("/wallboard")
    assert board.status_code == 200
    assert 'data-queue="general"' in board.text


async def test_a_call_from_the_simulator_to_the_wrap_up_without_javascript(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    customer = await make_customer(rt, phone=PHONE, name="欧阳明华", tier="gold")
    token = await web_login(client, agent)

    r = await client.post("/phone/presence", data={"csrf_token": token, "presence": "ready"})
    assert r.status_code == 303
    assert r.headers["location"] == "/phone?done=presence"
    page = (await client.get("/phone?done=presence")).text
    assert 'data-presence-badge="ready"' in page
    assert "状态已更新" in page

    r = await client.post("/phone/simulate", data={"csrf_token": token, "customer_no": customer.customer_no.lower(),
                                                   "caller": PHONE, "route": f"{'4000000000'}|2"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = (await client.get("/phone")).text
    offer = section(page, re.search(r'data-section="(call-\d+)"', page).group(1))  # type: ignore[union-attr]
    assert "data-ringing" in offer
    assert "来电振铃" in offer
    assert "139****5678" in offer
    assert PHONE not in page
    assert mask_name("欧阳明华") in offer
    assert "欧阳明华" not in page
    assert f'href="/customers/{customer.id}"' in offer
    assert "data-countdown-to=" in offer
    cid = int(re.search(r'data-contact="(\d+)"', offer).group(1))  # type: ignore[union-attr]

    for action, shown in (("accept", "通话中"), ("hold", "通话保持中"), ("resume", "通话中")):
        r = await client.post(f"/phone/contacts/{cid}/{action}", data={"csrf_token": token})
        assert r.status_code == 303, (action, r.text)
        assert shown in section((await client.get("/phone")).text, f"call-{cid}")
    r = await client.post(f"/phone/contacts/{cid}/hangup", data={"csrf_token": token})
    assert r.status_code == 303
    page = (await client.get("/phone")).text
    wrap = section(page, f"wrapup-{cid}")
    assert "话后小结" in wrap
    assert 'name="category_id"' in wrap
    assert "账户/储蓄" in wrap

    # going ready before the wrap-up is refused, in words
    r = await client.post("/phone/presence", data={"csrf_token": token, "presence": "ready"})
    assert r.status_code == 409
    assert "请先完成话后小结" in section(r.text, "presence")

    # a promised follow-up needs its time: refused, with the input kept
    form = {"csrf_token": token, "category_id": str(await leaf_category(rt)), "summary": "客户询问 13800001111 的转账",
            "result": "follow_up", "kb_entries": "转账限额说明\n跨行到账时间", "follow_up_details": "核实跨行到账时间",
            "follow_up_due": "", "then": "ready"}  # fmt: skip
    r = await client.post(f"/phone/contacts/{cid}/wrapup", data=form)
    assert r.status_code == 422
    wrap = section(r.text, f"wrapup-{cid}")
    assert "alert-error" in wrap
    assert "核实跨行到账时间" in wrap
    assert "跨行到账时间" in wrap

    form["follow_up_due"] = "2099-01-05T10:30"
    r = await client.post(f"/phone/contacts/{cid}/wrapup", data=form)
    assert r.status_code == 422  # more than a year ahead
    form["follow_up_due"] = await _tomorrow_local(rt)
    r = await client.post(f"/phone/contacts/{cid}/wrapup", data=form)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/phone?done=wrapup_ready"
    page = (await client.get("/phone")).text
    assert 'data-presence-badge="ready"' in page
    assert f'data-wrapup="{cid}"' not in page
    assert "核实跨行到账时间" in section(page, "follow-ups")
    rows = await raw_rows(rt, "SELECT status FROM contacts WHERE id = :i", i=cid)
    assert rows[0].status == "closed"
    fu = await raw_rows(rt, "SELECT due_at FROM follow_ups WHERE contact_id = :i", i=cid)
    assert len(fu) == 1


async def _tomorrow_local(rt) -> str:  # type: ignore[no-untyped-def]
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kefu.core import clock

    return (clock.now() + dt.timedelta(days=1)).astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%dT%H:%M")


async def test_consult_transfer_rings_the_second_agent_who_takes_the_call(rt, client, app):
    first = await make_staff(rt, roles=["agent"])
    second = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, first, second)
    token = await web_login(client, first)
    cid = await answered_call(client, token, caller=PHONE)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as other:
        token2 = await web_login(other, second)
        await go_ready(other, token2)
        r = await client.post(f"/phone/contacts/{cid}/transfer",
                              data={"csrf_token": token, "staff_no": second.staff_no, "mode": "consult"})  # fmt: skip
        assert r.status_code == 303, r.text
        mine = section((await client.get("/phone")).text, f"call-{cid}")
        assert "data-transfer-pending" in mine
        assert "取消转接" in mine
        live = (await other.get("/phone/live")).text
        assert "<html" not in live
        offer = section(live, f"call-{cid}")
        assert "咨询转接来电" in offer
        assert "139****5678" in offer
        assert "data-ringing" in offer
        r = await other.post(f"/phone/contacts/{cid}/accept", data={"csrf_token": token2})
        assert r.status_code == 303
        assert "通话中" in section((await other.get("/phone")).text, f"call-{cid}")
    page = (await client.get("/phone")).text
    assert 'data-presence-badge="wrap_up"' in page
    assert "没有待填写的话后小结" in page
    assert f'data-section="call-{cid}"' not in page


async def test_forms_need_the_csrf_token_and_bad_input_is_never_a_500(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    token = await web_login(client, agent)
    r = await client.post("/phone/presence", data={"presence": "ready"})
    assert r.status_code == 403
    assert "表单安全校验未通过" in r.text
    bad = [
        ("/phone/presence", {"presence": "dancing"}, 422),
        ("/phone/presence", {"presence": "not_ready", "reason": "nap"}, 422),
        ("/phone/contacts/999999/accept", {}, 404),
        ("/phone/contacts/999999/hangup", {}, 404),
        ("/phone/contacts/not-a-number/hangup", {}, 400),
        ("/phone/contacts/1/explode", {}, 404),
        ("/phone/simulate", {"caller": "call me maybe"}, 422),
        ("/phone/simulate", {"route": "|abc"}, 422),
        ("/phone/simulate/hangup", {"call_id": "pbx-123"}, 404),
        ("/phone/contacts/999999/wrapup", {"category_id": "x", "result": "resolved"}, 422),
        ("/phone/contacts/999999/wrapup", {"category_id": "1", "result": "nope"}, 422),
        ("/phone/contacts/999999/callback", {"due_at": "tomorrow"}, 422),
        ("/phone/contacts/999999/transfer", {"queue": "general", "mode": "sideways"}, 422),
    ]
    for url, data, status in bad:
        r = await client.post(url, data={"csrf_token": token, **data})
        assert r.status_code == status, (url, data, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
    cid = await answered_call(client, token, caller=PHONE)
    r = await client.post(f"/phone/contacts/{cid}/transfer", data={"csrf_token": token, "staff_no": "NOBODY"})
    assert r.status_code == 422
    assert "alert-error" in section(r.text, f"call-{cid}")
    assert 'value="NOBODY"' in r.text  # the input kept
    r = await client.post(f"/phone/contacts/{cid}/callback", data={"csrf_token": token, "due_at": "2020-01-01T10:00"})
    assert r.status_code == 422
    r = await client.post(f"/phone/contacts/{cid}/callback",
                          data={"csrf_token": token, "due_at": await _tomorrow_local(rt), "to_self": "1"})  # fmt: skip
    assert r.status_code == 303
    assert await raw_rows(rt, "SELECT id FROM contacts WHERE callback_of = :i", i=cid)


async def test_simulator_turned_off(rt, client):
    rt.settings.softphone_simulator = False
    agent = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent)
    token = await web_login(client, agent)
    page = await client.get("/phone")
    assert page.status_code == 200
    assert "软电话模拟器" not in page.text
    r = await client.post("/phone/simulate", data={"csrf_token": token})
    assert r.status_code == 404


async def test_wallboard_first_snapshot_shows_waiting_and_service_level(rt, client, app):
    agent = await make_staff(rt, roles=["agent"], name="林一凡")
    supervisor = await make_staff(rt, roles=["supervisor"])
    await setup_routing(rt, agent)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as desk:
        token = await web_login(desk, agent)
        await finished_call(rt, desk, token, caller=PHONE)
        await desk.post("/api/v1/desk/presence", json={"presence": "not_ready", "reason": "break"}, headers=h(token))
        r = await desk.post("/api/v1/cti/simulate", json={"caller": "13700001111"}, headers=h(token))
        assert r.json()["action"] == "queue"
    await web_login(client, supervisor)
    page = await client.get("/wallboard")
    assert page.status_code == 200
    row = re.search(r'<tr data-queue="general">.*?</tr>', page.text, re.S).group(0)  # type: ignore[union-attr]
    assert re.search(r'data-field="waiting">1<', row)
    assert re.search(r'data-field="offered">2<', row)
    assert re.search(r'data-field="answered">1<', row)
    assert "100.0%" in row  # the answered call was within the ring target
    assert "3 声接通率" in page.text
    agents = re.search(r"data-agent-rows>.*?</tbody>", page.text, re.S).group(0)  # type: ignore[union-attr]
    assert "林一凡" in agents
    assert "未就绪" in agents
    assert "小休" in agents
    assert 'id="wall-config"' in page.text
    live = await client.get("/api/v1/routing/live")
    assert live.status_code == 200
    assert csrf_of(page.text)  # the sign-out form carries the token
