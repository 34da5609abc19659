"""A customer's complaints still in hand, for the agent desktop's customer panel: case number, status,
due date and the state of the regulator's clock, soonest due first.

An agent serving the customer may see that a complaint is open and when it is due (to tell the customer
and not to register the same matter twice); nothing of the matter itself is shown, so this is not limited
to the cases the agent may read (the case page stays behind ``complaint.read`` and its scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import clocking
from kefu.complaints.models import Complaint, Status
from kefu.complaints.repository import valid_id

#: not in hand any more: refused, merged into another case, accepted by the customer, closed
FINISHED = (Status.NOT_ACCEPTED.value, Status.MERGED.value, Status.CONFIRMED.value, Status.CLOSED.value)


async def open_complaints(
    session: AsyncSession, *, customer_ids: list[int], now: dt.datetime, limit: int = 5
) -> list[dict[str, Any]]:
    """The open complaints of the customer (``customer_ids``: the customer and the records merged into it)."""
    ids = [i for i in customer_ids if valid_id(i)]
    if not ids:
        return []
    stmt = (
        select(Complaint)
        .where(Complaint.customer_id.in_(ids), Complaint.status.not_in(FINISHED))
        .order_by(Complaint.due_at.is_(None), Complaint.due_at, Complaint.accept_due_at, Complaint.id)
        .limit(max(1, min(limit, 50)))
    )
    rows = (await session.execute(stmt)).scalars().all()
    if not rows:
        return []
    rules, cal = clocking.rules(), await clocking.work_calendar(session)
    out = []
    for c in rows:
        v = cclock.view(c, now=now, rules=rules, cal=cal)
        out.append({
            "id": c.id, "number": c.number, "status": c.status, "severity": c.severity, "major": c.major,
            "received_at": c.received_at, "due_date": v.due_date, "due_at": v.due_at,
            "accept_due_at": v.accept_due_at, "clock_state": v.state, "clock_colour": v.colour,
            "days_left": v.days_left,
        })  # fmt: skip
    return out
