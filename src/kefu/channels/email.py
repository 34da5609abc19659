"""The e-mail port (convention 2): like ``channels.sms``, a message is written to the
``outbound_messages`` outbox (channel ``email``) inside the business transaction, so a rollback sends
nothing.

Delivery: there is no SMTP relay in this release. ``OutboxEmail`` stops at the outbox (status ``pending``),
where an operator's relay or a test reads it; ``KEFU_SMTP_HOST`` is reserved for the SMTP delivery that
issue 7 adds. The subject is stored in clear and must hold no personal data; recipient and body are
encrypted like every outbox message.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.models import MessageStatus, OutboundMessage
from kefu.core import clock


class EmailPort(Protocol):
    async def send(
        self,
        session: AsyncSession,
        *,
        recipient: str,
        subject: str,
        body: str,
        kind: str,
        customer_id: int | None = None,
    ) -> OutboundMessage:
        """Queue one e-mail in the caller's transaction."""
        ...


class OutboxEmail:
    """Default e-mail port: an outbox row, left ``pending`` for a relay (no SMTP here; issue 7)."""

    async def send(
        self,
        session: AsyncSession,
        *,
        recipient: str,
        subject: str,
        body: str,
        kind: str,
        customer_id: int | None = None,
    ) -> OutboundMessage:
        msg = OutboundMessage(
            channel="email",
            kind=kind,
            recipient=recipient.strip(),
            subject=subject[:200],
            body=body,
            customer_id=customer_id,
            status=MessageStatus.PENDING.value,
            attempts=0,
            created_at=clock.now(),
        )
        session.add(msg)
        await session.flush()
        return msg


_override: EmailPort | None = None


def set_port(port: EmailPort | None) -> None:
    """Replace the port (an integration's own adapter, or a test); ``None`` restores the default."""
    global _override
    _override = port


def get_port() -> EmailPort:
    if _override is not None:
        return _override
    return OutboxEmail()
