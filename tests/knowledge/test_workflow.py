"""The review workflow (R4.2): draft → in review → published → retired, the four-eyes rule, illegal
transitions refused with a message, and what agents may read: only live copies, not retired, in effect
on the local (Shanghai) day."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.core import clock
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.knowledge import index, service
from tests.customers.helpers import audit_rows
from tests.factories import raw_rows
from tests.knowledge.entries_helpers import ANSWER, T0, Notified, as_, call, headers, team

PROBLEM = "application/problem+json"
KB = "/api/v1/kb"


@pytest.fixture
async def people(rt):
    clock.freeze(T0)
    return await team(rt)


async def _draft(client, h, **kw):
    body = {"category_path": "借记卡/挂失补办", "question": "银行卡丢了怎么挂失？", "answer": ANSWER, **kw}
    r = await client.post(f"{KB}/entries", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def _post(client, h, entry_id, action, body=None, status=200):
    r = await client.post(f"{KB}/entries/{entry_id}/{action}", headers=h, json=body or {})
    assert r.status_code == status, r.text
    return r.json()


async def test_an_entry_goes_live_and_an_edit_waits_for_review(rt, client, people, monkeypatch):
    notified = Notified()
    monkeypatch.setattr(index, "notify_changed", notified)
    h = await headers(client, people)
    e = await _draft(client, h["editor"], keywords=["挂失"], expert_note="借记卡中心 确认")
    assert (e["status"], e["version"], e["category"]) == ("draft", 1, "借记卡/挂失补办")
    assert "<ol>" in e["answer_html"]
    article = f"{KB}/articles/{e['id']}"
    assert (await client.get(article, headers=h["agent"])).status_code == 404
    assert (await _post(client, h["editor"], e["id"], "submit"))["status"] == "in_review"
    queue = (await client.get(f"{KB}/review-queue", headers=h["reviewer"])).json()
    assert [x["id"] for x in queue] == [e["id"]]
    assert (await client.get(article, headers=h["agent"])).status_code == 404, "in review is not live"
    pub = await _post(client, h["reviewer"], e["id"], "approve", {"note": "核对无误"})
    assert (pub["status"], pub["live_version"], pub["reviewer_id"], pub["review_note"]) == (
        "published", 1, people["reviewer"].id, "核对无误")  # fmt: skip
    assert notified.calls == 1
    r = await client.get(article, headers=h["agent"])
    assert r.status_code == 200, r.text
    live = r.json()
    assert (live["version"], live["question"], live["category"]) == (1, "银行卡丢了怎么挂失？", "借记卡/挂失补办")
    assert "<li>选择要挂失的卡" in live["answer_html"]
    assert live["answer_markdown"] == ANSWER
    # an edit: a new draft, while agents keep reading version 1
    r = await client.patch(f"{KB}/entries/{e['id']}", headers=h["editor"],
                           json={"question": "借记卡丢了如何挂失？", "version": 1})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"], r.json()["live_version"]) == ("draft", 2, 1)
    r = await client.patch(f"{KB}/entries/{e['id']}", headers=h["editor2"], json={"answer": "另一版", "version": 1})
    assert r.status_code == 409, "an edit over someone else's is refused"
    assert "reload it" in r.json()["detail"]
    assert (await client.get(article, headers=h["agent"])).json()["question"] == "银行卡丢了怎么挂失？"
    await _post(client, h["editor"], e["id"], "submit")
    back = await _post(client, h["reviewer"], e["id"], "reject", {"note": "请写明挂失后补卡的办法"})
    assert (back["status"], back["review_note"], back["live_version"]) == ("draft", "请写明挂失后补卡的办法", 1)
    assert (await client.get(article, headers=h["agent"])).json()["version"] == 1
    await _post(client, h["editor"], e["id"], "submit")
    await _post(client, h["reviewer2"], e["id"], "approve")
    live = (await client.get(article, headers=h["agent"])).json()
    assert (live["version"], live["question"]) == (2, "借记卡丢了如何挂失？")
    assert notified.calls == 2
    r = await client.get(f"{KB}/entries/{e['id']}/versions", headers=h["editor"])
    assert [(v["version"], v["action"]) for v in r.json()] == [(2, "edit"), (1, "create")]
    r = await client.get(f"{KB}/entries/{e['id']}/diff", headers=h["editor"], params={"a": 1, "b": 2})
    assert [c["field"] for c in r.json()["changes"]] == ["question"]
    actions = [x.action for x in await audit_rows(rt, "kb_entry.")]
    assert actions == ["kb_entry.create", "kb_entry.submit", "kb_entry.approve", "kb_entry.edit", "kb_entry.submit",
                       "kb_entry.reject", "kb_entry.submit", "kb_entry.approve"]  # fmt: skip


async def test_the_reviewer_is_never_an_author_since_the_last_publish(rt, client, people):
    h = await headers(client, people)
    e = await _draft(client, h["reviewer"])  # reviewers may write entries too
    await _post(client, h["reviewer"], e["id"], "submit")
    r = await client.post(f"{KB}/entries/{e['id']}/approve", headers=h["reviewer"], json={})
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "another reviewer must approve it" in r.json()["detail"]
    r = await client.post(f"{KB}/entries/{e['id']}/approve", headers=h["editor"], json={})
    assert r.status_code == 403, "editors do not review"
    await _post(client, h["reviewer2"], e["id"], "approve")
    # reviewer2 edits the published entry: now reviewer2 may not approve it, the first author may
    r = await client.patch(f"{KB}/entries/{e['id']}", headers=h["reviewer2"], json={"keywords": ["挂失", "止付"]})
    assert r.status_code == 200, r.text
    await _post(client, h["reviewer2"], e["id"], "submit")
    await _post(client, h["reviewer2"], e["id"], "approve", status=403)
    assert (await _post(client, h["reviewer"], e["id"], "approve"))["live_version"] == 2
    # two authors since the last publish: neither approves
    await client.patch(f"{KB}/entries/{e['id']}", headers=h["reviewer"], json={"keywords": ["挂失"]})
    await client.patch(f"{KB}/entries/{e['id']}", headers=h["editor"], json={"keywords": ["挂失", "补卡"]})
    await _post(client, h["editor"], e["id"], "submit")
    await _post(client, h["reviewer"], e["id"], "approve", status=403)
    assert (await _post(client, h["reviewer2"], e["id"], "approve"))["live_version"] == 4


async def test_illegal_transitions_are_refused_with_a_message(rt, people):
    ed, rv = as_(people["editor"]), as_(people["reviewer"])
    e = await call(
        rt, service.create_entry, actor=ed, category_path="账户", question="怎么销户？", answer="到网点办理。"
    )
    for fn, kw, words in (
        (service.approve, {}, "its author submits it for review first"),
        (service.reject, {"note": "请补充"}, "its author submits it for review first"),
    ):
        with pytest.raises(Conflict, match=words):
            await call(rt, fn, actor=rv, entry_id=e.id, **kw)
    await call(rt, service.submit, actor=ed, entry_id=e.id)
    with pytest.raises(Conflict, match="already waiting for review"):
        await call(rt, service.submit, actor=ed, entry_id=e.id)
    with pytest.raises(ValidationFailed, match="Say what the author should change"):
        await call(rt, service.reject, actor=rv, entry_id=e.id, note=" ")
    with pytest.raises(PermissionDenied, match="Only knowledge-base reviewers"):
        await call(rt, service.approve, actor=ed, entry_id=e.id)
    await call(rt, service.approve, actor=rv, entry_id=e.id)
    with pytest.raises(Conflict, match="published and unchanged"):
        await call(rt, service.submit, actor=ed, entry_id=e.id)
    with pytest.raises(Conflict, match="already published"):
        await call(rt, service.approve, actor=rv, entry_id=e.id)
    with pytest.raises(ValidationFailed, match="Say why"):
        await call(rt, service.retire, actor=rv, entry_id=e.id, reason="")
    await call(rt, service.retire, actor=rv, entry_id=e.id, reason="业务已停办")
    with pytest.raises(Conflict, match="already retired"):
        await call(rt, service.retire, actor=rv, entry_id=e.id, reason="再次停办")
    with pytest.raises(Conflict, match="edit it to restore it"):
        await call(rt, service.submit, actor=ed, entry_id=e.id)
    with pytest.raises(Conflict, match="is retired; edit it to restore it"):
        await call(rt, service.approve, actor=rv, entry_id=e.id)


async def test_illegal_transitions_over_the_api_are_409_problems(rt, client, people):
    h = await headers(client, people)
    e = await _draft(client, h["editor"])
    r = await client.post(f"{KB}/entries/{e['id']}/approve", headers=h["reviewer"], json={})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"].startswith("Only entries waiting for review can be approved")
    r = await client.post(f"{KB}/entries/{e['id']}/reject", headers=h["reviewer"], json={})
    assert r.status_code == 422, "the note is required"


async def test_unpublished_retired_and_out_of_date_entries_are_never_visible(rt, client, people):
    clock.freeze(dt.datetime(2026, 11, 23, 15, 50, tzinfo=dt.UTC))  # 23:50 in Shanghai
    h = await headers(client, people)
    ed, rv = as_(people["editor"]), as_(people["reviewer"])

    async def live(**kw) -> int:
        e = await call(rt, service.create_entry, actor=ed, category_path="活动", answer="活动期间刷卡返现。", **kw)
        await call(rt, service.submit, actor=ed, entry_id=e.id)
        await call(rt, service.approve, actor=rv, entry_id=e.id)
        return int(e.id)

    async def seen(entry_id: int) -> bool:
        r = await client.get(f"{KB}/articles/{entry_id}", headers=h["agent"])
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200

    ends_today = await live(question="双十一返现活动", effective_to=dt.date(2026, 11, 23))
    starts_tomorrow = await live(question="元旦活动", effective_from=dt.date(2026, 11, 24))
    always = await live(question="常规返现规则")
    clock.freeze(dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC))  # 23:59 in Shanghai
    assert (await seen(ends_today), await seen(starts_tomorrow), await seen(always)) == (True, False, True)
    clock.freeze(dt.datetime(2026, 11, 23, 16, 1, tzinfo=dt.UTC))  # 00:01 on the 24th in Shanghai
    assert (await seen(ends_today), await seen(starts_tomorrow), await seen(always)) == (False, True, True)
    r = await client.get(f"{KB}/articles/{ends_today}", headers=h["agent"])
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "not in effect today" in r.json()["detail"]
    # retired: gone at once, its live copy with it
    r = await client.post(f"{KB}/entries/{always}/retire", headers=h["reviewer"], json={"reason": "活动规则已变更"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["live_version"], r.json()["review_note"]) == (
        "retired",
        None,
        "活动规则已变更",
    )
    assert not await seen(always)
    # an empty edit restores it as a draft, still not visible until approved again
    r = await client.patch(f"{KB}/entries/{always}", headers=h["editor"], json={})
    assert (r.json()["status"], r.json()["version"], r.json()["live_version"]) == ("draft", 2, None)
    assert not await seen(always)
    versions = (await client.get(f"{KB}/entries/{always}/versions", headers=h["editor"])).json()
    assert [v["action"] for v in versions] == ["restore", "create"]
    await call(rt, service.submit, actor=ed, entry_id=always)
    with pytest.raises(PermissionDenied):  # never published since the restore: every author counts
        await call(rt, service.approve, actor=ed, entry_id=always)
    await call(rt, service.approve, actor=as_(people["reviewer2"]), entry_id=always)
    assert await seen(always)
    drafted = await call(rt, service.create_entry, actor=ed, category_path="活动", question="草稿", answer="未审核")
    assert not await seen(drafted.id)
    assert not await seen(99999)
    purposes = [x.purpose for x in await audit_rows(rt, "kb_entry.retire")]
    assert purposes == ["活动规则已变更"]


async def test_reading_an_article_counts_an_open(rt, client, people):
    h = await headers(client, people)
    e = await _draft(client, h["editor"])
    await _post(client, h["editor"], e["id"], "submit")
    await _post(client, h["reviewer"], e["id"], "approve")
    for _ in range(2):
        assert (await client.get(f"{KB}/articles/{e['id']}", headers=h["agent"])).status_code == 200
    rows = await raw_rows(rt, "SELECT opens, day FROM kb_hits WHERE entry_id = :e", e=e["id"])
    assert [r[0] for r in rows] == [2]
