"""Searching the audit log (auditors and supervisors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.audit import AuditEntry


async def search(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> tuple[Sequence[AuditEntry], int]:
    stmt = select(AuditEntry)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = (
            stmt.where(AuditEntry.action.startswith(action))
            if action.endswith(".")
            else stmt.where(AuditEntry.action == action)
        )
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    if since:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    if before_seq:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    rows = (await session.execute(stmt.order_by(AuditEntry.seq.desc()).limit(limit))).scalars().all()
    return rows, total
