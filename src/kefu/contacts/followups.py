"""Follow-ups (R1.7): when the agent promises to verify and reply, a task with a due time, owned by
one person, on their list and their team lead's, reminded before due, escalated when overdue (see
``jobs.followup_sweep``), closed with how the customer was answered. When the owner is suspended or
leaves, their open follow-ups go to a team lead of the same team (``hand_over``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import Contact, FollowUp, FollowUpStatus
from kefu.contacts.service import invalid
from kefu.contacts.views import follow_up_audit
from kefu.core import audit, clock, events
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import Permission, Role
from kefu.staff import repository as staff_repo
from kefu.staff.models import StaffStatus
from kefu.staff.service import STATUS_EVENT

MAX_AHEAD = dt.timedelta(days=366)
HANDLER_ROLES = {Role.AGENT.value, Role.TEAM_LEAD.value}


def _clean_text(value: str, field: str) -> str:
    text = value.strip()
    if not 2 <= len(text) <= 2000:
        raise invalid(field, "Write 2 to 2,000 characters.")
    return text


def _check_due(due_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    if due_at.tzinfo is None:
        raise invalid("due_at", "Give the due time with a time zone (e.g. 2026-11-24T17:00:00+08:00).")
    if due_at <= now:
        raise invalid("due_at", "The promised reply time must be in the future.")
    if due_at - now > MAX_AHEAD:
        raise invalid("due_at", "The promised reply time must be within a year.")
    return due_at.astimezone(dt.UTC)


async def create_follow_up(
    session: AsyncSession,
    *,
    actor: Principal,
    contact: Contact,
    details: str,
    due_at: dt.datetime,
    checked: bool = False,
) -> FollowUp:
    """A follow-up on ``contact``, owned by the contact's agent. Only that agent or the contact's owner
    may promise one (``checked``: the caller, e.g. the wrap-up, already checked who acts)."""
    if not checked and actor.staff_id not in (contact.agent_id, contact.owner_id):
        raise PermissionDenied("Only the agent who handled the contact (or its owner) can promise a follow-up.")
    now = clock.now()
    due = _check_due(due_at, now)
    owner_id = contact.agent_id or contact.owner_id or actor.staff_id
    f = FollowUp(
        contact_id=contact.id, customer_id=contact.customer_id, owner_id=owner_id,
        team_id=await repo.team_of(session, owner_id), created_by=actor.staff_id,
        details=_clean_text(details, "details"), due_at=due, status=FollowUpStatus.OPEN.value, needs_owner=False,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(f)
    await session.flush()
    await audit.record(session, action="followup.create", object_type="follow_up", object_id=f.id,
                       after=follow_up_audit(f))  # fmt: skip
    return f


async def create_on_contact(
    session: AsyncSession, *, actor: Principal, contact_id: int, details: str, due_at: dt.datetime
) -> FollowUp:
    contact = await repo.visible_contact(session, principal=actor, contact_id=contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id} that you can see.")
    return await create_follow_up(session, actor=actor, contact=contact, details=details, due_at=due_at)


def may_manage(actor: Principal, f: FollowUp) -> bool:
    """FOLLOWUP_MANAGE within scope: center-wide, or the team lead of the follow-up's team."""
    if not actor.can(Permission.FOLLOWUP_MANAGE):
        return False
    return repo.center_wide(actor) or (repo.leads_team(actor) is not None and repo.leads_team(actor) == f.team_id)


async def get_visible(session: AsyncSession, *, actor: Principal, follow_up_id: int) -> FollowUp:
    f = await repo.visible_follow_up(session, principal=actor, follow_up_id=follow_up_id)
    if f is None:
        raise NotFound(f"No follow-up {follow_up_id} that you can see.")
    return f


async def list_follow_ups(
    session: AsyncSession,
    *,
    actor: Principal,
    scope: str = "mine",
    status: str | None = None,
    overdue: bool = False,
    needs_owner: bool | None = None,
    team_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[FollowUp], int]:
    """``mine``: owned by the caller; ``team``: the team lead's team (FOLLOWUP_MANAGE; center-wide
    roles name the team); ``all``: the whole center (center-wide roles)."""
    owner_id = None
    if scope == "mine":
        owner_id = actor.staff_id
        team_id = None
    elif scope == "team":
        if not actor.can(Permission.FOLLOWUP_MANAGE):
            raise PermissionDenied("Only team leads and supervisors (follow-up management) see a team's follow-ups.")
        if not repo.center_wide(actor):
            team_id = repo.leads_team(actor)
            if team_id is None:
                raise PermissionDenied("You lead no team; ask an administrator to set your team.")
        elif team_id is None:
            raise invalid("team_id", "Name the team (team_id) whose follow-ups you want to see.")
    elif scope == "all":
        if not repo.center_wide(actor):
            raise PermissionDenied("Only center-wide roles see every follow-up; use scope=mine or scope=team.")
    else:
        raise invalid("scope", "Scope is mine, team or all.")
    return await repo.list_follow_ups(
        session, principal=actor, owner_id=owner_id, team_id=team_id, status=status,
        overdue_at=clock.now() if overdue else None, needs_owner=needs_owner, offset=offset, limit=limit,
    )  # fmt: skip


async def close(
    session: AsyncSession,
    *,
    actor: Principal,
    follow_up_id: int,
    answer_channel: str | None,
    answer_note: str,
    outcome: str = "done",
) -> FollowUp:
    """Close with how the customer was answered (``done``), or cancel with a reason (``cancelled``)."""
    f = await get_visible(session, actor=actor, follow_up_id=follow_up_id)
    owner = f.owner_id == actor.staff_id and actor.can(Permission.CONTACT_HANDLE)
    if not owner and not may_manage(actor, f):
        raise PermissionDenied("Only the follow-up's owner or a team lead / supervisor over it can close it.")
    if f.status != FollowUpStatus.OPEN.value:
        raise Conflict(f"Follow-up {f.id} is already {f.status}.")
    if outcome not in (FollowUpStatus.DONE.value, FollowUpStatus.CANCELLED.value):
        raise invalid("outcome", "Outcome is done or cancelled.")
    if outcome == FollowUpStatus.DONE.value and not answer_channel:
        raise invalid("answer_channel", "Say how the customer was answered: phone, sms, email, chat or letter.")
    before = follow_up_audit(f)
    now = clock.now()
    f.status, f.closed_at, f.closed_by, f.updated_at = outcome, now, actor.staff_id, now
    f.answer_channel = answer_channel
    f.answer_note = _clean_text(answer_note, "answer_note")
    await session.flush()
    await audit.record(session, action=f"followup.{'close' if outcome == 'done' else 'cancel'}",
                       object_type="follow_up", object_id=f.id, before=before, after=follow_up_audit(f))  # fmt: skip
    return f


async def _assignable(session: AsyncSession, staff_id: int) -> Any:
    s = await staff_repo.get_staff(session, staff_id)
    if s is None or s.status != StaffStatus.ACTIVE.value:
        raise invalid("owner_id", f"No active staff member {staff_id}.")
    if not {r.role for r in s.roles} & HANDLER_ROLES:
        raise invalid("owner_id", "Follow-ups go to agents or team leads.")
    return s


async def reassign(
    session: AsyncSession, *, actor: Principal, follow_up_id: int, owner_id: int, reason: str
) -> FollowUp:
    """Give an open follow-up to another agent (FOLLOWUP_MANAGE within scope: a team lead inside the team)."""
    f = await get_visible(session, actor=actor, follow_up_id=follow_up_id)
    if not may_manage(actor, f):
        raise PermissionDenied("Only a team lead of the follow-up's team or a supervisor can reassign it.")
    if f.status != FollowUpStatus.OPEN.value:
        raise Conflict(f"Follow-up {f.id} is {f.status}; only open follow-ups can be reassigned.")
    target = await _assignable(session, owner_id)
    if not repo.center_wide(actor) and target.team_id != repo.leads_team(actor):
        raise PermissionDenied("You can reassign only to members of your own team; ask a supervisor otherwise.")
    before = follow_up_audit(f)
    _give(f, target.id, target.team_id, now=clock.now())
    await session.flush()
    await audit.record(session, action="followup.reassign", object_type="follow_up", object_id=f.id,
                       before=before, after=follow_up_audit(f), purpose=reason.strip())  # fmt: skip
    await events.emit(session, "followup.assigned",
                      {"follow_up_id": f.id, "owner_id": f.owner_id, "due_at": f.due_at.isoformat()})  # fmt: skip
    return f


def _give(f: FollowUp, owner_id: int | None, team_id: int | None, *, now: dt.datetime) -> None:
    if f.owner_id != owner_id:
        f.previous_owner_id = f.owner_id
    f.owner_id = owner_id
    f.team_id = team_id if team_id is not None else f.team_id
    f.needs_owner = owner_id is None
    if f.due_at > now:  # the new owner gets their own reminder
        f.reminded_at = None
    f.updated_at = now


async def hand_over(session: AsyncSession, *, from_agent: int, to_agent: int | None, actor: Principal | None) -> int:
    """Move the open follow-ups of a leaving or suspended agent to ``to_agent``, or else to a team lead of
    the follow-up's team (lowest staff number first); with no team lead they stay unassigned and are
    flagged ``needs_owner``. Returns how many moved. Idempotent."""
    items = await repo.open_follow_ups_of(session, from_agent)
    if not items:
        return 0
    target_team = None
    if to_agent is not None:
        target_team = (await _assignable(session, to_agent)).team_id
    leads: dict[int | None, list[int]] = {}
    fallback_team = await repo.team_of(session, from_agent)
    now = clock.now()
    moved = []
    for f in items:
        before = follow_up_audit(f)
        if to_agent is not None:
            _give(f, to_agent, target_team, now=now)
        else:
            team = f.team_id if f.team_id is not None else fallback_team
            if team not in leads:
                leads[team] = await repo.team_leads(session, team, exclude=from_agent)
            _give(f, leads[team][0] if leads[team] else None, team, now=now)
        await audit.record(
            session, action="followup.hand_over", object_type="follow_up", object_id=f.id, before=before,
            after=follow_up_audit(f), purpose=f"staff {from_agent} handed over",
            actor_id=actor.staff_id if actor else None, actor=actor.label if actor else None,
        )  # fmt: skip
        moved.append({"follow_up_id": f.id, "owner_id": f.owner_id, "needs_owner": f.needs_owner})
    await session.flush()
    await events.emit(session, "followup.handed_over", {"from_agent": from_agent, "items": moved})
    return len(moved)


@events.subscribe(STATUS_EVENT)
async def on_staff_status_changed(session: AsyncSession, payload: dict[str, Any]) -> None:
    """A suspended or departed agent's open follow-ups go to a team lead of the same team."""
    if payload.get("status") in (StaffStatus.SUSPENDED.value, StaffStatus.LEFT.value):
        await hand_over(session, from_agent=int(payload["staff_id"]), to_agent=None, actor=None)
