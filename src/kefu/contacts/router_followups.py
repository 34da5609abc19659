"""HTTP endpoints under /api/v1/follow-ups: my list, my team's (team leads), all (center-wide roles),
one follow-up, closing it with how the customer was answered, reassigning it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from kefu.contacts import followups
from kefu.contacts.schemas import CloseIn, FollowUpOut, FollowUpPage, ReassignIn
from kefu.contacts.views import follow_up_view
from kefu.core import clock
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/follow-ups", tags=["contacts"])
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]
Manager = Annotated[Principal, require(Permission.FOLLOWUP_MANAGE)]


@router.get("", response_model=FollowUpPage)
async def list_follow_ups(
    db: DbSession,
    principal: Reader,
    scope: Literal["mine", "team", "all"] = "mine",
    status: Literal["open", "done", "cancelled"] | None = None,
    overdue: Annotated[bool, Query(description="open and past the promised time")] = False,
    needs_owner: Annotated[bool | None, Query(description="left without an owner by a hand-over")] = None,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="scope=team for center-wide roles")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Follow-ups by promised time: ``mine``, ``team`` (team lead: your team; supervisors name it) or ``all``."""
    rows, total = await followups.list_follow_ups(
        db, actor=principal, scope=scope, status=status, overdue=overdue, needs_owner=needs_owner, team_id=team_id,
        offset=offset, limit=limit,
    )  # fmt: skip
    now = clock.now()
    return {"items": [follow_up_view(f, now=now) for f in rows], "total": total, "offset": offset, "limit": limit}


@router.get("/{follow_up_id}", response_model=FollowUpOut)
async def get_follow_up(follow_up_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    f = await followups.get_visible(db, actor=principal, follow_up_id=follow_up_id)
    return follow_up_view(f, now=clock.now())


@router.post("/{follow_up_id}/close", response_model=FollowUpOut)
async def close_follow_up(follow_up_id: RowId, body: CloseIn, db: DbSession, principal: Reader) -> dict[str, Any]:
    """Close with how the customer was answered (owner, or a team lead / supervisor over it); or cancel."""
    f = await followups.close(
        db, actor=principal, follow_up_id=follow_up_id, answer_channel=body.answer_channel,
        answer_note=body.answer_note, outcome=body.outcome,
    )  # fmt: skip
    return follow_up_view(f, now=clock.now())


@router.post("/{follow_up_id}/reassign", response_model=FollowUpOut)
async def reassign_follow_up(
    follow_up_id: RowId, body: ReassignIn, db: DbSession, principal: Manager
) -> dict[str, Any]:
    """Give an open follow-up to another agent (team leads: within their team); audited with the reason."""
    f = await followups.reassign(db, actor=principal, follow_up_id=follow_up_id, owner_id=body.owner_id,
                                 reason=body.reason)  # fmt: skip
    return follow_up_view(f, now=clock.now())
