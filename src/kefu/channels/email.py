"""The e-mail port (convention 2): like ``channels.sms``, a message is written to the
``outbound_messages`` outbox (channel ``email``) inside the business transaction, so a rollback sends
nothing.

Delivery: without ``KEFU_SMTP_HOST`` ``OutboxEmail`` stops at the outbox (status ``pending``), where an
operator's relay or a test reads it. With it, ``SmtpGateway`` hands each message to that SMTP server after
commit (STARTTLS, implicit TLS or plain on a local relay; optional login) and marks it ``sent`` with the
Message-ID, or ``failed`` with the server's refusal. The standard library's ``smtplib`` runs in a worker
thread, so the event loop never waits on the network. The subject is stored in clear and must hold no
personal data; recipient and body are encrypted like every outbox message; logs name message ids only.

A sender may pass extra ``headers`` (the e-mail channel's replies: ``From`` = the service address, ``Subject``
= "Re: …" kept out of the clear outbox column, our ``Message-ID``, ``In-Reply-To``, ``References``). They
travel with the after-commit delivery only (they are not stored in the outbox row).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import outbox
from kefu.channels.models import MessageStatus, OutboundMessage
from kefu.core import clock, runtime

#: headers a sender may set on top of the defaults (anything else is ignored)
EXTRA_HEADERS = ("From", "Subject", "Message-ID", "In-Reply-To", "References")


class EmailGateway(Protocol):
    async def deliver(
        self, *, recipient: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> str:
        """Hand one message to the mail server; return its Message-ID, raise on refusal."""
        ...


class SmtpGateway:
    """Sends through an SMTP server (``KEFU_SMTP_*``): one connection per message, plain text in UTF-8."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        sender: str = "客服中心 <no-reply@kefu.invalid>",
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.sender, self.timeout = username, password, sender, timeout

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpGateway:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, security=settings.smtp_security,
                   username=settings.smtp_username, password=password, sender=settings.smtp_from,
                   timeout=settings.smtp_timeout_seconds)  # fmt: skip

    def message(
        self, *, recipient: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> EmailMessage:
        extra = {k: v for k, v in (headers or {}).items() if k in EXTRA_HEADERS and v}
        msg = EmailMessage()
        msg["From"] = extra.get("From", self.sender)
        msg["To"] = recipient
        msg["Subject"] = extra.get("Subject", subject)
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(str(msg["From"]))[1].rpartition("@")[2] or "kefu.invalid"
        msg["Message-ID"] = extra.get("Message-ID") or make_msgid(domain=domain)
        for name in ("In-Reply-To", "References"):
            if name in extra:
                msg[name] = extra[name]
        msg.set_content(body)  # UTF-8, transfer-encoded as needed
        return msg

    def _send(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)

    async def deliver(
        self, *, recipient: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> str:
        msg = self.message(recipient=recipient, subject=subject, body=body, headers=headers)
        await asyncio.to_thread(self._send, msg)
        return str(msg["Message-ID"])


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
        headers: Mapping[str, str] | None = None,
    ) -> OutboundMessage:
        """Queue one e-mail in the caller's transaction."""
        ...


class OutboxEmail:
    """Default e-mail port: an outbox row now, delivery through ``gateway`` (if any) after commit."""

    def __init__(self, gateway: EmailGateway | None = None) -> None:
        self.gateway = gateway

    async def send(
        self,
        session: AsyncSession,
        *,
        recipient: str,
        subject: str,
        body: str,
        kind: str,
        customer_id: int | None = None,
        headers: Mapping[str, str] | None = None,
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
        hand = None if self.gateway is None else _hand(self.gateway, headers)
        return await outbox.queue(session, msg, hand)


def _hand(gateway: EmailGateway, headers: Mapping[str, str] | None = None) -> outbox.Hand:
    extra = dict(headers) if headers else None

    async def hand(msg: OutboundMessage) -> str:
        if extra is None:
            return await gateway.deliver(recipient=msg.recipient, subject=msg.subject or "", body=msg.body)
        return await gateway.deliver(recipient=msg.recipient, subject=msg.subject or "", body=msg.body, headers=extra)

    return hand


async def deliver(message_id: int, gateway: EmailGateway, headers: Mapping[str, str] | None = None) -> str:
    """Send one pending e-mail through ``gateway`` in its own transaction; returns the new status."""
    return await outbox.deliver(message_id, "email", _hand(gateway, headers))


_override: EmailPort | None = None


def set_port(port: EmailPort | None) -> None:
    """Replace the port (an integration's own adapter, or a test); ``None`` restores the default."""
    global _override
    _override = port


def get_port() -> EmailPort:
    if _override is not None:
        return _override
    settings = runtime.get().settings
    if settings.smtp_host:
        return OutboxEmail(SmtpGateway.from_settings(settings))
    return OutboxEmail()
