"""Follow-ups (R1.7): who sees which, closing with the answer, reassigning within scope, reminders and
escalation exactly once, and the hand-over when an agent is suspended or leaves."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.contacts import followups, jobs
from kefu.contacts import repository as repo
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.staff import service as staff_service
from tests.contacts.conftest import handled
from tests.customers.helpers import audit_rows
from tests.factories import Recorder, make_staff, make_team, principal_of

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


async def _promise(rt, agent, *, hours: float = 24, details: str = "核实转账退回原因后回复客户") -> int:
    c = await handled(rt, agent.id)
    async with rt.db.transaction() as s:
        f = await followups.create_on_contact(s, actor=principal_of(agent), contact_id=c.id, details=details,
                                              due_at=clock.now() + dt.timedelta(hours=hours))  # fmt: skip
        return f.id


async def _list(rt, who, **kw) -> list[int]:
    async with rt.db.transaction() as s:
        rows, total = await followups.list_follow_ups(s, actor=principal_of(who), **kw)
        assert total == len(rows)
        return sorted(f.id for f in rows)


@pytest.fixture
async def center(rt):
    clock.freeze(NOW)
    t1, t2 = await make_team(rt), await make_team(rt)
    people = {
        "a1": await make_staff(rt, roles=["agent"], team_id=t1),
        "a2": await make_staff(rt, roles=["agent"], team_id=t1),
        "b1": await make_staff(rt, roles=["agent"], team_id=t2),
        "lead1": await make_staff(rt, roles=["team_lead"], team_id=t1),
        "lead2": await make_staff(rt, roles=["team_lead"], team_id=t2),
        "sup": await make_staff(rt, roles=["supervisor"]),
        "qa": await make_staff(rt, roles=["qa_inspector"], team_id=t1),
    }
    return t1, t2, people


async def test_lists_are_scoped(rt, center):
    t1, t2, p = center
    f1 = await _promise(rt, p["a1"])
    f2 = await _promise(rt, p["a2"])
    f3 = await _promise(rt, p["b1"])
    assert await _list(rt, p["a1"]) == [f1]
    assert await _list(rt, p["lead1"], scope="team") == [f1, f2]
    assert await _list(rt, p["lead2"], scope="team") == [f3]
    assert await _list(rt, p["sup"], scope="team", team_id=t2) == [f3]
    assert await _list(rt, p["sup"], scope="all") == [f1, f2, f3]
    assert await _list(rt, p["qa"], scope="all") == [f1, f2, f3]
    for who, kw in (("a1", {"scope": "team"}), ("a1", {"scope": "all"}), ("lead1", {"scope": "all"})):
        with pytest.raises(PermissionDenied):
            await _list(rt, p[who], **kw)
    with pytest.raises(ValidationFailed):
        await _list(rt, p["sup"], scope="team")  # which team?
    clock.advance(dt.timedelta(hours=25))
    assert await _list(rt, p["lead1"], scope="team", overdue=True) == [f1, f2]
    async with rt.db.transaction() as s:
        for who, fid in (("a2", f1), ("b1", f1), ("lead2", f1)):
            with pytest.raises(NotFound):
                await followups.get_visible(s, actor=principal_of(p[who]), follow_up_id=fid)


async def test_only_the_contacts_agent_promises_a_follow_up(rt, center):
    _, _, p = center
    c = await handled(rt, p["a1"].id)
    async with rt.db.transaction() as s:
        with pytest.raises(NotFound):
            await followups.create_on_contact(s, actor=principal_of(p["a2"]), contact_id=c.id, details="核实后回复",
                                              due_at=clock.now() + dt.timedelta(hours=1))  # fmt: skip
        with pytest.raises(PermissionDenied):
            await followups.create_on_contact(s, actor=principal_of(p["lead1"]), contact_id=c.id,
                                              details="核实后回复", due_at=clock.now() + dt.timedelta(hours=1))  # fmt: skip


async def test_close_records_how_the_customer_was_answered(rt, center):
    _, _, p = center
    f1 = await _promise(rt, p["a1"])
    f2 = await _promise(rt, p["a1"])
    async with rt.db.transaction() as s:
        for who in ("a2", "lead2"):
            with pytest.raises(NotFound):
                await followups.close(s, actor=principal_of(p[who]), follow_up_id=f1, answer_channel="phone",
                                      answer_note="已回电告知")  # fmt: skip
        with pytest.raises(PermissionDenied):
            await followups.close(s, actor=principal_of(p["qa"]), follow_up_id=f1, answer_channel="phone",
                                  answer_note="已回电告知")  # fmt: skip
        with pytest.raises(ValidationFailed):
            await followups.close(s, actor=principal_of(p["a1"]), follow_up_id=f1, answer_channel=None,
                                  answer_note="已回电告知")  # fmt: skip
    async with rt.db.transaction() as s:
        f = await followups.close(s, actor=principal_of(p["a1"]), follow_up_id=f1, answer_channel="phone",
                                  answer_note="已回电告知客户退回原因：收款账户名不符")  # fmt: skip
        assert (f.status, f.closed_by, f.answer_channel, f.closed_at) == ("done", p["a1"].id, "phone", NOW)
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict):
            await followups.close(s, actor=principal_of(p["a1"]), follow_up_id=f1, answer_channel="sms",
                                  answer_note="again")  # fmt: skip
        f = await followups.close(s, actor=principal_of(p["lead1"]), follow_up_id=f2, answer_channel=None,
                                  answer_note="客户来电已自行解决", outcome="cancelled")  # fmt: skip
        assert f.status == "cancelled"
    assert [r.action for r in await audit_rows(rt, "followup.")] == ["followup.create", "followup.create",
                                                                      "followup.close", "followup.cancel"]  # fmt: skip


async def test_reassign_within_scope(rt, center):
    _, _, p = center
    fid = await _promise(rt, p["a1"])
    async with rt.db.transaction() as s:
        with pytest.raises(PermissionDenied):  # an agent holds no FOLLOWUP_MANAGE
            await followups.reassign(s, actor=principal_of(p["a1"]), follow_up_id=fid, owner_id=p["a2"].id,
                                     reason="休假")  # fmt: skip
        with pytest.raises(NotFound):
            await followups.reassign(s, actor=principal_of(p["lead2"]), follow_up_id=fid, owner_id=p["b1"].id,
                                     reason="休假")  # fmt: skip
        with pytest.raises(PermissionDenied):  # a team lead keeps it inside the team
            await followups.reassign(s, actor=principal_of(p["lead1"]), follow_up_id=fid, owner_id=p["b1"].id,
                                     reason="休假调整")  # fmt: skip
        with pytest.raises(ValidationFailed):  # not someone who handles contacts
            await followups.reassign(s, actor=principal_of(p["lead1"]), follow_up_id=fid, owner_id=p["qa"].id,
                                     reason="休假调整")  # fmt: skip
    async with rt.db.transaction() as s:
        f = await followups.reassign(s, actor=principal_of(p["lead1"]), follow_up_id=fid, owner_id=p["a2"].id,
                                     reason="a1 休假")  # fmt: skip
        assert (f.owner_id, f.previous_owner_id) == (p["a2"].id, p["a1"].id)
    async with rt.db.transaction() as s:
        f = await followups.reassign(s, actor=principal_of(p["sup"]), follow_up_id=fid, owner_id=p["b1"].id,
                                     reason="转二组处理")  # fmt: skip
        assert (f.owner_id, f.team_id) == (p["b1"].id, center[1])
    assert await _list(rt, p["b1"]) == [fid]
    assert await _list(rt, p["a2"]) == []
    rows = await audit_rows(rt, "followup.reassign")
    assert [r.purpose for r in rows] == ["a1 休假", "转二组处理"]


async def test_sweep_reminds_and_escalates_once(rt, center):
    t1, _, p = center
    rt.settings = rt.settings.model_copy(update={"followup_remind_minutes": 30})
    soon = await _promise(rt, p["a1"], hours=0.25)  # due in 15 min: remind now
    later = await _promise(rt, p["a2"], hours=2)
    reminders, overdue = Recorder(jobs.REMINDER_EVENT), Recorder(jobs.OVERDUE_EVENT)
    try:
        assert await jobs.followup_sweep(rt) == {"reminded": 1, "escalated": 0}
        assert await jobs.followup_sweep(rt) == {"reminded": 0, "escalated": 0}, "once"
        assert [(x["follow_up_id"], x["owner_id"]) for x in reminders.payloads] == [(soon, p["a1"].id)]
        clock.advance(dt.timedelta(minutes=16))  # `soon` is overdue now
        assert await jobs.followup_sweep(rt) == {"reminded": 0, "escalated": 1}
        (esc,) = overdue.payloads
        assert (esc["follow_up_id"], esc["owner_id"], esc["team_lead_ids"]) == (soon, p["a1"].id, [p["lead1"].id])
        clock.advance(dt.timedelta(minutes=90))  # `later` is 14 min from due
        assert await jobs.followup_sweep(rt) == {"reminded": 1, "escalated": 0}
        clock.advance(dt.timedelta(hours=1))
        assert await jobs.followup_sweep(rt) == {"reminded": 0, "escalated": 1}
        assert await jobs.followup_sweep(rt) == {"reminded": 0, "escalated": 0}
        assert [x["follow_up_id"] for x in overdue.payloads] == [soon, later]
    finally:
        reminders.close()
        overdue.close()
    async with rt.db.transaction() as s:
        f = await repo.get_follow_up(s, soon)
        assert f.reminded_at == NOW
        assert f.escalated_at == NOW + dt.timedelta(minutes=16)


async def test_closed_follow_ups_are_not_reminded(rt, center):
    _, _, p = center
    fid = await _promise(rt, p["a1"], hours=0.25)
    async with rt.db.transaction() as s:
        await followups.close(s, actor=principal_of(p["a1"]), follow_up_id=fid, answer_channel="sms",
                              answer_note="短信告知结果")  # fmt: skip
    clock.advance(dt.timedelta(hours=1))
    assert await jobs.followup_sweep(rt) == {"reminded": 0, "escalated": 0}


async def test_suspension_hands_follow_ups_to_a_team_lead(rt, center):
    t1, t2, p = center
    admin = principal_of(await make_staff(rt, roles=["admin"]))
    f1 = await _promise(rt, p["a1"])
    f2 = await _promise(rt, p["a1"])
    fb = await _promise(rt, p["b1"])
    async with rt.db.transaction() as s:
        await staff_service.set_status(s, actor=admin, staff_id=p["a1"].id, status="suspended", reason="调岗")
    # the event handler ran after commit (embedded dispatch)
    assert await _list(rt, p["lead1"], scope="mine") == [f1, f2]
    async with rt.db.transaction() as s:
        f = await repo.get_follow_up(s, f1)
        assert (f.owner_id, f.previous_owner_id, f.needs_owner) == (p["lead1"].id, p["a1"].id, False)
    # team 2 loses its only team lead first: b1's follow-up stays unassigned, flagged
    async with rt.db.transaction() as s:
        await staff_service.set_status(s, actor=admin, staff_id=p["lead2"].id, status="left", reason="离职")
        await staff_service.set_status(s, actor=admin, staff_id=p["b1"].id, status="left", reason="离职")
    async with rt.db.transaction() as s:
        f = await repo.get_follow_up(s, fb)
        assert (f.owner_id, f.needs_owner, f.team_id, f.status) == (None, True, t2, "open")
    assert await _list(rt, p["sup"], scope="all", needs_owner=True) == [fb]
    assert len(await audit_rows(rt, "followup.hand_over")) == 3
    async with rt.db.transaction() as s:  # explicit hand-over to a named agent
        assert await followups.hand_over(s, from_agent=p["lead1"].id, to_agent=p["a2"].id, actor=admin) == 2
        assert await followups.hand_over(s, from_agent=p["lead1"].id, to_agent=p["a2"].id, actor=admin) == 0
    assert await _list(rt, p["a2"]) == [f1, f2]
