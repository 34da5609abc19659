"""Timeline summaries are stored as short English sentences without personal data; the case page shows
every one of them in the reader's language (no English sentence left in a Chinese page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from kefu.complaints import clocking, evidence, merge, plan, timeline_text, workflow
from kefu.complaints.models import ComplaintEvent
from kefu.core import clock
from tests.complaints.case_helpers import accepted, call, register
from tests.complaints.conftest import People
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")


async def _summaries(rt: Any, *complaint_ids: int) -> list[tuple[str, str]]:
    async with rt.db.transaction() as s:
        rows = (await s.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(complaint_ids)))).scalars()
        return [(e.kind, e.summary) for e in rows]


async def test_every_summary_of_a_full_case_is_localised(rt: Any, people: People) -> None:
    h, sup = principal_of(people.handler), principal_of(people.supervisor)
    c = await accepted(rt, people.agent, people.handler, severity="major")  # registered, escalated, accepted
    change = await call(rt, clocking.request_extension, actor=h, complaint_id=c.id, reason="需要调取分行录像核实")
    await call(rt, clocking.decide_extension, actor=sup, change_id=change.id, approve=True)
    await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason="送第三方司法鉴定")
    await call(rt, clocking.resume, actor=h, complaint_id=c.id)
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="investigating")
    await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=clock.now().date(),
               summary="客户补充了新的交易截图")  # fmt: skip
    await call(rt, evidence.add_note, actor=h, complaint_id=c.id, text="与客户核对了交易时间")
    await call(rt, workflow.add_note, actor=h, complaint_id=c.id, text="客户希望下午来电")
    await call(rt, workflow.update_details, actor=h, complaint_id=c.id, severity="high")
    await call(rt, workflow.record_findings, actor=h, complaint_id=c.id, responsible_party="card_center",
               root_cause="fee_policy", note="年费减免名单未同步")  # fmt: skip
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="plan_agreed")
    node = await call(rt, plan.add_node, actor=h, complaint_id=c.id, measure="退还年费",
                      owner_id=people.handler.id, due_at=clock.now() + dt.timedelta(days=2))  # fmt: skip
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="resolving")
    await call(rt, plan.complete_node, actor=h, node_id=node.id, outcome="已退还")
    await call(rt, clocking.request_extension, actor=h, complaint_id=c.id, reason="还需总行产品部门确认")
    await call(rt, workflow.decide, actor=h, complaint_id=c.id, decision="退还年费并致歉")  # withdraws the request
    await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="disputed", satisfaction=2, note=None)
    await call(rt, workflow.reopen, actor=h, complaint_id=c.id, reason="客户不接受")
    dup = await register(rt, people.agent)
    await call(rt, merge.merge, actor=h, complaint_id=dup.id, into_id=c.id, reason="同一事项")

    events = await _summaries(rt, c.id, dup.id)
    kinds = {k for k, _ in events}
    assert {"status", "escalated", "clock", "notice", "evidence", "note", "details", "findings", "plan"} <= kinds
    assert any("withdrawn: the case was decided" in s for _, s in events)
    left = [(k, s) for k, s in events if timeline_text.localise(k, s, "zh-Hans") == s]
    assert left == []  # every sentence has a Chinese rendering
    moved = [timeline_text.localise(k, s, "zh-Hans") for k, s in events if k == "status" and "→" in s]
    assert moved
    assert all(not any(ch.isascii() and ch.isalpha() for ch in m) for m in moved)  # status labels, not codes


def test_unknown_sentences_are_shown_as_stored() -> None:
    assert timeline_text.localise("status", "something new", "zh-Hans") == "something new"
    assert timeline_text.localise("plan", "Plan node 2 done", "en") == "measure 2 done"
    text = timeline_text.localise("notice", "notice acknowledgement: sms,email", "zh-Hans")
    assert "acknowledgement" not in text
    assert "sms" not in text
