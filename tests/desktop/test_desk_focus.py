"""Who the desktop's side panels are about, and who the customer is: the agent identifies the customer of a
contact (PUT /api/v1/contacts/{id}/customer, or *pick* in the panel), which puts the contact on that
customer's timeline, audited; the customer panel and the script follow the chat or e-mail tab the agent
selects (``/phone/live?focus=``), never someone else's conversation."""

from __future__ import annotations

from httpx import AsyncClient

from kefu.chat import service as chat
from kefu.core import runtime
from tests.desktop.helpers import add_script
from tests.factories import make_customer, make_staff, raw_rows
from tests.web.helpers import web_login
from tests.web.phone_helpers import answered_call, go_ready, h, leaf_category, section, setup_routing

PROBLEM = "application/problem+json"


async def _identify(client: AsyncClient, token: str, cid: int, customer_id: object) -> object:
    return await client.put(f"/api/v1/contacts/{cid}/customer", json={"customer_id": customer_id}, headers=h(token))


async def test_the_agent_identifies_and_corrects_the_customer_of_a_call(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent, other)
    first = await make_customer(rt, name="赵一鸣")
    second = await make_customer(rt, name="钱二丫")
    token = await web_login(client, agent)
    cid = await answered_call(client, token, caller="13700000009")
    assert (await client.get(f"/api/v1/contacts/{cid}", headers=h(token))).json()["customer_id"] is None

    r = await _identify(client, token, cid, first.id)
    assert r.status_code == 200, r.text
    assert r.json()["customer_id"] == first.id
    r = await _identify(client, token, cid, first.id)
    assert r.status_code == 200  # the same customer again changes nothing
    r = await _identify(client, token, cid, second.id)  # a correction
    assert r.status_code == 200
    for bad, status in ((999_999, 422), ("x", 422), (0, 422)):
        r = await _identify(client, token, cid, bad)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    r = await _identify(client, token, cid, 999_999)
    assert "customer_id" in r.text

    events = await raw_rows(rt, "SELECT kind, data FROM contact_events WHERE contact_id = :c AND kind = 'identified' "
                                "ORDER BY id", c=cid)  # fmt: skip
    assert len(events) == 2
    assert f'"previous": {first.id}' in events[1].data
    audits = await raw_rows(rt, "SELECT action, object_id FROM audit_log WHERE action = 'contact.identify'")
    assert [a.object_id for a in audits] == [str(cid), str(cid)]
    timeline = (await client.get(f"/api/v1/contacts/timeline/{second.id}", headers=h(token))).json()
    assert cid in [c["id"] for c in timeline["items"]]

    client.cookies.clear()
    token2 = await web_login(client, other)
    r = await _identify(client, token2, cid, first.id)
    assert r.status_code == 404  # not their contact
    client.cookies.clear()
    token = await web_login(client, agent)
    r = await client.post(f"/api/v1/desk/contacts/{cid}/hangup", headers=h(token))
    assert r.status_code == 204
    assert (await _identify(client, token, cid, first.id)).status_code == 200  # wrap-up owed: still correctable
    payload = {"category_id": await leaf_category(rt), "summary": "客户查询余额", "result": "resolved"}
    assert (await client.post(f"/api/v1/contacts/{cid}/wrapup", json=payload, headers=h(token))).status_code == 201
    r = await _identify(client, token, cid, second.id)
    assert r.status_code == 409  # closed: the record stands
    assert r.headers["content-type"].startswith(PROBLEM)


async def _chat_with(rt: runtime.Runtime, client: AsyncClient, token: str, phone: str) -> int:
    r = await client.post("/api/v1/chat/sessions", json={"topic": "general", "name": "访客", "phone": phone})
    assert r.status_code == 201, r.text
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=r.json()["token"])
        cid = await chat.hand_over(s, rt=rt, chat=c)
    r = await client.post(f"/api/v1/desk/digital/{cid}/accept", headers=h(token))
    assert r.status_code == 204, r.text
    return cid


async def test_the_panels_follow_the_selected_chat_and_only_the_agents_own(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    await setup_routing(rt, agent, other)
    visitor = await make_customer(rt, phone="13912340077", name="孙悦")
    await add_script(rt, scenario="default", channel="phone", greeting="电话开场{agent_no}")
    await add_script(rt, scenario="default", channel="chat", greeting="在线开场{agent_no}")
    token = await web_login(client, agent)
    await go_ready(client, token)
    chat_id = await _chat_with(rt, client, token, "13912340077")
    page = (await client.get("/phone/live")).text  # no call on the desk: the panels are about the open chat
    assert f'data-about="{chat_id}"' in section(page, "customer")
    assert 'data-digital-focus=""' in page  # not chosen: a call answered later takes the panels
    call_id = await answered_call(client, token, caller="13700000008")

    page = (await client.get("/phone/live")).text  # the call first
    assert 'data-digital-focus=""' in page
    assert "data-about" not in section(page, "customer")
    assert 'action="/phone/find"' in section(page, "customer")  # the caller is unknown
    assert "电话开场" in section(page, "script")

    page = (await client.get(f"/phone/live?focus={chat_id}")).text
    assert f'data-digital-focus="{chat_id}"' in page
    panel = section(page, "customer")
    assert f'data-about="{chat_id}"' in panel
    assert f'data-customer-panel="{visitor.id}"' in panel  # identified by the phone number given in the chat
    assert 'data-desk-focus=""' in panel  # back to the call
    assert "data-withheld" in panel  # no consent recorded: the phone is withheld, and the panel says why
    assert f'data-focus-contact="{chat_id}"' in page  # KB attachments go to the chat
    assert f"在线开场{agent.staff_no}" in section(page, "script")
    full = await client.get(f"/phone?focus={chat_id}")
    assert f'data-about="{chat_id}"' in section(full.text, "customer")

    for ignored in (str(call_id), "abc", "-1", "9" * 30):  # not a digital contact, not a number
        assert 'data-digital-focus=""' in (await client.get(f"/phone/live?focus={ignored}")).text

    # picking a customer for the chat makes it theirs; the desk keeps the chat in focus
    someone = await make_customer(rt, name="周游")
    r = await client.post(f"/phone/contacts/{chat_id}/customer",
                          data={"csrf_token": token, "customer_id": str(someone.id)})  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == f"/phone?done=picked&focus={chat_id}"
    page = (await client.get(r.headers["location"])).text
    assert f'data-customer-panel="{someone.id}"' in section(page, "customer")

    client.cookies.clear()
    await web_login(client, other)
    page = (await client.get(f"/phone/live?focus={chat_id}")).text
    assert 'data-digital-focus=""' in page  # someone else's chat is never shown
    assert str(someone.customer_no) not in page
