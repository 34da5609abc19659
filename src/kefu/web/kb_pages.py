"""Knowledge base pages for agents (R4): the search box (/kb), the entry view (/kb/articles/{id}) with
"attach to contact" and "forward as unanswered", the agent's forwarded questions (/kb/questions) and
the bulletin board (/bulletins) with read / acknowledge, posting and withdrawing for managers and read
receipts for team leads.

The search page works without JavaScript (a GET form, answered by the server); ``static/kb.js`` adds
results as the agent types (``GET /api/v1/kb/search?typing=1``) and keyboard selection. The pages call
the knowledge services only; they never query the database themselves. ``router`` also carries the
editors' workbench (``kb_workbench``), so the application includes this one router.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.core import clock, i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.knowledge import bulletins, hits, index, questions
from kefu.knowledge import service as kb
from kefu.routing.models import SKILLS as SKILL_CODES
from kefu.web import desk, kb_workbench
from kefu.web.kb_common import (
    as_id,
    as_list,
    clean,
    flat_categories,
    local_input,
    markdown,
    names_of,
    parse_local,
    rt_of,
    snippet,
    team_options,
    today,
    tz_of,
)
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Reader = page_user(Permission.KB_READ)
Forwarder = page_user(Permission.KB_FORWARD)
BulletinManager = page_user(Permission.BULLETIN_MANAGE)
ReceiptReader = page_user(Permission.BULLETIN_RECEIPTS)

QUERY_LIMIT = 200
TOP = 10
QUESTION_LIMIT = 300
CONTEXT_LIMIT = 2000
#: texts kb.js shows itself (the rest of the page comes rendered from the server)
JS_TEXTS = ("kb.js.count", "kb.js.none", "kb.js.start", "kb.js.confidence", "kb.js.took",
            "error.network", "error.generic")  # fmt: skip
PRIORITIES = ("normal", "urgent")


def js_texts(locale: str) -> dict[str, str]:
    return {key: i18n.t(key, locale) for key in JS_TEXTS}


async def current_contact(db: AsyncSession, principal: Principal) -> int | None:
    """The contact the agent is on now (connected first, else the latest one waiting for its wrap-up)."""
    if not principal.can(Permission.CONTACT_HANDLE):
        return None
    live = await contacts.open_for_agent(db, agent_id=principal.staff_id)
    connected = [c for c in live if c.status == "connected"]
    if connected:
        return int(connected[-1].id)
    wrapping = await contacts.pending_wrapups(db, agent_id=principal.staff_id)
    return int(wrapping[-1].id) if wrapping else None


async def contact_for(db: AsyncSession, principal: Principal, value: str | None) -> int | None:
    """The contact named in the address (?contact=), else the agent's current one."""
    return as_id(value) or await current_contact(db, principal)


async def run_search(
    request: Request, db: AsyncSession, principal: Principal, *, query: str, category_id: int | None, typing: bool
) -> dict[str, Any]:
    """The search service (``knowledge.index``): the same dict GET /api/v1/kb/search answers."""
    result: dict[str, Any] = await index.search(
        rt_of(request), db, actor=principal, query=query, top=TOP, category_id=category_id, source="agent",
        log_unmatched=not typing,
    )  # fmt: skip
    return result


def result_items(result: dict[str, Any], *, q: str, contact_id: int | None) -> list[dict[str, Any]]:
    """Search results with the entry link (keeping the query and contact) and a safe snippet."""
    items = []
    for item in result.get("items") or []:
        params: dict[str, Any] = {"q": q}
        if contact_id:
            params["contact"] = contact_id
        confidence = float(item.get("confidence") or 0.0)
        items.append({
            **item, "href": f"/kb/articles/{item['entry_id']}?{urlencode(params)}", "confidence": confidence,
            "percent": round(confidence * 100),
            # the closest similar question; when that is the question itself, the answer's start instead
            "snippet": snippet(item.get("snippet_html")) if item.get("matched") != item.get("question") else None,
            "question_marked": snippet(item.get("question_html")) if item.get("question_html") else None,
        })  # fmt: skip
    return items


# ---- /kb: the agent's search ------------------------------------------------------------------------


@router.get("/kb")
async def kb_search(
    request: Request, db: DbSession, q: str = "", category_id: str = "", contact: str = "", go: str = "",
    principal: Principal = Reader,
) -> Response:  # fmt: skip
    """The search box. A query the form submitted (``go=1``: Enter without JavaScript) is answered here and,
    without a good result, logged for the editors; the same address reached again (back from an entry, a
    reload) only shows the results."""
    query = clean(q, QUERY_LIMIT)
    category = as_id(category_id)
    contact_id = await contact_for(db, principal, contact)
    tree = await kb.category_tree(db)
    result: dict[str, Any] | None = None
    error = None
    if query:
        try:
            result = await run_search(request, db, principal, query=query, category_id=category, typing=go != "1")
        except KefuError as exc:
            error = error_message(exc, locale_of(request))
    locale = locale_of(request)
    config = {"api": "/api/v1/kb/search", "top": TOP, "contact": contact_id, "texts": js_texts(locale)}
    ctx = {
        "q": query, "category_id": category, "categories": flat_categories(tree),
        "contact_id": contact_id, "result": result,
        "items": result_items(result, q=query, contact_id=contact_id) if result else [],
        "error": error, "config": config,
        "urgent": await bulletins.unacknowledged_urgent(db, actor=principal, now=clock.now()),
    }  # fmt: skip
    return render(request, "kb_search.html", ctx, no_store=True)


# ---- /kb/articles/{id}: the live entry -------------------------------------------------------------


def _article_url(entry_id: int, **params: Any) -> str:
    kept = {k: v for k, v in params.items() if v}
    return f"/kb/articles/{entry_id}" + (f"?{urlencode(kept)}" if kept else "")


async def _article(
    request: Request, db: AsyncSession, principal: Principal, entry_id: int, *, q: str, contact_id: int | None,
    done: str = "", error: dict[str, str] | None = None, error_for: str = "", form: dict[str, Any] | None = None,
    status_code: int = 200, count_open: bool = False,
) -> Response:  # fmt: skip
    entry = await kb.live_entry(db, entry_id, today(request))  # NotFound unless agents may see it today
    if count_open:
        await hits.record(db, entry_id=entry_id, kind="open")
    for name in ("similar", "keywords", "products", "channels"):
        entry[name] = as_list(entry.get(name))
    ctx = {
        "entry": entry, "entry_id": entry_id, "q": q, "contact_id": contact_id,
        "answer_html": markdown(entry.get("answer_markdown")),
        "back_url": "/kb?" + urlencode({k: v for k, v in {"q": q, "contact": contact_id}.items() if v}),
        "done": done, "error": error, "error_for": error_for, "form": form or {},
        "can_forward": principal.can(Permission.KB_FORWARD),
        "can_edit": principal.can(Permission.KB_EDIT),
    }  # fmt: skip
    return render(request, "kb_article.html", ctx, status_code=status_code, no_store=True)


@router.get("/kb/articles/{entry_id}")
async def kb_article(
    request: Request, entry_id: RowId, db: DbSession, q: str = "", contact: str = "", done: str = "",
    principal: Principal = Reader,
) -> Response:  # fmt: skip
    """The live copy of one entry; opening it counts a hit (R4.3)."""
    contact_id = await contact_for(db, principal, contact)
    return await _article(request, db, principal, entry_id, q=clean(q, QUERY_LIMIT), contact_id=contact_id,
                          done=done if done == "attached" else "", count_open=done != "attached")  # fmt: skip


@router.post("/kb/articles/{entry_id}/attach")
async def kb_attach(
    request: Request, entry_id: RowId, db: DbSession, contact_id: Field = "", q: Field = "",
    principal: Principal = Reader,
) -> Response:  # fmt: skip
    """Record that this entry was used on a contact (the service checks the contact is the agent's to see)."""
    query = clean(q, QUERY_LIMIT)
    cid = as_id(contact_id)
    try:
        if cid is None:
            raise desk.field_error("contact_id", "Give the number of the contact this answer was used on.")
        await hits.attach(db, actor=principal, entry_id=entry_id, contact_id=cid)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _article(request, db, principal, entry_id, q=query, contact_id=cid,
                              error=error_message(exc, locale_of(request)), error_for="attach",
                              form={"contact_id": contact_id}, status_code=exc.status)  # fmt: skip
    return redirect(_article_url(entry_id, q=query, contact=cid, done="attached"))


# ---- forwarding questions (R4.5) --------------------------------------------------------------------


@router.post("/kb/questions")
async def kb_forward(
    request: Request, db: DbSession, question: Field = "", context: Field = "", contact_id: Field = "",
    category_id: Field = "", entry_id: Field = "", q: Field = "", principal: Principal = Forwarder,
) -> Response:  # fmt: skip
    """Forward a question the agent could not answer to the editors' queue, with the contact it came from."""
    text, why = clean(question, QUESTION_LIMIT), clean(context, CONTEXT_LIMIT)
    cid, category = as_id(contact_id), as_id(category_id)
    try:
        if len(text) < 4:
            raise desk.field_error("question", "Write the customer's question (4 to 300 characters).")
        await questions.forward(db, actor=principal, question=text, context=why, contact_id=cid,
                                category_id=category)  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        form = {"question": text, "context": why, "contact_id": contact_id}
        error = error_message(exc, locale_of(request))
        article = as_id(entry_id)
        if article is not None:
            return await _article(request, db, principal, article, q=clean(q, QUERY_LIMIT), contact_id=cid,
                                  error=error, error_for="forward", form=form, status_code=exc.status)  # fmt: skip
        return await _questions(request, db, principal, error=error, form=form, status_code=exc.status)
    return redirect("/kb/questions?done=forwarded")


async def _questions(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    form: dict[str, Any] | None = None, status_code: int = 200, prefill: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    rows, total = await questions.list_questions(db, actor=principal, scope="mine", status=None, limit=100)
    items = [questions.question_view(r) for r in rows]
    for item in items:
        item["new_answer"] = item["status"] != "open" and not item.get("seen_at")
    items.sort(key=lambda i: not i["new_answer"])  # new answers first, then newest first
    names = await names_of(db, {i.get("answered_by") for i in items})
    ctx = {
        "items": items, "total": total, "names": names, "done": done, "error": error,
        "form": form or prefill or {}, "unseen": sum(1 for i in items if i["new_answer"]),
    }  # fmt: skip
    return render(request, "kb_questions.html", ctx, status_code=status_code, no_store=True)


@router.get("/kb/questions")
async def kb_questions(
    request: Request, db: DbSession, done: str = "", q: str = "", contact: str = "", principal: Principal = Forwarder
) -> Response:  # fmt: skip
    """The agent's forwarded questions and the answers the editors recorded; new answers first."""
    prefill = {"question": clean(q, QUESTION_LIMIT), "contact_id": await contact_for(db, principal, contact) or ""}
    return await _questions(request, db, principal, done=done if done in ("forwarded", "seen") else "",
                            prefill=prefill)  # fmt: skip


@router.post("/kb/questions/{question_id}/seen")
async def kb_question_seen(
    request: Request, question_id: RowId, db: DbSession, principal: Principal = Forwarder
) -> Response:
    """The agent has read the answer (it no longer shows as new)."""
    try:
        await questions.mark_seen(db, actor=principal, question_id=question_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _questions(request, db, principal, error=error_message(exc, locale_of(request)),
                                status_code=exc.status)  # fmt: skip
    return redirect("/kb/questions?done=seen")


# ---- /bulletins --------------------------------------------------------------------------------------


async def _board(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    error_for: str = "", form: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    now = clock.now()
    items = await bulletins.for_staff(db, actor=principal, now=now)  # urgent ones to acknowledge first
    for b in items:
        b["body_html"] = markdown(b.get("body"))
        b["urgent"] = b.get("priority") == "urgent"
    manage = principal.can(Permission.BULLETIN_MANAGE)
    managed: list[dict[str, Any]] = []
    managed_total = 0
    teams: list[dict[str, Any]] = []
    if manage or principal.can(Permission.BULLETIN_RECEIPTS):
        rows, managed_total = await bulletins.list_all(db, include_withdrawn=manage, limit=50)
        managed = [bulletins.bulletin_view(b) for b in rows]
        for b in managed:
            b["state"] = _bulletin_state(b, now)
        teams = await team_options(db)
    tz = tz_of(request)
    default_form = {"priority": "normal", "valid_from": local_input(now, tz), "valid_to": "", "teams": [], "skills": []}
    ctx = {
        "items": items, "managed": managed, "managed_total": managed_total, "manage": manage, "teams": teams, "team_names": {t["id"]: t["name"] for t in teams},
        "skills": SKILL_CODES, "priorities": PRIORITIES, "receipts": principal.can(Permission.BULLETIN_RECEIPTS),
        "done": done, "error": error, "error_for": error_for, "form": {**default_form, **(form or {})},
        "unread": sum(1 for b in items if not b.get("read_at")),
    }  # fmt: skip
    return render(request, "kb_bulletins.html", ctx, status_code=status_code, no_store=True)


def _bulletin_state(b: dict[str, Any], now: dt.datetime) -> str:
    if b.get("withdrawn_at"):
        return "withdrawn"
    start, end = b.get("valid_from"), b.get("valid_to")
    if start and _aware(start) > now:
        return "scheduled"
    if end and _aware(end) <= now:
        return "expired"
    return "active"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


BULLETIN_DONE = ("read", "acked", "created", "withdrawn")


@router.get("/bulletins")
async def bulletin_board(request: Request, db: DbSession, done: str = "", principal: Principal = Reader) -> Response:
    """Bulletins for this agent (urgent unacknowledged ones first); managers also post and withdraw here."""
    return await _board(request, db, principal, done=done if done in BULLETIN_DONE else "")


@router.post("/bulletins/{bulletin_id}/read")
async def bulletin_read(request: Request, bulletin_id: RowId, db: DbSession, principal: Principal = Reader) -> Response:
    try:
        await bulletins.mark_read(db, actor=principal, bulletin_id=bulletin_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _board(request, db, principal, error=error_message(exc, locale_of(request)),
                            error_for=str(bulletin_id), status_code=exc.status)  # fmt: skip
    return redirect(f"/bulletins?done=read#b-{bulletin_id}")


@router.post("/bulletins/{bulletin_id}/ack")
async def bulletin_ack(request: Request, bulletin_id: RowId, db: DbSession, principal: Principal = Reader) -> Response:
    """Acknowledge an urgent bulletin (the agent confirms having read and understood it)."""
    try:
        await bulletins.acknowledge(db, actor=principal, bulletin_id=bulletin_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _board(request, db, principal, error=error_message(exc, locale_of(request)),
                            error_for=str(bulletin_id), status_code=exc.status)  # fmt: skip
    return redirect(f"/bulletins?done=acked#b-{bulletin_id}")


@router.post("/bulletins")
async def bulletin_create(
    request: Request, db: DbSession, title: Field = "", body: Field = "", priority: Field = "normal",
    valid_from: Field = "", valid_to: Field = "", principal: Principal = BulletinManager,
) -> Response:  # fmt: skip
    """Post a bulletin to everyone or to chosen teams / skills."""
    form_data = await request.form()
    team_ids = [i for v in form_data.getlist("teams") if isinstance(v, str) and (i := as_id(v)) is not None]
    skill_codes = [v for v in form_data.getlist("skills") if isinstance(v, str) and v in SKILL_CODES]
    form: dict[str, Any] = {"title": clean(title, 120), "body": clean(body, 20000), "priority": priority, "valid_from": valid_from,
            "valid_to": valid_to, "teams": team_ids, "skills": skill_codes}  # fmt: skip
    try:
        if priority not in PRIORITIES:
            raise desk.field_error("priority", "Choose normal or urgent.")
        start = parse_local(request, valid_from, "valid_from") or clock.now()
        end = parse_local(request, valid_to, "valid_to")
        await bulletins.create(db, actor=principal, title=clean(title, 120), body=clean(body, 20000), priority=priority,
                               audience_teams=team_ids, audience_skills=skill_codes, valid_from=start,
                               valid_to=end)  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _board(request, db, principal, error=error_message(exc, locale_of(request)), error_for="create",
                            form=form, status_code=exc.status)  # fmt: skip
    return redirect("/bulletins?done=created")


@router.post("/bulletins/{bulletin_id}/withdraw")
async def bulletin_withdraw(
    request: Request, bulletin_id: RowId, db: DbSession, reason: Field = "", principal: Principal = BulletinManager
) -> Response:  # fmt: skip
    """Take a bulletin down at once, with the reason (it stays on record with its receipts)."""
    try:
        await bulletins.withdraw(db, actor=principal, bulletin_id=bulletin_id, reason=clean(reason, 500))
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _board(request, db, principal, error=error_message(exc, locale_of(request)),
                            error_for=f"m-{bulletin_id}", status_code=exc.status)  # fmt: skip
    return redirect("/bulletins?done=withdrawn")


@router.get("/bulletins/{bulletin_id}/receipts")
async def bulletin_receipts(
    request: Request, bulletin_id: RowId, db: DbSession, principal: Principal = ReceiptReader
) -> Response:
    """Who of the audience has read and acknowledged a bulletin (team leads: their own team)."""
    data = await bulletins.receipts(db, actor=principal, bulletin_id=bulletin_id)  # checks the permission
    info = bulletins.bulletin_view(await bulletins.get(db, bulletin_id))
    rows = list(data["items"])
    show = request.query_params.get("show", "")
    if show == "unread":
        rows = [r for r in rows if not r.get("read_at")]
    elif show == "unacked":
        rows = [r for r in rows if not r.get("acked_at")]
    teams = {t["id"]: t["name"] for t in await team_options(db)}
    ctx = {
        "bulletin": info, "bulletin_id": bulletin_id, "rows": rows, "total": data["audience"], "read": data["read"],
        "acked": data["acknowledged"], "show": show if show in ("unread", "unacked") else "",
        "urgent": data["priority"] == "urgent", "team_names": teams, "now": clock.now(),
    }  # fmt: skip
    return render(request, "kb_receipts.html", ctx, no_store=True)


router.include_router(kb_workbench.router)
