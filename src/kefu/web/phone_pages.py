"""The agent desktop (/phone, 坐席工作台): presence, the ringing offer, the connected call (hold, transfer,
callback, hang up), the wrap-up after it, and beside them the customer panel, the call script and the
knowledge search (``phone_panels``); business dialogs open the customer pages in a frame (``?embed=1``);
the softphone simulator sits at the bottom. Digital conversations (chat, e-mail) join in a tab strip
after the call section when ``digital_desk`` is on.

The page is server-rendered; ``/phone/live`` renders its live part alone (presence, calls, wrap-ups,
waiting simulated calls) so ``static/phone.js`` can swap in what changed when a websocket message
arrives or the desk state it polls changes. Every action also works as a plain form post without
JavaScript (``phone_forms``); with JavaScript the same buttons call the JSON API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import categories, followups
from kefu.contacts import repository as contacts_repo
from kefu.contacts import service as contacts
from kefu.contacts.models import ContactStatus
from kefu.contacts.views import follow_up_view
from kefu.core import clock, i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.permissions import Permission
from kefu.knowledge import hits as kb_hits
from kefu.routing import config_service
from kefu.routing import desk as routing_desk
from kefu.routing import service as routing
from kefu.routing.engine import EngineError
from kefu.routing.types import NO_ANSWER
from kefu.web import phone_panels
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Agent = page_user(Permission.CONTACT_HANDLE)

RESULTS = ("resolved", "transferred", "follow_up", "complaint_opened", "callback_scheduled")
PRESENCES = ("logged_out", "not_ready", "ready", "offered", "busy", "wrap_up")
DONE = ("presence", "simulated", "sim_hangup", "accept", "decline", "hold", "resume", "hangup", "cancel-transfer",
        "transfer", "callback", "wrapup", "wrapup_ready", "picked")  # fmt: skip
SIM_PREFIX = "sim-"
#: digits offered by the simulator when no IVR route is configured
FALLBACK_DIGITS = tuple(str(d) for d in range(1, 10))
#: texts phone.js shows itself (the rest of the page comes rendered from the server)
JS_TEXTS = ("phone.js.socket_live", "phone.js.socket_polling", "phone.js.simulated", "phone.js.sim_hangup_done",
            "phone.js.saved", "phone.js.seconds", "phone.js.expired", "phone.js.ringing_title", "phone.js.transfer_requested",
            "phone.js.transfer_failed", "phone.js.transferred", "phone.js.offer_cancelled",
            "phone.js.wrapup_overdue", "phone.js.followup_reminder", "phone.js.followup_overdue",
            "error.generic", "error.network", "desk.js.kb_none", "desk.js.kb_attach", "desk.js.kb_attached",
            "desk.js.kb_open", "desk.js.kb_no_contact", "desk.js.revealed", "desk.js.reveal_hidden",
            "desk.js.picked", "desk.js.shortcut_busy")  # fmt: skip
#: whether the lead's digital desk (chat and e-mail tabs, ``_desk_digital.html``) is shown; set by the app
DIGITAL_DESK = False


def rt_of(request: Request) -> Any:
    return request.app.state.runtime


def js_texts(locale: str) -> dict[str, str]:
    """What phone.js needs to say, plus every translated error heading by problem code."""
    keys = [*JS_TEXTS, *(f"contact.status.{s.value}" for s in ContactStatus)]
    texts = {key: i18n.t(key, locale) for key in keys}
    errors = {key[len("error."):]: i18n.t(key, locale)
              for key in i18n.catalogue("zh-Hans") if key.startswith("error.") and key.count(".") == 1}  # fmt: skip
    return {**texts, **{f"code.{code}": text for code, text in errors.items()}}


def leaf_options(tree: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """The wrap-up categories an agent may choose, grouped by top-level category: [{label, options}]."""

    def name(node: dict[str, Any]) -> str:
        names = node.get("names") or {}
        return str(names.get(locale) or names.get("zh-Hans") or node.get("code"))

    groups: list[dict[str, Any]] = []
    for root in tree:
        options: list[dict[str, Any]] = []

        def walk(node: dict[str, Any], path: list[str], out: list[dict[str, Any]] = options) -> None:
            here = [*path, name(node)]
            if node.get("leaf"):
                out.append({"id": node["id"], "label": " › ".join(here[1:]) or here[0]})
            for child in node.get("children") or []:
                walk(child, here)

        walk(root, [])
        if options:
            groups.append({"label": name(root), "options": options})
    return groups


async def ivr_options(db: AsyncSession) -> list[dict[str, str]]:
    """The simulator's IVR menu from the configured IVR routes: value 'dialled|choices', label."""
    out: list[dict[str, str]] = []
    for r in await config_service.list_ivr_routes(db):
        if r.dialled_number == config_service.ANY_NUMBER and r.ivr_prefix:
            continue  # a menu needs a number to dial
        dialled = "" if r.dialled_number == config_service.ANY_NUMBER else r.dialled_number
        out.append({"value": f"{dialled}|{r.ivr_prefix}", "label": r.label or r.ivr_prefix or r.queue_code,
                    "prefix": r.ivr_prefix})  # fmt: skip
    out.sort(key=lambda o: (o["value"].startswith("|"), o["value"].split("|")[0], o["prefix"]))  # any number last
    return out


async def _current(
    db: AsyncSession, request: Request, principal: Principal, state: dict[str, Any]
) -> list[dict[str, Any]]:
    """The contacts ringing at or connected to this agent (a consult transfer ringing here included, flagged
    ``consult``), with what the panel shows of them."""
    items = list(state["contacts"])
    out = []
    for item in items:
        c = await contacts.get_contact(db, item["contact_id"])
        out.append({
            **item,
            "answered_at": c.answered_at.isoformat() if c.answered_at else None,
            "hold_started_at": c.hold_started_at.isoformat() if c.hold_started_at else None,
            "simulated": str(item.get("external_ref") or "").startswith(SIM_PREFIX),
            "ivr_list": [x for x in str(item.get("ivr") or "").split(",") if x],
        })  # fmt: skip
    return out


async def _wrapups(db: AsyncSession, state: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in state["pending_wrapups"]:
        payload = await routing.offer_payload(db, p["contact_id"])
        c = await contacts.get_contact(db, p["contact_id"])
        out.append({**payload, "ended_at": c.ended_at, "answered_at": c.answered_at, "talk_seconds": c.talk_seconds,
                    "kb_attached": await kb_hits.attached_labels(db, contact_id=c.id)})  # fmt: skip
    return out


async def _waiting_simulated(db: AsyncSession) -> list[dict[str, Any]]:
    """Simulated calls still waiting or ringing (the caller can hang up from the simulator panel)."""
    rows = await contacts_repo.contacts_in(db, statuses=[ContactStatus.QUEUED, ContactStatus.OFFERED])
    sims = [c for c in rows if c.channel == "phone" and (c.external_ref or "").startswith(SIM_PREFIX)]
    return [{"contact_id": c.id, "call_id": c.external_ref, "queue": c.queue_code, "status": c.status,
             "arrived_at": c.arrived_at} for c in sims[-10:]]  # fmt: skip


#: the digital channels whose conversation the side panels can be about (the desk's chat and e-mail tabs)
DIGITAL_FOCUS = ("chat", "email")


def focus_param(value: str | None) -> int | None:
    """The ``focus`` query parameter: the id of the chat or e-mail the agent selected, or None."""
    v = (value or "").strip()
    return int(v) if v.isascii() and v.isdigit() and 0 < len(v) < 19 and int(v) > 0 else None


async def _digital_focus(
    db: AsyncSession, principal: Principal, contact_id: int | None, *, fallback: bool
) -> tuple[dict[str, Any] | None, bool]:
    """The chat or e-mail the side panels are about, when it is the agent's own (on, or its wrap-up owed), and
    whether the agent chose it. With nothing chosen and ``fallback`` (no call, no wrap-up on the desk), the
    agent's oldest open chat or e-mail."""
    mine = [*await contacts.open_for_agent(db, agent_id=principal.staff_id),
            *await contacts.pending_wrapups(db, agent_id=principal.staff_id)]  # fmt: skip
    usable = [c for c in mine if c.channel in DIGITAL_FOCUS and c.status != ContactStatus.OFFERED.value]
    chosen = next((c for c in usable if c.id == contact_id), None) if contact_id is not None else None
    c = chosen
    if c is None and fallback:
        c = min((x for x in usable if x.status == ContactStatus.CONNECTED.value), key=lambda x: x.id, default=None)
    if c is None:
        return None, False
    payload = await routing.offer_payload(db, c.id)
    return {**payload, "status": c.status, "stage": c.channel}, chosen is not None


async def live_context(
    request: Request, db: AsyncSession, principal: Principal, *, focus: int | None = None
) -> dict[str, Any]:
    """Everything the desk shows: presence, calls, wrap-ups, the side panels, simulator, open follow-ups.
    ``focus`` is the chat or e-mail tab the agent selected (the side panels are then about it)."""
    rt = rt_of(request)
    settings = settings_of(request)
    state = await routing_desk.state(db, rt=rt, actor=principal)
    queues = await config_service.list_queues(db)
    simulator = bool(settings.softphone_simulator) and principal.can(Permission.CTI_SIMULATE)
    mine, open_total = await followups.list_follow_ups(db, actor=principal, scope="mine", status="open", limit=10)
    now = clock.now()
    locale = locale_of(request, principal)
    calls = await _current(db, request, principal, state)
    wrapups = await _wrapups(db, state)
    digital, chosen = await _digital_focus(db, principal, focus, fallback=not calls and not wrapups)
    side = await phone_panels.panels(db, principal, calls=calls, wrapups=wrapups, locale=locale, now=now,
                                     digital=digital)  # fmt: skip
    return {
        **side,
        "digital_focus": digital["contact_id"] if digital and chosen else "",
        "found": None,
        "find_form": {},
        "can_kb": principal.can(Permission.KB_READ),
        "desk": state,
        "presence": state["presence"],
        "since": state["since"],
        "reasons": [*state["reasons"]],
        "calls": calls,
        "wrapups": wrapups,
        "simulator": simulator,
        "sim_waiting": await _waiting_simulated(db) if simulator else [],
        "ivr_options": await ivr_options(db) if simulator else [],
        "fallback_digits": FALLBACK_DIGITS,
        "queue_names": {q.code: q.name for q in queues},
        "transfer_queues": [{"code": q.code, "name": q.name, "department": q.is_department} for q in queues],
        "categories": leaf_options(await categories.tree(db), locale),
        "results": RESULTS,
        "follow_ups": [follow_up_view(f, now=now) for f in mine],
        "follow_ups_total": open_total,
        "wrapup_limit": settings.wrapup_limit_seconds,
        "server_now": now.isoformat(),
        "no_answer": NO_ANSWER,
        "error": None,
        "error_for": None,
        "form": {},
    }


def sections(ctx: dict[str, Any]) -> set[str]:
    """The parts of the page a form error can be shown next to."""
    out = {"presence", "customer"} | {f"call-{c['contact_id']}" for c in ctx["calls"]}
    out |= {f"wrapup-{w['contact_id']}" for w in ctx["wrapups"]}
    return out | ({"simulator"} if ctx["simulator"] else set())


async def show(
    request: Request,
    db: AsyncSession,
    principal: Principal,
    *,
    status_code: int = 200,
    focus: int | None = None,
    **extra: Any,
) -> Response:
    """The desktop page, with ``extra`` (done, error, error_for, form, found) on top of the live context."""
    settings = settings_of(request)
    try:
        ctx = await live_context(request, db, principal, focus=focus)
    except (KefuError, EngineError) as exc:
        await db.rollback()
        err = exc if isinstance(exc, KefuError) else routing.engine_error(exc)
        return render(request, "error.html", {"status": err.status, "message_key": "error.generic",
                                              "detail": err.detail}, status_code=err.status)  # fmt: skip
    ctx.update({"done": "", "digital_desk": bool(getattr(request.app.state, "digital_desk", DIGITAL_DESK))})
    ctx.update(extra)
    ctx["error_top"] = ctx["error"] if ctx["error"] and ctx["error_for"] not in sections(ctx) else None
    ctx["config"] = {
        "csrf": principal.csrf_token or "", "timezone": settings.timezone, "staff_id": principal.staff_id,
        "wrapup_limit_seconds": settings.wrapup_limit_seconds, "texts": js_texts(locale_of(request, principal)),
        "can_kb": principal.can(Permission.KB_READ),
    }  # fmt: skip
    return render(request, "phone.html", ctx, status_code=status_code, no_store=True)


@router.get("/phone")
async def phone_page(
    request: Request, db: DbSession, done: str = "", focus: str = "", principal: Principal = Agent
) -> Response:
    return await show(request, db, principal, done=done if done in DONE else "", focus=focus_param(focus))


@router.get("/phone/live")
async def phone_live(request: Request, db: DbSession, focus: str = "", principal: Principal = Agent) -> Response:
    """The live part of the page alone, for phone.js to swap in (``focus``: the chat or e-mail tab selected)."""
    ctx = await live_context(request, db, principal, focus=focus_param(focus))
    return render(request, "_phone_live.html", {**ctx, "live_only": True}, no_store=True)


def local_datetime(request: Request, value: str, field: str) -> dt.datetime:
    """A datetime-local value (YYYY-MM-DDTHH:MM, the center's time zone) as an aware datetime."""
    from zoneinfo import ZoneInfo

    from kefu.web.desk import field_error

    try:
        naive = dt.datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise field_error(field, "Give the date and time, e.g. 2026-11-24 15:00.") from exc
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(settings_of(request).timezone))


def failure(request: Request, exc: KefuError) -> dict[str, str]:
    return error_message(exc, locale_of(request))
