"""Bulletins (R4.4): notices for agents, valid for a period, aimed at teams and/or skills, with read
receipts; urgent ones must be acknowledged.

Audience: a bulletin with no teams is for every team, with no skills for any skill; otherwise the reader
must be in one of its teams and hold one of its skills (skills come from the routing configuration, so
only agents and team leads hold them). Receipts list the agents and team leads of the audience; a team
lead sees their own team, bulletin managers and center-wide roles see everyone.

Changing the title, body or priority of a bulletin clears its receipts: everyone reads (and for urgent
ones acknowledges) the new wording again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.service import invalid
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import CENTER_WIDE, Permission, Role
from kefu.knowledge.hits import insert_for
from kefu.knowledge.models import BulletinPriority, KbBulletin, KbBulletinRead
from kefu.routing.models import SKILLS
from kefu.staff.models import Staff, StaffStatus

#: staff roles that receive bulletins as agents and appear in the receipts
AUDIENCE_ROLES = frozenset({Role.AGENT.value, Role.TEAM_LEAD.value})
FIELDS = ("title", "body", "priority", "audience_teams", "audience_skills", "valid_from", "valid_to")
CONTENT = ("title", "body", "priority")
MAX_AUDIENCE = 100


# ---- views ---------------------------------------------------------------------------------------


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def teams_of(b: KbBulletin) -> list[int]:
    return [int(t) for t in _json_list(b.audience_teams)]


def skills_of(b: KbBulletin) -> list[str]:
    return [str(s) for s in _json_list(b.audience_skills)]


def bulletin_view(b: KbBulletin, read: KbBulletinRead | None = None) -> dict[str, Any]:
    urgent = b.priority == BulletinPriority.URGENT.value
    return {
        "id": b.id, "title": b.title, "body": b.body, "priority": b.priority, "audience_teams": teams_of(b),
        "audience_skills": skills_of(b), "valid_from": b.valid_from, "valid_to": b.valid_to,
        "withdrawn_at": b.withdrawn_at, "created_by": b.created_by, "created_at": b.created_at,
        "updated_at": b.updated_at, "read_at": read.read_at if read else None,
        "acked_at": read.acked_at if read else None,
        "needs_ack": urgent and b.withdrawn_at is None and (read is None or read.acked_at is None),
    }  # fmt: skip


def _audit_view(b: KbBulletin) -> dict[str, Any]:
    return {"title": b.title, "body_chars": len(b.body), "priority": b.priority, "audience_teams": teams_of(b),
            "audience_skills": skills_of(b), "valid_from": b.valid_from, "valid_to": b.valid_to,
            "withdrawn_at": b.withdrawn_at}  # fmt: skip


# ---- checks --------------------------------------------------------------------------------------


def _need(actor: Principal, perm: Permission, message: str) -> None:
    if not actor.can(perm):
        raise PermissionDenied(message)


def _text(value: Any, field: str, low: int, high: int) -> str:
    text = str(value or "").strip()
    if not low <= len(text) <= high:
        raise invalid(field, f"Write {low} to {high:,} characters for the {field}.")
    return text


def _time(value: Any, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise invalid(field, "Give the time with a time zone, e.g. 2026-11-24T08:00:00+08:00.")
    return value.astimezone(dt.UTC)


async def _teams(session: AsyncSession, value: Any) -> str:
    from kefu.staff import repository as staff_repo

    ids = sorted({int(t) for t in value or []})
    if len(ids) > MAX_AUDIENCE:
        raise invalid("audience_teams", f"Name at most {MAX_AUDIENCE} teams, or none for everyone.")
    for team_id in ids:
        if await staff_repo.get_team(session, team_id) is None:
            raise invalid("audience_teams", f"There is no team {team_id}; GET /api/v1/teams lists them.")
    return json.dumps(ids)


def _skills(value: Any) -> str:
    codes = sorted({str(s) for s in value or []})
    unknown = [c for c in codes if c not in SKILLS]
    if unknown:
        raise invalid("audience_skills", f"Unknown skill {unknown[0]!r}; skills are: {', '.join(SKILLS)}.")
    return json.dumps(codes)


async def _clean(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    """Column values for the fields given, checked; raises ValidationFailed naming the field."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field == "title":
            out[field] = _text(value, field, 2, 120)
        elif field == "body":
            out[field] = _text(value, field, 1, 20_000)
        elif field == "priority":
            if value not in {p.value for p in BulletinPriority}:
                raise invalid(field, "The priority is normal or urgent.")
            out[field] = value
        elif field == "audience_teams":
            out[field] = await _teams(session, value)
        elif field == "audience_skills":
            out[field] = _skills(value)
        elif field in ("valid_from", "valid_to"):
            out[field] = _time(value, field)
        else:
            raise invalid(field, f"A bulletin has no field {field!r}; it has {', '.join(FIELDS)}.")
    return out


def _check_validity(b: KbBulletin) -> None:
    if b.valid_to is not None and b.valid_to <= b.valid_from:
        raise invalid("valid_to", "The bulletin must end after it starts (valid_to after valid_from).")


# ---- managing ------------------------------------------------------------------------------------


async def get(session: AsyncSession, bulletin_id: int) -> KbBulletin:
    b = await session.get(KbBulletin, bulletin_id)
    if b is None:
        raise NotFound(f"No bulletin {bulletin_id}. GET /api/v1/bulletins lists the current ones.")
    return b


async def create(
    session: AsyncSession,
    *,
    actor: Principal,
    title: str,
    body: str,
    priority: str = BulletinPriority.NORMAL.value,
    audience_teams: Sequence[int] = (),
    audience_skills: Sequence[str] = (),
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
) -> KbBulletin:
    """Post a bulletin (BULLETIN_MANAGE), valid from ``valid_from`` (default now) until ``valid_to`` (open)."""
    _need(actor, Permission.BULLETIN_MANAGE, "Only bulletin managers post bulletins.")
    now = clock.now()
    values = await _clean(session, {
        "title": title, "body": body, "priority": priority, "audience_teams": audience_teams,
        "audience_skills": audience_skills, "valid_from": valid_from or now, "valid_to": valid_to,
    })  # fmt: skip
    b = KbBulletin(**values, created_by=actor.staff_id, created_at=now, updated_at=now)
    _check_validity(b)
    session.add(b)
    await session.flush()
    await audit.record(session, action="bulletin.create", object_type="bulletin", object_id=b.id, after=_audit_view(b))
    return b


async def update(session: AsyncSession, *, actor: Principal, bulletin_id: int, **changes: Any) -> KbBulletin:
    """Change a bulletin that is not withdrawn; a new title, body or priority clears its receipts."""
    _need(actor, Permission.BULLETIN_MANAGE, "Only bulletin managers change bulletins.")
    b = await get(session, bulletin_id)
    if b.withdrawn_at is not None:
        raise Conflict(f"Bulletin {b.id} was withdrawn; post a new bulletin instead.")
    if "valid_from" in changes and changes["valid_from"] is None:
        raise invalid("valid_from", "Give the time from which the bulletin is shown.")
    values = await _clean(session, changes)
    before = _audit_view(b)
    reworded = any(getattr(b, f) != values[f] for f in CONTENT if f in values)
    for field, value in values.items():
        setattr(b, field, value)
    _check_validity(b)
    b.updated_at = clock.now()
    cleared = await _clear_receipts(session, b.id) if reworded else 0
    await session.flush()
    await audit.record(session, action="bulletin.update", object_type="bulletin", object_id=b.id, before=before,
                       after={**_audit_view(b), "receipts_cleared": cleared})  # fmt: skip
    return b


async def _clear_receipts(session: AsyncSession, bulletin_id: int) -> int:
    stmt = delete(KbBulletinRead).where(KbBulletinRead.bulletin_id == bulletin_id)
    return int((await session.execute(stmt.execution_options(synchronize_session=False))).rowcount or 0)  # type: ignore[attr-defined]


async def withdraw(session: AsyncSession, *, actor: Principal, bulletin_id: int, reason: str) -> KbBulletin:
    """Take a bulletin down at once; it stays on record with its receipts."""
    _need(actor, Permission.BULLETIN_MANAGE, "Only bulletin managers withdraw bulletins.")
    b = await get(session, bulletin_id)
    if b.withdrawn_at is not None:
        raise Conflict(f"Bulletin {b.id} is already withdrawn.")
    purpose = _text(reason, "reason", 2, 500)
    before = _audit_view(b)
    b.withdrawn_at = b.updated_at = clock.now()
    await session.flush()
    await audit.record(session, action="bulletin.withdraw", object_type="bulletin", object_id=b.id, before=before,
                       after=_audit_view(b), purpose=purpose)  # fmt: skip
    return b


async def list_all(
    session: AsyncSession, *, include_withdrawn: bool = False, offset: int = 0, limit: int = 50
) -> tuple[Sequence[KbBulletin], int]:
    """Every bulletin (past, current and future), newest first, for managers."""
    stmt = select(KbBulletin)
    if not include_withdrawn:
        stmt = stmt.where(KbBulletin.withdrawn_at.is_(None))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(KbBulletin.valid_from.desc(), KbBulletin.id.desc()).offset(offset).limit(limit)
    return (await session.execute(stmt)).scalars().all(), int(total)


# ---- the board and receipts of one reader --------------------------------------------------------


def _current(b: KbBulletin, now: dt.datetime) -> bool:
    return b.withdrawn_at is None and b.valid_from <= now and (b.valid_to is None or now < b.valid_to)


class _Reader:
    """The reader's team and (fetched once, when a bulletin asks for skills) their skills."""

    def __init__(self, session: AsyncSession, actor: Principal) -> None:
        self.session, self.actor = session, actor
        self._skills: set[str] | None = None

    async def skills(self) -> set[str]:
        if self._skills is None:
            from kefu.routing import config_service

            self._skills = set(await config_service.skills_of(self.session, self.actor.staff_id))
        return self._skills

    async def is_audience(self, b: KbBulletin) -> bool:
        teams, skills = teams_of(b), set(skills_of(b))
        if teams and self.actor.team_id not in teams:
            return False
        return not skills or bool(skills & await self.skills())


async def _reads(session: AsyncSession, staff_id: int, bulletin_ids: list[int]) -> dict[int, KbBulletinRead]:
    if not bulletin_ids:
        return {}
    stmt = select(KbBulletinRead).where(KbBulletinRead.staff_id == staff_id,
                                        KbBulletinRead.bulletin_id.in_(bulletin_ids))  # fmt: skip
    return {r.bulletin_id: r for r in (await session.execute(stmt)).scalars()}


async def _current_for(session: AsyncSession, actor: Principal, now: dt.datetime) -> list[KbBulletin]:
    stmt = select(KbBulletin).where(
        KbBulletin.withdrawn_at.is_(None), KbBulletin.valid_from <= now,
        or_(KbBulletin.valid_to.is_(None), KbBulletin.valid_to > now),
    )  # fmt: skip
    rows = (await session.execute(stmt)).scalars().all()
    reader = _Reader(session, actor)
    return [b for b in rows if await reader.is_audience(b)]


async def for_staff(session: AsyncSession, *, actor: Principal, now: dt.datetime) -> list[dict[str, Any]]:
    """The actor's board: current bulletins for their team and skills with their read and ack state;
    urgent ones still to acknowledge first, then newest first."""
    rows = await _current_for(session, actor, now)
    reads = await _reads(session, actor.staff_id, [b.id for b in rows])
    views = [bulletin_view(b, reads.get(b.id)) for b in rows]
    views.sort(key=lambda v: (not v["needs_ack"], -v["valid_from"].timestamp(), -v["id"]))
    return views


async def unacknowledged_urgent(session: AsyncSession, *, actor: Principal, now: dt.datetime) -> int:
    """How many current urgent bulletins the actor still has to acknowledge."""
    return sum(v["needs_ack"] for v in await for_staff(session, actor=actor, now=now))


async def _own(session: AsyncSession, actor: Principal, bulletin_id: int, now: dt.datetime) -> KbBulletin:
    """A current bulletin of the actor's own audience, else NotFound."""
    b = await session.get(KbBulletin, bulletin_id)
    if b is None or not _current(b, now) or not await _Reader(session, actor).is_audience(b):
        raise NotFound(f"No current bulletin {bulletin_id} for you. GET /api/v1/bulletins lists yours.")
    return b


async def visible(session: AsyncSession, *, actor: Principal, bulletin_id: int, now: dt.datetime) -> KbBulletin:
    """A current bulletin of the actor's audience (bulletin managers: any bulletin), else NotFound."""
    if actor.can(Permission.BULLETIN_MANAGE):
        return await get(session, bulletin_id)
    return await _own(session, actor, bulletin_id, now)


async def view_for(session: AsyncSession, *, actor: Principal, bulletin_id: int, now: dt.datetime) -> dict[str, Any]:
    b = await visible(session, actor=actor, bulletin_id=bulletin_id, now=now)
    return bulletin_view(b, (await _reads(session, actor.staff_id, [b.id])).get(b.id))


async def _receipt(session: AsyncSession, bulletin_id: int, staff_id: int) -> tuple[KbBulletinRead, bool]:
    """The reader's receipt, created now if missing (race-free); True when it was created."""
    insert = insert_for(session)
    stmt = insert(KbBulletinRead).values(bulletin_id=bulletin_id, staff_id=staff_id, read_at=clock.now())
    stmt = stmt.on_conflict_do_nothing(index_elements=["bulletin_id", "staff_id"]).returning(KbBulletinRead.id)
    created = (await session.execute(stmt)).scalar_one_or_none() is not None  # None: read before
    row = (await _reads(session, staff_id, [bulletin_id]))[bulletin_id]
    return row, created


async def mark_read(session: AsyncSession, *, actor: Principal, bulletin_id: int) -> dict[str, Any]:
    """Record that the actor read the bulletin (the first time counts)."""
    b = await _own(session, actor, bulletin_id, clock.now())
    receipt, created = await _receipt(session, b.id, actor.staff_id)
    if created:
        await audit.record(session, action="bulletin.read", object_type="bulletin", object_id=b.id)
    return bulletin_view(b, receipt)


async def acknowledge(session: AsyncSession, *, actor: Principal, bulletin_id: int) -> dict[str, Any]:
    """Confirm an urgent bulletin was read and understood (reading it is implied)."""
    b = await _own(session, actor, bulletin_id, clock.now())
    if b.priority != BulletinPriority.URGENT.value:
        raise Conflict("Only urgent bulletins are acknowledged; opening this one marks it as read.")
    receipt, _ = await _receipt(session, b.id, actor.staff_id)
    if receipt.acked_at is None:
        receipt.acked_at = clock.now()
        await session.flush()
        await audit.record(session, action="bulletin.acknowledge", object_type="bulletin", object_id=b.id)
    return bulletin_view(b, receipt)


# ---- receipts ------------------------------------------------------------------------------------


def _receipts_team(actor: Principal) -> int | None:
    """The one team whose receipts a team lead sees; None: every team (managers, center-wide roles, others)."""
    if actor.can(Permission.BULLETIN_MANAGE) or actor.roles & CENTER_WIDE or Role.TEAM_LEAD not in actor.roles:
        return None
    if actor.team_id is None:
        raise PermissionDenied("You lead no team; ask an administrator to set your team.")
    return actor.team_id


async def _agents(session: AsyncSession, team_id: int | None) -> list[Staff]:
    """Active agents and team leads (of one team, or all), by staff number."""
    from kefu.staff import repository as staff_repo

    out: list[Staff] = []
    while True:
        rows, total = await staff_repo.list_staff(session, principal=None, status=StaffStatus.ACTIVE.value,
                                                  team_id=team_id, offset=len(out), limit=500)  # fmt: skip
        out += rows
        if not rows or len(out) >= total:
            return [s for s in out if {r.role for r in s.roles} & AUDIENCE_ROLES]


async def _audience(session: AsyncSession, b: KbBulletin, team_id: int | None) -> list[Staff]:
    from kefu.routing import config_service

    teams, skills = set(teams_of(b)), set(skills_of(b))
    staff = [s for s in await _agents(session, team_id) if not teams or s.team_id in teams]
    if skills:
        held = await config_service.all_agent_skills(session)
        staff = [s for s in staff if skills & set(held.get(s.id, {}))]
    return staff


async def receipts(session: AsyncSession, *, actor: Principal, bulletin_id: int) -> dict[str, Any]:
    """Per agent of the bulletin's audience (a team lead: of their team): when they read and acknowledged it."""
    _need(actor, Permission.BULLETIN_RECEIPTS, "Only team leads and bulletin managers see read receipts.")
    b = await get(session, bulletin_id)
    staff = await _audience(session, b, _receipts_team(actor))
    stmt = select(KbBulletinRead).where(KbBulletinRead.bulletin_id == b.id)
    reads = {r.staff_id: r for r in (await session.execute(stmt)).scalars()}
    items = [
        {"staff_id": s.id, "staff_no": s.staff_no, "name": s.name, "team_id": s.team_id,
         "read_at": reads[s.id].read_at if s.id in reads else None,
         "acked_at": reads[s.id].acked_at if s.id in reads else None}
        for s in staff
    ]  # fmt: skip
    return {
        "bulletin_id": b.id, "priority": b.priority, "audience": len(items),
        "read": sum(i["read_at"] is not None for i in items), "acknowledged": sum(i["acked_at"] is not None for i in items),
        "items": items,
    }  # fmt: skip
