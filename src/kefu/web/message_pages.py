"""SMS and WeChat messages awaiting a reply (/messages, 待回复消息) and the reply form on an SMS or WeChat
contact's page.

A message that arrives while no agent is serving the customer opens a contact nobody owns; this list shows
every SMS and WeChat contact whose customer's last message (of the last 7 days) has no reply yet, oldest
first, with the masked address and how long it has waited (anyone with contact.read: supervisors reach it from
the wallboard). *Take* (contact.handle) makes the agent its owner (首问负责), so
its page and thread open for them; the reply form there sends through the channel's port (outbox, gateway
after commit). The channels service checks scope, lengths and WeChat's 48-hour window, and audits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import threads
from kefu.core import clock
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import repository as customers_repo
from kefu.web import desk
from kefu.web.contact_pages import contact_page, staff_names
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Reader = page_user(Permission.CONTACT_READ)
Handler = page_user(Permission.CONTACT_HANDLE)
DONE = ("taken",)


async def _render(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    items = await threads.awaiting_reply(db, now=clock.now())
    numbers = await customers_repo.customer_numbers(db, {i["customer_id"] for i in items if i["customer_id"]})
    names = await staff_names(db, {i["owner_id"] for i in items if i["owner_id"]})
    for i in items:
        i["customer_no"] = numbers.get(i["customer_id"]) if i["customer_id"] else None
        i["mine"] = i["owner_id"] == principal.staff_id
        i["minutes"] = i["waiting_seconds"] // 60
    ctx = {"items": items, "names": names, "done": done, "error": error, "days": threads.AWAITING_DAYS,
           "can_take": principal.can(Permission.CONTACT_HANDLE)}  # fmt: skip
    return render(request, "messages.html", ctx, status_code=status_code, no_store=True)


@router.get("/messages")
async def awaiting_list(request: Request, db: DbSession, done: str = "", principal: Principal = Reader) -> Response:
    """Everyone who reads contacts sees the list (supervisors come from the wallboard); agents take and answer."""
    return await _render(request, db, principal, done=done if done in DONE else "")


@router.post("/messages/{contact_id}/take")
async def take_form(request: Request, contact_id: RowId, db: DbSession, principal: Principal = Handler) -> Response:
    """Own the contact, then open it to read and answer."""
    try:
        await threads.take(db, actor=principal, contact_id=contact_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _render(request, db, principal, error=error_message(exc, locale_of(request)),
                             status_code=exc.status)  # fmt: skip
    return redirect(f"/contacts/{contact_id}?done=taken#reply")


@router.post("/contacts/{contact_id}/reply")
async def reply_form(
    request: Request, contact_id: RowId, db: DbSession, text: Field = "", principal: Principal = Handler
) -> Response:
    """Answer the customer of an SMS or WeChat contact from its page; errors come back beside the form with
    the text kept."""
    body = (text or "")[:2000]
    try:
        await threads.reply(db, actor=principal, contact_id=contact_id, text=body)
    except KefuError as exc:
        await desk.undo(db, exc)
        extra: dict[str, Any] = {"reply_error": error_message(exc, locale_of(request)), "reply_text": body}
        return await contact_page(request, db, principal, contact_id, status_code=exc.status, **extra)
    return redirect(f"/contacts/{contact_id}?done=replied#reply")
