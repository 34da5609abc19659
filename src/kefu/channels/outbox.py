"""What the SMS and e-mail ports share (convention 2): an outbox row written in the business transaction,
handed to the port's gateway only after commit, in a transaction of its own that records ``sent`` with the
provider's reference or ``failed`` with the refusal. Logs name message ids only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.models import MessageStatus, OutboundMessage
from kefu.core import clock, runtime
from kefu.core.db import after_commit

log = structlog.get_logger(__name__)

#: hands one message to the provider and returns its reference; raises on refusal
Hand = Callable[[OutboundMessage], Awaitable[str]]


async def queue(session: AsyncSession, msg: OutboundMessage, hand: Hand | None) -> OutboundMessage:
    """Add ``msg`` (status pending) to the caller's transaction; with ``hand``, deliver it after commit."""
    session.add(msg)
    await session.flush()
    if hand is not None:
        message_id, channel = msg.id, msg.channel

        async def _deliver_after_commit() -> None:
            await deliver(message_id, channel, hand)

        after_commit(session, _deliver_after_commit)
    return msg


async def deliver(message_id: int, channel: str, hand: Hand) -> str:
    """Send one pending message of ``channel`` in its own transaction; returns the new status."""
    rt = runtime.get()
    async with rt.db.transaction() as s:
        msg = await s.get(OutboundMessage, message_id)
        if msg is None or msg.status != MessageStatus.PENDING.value or msg.channel != channel:
            return msg.status if msg else "missing"
        msg.attempts += 1
        try:
            ref = await hand(msg)
        except Exception as exc:  # the provider's refusal is recorded, never raised into the request
            msg.status = MessageStatus.FAILED.value
            msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(f"{channel}_delivery_failed", message_id=message_id, error=type(exc).__name__)
            return msg.status
        msg.provider_ref = ref[:80] or None
        msg.status = MessageStatus.SENT.value
        msg.sent_at = clock.now()
        log.info(f"{channel}_sent", message_id=message_id)
        return msg.status
