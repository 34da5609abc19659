"""Wrap-up (R1.5): a contact cannot be closed without a record of category, summary, result and the
knowledge-base entries used. Wrap-up time (end of the conversation to the record) counts toward
handle time; past ``wrapup_limit_seconds`` the agent is reminded (``overdue_wrapups``)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import categories, followups
from kefu.contacts import repository as repo
from kefu.contacts.models import Contact, ContactStatus, Wrapup, WrapupResult
from kefu.contacts.schemas import FollowUpIn
from kefu.contacts.service import add_event, invalid
from kefu.core import audit, clock, events
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.errors import Conflict, NotFound, PermissionDenied

WRAPPED_UP_EVENT = "contact.wrapped_up"

_NOT_READY = {
    ContactStatus.SCHEDULED.value: "is a scheduled callback that has not taken place",
    ContactStatus.QUEUED.value: "is still waiting in a queue",
    ContactStatus.OFFERED.value: "is still ringing and was not answered",
    ContactStatus.CONNECTED.value: "is still in progress: end it first, then record the wrap-up",
    ContactStatus.ABANDONED.value: "was abandoned before an answer and needs no wrap-up",
    ContactStatus.REJECTED.value: "was rejected at arrival and needs no wrap-up",
}


async def _may_wrap_up(session: AsyncSession, actor: Principal, c: Contact) -> None:
    if c.agent_id == actor.staff_id:
        return
    team = repo.leads_team(actor)
    if team is not None and c.agent_id is not None and await repo.team_of(session, c.agent_id) == team:
        return
    raise PermissionDenied("Only the agent who handled the contact (or their team lead) can record its wrap-up.")


def _summary(text: str) -> str:
    cleaned = text.strip()
    if not 2 <= len(cleaned) <= 2000:
        raise invalid("summary", "Write a summary of 2 to 2,000 characters: the customer's request and the result.")
    return cleaned


def _kb(entries: list[str]) -> list[str]:
    out = [e.strip() for e in entries if e and e.strip()]
    if len(out) > 20 or any(len(e) > 200 for e in out):
        raise invalid("kb_entries", "At most 20 knowledge-base entries of up to 200 characters each.")
    return list(dict.fromkeys(out))


async def submit_wrapup(
    session: AsyncSession,
    *,
    actor: Principal,
    contact_id: int,
    category_id: int,
    summary: str,
    result: str,
    kb_entries: list[str],
    follow_up: FollowUpIn | None,
    settings: Settings,
) -> Wrapup:
    """Record the wrap-up of an ended contact once; this closes it (status closed)."""
    c = await repo.visible_contact(session, principal=actor, contact_id=contact_id)
    if c is None:
        raise NotFound(f"No contact {contact_id} that you can see.")
    await _may_wrap_up(session, actor, c)
    if await repo.wrapup_of(session, c.id) is not None or c.status == ContactStatus.CLOSED.value:
        raise Conflict(f"The wrap-up of contact {c.id} is already recorded; it cannot be recorded twice.")
    if c.status != ContactStatus.WRAP_UP.value:
        raise Conflict(f"Contact {c.id} {_NOT_READY.get(c.status, 'cannot be wrapped up now')}.")
    if result not in set(WrapupResult):
        raise invalid("result", f"Result must be one of {', '.join(WrapupResult)}.")
    if result == WrapupResult.FOLLOW_UP and follow_up is None:
        raise invalid("follow_up", "You promised a follow-up: give what will be verified and the reply time.")
    category = await categories.selectable(session, category_id)
    text = _summary(summary)
    kb = _kb(kb_entries)
    now = clock.now()
    ended = c.ended_at or now
    seconds = round(max(0.0, (now - ended).total_seconds()), 3)
    w = Wrapup(
        contact_id=c.id, agent_id=c.agent_id or actor.staff_id, category_id=category.id, summary=text,
        result=result, kb_entries=json.dumps(kb, ensure_ascii=False), wrapup_seconds=seconds, created_at=now,
    )  # fmt: skip
    session.add(w)
    before = {"status": c.status}
    c.status, c.wrapup_ended_at, c.wrapup_seconds, c.updated_at = ContactStatus.CLOSED.value, now, seconds, now
    add_event(session, c, "wrapped_up", now, actor.staff_id,
              {"category": category.code, "result": result, "wrapup_s": seconds})  # fmt: skip
    await session.flush()
    follow_up_id = None
    if follow_up is not None:
        f = await followups.create_follow_up(
            session, actor=actor, contact=c, details=follow_up.details, due_at=follow_up.due_at, checked=True
        )
        follow_up_id = f.id
    await audit.record(
        session, action="contact.wrapup", object_type="contact", object_id=c.id, before=before,
        after={"status": c.status, "category": category.code, "result": result, "summary_chars": len(text),
               "kb_entries": len(kb), "wrapup_seconds": seconds, "over_limit": seconds > settings.wrapup_limit_seconds,
               "follow_up_id": follow_up_id},
    )  # fmt: skip
    await events.emit(session, WRAPPED_UP_EVENT, {"contact_id": c.id, "agent_id": w.agent_id, "result": result})
    return w


async def overdue_wrapups(
    session: AsyncSession, *, settings: Settings, now: dt.datetime | None = None
) -> list[Contact]:
    """Contacts waiting for their wrap-up longer than ``wrapup_limit_seconds`` (the agent is reminded)."""
    at = now or clock.now()
    return list(
        await repo.waiting_wrapups(session, ended_before=at - dt.timedelta(seconds=settings.wrapup_limit_seconds))
    )
