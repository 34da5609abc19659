"""Forwarded questions (R4.5), the loop end to end: an agent forwards a question from a contact, an editor
records the department's answer, a draft entry is born from it, the agent is told (event in the outbox)
and sees the answer; plus who may do what, closing, and the checks."""

from __future__ import annotations

import json

import pytest

from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge import questions, service
from tests.contacts.conftest import handled
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, principal_of, raw_rows
from tests.knowledge.conftest_loop import T0, center

PROBLEM = "application/problem+json"


async def _events(rt, name: str) -> list[dict]:
    rows = await raw_rows(rt, "SELECT payload FROM event_outbox WHERE name = :n ORDER BY id", n=name)
    return [json.loads(r[0]) for r in rows]


async def _forward(rt, who, **kw):
    kw.setdefault("question", "境外消费退款多久到账")
    async with rt.db.transaction() as s:
        return await questions.forward(s, actor=principal_of(who), **kw)


async def test_the_loop_end_to_end(rt, client):
    clock.freeze(T0)
    p = await center(rt)
    c = await handled(rt, p["a1"].id)
    agent = await auth_headers(client, p["a1"])
    r = await client.post("/api/v1/kb/questions", headers=agent, json={
        "question": "境外消费退款多久到账？客户手机13800138000", "context": "查了信用卡常见问题，没有写到账时间",
        "contact_id": c.id,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    q = r.json()
    assert (q["status"], q["contact_id"], q["asked_by"], q["team_id"]) == ("open", c.id, p["a1"].id, p["t1"])
    assert "13800138000" not in q["question"]  # masked in every view

    editor = await auth_headers(client, p["editor"])
    r = await client.get("/api/v1/kb/questions", params={"scope": "queue", "status": "open"}, headers=editor)
    assert [x["id"] for x in r.json()["items"]] == [q["id"]]
    r = await client.post(f"/api/v1/kb/questions/{q['id']}/answer", headers=editor, json={
        "department": "信用卡中心", "answer": "一般 **7 至 15 个工作日** 退回原卡；超过 15 天请发起查询。",
        "category_path": "信用卡/境外交易",
    })  # fmt: skip
    assert r.status_code == 200, r.text
    answered = r.json()
    assert (answered["status"], answered["department"], answered["answered_by"]) == ("answered", "信用卡中心",
                                                                                      p["editor"].id)  # fmt: skip

    async with rt.db.transaction() as s:  # the draft entry born from the question
        entry = await service.get_entry(s, answered["entry_id"])
        assert (entry.status, entry.source_question_id, entry.version) == ("draft", q["id"], 1)
        assert entry.question == "境外消费退款多久到账？客户手机***"  # the customer's number never enters the KB
        assert entry.answer.startswith("一般 **7 至 15 个工作日**")
        assert entry.expert_note == "信用卡中心"
        assert entry.live is None
    assert await _events(rt, "kb.question_answered") == [{"owner_id": p["a1"].id, "question_id": q["id"],
                                                          "contact_id": c.id}]  # fmt: skip

    r = await client.get("/api/v1/kb/questions", headers=agent)  # scope=mine
    assert (r.json()["total"], r.json()["unseen"]) == (1, 1)
    mine = r.json()["items"][0]
    assert (mine["status"], mine["answer"], mine["entry_id"]) == ("answered", answered["answer"], entry.id)
    r = await client.post(f"/api/v1/kb/questions/{q['id']}/seen", headers=agent)
    assert r.json()["seen_at"] is not None
    assert (await client.get("/api/v1/kb/questions", headers=agent)).json()["unseen"] == 0
    assert [a.action for a in await audit_rows(rt, "kb.question")] == ["kb.question.forward", "kb.question.answer"]


async def test_who_may_do_what(rt, client):
    clock.freeze(T0)
    p = await center(rt)
    c = await handled(rt, p["a1"].id)
    async with rt.db.transaction() as s:
        with pytest.raises(NotFound):  # b1 cannot see a1's contact
            await questions.forward(s, actor=principal_of(p["b1"]), question="这个问题怎么答", contact_id=c.id)
        with pytest.raises(PermissionDenied):  # editors answer questions, they do not forward them
            await questions.forward(s, actor=principal_of(p["editor"]), question="这个问题怎么答")
    q = await _forward(rt, p["a1"], contact_id=c.id)
    async with rt.db.transaction() as s:
        with pytest.raises(NotFound):
            await questions.get_question(s, actor=principal_of(p["a2"]), question_id=q.id)
        assert (await questions.get_question(s, actor=principal_of(p["reviewer"]), question_id=q.id)).id == q.id
        with pytest.raises(PermissionDenied):
            await questions.list_questions(s, actor=principal_of(p["a1"]), scope="queue")
        with pytest.raises(PermissionDenied):
            await questions.answer(s, actor=principal_of(p["lead1"]), question_id=q.id, department="信用卡中心",
                                   answer="答复")  # fmt: skip
        with pytest.raises(NotFound):
            await questions.mark_seen(s, actor=principal_of(p["a2"]), question_id=q.id)
        with pytest.raises(Conflict, match="no answer yet"):
            await questions.mark_seen(s, actor=principal_of(p["a1"]), question_id=q.id)
    a2 = await auth_headers(client, p["a2"])
    assert (await client.get(f"/api/v1/kb/questions/{q.id}", headers=a2)).status_code == 404
    r = await client.get("/api/v1/kb/questions", params={"scope": "queue"}, headers=a2)
    assert (r.status_code, r.headers["content-type"].split(";")[0]) == (403, PROBLEM)
    r = await client.post(f"/api/v1/kb/questions/{q.id}/answer", headers=a2, json={"department": "信用卡中心",
                                                                                    "answer": "答复内容"})  # fmt: skip
    assert r.status_code == 403
    r = await client.post("/api/v1/kb/questions", headers=await auth_headers(client, p["editor"]),
                          json={"question": "编辑不能转交问题"})  # fmt: skip
    assert r.status_code == 403


async def test_answer_without_draft_close_and_checks(rt):
    clock.freeze(T0)
    p = await center(rt)
    ed = principal_of(p["editor"])
    q1 = await _forward(rt, p["a1"])
    q2 = await _forward(rt, p["a2"], question="重复的问题")
    async with rt.db.transaction() as s:
        with pytest.raises(ValidationFailed) as err:  # a draft needs a category
            await questions.answer(s, actor=ed, question_id=q1.id, department="信用卡中心", answer="七个工作日")
        assert err.value.extra["errors"][0]["field"] == "category_path"
        done = await questions.answer(s, actor=ed, question_id=q1.id, department="信用卡中心", answer="七个工作日",
                                      make_draft=False)  # fmt: skip
        assert (done.status, done.entry_id) == ("answered", None)
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict, match="already answered"):
            await questions.answer(s, actor=ed, question_id=q1.id, department="信用卡中心", answer="再答一次")
        closed = await questions.close(s, actor=ed, question_id=q2.id, reason="与 1 号问题重复")
        assert (closed.status, closed.close_reason) == ("closed", "与 1 号问题重复")
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict):
            await questions.close(s, actor=ed, question_id=q2.id, reason="再关一次")
        seen = await questions.mark_seen(s, actor=principal_of(p["a2"]), question_id=q2.id)
        assert seen.seen_at == T0
        assert await questions.unseen_answers(s, actor=principal_of(p["a1"])) == 1
        assert await questions.unseen_answers(s, actor=principal_of(p["a2"])) == 0
        rows, total = await questions.list_questions(s, actor=ed, scope="queue", status="closed")
        assert (total, [r.id for r in rows]) == (1, [q2.id])
        rows, total = await questions.list_questions(s, actor=ed, scope="queue")
        assert [r.id for r in rows] == [q1.id, q2.id]  # oldest first
        for kw in ({"question": "短"}, {"question": "问题" * 200}, {"category_id": 999_999}):
            with pytest.raises(ValidationFailed):
                await questions.forward(s, actor=principal_of(p["a1"]), **{"question": "合理的问题", **kw})
        with pytest.raises(ValidationFailed):
            await questions.list_questions(s, actor=ed, scope="everyone")
    assert [e["question_id"] for e in await _events(rt, "kb.question_answered")] == [q1.id]
    assert [e["owner_id"] for e in await _events(rt, "kb.question_closed")] == [p["a2"].id]


async def test_the_questions_category_is_the_default_for_the_draft(rt):
    clock.freeze(T0)
    p = await center(rt)
    async with rt.db.transaction() as s:
        cat = await service.ensure_category(s, "信用卡/境外交易")
        cat_id = cat.id
    q = await _forward(rt, p["a1"], category_id=cat_id)
    async with rt.db.transaction() as s:
        done = await questions.answer(s, actor=principal_of(p["editor"]), question_id=q.id, department="信用卡中心",
                                      answer="七至十五个工作日")  # fmt: skip
        entry = await service.get_entry(s, done.entry_id)
        assert (entry.category_id, entry.source_question_id) == (cat_id, q.id)
