"""The search index over the database, on SQLite and PostgreSQL (+ Redis): only published, in-date
entries are searchable, by agents and by the bot; publishing, retiring and synonym changes reach
search at once on the node that made them and, in cluster mode, on every other node; the search and
bot endpoints answer with problem+json on bad input; weak searches are logged for the editors.
Generated data only."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from kefu.core import clock
from kefu.knowledge import index, service, unmatched
from tests.factories import auth_headers
from tests.knowledge.entries_helpers import as_, call, team

PROBLEM = "application/problem+json"
LOSS = dict(category_path="借记卡/挂失补办", question="借记卡丢失后如何挂失？", similar=["银行卡丢了怎么办"],
            keywords=["挂失"], answer="1. 拨打客服热线挂失。\n2. 或在手机银行挂失。")  # fmt: skip
LPR = dict(category_path="贷款/住房贷款", question="房贷利率如何转换为LPR？", similar=["LPR转换怎么办"],
           keywords=["LPR"], answer="在手机银行“贷款”页面申请转换。")  # fmt: skip


async def publish(rt, people, **content) -> int:
    e = await call(rt, service.create_entry, actor=as_(people["editor"]), **content)
    await call(rt, service.submit, actor=as_(people["editor"]), entry_id=e.id)
    await call(rt, service.approve, actor=as_(people["reviewer"]), entry_id=e.id)
    return int(e.id)


async def found(client, headers, q: str, **params) -> list[str]:
    r = await client.get("/api/v1/kb/search", params={"q": q, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [i["question"] for i in r.json()["items"]]


async def test_only_published_entries_are_searchable_and_retired_ones_vanish(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    draft = await call(rt, service.create_entry, actor=as_(people["editor"]), **LOSS)
    assert await found(client, h, "銀行卡遺失了如何掛失") == []
    await call(rt, service.submit, actor=as_(people["editor"]), entry_id=draft.id)
    assert await found(client, h, "銀行卡遺失了如何掛失") == []  # in review: not yet
    await call(rt, service.approve, actor=as_(people["reviewer"]), entry_id=draft.id)
    assert (await found(client, h, "銀行卡遺失了如何掛失"))[:1] == [LOSS["question"]]  # at once, no restart
    await call(rt, service.retire, actor=as_(people["reviewer"]), entry_id=draft.id, reason="产品下线")
    assert await found(client, h, "銀行卡遺失了如何掛失") == []


async def test_an_edit_in_review_leaves_the_live_answer_searchable(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    entry_id = await publish(rt, people, **LOSS)
    await call(rt, service.update_entry, actor=as_(people["editor2"]), entry_id=entry_id,
               question="借记卡遗失怎样办理挂失？")  # fmt: skip
    assert (await found(client, h, "借记卡丢失"))[:1] == [LOSS["question"]]  # the live copy answers
    await call(rt, service.submit, actor=as_(people["editor2"]), entry_id=entry_id)
    await call(rt, service.approve, actor=as_(people["reviewer"]), entry_id=entry_id)
    assert (await found(client, h, "借记卡丢失"))[:1] == ["借记卡遗失怎样办理挂失？"]


async def test_campaign_answers_expire_by_themselves(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    today = index.local_today(rt.settings)
    await publish(rt, people, **LPR, effective_to=today)
    await publish(rt, people, **LOSS, effective_from=today + dt.timedelta(days=1))
    assert await found(client, h, "LPR转换") == [LPR["question"]]
    assert await found(client, h, "借记卡挂失") == []  # not yet in effect
    clock.freeze(clock.now() + dt.timedelta(days=1))
    try:
        h = await auth_headers(client, people["agent"])  # a new day, a new sign-in
        assert await found(client, h, "LPR转换") == []  # its last day has passed
        assert (await found(client, h, "借记卡挂失"))[:1] == [LOSS["question"]]
    finally:
        clock.freeze(None)


async def test_synonyms_edited_through_the_api_change_search_at_once(rt, client):
    people = await team(rt)
    await publish(rt, people, **LOSS)
    agent, editor = await auth_headers(client, people["agent"]), await auth_headers(client, people["editor"])
    assert LOSS["question"] not in await found(client, agent, "止付", top=3)
    r = await client.post("/api/v1/kb/synonyms", json={"canonical": "挂失", "terms": ["止付"]}, headers=editor)
    assert r.status_code in (200, 201), r.text
    assert (await found(client, agent, "止付"))[:1] == [LOSS["question"]]


async def test_search_answers_bad_input_with_problem_json(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    for params in ({"q": ""}, {"q": "x" * 201}, {"q": "挂失", "top": 0}, {"q": "挂失", "category_id": 0}):
        r = await client.get("/api/v1/kb/search", params=params, headers=h)
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith(PROBLEM), params
    r = await client.get("/api/v1/kb/search", params={"q": "挂失", "category_id": 999}, headers=h)
    assert r.status_code == 422
    assert "category" in r.json()["detail"]
    r = await client.get("/api/v1/kb/search", params={"q": "挂失"})
    assert r.status_code == 401


async def test_results_carry_highlighted_snippets_and_the_category_filter_works(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    await publish(rt, people, **LOSS)
    await publish(rt, people, **LPR)
    r = await client.get("/api/v1/kb/search", params={"q": "銀行卡丟了"}, headers=h)
    item = r.json()["items"][0]
    assert "<mark>" in item["snippet_html"]
    assert item["category"] == "借记卡/挂失补办"
    assert item["confidence"] > 0
    cats = (await client.get("/api/v1/kb/categories", headers=h)).json()
    loans = next(c["id"] for c in _flatten(cats) if c["path"] == "贷款")
    assert await found(client, h, "挂失 LPR", category_id=loans) == [LPR["question"]]  # the category and below


def _flatten(tree):
    items = tree["items"] if isinstance(tree, dict) else tree
    for c in items:
        yield c
        yield from _flatten(c.get("children") or [])


async def test_weak_searches_are_logged_for_editors_but_not_while_typing(rt, client):
    people = await team(rt)
    h = await auth_headers(client, people["agent"])
    await publish(rt, people, **LOSS)
    await found(client, h, "外汇期权怎么", typing="true")
    await found(client, h, "外汇期权怎么买 13912345678")
    await found(client, h, "借记卡丢失后如何挂失")  # a good match is not logged
    today = index.local_today(rt.settings)
    rows = await call(rt, unmatched.list_unmatched, start=today, end=today)
    samples = [r["sample"] if isinstance(r, dict) else r.sample for r in rows]
    assert len(samples) == 1
    assert "13912345678" not in samples[0]
    assert "外汇期权" in samples[0]


async def test_the_bot_answers_when_confident_and_hands_over_when_not(rt, client):
    people = await team(rt)
    await publish(rt, people, **LOSS)
    r = await client.post("/api/v1/kb/ask", json={"question": "借记卡丢失后如何挂失"})
    body = r.json()
    assert r.status_code == 200
    assert body["answered"]
    assert not body["handoff"]
    assert "热线" in body["entry"]["answer_html"]
    assert body["confidence"] >= rt.settings.kb_bot_threshold
    r = await client.post("/api/v1/kb/ask", json={"question": "你们的股票推荐哪只"})
    body = r.json()
    assert not body["answered"]
    assert body["handoff"]
    assert body["entry"] is None
    assert "人工" in body["message"]
    r = await client.post("/api/v1/kb/ask", json={"question": ""})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_the_bot_is_limited_per_address(rt, client):
    codes = [(await client.post("/api/v1/kb/ask", json={"question": "挂失"})).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429


async def test_other_nodes_follow_a_publish_within_their_poll_interval(rt, client):
    if not rt.settings.redis_url:
        pytest.skip("cluster mode (Redis) only: one embedded process has one index")
    people = await team(rt)
    other = index.IndexHolder(rt)  # a second node's index on the same database and Redis
    async with rt.db.transaction() as s:
        assert len(await other.current(s)) == 0
    await publish(rt, people, **LOSS)
    other.checked = 0.0
    async with rt.db.transaction() as s:
        await other.current(s)  # notices the new generation and rebuilds in the background
    assert other.task is not None
    await asyncio.wait_for(other.task, 10)
    async with rt.db.transaction() as s:
        engine = await other.current(s)
    assert [h.doc.question for h in engine.search("借记卡挂失")] == [LOSS["question"]]
    await other.aclose()
