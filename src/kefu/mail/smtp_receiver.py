"""The built-in SMTP receiver (aiosmtpd): the bank's mail gateway hands inbound mail for the service address
to Kefu directly (``KEFU_SMTP_RECEIVER_PORT``, ``KEFU_SMTP_RECEIVER_HOST``, default 127.0.0.1).

Only mail for ``KEFU_EMAIL_ADDRESS`` is accepted (any other recipient: 550 at RCPT); messages larger than
``KEFU_EMAIL_MAX_BYTES`` are refused by aiosmtpd (552). Each accepted message is stored in a transaction of
its own before the 250 answer, so a message the sender saw accepted is never lost. When it cannot be stored
(e.g. the e-mail queue is not configured, the database is down) the answer is 451: the gateway keeps the
message and retries. There is no authentication or TLS: listen on a loopback or internal address that only
the gateway can reach. The server runs on the caller's event loop (not aiosmtpd's ``Controller`` thread), so
it shares the process's database engine. Logs name ids only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP

from kefu.core import runtime
from kefu.mail import service

log = structlog.get_logger(__name__)


class Handler:
    """aiosmtpd handler: RCPT check, then store the message."""

    def __init__(self, rt: runtime.Runtime) -> None:
        self.rt = rt

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.strip().lower() != self.rt.settings.email_address.strip().lower():
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > self.rt.settings.email_max_bytes:
            return "552 5.3.4 Message too big"
        runtime.use_in_task(self.rt)  # this connection's task only
        try:
            done = await service.ingest_one(self.rt, raw, source="smtp")
        except Exception as exc:  # the sender keeps the message and retries
            log.warning("smtp_receive_failed", error=type(exc).__name__)
            return "451 4.3.0 Message not stored; try again later"
        return f"250 2.0.0 Message accepted ({done.outcome})"


async def start(rt: runtime.Runtime, *, host: str | None = None, port: int | None = None) -> asyncio.Server:
    """Listen on the configured (or given) address; close the returned server to stop."""
    settings = rt.settings
    handler = Handler(rt)
    listen_port = port if port is not None else settings.smtp_receiver_port
    if listen_port is None:
        raise ValueError("KEFU_SMTP_RECEIVER_PORT is not set")
    domain = settings.email_address.rpartition("@")[2] or "kefu.invalid"

    def factory() -> SMTP:
        return SMTP(handler, data_size_limit=settings.email_max_bytes, enable_SMTPUTF8=True, hostname=domain,
                    ident="Kefu ESMTP", timeout=120)  # fmt: skip

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host=host or settings.smtp_receiver_host, port=listen_port)
    log.info("smtp_receiver_listening", port=listen_port)
    return server
