"""Run the configured e-mail receivers until told to stop (``kefu serve`` starts this in its lifespan):
the IMAP poller when ``KEFU_IMAP_HOST`` is set, the SMTP receiver when ``KEFU_SMTP_RECEIVER_PORT`` is set,
both when both are; nothing otherwise."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from kefu.core import runtime
from kefu.mail import imap, smtp_receiver

log = structlog.get_logger(__name__)


def configured(settings: object) -> bool:
    return bool(getattr(settings, "imap_host", None) or getattr(settings, "smtp_receiver_port", None))


async def run_receivers(rt: runtime.Runtime, stop: asyncio.Event) -> None:
    settings = rt.settings
    if not configured(settings):
        return
    poller: asyncio.Task[None] | None = None
    server: asyncio.Server | None = None
    try:
        if settings.imap_host:
            poller = asyncio.create_task(imap.run(rt, stop), name="kefu-mail-imap")
        if settings.smtp_receiver_port:
            server = await smtp_receiver.start(rt)
        await stop.wait()
    finally:
        if server is not None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=5)
        if poller is not None:
            try:
                await asyncio.wait_for(poller, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                poller.cancel()
            except Exception:
                log.exception("imap_poller_failed")
