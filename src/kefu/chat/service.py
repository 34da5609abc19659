"""Online chat (R1.1, R1.3, R4.6): the bot answers first from the knowledge base, then hands the customer over
to an agent through the routing engine, with the conversation so far; the transcript is kept on the contact.

The visitor holds a random bearer token (only its keyed digest is stored). Messages to the visitor go on the
live bus as ``chat.visitor`` (any node serving the visitor's socket delivers them); messages to the agent as
``chat.message`` live messages. Texts are stored encrypted; logs carry ids only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections import deque
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat.models import ChatMessage, ChatSession, ChatState, Sender
from kefu.contacts import service as contacts
from kefu.core import clock, events, i18n, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import blind_index, mask_phone
from kefu.core.db import after_commit
from kefu.core.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from kefu.core.ids import new_token, token_digest
from kefu.routing import digital
from kefu.routing import service as routing

log = structlog.get_logger(__name__)

VISITOR = "chat.visitor"
MAX_TEXT = 1000
MAX_NAME = 40
LOCALES = ("zh-Hans", "zh-Hant", "en")
CONNECTED_EVENT = digital.CONNECTED_EVENT
PHONE_CONTEXT = "chat_sessions.visitor_phone"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _secret(rt: runtime.Runtime) -> bytes:
    key = rt.settings.secret_key
    assert key is not None  # noqa: S101 - settings create it at start
    return key.get_secret_value().encode()


class Limiter:
    """New chats per client address in a sliding hour (in-process; each node limits on its own)."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self.seen: dict[str, deque[float]] = {}

    def check(self, address: str, now: float) -> None:
        q = self.seen.setdefault(address, deque())
        while q and now - q[0] > 3600:
            q.popleft()
        if len(q) >= self.per_hour:
            raise TooManyRequests("Too many chats from this address in the last hour; try again later or call us.")
        q.append(now)
        if len(self.seen) > 10_000:
            for k in [k for k, v in self.seen.items() if not v or now - v[-1] > 3600]:
                del self.seen[k]


def limiter(rt: runtime.Runtime) -> Limiter:
    lim = rt.extras.get("chat.limiter")
    if lim is None:
        lim = rt.extras["chat.limiter"] = Limiter(rt.settings.chat_sessions_per_hour)
    return lim  # type: ignore[no-any-return]


async def topics(session: AsyncSession) -> list[dict[str, str]]:
    """The queues a customer may choose in the widget (active, not departments, not the e-mail queue); the
    queue a caller who makes no IVR choice reaches (any number, no digits) comes first, as the widget's default."""
    from kefu.routing import config_service

    email_queue = runtime.get().settings.email_queue
    out = [{"code": q.code, "name": q.name} for q in await config_service.list_queues(session)
           if not q.is_department and q.code != email_queue]  # fmt: skip
    routes = await config_service.list_ivr_routes(session)
    default = next((r.queue_code for r in routes if r.dialled_number == config_service.ANY_NUMBER and not r.ivr_prefix),
                   None)  # fmt: skip
    return sorted(out, key=lambda tp: tp["code"] != default)  # stable: the rest keep their order


def _clean(text: str | None, field: str = "text", limit: int = MAX_TEXT) -> str:
    value = " ".join((text or "").replace("\r", "").split(" ")).strip()
    if not value:
        raise _invalid(field, "Type a message first.")
    if len(value) > limit:
        raise _invalid(field, f"A message is limited to {limit} characters; send it in parts.")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise _invalid(field, "The message contains control characters; remove them.")
    return value


_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_MD_MARKS = re.compile(r"(^|\n)\s{0,3}(#{1,6}\s+|>\s?)|\*\*|__|`+")


def plain_text(markdown: str) -> str:
    """A knowledge answer as plain text for the chat (the widget never renders HTML): links keep their words
    and address, emphasis and heading marks go; lists stay readable."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) else m.group(1), markdown)
    text = _MD_MARKS.sub(lambda m: m.group(1) or "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _add(session: AsyncSession, chat: ChatSession, sender: Sender, body: str, *, agent_id: int | None = None,
         kb_ref: str | None = None) -> ChatMessage:  # fmt: skip
    now = clock.now()
    msg = ChatMessage(session_id=chat.id, contact_id=chat.contact_id, sender=sender.value, agent_id=agent_id,
                      body=body, kb_ref=kb_ref, at=now)  # fmt: skip
    session.add(msg)
    chat.updated_at = now
    return msg


def message_view(m: ChatMessage, staff_no: str | None = None) -> dict[str, Any]:
    return {"id": m.id, "sender": m.sender, "text": m.body, "at": m.at.isoformat(), "kb_ref": m.kb_ref,
            "agent_no": staff_no}  # fmt: skip


def _to_visitor(session: AsyncSession, rt: runtime.Runtime, chat_id: int, **payload: Any) -> None:
    message = {"name": VISITOR, "payload": {"session_id": chat_id, **payload}}

    async def _send() -> None:
        await rt.bus.publish(message)

    after_commit(session, _send)


def _to_agent(session: AsyncSession, rt: runtime.Runtime, agent_id: int, **payload: Any) -> None:
    routing.publish_after_commit(session, rt, [{"name": routing.LIVE, "to": {"agents": [agent_id]},
                                                "payload": {"type": "chat.message", **payload}}])  # fmt: skip


# ---- the visitor's side ----------------------------------------------------------------------------


async def start(
    session: AsyncSession, *, rt: runtime.Runtime, topic: str, locale: str, name: str | None, phone: str | None,
    origin: str | None, address: str,
) -> tuple[ChatSession, str, list[ChatMessage]]:  # fmt: skip
    """Open a chat with the bot. Returns the session, the visitor's token (shown once) and the greeting."""
    if locale not in LOCALES:
        raise _invalid("locale", f"Language must be one of {', '.join(LOCALES)}.")
    codes = {t["code"] for t in await topics(session)}
    if topic not in codes:
        raise _invalid("topic", "Choose one of the listed topics.")
    nm = (name or "").strip() or None
    if nm is not None and (len(nm) > MAX_NAME or any(ord(ch) < 32 for ch in nm)):
        raise _invalid("name", f"A name is limited to {MAX_NAME} characters.")
    digits = "".join(ch for ch in (phone or "") if ch.isdigit()) or None
    if phone and (digits is None or not 7 <= len(digits) <= 15):
        raise _invalid("phone", "Give the mobile number as 7 to 15 digits, or leave it empty.")
    limiter(rt).check(address, clock.now().timestamp())
    customer_id = None
    if digits:
        from kefu.customers import service as customers

        found = await customers.lookup(session, phone=digits)
        customer_id = found[0].id if len(found) == 1 else None
    token = new_token("chat")
    now = clock.now()
    chat = ChatSession(token_digest=token_digest(token, _secret(rt)), customer_id=customer_id, visitor_name=nm,
                       visitor_phone=digits, visitor_phone_bidx=blind_index(digits, context=PHONE_CONTEXT) if digits else None,
                       locale=locale, topic=topic, state=ChatState.BOT.value, origin=(origin or None) and origin[:200],
                       started_at=now, last_customer_at=now, created_at=now, updated_at=now)  # fmt: skip
    session.add(chat)
    await session.flush()
    greeting = _add(session, chat, Sender.BOT, i18n.t("chat.bot.greeting", locale))
    await session.flush()
    log.info("chat_started", chat_id=chat.id, topic=topic, identified=customer_id is not None)
    return chat, token, [greeting]


async def by_token(session: AsyncSession, *, rt: runtime.Runtime, token: str) -> ChatSession:
    if not token or len(token) > 200:
        raise NotFound("This chat has ended or does not exist; start a new one.")
    chat = (await session.execute(
        select(ChatSession).where(ChatSession.token_digest == token_digest(token, _secret(rt)))
    )).scalar_one_or_none()  # fmt: skip
    if chat is None:
        raise NotFound("This chat has ended or does not exist; start a new one.")
    return chat


async def history(session: AsyncSession, chat: ChatSession) -> list[dict[str, Any]]:
    rows = (await session.execute(
        select(ChatMessage).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.id)
    )).scalars().all()  # fmt: skip
    return await _views(session, rows)


async def _views(session: AsyncSession, rows: Any) -> list[dict[str, Any]]:
    from kefu.staff import service as staff_service

    numbers = await staff_service.staff_numbers(session, {m.agent_id for m in rows if m.agent_id is not None})
    return [message_view(m, numbers.get(m.agent_id) if m.agent_id else None) for m in rows]


async def reconcile(session: AsyncSession, *, rt: runtime.Runtime, chat: ChatSession) -> None:
    """A chat whose contact ended without it (a restart of the server ended the conversation) ends too, so the
    visitor is told instead of writing to nobody."""
    if chat.state not in (ChatState.QUEUED.value, ChatState.AGENT.value) or chat.contact_id is None:
        return
    c = await contacts.get_contact(session, chat.contact_id)
    if c.status not in ("queued", "offered", "connected"):
        await end(session, rt=rt, chat=chat, reason="system")


async def customer_says(session: AsyncSession, *, rt: runtime.Runtime, chat: ChatSession, text: str) -> None:
    """The visitor wrote: the bot answers while no agent has it; otherwise it goes to the agent."""
    body = _clean(text)
    if chat.state == ChatState.ENDED.value:
        raise Conflict("This chat has ended; start a new one to write again.", code="chat_ended")
    await reconcile(session, rt=rt, chat=chat)
    if chat.state == ChatState.ENDED.value:
        return  # it had ended without the visitor knowing: they are told now (the state frame)
    chat.last_customer_at = clock.now()
    mine = _add(session, chat, Sender.CUSTOMER, body)
    await session.flush()
    _to_visitor(session, rt, chat.id, type="message", message=message_view(mine))
    if chat.state == ChatState.BOT.value:
        from kefu.knowledge import ask

        try:
            answer = await ask.ask(rt, session, question=body[:200], channel="chat")
        except ValidationFailed:
            answer = {"answered": False, "entry": None, "suggestions": []}
        if answer["answered"] and answer["entry"]:
            entry = answer["entry"]
            answer_text = plain_text(entry["answer_markdown"])
            reply = f"{entry['question']}\n\n{answer_text}\n\n{i18n.t('chat.bot.answered', chat.locale)}"
            bot = _add(session, chat, Sender.BOT, reply[: MAX_TEXT * 4], kb_ref=entry["key"])
        else:
            bot = _add(session, chat, Sender.BOT, i18n.t("chat.bot.unsure", chat.locale))
        await session.flush()
        suggestions = [s["question"] for s in answer.get("suggestions", [])][:3]
        _to_visitor(session, rt, chat.id, type="message", message=message_view(bot), suggestions=suggestions,
                    offer_agent=not answer["answered"])  # fmt: skip
    elif chat.contact_id is not None:
        c = await contacts.get_contact(session, chat.contact_id)
        if chat.state == ChatState.AGENT.value and c.agent_id is not None:
            _to_agent(session, rt, c.agent_id, contact_id=c.id, message=message_view(mine))


async def hand_over(session: AsyncSession, *, rt: runtime.Runtime, chat: ChatSession) -> int:
    """转人工: open the chat contact (with the conversation so far) and route it to an agent."""
    if chat.state != ChatState.BOT.value:
        if chat.state == ChatState.ENDED.value:
            raise Conflict("This chat has ended; start a new one.", code="chat_ended")
        assert chat.contact_id is not None  # noqa: S101
        return chat.contact_id  # already handed over: pressing again changes nothing
    from kefu.customers import service as customers

    bonus = 0.0
    if chat.customer_id is not None:
        card = await customers.caller_card(session, chat.customer_id)
        bonus = routing.TIER_BONUS.get(str((card or {}).get("tier") or "normal"), 0.0)
    now = clock.now()
    c = await contacts.open_contact(session, channel="chat", direction="inbound", queue_code=chat.topic,
                                    arrived_at=now, caller_number=chat.visitor_phone, customer_id=chat.customer_id,
                                    identify=False, priority_bonus=bonus)  # fmt: skip
    chat.contact_id, chat.state, chat.handed_over_at = c.id, ChatState.QUEUED.value, now
    for m in (await session.execute(select(ChatMessage).where(ChatMessage.session_id == chat.id))).scalars():
        m.contact_id = c.id
    note = _add(session, chat, Sender.SYSTEM, i18n.t("chat.system.queued", chat.locale))
    await session.flush()
    await digital.route(session, rt=rt, contact_id=c.id, channel="chat", queue=chat.topic, priority_bonus=bonus)
    _to_visitor(session, rt, chat.id, type="state", state=chat.state, message=message_view(note))
    log.info("chat_handed_over", chat_id=chat.id, contact_id=c.id)
    return c.id


async def end(
    session: AsyncSession, *, rt: runtime.Runtime, chat: ChatSession, reason: str, by_agent: int | None = None
) -> None:
    """End the chat (the visitor left, the agent closed it, or it went idle); the agent then wraps it up."""
    if chat.state == ChatState.ENDED.value:
        return
    was_agent = chat.state == ChatState.AGENT.value
    if chat.contact_id is not None:
        await digital.finish(session, rt=rt, contact_id=chat.contact_id, by_agent=by_agent, reason=reason)
    now = clock.now()
    chat.state, chat.ended_at, chat.end_reason = ChatState.ENDED.value, now, reason[:30]
    note = _add(session, chat, Sender.SYSTEM, i18n.t(f"chat.system.ended_{reason}" if reason in
                ("customer", "agent", "idle", "system") else "chat.system.ended_customer", chat.locale))  # fmt: skip
    await session.flush()
    _to_visitor(session, rt, chat.id, type="state", state=chat.state, message=message_view(note))
    if was_agent and chat.contact_id is not None and by_agent is None:
        c = await contacts.get_contact(session, chat.contact_id)
        if c.agent_id is not None:
            _to_agent(session, rt, c.agent_id, contact_id=c.id, message=message_view(note), ended=True)


# ---- the agent's side --------------------------------------------------------------------------------


async def _chat_of_contact(session: AsyncSession, contact_id: int) -> ChatSession:
    chat = (await session.execute(select(ChatSession).where(ChatSession.contact_id == contact_id))).scalar_one_or_none()
    if chat is None:
        raise NotFound(f"Contact {contact_id} is not a chat.")
    return chat


async def _own(session: AsyncSession, actor: Principal, contact_id: int) -> tuple[ChatSession, Any]:
    chat = await _chat_of_contact(session, contact_id)
    c = await contacts.get_contact(session, contact_id)
    if c.agent_id != actor.staff_id or c.status != "connected":
        raise Conflict("This chat is not open with you: accept it first, or it has ended.", code="not_your_contact")
    return chat, c


async def agent_says(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int,
                     text: str) -> dict[str, Any]:  # fmt: skip
    body = _clean(text)
    chat, c = await _own(session, actor, contact_id)
    msg = _add(session, chat, Sender.AGENT, body, agent_id=actor.staff_id)
    now = clock.now()
    if chat.first_response_at is None:
        chat.first_response_at = now
        since = chat.accepted_at or chat.handed_over_at or now
        seconds = max(0.0, (now - since).total_seconds())
        await contacts.record(session, contact_id=c.id, kind="first_response", at=now, agent_id=actor.staff_id,
                              settings=rt.settings, seconds=round(seconds, 1),
                              within_target=seconds <= rt.settings.chat_first_response_seconds)  # fmt: skip
    await session.flush()
    view = message_view(msg, actor.staff_no)
    _to_visitor(session, rt, chat.id, type="message", message=view)
    return view


async def agent_closes(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    chat, _c = await _own(session, actor, contact_id)
    await end(session, rt=rt, chat=chat, reason="agent", by_agent=actor.staff_id)


async def transcript(session: AsyncSession, *, actor: Principal, contact_id: int) -> dict[str, Any]:
    """The chat of a contact the reader may see: visitor (masked), state, times and every message."""
    from kefu.contacts import reads

    await reads.visible(session, actor=actor, contact_id=contact_id)
    chat = await _chat_of_contact(session, contact_id)
    rows = (await session.execute(
        select(ChatMessage).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.id)
    )).scalars().all()  # fmt: skip
    name = chat.visitor_name
    return {
        "contact_id": contact_id, "state": chat.state, "topic": chat.topic, "locale": chat.locale,
        "visitor": (name[0] + "*" * (len(name) - 1)) if name else None,
        "phone": mask_phone(chat.visitor_phone) if chat.visitor_phone else None,
        "started_at": chat.started_at.isoformat(), "handed_over_at": _iso(chat.handed_over_at),
        "accepted_at": _iso(chat.accepted_at), "first_response_at": _iso(chat.first_response_at),
        "ended_at": _iso(chat.ended_at), "messages": await _views(session, rows),
    }  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@events.subscribe(CONNECTED_EVENT)
async def on_connected(session: AsyncSession, payload: dict[str, Any]) -> None:
    """An agent accepted a chat: tell the visitor who is serving them."""
    if payload.get("channel") != "chat":
        return
    chat = (await session.execute(
        select(ChatSession).where(ChatSession.contact_id == int(payload["contact_id"]))
    )).scalar_one_or_none()  # fmt: skip
    if chat is None or chat.state == ChatState.ENDED.value:
        return
    chat.state, chat.accepted_at = ChatState.AGENT.value, chat.accepted_at or clock.now()
    from kefu.staff import service as staff_service

    numbers = await staff_service.staff_numbers(session, {int(payload["staff_id"])})
    agent_no = numbers.get(int(payload["staff_id"]), "")
    note = _add(session, chat, Sender.SYSTEM, i18n.t("chat.system.agent_joined", chat.locale, agent_no=agent_no))
    await session.flush()
    _to_visitor(session, runtime.get(), chat.id, type="state", state=chat.state, message=message_view(note))


async def sweep_idle(rt: runtime.Runtime) -> int:
    """End chats whose visitor has been silent for ``chat_idle_minutes``."""
    cutoff = clock.now() - dt.timedelta(minutes=rt.settings.chat_idle_minutes)
    async with rt.db.transaction() as s:
        ids = list((await s.execute(
            select(ChatSession.id).where(ChatSession.state != ChatState.ENDED.value,
                                         ChatSession.last_customer_at < cutoff).limit(200)
        )).scalars())  # fmt: skip
    for chat_id in ids:
        async with rt.db.transaction() as s:
            chat = await s.get(ChatSession, chat_id)
            if chat is not None and chat.state != ChatState.ENDED.value:
                await end(s, rt=rt, chat=chat, reason="idle")
    return len(ids)


async def run_idle_sweeper(rt: runtime.Runtime, stop: asyncio.Event, every_s: float = 30.0) -> None:
    """End idle chats every ``every_s`` seconds in the serving process (where the chat engine lives)."""
    while not stop.is_set():
        try:
            await sweep_idle(rt)
        except Exception:  # keep sweeping; the next round retries
            log.exception("chat_idle_sweep_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
