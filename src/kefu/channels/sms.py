"""The SMS port (convention 2): messages are written to the ``outbound_messages`` outbox inside the
business transaction and handed to a gateway only after commit, so a rollback sends nothing.

``OutboxSms`` is the default port. Without ``KEFU_SMS_GATEWAY_URL`` it stops at the outbox (status
``pending``), where an operator's relay or a test reads it. With the URL set, ``HttpSmsGateway``
posts each message after commit (JSON, bearer token, our outbox id as idempotency key; see
``channels.http_gateway``) and marks it ``sent`` or ``failed``. Logs name message ids only: recipients and
bodies (which may hold a one-time code) stay encrypted in the table.

Agents' replies to customers (``channels.threads``) are limited to ``SMS_MAX_CHARS`` characters, signature
included; the gateway sends a longer text as a concatenated SMS of ``segments(text)`` parts.
"""

from __future__ import annotations

import math
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import outbox
from kefu.channels.http_gateway import HttpMessageGateway, hand_for
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


#: the channel's sender interface (every channel has one: ``wechat.MessageSender`` too)
MessageSender = SmsPort

#: the longest SMS an agent may send (signature included); carriers concatenate up to ~10 parts
SMS_MAX_CHARS = 500
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def segments(text: str) -> int:
    """SMS parts for ``text``: GSM 7-bit 160 (153 per part when split), otherwise UCS-2 70 (67)."""
    single, part = (160, 153) if all(ch in _GSM7 for ch in text) else (70, 67)
    n = len(text)
    return 1 if n <= single else math.ceil(n / part)


class HttpSmsGateway(HttpMessageGateway):
    """POSTs ``{"to": …, "text": …, "client_ref": …}`` as JSON with an optional bearer token; expects 2xx and
    ``{"id": …}`` (see ``channels.http_gateway``)."""

    channel = "SMS"


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
    return hand_for(gateway)


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
