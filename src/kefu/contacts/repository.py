"""Every query of the contacts domain. Reads of contacts and follow-ups are scoped to the caller:
center-wide roles (CONTACTS_CENTER_WIDE) see all, a team lead their team's, everyone else their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.models import Contact, ContactEvent, ContactStatus, FollowUp, FollowUpStatus, Wrapup, WrapupCategory
from kefu.core.auth import Principal
from kefu.core.ids import MAX_ROW_ID
from kefu.core.permissions import CONTACTS_CENTER_WIDE, Role
from kefu.staff import repository as staff_repo
from kefu.staff.models import StaffStatus


def valid_id(row_id: int | None) -> bool:
    """Ids outside the column's range match nothing (and must not reach the driver)."""
    return row_id is not None and 1 <= row_id <= MAX_ROW_ID


def center_wide(principal: Principal) -> bool:
    return bool(principal.roles & CONTACTS_CENTER_WIDE)


def leads_team(principal: Principal) -> int | None:
    """The team a principal leads (team lead role with a team), else None."""
    return principal.team_id if Role.TEAM_LEAD in principal.roles and principal.team_id is not None else None


# ---- contacts ---------------------------------------------------------------------------------


def scoped_contacts(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """An agent sees contacts they handle, own or once answered; a team lead also their team's."""
    if center_wide(principal):
        return stmt
    me = principal.staff_id
    answered = select(ContactEvent.contact_id).where(ContactEvent.agent_id == me, ContactEvent.kind == "answered")
    conds = [Contact.agent_id == me, Contact.owner_id == me, Contact.id.in_(answered)]
    team = leads_team(principal)
    if team is not None:
        conds.append(Contact.team_id == team)
    return stmt.where(or_(*conds))


async def get_contact(session: AsyncSession, contact_id: int) -> Contact | None:
    if not valid_id(contact_id):
        return None
    return await session.get(Contact, contact_id)


async def get_contact_for_update(session: AsyncSession, contact_id: int) -> Contact | None:
    """The contact row locked for this transaction and re-read (PostgreSQL: concurrent events on one contact
    from several nodes apply one after the other, never over each other)."""
    if not valid_id(contact_id):
        return None
    return await session.get(Contact, contact_id, with_for_update=True, populate_existing=True)


async def visible_contact(session: AsyncSession, *, principal: Principal, contact_id: int) -> Contact | None:
    if not valid_id(contact_id):
        return None
    stmt = scoped_contacts(select(Contact).where(Contact.id == contact_id), principal)
    return (await session.execute(stmt)).scalar_one_or_none()


async def contact_by_ref(session: AsyncSession, *, channel: str, external_ref: str) -> Contact | None:
    stmt = select(Contact).where(Contact.channel == channel, Contact.external_ref == external_ref)
    return (await session.execute(stmt)).scalar_one_or_none()


async def contacts_by_caller(session: AsyncSession, *, number: str, limit: int = 50) -> Sequence[Contact]:
    """Contacts from one caller number (exact, through the blind index; spaces, dashes and +86 ignored)."""
    from kefu.core.crypto import blind_index

    stmt = select(Contact).where(Contact.caller_number_bidx == blind_index(number, context="contacts.caller_number"))
    stmt = stmt.order_by(Contact.arrived_at.desc(), Contact.id.desc()).limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def list_contacts(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None = None,
    channel: str | None = None,
    queue: str | None = None,
    agent_id: int | None = None,
    customer_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Contact], int]:
    stmt = select(Contact)
    if status:
        stmt = stmt.where(Contact.status == status)
    if channel:
        stmt = stmt.where(Contact.channel == channel)
    if queue:
        stmt = stmt.where(Contact.queue_code == queue)
    if agent_id is not None:
        stmt = stmt.where(or_(Contact.agent_id == agent_id, Contact.owner_id == agent_id))
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    if since is not None:
        stmt = stmt.where(Contact.arrived_at >= since)
    if until is not None:
        stmt = stmt.where(Contact.arrived_at < until)
    stmt = scoped_contacts(stmt, principal)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    order = (Contact.arrived_at.desc(), Contact.id.desc())
    rows = (await session.execute(stmt.order_by(*order).offset(offset).limit(limit))).scalars().all()
    return rows, int(total)


async def contacts_in(
    session: AsyncSession, *, statuses: Sequence[str], agent_id: int | None = None
) -> Sequence[Contact]:
    stmt = select(Contact).where(Contact.status.in_([str(s) for s in statuses]))
    if agent_id is not None:
        stmt = stmt.where(Contact.agent_id == agent_id)
    return (await session.execute(stmt.order_by(Contact.arrived_at, Contact.id))).scalars().all()


async def waiting_wrapups(session: AsyncSession, *, ended_before: dt.datetime) -> Sequence[Contact]:
    stmt = select(Contact).where(Contact.status == ContactStatus.WRAP_UP.value, Contact.ended_at < ended_before)
    return (await session.execute(stmt.order_by(Contact.ended_at, Contact.id))).scalars().all()


async def contacts_of_customers(
    session: AsyncSession, customer_ids: Sequence[int], *, offset: int, limit: int
) -> tuple[Sequence[Contact], int]:
    stmt = select(Contact).where(Contact.customer_id.in_(list(customer_ids)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(Contact.arrived_at.desc(), Contact.id.desc()).offset(offset).limit(limit)
    return (await session.execute(stmt)).scalars().all(), int(total)


async def events_of(session: AsyncSession, contact_id: int) -> Sequence[ContactEvent]:
    stmt = select(ContactEvent).where(ContactEvent.contact_id == contact_id).order_by(ContactEvent.at, ContactEvent.id)
    return (await session.execute(stmt)).scalars().all()


async def wrapup_of(session: AsyncSession, contact_id: int) -> Wrapup | None:
    return (await session.execute(select(Wrapup).where(Wrapup.contact_id == contact_id))).scalar_one_or_none()


async def wrapups_of(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, Wrapup]:
    if not contact_ids:
        return {}
    rows = (await session.execute(select(Wrapup).where(Wrapup.contact_id.in_(list(contact_ids))))).scalars().all()
    return {w.contact_id: w for w in rows}


# ---- wrap-up categories -----------------------------------------------------------------------


async def categories(session: AsyncSession) -> Sequence[WrapupCategory]:
    stmt = select(WrapupCategory).order_by(WrapupCategory.sort, WrapupCategory.code)
    return (await session.execute(stmt)).scalars().all()


async def get_category(session: AsyncSession, category_id: int) -> WrapupCategory | None:
    if not valid_id(category_id):
        return None
    return await session.get(WrapupCategory, category_id)


async def category_by_code(session: AsyncSession, code: str) -> WrapupCategory | None:
    return (await session.execute(select(WrapupCategory).where(WrapupCategory.code == code))).scalar_one_or_none()


async def active_children(session: AsyncSession, category_id: int) -> int:
    stmt = select(func.count()).where(WrapupCategory.parent_id == category_id, WrapupCategory.active.is_(True))
    return int((await session.execute(stmt)).scalar_one())


async def categories_by_id(session: AsyncSession, ids: set[int]) -> dict[int, WrapupCategory]:
    if not ids:
        return {}
    rows = (await session.execute(select(WrapupCategory).where(WrapupCategory.id.in_(ids)))).scalars().all()
    return {c.id: c for c in rows}


# ---- follow-ups -------------------------------------------------------------------------------


def scoped_follow_ups(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Owners see theirs (and those they created); team leads their team's; center-wide roles all."""
    if center_wide(principal):
        return stmt
    me = principal.staff_id
    conds = [FollowUp.owner_id == me, FollowUp.created_by == me]
    team = leads_team(principal)
    if team is not None:
        conds.append(FollowUp.team_id == team)
    return stmt.where(or_(*conds))


async def get_follow_up(session: AsyncSession, follow_up_id: int) -> FollowUp | None:
    if not valid_id(follow_up_id):
        return None
    return await session.get(FollowUp, follow_up_id)


async def visible_follow_up(session: AsyncSession, *, principal: Principal, follow_up_id: int) -> FollowUp | None:
    if not valid_id(follow_up_id):
        return None
    stmt = scoped_follow_ups(select(FollowUp).where(FollowUp.id == follow_up_id), principal)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_follow_ups(
    session: AsyncSession,
    *,
    principal: Principal,
    owner_id: int | None = None,
    team_id: int | None = None,
    status: str | None = None,
    overdue_at: dt.datetime | None = None,
    needs_owner: bool | None = None,
    contact_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[FollowUp], int]:
    stmt = select(FollowUp)
    if owner_id is not None:
        stmt = stmt.where(FollowUp.owner_id == owner_id)
    if team_id is not None:
        stmt = stmt.where(FollowUp.team_id == team_id)
    if status:
        stmt = stmt.where(FollowUp.status == status)
    if overdue_at is not None:
        stmt = stmt.where(FollowUp.status == FollowUpStatus.OPEN.value, FollowUp.due_at <= overdue_at)
    if needs_owner is not None:
        stmt = stmt.where(FollowUp.needs_owner.is_(needs_owner))
    if contact_id is not None:
        stmt = stmt.where(FollowUp.contact_id == contact_id)
    stmt = scoped_follow_ups(stmt, principal)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(FollowUp.due_at, FollowUp.id).offset(offset).limit(limit))).scalars()
    return rows.all(), int(total)


async def follow_ups_of_contact(session: AsyncSession, contact_id: int) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.contact_id == contact_id).order_by(FollowUp.id)
    return (await session.execute(stmt)).scalars().all()


async def open_follow_ups_of(session: AsyncSession, owner_id: int) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.owner_id == owner_id, FollowUp.status == FollowUpStatus.OPEN.value)
    return (await session.execute(stmt.order_by(FollowUp.id))).scalars().all()


async def follow_ups_to_remind(session: AsyncSession, *, now: dt.datetime, until: dt.datetime) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(
        FollowUp.status == FollowUpStatus.OPEN.value,
        FollowUp.reminded_at.is_(None),
        FollowUp.due_at > now,
        FollowUp.due_at <= until,
    )
    return (await session.execute(stmt.order_by(FollowUp.due_at, FollowUp.id))).scalars().all()


async def follow_ups_overdue(session: AsyncSession, *, now: dt.datetime) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(
        FollowUp.status == FollowUpStatus.OPEN.value, FollowUp.escalated_at.is_(None), FollowUp.due_at <= now
    )
    return (await session.execute(stmt.order_by(FollowUp.due_at, FollowUp.id))).scalars().all()


# ---- staff (through the staff domain) ---------------------------------------------------------


async def team_of(session: AsyncSession, staff_id: int | None) -> int | None:
    if not valid_id(staff_id):
        return None
    assert staff_id is not None  # noqa: S101 - checked above
    s = await staff_repo.get_staff(session, staff_id)
    return s.team_id if s is not None else None


async def team_leads(session: AsyncSession, team_id: int | None, *, exclude: int | None = None) -> list[int]:
    """Active team leads of a team, lowest staff number first."""
    if team_id is None:
        return []
    rows, _ = await staff_repo.list_staff(
        session, principal=None, team_id=team_id, role=Role.TEAM_LEAD.value, status=StaffStatus.ACTIVE.value, limit=50
    )
    return [s.id for s in rows if s.id != exclude]


def unfinished_statuses() -> list[str]:
    return [ContactStatus.QUEUED, ContactStatus.OFFERED, ContactStatus.SCHEDULED, ContactStatus.CONNECTED]
