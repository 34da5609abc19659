"""The handling plan (R5.4; issue 6 §3): measures, each with an owner and a time node. The customer gets
a ``progress`` notice when a node is completed (through the outbox, so only once the transaction
commits); nodes still open past their time escalate once (``jobs.sweep``, R5.6 "overdue nodes escalate").

Rules: nodes are drafted while the case is ``investigating`` and kept while ``plan_agreed`` or
``resolving``; they are completed only once the plan is agreed (``plan_agreed``/``resolving``). A node's
time must be in the future and no later than the case's regulatory deadline (``due_at``, the end of
``due_date``), so the plan can never promise the customer more than the regulator allows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clocking, notices, repository
from kefu.complaints.common import clean_text, invalid, timeline
from kefu.complaints.models import Complaint, PlanNode, Status
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied

#: statuses in which plan nodes may be added or cancelled (drafting while investigating)
DRAFT_STATUSES = (Status.INVESTIGATING.value, Status.PLAN_AGREED.value, Status.RESOLVING.value)
#: statuses in which plan nodes may be completed (the plan has been agreed)
RUN_STATUSES = (Status.PLAN_AGREED.value, Status.RESOLVING.value)
OPEN, DONE, CANCELLED = "open", "done", "cancelled"


def node_audit(n: PlanNode, c: Complaint) -> dict[str, Any]:
    """What the audit log keeps of a node: no measure or outcome text (they may name the customer)."""
    return {"complaint": c.number, "seq": n.seq, "owner_id": n.owner_id, "due_at": n.due_at.isoformat(),
            "status": n.status, "notice_sent": n.notice_sent_at is not None}  # fmt: skip


def _check_status(c: Complaint, allowed: tuple[str, ...], what: str) -> None:
    if c.status not in allowed:
        names = ", ".join(allowed)
        raise Conflict(f"Case {c.number} is {c.status}; plan nodes can be {what} only while it is {names}.")


def _local(at: dt.datetime) -> str:
    from kefu.core import runtime

    return clock.local(at, runtime.get().settings.timezone).strftime("%Y-%m-%d %H:%M")


async def add_node(
    session: AsyncSession, *, actor: Principal, complaint_id: int, measure: str, owner_id: int, due_at: dt.datetime
) -> PlanNode:
    """A measure with its owner (an active colleague) and time node, before the case's deadline."""
    c = await clocking.load_for_handling(session, actor=actor, complaint_id=complaint_id)
    _check_status(c, DRAFT_STATUSES, "added")
    text = clean_text(measure, "measure", low=2, high=1000)
    if await repository.staff_permissions(session, owner_id) is None:
        raise invalid("owner_id", f"No active staff member {owner_id}; choose an active colleague as the owner.")
    if due_at.tzinfo is None:
        raise invalid("due_at", "Give the time node with a time zone (e.g. 2026-11-30T17:00:00+08:00).")
    now = clock.now()
    try:
        due = due_at.astimezone(dt.UTC)
    except OverflowError as exc:
        raise invalid("due_at", "Give a time node between now and the case's due date.") from exc
    if due <= now:
        raise invalid("due_at", "The time node must be in the future.")
    if c.due_at is not None and due > c.due_at:
        raise invalid(
            "due_at",
            f"The time node must be on or before the case's deadline, {c.due_date} "
            f"(until {_local(c.due_at)} local time); ask for an extension if more time is needed.",
        )
    seq = (await session.execute(select(func.max(PlanNode.seq)).where(PlanNode.complaint_id == c.id))).scalar()
    node = PlanNode(complaint_id=c.id, seq=int(seq or 0) + 1, measure=text, owner_id=owner_id, due_at=due,
                    status=OPEN, created_at=now)  # fmt: skip
    session.add(node)
    await session.flush()
    await timeline(session, c, "plan", f"Plan node {node.seq} added (due {_local(due)})", detail=text,
                   actor_id=actor.staff_id)  # fmt: skip
    await audit.record(session, action="complaint.plan.add", object_type="complaint", object_id=c.id,
                       after=node_audit(node, c))  # fmt: skip
    return node


async def _node_and_case(session: AsyncSession, actor: Principal, node_id: int) -> tuple[PlanNode, Complaint]:
    node = (
        await session.get(PlanNode, node_id, with_for_update=True, populate_existing=True)
        if repository.valid_id(node_id)
        else None
    )
    if node is None:
        raise NotFound(f"No plan node {node_id}.")
    c = await repository.get_visible(session, actor=actor, complaint_id=node.complaint_id)
    clocking.check_recusal(actor, c)
    if not clocking.may_handle(actor, c):
        raise PermissionDenied(f"Complaint {c.number} is handled by someone else; only its handler or a supervisor "
                               "changes its plan.")  # fmt: skip
    if node.status != OPEN:
        raise Conflict(
            f"Plan node {node.seq} of case {c.number} is already {node.status}; nothing more can be done to it."
        )
    return node, c


async def complete_node(
    session: AsyncSession, *, actor: Principal, node_id: int, outcome: str, notify: bool = True
) -> PlanNode:
    """Record what was done at the node; with ``notify`` the complainant gets a ``progress`` notice
    (measure + outcome) in the outbox, sent once the transaction commits (R5.4)."""
    node, c = await _node_and_case(session, actor, node_id)
    _check_status(c, RUN_STATUSES, "completed")
    text = clean_text(outcome, "outcome", low=2, high=1000)
    before = node_audit(node, c)
    now = clock.now()
    node.status, node.done_at, node.outcome = DONE, now, text
    if notify:
        await notices.send(session, complaint=c, kind="progress", params={"measure": node.measure, "outcome": text})
        node.notice_sent_at = now
    await session.flush()
    told = " (customer notified)" if notify else ""
    await timeline(session, c, "plan", f"Plan node {node.seq} done{told}", detail=text, actor_id=actor.staff_id)
    await audit.record(session, action="complaint.plan.complete", object_type="complaint", object_id=c.id,
                       before=before, after=node_audit(node, c))  # fmt: skip
    return node


async def cancel_node(session: AsyncSession, *, actor: Principal, node_id: int, reason: str) -> PlanNode:
    """Drop a measure from the plan, with the reason (kept encrypted on the timeline)."""
    node, c = await _node_and_case(session, actor, node_id)
    _check_status(c, DRAFT_STATUSES, "cancelled")
    text = clean_text(reason, "reason", low=2, high=500)
    before = node_audit(node, c)
    node.status = CANCELLED
    await session.flush()
    await timeline(session, c, "plan", f"Plan node {node.seq} cancelled", detail=text, actor_id=actor.staff_id)
    await audit.record(session, action="complaint.plan.cancel", object_type="complaint", object_id=c.id,
                       before=before, after=node_audit(node, c))  # fmt: skip
    return node


async def nodes_of(session: AsyncSession, complaint_id: int) -> list[PlanNode]:
    """A case's plan nodes in order (callers check that the case is visible)."""
    stmt = select(PlanNode).where(PlanNode.complaint_id == complaint_id).order_by(PlanNode.seq)
    return list((await session.execute(stmt)).scalars().all())
