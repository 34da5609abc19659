"""The HTTP gateway adapter shared by the SMS and WeChat ports.

A bank rarely talks to a carrier or to WeChat directly: an SMS platform (短信平台) or a WeChat relay sits in
between and exposes one JSON endpoint. ``HttpMessageGateway`` posts each outbox message to it after commit:

    POST <url>
    Authorization: Bearer <token>            (when a token is configured)
    Idempotency-Key: kefu-<channel>-<outbox id>
    {"to": "<phone number or openid>", "text": "<body>", "client_ref": "kefu-<channel>-<outbox id>"}

It expects a 2xx answer, optionally ``{"id": "<provider reference>"}``. Any other answer (or a network
error) raises, and ``channels.outbox`` marks the row ``failed`` with the reason; the recipient and the text
are never logged. The idempotency key is our outbox id, so a gateway can drop a repeated hand-over.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from kefu.channels import outbox
from kefu.channels.models import OutboundMessage


class MessageGateway(Protocol):
    async def deliver(self, *, recipient: str, body: str) -> str:
        """Hand one message to the provider; return its reference, raise on refusal."""
        ...


def idempotency_key(msg: OutboundMessage) -> str:
    return f"kefu-{msg.channel}-{msg.id}"


class HttpMessageGateway:
    """POSTs one message as JSON (see the module docstring); ``channel`` names it in errors."""

    channel = "message"

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    async def deliver(self, *, recipient: str, body: str, key: str | None = None) -> str:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload: dict[str, Any] = {"to": recipient, "text": body}
        if key:
            headers["Idempotency-Key"] = key
            payload["client_ref"] = key
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            r = await client.post(self.url, json=payload, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"{self.channel} gateway answered HTTP {r.status_code}")
        try:
            answer = r.json()
            ref = answer.get("id") if isinstance(answer, dict) else None
        except ValueError:
            ref = None
        return str(ref or "")[:80]

    async def deliver_message(self, msg: OutboundMessage) -> str:
        return await self.deliver(recipient=msg.recipient, body=msg.body, key=idempotency_key(msg))


def hand_for(gateway: MessageGateway) -> outbox.Hand:
    """The outbox hand-over for ``gateway``: with the idempotency key when the gateway takes one."""
    keyed = getattr(gateway, "deliver_message", None)

    async def hand(msg: OutboundMessage) -> str:
        if keyed is not None:
            return str(await keyed(msg))
        return await gateway.deliver(recipient=msg.recipient, body=msg.body)

    return hand
