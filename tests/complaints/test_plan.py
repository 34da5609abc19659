"""The handling plan (R5.4; issue 6 §3): measures with owners and time nodes, drafted while investigating,
completed once agreed, never past the regulator's deadline; the customer hears at each node, and the
progress notice reaches the outbox only when the transaction commits. Generated data only."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kefu.complaints import clock as cclock
from kefu.complaints import plan
from kefu.core import clock
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.complaints.conftest import complaint_row, principal_for
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_staff, raw_rows, sync_rows

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def open_case(rt, frozen, cal, agent, handler):
    """``await open_case(status)``: a case accepted at T0 (15 calendar days: due 2026-12-08) with ``handler``."""

    async def make(status: str = "investigating", **fields):
        rules = cclock.Rules.from_settings(rt.settings)
        f = cclock.start(clock.now(), rules, cal)
        async with rt.db.transaction() as s:
            return await complaint_row(s, status=status, handler_id=handler.id, created_by=agent.id,
                                       accepted_at=clock.now(), **dataclasses.asdict(f), **fields)  # fmt: skip

    return make


async def _add(rt, who, case_id, *, due=None, measure="退还误收年费", owner=None):
    async with rt.db.transaction() as s:
        return await plan.add_node(s, actor=principal_for(who), complaint_id=case_id, measure=measure,
                                   owner_id=owner or who.id, due_at=due or clock.now() + 24 * HOUR)  # fmt: skip


async def test_node_rules(rt, open_case, handler, handler2, supervisor):
    """R5.4 / issue 6 §3: the plan lists measures, owners and time nodes; nodes are drafted while
    investigating and completed once the plan is agreed; a node never falls after the case's due date
    (办法 第十七条: decision within 15 days of acceptance)."""
    received = await open_case("received")
    with pytest.raises(Conflict, match="is received; plan nodes can be added only while it is investigating"):
        await _add(rt, handler, received.id)
    c = await open_case()
    assert c.due_date == dt.date(2026, 12, 8)
    n1 = await _add(rt, handler, c.id)
    n2 = await _add(rt, supervisor, c.id, measure="向客户当面致歉", owner=handler2.id)  # a supervisor may plan too
    assert (n1.seq, n2.seq, n2.owner_id, n2.status) == (1, 2, handler2.id, "open")
    with pytest.raises(ValidationFailed, match="in the future") as exc:
        await _add(rt, handler, c.id, due=clock.now() - HOUR)
    assert exc.value.extra["errors"][0]["field"] == "due_at"
    with pytest.raises(ValidationFailed, match="2026-12-08"):
        await _add(rt, handler, c.id, due=c.due_at + dt.timedelta(seconds=1))
    last = await _add(rt, handler, c.id, due=c.due_at)  # the very end of the due date is allowed
    assert last.seq == 3
    with pytest.raises(ValidationFailed, match="time zone"):
        await _add(rt, handler, c.id, due=dt.datetime(2026, 11, 30, 9, 0))  # noqa: DTZ001 - the error under test
    with pytest.raises(ValidationFailed, match="No active staff member"):
        await _add(rt, handler, c.id, owner=10**9)
    with pytest.raises(PermissionDenied, match="handled by someone else"):
        await _add(rt, handler2, c.id)

    async with rt.db.transaction() as s:
        with pytest.raises(Conflict, match="completed only while it is plan_agreed, resolving"):
            await plan.complete_node(s, actor=principal_for(handler), node_id=n1.id, outcome="已退还年费200元")
    async with rt.db.transaction() as s:
        cancelled = await plan.cancel_node(s, actor=principal_for(handler), node_id=n2.id, reason="客户不需要当面致歉")
    assert cancelled.status == "cancelled"
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict, match="already cancelled"):
            await plan.cancel_node(s, actor=principal_for(handler), node_id=n2.id, reason="再次取消")
        assert [n.seq for n in await plan.nodes_of(s, c.id)] == [1, 2, 3]
    actions = [r.action for r in await audit_rows(rt, "complaint.plan.")]
    assert actions == ["complaint.plan.add"] * 3 + ["complaint.plan.cancel"]


async def test_progress_notice_reaches_the_outbox_only_after_commit(rt, open_case, handler):
    """R5.4: at each node the customer gets a progress notice; convention 2: the outbox row is written in the
    transaction, so nobody sees it before commit and a rollback leaves none."""
    c = await open_case("plan_agreed", complainant_email="tester@example.com")
    nodes = [await _add(rt, handler, c.id, measure=f"措施{i}") for i in range(3)]
    url = rt.settings.database_url

    def outbox() -> int:
        return len(sync_rows(url, "SELECT id FROM outbound_messages WHERE kind = 'complaint_notice'"))

    async def complete_then_fail() -> None:
        async with rt.db.transaction() as s:
            await plan.complete_node(s, actor=principal_for(handler), node_id=nodes[0].id, outcome="已退还年费。")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await complete_then_fail()
    assert outbox() == 0

    async with rt.db.transaction() as s:
        done = await plan.complete_node(s, actor=principal_for(handler), node_id=nodes[0].id, outcome="已退还年费。")
        assert done.notice_sent_at == clock.now()
        assert outbox() == 0, "not visible before commit"
    assert outbox() == 2  # SMS and e-mail
    notices = await raw_rows(rt, "SELECT kind, channel FROM complaint_notices WHERE complaint_id = :i", i=c.id)
    assert sorted((n.kind, n.channel) for n in notices) == [("progress", "email"), ("progress", "sms")]

    async with rt.db.transaction() as s:
        quiet = await plan.complete_node(s, actor=principal_for(handler), node_id=nodes[1].id, outcome="内部复核完成",
                                         notify=False)  # fmt: skip
    assert (quiet.status, quiet.notice_sent_at) == ("done", None)
    assert outbox() == 2
    async with rt.db.transaction() as s:
        with pytest.raises(Conflict, match="already done"):
            await plan.complete_node(s, actor=principal_for(handler), node_id=nodes[0].id, outcome="再次完成")


async def test_plan_routes(rt, client, open_case, agent, handler):
    """The plan over HTTP: handlers add and complete nodes; an agent may read the plan of a case they
    registered but not change it."""
    c = await open_case("resolving")
    owner = await make_staff(rt, roles=["agent"])
    headers = await auth_headers(client, handler)
    due = (clock.now() + 48 * HOUR).isoformat()
    r = await client.post(f"/api/v1/complaints/{c.id}/plan", json={"measure": "补发卡片", "owner_id": owner.id,
                                                                    "due_at": due}, headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    node = r.json()
    assert (node["seq"], node["owner_id"], node["status"]) == (1, owner.id, "open")
    agent_headers = await auth_headers(client, agent)
    r = await client.post(f"/api/v1/complaints/plan/{node['id']}/complete", json={"outcome": "已补发"},
                          headers=agent_headers)  # fmt: skip
    assert r.status_code == 403
    r = await client.get(f"/api/v1/complaints/{c.id}/plan", headers=agent_headers)
    assert [n["measure"] for n in r.json()] == ["补发卡片"]
    r = await client.post(f"/api/v1/complaints/plan/{node['id']}/complete", json={"outcome": "新卡已寄出。"},
                          headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"
    assert r.json()["notice_sent_at"] is not None
    r = await client.post(f"/api/v1/complaints/{c.id}/plan", json={"measure": "x", "owner_id": owner.id,
                                                                    "due_at": due}, headers=headers)  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "measure"
