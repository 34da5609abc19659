"""Merging duplicates (办法 / issue 6: repeated complaints on the same matter may be merged; the primary
keeps its own clock, the duplicate's complainant is told the primary's number). Generated data only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.complaints import merge, views
from kefu.core import clock
from kefu.core.errors import Conflict, PermissionDenied
from tests.complaints.case_helpers import (
    accepted,
    audit_actions,
    call,
    changes_of,
    decided,
    load,
    notices_of,
    register,
)
from tests.complaints.conftest import People
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")


async def _merge(rt: Any, staff: Any, dup_id: int, into_id: int) -> Any:
    return await call(rt, merge.merge, actor=principal_of(staff), complaint_id=dup_id, into_id=into_id,
                      reason="同一客户就同一笔年费重复投诉")  # fmt: skip


async def test_merge_stops_duplicate_keeps_primary_clock_and_tells_complainant(rt: Any, people: People) -> None:
    """办法 / issue 6 merge: duplicate → merged (merged_into_id = primary), its clock stopped; the primary's
    due date unchanged with a ``merge`` clock change; the duplicate's complainant gets a ``merged`` notice
    naming the primary number; the primary's page lists the merged case."""
    primary = await accepted(rt, people.agent, people.handler)
    clock.advance(dt.timedelta(days=2))
    dup = await accepted(rt, people.agent, people.handler)
    result = await _merge(rt, people.handler, dup.id, primary.id)
    assert result.id == primary.id
    assert result.due_date == primary.due_date == dt.date(2026, 12, 8)
    dup = await load(rt, dup.id)
    assert (dup.status, dup.merged_into_id, dup.clock_state) == ("merged", primary.id, "stopped")
    assert [c.kind for c in await changes_of(rt, dup.id)] == ["start", "stop"]
    [_, m] = await changes_of(rt, primary.id)
    assert (m.kind, m.due_before, m.due_after, m.effective_date) == ("merge", primary.due_date, primary.due_date,
                                                                     dt.date(2026, 11, 25))  # fmt: skip
    notice, msg = (await notices_of(rt, dup.id))[-1]
    assert notice.kind == "merged"
    assert msg is not None
    assert str(primary.number) in msg.body
    assert "complaint.merge" in await audit_actions(rt, dup.id)
    assert "complaint.clock.merge" in await audit_actions(rt, primary.id)
    async with rt.db.transaction() as s:
        page = await views.case_detail(s, actor=principal_of(people.handler), complaint_id=primary.id, now=clock.now())
        dpage = await views.case_detail(s, actor=principal_of(people.handler), complaint_id=dup.id, now=clock.now())
    assert [d["number"] for d in page["merged_cases"]] == [dup.number]
    assert dpage["merged_into"]["number"] == primary.number
    assert dpage["allowed_next"] == []


async def test_received_duplicate_merges_without_a_clock(rt: Any, people: People) -> None:
    primary = await accepted(rt, people.agent, people.handler)
    dup = await register(rt, people.agent)
    await _merge(rt, people.handler, dup.id, primary.id)
    dup = await load(rt, dup.id)
    assert dup.status == "merged"
    assert dup.clock_state == "stopped"
    assert await changes_of(rt, dup.id) == []


async def test_merge_rules(rt: Any, people: People) -> None:
    """Both open, not the same case, the primary not itself merged (issue 6 merge rules)."""
    a = await accepted(rt, people.agent, people.handler)
    b = await accepted(rt, people.agent, people.handler)
    c = await accepted(rt, people.agent, people.handler)
    with pytest.raises(Conflict):
        await _merge(rt, people.handler, a.id, a.id)
    await _merge(rt, people.handler, b.id, a.id)
    with pytest.raises(Conflict) as exc:
        await _merge(rt, people.handler, c.id, b.id)  # b was merged into a
    assert "merge into that one" in exc.value.detail
    with pytest.raises(Conflict):
        await _merge(rt, people.handler, b.id, c.id)  # b is no longer open
    await decided(rt, people.handler, c.id)
    with pytest.raises(Conflict):
        await _merge(rt, people.handler, a.id, c.id)  # c is decided
    with pytest.raises(Conflict):
        await _merge(rt, people.handler, c.id, a.id)


async def test_merge_needs_the_duplicates_handler(rt: Any, people: People) -> None:
    a = await accepted(rt, people.agent, people.handler)
    b = await accepted(rt, people.agent, people.handler)
    with pytest.raises(PermissionDenied):
        await _merge(rt, people.handler2, b.id, a.id)
    await _merge(rt, people.supervisor, b.id, a.id)


async def test_the_subject_of_either_case_cannot_merge(rt: Any, people: People) -> None:
    """Issue 6 recusal: the staff member a complaint is about never merges it (not as a supervisor either),
    whether it is the duplicate or the primary."""
    a = await accepted(rt, people.agent, people.handler, subject_staff_no=people.supervisor.staff_no)
    b = await accepted(rt, people.agent, people.handler)
    for dup, primary in ((a, b), (b, a)):
        with pytest.raises(Conflict, match=f"recusal.*{a.number}"):
            await _merge(rt, people.supervisor, dup.id, primary.id)
    assert (await load(rt, a.id)).status == (await load(rt, b.id)).status == "accepted"
    await _merge(rt, people.supervisor2, b.id, a.id)


async def test_merge_withdraws_the_duplicates_waiting_extension_on_the_record(rt: Any, people: People) -> None:
    """Issue 6: the duplicate's clock stops on merging; its waiting extension request is withdrawn, with a
    timeline entry and an audit entry (every clock change is recorded)."""
    from kefu.complaints import clocking

    primary = await accepted(rt, people.agent, people.handler)
    dup = await accepted(rt, people.agent, people.handler)
    change = await call(rt, clocking.request_extension, actor=principal_of(people.handler), complaint_id=dup.id,
                        reason="涉及多个部门，案情复杂")  # fmt: skip
    await _merge(rt, people.handler, dup.id, primary.id)
    ext = [ch for ch in await changes_of(rt, dup.id) if ch.id == change.id][0]
    assert ext.status == "rejected"
    async with rt.db.transaction() as s:
        from sqlalchemy import select

        from kefu.complaints.models import ComplaintEvent

        summaries = (await s.execute(select(ComplaintEvent.summary).where(ComplaintEvent.complaint_id == dup.id))).scalars().all()  # fmt: skip
    assert f"extension request {change.id} withdrawn: merged into {primary.number}" in summaries
    assert "complaint.extension.withdraw" in await audit_actions(rt, dup.id)
