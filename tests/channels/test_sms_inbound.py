"""The inbound SMS webhook through the app: signature, replay guard, bad input as problem+json, dedupe,
customer identification, threading into contacts and the customer's timeline, and the live notice."""

from __future__ import annotations

import asyncio
import datetime as dt

from pydantic import SecretStr

from kefu.core import clock
from tests.channels.msg_helpers import PROBLEM, SMS_SECRET, post_sms, sms
from tests.contacts.conftest import handled
from tests.factories import auth_headers, make_customer, make_staff, raw_rows

PHONE = "13800135678"
T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def _open(rt) -> None:
    rt.settings.sms_webhook_secret = SecretStr(SMS_SECRET)
    clock.freeze(T0)


async def test_closed_without_a_secret(rt, client):
    r = await post_sms(client, sms(PHONE, "你好", "m-1"))
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "webhook_closed"
    assert "KEFU_SMS_WEBHOOK_SECRET" in r.json()["detail"]


async def test_signature_and_replay_guard(rt, client):
    _open(rt)
    body = sms(PHONE, "你好", "m-1")
    cases = [
        ({"secret": "wrong-secret"}, "bad_signature"),
        ({"signature": ""}, "bad_signature"),
        ({"signature": "sha256=" + "0" * 64}, "bad_signature"),
        ({"timestamp": int(T0.timestamp()) - 301}, "stale_timestamp"),
        ({"timestamp": int(T0.timestamp()) + 400}, "stale_timestamp"),
        ({"headers": {"X-Kefu-Timestamp": "yesterday"}}, "bad_timestamp"),
    ]
    for kw, code in cases:
        r = await post_sms(client, body, **kw)
        assert r.status_code == 401, (kw, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == code, (kw, r.text)
    # a body changed after signing fails, too
    r = await client.post("/api/v1/channels/sms/inbound", content=b'{"from":"1","text":"x","id":"y"}',
                          headers={"X-Kefu-Timestamp": str(int(T0.timestamp())),
                                   "X-Kefu-Signature": "sha256=abc"})  # fmt: skip
    assert r.status_code == 401
    assert await raw_rows(rt, "SELECT id FROM channel_messages") == []
    r = await post_sms(client, body, timestamp=int(T0.timestamp()) - 250)  # within 5 minutes
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"


async def test_bad_input_is_a_problem_never_a_500(rt, client):
    _open(rt)
    for raw, status, code in [
        (b"{not json", 400, "bad_json"),
        (b"[]", 422, "validation_failed"),
        (b'{"from": "", "text": "x", "id": "1"}', 422, "validation_failed"),
        (b'{"from": "13800135678", "text": "x"}', 422, "validation_failed"),
        (
            b'{"from": "13800135678", "text": "x", "id": "1", "received_at": "2026-11-23T09:00:00"}',
            422,
            "validation_failed",
        ),
        ('{"from": "13800135678", "text": "%s", "id": "1"}' % ("长" * 2001), 422, "validation_failed"),
        (b"\xff\xfe", 400, "bad_json"),
    ]:
        r = await post_sms(client, raw if isinstance(raw, bytes) else raw.encode())
        assert r.status_code == status, (raw[:40], r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == code
    r = await post_sms(client, b"x" * (17 * 1024))
    assert r.status_code == 413, r.text


async def test_dedupe_identification_threading_and_timeline(rt, client):
    _open(rt)
    customer = await make_customer(rt, phone=PHONE)
    r = await post_sms(client, sms("+86 138-0013-5678", "我的卡被锁了", "gw-1"))
    assert r.status_code == 200, r.text
    first = r.json()["message_id"]
    r = await post_sms(client, sms(PHONE, "我的卡被锁了", "gw-1"))  # the gateway's retry
    assert r.json() == {"status": "duplicate", "message_id": first}
    clock.advance(dt.timedelta(hours=23))
    assert (await post_sms(client, sms(PHONE, "还在吗", "gw-2"))).json()["status"] == "received"
    clock.advance(dt.timedelta(hours=rt.settings.message_thread_hours, seconds=1))
    assert (await post_sms(client, sms(PHONE, "新问题", "gw-3"))).json()["status"] == "received"
    rows = await raw_rows(rt, "SELECT id, contact_id, customer_id, direction, body, address FROM channel_messages "
                              "ORDER BY id")  # fmt: skip
    assert len(rows) == 3
    assert {r.customer_id for r in rows} == {customer.id}
    assert rows[0].contact_id == rows[1].contact_id != rows[2].contact_id
    assert all("锁" not in r.body and PHONE not in r.address for r in rows)  # encrypted at rest
    contacts = await raw_rows(rt, "SELECT id, channel, direction, status, end_reason, customer_id, queue_code, "
                                  "owner_id FROM contacts ORDER BY id")  # fmt: skip
    assert [(c.channel, c.direction, c.status, c.end_reason, c.customer_id, c.owner_id) for c in contacts] == [
        ("sms", "inbound", "closed", "message", customer.id, None)
    ] * 2
    kinds = await raw_rows(rt, "SELECT kind FROM contact_events WHERE contact_id = :c ORDER BY id", c=contacts[0].id)
    assert [k.kind for k in kinds] == ["arrived", "queued", "ended"]
    qa = await make_staff(rt, roles=["qa_inspector"])
    r = await client.get(f"/api/v1/contacts/timeline/{customer.id}", headers=await auth_headers(client, qa))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["id"], i["channel"], i["status"]) for i in items] == [(c.id, "sms", "closed") for c in contacts[::-1]]
    assert PHONE not in r.text


async def test_unknown_sender_is_recorded_without_a_customer(rt, client):
    _open(rt)
    await make_customer(rt, phone="13900001111")
    r = await post_sms(client, sms("13700002222", "你好", "u-1"))
    assert r.status_code == 200, r.text
    (c,) = await raw_rows(rt, "SELECT customer_id, status FROM contacts")
    assert (c.customer_id, c.status) == (None, "closed")


async def test_agent_on_the_customers_open_contact_is_notified_and_owns_the_thread(rt, client):
    _open(rt)
    agent = await make_staff(rt, roles=["agent"])
    customer = await make_customer(rt, phone=PHONE)
    call = await handled(rt, agent.id, caller_number=PHONE, end=False, arrived=T0 - dt.timedelta(minutes=5))
    assert call.customer_id == customer.id
    stream = rt.bus.listen()
    got = asyncio.ensure_future(stream.__anext__())
    try:
        for n in range(50):  # the Redis subscription starts asynchronously: post until one is heard
            r = await post_sms(client, sms(PHONE, "刚才电话断了", f"live-{n}"))
            assert r.status_code == 200, r.text
            done, _ = await asyncio.wait({got}, timeout=0.1)
            if done:
                break
        message = got.result()
    finally:
        if not got.done():
            got.cancel()
        await stream.aclose()
    assert message["to"] == {"agents": [agent.id]}
    payload = message["payload"]
    assert payload["type"] == "channel.message"
    assert payload["channel"] == "sms"
    assert payload["customer_id"] == customer.id
    assert "text" not in payload
    assert PHONE not in str(message)
    (c,) = await raw_rows(rt, "SELECT id, owner_id FROM contacts WHERE channel = 'sms'")
    assert (payload["contact_id"], c.owner_id) == (c.id, agent.id)
    r = await client.get(f"/api/v1/channels/contacts/{c.id}/messages", headers=await auth_headers(client, agent))
    assert r.status_code == 200, r.text
    assert r.json()["messages"][0]["text"] == "刚才电话断了"
    assert r.json()["address"] == "138****5678"
