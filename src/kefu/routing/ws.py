"""The live channel ``/api/v1/ws``: offers and presence for agents, queue status for monitors, routing
commands for telephony adapters. In cluster mode messages arrive through Redis pub/sub, so any node can
serve any agent.

Access is checked when the socket opens (web session cookie, bearer token or API key) and again every
minute; a browser socket must come from this site (Origin check: cookies ride along on cross-site
sockets). Who receives what: ``CONTACT_HANDLE`` → messages addressed to the staff member;
``ROUTING_MONITOR`` → presence changes, wrap-up reminders and a queue snapshot whenever it changes;
``CTI_EVENTS`` → ``cti.route`` commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from kefu.core.auth import Principal
from kefu.core.permissions import Permission
from kefu.routing import service as svc

log = structlog.get_logger(__name__)
router = APIRouter(tags=["live"])

STATUS_EVERY_S = 2.0
RECHECK_EVERY_S = 60.0
WS_PERMISSIONS = (Permission.CONTACT_HANDLE, Permission.ROUTING_MONITOR, Permission.CTI_EVENTS)


def ws_access() -> Any:
    """Marks the socket route for the route walker: any one of WS_PERMISSIONS, checked in the handler."""

    async def dependency() -> None:
        return None

    dependency.kefu_ws_permissions = WS_PERMISSIONS  # type: ignore[attr-defined]
    return Depends(dependency)


async def _principal(ws: WebSocket) -> Principal | None:
    from kefu.staff import auth as staff_auth

    rt = ws.app.state.runtime
    async with rt.db.transaction() as s:
        return await staff_auth.resolve(ws, s)  # type: ignore[arg-type]


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == ws.headers.get("host", "")


#: Events addressed to people by ``owner_id`` (and ``team_lead_ids``): follow-up reminders, answers to
#: forwarded knowledge questions, complaint warnings and escalations.
PERSONAL = ("followup.", "kb.question_answered", "kb.question_closed", "complaint.")


def wants(principal: Principal, message: dict[str, Any]) -> dict[str, Any] | None:
    """The payload this principal should get for a bus message, or None."""
    name = message.get("name", "")
    payload = message.get("payload") or {}
    if name == svc.LIVE:
        to = message.get("to") or {}
        if principal.can(Permission.CONTACT_HANDLE) and principal.staff_id in (to.get("agents") or []):
            return dict(payload)
        if principal.can(Permission.ROUTING_MONITOR) and to.get("monitors"):
            return dict(payload)
        if principal.can(Permission.CTI_EVENTS) and to.get("cti"):
            return dict(payload)
        return None
    if name.startswith(PERSONAL):
        readers = {payload.get("owner_id"), *(payload.get("team_lead_ids") or [])}
        if principal.staff_id in readers:
            return {"type": name, **payload}
    return None


class LiveHub:
    """One bus listener per process, handing each message to the sockets it is addressed to (instead of
    every socket reading and filtering every message)."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.by_staff: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.monitors: set[asyncio.Queue[dict[str, Any]]] = set()
        self.cti: set[asyncio.Queue[dict[str, Any]]] = set()
        self.principals: dict[asyncio.Queue[dict[str, Any]], Principal] = {}
        self.task: asyncio.Task[None] | None = None

    def join(self, principal: Principal) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.principals[q] = principal
        self.by_staff.setdefault(principal.staff_id, set()).add(q)
        if principal.can(Permission.ROUTING_MONITOR):
            self.monitors.add(q)
        if principal.can(Permission.CTI_EVENTS):
            self.cti.add(q)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._pump(), name="kefu-live-hub")
        return q

    def leave(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        principal = self.principals.pop(q, None)
        if principal is not None:
            self.by_staff.get(principal.staff_id, set()).discard(q)
        self.monitors.discard(q)
        self.cti.discard(q)

    async def _pump(self) -> None:
        async for message in self.rt.bus.listen():
            to = message.get("to") or {}
            payload = message.get("payload") or {}
            targets: set[asyncio.Queue[dict[str, Any]]] = set()
            for staff_id in to.get("agents") or []:
                targets |= self.by_staff.get(staff_id, set())
            if to.get("monitors"):
                targets |= self.monitors
            if to.get("cti"):
                targets |= self.cti
            if str(message.get("name", "")).startswith(PERSONAL):
                for staff_id in {payload.get("owner_id"), *(payload.get("team_lead_ids") or [])}:
                    targets |= self.by_staff.get(staff_id, set()) if isinstance(staff_id, int) else set()
            for q in targets:
                out = wants(self.principals[q], message) if q in self.principals else None
                if out is not None:
                    with contextlib.suppress(asyncio.QueueFull):  # a stuck socket loses live messages, not data
                        q.put_nowait(out)

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def hub_of(rt: Any) -> LiveHub:
    hub = rt.extras.get("routing.live_hub")
    if hub is None:
        hub = rt.extras["routing.live_hub"] = LiveHub(rt)
    return hub  # type: ignore[no-any-return]


@router.websocket("/api/v1/ws", dependencies=[ws_access()])
async def live_socket(ws: WebSocket) -> None:
    principal = await _principal(ws)
    if principal is None or principal.kind == "pending":
        await ws.close(code=4401, reason="sign in first")
        return
    if not any(principal.can(p) for p in WS_PERMISSIONS):
        await ws.close(code=4403, reason="your role has no live channel")
        return
    if principal.kind == "web" and not _same_origin(ws):
        await ws.close(code=4403, reason="cross-site socket refused")
        return
    await ws.accept()
    rt = ws.app.state.runtime
    await ws.send_json({"type": "hello", "staff_id": principal.staff_id, "staff_no": principal.staff_no})
    tasks = [asyncio.create_task(_forward(ws, rt, principal)), asyncio.create_task(_receive(ws))]
    if principal.can(Permission.ROUTING_MONITOR):
        tasks.append(asyncio.create_task(_status_loop(ws, rt)))
    tasks.append(asyncio.create_task(_recheck(ws, principal)))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await ws.close()


async def _forward(ws: WebSocket, rt: Any, principal: Principal) -> None:
    hub = hub_of(rt)
    q = hub.join(principal)
    try:
        while True:
            await ws.send_json(await q.get())
    finally:
        hub.leave(q)


async def _receive(ws: WebSocket) -> None:
    """Answer pings; return when the client goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await ws.receive_text()
            with contextlib.suppress(ValueError):
                if json.loads(text).get("type") == "ping":
                    await ws.send_json({"type": "pong"})


async def _status_loop(ws: WebSocket, rt: Any) -> None:
    last: Any = None
    while True:
        engine = await svc.get_engine(rt)
        rows = [vars(q) if not hasattr(q, "_asdict") else q._asdict() for q in await engine.status()]
        if rows != last:
            await ws.send_json({"type": "queues", "queues": rows})
            last = rows
        await asyncio.sleep(STATUS_EVERY_S)


async def _recheck(ws: WebSocket, principal: Principal) -> None:
    while True:
        await asyncio.sleep(RECHECK_EVERY_S)
        again = await _principal(ws)
        if again is None or again.staff_id != principal.staff_id:
            await ws.close(code=4401, reason="signed out")
            return
