"""Chat end to end through the HTTP API and the chat service: the bot answers, the customer is handed over,
the chat is offered to a ready agent (capacity, spreading), accepted, answered (first response), closed and
wrapped up; digital intake follows the agent's phone presence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, ChatSession
from kefu.core import clock, runtime
from kefu.core.errors import ValidationFailed
from kefu.routing import service as routing_service
from tests.routing_desk.helpers import contact, make_center, ready, wrapup

PROBLEM = "application/problem+json"


async def start_chat(client: AsyncClient, **kw: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/chat/sessions", json={"topic": "general", **kw})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def say(rt: runtime.Runtime, token: str, text: str) -> None:
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=token)
        await chat.customer_says(s, rt=rt, chat=c, text=text)


async def hand_over(rt: runtime.Runtime, token: str) -> int:
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=token)
        return await chat.hand_over(s, rt=rt, chat=c)


async def mine(client: AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/desk/digital", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["contacts"]  # type: ignore[no-any-return]


async def test_bot_then_agent_then_wrap_up(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    topics = (await client.get("/api/v1/chat/topics")).json()
    assert topics[0]["code"] == "general"  # the no-choice IVR queue is the widget's default
    assert {t["code"] for t in topics} == {"general", "cards"}  # no department, no e-mail queue
    started = await start_chat(client, name="王小明", phone="13900001111")
    assert started["state"] == "bot"
    assert started["messages"][0]["sender"] == "bot"
    token = started["token"]
    await say(rt, token, "信用卡年费怎么收")
    cid = await hand_over(rt, token)
    assert await hand_over(rt, token) == cid  # pressing twice changes nothing
    assert (await contact(client, center.supervisor, cid))["status"] == "queued"  # the agent is not ready: it waits
    assert (await ready(client, h)).status_code == 200
    offered = await mine(client, h)
    assert [(c["contact_id"], c["status"], c["channel"]) for c in offered] == [(cid, "offered", "chat")]
    r = await client.post(f"/api/v1/desk/digital/{cid}/accept", headers=h)
    assert r.status_code == 204, r.text
    phone = (await client.get("/api/v1/desk", headers=h)).json()
    assert phone["contacts"] == []  # a chat is not a call: it lives in the desktop's chat tabs
    async with rt.db.transaction() as s:
        session = (await s.execute(select(ChatSession).where(ChatSession.contact_id == cid))).scalar_one()
        assert session.state == "agent"  # the visitor is told who serves them
    clock.advance(dt.timedelta(seconds=12))
    r = await client.post(f"/api/v1/chat/contacts/{cid}/messages", json={"text": "您好，我是客服，请问有什么可以帮您？"},
                          headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    await say(rt, token, "我想问年费")
    r = await client.get(f"/api/v1/chat/contacts/{cid}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    senders = [m["sender"] for m in body["messages"]]
    assert senders[:3] == ["bot", "customer", "bot"]  # the bot part is on the contact's transcript
    assert "agent" in senders
    assert senders[-1] == "customer"
    assert body["visitor"] == "王**"
    assert "0000" not in (body["phone"] or "")
    assert body["first_response_at"]
    rec = await contact(client, center.supervisor, cid)
    assert any(e["kind"] == "first_response" for e in rec.get("events", [])) or rec["status"] == "connected"
    r = await client.post(f"/api/v1/chat/contacts/{cid}/close", headers=h)
    assert r.status_code == 204, r.text
    assert [c["status"] for c in await mine(client, h)] == ["wrap_up"]
    r = await wrapup(client, center, h, cid)
    assert r.status_code == 201, r.text
    assert await mine(client, h) == []
    async with rt.db.transaction() as s:
        rows = (await s.execute(select(ChatMessage).where(ChatMessage.contact_id == cid))).scalars().all()
        assert len(rows) >= 6


async def test_capacity_spreads_and_follows_phone_presence(rt, client):
    center = await make_center(rt, client, agents=2)
    a, b = center.headers
    assert (await ready(client, a)).status_code == 200
    assert (await ready(client, b)).status_code == 200
    ids = []
    for _ in range(2):
        clock.advance(dt.timedelta(seconds=1))  # a freed slot queues behind the slots idle longer
        ids.append(await hand_over(rt, (await start_chat(client))["token"]))
    first, second = await mine(client, a), await mine(client, b)
    assert len(first) == 1
    assert len(second) == 1
    assert {first[0]["contact_id"], second[0]["contact_id"]} == set(ids)
    # agent b goes not ready: their ringing chat moves to a, who can hold up to 3
    r = await client.post("/api/v1/desk/presence", json={"presence": "not_ready", "reason": "break"}, headers=b)
    assert r.status_code == 200, r.text
    assert {c["contact_id"] for c in await mine(client, a)} == set(ids)
    more = [await hand_over(rt, (await start_chat(client))["token"]) for _ in range(2)]
    assert len(await mine(client, a)) == 3  # chat_capacity = 3
    r = await client.get(f"/api/v1/contacts/{more[-1]}", headers=center.supervisor)
    assert r.json()["status"] == "queued"


async def test_ring_out_sets_a_ready_agent_not_ready(rt, client):
    center = await make_center(rt, client, agents=1)
    h = center.headers[0]
    assert (await ready(client, h)).status_code == 200
    cid = await hand_over(rt, (await start_chat(client))["token"])
    clock.advance(dt.timedelta(seconds=rt.settings.chat_offer_seconds + 1))
    await routing_service.tick(rt)
    from kefu.routing import digital

    await digital.tick(rt)
    r = await client.get("/api/v1/desk", headers=h)
    assert r.json()["presence"] == "not_ready"
    assert r.json()["reason"] == "no_answer"
    assert (await contact(client, center.supervisor, cid))["status"] == "queued"
    assert (await ready(client, h)).status_code == 200
    assert [c["contact_id"] for c in await mine(client, h)] == [cid]


async def test_bad_input_is_a_clear_problem(rt, client):
    await make_center(rt, client, agents=1)
    r = await client.post("/api/v1/chat/sessions", json={"topic": "nope"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.post("/api/v1/chat/sessions", json={"topic": "general", "phone": "12ab"})
    assert r.status_code == 422
    r = await client.post("/api/v1/chat/sessions", json={"topic": "general", "locale": "fr"})
    assert r.status_code == 422
    started = await start_chat(client)
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=started["token"])
        for text in ("", "x" * 1001):
            with pytest.raises(ValidationFailed):
                await chat.customer_says(s, rt=rt, chat=c, text=text)
    r = await client.get("/api/v1/chat/contacts/999999", headers=(await _agent_headers(rt, client)))
    assert r.status_code == 404


async def _agent_headers(rt: runtime.Runtime, client: AsyncClient) -> dict[str, str]:
    from tests.factories import auth_headers, make_staff

    return await auth_headers(client, await make_staff(rt, roles=["agent"]))


async def test_the_bot_answers_from_live_knowledge_in_plain_text(rt, client):
    from tests.knowledge.entries_helpers import team
    from tests.knowledge.test_index import LOSS, publish

    await make_center(rt, client, agents=1)
    people = await team(rt)
    await publish(
        rt,
        people,
        **{**LOSS, "answer": "**立即**拨打热线挂失。\n\n## 其他方式\n或在 [手机银行](https://m.bank.example) 挂失。"},
    )
    started = await start_chat(client)
    await say(rt, started["token"], "借记卡丢失后如何挂失？")
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=started["token"])
        bot = (await chat.history(s, c))[-1]
    assert bot["sender"] == "bot"
    assert bot["kb_ref"]
    assert "立即拨打热线挂失" in bot["text"]
    assert "**" not in bot["text"]
    assert "##" not in bot["text"]
    assert "手机银行 (https://m.bank.example)" in bot["text"]


def test_plain_text_keeps_words_and_drops_marks():
    assert (
        chat.plain_text("# 标题\n\n**粗体** `代码` [链接](https://a.example)")
        == "标题\n\n粗体 代码 链接 (https://a.example)"
    )


async def test_a_chat_whose_contact_ended_behind_its_back_ends_when_the_visitor_writes(rt, client):
    from kefu.contacts import service as contacts_service

    center = await make_center(rt, client, agents=1)
    assert (await ready(client, center.headers[0])).status_code == 200
    token = (await start_chat(client))["token"]
    cid = await hand_over(rt, token)
    assert (await client.post(f"/api/v1/desk/digital/{cid}/accept", headers=center.headers[0])).status_code == 204
    async with rt.db.transaction() as s:  # what a restart of the server does to a connected chat
        await contacts_service.record(s, contact_id=cid, kind="ended", at=clock.now(), settings=rt.settings,
                                      agent_id=center.agents[0].id, end_reason="system_restart")  # fmt: skip
    await say(rt, token, "还在吗？")
    async with rt.db.transaction() as s:
        c = await chat.by_token(s, rt=rt, token=token)
        assert c.state == "ended"
        assert c.end_reason == "system"
