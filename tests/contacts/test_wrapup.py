"""Wrap-up (R1.5): an active leaf category, a summary, a result, a follow-up when one was promised;
once, by the contact's agent (or their team lead), only after the contact ended; handle time."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.contacts import categories, demo, wrapup
from kefu.contacts import repository as repo
from kefu.contacts.schemas import FollowUpIn
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.contacts.conftest import handled, open_contact, record
from tests.customers.helpers import audit_rows
from tests.factories import make_staff, make_team, principal_of


async def _seed(rt) -> dict[str, int]:
    async with rt.db.transaction() as s:
        assert await demo.seed_categories(s) > 20
        assert await demo.seed_categories(s) == 0, "seeding twice inserts nothing"
        return {c.code: c.id for c in await repo.categories(s)}


async def _submit(rt, actor, contact_id: int, **kw):
    kw.setdefault("category_id", None)
    kw.setdefault("summary", "客户询问信用卡账单日，已告知每月5日出账。")
    kw.setdefault("result", "resolved")
    kw.setdefault("kb_entries", ["KB-1024 信用卡账单日"])
    kw.setdefault("follow_up", None)
    async with rt.db.transaction() as s:
        return await wrapup.submit_wrapup(s, actor=principal_of(actor), contact_id=contact_id, settings=rt.settings,
                                          **kw)  # fmt: skip


async def test_wrapup_closes_the_contact_and_counts_toward_handle_time(rt):
    cats = await _seed(rt)
    clock.freeze(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))
    agent = await make_staff(rt, roles=["agent"])
    c = await handled(rt, agent.id, wait=6, talk=100)
    clock.advance(dt.timedelta(seconds=44))
    w = await _submit(rt, agent, c.id, category_id=cats["credit_card.bill"])
    assert w.wrapup_seconds == 45.0  # the call ended 1 s before the frozen "now"
    async with rt.db.transaction() as s:
        closed = await repo.get_contact(s, c.id)
        assert (closed.status, closed.wrapup_seconds, closed.wrapup_ended_at) == ("closed", 45.0, clock.now())
        from kefu.contacts.views import contact_view

        assert contact_view(closed)["handle_seconds"] == 145.0
        assert (await repo.wrapup_of(s, c.id)).summary.startswith("客户询问")
    entries = await audit_rows(rt, "contact.wrapup")
    assert len(entries) == 1
    assert "账单日" not in entries[0].after, "the audit entry holds no free text"
    # only once
    with pytest.raises(Conflict):
        await _submit(rt, agent, c.id, category_id=cats["credit_card.bill"])


async def test_category_must_be_an_active_leaf(rt):
    cats = await _seed(rt)
    agent = await make_staff(rt, roles=["agent"])
    c = await handled(rt, agent.id)
    for category_id, words in ((cats["card"], "sub-categories"), (999_999, "No wrap-up category")):
        with pytest.raises(ValidationFailed, match=words):
            await _submit(rt, agent, c.id, category_id=category_id)
    admin = principal_of(await make_staff(rt, roles=["admin"]))
    async with rt.db.transaction() as s:
        await categories.set_active(s, actor=admin, category_id=cats["card"], active=False)
    with pytest.raises(ValidationFailed, match="no longer in use"):
        await _submit(rt, agent, c.id, category_id=cats["card.loss"])
    # "other" has no children: a leaf at the top
    await _submit(rt, agent, c.id, category_id=cats["other"])


@pytest.mark.parametrize(("field", "value"), [
    ("summary", " "), ("summary", "x" * 2001), ("result", "maybe"), ("result", "follow_up"),
    ("kb_entries", ["x" * 201]),
])  # fmt: skip
async def test_invalid_wrapups_are_refused(rt, field, value):
    cats = await _seed(rt)
    agent = await make_staff(rt, roles=["agent"])
    c = await handled(rt, agent.id)
    with pytest.raises(ValidationFailed):
        await _submit(rt, agent, c.id, category_id=cats["other"], **{field: value})
    async with rt.db.transaction() as s:
        assert (await repo.get_contact(s, c.id)).status == "wrap_up"


async def test_follow_up_promised_in_the_wrapup(rt):
    cats = await _seed(rt)
    team = await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    c = await handled(rt, agent.id)
    past = FollowUpIn(details="核实年费减免政策后回电", due_at=clock.now() - dt.timedelta(minutes=1))
    with pytest.raises(ValidationFailed, match="future"):
        await _submit(rt, agent, c.id, category_id=cats["credit_card.fee"], result="follow_up", follow_up=past)
    due = clock.now() + dt.timedelta(days=1)
    fu = FollowUpIn(details="核实年费减免政策后回电", due_at=due)
    await _submit(rt, agent, c.id, category_id=cats["credit_card.fee"], result="follow_up", follow_up=fu)
    async with rt.db.transaction() as s:
        (f,) = await repo.follow_ups_of_contact(s, c.id)
    assert (f.owner_id, f.team_id, f.status, f.created_by) == (agent.id, team, "open", agent.id)
    assert abs((f.due_at - due).total_seconds()) < 1e-3


async def test_only_the_agent_or_their_team_lead_and_only_after_the_end(rt):
    cats = await _seed(rt)
    team, other_team = await make_team(rt), await make_team(rt)
    agent = await make_staff(rt, roles=["agent"], team_id=team)
    peer = await make_staff(rt, roles=["agent"], team_id=team)
    lead = await make_staff(rt, roles=["team_lead"], team_id=team)
    other_lead = await make_staff(rt, roles=["team_lead"], team_id=other_team)
    supervisor = await make_staff(rt, roles=["supervisor"])
    c = await handled(rt, agent.id)
    with pytest.raises(NotFound):
        await _submit(rt, peer, c.id, category_id=cats["other"])  # cannot even see it
    with pytest.raises(NotFound):
        await _submit(rt, other_lead, c.id, category_id=cats["other"])
    with pytest.raises(PermissionDenied):
        await _submit(rt, supervisor, c.id, category_id=cats["other"])  # sees it, but did not handle it
    w = await _submit(rt, lead, c.id, category_id=cats["other"])
    assert w.agent_id == agent.id, "the wrap-up stays the agent's when the team lead records it"
    live = await handled(rt, agent.id, end=False)
    with pytest.raises(Conflict, match="still in progress"):
        await _submit(rt, agent, live.id, category_id=cats["other"])
    waiting = await open_contact(rt)
    await record(rt, waiting.id, "offered", clock.now(), agent.id)
    with pytest.raises(Conflict, match="not answered"):
        await _submit(rt, agent, waiting.id, category_id=cats["other"])


async def test_overdue_wrapups(rt):
    clock.freeze(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))
    agent = await make_staff(rt, roles=["agent"])
    c = await handled(rt, agent.id)
    async with rt.db.transaction() as s:
        assert await wrapup.overdue_wrapups(s, settings=rt.settings) == []
        later = clock.now() + dt.timedelta(seconds=rt.settings.wrapup_limit_seconds + 5)
        assert [x.id for x in await wrapup.overdue_wrapups(s, settings=rt.settings, now=later)] == [c.id]
