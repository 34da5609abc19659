"""Complaints near breach, for the supervisor's wallboard: open cases whose regulator's deadline falls
within the next ``days`` local days (today counts as day 0) or has passed.

Two deadlines count, the same ones the sweep (``complaints.jobs``) watches:

* ``decision``: a running clock (status accepted … resolving) whose ``due_date`` is at most ``days`` days
  away; late (``breached``) from ``due_at`` on. Paused and stopped clocks never breach and are left out.
* ``accept``: a received case not yet accepted (受理) whose ``accept_due_at`` falls before the end of that
  day; late from ``accept_due_at`` on.

``days`` defaults to the largest of ``complaint_warn_days`` (the first warning the handlers get).
Reads are scoped like every complaint read (``complaints.repository.scoped``); callers check
``complaint.read`` first (:func:`may_see`). Only the case number, category code, deadline and handler's
name leave here: no complainant data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import repository as repo
from kefu.complaints.models import OPEN, ClockState, Complaint, Status
from kefu.core import clock
from kefu.core.auth import Principal
from kefu.core.permissions import Permission
from kefu.staff import repository as staff_repo

#: how many cases the wallboard lists (the soonest due first)
TOP = 5
MAX_DAYS = 30


def may_see(actor: Principal) -> bool:
    """Only roles that may read complaints see the figures."""
    return actor.can(Permission.COMPLAINT_READ)


def default_days(settings: Any) -> int:
    return max(cclock.Rules.from_settings(settings).warn_days, default=3)


async def near_breach(
    session: AsyncSession, *, actor: Principal, settings: Any, days: int | None = None, top: int = TOP
) -> dict[str, Any]:
    """Counts (``total``, ``breached`` = already late, ``near`` = not yet late; ``decision`` / ``accept`` by
    deadline) and the ``top`` soonest-due cases within the actor's complaint scope."""
    rules = cclock.Rules.from_settings(settings)
    days = max(0, min(MAX_DAYS, default_days(settings) if days is None else days))
    now = clock.now()
    horizon = cclock.day_end_utc(cclock.local_day(now, rules.tz) + dt.timedelta(days=days), rules.tz)
    received = Complaint.status == Status.RECEIVED.value
    running = and_(
        Complaint.clock_state == ClockState.RUNNING.value, Complaint.status.in_([s.value for s in OPEN]), ~received
    )
    due = case((received, Complaint.accept_due_at), else_=Complaint.due_at)
    where = or_(
        and_(received, Complaint.accept_due_at.is_not(None), Complaint.accept_due_at < horizon),
        and_(running, Complaint.due_at.is_not(None), Complaint.due_at < horizon),
    )
    counts: Any = select(
        func.count(), func.sum(case((due <= now, 1), else_=0)), func.sum(case((received, 1), else_=0))
    ).where(where)
    counts_q = repo.scoped(counts, actor)
    total, late, accept = (await session.execute(counts_q)).one()
    rows_q = repo.scoped(
        select(Complaint.id, Complaint.number, Complaint.category, Complaint.handler_id, received.label("accept"),
               due.label("due")).where(where),
        actor,
    ).order_by(due, Complaint.id).limit(max(0, top))  # fmt: skip
    rows = (await session.execute(rows_q)).all()
    names = await staff_repo.names_of(session, {r.handler_id for r in rows if r.handler_id is not None})
    items = []
    for r in rows:
        due_at = r.due if r.due is None or r.due.tzinfo else r.due.replace(tzinfo=dt.UTC)
        handler = names.get(r.handler_id) if r.handler_id is not None else None
        items.append({
            "id": r.id,
            "number": r.number,
            "category": r.category,
            "deadline": "accept" if r.accept else "decision",
            "due_at": due_at,
            "days_left": (cclock.local_day(due_at - dt.timedelta(microseconds=1), rules.tz)
                          - cclock.local_day(now, rules.tz)).days if due_at else None,
            "breached": bool(due_at is not None and due_at <= now),
            "handler": {"staff_no": handler[0], "name": handler[1]} if handler else None,
        })  # fmt: skip
    total, late = int(total or 0), int(late or 0)
    return {
        "days": days,
        "total": total,
        "breached": late,
        "near": total - late,
        "accept": int(accept or 0),
        "decision": total - int(accept or 0),
        "top": items,
    }
