"""Agents' replies on SMS and WeChat contacts: sent after commit to a real local HTTP gateway (JSON, bearer
token, idempotency key), failures recorded on the outbox row, the thread API (masked, scoped, audited),
permissions, and the length and window rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from kefu.channels import sms, wechat
from kefu.core import clock
from tests.channels.msg_helpers import (
    PROBLEM,
    SMS_SECRET,
    WECHAT_TOKEN,
    Gateway,
    post_sms,
    post_wechat,
    running_gateway,
    wait_for,
    wechat_xml,
)
from tests.channels.msg_helpers import sms as sms_body
from tests.contacts.conftest import handled
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_customer, make_staff, make_team, raw_rows

PHONE = "13800135678"
OPENID = "oAbC-dEf_0123456789xyzUVWxyz"
T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    yield from running_gateway()


async def _sms_thread(rt, client) -> tuple[int, object, int]:
    """A customer on a call with an agent texts in: the new SMS contact is owned by that agent."""
    rt.settings.sms_webhook_secret = SecretStr(SMS_SECRET)
    clock.freeze(T0)
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    customer = await make_customer(rt, phone=PHONE)
    await handled(rt, agent.id, caller_number=PHONE, end=False, arrived=T0 - dt.timedelta(minutes=3))
    r = await post_sms(client, sms_body(PHONE, "卡号 6222021234567890123 转账失败", "in-1"))
    assert r.status_code == 200, r.text
    (c,) = await raw_rows(rt, "SELECT id FROM contacts WHERE channel = 'sms'")
    return c.id, agent, customer.id


async def _outbox(rt) -> list:
    return await raw_rows(rt, "SELECT id, channel, kind, status, provider_ref, last_error, attempts, customer_id "
                              "FROM outbound_messages ORDER BY id")  # fmt: skip


async def test_sms_reply_through_a_real_gateway(rt, client, gateway):
    contact_id, agent, customer_id = await _sms_thread(rt, client)
    rt.settings.sms_gateway_url = gateway.url + "/sms/send"
    rt.settings.sms_gateway_token = SecretStr("gw-token")
    h = await auth_headers(client, agent)
    r = await client.post(
        f"/api/v1/channels/contacts/{contact_id}/reply", json={"text": "您好，已为您处理。"}, headers=h
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["direction"], out["agent_id"], out["segments"], out["address"]) == ("outbound", agent.id, 1,
                                                                                    "138****5678")  # fmt: skip

    async def sent() -> bool:
        return [m.status for m in await _outbox(rt)] == ["sent"]

    await wait_for(sent)
    (req,) = gateway.requests
    assert req["path"] == "/sms/send"
    assert req["json"]["to"] == PHONE
    assert req["json"]["text"] == rt.settings.sms_signature + "您好，已为您处理。"
    assert req["headers"]["Authorization"] == "Bearer gw-token"
    assert req["headers"]["Idempotency-Key"] == req["json"]["client_ref"] == f"kefu-sms-{out['outbound_id']}"
    (row,) = await _outbox(rt)
    assert (row.channel, row.kind, row.provider_ref, row.attempts, row.customer_id) == ("sms", "reply", "gw-1", 1,
                                                                                        customer_id)  # fmt: skip
    r = await client.get(f"/api/v1/channels/contacts/{contact_id}/messages", headers=h)
    assert r.status_code == 200, r.text
    thread = r.json()
    assert [(m["direction"], m["delivery"]) for m in thread["messages"]] == [("inbound", None), ("outbound", "sent")]
    assert "6222021234567890123" not in r.text
    assert PHONE not in r.text
    assert thread["messages"][0]["text"].startswith("卡号 622202")
    (entry,) = await audit_rows(rt, "channel.reply")
    assert "处理" not in entry.after
    assert '"segments":1' in entry.after
    assert await audit_rows(rt, "channel.thread_view")
    # the customer answers within the window: same contact
    r = await post_sms(client, sms_body(PHONE, "好的谢谢", "in-2"))
    rows = await raw_rows(rt, "SELECT contact_id FROM channel_messages ORDER BY id")
    assert {x.contact_id for x in rows} == {contact_id}
    assert len(rows) == 3


async def test_gateway_refusal_is_recorded_on_the_outbox_row(rt, client, gateway):
    contact_id, agent, _ = await _sms_thread(rt, client)
    rt.settings.sms_gateway_url = gateway.url
    gateway.status = 503
    h = await auth_headers(client, agent)
    r = await client.post(f"/api/v1/channels/contacts/{contact_id}/reply", json={"text": "稍后回复您"}, headers=h)
    assert r.status_code == 201, r.text

    async def failed() -> bool:
        return [m.status for m in await _outbox(rt)] == ["failed"]

    await wait_for(failed)
    (row,) = await _outbox(rt)
    assert "HTTP 503" in row.last_error
    assert PHONE not in row.last_error
    r = await client.get(f"/api/v1/channels/contacts/{contact_id}/messages", headers=h)
    out = r.json()["messages"][-1]
    assert out["delivery"] == "failed"
    assert "503" in out["delivery_error"]


async def test_default_sender_stops_at_the_outbox_and_length_rules(rt, client):
    contact_id, agent, _ = await _sms_thread(rt, client)
    h = await auth_headers(client, agent)
    url = f"/api/v1/channels/contacts/{contact_id}/reply"
    room = sms.SMS_MAX_CHARS - len(rt.settings.sms_signature)
    r = await client.post(url, json={"text": "长" * (room + 1)}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    assert f"at most {room} characters" in r.json()["detail"]
    for bad in ({"text": "   "}, {"text": ""}, {}, {"text": 5}):
        r = await client.post(url, json=bad, headers=h)
        assert r.status_code == 422, r.text
    r = await client.post(url, json={"text": "长" * room}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["segments"] == 8  # 500 UCS-2 characters in parts of 67
    assert r.json()["delivery"] == "pending"
    assert [m.status for m in await _outbox(rt)] == ["pending"]


async def test_reply_permissions_and_scope(rt, client):
    contact_id, agent, customer_id = await _sms_thread(rt, client)
    url = f"/api/v1/channels/contacts/{contact_id}/reply"
    other = await make_staff(rt, roles=["agent"], team_id=await make_team(rt))
    r = await client.post(url, json={"text": "你好"}, headers=await auth_headers(client, other))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.get(f"/api/v1/channels/contacts/{contact_id}/messages", headers=await auth_headers(client, other))
    assert r.status_code == 404
    qa = await make_staff(rt, roles=["qa_inspector"])
    hq = await auth_headers(client, qa)
    r = await client.post(url, json={"text": "你好"}, headers=hq)
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    r = await client.get(f"/api/v1/channels/contacts/{contact_id}/messages", headers=hq)
    assert r.status_code == 200  # quality reads every contact
    r = await client.get("/api/v1/channels/contacts/99999999/messages", headers=hq)
    assert r.status_code == 404
    (phone_call,) = await raw_rows(rt, "SELECT id FROM contacts WHERE channel = 'phone'")
    r = await client.post(f"/api/v1/channels/contacts/{phone_call.id}/reply", json={"text": "你好"},
                          headers=await auth_headers(client, agent))  # fmt: skip
    assert r.status_code == 409
    assert r.json()["code"] == "not_a_message_contact"
    r = await client.post(url, json={"text": "你好"})
    assert r.status_code == 401


async def test_wechat_reply_through_a_real_gateway_and_the_48_hour_window(rt, client, gateway):
    rt.settings.wechat_token = SecretStr(WECHAT_TOKEN)
    rt.settings.wechat_gateway_url = gateway.url + "/wechat/send"
    clock.freeze(T0)
    customer = await make_customer(rt)
    sup = await make_staff(rt, roles=["supervisor"])
    agent = await make_staff(rt, roles=["agent"])
    h = await auth_headers(client, agent)
    r = await client.post("/api/v1/channels/wechat/bindings", json={"openid": OPENID, "customer_id": customer.id},
                          headers=h)  # fmt: skip
    assert r.status_code == 200, r.text
    await handled(rt, agent.id, customer_id=customer.id, end=False, arrived=T0 - dt.timedelta(minutes=1))
    assert (await post_wechat(client, wechat_xml(OPENID, "在吗", "w-1"))).text == "success"
    (c,) = await raw_rows(rt, "SELECT id, owner_id, customer_id FROM contacts WHERE channel = 'wechat'")
    assert (c.owner_id, c.customer_id) == (agent.id, customer.id)
    url = f"/api/v1/channels/contacts/{c.id}/reply"
    r = await client.post(url, json={"text": "您好，请讲。"}, headers=h)
    assert r.status_code == 201, r.text
    wid = r.json()["outbound_id"]

    async def sent() -> bool:
        return [m.status for m in await _outbox(rt)] == ["sent"]

    await wait_for(sent)
    (req,) = gateway.requests
    assert (req["path"], req["json"]["to"], req["json"]["text"]) == ("/wechat/send", OPENID, "您好，请讲。")
    assert req["headers"]["Idempotency-Key"] == f"kefu-wechat-{wid}"
    assert "Authorization" not in req["headers"]  # no token configured
    r = await client.post(url, json={"text": "长" * (wechat.WECHAT_MAX_CHARS + 1)}, headers=h)
    assert r.status_code == 422
    clock.advance(dt.timedelta(hours=wechat.REPLY_WINDOW_HOURS, minutes=1))
    h = await auth_headers(client, agent)
    r = await client.post(url, json={"text": "还在吗？"}, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "wechat_window_closed"
    r = await client.get(f"/api/v1/contacts/timeline/{customer.id}", headers=await auth_headers(client, sup))
    assert "wechat" in [i["channel"] for i in r.json()["items"]]
