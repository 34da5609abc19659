"""Every free-text field takes the longest text its service accepts, in Chinese, on both databases: the
encrypted columns must hold AES-GCM ciphertext of UTF-8 in base64 (about 4 bytes per character)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.complaints import clocking, plan, workflow
from kefu.core import clock
from tests.complaints.case_helpers import accepted, call, load, outbox
from tests.complaints.conftest import People
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")


def words(n: int) -> str:
    return ("投诉处理测试文字" * (n // 8 + 1))[:n]


async def test_the_longest_accepted_texts_are_stored(rt: Any, people: People) -> None:
    h, sup = principal_of(people.handler), principal_of(people.supervisor)
    c = await accepted(rt, people.agent, people.handler, matter=words(4000), requested_resolution=words(2000),
                       escalation_risk=True, escalation_reasons=["threatens_media"],
                       escalation_note=words(1000))  # fmt: skip
    change = await call(rt, clocking.request_extension, actor=h, complaint_id=c.id, reason=words(1000))
    await call(rt, clocking.decide_extension, actor=sup, change_id=change.id, approve=True, note=words(1000))
    await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason=words(1000))
    await call(rt, clocking.resume, actor=h, complaint_id=c.id)
    await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=clock.now().date(),
               summary=words(2000))  # fmt: skip
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="investigating")
    await call(rt, workflow.add_note, actor=h, complaint_id=c.id, text=words(4000))
    await call(rt, workflow.record_findings, actor=h, complaint_id=c.id, responsible_party="card_center",
               root_cause="fee_policy", note=words(2000))  # fmt: skip
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="plan_agreed")
    due = clock.now() + dt.timedelta(days=2)
    node = await call(rt, plan.add_node, actor=h, complaint_id=c.id, measure=words(1000),
                      owner_id=people.handler.id, due_at=due)  # fmt: skip
    other = await call(rt, plan.add_node, actor=h, complaint_id=c.id, measure=words(10),
                       owner_id=people.handler.id, due_at=due)  # fmt: skip
    await call(rt, plan.cancel_node, actor=h, node_id=other.id, reason=words(500))
    await call(rt, workflow.transition, actor=h, complaint_id=c.id, to="resolving")
    await call(rt, plan.complete_node, actor=h, node_id=node.id, outcome=words(1000))
    await call(rt, workflow.decide, actor=h, complaint_id=c.id, decision=words(4000))
    await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="disputed", satisfaction=1,
               note=words(2000))  # fmt: skip
    await call(rt, workflow.reopen, actor=h, complaint_id=c.id, reason=words(1000))
    stored = await load(rt, c.id)
    assert stored.matter == words(4000)
    assert stored.root_cause_note == words(2000)
    assert stored.escalation_note == words(1000)
    sms = [m.body for m in await outbox(rt) if m.channel == "sms"]
    assert len(sms) >= 8
    assert max(len(body) for body in sms) < 250  # an SMS quotes at most 70 characters of a free text
