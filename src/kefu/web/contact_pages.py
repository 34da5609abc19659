"""Contact records (/contacts): the list of contacts the reader may see, with filters and pages; one
contact with its event timeline, wrap-up and follow-ups; a customer's timeline across channels
(/customers/{id}/contacts). Caller numbers are masked; opening a contact or a customer's timeline is
audited by the contacts service (``contact.view``, ``contact.timeline_view``)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import reads
from kefu.contacts.models import Channel, ContactStatus
from kefu.core import i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import repository as customers_repo
from kefu.customers import service as customers
from kefu.routing import config_service
from kefu.staff import repository as staff_repo
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, render, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reader = page_user(Permission.CONTACT_READ)
PER_PAGE = 20
MAX_PAGE = 10_000
STATUSES = tuple(s.value for s in ContactStatus)
CHANNELS = tuple(c.value for c in Channel)
#: event data fields that name an agent (shown as staff number and name)
AGENT_FIELDS = ("from_agent", "to_agent", "target_agent", "owner_id")
HIDDEN_FIELDS = ("channel",)


def page_number(value: str | None) -> int:
    text = (value or "").strip()
    return max(1, min(int(text), MAX_PAGE)) if text.isascii() and text.isdigit() and len(text) < 7 else 1


def label(prefix: str, code: str | None, locale: str) -> str:
    """The translation of ``prefix.code``, or the code itself for one the catalogue does not know."""
    if not code:
        return "—"
    key = f"{prefix}.{code}"
    return i18n.t(key, locale) if i18n.has(key, locale) else code


@pass_context
def _label(ctx: Context, prefix: str, code: str | None) -> str:
    return label(prefix, code, ctx.get("locale") or i18n.DEFAULT_LOCALE)


templates.env.globals["t_label"] = _label


async def staff_names(db: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    """{staff id: 'name staff_no'} for the ids given."""
    wanted = {i for i in ids if i}
    names = await staff_repo.names_of(db, wanted) if wanted else {}
    return {i: f"{name} {no}" for i, (no, name) in names.items()}


async def queue_names(db: AsyncSession) -> dict[str, str]:
    return {q.code: q.name for q in await config_service.list_queues(db, include_inactive=True)}


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {
        "status": q.get("status", "") if q.get("status", "") in STATUSES else "",
        "channel": q.get("channel", "") if q.get("channel", "") in CHANNELS else "",
        "queue": desk.clean(q.get("queue"), 40),
        "customer_no": desk.clean(q.get("customer_no"), 20).upper(),
        "staff_no": desk.clean(q.get("staff_no"), 20),
        "date_from": desk.clean(q.get("date_from"), 10),
        "date_to": desk.clean(q.get("date_to"), 10),
    }


def _url(filters: dict[str, str], page: int) -> str:
    params = {k: v for k, v in filters.items() if v}
    if page > 1:
        params["page"] = str(page)
    return "/contacts" + ("?" + urlencode(params) if params else "")


async def _list(
    request: Request, db: AsyncSession, principal: Principal, f: dict[str, str], page: int
) -> dict[str, Any]:
    since = desk.local_day(request, f["date_from"])
    until = desk.local_day(request, f["date_to"], end=True)
    customer_id = agent_id = None
    if f["customer_no"]:
        customer_id = await customers.id_by_number(db, f["customer_no"])
        if customer_id is None:
            return {"items": [], "total": 0, "page": 1}
    if f["staff_no"]:
        member = await staff_repo.get_staff_by_no(db, f["staff_no"])
        if member is None:
            return {"items": [], "total": 0, "page": 1}
        agent_id = member.id

    async def fetch(p: int) -> dict[str, Any]:
        return await reads.list_page(
            db, actor=principal, status=f["status"] or None, channel=f["channel"] or None, queue=f["queue"] or None,
            agent_id=agent_id, customer_id=customer_id, since=since, until=until, offset=(p - 1) * PER_PAGE,
            limit=PER_PAGE,
        )  # fmt: skip

    result = await fetch(page)
    last = max(1, (int(result["total"]) + PER_PAGE - 1) // PER_PAGE)
    if page > last:
        page, result = last, await fetch(last)
    return {**result, "page": page}


@router.get("/contacts")
async def contact_list(request: Request, db: DbSession, principal: Principal = Reader) -> Response:
    f = _filters(request)
    page = page_number(request.query_params.get("page"))
    error = None
    try:
        result = await _list(request, db, principal, f, page)
    except KefuError as exc:
        await db.rollback()
        error, result = error_message(exc, locale_of(request)), {"items": [], "total": 0, "page": 1}
    total, page = int(result["total"]), int(result["page"])
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    items = result["items"]
    ctx = {
        "items": items, "total": total, "page": page, "pages": pages, "f": f, "error": error,
        "statuses": STATUSES, "channels": CHANNELS, "queues": await queue_names(db),
        "agents": await staff_names(db, {c["agent_id"] for c in items}),
        "prev_url": _url(f, page - 1) if page > 1 else None, "next_url": _url(f, page + 1) if page < pages else None,
    }  # fmt: skip
    return render(request, "contacts.html", ctx, status_code=422 if error else 200, no_store=True)


def event_rows(
    events: list[dict[str, Any]], names: dict[int, str], queues: dict[str, str], locale: str
) -> list[dict[str, Any]]:
    """The timeline: each event with its label, the agent and its details in words."""
    rows = []
    for e in events:
        details = []
        for key, value in sorted((e.get("data") or {}).items()):
            if value in (None, "", []) or key in HIDDEN_FIELDS:
                continue
            if key in AGENT_FIELDS and isinstance(value, int):
                value = names.get(value, f"#{value}")
            elif key in ("queue", "from_queue", "to_queue"):
                value = queues.get(str(value), value)
            elif key.endswith("_s") and isinstance(value, int | float):
                value = f"{value:.1f}"
            elif key in ("mode", "result", "reason"):
                value = label(f"contact.{key}", str(value), locale)
            details.append({"key": label("contact.data", key, locale), "value": value})
        rows.append({**e, "label": label("contact.event", e["kind"], locale), "agent": names.get(e["agent_id"] or 0),
                     "details": details})  # fmt: skip
    return rows


async def _transcript(db: AsyncSession, principal: Principal, channel: str, contact_id: int) -> list[dict[str, Any]]:
    """A chat's messages or an e-mail thread as rows (who, when, subject, text) for the contact page."""
    if channel == "chat":
        from kefu.chat import service as chat_service

        with contextlib.suppress(NotFound):
            body = await chat_service.transcript(db, actor=principal, contact_id=contact_id)
            return [{"who": m["sender"], "agent_no": m["agent_no"], "at": m["at"], "text": m["text"]}
                    for m in body["messages"]]  # fmt: skip
    if channel == "email":
        from kefu.mail import desk as mail_desk

        body = await mail_desk.thread(db, actor=principal, contact_id=contact_id)
        return [{"who": m["direction"], "at": m["at"].isoformat() if hasattr(m["at"], "isoformat") else m["at"],
                 "subject": m["subject"], "text": m["body"], "from": m["from"]} for m in body["messages"]]  # fmt: skip
    return []


@router.get("/contacts/{contact_id}")
async def contact_detail(
    request: Request, contact_id: RowId, db: DbSession, done: str = "", principal: Principal = Reader
) -> Response:
    return await contact_page(request, db, principal, contact_id, done=done if done in CONTACT_DONE else "")


#: notices the contact page shows after a form (message_pages: taking an SMS/WeChat contact, replying)
CONTACT_DONE = ("taken", "replied")


async def contact_page(
    request: Request, db: AsyncSession, principal: Principal, contact_id: int, *, status_code: int = 200,
    done: str = "", reply_error: dict[str, str] | None = None, reply_text: str = "",
) -> Response:  # fmt: skip
    """One contact: its events, wrap-up, follow-ups, and the thread or transcript of its channel; an SMS or
    WeChat contact has a reply form for staff who handle contacts."""
    view = await reads.detail(db, actor=principal, contact_id=contact_id)
    locale = locale_of(request, principal)
    ids = {view["agent_id"], view["owner_id"]} | {e["agent_id"] for e in view["events"]}
    ids |= {f["owner_id"] for f in view["follow_ups"]} | {f.get("closed_by") for f in view["follow_ups"]}
    ids |= {
        v for e in view["events"] for k, v in (e.get("data") or {}).items() if k in AGENT_FIELDS and isinstance(v, int)
    }
    if view["wrapup"]:
        ids.add(view["wrapup"]["agent_id"])
    messages: list[dict[str, Any]] = []
    if view["channel"] in ("sms", "wechat"):
        from kefu.channels import threads

        messages = (await threads.thread(db, actor=principal, contact_id=contact_id))["messages"]
        ids |= {m.get("agent_id") for m in messages}
    transcript = await _transcript(db, principal, view["channel"], contact_id)
    names = await staff_names(db, ids)
    queues = await queue_names(db)
    can_reply = view["channel"] in ("sms", "wechat") and principal.can(Permission.CONTACT_HANDLE)
    ctx = {"c": view, "names": names, "queues": queues, "events": event_rows(view["events"], names, queues, locale),
           "now": dt.datetime.now(dt.UTC), "messages": messages, "transcript": transcript, "can_reply": can_reply,
           "done": done, "reply_error": reply_error, "reply_text": reply_text}  # fmt: skip
    return render(request, "contact.html", ctx, status_code=status_code, no_store=True)


@router.get("/customers/{customer_id}/contacts")
async def customer_timeline(
    request: Request, customer_id: RowId, db: DbSession, page: str = "", principal: Principal = Reader
) -> Response:
    """One customer's contacts on every channel, newest first (the service audits the view)."""
    number = page_number(page)
    data = await reads.timeline(db, actor=principal, customer_id=customer_id, offset=(number - 1) * PER_PAGE,
                                limit=PER_PAGE)  # fmt: skip
    customer = await customers_repo.get_customer(db, customer_id)
    total = int(data["total"])
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    base = f"/customers/{customer_id}/contacts"
    ctx = {
        "customer": customer, "items": data["items"], "total": total, "page": number, "pages": pages,
        "merged": len(data["customer_ids"]) > 1, "queues": await queue_names(db),
        "agents": await staff_names(db, {c["agent_id"] for c in data["items"]}),
        "prev_url": f"{base}?page={number - 1}" if number > 1 else None,
        "next_url": f"{base}?page={number + 1}" if number < pages else None,
    }  # fmt: skip
    return render(request, "contact_timeline.html", ctx, no_store=True)
