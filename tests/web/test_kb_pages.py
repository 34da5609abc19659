"""Knowledge-base pages through httpx (HTML checks): who may open the search, the workbench, the report
and the bulletin board; an entry from the form to review to the agent's screen; search results for a
published entry; attach and forward from the entry view; the editors' answer back to the agent;
bulletins with acknowledgement and receipts; synonyms and unmatched queries; CSRF on every form.
Generated data only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kefu.core import clock, runtime
from tests.contacts.conftest import handled
from tests.factories import make_staff, make_team, principal_of
from tests.web.helpers import web_login

ANSWER = "信用卡丢失请立即挂失。\n\n1. 登录本行手机银行，进入“信用卡”。\n2. 选择要挂失的卡，点“挂失”。\n3. 按提示验证身份后提交。"


async def call(rt: runtime.Runtime, fn: Any, *args: Any, **kw: Any) -> Any:
    async with rt.db.transaction() as s:
        return await fn(s, *args, **kw)


async def published(rt: runtime.Runtime, editor: Any, reviewer: Any, **kw: Any) -> int:
    """A published entry (written by ``editor``, approved by ``reviewer``): its id."""
    from kefu.knowledge import service as kb

    kw.setdefault("category_path", "信用卡/挂失补办")
    kw.setdefault("question", "信用卡丢失后如何挂失？")
    kw.setdefault("answer", ANSWER)
    kw.setdefault("similar", ["信用卡不见了怎么办", "信用卡被偷了"])
    kw.setdefault("keywords", ["信用卡", "挂失"])
    entry = await call(rt, kb.create_entry, actor=principal_of(editor), **kw)
    await call(rt, kb.submit, actor=principal_of(editor), entry_id=entry.id)
    await call(rt, kb.approve, actor=principal_of(reviewer), entry_id=entry.id)
    return int(entry.id)


async def as_user(client: Any, staff: Any) -> str:
    client.cookies.clear()
    return await web_login(client, staff)


async def test_who_may_open_which_knowledge_page(rt, client):
    agent = await make_staff(rt, roles=["agent"])
    editor = await make_staff(rt, roles=["kb_editor"])
    reviewer = await make_staff(rt, roles=["kb_reviewer"])
    sup = await make_staff(rt, roles=["supervisor"])
    admin = await make_staff(rt, roles=["admin"])

    r = await client.get("/kb")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fkb"

    await as_user(client, agent)
    page = await client.get("/kb")
    assert page.status_code == 200, page.text
    assert 'id="kb-q"' in page.text
    assert "autofocus" in page.text
    assert "/static/kb.js" in page.text
    assert 'id="kb-config"' in page.text
    assert 'data-nav="kb"' in page.text
    assert 'data-nav="bulletins"' in page.text
    assert 'data-nav="kb_workbench"' not in page.text
    assert "转交未解答问题" in page.text  # agents may forward
    for path in ("/kb/questions", "/bulletins"):
        assert (await client.get(path)).status_code == 200, path
    for path in (
        "/kb/workbench",
        "/kb/workbench/entries",
        "/kb/workbench/review",
        "/kb/workbench/synonyms",
        "/kb/workbench/unmatched",
        "/kb/workbench/questions",
        "/kb/report",
        "/kb/workbench/entries/new",
    ):
        r = await client.get(path)
        assert r.status_code == 403, path
        assert "无权访问" in r.text

    for member in (editor, reviewer):
        await as_user(client, member)
        home = await client.get("/kb/workbench")
        assert home.status_code == 200, home.text
        assert 'data-nav="kb_workbench"' in home.text
        for path in (
            "/kb/workbench/entries",
            "/kb/workbench/review",
            "/kb/workbench/synonyms",
            "/kb/workbench/unmatched",
            "/kb/workbench/questions",
            "/kb/report",
            "/kb/workbench/entries/new",
            "/kb",
            "/bulletins",
        ):
            r = await client.get(path)
            assert r.status_code == 200, (path, r.text[:500])
        assert (await client.get("/kb/questions")).status_code == 403  # editors do not forward

    await as_user(client, sup)
    assert (await client.get("/kb/report")).status_code == 200  # KB_REPORT without the workbench
    assert (await client.get("/kb/workbench")).status_code == 403
    board = await client.get("/bulletins")
    assert "data-bulletin-form" in board.text  # a bulletin manager posts here

    await as_user(client, admin)
    assert (await client.get("/kb")).status_code == 403
    assert (await client.get("/bulletins")).status_code == 403


def entry_id_of(location: str) -> int:
    m = re.match(r"^/kb/workbench/entries/(\d+)\?done=created$", location)
    assert m, location
    return int(m.group(1))


async def test_an_entry_from_the_form_through_review_to_the_agent(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    reviewer = await make_staff(rt, roles=["kb_reviewer"])
    agent = await make_staff(rt, roles=["agent"])

    token = await as_user(client, editor)
    form = {
        "csrf_token": token, "category_path": "借记卡 / 挂失补办", "key": "card-loss-test",
        "question": "借记卡丢失后如何挂失？", "similar": "卡丢了怎么办\n工资卡找不到了", "keywords": "挂失，借记卡、冻结",
        "answer": "立即挂失可防止盗刷。\n\n1. 拨打客服热线 400-000-0000。\n2. 按提示验证身份。<script>alert(1)</script>",
        "products": "借记卡", "channels": ["phone", "app"], "effective_from": "", "effective_to": "",
        "internal_notes": "口头挂失 5 天内须补办正式挂失。", "expert_no": "", "expert_note": "",
    }  # fmt: skip
    r = await client.post("/kb/workbench/entries/new", data=form)
    assert r.status_code == 303, r.text
    entry_id = entry_id_of(r.headers["location"])
    page = await client.get(r.headers["location"])
    assert "草稿已创建" in page.text
    assert 'data-workflow="draft"' in page.text
    assert "借记卡/挂失补办" in page.text  # the path was tidied and the category created
    assert "card-loss-test" in page.text

    # a bad form keeps what was typed and says what is wrong
    bad = await client.post(
        f"/kb/workbench/entries/{entry_id}", data={**form, "question": "x", "effective_to": "31.12."}
    )
    assert bad.status_code == 422
    assert "工卡找不到了" not in bad.text
    assert "工资卡找不到了" in bad.text
    assert "alert-error" in bad.text

    r = await client.post(f"/kb/workbench/entries/{entry_id}/submit", data={"csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == f"/kb/workbench/entries/{entry_id}?done=submitted"
    # an editor without KB_REVIEW cannot approve
    r = await client.post(f"/kb/workbench/entries/{entry_id}/approve", data={"csrf_token": token})
    assert r.status_code == 403

    token = await as_user(client, reviewer)
    queue = await client.get("/kb/workbench/review")
    assert f'data-entry="{entry_id}"' in queue.text
    assert "审核通过并发布" in queue.text
    r = await client.post(
        f"/kb/workbench/entries/{entry_id}/reject", data={"csrf_token": token, "note": "", "back": "review"}
    )
    assert r.status_code == 422  # a note is required to send it back
    r = await client.post(f"/kb/workbench/entries/{entry_id}/approve",
                          data={"csrf_token": token, "note": "核对无误", "back": "review"})  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/kb/workbench/review?done=approved"

    await as_user(client, agent)
    article = await client.get(f"/kb/articles/{entry_id}?q=卡丢了")
    assert article.status_code == 200, article.text
    text = article.text
    assert "借记卡丢失后如何挂失？" in text
    assert "<ol>" in text
    assert "<li>拨打客服热线 400-000-0000。</li>" in text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text
    assert "口头挂失 5 天内须补办正式挂失。" in text  # internal notes, for staff
    assert 'href="/kb?q=' in text  # back to the results

    # an edit by the reviewer makes a new draft; the live copy stays; the reviewer cannot approve it himself
    token = await as_user(client, reviewer)
    r = await client.post(f"/kb/workbench/entries/{entry_id}",
                          data={**form, "csrf_token": token, "question": "借记卡丢了怎么挂失？"})  # fmt: skip
    assert r.status_code == 303
    await client.post(f"/kb/workbench/entries/{entry_id}/submit", data={"csrf_token": token})
    page = await client.get(f"/kb/workbench/entries/{entry_id}")
    assert "双人复核" in page.text  # four eyes warning on the page
    assert 'data-diff-field="question"' in page.text
    assert "d-add" in page.text
    assert "借记卡丢了怎么挂失？" in page.text
    r = await client.post(f"/kb/workbench/entries/{entry_id}/approve", data={"csrf_token": token})
    assert r.status_code == 403
    assert "four-eyes" in r.text
    live = await client.get(f"/kb/articles/{entry_id}")
    assert "借记卡丢失后如何挂失？" in live.text  # still the published copy

    # retired entries are gone for agents
    r = await client.post(f"/kb/workbench/entries/{entry_id}/retire", data={"csrf_token": token, "note": "业务停办"})
    assert r.status_code == 303
    await as_user(client, agent)
    assert (await client.get(f"/kb/articles/{entry_id}")).status_code == 404


async def test_forms_without_the_csrf_token_are_refused(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    agent = await make_staff(rt, roles=["agent"])
    await as_user(client, editor)
    for path, data in (("/kb/workbench/entries/new", {"question": "没有令牌的问题", "answer": "x", "category_path": "a"}),
                       ("/kb/workbench/synonyms", {"canonical": "挂失", "terms": "冻结"}),
                       ("/kb/workbench/categories", {"name": "借记卡"}),
                       ("/bulletins", {"title": "没有令牌", "body": "x"})):  # fmt: skip
        r = await client.post(path, data=data)
        assert r.status_code == 403, path
        assert "表单安全校验未通过" in r.text, path
    await as_user(client, agent)
    r = await client.post("/kb/questions", data={"question": "没有令牌的问题"})
    assert r.status_code == 403
    assert "表单安全校验未通过" in r.text


async def test_the_search_page_finds_a_published_entry(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    reviewer = await make_staff(rt, roles=["kb_reviewer"])
    agent = await make_staff(rt, roles=["agent"])
    entry_id = await published(rt, editor, reviewer)
    await published(rt, editor, reviewer, category_path="借记卡/挂失补办", question="借记卡丢失后如何挂失？",
                    similar=["工资卡丢了"], keywords=["借记卡"], answer="1. 拨打客服热线。")  # fmt: skip
    await as_user(client, agent)

    page = await client.get("/kb", params={"q": "信用卡丢了怎么挂失"})
    assert page.status_code == 200, page.text
    first = re.search(r'<li class="kb-result[^"]*" role="option" id="kb-r-0"[^>]*data-entry="(\d+)"', page.text)
    assert first, page.text
    assert int(first.group(1)) == entry_id
    assert "信用卡丢失后如何挂失？" in re.sub(r"</?mark>", "", page.text)
    assert "<mark>" in page.text  # the words found are highlighted
    assert f'href="/kb/articles/{entry_id}?q=' in page.text

    # the category filter narrows the results
    from kefu.knowledge import service as kb

    tree = await call(rt, kb.category_tree)
    debit = next(c for c in tree if c["name"] == "借记卡")
    page = await client.get("/kb", params={"q": "信用卡丢了怎么挂失", "category_id": debit["id"]})
    assert f'data-entry="{entry_id}"' not in page.text

    # what kb.js asks while the agent types
    r = await client.get("/api/v1/kb/search", params={"q": "信用卡 挂失", "typing": "1"})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["entry_id"] == entry_id

    # Enter on a query nobody answers is logged for the editors
    await client.get("/kb", params={"q": "外星人来开户需要什么材料"})  # shown again, not logged
    await client.get("/kb", params={"q": "火星人来开户需要什么材料", "go": "1"})
    await as_user(client, editor)
    unmatched = await client.get("/kb/workbench/unmatched")
    assert "火星人来开户需要什么材料" in unmatched.text
    assert "外星人来开户需要什么材料" not in unmatched.text


async def test_attach_and_forward_from_the_entry_and_the_answer_comes_back(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    reviewer = await make_staff(rt, roles=["kb_reviewer"])
    agent = await make_staff(rt, roles=["agent"])
    other = await make_staff(rt, roles=["agent"])
    entry_id = await published(rt, editor, reviewer)
    contact = await handled(rt, agent.id)
    foreign = await handled(rt, other.id)

    token = await as_user(client, agent)
    page = await client.get(f"/kb/articles/{entry_id}?contact={contact.id}&q=卡丢了")
    assert f'name="contact_id" inputmode="numeric" maxlength="18" required value="{contact.id}"' in page.text
    r = await client.post(
        f"/kb/articles/{entry_id}/attach", data={"csrf_token": token, "contact_id": str(contact.id), "q": "卡丢了"}
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/kb/articles/{entry_id}?")
    assert "done=attached" in r.headers["location"]
    done = await client.get(r.headers["location"])
    assert f"已关联到联络 #{contact.id}" in done.text
    again = await client.post(
        f"/kb/articles/{entry_id}/attach", data={"csrf_token": token, "contact_id": str(contact.id)}
    )
    assert again.status_code == 303  # a second attach is a no-op
    refused = await client.post(
        f"/kb/articles/{entry_id}/attach", data={"csrf_token": token, "contact_id": str(foreign.id)}
    )
    assert refused.status_code in (403, 404)
    assert "alert-error" in refused.text
    empty = await client.post(f"/kb/articles/{entry_id}/attach", data={"csrf_token": token, "contact_id": ""})
    assert empty.status_code == 422

    from kefu.knowledge import hits

    rows = await call(rt, hits.attachments_of, actor=principal_of(agent), contact_id=contact.id)
    assert [a.entry_id for a in rows] == [entry_id]
    labels = await call(rt, hits.attached_labels, contact_id=contact.id)  # what the wrap-up form fills in
    assert len(labels) == 1
    assert labels[0].endswith(" 信用卡丢失后如何挂失？")

    r = await client.post("/kb/questions", data={
        "csrf_token": token, "question": "信用卡在境外丢失怎么挂失？", "context": "已看过：信用卡丢失后如何挂失？",
        "contact_id": str(contact.id), "entry_id": str(entry_id), "q": "卡丢了",
    })  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == "/kb/questions?done=forwarded"
    mine = await client.get("/kb/questions?done=forwarded")
    assert "信用卡在境外丢失怎么挂失？" in mine.text
    assert "待答复" in mine.text
    short = await client.post("/kb/questions", data={"csrf_token": token, "question": "卡", "entry_id": str(entry_id)})
    assert short.status_code == 422
    assert "信用卡丢失后如何挂失？" in short.text  # shown on the entry it came from

    token = await as_user(client, editor)
    queue = await client.get("/kb/workbench/questions")
    m = re.search(r'data-question="(\d+)"', queue.text)
    assert m, queue.text
    question_id = int(m.group(1))
    assert f"联络 #{contact.id}" in queue.text
    r = await client.post(f"/kb/workbench/questions/{question_id}/answer", data={
        "csrf_token": token, "department": "信用卡中心", "answer": "境外丢失请拨打 +86-400-000-0000 挂失。",
        "make_draft": "1", "category_path": "信用卡/挂失补办",
    })  # fmt: skip
    assert r.status_code == 303, r.text
    answered = await client.get("/kb/workbench/questions?status=answered")
    assert "打开生成的草稿" in answered.text

    token = await as_user(client, agent)
    mine = await client.get("/kb/questions")
    assert "境外丢失请拨打" in mine.text
    assert "新答复" in mine.text
    r = await client.post(f"/kb/questions/{question_id}/seen", data={"csrf_token": token})
    assert r.status_code == 303
    mine = await client.get("/kb/questions")
    assert "is-new" not in mine.text


async def test_bulletins_acknowledged_by_agents_and_receipts_for_their_team_lead(rt, client):
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    lead = await make_staff(rt, roles=["team_lead"], team_id=team)
    sup = await make_staff(rt, roles=["supervisor"])

    token = await as_user(client, sup)
    r = await client.post("/bulletins", data={
        "csrf_token": token, "title": "系统升级通知", "body": "今晚 **22:00** 起手机银行暂停服务。", "priority": "urgent",
        "valid_from": "", "valid_to": "", "teams": [str(team)],
    })  # fmt: skip
    assert r.status_code == 303, r.text
    bad = await client.post("/bulletins", data={"csrf_token": token, "title": "x", "body": "y", "priority": "normal"})
    assert bad.status_code == 422
    board = await client.get("/bulletins")
    m = re.search(r'data-managed-bulletin="(\d+)"', board.text)
    assert m
    bulletin_id = int(m.group(1))

    token = await as_user(client, agent)
    kb_page = await client.get("/kb")
    assert 'data-urgent-count="1"' in kb_page.text
    board = await client.get("/bulletins")
    assert "系统升级通知" in board.text
    assert "<strong>22:00</strong>" in board.text
    assert f'action="/bulletins/{bulletin_id}/ack"' in board.text
    assert "data-bulletin-form" not in board.text
    r = await client.post(f"/bulletins/{bulletin_id}/ack", data={"csrf_token": token})
    assert r.status_code == 303
    board = await client.get("/bulletins")
    assert "已确认" in board.text
    assert f'action="/bulletins/{bulletin_id}/ack"' not in board.text
    assert (await client.get(f"/bulletins/{bulletin_id}/receipts")).status_code == 403

    await as_user(client, lead)
    receipts = await client.get(f"/bulletins/{bulletin_id}/receipts")
    assert receipts.status_code == 200, receipts.text
    assert f'data-receipt="{agent.staff_no}"' in receipts.text
    assert f'data-receipt="{lead.staff_no}"' in receipts.text
    assert 'data-kpi="acked">1<' in receipts.text
    unacked = await client.get(f"/bulletins/{bulletin_id}/receipts?show=unacked")
    assert f'data-receipt="{agent.staff_no}"' not in unacked.text

    token = await as_user(client, sup)
    r = await client.post(f"/bulletins/{bulletin_id}/withdraw", data={"csrf_token": token, "reason": "升级取消"})
    assert r.status_code == 303
    await as_user(client, agent)
    assert "系统升级通知" not in (await client.get("/bulletins")).text


async def test_workbench_synonyms_categories_and_unmatched(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    token = await as_user(client, editor)

    r = await client.post("/kb/workbench/categories", data={"csrf_token": token, "name": "借记卡"})
    assert r.status_code == 303
    home = await client.get("/kb/workbench?done=category")
    m = re.search(r'<li class="depth-0" data-category="(\d+)">', home.text)
    assert m, home.text
    parent = m.group(1)
    r = await client.post(
        "/kb/workbench/categories", data={"csrf_token": token, "name": "挂失补办", "parent_id": parent}
    )
    assert r.status_code == 303
    dup = await client.post("/kb/workbench/categories", data={"csrf_token": token, "name": "借记卡"})
    assert dup.status_code == 409
    home = await client.get("/kb/workbench")
    assert 'class="depth-1"' in home.text
    assert "挂失补办" in home.text

    r = await client.post(
        "/kb/workbench/synonyms", data={"csrf_token": token, "canonical": "流水", "terms": "交易明细、对账单"}
    )
    assert r.status_code == 303
    page = await client.get("/kb/workbench/synonyms")
    assert "交易明细" in page.text
    assert "对账单" in page.text
    clash = await client.post(
        "/kb/workbench/synonyms", data={"csrf_token": token, "canonical": "对账单", "terms": "账单"}
    )
    assert clash.status_code == 409
    m = re.search(r'data-synonym="(\d+)"', page.text)
    assert m
    r = await client.post(f"/kb/workbench/synonyms/{m.group(1)}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    assert "交易明细" not in (await client.get("/kb/workbench/synonyms")).text

    from kefu.knowledge import unmatched

    await call(rt, unmatched.log, query="客户问 13912345678 的卡怎么注销", normalised="客户问 13912345678 的卡怎么注销",
               source="agent", best_score=0.1)  # fmt: skip
    page = await client.get("/kb/workbench/unmatched")
    assert "的卡怎么注销" in page.text
    assert "13912345678" not in page.text  # personal data scrubbed
    m = re.search(r'data-unmatched="(\d+)"', page.text)
    assert m
    r = await client.post(
        f"/kb/workbench/unmatched/{m.group(1)}/resolve", data={"csrf_token": token, "note": "已写条目"}
    )
    assert r.status_code == 303
    assert "的卡怎么注销" not in (await client.get("/kb/workbench/unmatched")).text


async def test_frequency_report_draws_its_chart_on_the_server(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    reviewer = await make_staff(rt, roles=["kb_reviewer"])
    lead = await make_staff(rt, roles=["team_lead"])
    hot = await published(rt, editor, reviewer)
    cold = await published(rt, editor, reviewer, category_path="借记卡/挂失补办", question="存折丢失如何挂失？",
                           similar=[], keywords=[])  # fmt: skip
    from kefu.knowledge import hits

    for _ in range(5):
        await call(rt, hits.record, entry_id=hot, kind="open")
    await call(rt, hits.record, entry_id=hot, kind="attach")

    await as_user(client, lead)  # team leads read the report without the workbench
    page = await client.get("/kb/report")
    assert page.status_code == 200, page.text
    text = page.text
    assert '<svg class="kb-chart"' in text
    assert 'data-chart="frequency"' in text
    assert f'href="/kb/workbench/entries/{hot}"' in text
    assert "<script" not in text.split('<svg class="kb-chart"')[1].split("</svg>")[0]
    assert re.search(rf'data-report-entry="{hot}" data-band="very_high"', text)
    assert re.search(rf'data-report-entry="{cold}" data-band="(low|very_low)"', text)
    assert 'data-kpi="hits">6<' in text
    assert "data-tab=" not in text  # no workbench tabs for a team lead
    start = (clock.now().date() - dt.timedelta(days=6)).isoformat()
    assert (await client.get(f"/kb/report?start={start}&end=garbage")).status_code == 200


def test_snippets_keep_only_mark_and_the_chart_scales_to_the_busiest_entry():
    from kefu.web.kb_common import snippet
    from kefu.web.kb_workbench import bar_chart

    assert str(snippet("挂<mark>失</mark>&lt;b&gt;")) == "挂<mark>失</mark>&lt;b&gt;"
    assert str(snippet('<img src=x onerror="alert(1)">卡')) == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;卡"
    assert str(snippet("<mark>未闭合")) == "未闭合"
    chart = bar_chart([{"entry_id": 1, "question": "甲" * 30, "hits": 10, "band": "very_high"},
                       {"entry_id": 2, "question": "乙", "hits": 5, "band": "high"},
                       {"entry_id": 3, "question": "丙", "hits": 0, "band": "very_low"}])  # fmt: skip
    first, second, third = chart["bars"]
    assert first["value"] == 10
    assert second["width"] == first["width"] / 2
    assert third["width"] == 0
    assert first["label"].endswith("…")
    assert first["title"] == "甲" * 30


async def test_the_navigation_marks_only_the_deepest_matching_entry(rt, client):
    editor = await make_staff(rt, roles=["kb_editor"])
    await web_login(client, editor)
    for path, current in (("/kb/workbench", "kb_workbench"), ("/kb/workbench/review", "kb_workbench"), ("/kb", "kb")):
        page = await client.get(path)
        marked = re.findall(r'data-nav="([a-z_]+)" aria-current="page"', page.text)
        assert marked == [current], (path, marked)
