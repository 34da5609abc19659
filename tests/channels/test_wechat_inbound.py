"""The WeChat server URL through the app: echo verification, signed XML messages, safe parsing, dedupe,
and binding a follower's openid to a customer (permission, audit, attribution of earlier messages)."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr

from kefu.core import clock
from tests.channels.msg_helpers import PROBLEM, WECHAT_TOKEN, WECHAT_URL, post_wechat, wechat_params, wechat_xml
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_customer, make_staff, raw_rows

OPENID = "oAbC-dEf_0123456789xyzUVWxyz"
T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def _open(rt) -> None:
    rt.settings.wechat_token = SecretStr(WECHAT_TOKEN)
    clock.freeze(T0)


async def test_closed_without_a_token(rt, client):
    r = await client.get(WECHAT_URL, params={**wechat_params(), "echostr": "abc"})
    assert r.status_code == 404
    assert r.json()["code"] == "webhook_closed"
    r = await post_wechat(client, wechat_xml(OPENID, "你好", "1"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_echo_verification(rt, client):
    _open(rt)
    r = await client.get(WECHAT_URL, params={**wechat_params(), "echostr": "5837397520978"})
    assert r.status_code == 200, r.text
    assert r.text == "5837397520978"
    assert r.headers["content-type"].startswith("text/plain")
    r = await client.get(WECHAT_URL, params={**wechat_params("other-token"), "echostr": "x"})
    assert r.status_code == 401
    assert r.json()["code"] == "bad_signature"
    r = await client.get(WECHAT_URL, params={"echostr": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_text_messages_are_recorded_once(rt, client):
    _open(rt)
    r = await post_wechat(client, wechat_xml(OPENID, "信用卡账单怎么查？", "6054768590064713728"))
    assert (r.status_code, r.text) == (200, "success")
    r = await post_wechat(client, wechat_xml(OPENID, "信用卡账单怎么查？", "6054768590064713728"))  # WeChat's retry
    assert (r.status_code, r.text) == (200, "success")
    clock.advance(dt.timedelta(minutes=10))
    r = await post_wechat(client, wechat_xml(OPENID, "谢谢", None))  # no MsgId: openid + CreateTime
    assert r.text == "success"
    r = await post_wechat(client, wechat_xml(OPENID, "", None, msg_type="event"))  # e.g. subscribe: ignored
    assert r.text == "success"
    rows = await raw_rows(rt, "SELECT channel, contact_id, customer_id, external_id FROM channel_messages ORDER BY id")
    assert [r.external_id for r in rows] == ["6054768590064713728", f"{OPENID}:{int(T0.timestamp()) + 600}"]
    assert rows[0].contact_id == rows[1].contact_id
    assert rows[0].customer_id is None
    (c,) = await raw_rows(rt, "SELECT channel, status, end_reason, caller_number FROM contacts")
    assert (c.channel, c.status, c.end_reason, c.caller_number) == ("wechat", "closed", "message", None)


async def test_bad_signature_stale_and_unsafe_xml_are_refused(rt, client):
    _open(rt)
    xml = wechat_xml(OPENID, "你好", "42")
    r = await post_wechat(client, xml, wechat_params("wrong"))
    assert r.status_code == 401
    assert r.json()["code"] == "bad_signature"
    r = await post_wechat(client, xml, wechat_params(timestamp=int(T0.timestamp()) - 600))
    assert r.status_code == 401
    assert r.json()["code"] == "stale_timestamp"
    bombs = [
        b"<xml><Content>unclosed",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
        b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><MsgType>text</MsgType></xml>',
        b"<root><MsgType>text</MsgType></root>",
        b"<xml>" + b"<a>" * 20 + b"</a>" * 20 + b"</xml>",
    ]
    for raw in bombs:
        r = await post_wechat(client, raw)
        assert r.status_code == 400, (raw[:30], r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == "bad_xml"
    r = await post_wechat(client, b"<xml><ToUserName>gh</ToUserName><Encrypt>abc</Encrypt></xml>")
    assert r.status_code == 400
    assert r.json()["code"] == "encrypted_mode"
    r = await post_wechat(client, b"<xml>" + b" " * (65 * 1024) + b"</xml>")
    assert r.status_code == 413
    r = await post_wechat(client, wechat_xml("", "你好", "43"))
    assert r.status_code == 422
    assert await raw_rows(rt, "SELECT id FROM channel_messages") == []


async def test_binding_identifies_the_follower(rt, client):
    _open(rt)
    customer = await make_customer(rt)
    other = await make_customer(rt)
    await post_wechat(client, wechat_xml(OPENID, "我是张先生", "100"))
    agent = await make_staff(rt, roles=["agent"])
    h = await auth_headers(client, agent)
    qa = await make_staff(rt, roles=["qa_inspector"])
    r = await client.post(f"{WECHAT_URL}/bindings", json={"openid": OPENID, "customer_id": customer.id},
                          headers=await auth_headers(client, qa))  # fmt: skip
    assert r.status_code == 403
    r = await client.post(f"{WECHAT_URL}/bindings", json={"openid": OPENID, "customer_id": customer.id}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["created"], out["messages_attributed"], out["customer_id"]) == (True, 1, customer.id)
    assert OPENID not in r.text
    assert out["openid"] == OPENID[:4] + "****" + OPENID[-4:]
    (c,) = await raw_rows(rt, "SELECT customer_id FROM contacts")
    assert c.customer_id == customer.id
    r = await client.post(f"{WECHAT_URL}/bindings", json={"openid": OPENID, "customer_id": customer.id}, headers=h)
    assert r.status_code == 200
    assert r.json()["created"] is False
    r = await client.post(f"{WECHAT_URL}/bindings", json={"openid": OPENID, "customer_id": other.id}, headers=h)
    assert r.status_code == 409
    assert r.json()["binding_id"] == out["id"]
    for bad in ({"openid": "x", "customer_id": customer.id}, {"openid": OPENID, "customer_id": 999999},
                {"openid": "a b<c>d e", "customer_id": 1}):  # fmt: skip
        r = await client.post(f"{WECHAT_URL}/bindings", json=bad, headers=h)
        assert r.status_code in (404, 422), r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    clock.advance(dt.timedelta(days=3))  # a new thread: identified by the binding
    await post_wechat(client, wechat_xml(OPENID, "又来了", "101"))
    rows = await raw_rows(rt, "SELECT customer_id FROM contacts ORDER BY id")
    assert [r.customer_id for r in rows] == [customer.id, customer.id]
    entries = await audit_rows(rt, "channel.wechat_bind")
    assert len(entries) == 1
    assert OPENID not in str(entries)
    h = await auth_headers(client, agent)  # signed in again after the three days
    r = await client.delete(f"{WECHAT_URL}/bindings/{out['id']}", headers=h)
    assert r.status_code == 204
    assert await audit_rows(rt, "channel.wechat_unbind")
    r = await client.delete(f"{WECHAT_URL}/bindings/{out['id']}", headers=h)
    assert r.status_code == 404
