"""The WeChat official-account port (微信公众号客服消息): the sender, the server's signature check and a safe
parser of the XML WeChat posts.

Sending works like SMS (convention 2): ``OutboxWechat`` writes an ``outbound_messages`` row (channel
``wechat``, the openid as recipient, encrypted) in the business transaction; with
``KEFU_WECHAT_GATEWAY_URL`` set, ``HttpWechatGateway`` posts it after commit to the bank's WeChat relay
(which holds the account's access token and calls WeChat's customer-service message API). The relay
contract is ``channels.http_gateway``'s: JSON, bearer token, our outbox id as idempotency key.

Receiving: WeChat signs each call to the server URL with ``sha1(sort([token, timestamp, nonce]))`` in the
query string; ``check_signature`` verifies it against ``KEFU_WECHAT_TOKEN`` in constant time. The body is
XML. ``parse_message`` uses the standard library's expat directly, with every DTD refused (so no entity can
be declared: no billion-laughs, no external entities) and a size limit; ``defusedxml`` is not among the
project's dependencies and the message format is flat, so a small expat handler is all it takes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Protocol
from xml.parsers import expat

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import outbox
from kefu.channels.http_gateway import HttpMessageGateway, hand_for
from kefu.channels.models import MessageStatus, OutboundMessage
from kefu.core import clock, runtime

#: the longest text an agent may send in one WeChat message (WeChat's own limit is about 2,048 bytes)
WECHAT_MAX_CHARS = 600
#: WeChat lets an account answer a follower only within 48 hours of the follower's last message
REPLY_WINDOW_HOURS = 48
#: the largest XML body accepted (a text message is well under 4 KB)
MAX_XML_BYTES = 64 * 1024


class WechatGateway(Protocol):
    async def deliver(self, *, recipient: str, body: str) -> str:
        """Hand one message (recipient: the follower's openid) to WeChat; return its reference."""
        ...


class MessageSender(Protocol):
    async def send(
        self, session: AsyncSession, *, recipient: str, body: str, kind: str, customer_id: int | None = None
    ) -> OutboundMessage:
        """Queue one WeChat message in the caller's transaction."""
        ...


class HttpWechatGateway(HttpMessageGateway):
    """POSTs ``{"to": openid, "text": …, "client_ref": …}`` to the WeChat relay (``channels.http_gateway``)."""

    channel = "WeChat"


class OutboxWechat:
    """Default WeChat sender: an outbox row now, delivery through ``gateway`` (if any) after commit."""

    def __init__(self, gateway: WechatGateway | None = None) -> None:
        self.gateway = gateway

    async def send(
        self, session: AsyncSession, *, recipient: str, body: str, kind: str, customer_id: int | None = None
    ) -> OutboundMessage:
        msg = OutboundMessage(
            channel="wechat", kind=kind, recipient=recipient, body=body, customer_id=customer_id,
            status=MessageStatus.PENDING.value, attempts=0, created_at=clock.now(),
        )  # fmt: skip
        return await outbox.queue(session, msg, None if self.gateway is None else hand_for(self.gateway))


async def deliver(message_id: int, gateway: WechatGateway) -> str:
    """Send one pending WeChat message through ``gateway`` in its own transaction; returns the new status."""
    return await outbox.deliver(message_id, "wechat", hand_for(gateway))


_override: MessageSender | None = None


def set_port(port: MessageSender | None) -> None:
    """Replace the sender (an integration's own adapter, or a test); ``None`` restores the default."""
    global _override
    _override = port


def get_port() -> MessageSender:
    if _override is not None:
        return _override
    settings = runtime.get().settings
    if settings.wechat_gateway_url:
        token = settings.wechat_gateway_token.get_secret_value() if settings.wechat_gateway_token else None
        return OutboxWechat(HttpWechatGateway(settings.wechat_gateway_url, token))
    return OutboxWechat()


# ---- receiving -------------------------------------------------------------------------------------


def signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's signature: the SHA-1 hex of the three values sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode(), usedforsecurity=False).hexdigest()


def check_signature(token: str, *, sig: str, timestamp: str, nonce: str) -> bool:
    return hmac.compare_digest(signature(token, timestamp, nonce), sig.strip().lower())


class XmlRejected(ValueError):
    """The body is not a WeChat message we can read (not XML, a DTD, too large, too deep)."""


def parse_message(raw: bytes) -> dict[str, str]:
    """The child elements of the ``<xml>`` root as a dict of their text (CDATA included)."""
    if len(raw) > MAX_XML_BYTES:
        raise XmlRejected(f"The message is larger than {MAX_XML_BYTES // 1024} KB.")
    parser = expat.ParserCreate(encoding="utf-8")
    fields: dict[str, str] = {}
    state: dict[str, Any] = {"depth": 0, "root": None, "field": None}

    def refuse(*_args: Any) -> int:
        raise XmlRejected("Document type declarations and entities are not accepted.")

    def start(name: str, _attrs: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] == 1:
            state["root"] = name
        elif state["depth"] == 2:
            if len(fields) >= 50:
                raise XmlRejected("The message has too many elements.")
            state["field"] = name
            fields.setdefault(name, "")
        elif state["depth"] > 8:
            raise XmlRejected("The message is nested too deeply.")

    def end(_name: str) -> None:
        if state["depth"] == 2:
            state["field"] = None
        state["depth"] -= 1

    def text(data: str) -> None:
        if state["depth"] == 2 and state["field"] is not None:
            fields[state["field"]] += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise XmlRejected(f"The body is not well-formed XML ({expat.ErrorString(exc.code)}).") from exc
    if state["root"] != "xml":
        raise XmlRejected("A WeChat message has the root element <xml>.")
    return {k: v.strip() for k, v in fields.items()}
