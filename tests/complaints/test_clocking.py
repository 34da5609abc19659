"""Service-level operations on the regulator's clock (《银行业保险业消费投诉处理管理办法》 2020, issue 6):
extensions with their approvers, pause/resume for outside appraisal, restart on new facts, and the
calendar (holidays, make-up working days) through acceptance. Each test cites its rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from kefu.complaints import clocking, workflow
from kefu.core import clock
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.permissions import Permission
from tests.complaints.case_helpers import (
    accepted,
    audit_actions,
    call,
    changes_of,
    decided,
    events_of,
    findings,
    kinds_of,
    load,
    notices_of,
    register,
    to_investigating,
)
from tests.complaints.conftest import People
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")
DAY = dt.timedelta(days=1)


async def _request(rt: Any, staff: Any, complaint_id: int, reason: str = "涉及多个部门，案情复杂") -> Any:
    return await call(
        rt, clocking.request_extension, actor=principal_of(staff), complaint_id=complaint_id, reason=reason
    )


async def _decide(rt: Any, actor: Any, change_id: int, approve: bool = True) -> Any:
    return await call(rt, clocking.decide_extension, actor=actor, change_id=change_id, approve=approve, note="同意延期")


async def test_first_extension_to_30_days_with_approval_and_notice(rt: Any, people: People) -> None:
    """办法 (issue 6): a complex case may be extended to 30 days, approved by the head of complaint
    handling (complaint.approve) — never by the requester or the handler — and the complainant is told
    the new date and the reason. Due: 2026-11-23 + 30 = 2026-12-23."""
    c = await accepted(rt, people.agent, people.handler)
    async with rt.db.transaction() as s:
        row = await s.get(type(c), c.id)
        row.warned_level = 1  # a warning of the old term was sent
    change = await _request(rt, people.handler, c.id)
    assert change.status == "pending"
    assert change.level == 1
    assert change.due_before == dt.date(2026, 12, 8)
    for who in (people.handler, people.handler2):  # the requester/handler; someone without complaint.approve
        with pytest.raises(PermissionDenied):
            await _decide(rt, principal_of(who), change.id)
    c = await _decide(rt, principal_of(people.supervisor), change.id)
    assert (c.term_days, c.extension_level, c.due_date, c.warned_level) == (30, 1, dt.date(2026, 12, 23), 0)
    [_, ext] = await changes_of(rt, c.id)
    assert (ext.status, ext.decided_by, ext.due_after) == ("approved", people.supervisor.id, dt.date(2026, 12, 23))
    assert await kinds_of(rt, c.id) == ["acknowledgement", "extension"]
    _, msg = (await notices_of(rt, c.id))[-1]
    assert msg is not None
    assert "2026-12-23" in msg.body
    assert "涉及多个部门，案情复杂" in msg.body
    assert "complaint.clock.extend" in await audit_actions(rt, c.id)
    with pytest.raises(Conflict):
        await _decide(rt, principal_of(people.supervisor2), change.id)  # already decided


async def test_second_extension_needs_a_senior_manager(rt: Any, people: People) -> None:
    """办法 (issue 6): a further 30 days only with a senior manager's approval (complaint.approve_senior),
    only after the first; no third. Due: 2026-11-23 + 60 = 2027-01-22."""
    c = await accepted(rt, people.agent, people.handler)
    await _decide(rt, principal_of(people.supervisor), (await _request(rt, people.handler, c.id)).id)
    second = await _request(rt, people.handler, c.id, "需等待第三方机构回函")
    assert second.level == 2
    with pytest.raises(Conflict):
        await _request(rt, people.handler, c.id)  # one pending at a time
    sup = principal_of(people.supervisor)
    head_only = dataclasses.replace(sup, permissions=sup.permissions - {Permission.COMPLAINT_APPROVE_SENIOR})
    with pytest.raises(PermissionDenied) as exc:
        await _decide(rt, head_only, second.id)
    assert "senior" in exc.value.detail
    c = await _decide(rt, sup, second.id)
    assert (c.term_days, c.extension_level, c.due_date) == (60, 2, dt.date(2027, 1, 22))
    with pytest.raises(Conflict):
        await _request(rt, people.handler, c.id)


async def test_rejected_extension_changes_nothing(rt: Any, people: People) -> None:
    c = await accepted(rt, people.agent, people.handler)
    change = await _request(rt, people.handler, c.id)
    c = await _decide(rt, principal_of(people.supervisor), change.id, approve=False)
    assert (c.term_days, c.extension_level, c.due_date) == (15, 0, dt.date(2026, 12, 8))
    assert [ch.status for ch in await changes_of(rt, c.id)] == ["done", "rejected"]
    assert await kinds_of(rt, c.id) == ["acknowledgement"]


async def test_supervisor_handling_a_case_cannot_approve_own_request(rt: Any, people: People) -> None:
    """The approver is neither the requester nor the handler."""
    c = await accepted(rt, people.agent, people.supervisor)
    change = await _request(rt, people.supervisor, c.id)
    with pytest.raises(PermissionDenied):
        await _decide(rt, principal_of(people.supervisor), change.id)
    await _decide(rt, principal_of(people.supervisor2), change.id)


async def test_only_the_handler_requests_and_only_while_handled(rt: Any, people: People) -> None:
    c = await accepted(rt, people.agent, people.handler)
    with pytest.raises(PermissionDenied):
        await _request(rt, people.supervisor, c.id)
    with pytest.raises(ValidationFailed):
        await _request(rt, people.handler, c.id, reason="短")
    await decided(rt, people.handler, c.id)
    with pytest.raises(Conflict):
        await _request(rt, people.handler, c.id)


async def test_pause_for_outside_appraisal_does_not_count(rt: Any, people: People) -> None:
    """办法 (issue 6): time spent on outside appraisal or testing does not count. Paused 2026-11-23 to
    2026-12-03 (10 calendar days): due 2026-12-08 → 2026-12-18; a paused clock never breaches; the
    complainant hears of the pause and of the new date."""
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    c = await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason="送第三方机构鉴定签名真伪")
    assert c.clock_state == "paused"
    assert c.paused_since == dt.date(2026, 11, 23)
    with pytest.raises(Conflict):
        await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason="再次暂停测试")
    clock.advance(40 * DAY)  # long past the old due date: still not late
    from kefu.complaints import clock as cclock

    assert not cclock.breached(await load(rt, c.id), now=clock.now())
    clock.freeze(dt.datetime(2026, 12, 3, 1, tzinfo=dt.UTC))
    c = await call(rt, clocking.resume, actor=h, complaint_id=c.id)
    assert (c.clock_state, c.paused_days, c.due_date) == ("running", 10, dt.date(2026, 12, 18))
    with pytest.raises(Conflict):
        await call(rt, clocking.resume, actor=h, complaint_id=c.id)
    assert await kinds_of(rt, c.id) == ["acknowledgement", "pause", "resume"]
    pause, resume = (await changes_of(rt, c.id))[1:]
    assert (pause.kind, pause.due_before, pause.due_after) == ("pause", dt.date(2026, 12, 8), dt.date(2026, 12, 8))
    assert (resume.kind, resume.due_before, resume.due_after) == ("resume", dt.date(2026, 12, 8), dt.date(2026, 12, 18))
    assert {"complaint.clock.pause", "complaint.clock.resume"} <= set(await audit_actions(rt, c.id))
    assert len(await events_of(rt, c.id, "clock")) == 3


async def test_new_facts_restart_the_count_from_their_arrival(rt: Any, people: People) -> None:
    """办法 (issue 6): new facts restart the clock from their arrival: a fresh 15-day term from
    2026-11-25 (due 2026-12-10); the old extension is dropped; a waiting request is withdrawn."""
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    await _decide(rt, principal_of(people.supervisor), (await _request(rt, people.handler, c.id)).id)
    await _request(rt, people.handler, c.id, "需要更多时间核查")
    clock.advance(3 * DAY)  # 2026-11-26
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=dt.date(2026, 11, 27),
                   summary="客户补充了交易流水")  # fmt: skip
    assert exc.value.extra["errors"][0]["field"] == "received_on"
    with pytest.raises(ValidationFailed):
        await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=dt.date(2026, 11, 20),
                   summary="客户补充了交易流水")  # fmt: skip
    c = await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=dt.date(2026, 11, 25),
                   summary="客户补充了交易流水")  # fmt: skip
    assert (c.clock_start, c.term_days, c.extension_level, c.due_date) == (dt.date(2026, 11, 25), 15, 0,
                                                                           dt.date(2026, 12, 10))  # fmt: skip
    kinds = [(ch.kind, ch.status) for ch in await changes_of(rt, c.id)]
    assert kinds == [("start", "done"), ("extend", "approved"), ("extend", "rejected"), ("restart", "done")]
    assert (await kinds_of(rt, c.id))[-1] == "restart"


async def test_new_facts_only_while_handled(rt: Any, people: People) -> None:
    c = await register(rt, people.agent)
    with pytest.raises((Conflict, PermissionDenied)):
        await call(rt, clocking.new_facts, actor=principal_of(people.supervisor), complaint_id=c.id,
                   received_on=dt.date(2026, 11, 23), summary="新情况说明")  # fmt: skip


async def test_due_date_rolls_over_national_day_holiday(rt: Any, people: People, cal: Any) -> None:
    """民法典 第二百零三条 (complaint_roll_to_workday): accepted 2026-09-17, 15 calendar days end on
    2026-10-02, inside the 国庆 holiday (10/1–10/7), so the term ends on 2026-10-08."""
    clock.freeze(dt.datetime(2026, 9, 17, 2, tzinfo=dt.UTC))
    c = await accepted(rt, people.agent, people.handler)
    assert c.due_date == dt.date(2026, 10, 8)


async def test_business_day_unit_counts_make_up_working_days(rt: Any, people: People, cal: Any) -> None:
    """complaint_decision_unit=business: the 15th working day after 2026-09-17, counting the make-up
    working Sunday 2026-09-20 and Saturday 2026-10-10 and skipping 中秋 9/25 and 国庆 10/1–10/7, is 2026-10-14."""
    rt.settings.complaint_decision_unit = "business"
    clock.freeze(dt.datetime(2026, 9, 17, 2, tzinfo=dt.UTC))
    c = await accepted(rt, people.agent, people.handler)
    assert (c.clock_unit, c.due_date) == ("business", dt.date(2026, 10, 14))


async def test_workflow_reopen_uses_same_restart_rule(rt: Any, people: People) -> None:
    c = await accepted(rt, people.agent, people.handler)
    await decided(rt, people.handler, c.id)
    h = principal_of(people.handler)
    await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="disputed", satisfaction=2, note=None)
    clock.advance(5 * DAY)
    c = await call(rt, workflow.reopen, actor=h, complaint_id=c.id, reason="客户对结果有异议，重新核查")
    assert (c.clock_start, c.due_date, c.clock_state) == (dt.date(2026, 11, 28), dt.date(2026, 12, 14), "running")


LATE = "an extension had to be decided before then"


async def test_no_extension_once_the_term_has_ended(rt: Any, people: People) -> None:
    """办法 (extension of a complex case, 15 → 30 days) / issue 6: an extension must be decided within the
    term; once it ended (2026-12-08, late from 12-09 00:00 Shanghai) it can be neither asked for nor approved
    — the breach stands. A waiting request can still be rejected."""
    c = await accepted(rt, people.agent, people.handler)
    change = await _request(rt, people.handler, c.id)
    clock.freeze(c.due_at)
    with pytest.raises(Conflict) as exc:
        await _decide(rt, principal_of(people.supervisor), change.id)
    assert f"{c.number} is late: the term ended on 2026-12-08; {LATE}" in exc.value.detail
    c = await _decide(rt, principal_of(people.supervisor), change.id, approve=False)
    assert (c.extension_level, c.due_date) == (0, dt.date(2026, 12, 8))
    with pytest.raises(Conflict) as exc:
        await _request(rt, people.handler, c.id)
    assert f"the term ended on 2026-12-08; {LATE}" in exc.value.detail
    clock.freeze(c.due_at - dt.timedelta(microseconds=1))  # the last instant of the term: still possible
    change = await _request(rt, people.handler, c.id)
    c = await _decide(rt, principal_of(people.supervisor), change.id)
    assert c.due_date == dt.date(2026, 12, 23)


async def test_a_late_case_cannot_be_paused(rt: Any, people: People) -> None:
    """办法 (appraisal time not counted) / issue 6: a pause must start within the term; a late case cannot
    hide as paused — the breach stands (409)."""
    c = await accepted(rt, people.agent, people.handler)
    clock.freeze(c.due_at)
    with pytest.raises(Conflict) as exc:
        await call(rt, clocking.pause, actor=principal_of(people.handler), complaint_id=c.id, reason="送第三方机构鉴定")
    assert "the term ended on 2026-12-08" in exc.value.detail
    assert "breach stands" in exc.value.detail
    assert (await load(rt, c.id)).clock_state == "running"


async def test_decided_while_paused_is_judged_against_the_effective_deadline(rt: Any, people: People) -> None:
    """办法 (第三方鉴定/检测 time not counted): accepted 2026-11-23 (due 12-08), paused on day 10 (12-03) and
    decided on day 20 (12-13) while still paused: the 10 paused days count as paused (due 2026-12-18), so the
    decision is on time."""
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    await to_investigating(rt, people.handler, c.id)
    await findings(rt, people.handler, c.id)
    clock.advance(10 * DAY)
    await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason="送第三方机构鉴定签名真伪")
    clock.advance(10 * DAY)
    c = await call(rt, workflow.decide, actor=h, complaint_id=c.id, decision="退还年费并致歉")
    assert (c.clock_state, c.paused_since, c.paused_days, c.due_date) == ("stopped", None, 10, dt.date(2026, 12, 18))
    assert c.decided_at is not None
    assert c.due_at is not None
    assert c.decided_at < c.due_at
    stop = (await changes_of(rt, c.id))[-1]
    assert (stop.kind, stop.due_before, stop.due_after) == ("stop", dt.date(2026, 12, 8), dt.date(2026, 12, 18))
    async with rt.db.transaction() as s:
        from sqlalchemy import select

        from kefu.core.audit import AuditEntry

        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "complaint.decided",
                                                          AuditEntry.object_id == str(c.id)))).scalar_one()  # fmt: skip
    assert json.loads(entry.after)["on_time"] is True


async def test_deciding_withdraws_a_waiting_extension_request(rt: Any, people: People) -> None:
    """Issue 6: an extension request belongs to the running term; deciding the case stops the clock and
    withdraws it (rejected), on the timeline and in the audit log — it can no longer be approved."""
    c = await accepted(rt, people.agent, people.handler)
    change = await _request(rt, people.handler, c.id)
    await decided(rt, people.handler, c.id)
    ext = [ch for ch in await changes_of(rt, c.id) if ch.id == change.id][0]
    assert (ext.status, ext.decided_at is not None) == ("rejected", True)
    summaries = [e.summary for e in await events_of(rt, c.id, "clock")]
    assert f"extension request {change.id} withdrawn: the case was decided" in summaries
    assert "complaint.extension.withdraw" in await audit_actions(rt, c.id)
    with pytest.raises(Conflict):
        await _decide(rt, principal_of(people.supervisor), change.id)


async def test_resume_recounts_the_warnings_for_the_new_due_date(rt: Any, people: People) -> None:
    """Issue 6 (warnings before breach, complaint_warn_days 3,1; 民法典 第二百零三条 roll to a working day):
    both warnings were sent on Mon 12-07 (due Tue 12-08); paused that day, resumed Fri 12-11 (4 days paused)
    the due date falls on Sat 12-12 and rolls to Mon 12-14: 3 days left, so only the 3-day warning counts as
    sent and the 1-day warning goes out on 12-13."""
    from kefu.complaints import jobs

    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    clock.freeze(dt.datetime(2026, 12, 7, 1, tzinfo=dt.UTC))
    assert (await jobs.sweep(rt))["warned"] == 1
    assert (await load(rt, c.id)).warned_level == 2
    await call(rt, clocking.pause, actor=h, complaint_id=c.id, reason="送第三方机构鉴定签名真伪")
    clock.freeze(dt.datetime(2026, 12, 11, 1, tzinfo=dt.UTC))
    c = await call(rt, clocking.resume, actor=h, complaint_id=c.id)
    assert (c.due_date, c.warned_level) == (dt.date(2026, 12, 14), 1)
    assert (await jobs.sweep(rt))["warned"] == 0
    clock.freeze(dt.datetime(2026, 12, 13, 1, tzinfo=dt.UTC))
    assert (await jobs.sweep(rt))["warned"] == 1
    assert (await load(rt, c.id)).warned_level == 2


async def test_restart_sets_warnings_for_the_new_term(rt: Any, people: People) -> None:
    """Issue 6: new facts restart the count; warnings already passed for the new due date count as sent
    (received 13 days ago: 2 days left → the 3-day threshold passed), the others go out later."""
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    clock.freeze(dt.datetime(2026, 12, 6, 1, tzinfo=dt.UTC))
    c = await call(rt, clocking.new_facts, actor=h, complaint_id=c.id, received_on=dt.date(2026, 11, 23),
                   summary="客户补充了交易流水")  # fmt: skip
    assert (c.due_date, c.warned_level) == (dt.date(2026, 12, 8), 1)


async def test_the_subject_never_touches_the_clock(rt: Any, people: People) -> None:
    """Issue 6 recusal: the staff member complained about (here a supervisor holding every approval) can
    neither pause, resume, restart nor decide an extension of the case."""
    c = await accepted(rt, people.agent, people.handler, subject_staff_no=people.supervisor.staff_no)
    change = await _request(rt, people.handler, c.id)
    sub = principal_of(people.supervisor)
    for fn, kw in ((clocking.pause, {"reason": "送第三方机构鉴定"}),
                   (clocking.new_facts, {"received_on": dt.date(2026, 11, 23), "summary": "客户补充了交易流水"}),
                   (clocking.request_extension, {"reason": "涉及多个部门，案情复杂"})):  # fmt: skip
        with pytest.raises(Conflict, match="recusal"):
            await call(rt, fn, actor=sub, complaint_id=c.id, **kw)
    with pytest.raises(Conflict, match=f"recusal.*{c.number}"):
        await _decide(rt, sub, change.id)
    await call(rt, clocking.pause, actor=principal_of(people.handler), complaint_id=c.id, reason="送第三方机构鉴定")
    with pytest.raises(Conflict, match="recusal"):
        await call(rt, clocking.resume, actor=sub, complaint_id=c.id)
    c = await _decide(rt, principal_of(people.supervisor2), change.id)
    assert c.extension_level == 1


async def test_extension_decision_locks_the_case_before_the_request(rt: Any, people: People, monkeypatch: Any) -> None:
    """PostgreSQL lock order: the case row first, then the clock change (as merge and restart do), so two
    transactions never wait on each other; the request is re-read after locking."""
    from kefu.complaints import repository as repo

    c = await accepted(rt, people.agent, people.handler)
    change = await _request(rt, people.handler, c.id)
    order: list[str] = []
    real_case, real_change = repo.get_for_update, repo.get_clock_change

    async def case_lock(session: Any, complaint_id: int) -> Any:
        order.append("complaint")
        return await real_case(session, complaint_id)

    async def change_read(session: Any, change_id: int, *, for_update: bool = False) -> Any:
        if for_update:
            order.append("change")
        return await real_change(session, change_id, for_update=for_update)

    monkeypatch.setattr(repo, "get_for_update", case_lock)
    monkeypatch.setattr(repo, "get_clock_change", change_read)
    await _decide(rt, principal_of(people.supervisor), change.id)
    assert order == ["complaint", "change"]
