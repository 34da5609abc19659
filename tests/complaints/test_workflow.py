"""The workflow of a case (R5.3, R5.4, issue 6): every legal transition, illegal ones refused with a clear
409, recusal, findings before the decision, reopen, and who may act. Generated data only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.complaints import workflow
from kefu.complaints.models import Status
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
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
    register,
    to_investigating,
)
from tests.complaints.conftest import People, complaint_row
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")
ALL = [s.value for s in Status]
NOTE = "测试说明：按流程处理"


async def test_full_path_to_closed_with_notices(rt: Any, people: People) -> None:
    """R5.2 acknowledgement with number and promised date; 办法: decision within 15 days of acceptance (the
    acceptance day not counted: 2026-11-23 + 15 = 2026-12-08); R5.4 decision told, satisfaction recorded;
    retention: closed records kept complaint_retention_years (3) from the close day."""
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    assert c.status == "accepted"
    assert c.handler_id == people.handler.id
    assert c.clock_state == "running"
    assert c.due_date == dt.date(2026, 12, 8)
    assert c.due_at == dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)
    await to_investigating(rt, people.handler, c.id)
    await findings(rt, people.handler, c.id)
    for to in ("plan_agreed", "resolving"):
        await call(rt, workflow.transition, actor=h, complaint_id=c.id, to=to)
    c = await call(rt, workflow.decide, actor=h, complaint_id=c.id, decision="退还年费并致歉")
    assert c.status == "decided"
    assert c.clock_state == "stopped"
    assert c.decided_at is not None
    c = await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="confirmed", satisfaction=5,
                   note="客户表示满意")  # fmt: skip
    assert c.customer_response == "confirmed"
    assert c.satisfaction == 5
    assert c.confirmed_at is not None
    c = await call(rt, workflow.close, actor=h, complaint_id=c.id)
    assert c.status == "closed"
    assert c.retain_until == dt.date(2029, 11, 23)
    assert await kinds_of(rt, c.id) == ["acknowledgement", "decision", "closed"]
    actions = await audit_actions(rt, c.id)
    for action in ("complaint.accepted", "complaint.clock.start", "complaint.investigating", "complaint.findings",
                   "complaint.decided", "complaint.clock.stop", "complaint.confirmed", "complaint.closed"):  # fmt: skip
        assert action in actions
    assert [ch.kind for ch in await changes_of(rt, c.id)] == ["start", "stop"]


def _fields_for(status: str, handler_id: int) -> dict[str, Any]:
    today = dt.date(2026, 11, 23)
    fields: dict[str, Any] = {"status": status, "handler_id": handler_id}
    if status not in ("received", "not_accepted"):
        running = status in ("accepted", "investigating", "plan_agreed", "resolving")
        fields.update(accepted_at=dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC), clock_start=dt.date(2026, 11, 20),
                      due_date=dt.date(2026, 12, 7), due_at=dt.datetime(2026, 12, 7, 16, tzinfo=dt.UTC),
                      clock_state="running" if running else "stopped", root_cause="fee_policy",
                      responsible_party="card_center")  # fmt: skip
    if status in ("decided", "confirmed", "disputed", "closed"):
        fields.update(decision="退还年费", decided_at=dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC))
    if status == "closed":
        fields.update(closed_at=dt.datetime(2026, 11, 22, 3, tzinfo=dt.UTC), retain_until=today.replace(year=2029))
    return fields


@pytest.mark.parametrize("start", ALL)
async def test_every_transition_legal_or_refused_with_a_clear_message(rt: Any, people: People, start: str) -> None:
    """Issue 6 workflow: each legal step succeeds; each illegal one is a 409 naming the status and what is
    allowed next (merge has its own endpoint and is refused by transition with a pointer to it)."""
    h = principal_of(people.handler)
    for to in ALL:
        async with rt.db.transaction() as s:
            row = await complaint_row(s, **_fields_for(start, people.handler.id))
        legal = to in workflow.ALLOWED[start]
        if legal and to != "merged":
            c = await call(rt, workflow.transition, actor=h, complaint_id=row.id, to=to, note=NOTE)
            assert c.status == to, (start, to)
            continue
        with pytest.raises(Conflict) as exc:
            await call(rt, workflow.transition, actor=h, complaint_id=row.id, to=to, note=NOTE)
        if legal:  # merged: through POST /{id}/merge
            assert "/merge" in exc.value.detail
        else:
            assert f"is {start}" in exc.value.detail
            assert f"cannot move to {to}" in exc.value.detail
            assert exc.value.extra["allowed"] == list(workflow.ALLOWED[start])
        assert (await load(rt, row.id)).status == start  # nothing changed


async def test_unknown_target_status_is_422(rt: Any, people: People) -> None:
    c = await register(rt, people.agent)
    with pytest.raises(ValidationFailed):
        await call(rt, workflow.transition, actor=principal_of(people.handler), complaint_id=c.id, to="solved")


async def test_recusal_on_accept_assign_and_subject_change(rt: Any, people: People) -> None:
    """Issue 6: a handler may not be the staff member complained about (recusal)."""
    sup = principal_of(people.supervisor)
    c = await register(rt, people.agent, subject_staff_no=people.handler.staff_no)
    assert c.subject_staff_id == people.handler.id
    with pytest.raises(Conflict) as exc:
        await call(rt, workflow.accept, actor=principal_of(people.handler), complaint_id=c.id)
    assert "You are the staff member this complaint is about (recusal)" in exc.value.detail
    assert str(c.number) in exc.value.detail
    with pytest.raises(Conflict) as exc:
        await call(rt, workflow.accept, actor=sup, complaint_id=c.id, handler_id=people.handler.id)
    assert f"{people.handler.staff_no} is the staff member complained about" in exc.value.detail
    await call(rt, workflow.accept, actor=sup, complaint_id=c.id, handler_id=people.handler2.id)
    with pytest.raises(Conflict):
        await call(rt, workflow.assign, actor=sup, complaint_id=c.id, handler_id=people.handler.id)
    with pytest.raises(Conflict) as exc:
        await call(rt, workflow.update_details, actor=sup, complaint_id=c.id, subject_staff_no=people.handler2.staff_no)
    assert "choose another handler" in exc.value.detail
    assert (await load(rt, c.id)).handler_id == people.handler2.id


async def test_assign_checks_handler_and_emits_event(rt: Any, people: People) -> None:
    from tests.factories import Recorder

    c = await accepted(rt, people.agent, people.handler)
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, workflow.assign, actor=principal_of(people.handler), complaint_id=c.id,
                   handler_id=people.agent.id)  # fmt: skip
    assert exc.value.extra["errors"][0]["field"] == "handler_id"
    rec = Recorder("complaint.assigned")
    try:
        await call(rt, workflow.assign, actor=principal_of(people.handler), complaint_id=c.id,
                   handler_id=people.handler2.id)  # fmt: skip
    finally:
        rec.close()
    assert rec.payloads == [{"complaint_id": c.id, "number": c.number, "owner_id": people.handler2.id,
                             "team_lead_ids": []}]  # fmt: skip


async def test_decide_needs_root_cause_and_responsible_party(rt: Any, people: People) -> None:
    """R5.3: the responsible party and the root cause are found before the decision."""
    c = await accepted(rt, people.agent, people.handler)
    await to_investigating(rt, people.handler, c.id)
    with pytest.raises(Conflict) as exc:
        await call(rt, workflow.decide, actor=principal_of(people.handler), complaint_id=c.id, decision="退还年费")
    assert "root cause" in exc.value.detail
    with pytest.raises(ValidationFailed):
        await call(rt, workflow.record_findings, actor=principal_of(people.handler), complaint_id=c.id,
                   responsible_party="nobody", root_cause="fee_policy", note=None)  # fmt: skip
    await findings(rt, people.handler, c.id)
    c = await call(rt, workflow.decide, actor=principal_of(people.handler), complaint_id=c.id, decision="退还年费")
    assert c.status == "decided"


async def test_refuse_tells_the_reason(rt: Any, people: People) -> None:
    c = await register(rt, people.agent)
    c = await call(rt, workflow.refuse, actor=principal_of(people.handler), complaint_id=c.id, reason="非本行业务")
    assert c.status == "not_accepted"
    assert c.clock_state == "stopped"
    assert await kinds_of(rt, c.id) == ["not_accepted"]


async def test_reopen_closed_case_starts_a_new_term(rt: Any, people: People) -> None:
    """Issue 6 reopen: a new term from the reopening day (2026-11-23 + 15 = 2026-12-08), reopen counted,
    notice ``reopened``, a ``reopen`` clock change."""
    h = principal_of(people.handler)
    async with rt.db.transaction() as s:
        row = await complaint_row(s, **_fields_for("closed", people.handler.id))
    c = await call(rt, workflow.reopen, actor=h, complaint_id=row.id, reason="客户提供新的交易记录")
    assert c.status == "investigating"
    assert c.reopen_count == 1
    assert c.closed_at is None
    assert c.retain_until is None
    assert c.clock_state == "running"
    assert c.clock_start == dt.date(2026, 11, 23)
    assert c.due_date == dt.date(2026, 12, 8)
    assert await kinds_of(rt, c.id) == ["reopened"]
    [change] = await changes_of(rt, c.id)
    assert change.kind == "reopen"
    assert change.due_before == dt.date(2026, 12, 7)
    assert change.due_after == c.due_date
    with pytest.raises(Conflict):
        await call(rt, workflow.reopen, actor=h, complaint_id=c.id, reason="再次重开")


async def test_disputed_then_closed(rt: Any, people: People) -> None:
    h = principal_of(people.handler)
    c = await accepted(rt, people.agent, people.handler)
    await decided(rt, people.handler, c.id)
    with pytest.raises(ValidationFailed):
        await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="disputed", satisfaction=9,
                   note=None)  # fmt: skip
    c = await call(rt, workflow.record_response, actor=h, complaint_id=c.id, response="disputed", satisfaction=1,
                   note=None)  # fmt: skip
    assert c.status == "disputed"
    c = await call(rt, workflow.close, actor=h, complaint_id=c.id, note="已答复客户，客户保留意见")
    assert c.status == "closed"


async def test_who_may_act(rt: Any, people: People) -> None:
    """Handlers act on their own cases; supervisors on any; agents never; another handler not on a case
    that is already someone's."""
    c = await accepted(rt, people.agent, people.handler)
    with pytest.raises(PermissionDenied):
        await to_investigating(rt, people.handler2, c.id)
    with pytest.raises(PermissionDenied):
        await to_investigating(rt, people.agent, c.id)
    await to_investigating(rt, people.supervisor, c.id)
    fresh = await register(rt, people.agent)
    with pytest.raises(PermissionDenied):
        await call(rt, workflow.accept, actor=principal_of(people.agent), complaint_id=fresh.id)


async def test_notes_by_registrar_and_handler(rt: Any, people: People) -> None:
    from tests.factories import make_staff

    c = await accepted(rt, people.agent, people.handler)
    await call(rt, workflow.add_note, actor=principal_of(people.agent), complaint_id=c.id, text="客户再次来电催办")
    await call(rt, workflow.add_note, actor=principal_of(people.handler), complaint_id=c.id, text="已联系卡中心")
    stranger = await make_staff(rt, roles=["agent"])
    with pytest.raises(NotFound):
        await call(rt, workflow.add_note, actor=principal_of(stranger), complaint_id=c.id, text="无关备注")
    notes = await events_of(rt, c.id, "note")
    assert [n.detail for n in notes] == ["客户再次来电催办", "已联系卡中心"]
    assert [n.actor_id for n in notes] == [people.agent.id, people.handler.id]


async def test_demo_seed_covers_every_status(rt: Any) -> None:
    """kefu demo: 25 generated complaints through the services (merged, extended, paused, late ones)."""
    from sqlalchemy import select

    from kefu.complaints import demo
    from kefu.complaints.models import Complaint
    from kefu.staff import demo as staff_demo

    async with rt.db.transaction() as s:
        await staff_demo.load(s)
    async with rt.db.transaction() as s:
        assert await demo.seed(s, rt.settings) == len(demo.SCENARIOS)
    async with rt.db.transaction() as s:
        assert await demo.seed(s, rt.settings) == 0  # only once
        rows = (await s.execute(select(Complaint))).scalars().all()
    statuses = {c.status for c in rows}
    assert {"received", "not_accepted", "investigating", "resolving", "decided", "confirmed", "closed",
            "merged"} <= statuses  # fmt: skip
    assert any(c.extension_level == 1 for c in rows)
    assert any(c.clock_state == "paused" for c in rows)
    assert any(c.reopen_count for c in rows)
    assert any(c.major for c in rows)
    assert any(c.due_at is not None and c.clock_state == "running" and c.due_at < dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
               for c in rows)  # fmt: skip


async def _recused(rt: Any, fn: Any, number: str | None, **kw: Any) -> None:
    with pytest.raises(Conflict) as exc:
        await call(rt, fn, **kw)
    assert "You are the staff member this complaint is about (recusal)" in exc.value.detail, fn
    assert f"another handler must act on case {number}" in exc.value.detail


async def test_staff_member_complained_about_never_acts_even_as_supervisor(rt: Any, people: People) -> None:
    """Issue 6 recusal: the staff member a complaint is about never acts on it — not as a supervisor either:
    no status step, findings, details (not even clearing the subject), assignment, plan node or note."""
    from kefu.complaints import plan

    c = await accepted(rt, people.agent, people.handler, subject_staff_no=people.supervisor.staff_no)
    await to_investigating(rt, people.handler, c.id)
    subject = principal_of(people.supervisor)
    kw: dict[str, Any] = {"actor": subject, "complaint_id": c.id}
    await _recused(rt, workflow.transition, c.number, **kw, to="plan_agreed")
    await _recused(rt, workflow.record_findings, c.number, **kw, responsible_party="card_center",
                   root_cause="fee_policy", note=None)  # fmt: skip
    await _recused(rt, workflow.update_details, c.number, **kw, subject_staff_no=None)
    await _recused(rt, workflow.update_details, c.number, **kw, severity="low")
    await _recused(rt, workflow.assign, c.number, **kw, handler_id=people.handler2.id)
    await _recused(rt, workflow.add_note, c.number, **kw, text="我来处理这件投诉")
    due = dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)
    await _recused(rt, plan.add_node, c.number, **kw, measure="退还年费", owner_id=people.handler.id, due_at=due)
    await findings(rt, people.handler, c.id)
    await _recused(rt, workflow.decide, c.number, **kw, decision="驳回投诉")
    c = await call(
        rt, workflow.decide, actor=principal_of(people.handler), complaint_id=c.id, decision="退还年费并致歉"
    )
    await _recused(rt, workflow.record_response, c.number, **kw, response="confirmed", satisfaction=5, note=None)
    await call(rt, workflow.record_response, actor=principal_of(people.handler), complaint_id=c.id,
               response="disputed", satisfaction=1, note=None)  # fmt: skip
    await _recused(rt, workflow.close, c.number, **kw)
    await _recused(rt, workflow.reopen, c.number, **kw, reason="重新核查此案")
    row = await load(rt, c.id)
    assert (row.subject_staff_id, row.severity, row.handler_id) == (people.supervisor.id, "normal", people.handler.id)
    assert [e.summary for e in await events_of(rt, c.id, "note")] == []


async def test_subject_cannot_accept_refuse_or_clear_an_unassigned_case(rt: Any, people: People) -> None:
    """Issue 6 recusal: on a case nobody handles yet, the staff member complained about can neither accept,
    refuse nor remove themselves as its subject; anyone else (not the subject) may change the subject."""
    c = await register(rt, people.agent, subject_staff_no=people.handler2.staff_no)
    kw: dict[str, Any] = {"actor": principal_of(people.handler2), "complaint_id": c.id}
    await _recused(rt, workflow.accept, c.number, **kw, handler_id=people.handler.id)
    await _recused(rt, workflow.refuse, c.number, **kw, reason="非本行业务范围")
    await _recused(rt, workflow.transition, c.number, **kw, to="not_accepted", note="非本行业务范围")
    await _recused(rt, workflow.update_details, c.number, **kw, subject_staff_no=None)
    assert (await load(rt, c.id)).status == "received"
    c = await call(rt, workflow.update_details, actor=principal_of(people.handler), complaint_id=c.id,
                   subject_staff_no=None)  # fmt: skip
    assert c.subject_staff_id is None
    c = await call(rt, workflow.refuse, actor=principal_of(people.handler2), complaint_id=c.id, reason="非本行业务范围")
    assert c.status == "not_accepted"


async def test_handler_errors_name_staff_by_number(rt: Any, people: People) -> None:
    """Errors name staff by their staff number, never by an internal id (a person can act on it)."""
    c = await accepted(rt, people.agent, people.handler)
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, workflow.assign, actor=principal_of(people.handler), complaint_id=c.id,
                   handler_id=people.agent.id)  # fmt: skip
    assert people.agent.staff_no in exc.value.detail
    assert f" {people.agent.id} " not in exc.value.detail
    with pytest.raises(ValidationFailed) as exc:
        await call(rt, workflow.assign, actor=principal_of(people.handler), complaint_id=c.id, handler_id=999_999)
    assert "999999" not in exc.value.detail


async def test_reopen_when_the_handler_has_left_puts_the_case_in_unassigned(rt: Any, people: People) -> None:
    """Issue 6 reopen (a new term from the reopening day): the handler has left meanwhile, so the reopened
    case has no handler and shows in the unassigned list (no error); the change is on the timeline and audited."""
    from kefu.complaints import repository as repo
    from kefu.staff.models import Staff, StaffStatus

    async with rt.db.transaction() as s:
        row = await complaint_row(s, **_fields_for("closed", people.handler.id))
    async with rt.db.transaction() as s:
        gone = await s.get(Staff, people.handler.id)
        assert gone is not None
        gone.status = StaffStatus.LEFT.value
    c = await call(rt, workflow.reopen, actor=principal_of(people.supervisor), complaint_id=row.id,
                   reason="客户提供新的交易记录")  # fmt: skip
    assert (c.status, c.handler_id, c.reopen_count) == ("investigating", None, 1)
    async with rt.db.transaction() as s:
        rows, _ = await repo.list_cases(s, actor=principal_of(people.handler2), scope="unassigned")
    assert row.id in [r.id for r in rows]
    assert [e.summary for e in await events_of(rt, row.id, "assigned")] == [
        "handler removed: no longer an active complaint handler"
    ]
    assert "complaint.assign" in await audit_actions(rt, row.id)
    c = await call(rt, workflow.assign, actor=principal_of(people.handler2), complaint_id=row.id,
                   handler_id=people.handler2.id)  # fmt: skip
    assert c.handler_id == people.handler2.id


async def test_correcting_the_severity_unmarks_a_major_case(rt: Any, people: People) -> None:
    """R5.6: major = severity major, regulator or media involved, or a repeat complainant — from the current
    flags, so correcting a wrong severity un-marks the case (its escalation stays on record)."""
    c = await accepted(rt, people.agent, people.handler, severity="major")
    assert c.major
    h = principal_of(people.handler)
    c = await call(rt, workflow.update_details, actor=h, complaint_id=c.id, severity="normal")
    assert (c.major, c.escalated_at is not None) == (False, True)
    c = await call(rt, workflow.update_details, actor=h, complaint_id=c.id, media_involved=True)
    assert c.major
    c = await call(rt, workflow.update_details, actor=h, complaint_id=c.id, media_involved=False)
    assert not c.major
    async with rt.db.transaction() as s:
        row = await s.get(type(c), c.id)
        assert row is not None
        row.repeat_complainant = True  # as computed at intake: stays
    c = await call(rt, workflow.update_details, actor=h, complaint_id=c.id, severity="low")
    assert (c.major, c.repeat_complainant) == (True, True)
