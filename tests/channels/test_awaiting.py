"""SMS and WeChat messages nobody has answered: the list (/messages, GET /api/v1/channels/awaiting) shows every
SMS / WeChat contact whose customer's last message has no reply, oldest first, masked; an agent takes an
unowned one (owner, event, audit; a second taker is refused), answers it from the contact page's reply form
(bad input shown with the text kept), and it leaves the list until the customer writes again."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr

from kefu.channels import sms, threads
from kefu.core import clock
from tests.channels.msg_helpers import PROBLEM, SMS_SECRET, post_sms
from tests.channels.msg_helpers import sms as sms_body
from tests.factories import make_staff, raw_rows
from tests.web.helpers import web_login

NUMBER = "13700135601"
T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


async def _texted(rt, client, text: str, msg_id: str) -> int:
    r = await post_sms(client, sms_body(NUMBER, text, msg_id))
    assert r.status_code == 200, r.text
    (c,) = await raw_rows(rt, "SELECT id FROM contacts WHERE channel = 'sms' ORDER BY id DESC LIMIT 1")
    return int(c.id)


async def test_an_unanswered_sms_is_listed_taken_and_answered_from_its_page(rt, client):
    rt.settings.sms_webhook_secret = SecretStr(SMS_SECRET)
    clock.freeze(T0)
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    supervisor = await make_staff(rt, roles=["supervisor"])
    planner = await make_staff(rt, roles=["wfm_planner"])
    cid = await _texted(rt, client, "请问我的信用卡什么时候寄出？", "m-1")
    clock.advance(dt.timedelta(minutes=12))

    token = await web_login(client, agent)
    page = await client.get("/messages")
    assert page.status_code == 200
    assert f'data-awaiting="{cid}"' in page.text
    assert f'data-take="{cid}"' in page.text
    assert NUMBER not in page.text  # masked
    assert "信用卡" not in page.text  # the list is not a reading of the messages
    assert "已等待 12 分钟" in page.text
    assert 'href="/messages"' in page.text  # in the menu
    api = (await client.get("/api/v1/channels/awaiting", headers={"X-CSRF-Token": token})).json()
    assert [(i["contact_id"], i["channel"], i["owner_id"]) for i in api["items"]] == [(cid, "sms", None)]
    async with rt.db.transaction() as s:
        assert await threads.count_awaiting(s, now=clock.now()) == {"sms": 1, "wechat": 0}
    assert (await client.get(f"/contacts/{cid}")).status_code == 404  # nobody's yet: not in the agent's scope

    r = await client.post(f"/messages/{cid}/take", data={"csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == f"/contacts/{cid}?done=taken#reply"
    page = await client.get(f"/contacts/{cid}?done=taken")
    assert page.status_code == 200
    assert "data-channel-reply" in page.text
    assert "已接手这条消息" in page.text
    assert "信用卡什么时候寄出" in page.text  # the thread, now theirs to read
    (ev,) = await raw_rows(rt, "SELECT agent_id FROM contact_events WHERE contact_id = :c AND kind = 'taken'", c=cid)
    assert ev.agent_id == agent.id
    audits = await raw_rows(rt, "SELECT object_id FROM audit_log WHERE action = 'contact.take'")
    assert [a.object_id for a in audits] == [str(cid)]
    assert 'href="/contacts/' in (await client.get("/messages")).text  # mine: "answer", no second take button

    for text, expected in (("   ", "Write the reply first"), ("长" * (sms.SMS_MAX_CHARS + 1), "at most")):
        r = await client.post(f"/contacts/{cid}/reply", data={"csrf_token": token, "text": text})
        assert r.status_code == 422, r.text
        assert "alert-error" in r.text
        assert expected in r.text
    assert "长" * 50 in r.text  # the text is kept in the form
    r = await client.post(f"/contacts/{cid}/reply", data={"csrf_token": token, "text": "您好，卡片已于今日寄出。"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/contacts/{cid}?done=replied#reply"
    rows = await raw_rows(rt, "SELECT channel, kind, status FROM outbound_messages")
    assert [(o.channel, o.kind, o.status) for o in rows] == [("sms", "reply", "pending")]
    assert f'data-awaiting="{cid}"' not in (await client.get("/messages")).text  # answered

    clock.advance(dt.timedelta(minutes=5))
    again = await _texted(rt, client, "好的，谢谢", "m-2")
    assert again == cid  # threaded into the same contact
    page = (await client.get("/messages")).text
    assert f'data-awaiting="{cid}"' in page  # waiting again, and still the agent's
    assert f'data-take="{cid}"' not in page

    client.cookies.clear()
    token2 = await web_login(client, other)
    r = await client.post(f"/messages/{cid}/take", data={"csrf_token": token2})
    assert r.status_code == 409  # already owned
    assert "alert-error" in r.text
    r = await client.post(f"/api/v1/channels/contacts/{cid}/take", headers={"X-CSRF-Token": token2})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "already_owned"
    (phone_like,) = await raw_rows(rt, "SELECT COUNT(*) AS n FROM contacts WHERE owner_id = :a", a=other.id)
    assert phone_like.n == 0

    client.cookies.clear()
    await web_login(client, supervisor)  # reaches the list from the wallboard; reads, takes nothing
    page = await client.get("/messages")
    assert page.status_code == 200
    assert f'data-awaiting="{cid}"' in page.text
    assert "data-take" not in page.text
    client.cookies.clear()
    await web_login(client, planner)  # the wallboard shows the count, but contacts are not theirs to read
    assert (await client.get("/messages")).status_code == 403
    assert 'href="/messages"' not in (await client.get("/wallboard/panels")).text
