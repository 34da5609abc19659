"""The SMS port (convention 2): messages are written to the ``outbound_messages`` outbox inside the
business transaction and handed to a gateway only after commit, so a rollback sends nothing.

``OutboxSms`` is the default port. Without ``KEFU_SMS_GATEWAY_URL`` it stops at the outbox (status
``pending``), where an operator's relay or a test reads it. With the URL set, ``HttpSmsGateway``
posts each message after commit and marks it ``sent`` or ``failed``. Logs name message ids only:
recipients and bodies (which may hold a one-time code) stay encrypted in the table.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import outbox
from kefu.channels.models import MessageStatus, OutboundMessage
from kefu.core import clock, runtime


class SmsGateway(Protocol):
    async def deliver(self, *, recipient: str, body: str) -> str:
        """Hand one message to the carrier; return the provider's reference, raise on refusal."""
        ...


class SmsPort(Protocol):
    async def send(
        self, session: AsyncSession, *, recipient: str, body: str, kind: str, customer_id: int | None = None
    ) -> OutboundMessage:
        """Queue one SMS in the caller's transaction."""
        ...


class HttpSmsGateway:
    """POSTs ``{"to": …, "text": …}`` as JSON with an optional bearer token; expects 2xx and ``{"id": …}``."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    async def deliver(self, *, recipient: str, body: str) -> str:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            r = await client.post(self.url, json={"to": recipient, "text": body}, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"SMS gateway answered HTTP {r.status_code}")
        try:
            ref = r.json().get("id")
        except ValueError:
            ref = None
        return str(ref or "")[:80]


class OutboxSms:
    """Default SMS port: outbox row now, delivery through ``gateway`` (if any) after commit."""

    def __init__(self, gateway: SmsGateway | None = None) -> None:
        self.gateway = gateway

    async def send(
        self, session: AsyncSession, *, recipient: str, body: str, kind: str, customer_id: int | None = None
    ) -> OutboundMessage:
        msg = OutboundMessage(
            channel="sms",
            kind=kind,
            recipient=recipient,
            body=body,
            customer_id=customer_id,
            status=MessageStatus.PENDING.value,
            attempts=0,
            created_at=clock.now(),
        )
        return await outbox.queue(session, msg, None if self.gateway is None else _hand(self.gateway))


def _hand(gateway: SmsGateway) -> outbox.Hand:
    async def hand(msg: OutboundMessage) -> str:
        return await gateway.deliver(recipient=msg.recipient, body=msg.body)

    return hand


async def deliver(message_id: int, gateway: SmsGateway) -> str:
    """Send one pending message through ``gateway`` in its own transaction; returns the new status."""
    return await outbox.deliver(message_id, "sms", _hand(gateway))


_override: SmsPort | None = None


def set_port(port: SmsPort | None) -> None:
    """Replace the port (an integration's own adapter, or a test); ``None`` restores the default."""
    global _override
    _override = port


def get_port() -> SmsPort:
    if _override is not None:
        return _override
    settings = runtime.get().settings
    if settings.sms_gateway_url:
        token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        return OutboxSms(HttpSmsGateway(settings.sms_gateway_url, token))
    return OutboxSms()
