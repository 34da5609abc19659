"""HTTP endpoints under /api/v1/contacts: the scoped contact list, one contact, a customer's timeline,
the wrap-up, follow-ups on a contact, and historical service level. Follow-ups and wrap-up categories
have their own routers (``router_followups``, ``router_categories``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from kefu.contacts import followups, reads, stats
from kefu.contacts import repository as repo
from kefu.contacts.schemas import (
    ChannelName,
    ContactDetail,
    ContactOut,
    ContactPage,
    ContactStatusName,
    FollowUpIn,
    FollowUpOut,
    IdentifyIn,
    TimelineOut,
    WrapupIn,
    WrapupOut,
)
from kefu.contacts.service import identify_customer, invalid, pending_wrapups
from kefu.contacts.views import contact_view, follow_up_view, wrapup_view
from kefu.contacts.wrapup import submit_wrapup
from kefu.core import clock, runtime
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]
Handler = Annotated[Principal, require(Permission.CONTACT_HANDLE)]
Monitor = Annotated[Principal, require(Permission.ROUTING_MONITOR)]
Identifier = Annotated[Principal, require(Permission.CONTACT_HANDLE, Permission.CUSTOMER_READ)]
QueueCode = Annotated[str | None, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _time(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise invalid(field, "Give the time with a time zone, e.g. 2026-11-23T00:00:00+08:00.")
    if not 1970 <= value.year <= 2100:
        raise invalid(field, "Give a time between the years 1970 and 2100.")
    return value.astimezone(dt.UTC)


@router.get("", response_model=ContactPage)
async def list_contacts(
    db: DbSession,
    principal: Reader,
    status: ContactStatusName | None = None,
    channel: ChannelName | None = None,
    queue: QueueCode = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="handled or owned by")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    since: Annotated[dt.datetime | None, Query(description="arrived at or after (with a time zone)")] = None,
    until: Annotated[dt.datetime | None, Query(description="arrived before (with a time zone)")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Contacts you may see, newest first: your own (handled, owned or once answered), your team's
    (team leads), or all (quality, complaints, supervisors, auditors)."""
    return await reads.list_page(
        db, actor=principal, status=status, channel=channel, queue=queue, agent_id=agent_id, customer_id=customer_id,
        since=_time(since, "since"), until=_time(until, "until"), offset=offset, limit=limit,
    )  # fmt: skip


@router.get("/pending-wrapups", response_model=list[ContactOut])
async def my_pending_wrapups(db: DbSession, principal: Handler) -> list[dict[str, Any]]:
    """Your contacts that ended and still need their wrap-up."""
    return [contact_view(c) for c in await pending_wrapups(db, agent_id=principal.staff_id)]


@router.get("/stats/service-level")
async def service_level(
    db: DbSession,
    principal: Monitor,
    since: Annotated[dt.datetime, Query(description="start of the period, with a time zone")],
    until: Annotated[dt.datetime, Query(description="end of the period (excluded), at most 93 days later")],
    queue: QueueCode = None,
    interval: Annotated[stats.Interval, Query()] = "hour",
) -> dict[str, Any]:
    """Service level within the ring target, ASA, abandonment, AHT and occupancy per queue and interval
    (inbound phone contacts by arrival, intervals in the center's time zone)."""
    settings = runtime.get().settings
    rows = await stats.service_level(db, since=since, until=until, queue=queue, interval=interval, settings=settings)
    total = await stats.totals(db, since=since, until=until, queue=queue, settings=settings)
    return {
        "interval": interval, "timezone": settings.timezone, "answer_within_rings": settings.answer_within_rings,
        "ring_seconds": settings.ring_seconds, **total, "rows": rows,
    }  # fmt: skip


@router.get("/timeline/{customer_id}", response_model=TimelineOut)
async def customer_timeline(
    customer_id: RowId, db: DbSession, principal: Reader, offset: Offset = 0, limit: Limit = 50
) -> dict[str, Any]:
    """One customer's contacts on every channel, newest first, with wrap-up summaries (audited)."""
    return await reads.timeline(db, actor=principal, customer_id=customer_id, offset=offset, limit=limit)


@router.get("/{contact_id}", response_model=ContactDetail)
async def get_contact(contact_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """One contact with its events, wrap-up and follow-ups; handle time = talk (hold included) + wrap-up."""
    return await reads.detail(db, actor=principal, contact_id=contact_id)


@router.put("/{contact_id}/customer", response_model=ContactOut)
async def set_customer(contact_id: RowId, body: IdentifyIn, db: DbSession, principal: Identifier) -> dict[str, Any]:
    """The agent on the contact says who the customer is (found by search; or a caller on another's phone):
    while the contact is on or its wrap-up is owed; audited as ``contact.identify``."""
    c = await identify_customer(db, actor=principal, contact_id=contact_id, customer_id=body.customer_id)
    return contact_view(c)


@router.post("/{contact_id}/wrapup", response_model=WrapupOut, status_code=201)
async def wrap_up(contact_id: RowId, body: WrapupIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Record the wrap-up of an ended contact (once; by its agent or their team lead); this closes it."""
    w = await submit_wrapup(
        db, actor=principal, contact_id=contact_id, category_id=body.category_id, summary=body.summary,
        result=body.result, kb_entries=list(body.kb_entries), follow_up=body.follow_up,
        settings=runtime.get().settings,
    )  # fmt: skip
    return wrapup_view(w, await repo.get_category(db, w.category_id))


@router.post("/{contact_id}/follow-ups", response_model=FollowUpOut, status_code=201)
async def add_follow_up(contact_id: RowId, body: FollowUpIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Promise the customer a verified reply by ``due_at`` (R1.7); owned by the contact's agent."""
    f = await followups.create_on_contact(
        db, actor=principal, contact_id=contact_id, details=body.details, due_at=body.due_at
    )
    return follow_up_view(f, now=clock.now())
