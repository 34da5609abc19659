"""Receivers against real servers: IMAP (dovecot started by the test: a round, flags, dedupe, IDLE) and the
built-in SMTP receiver (our aiosmtpd server on the test's loop, fed by smtplib)."""

from __future__ import annotations

import asyncio
import smtplib
from typing import Any

import pytest

from kefu.mail import imap, receivers, smtp_receiver
from tests.factories import raw_rows
from tests.mail.helpers import PNG, SERVICE, Dovecot, eventually, free_port, mail, make_email_team, ready


def _cfg(dv: Dovecot, **kw: Any) -> imap.ImapConfig:
    return imap.ImapConfig("127.0.0.1", dv.port, "none", dv.user, dv.password, "INBOX", timeout=10, **kw)


def _settings_for(rt: Any, dv: Dovecot) -> None:
    s = rt.settings
    s.imap_host, s.imap_port, s.imap_security, s.imap_username = "127.0.0.1", dv.port, "none", dv.user
    from pydantic import SecretStr

    s.imap_password = SecretStr(dv.password)


async def _count(rt: Any, table: str) -> int:
    return len(await raw_rows(rt, f"SELECT id FROM {table}"))  # noqa: S608  (test table names)


async def test_imap_round_stores_flags_and_never_stores_twice(rt, client, dovecot):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    first, mid = mail(attachments=[("回单.png", PNG, "image/png")])
    reply, _ = mail("补充信息", subject="Re: 账单疑问", in_reply_to=mid)
    dovecot.append(first)
    dovecot.append(reply)
    result = await imap.fetch_once(rt, _cfg(dovecot))
    assert (result.stored, result.failed) == (2, 0)
    rows = await raw_rows(rt, "SELECT contact_id, source, mailbox_ref FROM email_messages ORDER BY id")
    assert [r.source for r in rows] == ["imap", "imap"]
    assert rows[0].contact_id == rows[1].contact_id  # the second threads into the first's contact
    assert rows[0].mailbox_ref.endswith(":1")
    assert rows[1].mailbox_ref.endswith(":2")
    assert all("\\Seen" in f for f in dovecot.flags())
    assert await _count(rt, "email_attachments") == 1
    # nothing unread: nothing new; the same message delivered again (new UID) is still stored once
    assert (await imap.fetch_once(rt, _cfg(dovecot))).stored == 0
    dovecot.append(first)
    again = await imap.fetch_once(rt, _cfg(dovecot))
    assert (again.stored, again.duplicates) == (0, 1)
    assert await _count(rt, "email_messages") == 2


async def test_imap_too_large_is_left_for_a_person_and_failures_stay_unread(rt, client, dovecot):
    big, _ = mail("大" * 20_000)
    dovecot.append(big)
    normal, _ = mail()
    dovecot.append(normal)
    result = await imap.fetch_once(rt, _cfg(dovecot, max_bytes=10_000))  # and no e-mail queue configured yet
    assert (result.too_large, result.failed, result.stored) == (1, 1, 0)
    flags = dovecot.flags()
    assert "\\Flagged" in flags[0]
    assert "\\Seen" in flags[0]
    assert "\\Seen" not in flags[1]  # tried again next round
    await make_email_team(rt, client)  # a supervisor adds the queue: the engines reload it
    from kefu.routing import digital

    async with rt.db.transaction() as s:
        await digital.reconfigure(rt, s)
    result = await imap.fetch_once(rt, _cfg(dovecot, max_bytes=10_000))
    assert (result.stored, result.failed) == (1, 0)


async def test_imap_idle_picks_up_a_message_appended_while_idling(rt, client, dovecot):
    await make_email_team(rt, client)
    stop = asyncio.Event()
    status = imap.Status()
    cfg = _cfg(dovecot, poll_seconds=3600)  # only IDLE can notice the new message within the test
    task = asyncio.create_task(imap.run(rt, stop, cfg=cfg, status=status))
    try:
        assert await asyncio.to_thread(status.idling.wait, 15), "the poller never started IDLE"
        raw, mid = mail("IDLE 期间到达的邮件")
        await asyncio.to_thread(dovecot.append, raw)

        async def stored() -> list[Any]:
            return await raw_rows(rt, "SELECT message_id FROM email_messages")

        rows = await eventually(stored, timeout=15)
        assert [r.message_id for r in rows] == [mid]

        async def second_round_done() -> bool:
            return status.rounds >= 2

        assert await eventually(second_round_done, timeout=10)
        assert status.errors == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def test_imap_reconnects_after_a_refused_login(rt, dovecot):
    stop = asyncio.Event()
    status = imap.Status()
    cfg = imap.ImapConfig("127.0.0.1", dovecot.port, "none", dovecot.user, "wrong", "INBOX", timeout=5)
    task = asyncio.create_task(imap.run(rt, stop, cfg=cfg, status=status))

    async def failed_twice() -> bool:
        return status.errors >= 2

    assert await eventually(failed_twice, timeout=20)  # back-off 1 s, 2 s, …
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert status.rounds == 0


async def test_run_receivers_with_imap_configured(rt, client, dovecot):
    await make_email_team(rt, client)
    _settings_for(rt, dovecot)
    rt.settings.imap_poll_seconds = 1
    rt.settings.imap_idle = False  # polling
    dovecot.append(mail()[0])
    stop = asyncio.Event()
    task = asyncio.create_task(receivers.run_receivers(rt, stop))

    async def stored() -> bool:
        return await _count(rt, "email_messages") == 1

    try:
        assert await eventually(stored, timeout=15)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


def _send(port: int, raw: bytes, rcpt: str) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        return smtp.sendmail("zhang.san@example.com", [rcpt], raw)


async def test_smtp_receiver_accepts_mail_for_the_service_address_only(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    port = free_port()
    server = await smtp_receiver.start(rt, host="127.0.0.1", port=port)
    try:
        raw, mid = mail(attachments=[("a.png", PNG, "image/png")])
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await asyncio.to_thread(_send, port, raw, "someone.else@bank.invalid")
        assert await asyncio.to_thread(_send, port, raw, SERVICE) == {}
        (row,) = await raw_rows(rt, "SELECT message_id, source FROM email_messages")
        assert (row.message_id, row.source) == (mid, "smtp")
        assert await asyncio.to_thread(_send, port, raw, SERVICE) == {}  # the gateway retried: stored once
        assert await _count(rt, "email_messages") == 1
        rt.settings.email_max_bytes = 10_000
        big, _ = mail("大" * 20_000)
        with pytest.raises(smtplib.SMTPException):
            await asyncio.to_thread(_send, port, big, SERVICE)
    finally:
        server.close()
        await server.wait_closed()


async def test_smtp_receiver_answers_451_when_the_mail_cannot_be_stored(rt):
    rt.settings.email_address = SERVICE  # but no e-mail queue configured
    port = free_port()
    server = await smtp_receiver.start(rt, host="127.0.0.1", port=port)
    try:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            await asyncio.to_thread(_send, port, mail()[0], SERVICE)
        assert caught.value.smtp_code == 451
        assert await _count(rt, "email_messages") == 0
    finally:
        server.close()
        await server.wait_closed()
