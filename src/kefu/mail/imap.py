"""Receiving e-mail from a mailbox over IMAP (``KEFU_IMAP_*``).

A round: connect (implicit TLS, STARTTLS or plain), log in, SELECT the folder, ``UID SEARCH UNSEEN``; for each
message: its size first (larger than ``KEFU_EMAIL_MAX_BYTES``: flagged ``\\Seen \\Flagged`` and left in the
mailbox for a person, never fetched), then ``BODY.PEEK[]``, stored in a transaction of its own with
``mailbox_ref`` = ``UIDVALIDITY:UID`` (the same message is never stored twice), then flagged ``\\Seen``. A message
that cannot be stored (e.g. the e-mail queue is not configured) stays unread and is tried again next round.

Between rounds the poller waits with IDLE (RFC 2177) when ``KEFU_IMAP_IDLE`` is on and the server advertises
it, for at most 29 minutes at a time (the RFC's limit), and otherwise polls every ``KEFU_IMAP_POLL_SECONDS``.
Errors (network, login, server) close the connection and it reconnects with a back-off of 1 s doubling to 5
minutes. Logs name UIDs, counts and error types, never addresses, subjects or bodies.

The standard library's ``imaplib`` does the protocol in a worker thread (``asyncio.to_thread``), one command at
a time. ``imaplib`` (Python 3.11) has no IDLE, so ``Mailbox.idle`` speaks it on the connection's socket itself:
it sends ``IDLE``, waits for the continuation, then waits on the socket with ``select`` in one-second slices
(so a stop request is seen quickly) until an ``EXISTS``/``RECENT`` notice or the time limit, sends ``DONE`` and
reads up to the tagged completion. ``imaplib``'s buffered reader is empty at that point (the previous command's
response was read to its end), so the two never share buffered bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import re
import select
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from kefu.core import runtime
from kefu.mail import service

log = structlog.get_logger(__name__)

IDLE_MAX_SECONDS = 29 * 60
BACKOFF_MAX_SECONDS = 300.0
_NEWS = re.compile(rb"^\* \d+ (EXISTS|RECENT)", re.IGNORECASE)
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)


class ImapProblem(Exception):
    """The server refused a command or the connection broke."""


@dataclass
class ImapConfig:
    host: str
    port: int
    security: str = "ssl"
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    poll_seconds: float = 60.0
    idle: bool = True
    timeout: float = 60.0
    max_bytes: int = 25 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> ImapConfig:
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        return cls(settings.imap_host or "", settings.imap_port, settings.imap_security, settings.imap_username or "",
                   password, settings.imap_folder, settings.imap_poll_seconds, settings.imap_idle,
                   max_bytes=settings.email_max_bytes)  # fmt: skip


@dataclass
class Status:
    """What a running poller is doing (for tests and health): ``idling`` is set while IDLE waits."""

    idling: threading.Event = field(default_factory=threading.Event)
    rounds: int = 0
    stored: int = 0
    errors: int = 0


@dataclass
class RoundResult:
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0
    failed: int = 0


def _ok(typ: str, data: Any, what: str) -> Any:
    if typ != "OK":
        raise ImapProblem(f"IMAP {what} refused")
    return data


class Mailbox:
    """One IMAP connection (blocking; used from one worker thread at a time)."""

    def __init__(self, cfg: ImapConfig) -> None:
        self.cfg = cfg
        self.conn: imaplib.IMAP4 | None = None
        self.uidvalidity = "0"
        self.can_idle = False
        self._buf = bytearray()

    def open(self) -> None:
        cfg = self.cfg
        context = ssl.create_default_context()
        conn: imaplib.IMAP4
        if cfg.security == "ssl":
            conn = imaplib.IMAP4_SSL(cfg.host, cfg.port, ssl_context=context, timeout=cfg.timeout)
        else:
            conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.security == "starttls":
                _ok(*conn.starttls(ssl_context=context), "STARTTLS")
        self.conn = conn
        _ok(*conn.login(cfg.username, cfg.password), "LOGIN")
        typ, data = conn.capability()
        caps = data[0].upper().split() if typ == "OK" and data and data[0] else []
        self.can_idle = b"IDLE" in caps
        folder = (
            cfg.folder if cfg.folder.isalnum() else '"' + cfg.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        )
        _ok(*conn.select(folder), "SELECT")
        _typ, validity = conn.response("UIDVALIDITY")
        self.uidvalidity = validity[0].decode() if validity and validity[0] else "0"

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.logout()
        with contextlib.suppress(Exception):
            conn.shutdown()

    def _c(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise ImapProblem("not connected")
        return self.conn

    def unseen(self) -> list[int]:
        data = _ok(*self._c().uid("SEARCH", "UNSEEN"), "SEARCH")
        return [int(x) for x in (data[0] or b"").split() if x.isdigit()]

    def size(self, uid: int) -> int:
        data = _ok(*self._c().uid("FETCH", str(uid), "(RFC822.SIZE)"), "FETCH size")
        for item in data:
            head = item[0] if isinstance(item, tuple) else item
            found = _SIZE.search(head or b"")
            if found:
                return int(found.group(1))
        return 0

    def fetch(self, uid: int) -> bytes | None:
        data = _ok(*self._c().uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None  # expunged meanwhile

    def flag(self, uid: int, flags: str = "(\\Seen)") -> None:
        _ok(*self._c().uid("STORE", str(uid), "+FLAGS", flags), "STORE")

    # ---- IDLE on the raw socket ------------------------------------------------------------------

    def _line(self, deadline: float) -> bytes | None:
        """The next line from the server, or None when ``deadline`` passes first."""
        sock = self._c().socket()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not pending:
                if remaining <= 0:
                    return None
                readable, _w, _x = select.select([sock], [], [], remaining)
                if not readable:
                    return None
            chunk = sock.recv(65536)
            if not chunk:
                raise ImapProblem("the server closed the connection")
            self._buf.extend(chunk)
        line, _nl, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        return line.rstrip(b"\r")

    def _must_line(self) -> bytes:
        line = self._line(time.monotonic() + self.cfg.timeout)
        if line is None:
            raise ImapProblem("the server did not answer in time")
        return line

    def idle(self, seconds: float, halt: threading.Event, status: Status | None = None) -> bool:
        """Wait (at most ``seconds``) for the server to announce new mail; True when it did."""
        conn = self._c()
        tag = conn._new_tag()  # type: ignore[attr-defined]
        conn.tagged_commands.pop(tag, None)  # type: ignore[attr-defined]
        self._buf.clear()
        conn.send(tag + b" IDLE\r\n")
        while True:
            first = self._must_line()
            if first.startswith(b"+"):
                break
            if first.startswith(tag + b" "):
                raise ImapProblem("IDLE refused")
        if status is not None:
            status.idling.set()
        news = False
        end = time.monotonic() + min(seconds, IDLE_MAX_SECONDS)
        try:
            while not halt.is_set() and time.monotonic() < end:
                line = self._line(min(end, time.monotonic() + 1.0))
                if line is None:
                    continue
                if line.upper().startswith(b"* BYE"):
                    raise ImapProblem("the server ended the session")
                if _NEWS.match(line):
                    news = True
                    break
        finally:
            if status is not None:
                status.idling.clear()
        conn.send(b"DONE\r\n")
        while True:
            line = self._must_line()
            if _NEWS.match(line):
                news = True
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                    raise ImapProblem("IDLE ended with an error")
                break
        self._buf.clear()
        return news


async def fetch_round(rt: runtime.Runtime, box: Mailbox) -> RoundResult:
    """Store every unread message of the open mailbox (each in its own transaction)."""
    result = RoundResult()
    for uid in await asyncio.to_thread(box.unseen):
        ref = f"{box.uidvalidity}:{uid}"
        size = await asyncio.to_thread(box.size, uid)
        if size > box.cfg.max_bytes:
            log.warning("email_too_large", uid=uid, size=size, limit=box.cfg.max_bytes)
            await asyncio.to_thread(box.flag, uid, "(\\Seen \\Flagged)")
            result.too_large += 1
            continue
        raw = await asyncio.to_thread(box.fetch, uid)
        if raw is None:
            continue
        try:
            done = await service.ingest_one(rt, raw, source="imap", mailbox_ref=ref)
        except Exception as exc:  # stays unread: tried again next round
            log.warning("email_store_failed", uid=uid, error=type(exc).__name__)
            result.failed += 1
            continue
        if done.outcome in ("duplicate", "ignored"):
            result.duplicates += 1
        else:
            result.stored += 1
        await asyncio.to_thread(box.flag, uid)
    return result


async def fetch_once(rt: runtime.Runtime, cfg: ImapConfig | None = None) -> RoundResult:
    """Connect, store what is unread, disconnect (``kefu mail fetch``)."""
    box = Mailbox(cfg or ImapConfig.from_settings(rt.settings))
    try:
        await asyncio.to_thread(box.open)
        return await fetch_round(rt, box)
    finally:
        await asyncio.to_thread(box.close)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run(
    rt: runtime.Runtime, stop: asyncio.Event, *, cfg: ImapConfig | None = None, status: Status | None = None
) -> None:
    """Receive until ``stop`` is set: rounds, IDLE or polling in between, reconnecting after errors."""
    cfg = cfg or ImapConfig.from_settings(rt.settings)
    status = status or Status()
    halt = threading.Event()
    watcher = asyncio.create_task(stop.wait())
    watcher.add_done_callback(lambda _t: halt.set())
    backoff = 1.0
    box = Mailbox(cfg)
    try:
        while not stop.is_set():
            try:
                if box.conn is None:
                    await asyncio.to_thread(box.open)
                    log.info("imap_connected", idle=box.can_idle and cfg.idle)
                result = await fetch_round(rt, box)
                status.rounds += 1
                status.stored += result.stored
                backoff = 1.0
                if cfg.idle and box.can_idle:
                    await asyncio.to_thread(box.idle, IDLE_MAX_SECONDS, halt, status)
                else:
                    await _pause(stop, cfg.poll_seconds)
            except (ImapProblem, imaplib.IMAP4.error, OSError, EOFError, ValueError) as exc:
                status.errors += 1
                log.warning("imap_error", error=type(exc).__name__, retry_in=backoff)
                await asyncio.to_thread(box.close)
                await _pause(stop, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
    finally:
        watcher.cancel()
        await asyncio.to_thread(box.close)
