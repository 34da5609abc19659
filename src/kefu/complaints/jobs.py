"""Timers of the complaints domain: the regulator's clock watched by a sweep (issue 6 §2, §4; R5.6).

``sweep`` runs every minute (a huey periodic task; ``POST /api/v1/complaints/sweep`` runs it once):

* **Warnings** — a running clock whose due date is ``complaint_warn_days`` (e.g. 3 and 1) calendar days
  away or less: the handler gets ``complaint.warning`` once per threshold (``warned_level`` counts them; an
  approved extension resets it). When a late sweep finds several thresholds passed at once it sends one
  event for the most urgent and counts them all.
* **Breach** — a running clock at or past ``due_at`` (the first instant after the due date, local time;
  《银行业保险业消费投诉处理管理办法》: a decision within 15 days of acceptance, or the extended term):
  ``breached_at`` is set once, ``complaint.breached`` goes to the handler and the supervisors
  (COMPLAINT_ESCALATIONS), the case is marked escalated, with a timeline entry and an audit entry.
  A paused clock (outside appraisal) or a stopped one (decided) never breaches. Once per *term*:
  ``breached_at`` is never cleared (it is the permanent record of the latest breach, counted by the
  statistics); the current term counts as breached iff ``breached_at >= due_at``
  (``clock.breach_recorded``). A restart (new facts) or reopen gives a later due instant, so the new term
  is watched again and breaches once more if it runs out.
* **Accept overdue** — a received case not accepted or refused by ``accept_due_at`` (internal rule,
  ``complaint_accept_days``): ``complaint.accept_overdue`` once (a timeline entry ``accept_overdue``
  marks it; the case row is locked while checking). Supervisors hear it when the case has no handler.
* **Overdue plan nodes** — an open node past its time node: ``complaint.node_overdue`` to the handler and
  the supervisors, once (R5.4/R5.6: overdue nodes escalate).

Each case is handled in its own unit of work and claimed by a conditional UPDATE (like
``contacts.jobs``), so two workers sweeping at once never notify twice, and one failing case does not
hold up the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import clocking, repository
from kefu.complaints.common import audit_view, timeline
from kefu.complaints.models import OPEN, ClockState, Complaint, ComplaintEvent, PlanNode, Status
from kefu.core import audit, clock, events

log = structlog.get_logger(__name__)

WARNING_EVENT = "complaint.warning"
BREACHED_EVENT = "complaint.breached"
ACCEPT_OVERDUE_EVENT = "complaint.accept_overdue"
NODE_OVERDUE_EVENT = "complaint.node_overdue"
ACCEPT_OVERDUE_KIND = "accept_overdue"  # the timeline entry that marks the notice as sent
RUNNING = ClockState.RUNNING.value
OPEN_VALUES = [s.value for s in OPEN]

Unit = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def sweep(rt: Any) -> dict[str, int]:
    """One pass over every case, each in its own transaction. Returns how many were warned, breached,
    reported overdue for acceptance, and how many plan nodes escalated."""
    return await _run(rt.db.transaction, rt.settings)


async def sweep_in(session: AsyncSession, settings: Any) -> dict[str, int]:
    """The same pass inside the caller's transaction (each case in a savepoint): for the HTTP route,
    which already holds the database (and, on SQLite, the writer's turn). Events go out after its commit."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[AsyncSession]:
        async with session.begin_nested():
            yield session

    return await _run(unit, settings)


def _ids(rows: Any) -> list[int]:
    return [int(r) for r in rows.scalars().all()]


async def _run(unit: Unit, settings: Any) -> dict[str, int]:
    now = clock.now()
    rules = cclock.Rules.from_settings(settings)
    today = cclock.local_day(now, rules.tz)
    horizon = today + dt.timedelta(days=max(rules.warn_days, default=0))
    async with unit() as s:
        warn = _ids(await s.execute(
            select(Complaint.id).where(
                Complaint.clock_state == RUNNING, Complaint.due_at > now,
                Complaint.due_date <= horizon, Complaint.status.in_(OPEN_VALUES),
            ).order_by(Complaint.id)
        )) if rules.warn_days else []  # fmt: skip
        late = _ids(await s.execute(
            select(Complaint.id).where(
                Complaint.clock_state == RUNNING, _not_breached_this_term(), Complaint.due_at <= now,
            ).order_by(Complaint.id)
        ))  # fmt: skip
        marked = select(ComplaintEvent.id).where(
            ComplaintEvent.complaint_id == Complaint.id, ComplaintEvent.kind == ACCEPT_OVERDUE_KIND
        )
        unaccepted = _ids(await s.execute(
            select(Complaint.id).where(
                Complaint.status == Status.RECEIVED.value, Complaint.accept_due_at <= now, ~marked.exists(),
            ).order_by(Complaint.id)
        ))  # fmt: skip
        nodes = _ids(await s.execute(
            select(PlanNode.id).join(Complaint, Complaint.id == PlanNode.complaint_id).where(
                PlanNode.status == "open", PlanNode.escalated_at.is_(None), PlanNode.due_at <= now,
                Complaint.status.in_(OPEN_VALUES),
            ).order_by(PlanNode.id)
        ))  # fmt: skip
    counts = {"warned": 0, "breached": 0, "accept_overdue": 0, "nodes_overdue": 0}
    steps: list[tuple[str, list[int], Any]] = [
        ("warned", warn, lambda s, i: _warn(s, i, now=now, today=today, rules=rules)),
        ("breached", late, lambda s, i: _breach(s, i, now=now)),
        ("accept_overdue", unaccepted, lambda s, i: _accept_overdue(s, i, now=now, tz=rules.tz)),
        ("nodes_overdue", nodes, lambda s, i: _node_overdue(s, i, now=now, tz=rules.tz)),
    ]
    for name, ids, step in steps:
        for row_id in ids:
            try:
                async with unit() as s:
                    if await step(s, row_id):
                        counts[name] += 1
            except Exception:  # one bad case must not stop the sweep; it is retried next time
                log.exception("complaint_sweep_failed", step=name, row_id=row_id)
    return counts


def _not_breached_this_term() -> Any:
    """SQL of ``not clock.breach_recorded(c)``: no breach recorded at or after the current term's end."""
    return or_(Complaint.breached_at.is_(None), Complaint.breached_at < Complaint.due_at)


def _local(at: dt.datetime, tz: str) -> str:
    return clock.local(at, tz).strftime("%Y-%m-%d %H:%M")


async def _warn(s: AsyncSession, complaint_id: int, *, now: dt.datetime, today: dt.date, rules: Any) -> bool:
    """Issue 6 §2: warnings before breach, one per threshold of complaint_warn_days."""
    c = await s.get(Complaint, complaint_id, populate_existing=True)
    if c is None or c.due_date is None or c.due_at is None or now >= c.due_at:
        return False
    level = cclock.warnings_due(c, now=now, rules=rules)
    if level <= c.warned_level:
        return False
    claimed = await s.execute(
        update(Complaint)
        .where(Complaint.id == c.id, Complaint.warned_level == c.warned_level, Complaint.clock_state == RUNNING,
               Complaint.due_date == c.due_date, Complaint.due_at > now)
        .values(warned_level=level)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    c = await s.get(Complaint, complaint_id, populate_existing=True)
    if c is None or c.due_date is None:  # cannot happen: claimed above
        return False
    days_left = (c.due_date - today).days
    threshold = rules.warn_days[level - 1]
    await timeline(s, c, "warning", f"Deadline warning: {days_left} day(s) left, due {c.due_date}")
    await events.emit(s, WARNING_EVENT, clocking.payload(
        c, [], level=level, threshold=threshold, days_left=days_left, due_date=c.due_date.isoformat(),
    ))  # fmt: skip
    return True


async def _breach(s: AsyncSession, complaint_id: int, *, now: dt.datetime) -> bool:
    """办法 / issue 6 §2: no decision by due_at while the clock runs → escalate to the supervisors, once per
    term (a breach of an earlier term, before a restart or reopen, does not count)."""
    claimed = await s.execute(
        update(Complaint)
        .where(Complaint.id == complaint_id, _not_breached_this_term(), Complaint.clock_state == RUNNING,
               Complaint.due_at <= now)
        .values(breached_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    c = await s.get(Complaint, complaint_id, populate_existing=True)
    if c is None or c.due_at is None:  # cannot happen: claimed above
        return False
    if c.escalated_at is None:  # shows in the supervisors' "escalated" list from now on
        c.escalated_at = now
    leads = await clocking.supervisors(s)
    await timeline(s, c, "breached", f"Decision deadline passed (due {c.due_date}): escalated to supervisors")
    await audit.record(s, action="complaint.breached", object_type="complaint", object_id=c.id,
                       after={**audit_view(c), "breached_at": now.isoformat()})  # fmt: skip
    await events.emit(s, BREACHED_EVENT, clocking.payload(
        c, leads, due_date=c.due_date.isoformat() if c.due_date else None, due_at=c.due_at.isoformat(),
    ))  # fmt: skip
    return True


async def _accept_overdue(s: AsyncSession, complaint_id: int, *, now: dt.datetime, tz: str) -> bool:
    """Internal rule (complaint_accept_days): a received case must be accepted or refused in time."""
    c = await repository.get_for_update(s, complaint_id)  # the row lock makes the check-then-mark atomic
    if c is None or c.status != Status.RECEIVED.value or c.accept_due_at is None or c.accept_due_at > now:
        return False
    if await repository.has_event(s, c.id, ACCEPT_OVERDUE_KIND):
        return False
    leads = await clocking.supervisors(s) if c.handler_id is None else []
    await timeline(s, c, ACCEPT_OVERDUE_KIND, f"Not accepted or refused by {_local(c.accept_due_at, tz)}")
    await audit.record(s, action="complaint.accept_overdue", object_type="complaint", object_id=c.id,
                       after=audit_view(c))  # fmt: skip
    await events.emit(s, ACCEPT_OVERDUE_EVENT,
                      clocking.payload(c, leads, accept_due_at=c.accept_due_at.isoformat()))  # fmt: skip
    return True


async def _node_overdue(s: AsyncSession, node_id: int, *, now: dt.datetime, tz: str) -> bool:
    """R5.4/R5.6: a plan node still open after its time node escalates to the supervisors, once."""
    claimed = await s.execute(
        update(PlanNode)
        .where(PlanNode.id == node_id, PlanNode.escalated_at.is_(None), PlanNode.status == "open",
               PlanNode.due_at <= now)
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    node = await s.get(PlanNode, node_id, populate_existing=True)
    assert node is not None  # noqa: S101 - claimed above
    c = await s.get(Complaint, node.complaint_id)
    assert c is not None  # noqa: S101 - foreign key
    leads = await clocking.supervisors(s)
    await timeline(s, c, "plan", f"Plan node {node.seq} overdue (due {_local(node.due_at, tz)}): escalated")
    await audit.record(s, action="complaint.plan.overdue", object_type="complaint", object_id=c.id,
                       after={"complaint": c.number, "seq": node.seq, "owner_id": node.owner_id,
                              "due_at": node.due_at.isoformat()})  # fmt: skip
    await events.emit(s, NODE_OVERDUE_EVENT, clocking.payload(
        c, leads, node_id=node.id, seq=node.seq, node_owner_id=node.owner_id, due_at=node.due_at.isoformat(),
    ))  # fmt: skip
    return True
