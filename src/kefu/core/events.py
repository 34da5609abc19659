"""Domain events: a transactional outbox for handlers that must run once, and a bus for live fan-out.

``emit()`` writes the event in the caller's transaction (a rollback drops it). After commit the
node that committed tries to dispatch it at once; ``kefu worker`` sweeps whatever is left (a crash
between commit and dispatch loses nothing). Handlers run in their own transaction and must be
idempotent; a claim (conditional UPDATE) makes sure one node runs them. Every event is also
published on the bus (in-process, or Redis pub/sub in cluster mode) for live listeners such as
websockets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import structlog
from sqlalchemy import Integer, String, Text, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core import clock
from kefu.core.db import Base, IdPk, UTCDateTime, after_commit

log = structlog.get_logger(__name__)

CHANNEL = "kefu:events"
CLAIM_TIMEOUT = dt.timedelta(minutes=5)

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
_handlers: dict[str, list[Handler]] = defaultdict(list)


class OutboxEvent(Base):
    __tablename__ = "event_outbox"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event (domains call this at import time)."""

    def deco(fn: Handler) -> Handler:
        if fn not in _handlers[name]:
            _handlers[name].append(fn)
        return fn

    return deco


def handlers_for(name: str) -> list[Handler]:
    return list(_handlers.get(name, []))


async def emit(session: AsyncSession, name: str, payload: dict[str, Any]) -> None:
    session.add(OutboxEvent(name=name, payload=json.dumps(payload, default=str), created_at=clock.now()))

    async def _dispatch_now() -> None:
        from kefu.core import runtime

        rt = runtime.get()
        await dispatch_pending(rt)

    hooks = session.info.setdefault("after_commit", [])
    if not any(getattr(h, "__name__", "") == "_dispatch_now" for h in hooks):
        after_commit(session, _dispatch_now)


async def dispatch_pending(rt: Any, *, limit: int = 100) -> int:
    """Claim and run pending events. Returns how many were completed."""
    done = 0
    async with rt.db.transaction() as s:
        cutoff = clock.now() - CLAIM_TIMEOUT
        ids = (
            (
                await s.execute(
                    select(OutboxEvent.id)
                    .where(OutboxEvent.done_at.is_(None))
                    .where(or_(OutboxEvent.claimed_at.is_(None), OutboxEvent.claimed_at < cutoff))
                    .order_by(OutboxEvent.id)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    for event_id in ids:
        async with rt.db.transaction() as s:
            cutoff = clock.now() - CLAIM_TIMEOUT
            claimed = await s.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id, OutboxEvent.done_at.is_(None))
                .where(or_(OutboxEvent.claimed_at.is_(None), OutboxEvent.claimed_at < cutoff))
                .values(claimed_at=clock.now(), attempts=OutboxEvent.attempts + 1)
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        async with rt.db.transaction() as s:
            ev = await s.get(OutboxEvent, event_id)
            assert ev is not None  # noqa: S101
            name, payload = ev.name, json.loads(ev.payload)
        try:
            async with rt.db.transaction() as s:
                for handler in handlers_for(name):
                    await handler(s, payload)
                await s.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(done_at=clock.now()))
        except Exception as exc:
            log.exception("event_handler_failed", event_name=name, event_id=event_id)
            async with rt.db.transaction() as s:
                await s.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == event_id)
                    .values(last_error=f"{type(exc).__name__}: {exc}"[:2000], claimed_at=None)
                )
            continue
        done += 1
        await rt.bus.publish({"name": name, "payload": payload})
    return done


# ---- live bus ----------------------------------------------------------------------------------


class Bus(Protocol):
    async def publish(self, message: dict[str, Any]) -> None: ...

    def listen(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...


class InProcessBus:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, message: dict[str, Any]) -> None:
        for q in list(self._queues):
            q.put_nowait(message)

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._queues.discard(q)

    async def close(self) -> None:
        self._queues.clear()

    async def ping(self) -> bool:
        return True


class RedisBus:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.from_url(url)
        self.channel = channel

    async def publish(self, message: dict[str, Any]) -> None:
        await self.client.publish(self.channel, json.dumps(message, default=str))

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        pubsub = self.client.pubsub()
        await pubsub.subscribe(self.channel)
        try:
            async for msg in pubsub.listen():
                if msg.get("type") == "message":
                    yield json.loads(msg["data"])
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> bool:
        return bool(await self.client.ping())


def make_bus(redis_url: str | None, channel: str = CHANNEL) -> Bus:
    return RedisBus(redis_url, channel) if redis_url else InProcessBus()
