"""Chat over HTTP and websocket.

Visitor (no sign-in): ``GET /api/v1/chat/topics``, ``POST /api/v1/chat/sessions`` (start; the token is in the
answer, once), then the socket ``/api/v1/chat/ws``: the first frame is ``{"type": "auth", "token": …}`` (never
in the address, so it stays out of logs); then ``message`` {text}, ``handover``, ``end``, ``ping``. The server
sends ``history``, ``message``, ``state`` and ``error`` frames.

Agents (``contact.handle``): ``GET /api/v1/chat/contacts/{id}`` (transcript, also ``contact.read`` within
scope), ``POST …/messages`` {text}, ``POST …/close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from kefu.chat import service
from kefu.chat.models import ChatState
from kefu.core.auth import DbSession, Principal, public, require
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission

log = structlog.get_logger(__name__)
router = APIRouter(tags=["chat"])
Agent = Annotated[Principal, require(Permission.CONTACT_HANDLE)]
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]


class StartIn(BaseModel):
    topic: str = Field(default="general", max_length=40)
    locale: str = Field(default="zh-Hans", max_length=8)
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)


class TextIn(BaseModel):
    text: str = Field(max_length=4000)


@router.get("/api/v1/chat/topics", dependencies=[public()])
async def topics(db: DbSession) -> list[dict[str, str]]:
    return await service.topics(db)


@router.post("/api/v1/chat/sessions", status_code=201, dependencies=[public()])
async def start(body: StartIn, request: Request, db: DbSession) -> dict[str, Any]:
    rt = request.app.state.runtime
    address = request.client.host if request.client else "unknown"
    chat, token, greeting = await service.start(
        db, rt=rt, topic=body.topic, locale=body.locale, name=body.name, phone=body.phone,
        origin=request.headers.get("origin"), address=address,
    )  # fmt: skip
    return {"session_id": chat.id, "token": token, "state": chat.state,
            "messages": [service.message_view(m) for m in greeting]}  # fmt: skip


@router.get("/api/v1/chat/contacts/{contact_id}")
async def transcript(contact_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    return await service.transcript(db, actor=principal, contact_id=contact_id)


@router.post("/api/v1/chat/contacts/{contact_id}/messages", status_code=201)
async def agent_message(contact_id: RowId, body: TextIn, request: Request, db: DbSession,
                        principal: Agent) -> dict[str, Any]:  # fmt: skip
    return await service.agent_says(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id,
                                    text=body.text)  # fmt: skip


@router.post("/api/v1/chat/contacts/{contact_id}/close", status_code=204)
async def agent_close(contact_id: RowId, request: Request, db: DbSession, principal: Agent) -> None:
    await service.agent_closes(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id)


# ---- the visitor's socket ----------------------------------------------------------------------------


class VisitorHub:
    """One bus listener per process handing ``chat.visitor`` messages to the sockets of their session."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.by_session: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.task: asyncio.Task[None] | None = None

    def join(self, session_id: int) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=500)
        self.by_session.setdefault(session_id, set()).add(q)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._pump(), name="kefu-chat-hub")
        return q

    def leave(self, session_id: int, q: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self.by_session.get(session_id, set())
        queues.discard(q)
        if not queues:
            self.by_session.pop(session_id, None)

    async def _pump(self) -> None:
        async for message in self.rt.bus.listen():
            if message.get("name") != service.VISITOR:
                continue
            payload = dict(message.get("payload") or {})
            for q in list(self.by_session.get(int(payload.pop("session_id", 0)), ())):
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(payload)

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def hub_of(rt: Any) -> VisitorHub:
    hub = rt.extras.get("chat.visitor_hub")
    if hub is None:
        hub = rt.extras["chat.visitor_hub"] = VisitorHub(rt)
    return hub  # type: ignore[no-any-return]


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    return not origin or urlsplit(origin).netloc == ws.headers.get("host", "")


@router.websocket("/api/v1/chat/ws", dependencies=[public()])
async def visitor_socket(ws: WebSocket) -> None:
    if not _same_origin(ws):  # the widget is served by Kefu (embedded sites frame it), so the socket is ours
        await ws.close(code=4403, reason="cross-site socket refused")
        return
    await ws.accept()
    rt = ws.app.state.runtime
    try:
        first = json.loads(await asyncio.wait_for(ws.receive_text(), timeout=15))
        token = str(first.get("token") or "") if first.get("type") == "auth" else ""
        async with rt.db.transaction() as s:
            chat = await service.by_token(s, rt=rt, token=token)
            await service.reconcile(s, rt=rt, chat=chat)
            chat_id, history = chat.id, await service.history(s, chat)
            state = chat.state
    except (TimeoutError, ValueError, AttributeError, KefuError, WebSocketDisconnect):
        with contextlib.suppress(Exception):
            await ws.close(code=4401, reason="unknown or ended chat")
        return
    hub = hub_of(rt)
    q = hub.join(chat_id)
    try:
        await ws.send_json({"type": "history", "state": state, "messages": history})
        sender = asyncio.create_task(_forward(ws, q))
        try:
            await _receive(ws, rt, token)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
    finally:
        hub.leave(chat_id, q)
        with contextlib.suppress(Exception):
            await ws.close()


async def _forward(ws: WebSocket, q: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await ws.send_json(await q.get())


async def _receive(ws: WebSocket, rt: Any, token: str) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await ws.receive_text()
            try:
                frame = json.loads(text)
                kind = frame.get("type")
            except (ValueError, AttributeError):
                await ws.send_json({"type": "error", "message": 'Send JSON frames such as {"type": "message"}.'})
                continue
            if kind == "ping":
                await ws.send_json({"type": "pong"})
                continue
            try:
                async with rt.db.transaction() as s:
                    chat = await service.by_token(s, rt=rt, token=token)
                    if kind == "message":
                        await service.customer_says(s, rt=rt, chat=chat, text=str(frame.get("text") or ""))
                    elif kind == "handover":
                        await service.hand_over(s, rt=rt, chat=chat)
                    elif kind == "end":
                        await service.end(s, rt=rt, chat=chat, reason="customer")
                    else:
                        await ws.send_json({"type": "error", "message": f"Unknown frame type {kind!r}."})
                    ended = chat.state == ChatState.ENDED.value
            except KefuError as exc:
                await ws.send_json({"type": "error", "code": exc.code, "message": exc.detail})
                continue
            if ended and kind == "end":
                await asyncio.sleep(0.2)  # let the closing note reach the visitor
                return
