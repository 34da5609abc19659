"""Reading contacts: the scoped list, one contact with its events, wrap-up and follow-ups, and one
customer's timeline across channels. Opening a contact or a timeline shows what the customer asked
for, so it is recorded in the audit log as a use (R3.4); lists are not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import Contact
from kefu.contacts.views import contact_view, event_view, follow_up_view, wrapup_view
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import NotFound
from kefu.customers import repository as customers_repo


async def _views(session: AsyncSession, rows: Sequence[Contact], *, with_wrapups: bool) -> list[dict[str, Any]]:
    numbers = await customers_repo.customer_numbers(session, {c.customer_id for c in rows if c.customer_id})
    wrapups = await repo.wrapups_of(session, [c.id for c in rows]) if with_wrapups else {}
    cats = await repo.categories_by_id(session, {w.category_id for w in wrapups.values()})
    out = []
    for c in rows:
        view = contact_view(c, customer_no=numbers.get(c.customer_id) if c.customer_id else None)
        if with_wrapups:
            w = wrapups.get(c.id)
            view["wrapup"] = wrapup_view(w, cats.get(w.category_id)) if w else None
        out.append(view)
    return out


async def list_page(
    session: AsyncSession,
    *,
    actor: Principal,
    status: str | None = None,
    channel: str | None = None,
    queue: str | None = None,
    agent_id: int | None = None,
    customer_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    rows, total = await repo.list_contacts(
        session, principal=actor, status=status, channel=channel, queue=queue, agent_id=agent_id,
        customer_id=customer_id, since=since, until=until, offset=offset, limit=limit,
    )  # fmt: skip
    return {"items": await _views(session, rows, with_wrapups=False), "total": total, "offset": offset, "limit": limit}


async def visible(session: AsyncSession, *, actor: Principal, contact_id: int) -> Contact:
    c = await repo.visible_contact(session, principal=actor, contact_id=contact_id)
    if c is None:
        raise NotFound(f"No contact {contact_id} that you can see.")
    return c


async def detail(session: AsyncSession, *, actor: Principal, contact_id: int) -> dict[str, Any]:
    """One contact with its events, wrap-up (summary masked) and follow-ups; audited as a view."""
    c = await visible(session, actor=actor, contact_id=contact_id)
    (view,) = await _views(session, [c], with_wrapups=True)
    now = clock.now()
    view["events"] = [event_view(e) for e in await repo.events_of(session, c.id)]
    view["follow_ups"] = [follow_up_view(f, now=now) for f in await repo.follow_ups_of_contact(session, c.id)]
    await audit.record(session, action="contact.view", object_type="contact", object_id=c.id,
                       after={"customer_id": c.customer_id})  # fmt: skip
    return view


async def _customer_ids(session: AsyncSession, customer_id: int) -> list[int]:
    """The customer and every record merged into it (their histories belong to this customer now)."""
    ids, frontier = [customer_id], [customer_id]
    while frontier and len(ids) < 100:
        nxt = []
        for cid in frontier:
            nxt += [m.id for m in await customers_repo.merged_into(session, cid) if m.id not in ids]
        ids += nxt
        frontier = nxt
    return ids


async def timeline(
    session: AsyncSession, *, actor: Principal, customer_id: int, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """Every contact of the customer on every channel, newest first, with wrap-up summaries (R1.1).

    An agent serves any caller, so the timeline is not limited to the reader's team; it is audited."""
    if await customers_repo.get_customer(session, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.")
    ids = await _customer_ids(session, customer_id)
    rows, total = await repo.contacts_of_customers(session, ids, offset=offset, limit=limit)
    await audit.record(session, action="contact.timeline_view", object_type="customer", object_id=customer_id,
                       after={"contacts": total})  # fmt: skip
    return {
        "customer_id": customer_id, "customer_ids": ids, "items": await _views(session, rows, with_wrapups=True),
        "total": total, "offset": offset, "limit": limit,
    }  # fmt: skip
