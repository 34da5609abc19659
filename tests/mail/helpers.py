"""Helpers for the e-mail tests: a small e-mail team, messages built with the standard library, and real
mail servers started by the tests (aiosmtpd for SMTP, Debian's dovecot for IMAP)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from kefu.contacts import demo as contacts_demo
from kefu.core import runtime
from kefu.mail import service
from kefu.routing import config_service, digital
from tests.factories import auth_headers, make_staff, make_team, principal_of

SERVICE = "kefu@bank.invalid"
CUSTOMER = "zhang.san@example.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@dataclass
class Team:
    agents: list[Any]
    headers: list[dict[str, str]]


async def make_email_team(rt: runtime.Runtime, client: AsyncClient, *, agents: int = 2) -> Team:
    rt.settings.email_address = SERVICE
    team = await make_team(rt)
    members = [await make_staff(rt, roles=["agent"], team_id=team) for _ in range(agents)]
    async with rt.db.transaction() as s:
        await config_service.create_queue(s, actor=None, code="email", name="邮件", skills=["ebanking"])
        for m in members:
            await config_service.set_skills(s, actor=None, staff_id=m.id, skills={"ebanking": 5})
        await contacts_demo.seed_categories(s)
    headers = [await auth_headers(client, m) for m in members]
    return Team(members, headers)


async def ready(client: AsyncClient, headers: dict[str, str]) -> None:
    r = await client.post("/api/v1/desk/presence", json={"presence": "ready"}, headers=headers)
    assert r.status_code == 200, r.text


async def accept(rt: runtime.Runtime, agent: Any, contact_id: int) -> None:
    async with rt.db.transaction() as s:
        await digital.accept(s, rt=rt, actor=principal_of(agent), contact_id=contact_id)


def mail(
    body: str = "您好，我的信用卡账单有疑问，请帮忙查询。",
    *,
    subject: str = "账单疑问",
    sender: str = CUSTOMER,
    to: str = SERVICE,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> tuple[bytes, str]:
    """A message (raw bytes) and its Message-ID (without <>)."""
    import datetime as dt

    msg = EmailMessage()
    msg["From"] = f"张三 <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    mid = message_id or make_msgid(domain="example.com")[1:-1]
    msg["Message-ID"] = f"<{mid}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=SMTP), mid  # CRLF line ends, as on the wire


async def ingest(rt: runtime.Runtime, raw: bytes, **kw: Any) -> service.Ingested:
    kw.setdefault("source", "import")
    return await service.ingest_one(rt, raw, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Wait until ``await check()`` is truthy (real servers deliver in their own time)."""
    end = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > end:
            return value
        await asyncio.sleep(0.1)


# ---- dovecot ----------------------------------------------------------------------------------------

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
IMAP_USER, IMAP_PASSWORD = "kefu", "imap-test-pw"


@dataclass
class Dovecot:
    port: int
    root: Path
    user: str = IMAP_USER
    password: str = IMAP_PASSWORD

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        import imaplib

        with imaplib.IMAP4("127.0.0.1", self.port, timeout=10) as conn:
            conn.login(self.user, self.password)
            typ, _ = conn.append(folder, None, None, raw)
            assert typ == "OK"

    def flags(self) -> list[str]:
        import imaplib

        with imaplib.IMAP4("127.0.0.1", self.port, timeout=10) as conn:
            conn.login(self.user, self.password)
            conn.select("INBOX")
            typ, data = conn.fetch("1:*", "(FLAGS)")
            return [d.decode() for d in data if isinstance(d, bytes)]


def _dovecot_conf(root: Path, port: int) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
passdb {{
  driver = static
  args = password={IMAP_PASSWORD}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A dovecot of the test's own (config in a temporary folder, plain IMAP on a free port)."""
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd); the IMAP tests need a real server")
    if os.geteuid() != 0:
        pytest.skip("dovecot is started as root by the tests (it drops to its own users)")
    root = Path(tempfile.mkdtemp(prefix="kdv", dir="/tmp"))  # short: dovecot's socket paths have a length limit
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    os.chmod(root, 0o755)  # noqa: S103  (dovecot's own users reach the mail folder)
    os.chown(root / "home", 65534, 65534)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_dovecot_conf(root, port))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        end = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {out}\n{log}")
            time.sleep(0.1)
        yield Dovecot(port, root)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)
