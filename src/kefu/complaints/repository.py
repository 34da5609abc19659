"""Every query of the complaints domain (convention 4). Reads are scoped to the caller:
center-wide complaint roles (``COMPLAINTS_CENTER_WIDE``: handlers, supervisors, auditors, QA) read every
case; a team lead reads the cases registered by their team (and their own); everyone else reads the cases
they registered."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kefu.channels.models import OutboundMessage
from kefu.complaints.models import OPEN, ClockChange, ClockState, Complaint, ComplaintEvent, Notice, Status
from kefu.core.auth import Principal
from kefu.core.crypto import blind_index
from kefu.core.ids import MAX_ROW_ID
from kefu.core.permissions import COMPLAINTS_CENTER_WIDE, MATRIX, Permission, Role
from kefu.staff.models import Staff, StaffRole, StaffStatus

SCOPES = ("mine", "unassigned", "all", "escalated", "registered")
#: the keyed hash that finds repeat complainants (phone, else customer, else e-mail)
KEY_CONTEXT = "complaints.complainant_key"


def valid_id(row_id: int | None) -> bool:
    """Ids outside the column's range match nothing (and must not reach the driver)."""
    return row_id is not None and 1 <= row_id <= MAX_ROW_ID


def center_wide(actor: Principal) -> bool:
    return bool(actor.roles & COMPLAINTS_CENTER_WIDE)


def complainant_key(*, phone: str | None, customer_id: int | None, email: str | None) -> str | None:
    """Keyed hash of the normalised phone, else of ``c:<customer id>``, else of the e-mail (lower case)."""
    if phone:
        return blind_index(phone, context=KEY_CONTEXT)
    if customer_id is not None:
        return blind_index(f"c:{customer_id}", context=KEY_CONTEXT)
    if email:
        return blind_index(email.strip().lower(), context=KEY_CONTEXT)
    return None


def scoped(stmt: Select[Any], actor: Principal) -> Select[Any]:
    if center_wide(actor):
        return stmt
    conds: list[Any] = [Complaint.created_by == actor.staff_id, Complaint.handler_id == actor.staff_id]
    if Role.TEAM_LEAD in actor.roles and actor.team_id is not None:
        conds.append(Complaint.created_by.in_(select(Staff.id).where(Staff.team_id == actor.team_id)))
    return stmt.where(or_(*conds))


async def get(session: AsyncSession, complaint_id: int) -> Complaint | None:
    if not valid_id(complaint_id):
        return None
    return await session.get(Complaint, complaint_id)


async def get_visible(session: AsyncSession, *, actor: Principal, complaint_id: int) -> Complaint:
    """The case if the actor may read it; NotFound otherwise (a case out of scope does not exist for them)."""
    from kefu.core.errors import NotFound

    if valid_id(complaint_id):
        stmt = scoped(select(Complaint).where(Complaint.id == complaint_id), actor)
        c = (await session.execute(stmt)).scalar_one_or_none()
        if c is not None:
            return c
    raise NotFound(f"No complaint {complaint_id} that you can see.")


async def get_for_update(session: AsyncSession, complaint_id: int) -> Complaint | None:
    """The row locked for this transaction and re-read (PostgreSQL: concurrent changes apply in turn)."""
    if not valid_id(complaint_id):
        return None
    return await session.get(Complaint, complaint_id, with_for_update=True, populate_existing=True)


async def by_number(session: AsyncSession, number: str) -> Complaint | None:
    return (
        await session.execute(select(Complaint).where(Complaint.number == number.strip().upper()))
    ).scalar_one_or_none()


def _due_order() -> list[Any]:
    """Due soonest first: received by accept_due_at, running by due_at; paused next; the rest last."""
    group = case(
        (Complaint.status == Status.RECEIVED.value, 0),
        (Complaint.clock_state == ClockState.RUNNING.value, 0),
        (Complaint.clock_state == ClockState.PAUSED.value, 1),
        else_=2,
    )
    due = case(
        (Complaint.status == Status.RECEIVED.value, Complaint.accept_due_at),
        (Complaint.clock_state == ClockState.RUNNING.value, Complaint.due_at),
        else_=None,
    )
    return [group, due.is_(None), due, Complaint.received_at, Complaint.id]


async def list_cases(
    session: AsyncSession,
    *,
    actor: Principal,
    scope: str = "mine",
    status: list[str] | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Complaint], int]:
    """``mine``: handled by the actor; ``unassigned``: open, no handler; ``all``: everything in scope;
    ``escalated``: open and escalated, major or at risk of escalation; ``registered``: registered by the
    actor. Always within the actor's read scope. ``q``: case number fragment, or a phone number (exact)."""
    from kefu.complaints.common import invalid

    stmt = scoped(select(Complaint), actor)
    open_values = [s.value for s in OPEN]
    if scope == "mine":
        stmt = stmt.where(Complaint.handler_id == actor.staff_id)
    elif scope == "unassigned":
        stmt = stmt.where(Complaint.handler_id.is_(None), Complaint.status.in_(open_values))
    elif scope == "escalated":
        stmt = stmt.where(
            Complaint.status.in_(open_values),
            or_(Complaint.escalated_at.is_not(None), Complaint.major.is_(True), Complaint.escalation_risk.is_(True)),
        )
    elif scope == "registered":
        stmt = stmt.where(Complaint.created_by == actor.staff_id)
    elif scope != "all":
        raise invalid("scope", f"Scope is one of {', '.join(SCOPES)}.")
    if status:
        stmt = stmt.where(Complaint.status.in_(status))
    if q and q.strip():
        text = q.strip()
        conds: list[Any] = [Complaint.number.ilike(f"%{text.upper()}%")]
        digits = text.replace(" ", "").replace("-", "").removeprefix("+86")
        if digits.isdigit() and len(digits) >= 5:
            conds.append(Complaint.complainant_key == complainant_key(phone=text, customer_id=None, email=None))
        if "@" in text:
            conds.append(Complaint.complainant_key == complainant_key(phone=None, customer_id=None, email=text))
        stmt = stmt.where(or_(*conds))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(*_due_order()).offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


async def count_repeat(session: AsyncSession, *, key: str, since: dt.datetime) -> int:
    """Cases of one complainant received at or after ``since`` (merged duplicates not counted twice)."""
    stmt = select(func.count(Complaint.id)).where(
        Complaint.complainant_key == key, Complaint.received_at >= since, Complaint.status != Status.MERGED.value
    )
    return int((await session.execute(stmt)).scalar_one())


async def timeline_of(session: AsyncSession, complaint_id: int) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
    return list((await session.execute(stmt.order_by(ComplaintEvent.at, ComplaintEvent.id))).scalars().all())


async def has_event(session: AsyncSession, complaint_id: int, kind: str) -> bool:
    stmt = select(ComplaintEvent.id).where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.kind == kind)
    return (await session.execute(stmt.limit(1))).first() is not None


async def clock_changes_of(session: AsyncSession, complaint_id: int) -> list[ClockChange]:
    stmt = select(ClockChange).where(ClockChange.complaint_id == complaint_id)
    return list((await session.execute(stmt.order_by(ClockChange.requested_at, ClockChange.id))).scalars().all())


async def get_clock_change(session: AsyncSession, change_id: int, *, for_update: bool = False) -> ClockChange | None:
    if not valid_id(change_id):
        return None
    return await session.get(ClockChange, change_id, with_for_update=for_update, populate_existing=for_update)


async def pending_extensions(session: AsyncSession) -> list[ClockChange]:
    """Extension requests waiting for an approver, oldest first."""
    stmt = select(ClockChange).where(ClockChange.kind == "extend", ClockChange.status == "pending")
    return list((await session.execute(stmt.order_by(ClockChange.requested_at, ClockChange.id))).scalars().all())


async def pending_extension_of(session: AsyncSession, complaint_id: int) -> ClockChange | None:
    stmt = select(ClockChange).where(
        ClockChange.complaint_id == complaint_id, ClockChange.kind == "extend", ClockChange.status == "pending"
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def notices_of(session: AsyncSession, complaint_id: int) -> list[tuple[Notice, OutboundMessage | None]]:
    stmt = (
        select(Notice, OutboundMessage)
        .outerjoin(OutboundMessage, OutboundMessage.id == Notice.message_id)
        .where(Notice.complaint_id == complaint_id)
        .order_by(Notice.created_at, Notice.id)
    )
    return [(n, m) for n, m in (await session.execute(stmt)).all()]


async def merged_into(session: AsyncSession, complaint_id: int) -> list[Complaint]:
    """The duplicates merged into this case."""
    stmt = select(Complaint).where(Complaint.merged_into_id == complaint_id).order_by(Complaint.received_at)
    return list((await session.execute(stmt)).scalars().all())


def roles_with(permission: Permission) -> list[str]:
    return [role.value for role, perms in MATRIX.items() if permission in perms]


async def staff_with(session: AsyncSession, permission: Permission) -> list[Staff]:
    """Active staff holding ``permission`` through one of their roles, by staff number."""
    stmt = (
        select(Staff)
        .options(selectinload(Staff.roles))
        .where(Staff.status == StaffStatus.ACTIVE.value)
        .where(Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.role.in_(roles_with(permission)))))
        .order_by(Staff.staff_no)
    )
    return list((await session.execute(stmt)).scalars().all())


async def handlers(session: AsyncSession) -> list[Staff]:
    """Active staff who may handle complaints (COMPLAINT_HANDLE)."""
    return await staff_with(session, Permission.COMPLAINT_HANDLE)


async def staff_permissions(session: AsyncSession, staff_id: int) -> frozenset[Permission] | None:
    """The permissions of an active staff member, None when there is no such active person."""
    from kefu.core.permissions import permissions_for

    s = await session.get(Staff, staff_id, options=[selectinload(Staff.roles)]) if valid_id(staff_id) else None
    if s is None or s.status != StaffStatus.ACTIVE.value:
        return None
    return permissions_for({Role(r.role) for r in s.roles})


async def past_retention(session: AsyncSession, *, day: dt.date, limit: int = 1000) -> list[Complaint]:
    """Closed cases whose retention period ended before ``day`` (nothing is deleted in v1)."""
    stmt = (
        select(Complaint)
        .where(Complaint.retain_until.is_not(None), Complaint.retain_until < day)
        .order_by(Complaint.retain_until, Complaint.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def complaints_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Complaint]:
    if not ids:
        return {}
    rows = (await session.execute(select(Complaint).where(Complaint.id.in_(list(ids))))).scalars().all()
    return {c.id: c for c in rows}


def reasons_of(c: Complaint) -> list[str]:
    try:
        value = json.loads(c.escalation_reasons or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def list_all(session: AsyncSession, *, status: list[str] | None = None, limit: int = 50) -> list[Complaint]:
    """Every case, due soonest first (operators' CLI; no reader scope)."""
    stmt = select(Complaint)
    if status:
        stmt = stmt.where(Complaint.status.in_(status))
    return list((await session.execute(stmt.order_by(*_due_order()).limit(limit))).scalars().all())
