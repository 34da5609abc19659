"""The sweep that watches the regulator's clock (issue 6 §2 "warnings before breach, escalation to the
supervisor at breach", §4 "overdue nodes escalate"; R5.6), driven by a controllable clock: each warning,
breach, accept-overdue notice and node escalation happens once, even when two sweeps run at once, and a
paused clock never breaches. Generated data only."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.complaints import clock as cclock
from kefu.complaints import jobs, plan
from kefu.core import clock
from tests.complaints.conftest import T0, complaint_row, principal_for
from tests.customers.helpers import audit_rows
from tests.factories import Recorder, auth_headers, make_staff, raw_rows

SH = ZoneInfo("Asia/Shanghai")
NOTHING = {"warned": 0, "breached": 0, "accept_overdue": 0, "nodes_overdue": 0}


def local(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=SH).astimezone(dt.UTC)


@pytest.fixture
def recorders():
    recs = {name: Recorder(name) for name in (jobs.WARNING_EVENT, jobs.BREACHED_EVENT, jobs.ACCEPT_OVERDUE_EVENT,
                                              jobs.NODE_OVERDUE_EVENT)}  # fmt: skip
    yield recs
    for r in recs.values():
        r.close()


@pytest.fixture
def accepted(rt, frozen, cal, people):
    """``await accepted(**fields)``: a case accepted at T0 (Mon 2026-11-23) and handled by ``people.handler``:
    15 calendar days, due 2026-12-08, late from 2026-12-09 00:00 Shanghai time."""

    async def make(status: str = "investigating", **fields):
        f = cclock.start(T0, cclock.Rules.from_settings(rt.settings), cal)
        values = {"status": status, "handler_id": people.handler.id, "created_by": people.agent.id, "accepted_at": T0,
                  **dataclasses.asdict(f), **fields}  # fmt: skip
        async with rt.db.transaction() as s:
            return await complaint_row(s, **values)

    return make


async def test_warnings_once_per_threshold_then_breach_once(rt, accepted, people, recorders):
    """Issue 6 §2 / 办法 第十七条 (decision within 15 days of acceptance): warnings at 3 and 1 days before the
    due date (complaint_warn_days), one each; at the due instant the breach goes to the handler and every
    supervisor (COMPLAINT_ESCALATIONS), with a timeline entry and an audit entry — once."""
    c = await accepted()
    assert (c.due_date, c.due_at) == (dt.date(2026, 12, 8), local(2026, 12, 9, 0))
    assert await jobs.sweep(rt) == NOTHING
    clock.freeze(local(2026, 12, 5))  # 3 days left
    assert await jobs.sweep(rt) == {**NOTHING, "warned": 1}
    assert await jobs.sweep(rt) == NOTHING, "once per threshold"
    clock.freeze(local(2026, 12, 6))  # 2 days left: no new threshold
    assert await jobs.sweep(rt) == NOTHING
    clock.freeze(local(2026, 12, 7, 23, 59))  # 1 day left
    assert await jobs.sweep(rt) == {**NOTHING, "warned": 1}
    warnings = recorders[jobs.WARNING_EVENT].payloads
    assert [(w["level"], w["threshold"], w["days_left"]) for w in warnings] == [(1, 3, 3), (2, 1, 1)]
    assert {(w["complaint_id"], w["number"], w["owner_id"]) for w in warnings} == {(c.id, c.number, people.handler.id)}
    assert all(w["team_lead_ids"] == [] for w in warnings)

    clock.freeze(c.due_at - dt.timedelta(microseconds=1))  # the last instant of the due date
    assert await jobs.sweep(rt) == NOTHING
    clock.freeze(c.due_at)
    assert await jobs.sweep(rt) == {**NOTHING, "breached": 1}
    assert await jobs.sweep(rt) == NOTHING, "breach only once"
    clock.advance(dt.timedelta(days=3))
    assert await jobs.sweep(rt) == NOTHING
    (breach,) = recorders[jobs.BREACHED_EVENT].payloads
    assert (breach["complaint_id"], breach["owner_id"], breach["due_date"]) == (c.id, people.handler.id, "2026-12-08")
    assert sorted(breach["team_lead_ids"]) == sorted([people.supervisor.id, people.supervisor2.id])
    (row,) = await raw_rows(rt, "SELECT breached_at, escalated_at, warned_level FROM complaints WHERE id = :i", i=c.id)
    assert row.warned_level == 2
    assert row.breached_at is not None
    assert row.escalated_at is not None
    kinds = [r.kind for r in await raw_rows(rt, "SELECT kind FROM complaint_events WHERE complaint_id = :i", i=c.id)]
    assert kinds.count("warning") == 2
    assert kinds.count("breached") == 1
    assert len(await audit_rows(rt, "complaint.breached")) == 1


async def test_a_late_first_sweep_sends_one_warning_for_both_thresholds(rt, accepted, recorders):
    """Issue 6 §2: warned_level counts the thresholds passed; a sweep that finds two passed at once sends one
    warning (the most urgent) instead of a stale one first."""
    c = await accepted()
    clock.freeze(local(2026, 12, 7))
    assert await jobs.sweep(rt) == {**NOTHING, "warned": 1}
    assert await jobs.sweep(rt) == NOTHING
    (w,) = recorders[jobs.WARNING_EVENT].payloads
    assert (w["complaint_id"], w["level"], w["threshold"]) == (c.id, 2, 1)


async def test_two_sweeps_at_once_breach_once(rt, accepted, recorders):
    """Claims by conditional UPDATE: two workers sweeping at the same moment escalate a breach once."""
    cases = [await accepted() for _ in range(3)]
    clock.freeze(cases[0].due_at + dt.timedelta(minutes=5))
    first, second = await asyncio.gather(jobs.sweep(rt), jobs.sweep(rt))
    assert first["breached"] + second["breached"] == 3
    assert sorted(p["complaint_id"] for p in recorders[jobs.BREACHED_EVENT].payloads) == [c.id for c in cases]
    assert len(await audit_rows(rt, "complaint.breached")) == 3


async def test_paused_or_stopped_clocks_never_breach(rt, accepted, cal, recorders):
    """办法: time of an outside appraisal or test (第三方鉴定/检测) does not count — a paused clock never breaches
    and gets no warnings; a decided case's clock has stopped."""
    paused = await accepted(clock_state="paused", paused_since=dt.date(2026, 11, 30))
    decided = await accepted(status="decided", clock_state="stopped", decided_at=local(2026, 12, 1))
    clock.freeze(local(2027, 1, 20))
    assert await jobs.sweep(rt) == NOTHING
    assert recorders[jobs.BREACHED_EVENT].payloads == []
    rows = await raw_rows(rt, "SELECT breached_at FROM complaints WHERE id IN (:a, :b)", a=paused.id, b=decided.id)
    assert [r.breached_at for r in rows] == [None, None]


async def test_accept_overdue_once(rt, frozen, cal, people, recorders):
    """Internal rule (complaint_accept_days, 5 working days): a received case not accepted or refused in time
    is reported once; supervisors hear it while nobody handles the case."""
    rules = cclock.Rules.from_settings(rt.settings)
    due = cclock.accept_due(T0, rules, cal)
    async with rt.db.transaction() as s:
        orphan = await complaint_row(s, accept_due_at=due, created_by=people.agent.id)
        owned = await complaint_row(s, accept_due_at=due, handler_id=people.handler.id)
        await complaint_row(s, accept_due_at=due + dt.timedelta(days=1))  # not yet due
    assert due == local(2026, 12, 1, 0)  # 5 working days after Mon 23 Nov: Mon 30 Nov, late from 1 Dec
    clock.freeze(due - dt.timedelta(seconds=1))
    assert await jobs.sweep(rt) == NOTHING
    clock.freeze(due)
    assert await jobs.sweep(rt) == {**NOTHING, "accept_overdue": 2}
    assert await jobs.sweep(rt) == NOTHING
    got = {p["complaint_id"]: p for p in recorders[jobs.ACCEPT_OVERDUE_EVENT].payloads}
    assert set(got) == {orphan.id, owned.id}
    assert got[orphan.id]["owner_id"] is None
    assert sorted(got[orphan.id]["team_lead_ids"]) == sorted([people.supervisor.id, people.supervisor2.id])
    assert (got[owned.id]["owner_id"], got[owned.id]["team_lead_ids"]) == (people.handler.id, [])


async def test_overdue_plan_node_escalates_once(rt, accepted, people, recorders):
    """R5.4 / R5.6 (issue 6 §4 "overdue nodes escalate"): an open node past its time node goes to the handler and
    the supervisors once; a completed node never does."""
    c = await accepted("plan_agreed")
    async with rt.db.transaction() as s:
        late = await plan.add_node(s, actor=principal_for(people.handler), complaint_id=c.id, measure="退还年费",
                                   owner_id=people.handler2.id, due_at=T0 + dt.timedelta(hours=2))  # fmt: skip
        done = await plan.add_node(s, actor=principal_for(people.handler), complaint_id=c.id, measure="致歉",
                                   owner_id=people.handler.id, due_at=T0 + dt.timedelta(hours=1))  # fmt: skip
    async with rt.db.transaction() as s:
        await plan.complete_node(s, actor=principal_for(people.handler), node_id=done.id, outcome="已电话致歉。")
    clock.advance(dt.timedelta(hours=2))
    assert await jobs.sweep(rt) == {**NOTHING, "nodes_overdue": 1}
    assert await jobs.sweep(rt) == NOTHING
    (p,) = recorders[jobs.NODE_OVERDUE_EVENT].payloads
    assert (p["complaint_id"], p["node_id"], p["seq"], p["node_owner_id"], p["owner_id"]) == (
        c.id, late.id, 1, people.handler2.id, people.handler.id,
    )  # fmt: skip
    assert sorted(p["team_lead_ids"]) == sorted([people.supervisor.id, people.supervisor2.id])
    assert len(await audit_rows(rt, "complaint.plan.overdue")) == 1


async def test_sweep_route(rt, client, accepted, people, recorders):
    """POST /api/v1/complaints/sweep runs the sweep once (SYSTEM_OPS); events go out after the request commits."""
    c = await accepted()
    ops = await make_staff(rt, roles=["admin"])
    assert (await client.post("/api/v1/complaints/sweep",
                              headers=await auth_headers(client, people.handler))).status_code == 403  # fmt: skip
    clock.freeze(c.due_at)
    r = await client.post("/api/v1/complaints/sweep", headers=await auth_headers(client, ops))
    assert r.status_code == 200, r.text
    assert r.json() == {**NOTHING, "breached": 1}
    r = await client.post("/api/v1/complaints/sweep", headers=await auth_headers(client, ops))
    assert r.json() == NOTHING
    assert [p["complaint_id"] for p in recorders[jobs.BREACHED_EVENT].payloads] == [c.id]


@pytest.mark.parametrize("via", ["worker", "route"])
async def test_a_failing_case_does_not_stop_the_sweep(rt, client, accepted, recorders, monkeypatch, via):
    """Each case is claimed in its own unit of work (a transaction, or a savepoint under the HTTP route): a case
    that fails is rolled back alone and claimed again by the next sweep."""
    bad, good = await accepted(), await accepted()
    ops = await make_staff(rt, roles=["admin"])
    real = jobs._breach

    async def flaky(s, complaint_id, *, now):
        done = await real(s, complaint_id, now=now)
        if complaint_id == bad.id:
            raise RuntimeError("notification system down")
        return done

    async def run() -> dict[str, int]:
        if via == "worker":
            return await jobs.sweep(rt)
        r = await client.post("/api/v1/complaints/sweep", headers=await auth_headers(client, ops))
        assert r.status_code == 200, r.text
        return dict(r.json())

    clock.freeze(bad.due_at)
    monkeypatch.setattr(jobs, "_breach", flaky)
    assert await run() == {**NOTHING, "breached": 1}
    monkeypatch.setattr(jobs, "_breach", real)
    assert await run() == {**NOTHING, "breached": 1}
    assert [p["complaint_id"] for p in recorders[jobs.BREACHED_EVENT].payloads] == [good.id, bad.id]
    assert len(await audit_rows(rt, "complaint.breached")) == 2


async def test_a_restarted_term_keeps_the_breach_on_record_and_can_breach_again(
    rt: Any, accepted: Any, cal: Any, people: Any, recorders: Any
) -> None:
    """办法 (decision within the term) / issue 6 §2 (escalation at breach) and new facts (the count restarts):
    a breach is escalated once per term. breached_at stays as the record after a restart (the statistics
    count it); the new term (received 12-10, due 12-25) is not shown as breached and breaches — once — when
    it runs out too. The same holds after a reopen."""
    from kefu.complaints import clocking, stats, workflow
    from kefu.complaints.models import Complaint

    c = await accepted()
    clock.freeze(c.due_at)
    assert await jobs.sweep(rt) == {**NOTHING, "breached": 1}
    async with rt.db.transaction() as s:
        first = (await s.get(Complaint, c.id)).breached_at
    clock.freeze(local(2026, 12, 10))
    async with rt.db.transaction() as s:
        c = await clocking.new_facts(s, actor=principal_for(people.handler), complaint_id=c.id,
                                     received_on=dt.date(2026, 12, 10), summary="客户补充了交易流水")  # fmt: skip
    assert c.due_date == dt.date(2026, 12, 25)
    assert c.breached_at is not None
    assert not cclock.breach_recorded(c)
    rules = cclock.Rules.from_settings(rt.settings)
    assert cclock.view(c, now=clock.now(), rules=rules, cal=cal).colour == "ok"
    async with rt.db.transaction() as s:
        report = await stats.report(s, period=stats.period_for("month", dt.date(2026, 12, 1)), settings=rt.settings,
                                    locale="en")  # fmt: skip
    assert report.totals["breached"] == 1, "the earlier breach stays counted"
    assert await jobs.sweep(rt) == NOTHING
    clock.freeze(c.due_at)
    assert await jobs.sweep(rt) == {**NOTHING, "breached": 1}
    assert await jobs.sweep(rt) == NOTHING, "once for this term"
    assert [p["due_date"] for p in recorders[jobs.BREACHED_EVENT].payloads] == ["2026-12-08", "2026-12-25"]
    async with rt.db.transaction() as s:
        row = await s.get(Complaint, c.id)
        assert row is not None
        assert row.breached_at > first
        assert cclock.breach_recorded(row)
        h = principal_for(people.handler)
        row.root_cause, row.responsible_party = "fee_policy", "card_center"
    async with rt.db.transaction() as s:
        await workflow.decide(s, actor=h, complaint_id=c.id, decision="退还年费并致歉")
    async with rt.db.transaction() as s:
        await workflow.record_response(s, actor=h, complaint_id=c.id, response="disputed", satisfaction=1, note=None)
    async with rt.db.transaction() as s:
        c = await workflow.reopen(s, actor=h, complaint_id=c.id, reason="客户提供新的交易记录")
    assert c.breached_at is not None
    assert not cclock.breach_recorded(c)
    clock.freeze(c.due_at)
    assert await jobs.sweep(rt) == {**NOTHING, "breached": 1}
