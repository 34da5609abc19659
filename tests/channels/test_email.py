"""The e-mail port: outbox row in the transaction, delivery through a real SMTP server (aiosmtpd, started
by the test) after commit, nothing on rollback, refusals recorded."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kefu.channels import email as email_channel
from tests.factories import raw_rows


class Inbox:
    """An aiosmtpd handler keeping every message; addresses ending in @refuse.invalid are refused."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.endswith("@refuse.invalid"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kefu", b"relay-pw")
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _gateway(port: int, **kw: Any) -> email_channel.SmtpGateway:
    return email_channel.SmtpGateway("127.0.0.1", port, security="none", sender="客服中心 <service@bank.invalid>", **kw)


async def test_default_port_without_smtp_leaves_e_mail_pending(rt):
    async with rt.db.transaction() as s:
        msg = await email_channel.get_port().send(s, recipient="kehu@example.com", subject="投诉 TS1",
                                                  body="尊敬的客户：您好", kind="notice")  # fmt: skip
    (row,) = await raw_rows(rt, "SELECT id, status, body, recipient FROM outbound_messages")
    assert (row.id, row.status) == (msg.id, "pending")
    assert "尊敬" not in row.body
    assert "kehu@" not in row.recipient


async def test_smtp_delivery_after_commit_with_login_and_nothing_on_rollback(rt, smtp_server):
    inbox, port = smtp_server
    outbox = email_channel.OutboxEmail(_gateway(port, username="kefu", password="relay-pw"))

    async def failing_unit_of_work() -> None:
        async with rt.db.transaction() as s:
            await outbox.send(s, recipient="kehu@example.com", subject="A", body="A", kind="notice")
            raise RuntimeError("business rule failed")

    with pytest.raises(RuntimeError):
        await failing_unit_of_work()
    assert inbox.messages == []
    assert await raw_rows(rt, "SELECT id FROM outbound_messages") == []

    async with rt.db.transaction() as s:
        await outbox.send(s, recipient="kehu@example.com", subject="您的投诉 TS20261123-000001",
                          body="尊敬的客户：您的投诉已受理。", kind="complaint_notice")  # fmt: skip
        assert inbox.messages == [], "nothing leaves before commit"
    (msg,) = inbox.messages
    assert msg["To"] == "kehu@example.com"
    assert msg["Subject"] == "您的投诉 TS20261123-000001"
    assert "客服中心" in msg["From"]
    assert msg.get_content().strip() == "尊敬的客户：您的投诉已受理。"
    (row,) = await raw_rows(rt, "SELECT status, provider_ref, attempts, sent_at FROM outbound_messages")
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.provider_ref == msg["Message-ID"]
    assert row.sent_at is not None


async def test_refusals_and_bad_logins_are_recorded_not_raised(rt, smtp_server):
    inbox, port = smtp_server
    async with rt.db.transaction() as s:
        await email_channel.OutboxEmail(_gateway(port)).send(
            s, recipient="nobody@refuse.invalid", subject="A", body="A", kind="notice"
        )
        await email_channel.OutboxEmail(_gateway(port, username="kefu", password="wrong")).send(
            s, recipient="kehu@example.com", subject="B", body="B", kind="notice"
        )
    rows = await raw_rows(rt, "SELECT status, last_error FROM outbound_messages ORDER BY id")
    assert [r.status for r in rows] == ["failed", "failed"]
    assert "SMTPRecipientsRefused" in rows[0].last_error
    assert "SMTPAuthenticationError" in rows[1].last_error
    assert inbox.messages == []


async def test_settings_choose_the_smtp_gateway(rt, smtp_server):
    inbox, port = smtp_server
    rt.settings.smtp_host, rt.settings.smtp_port, rt.settings.smtp_security = "127.0.0.1", port, "none"
    try:
        async with rt.db.transaction() as s:
            await email_channel.get_port().send(s, recipient="kehu@example.com", subject="S", body="S", kind="notice")
    finally:
        rt.settings.smtp_host = None
    assert [m["Subject"] for m in inbox.messages] == ["S"]
