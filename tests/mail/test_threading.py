"""Receiving: a new mail opens an e-mail contact and is routed; replies thread by Message-ID / References;
duplicates are stored once; a mail after the end opens a linked follow-up contact; nothing is lost or half
stored when routing is impossible."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from kefu.core.errors import ValidationFailed
from kefu.mail import service
from tests.factories import make_customer, raw_rows
from tests.mail.helpers import PNG, SERVICE, accept, eventually, ingest, mail, make_email_team, ready


async def _contact(rt: Any, contact_id: int) -> Any:
    (row,) = await raw_rows(rt, "SELECT id, channel, direction, status, queue_code, agent_id, customer_id "
                                "FROM contacts WHERE id = :i", i=contact_id)  # fmt: skip
    return row


async def test_new_mail_opens_a_contact_routed_to_a_ready_agent(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, mid = mail(attachments=[("账单截图.png", PNG, "image/png")])
    done = await ingest(rt, raw, source="smtp")
    assert done.outcome == "new"
    c = await _contact(rt, done.contact_id)
    expected = ("email", "inbound", "email", "offered", team.agents[0].id)
    assert (c.channel, c.direction, c.queue_code, c.status, c.agent_id) == expected
    assert c.customer_id is None  # an address no agent has identified yet identifies nobody
    (row,) = await raw_rows(rt, "SELECT message_id, direction, from_addr, body, subject, source, from_bidx "
                                "FROM email_messages")  # fmt: skip
    assert (row.message_id, row.direction, row.source) == (mid, "inbound", "smtp")
    assert "zhang" not in row.from_addr
    assert "账单" not in row.body
    assert "账单" not in row.subject
    assert row.from_bidx == service.from_bidx("Zhang.San@example.com")
    kinds = [r.kind for r in await raw_rows(rt, "SELECT kind FROM contact_events WHERE contact_id = :i ORDER BY id",
                                            i=done.contact_id)]  # fmt: skip
    assert kinds[:2] == ["arrived", "queued"]
    assert "email_received" in kinds
    assert "offered" in kinds


async def test_reply_threads_into_the_open_contact_and_tells_the_agent(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, mid = mail()
    first = await ingest(rt, raw)
    await accept(rt, team.agents[0], first.contact_id)
    seen: list[dict[str, Any]] = []

    async def listen() -> None:
        async for m in rt.bus.listen():
            seen.append(m)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.3)  # subscribed (Redis pub/sub in cluster mode)
    again, _ = mail("补充：账单日是每月5号。", subject="Re: 账单疑问", references=["older@example.com", mid])
    done = await ingest(rt, again)
    assert (done.outcome, done.contact_id) == ("joined", first.contact_id)
    rows = await raw_rows(rt, "SELECT contact_id FROM email_messages ORDER BY id")
    assert [r.contact_id for r in rows] == [first.contact_id] * 2
    assert (await _contact(rt, first.contact_id)).status == "connected"

    def told() -> list[dict[str, Any]]:
        return [m for m in seen if m.get("payload", {}).get("type") == "email.received"]

    async def check() -> bool:
        return bool(told())

    await eventually(check, timeout=5)
    listener.cancel()
    (live,) = told()
    assert live["to"] == {"agents": [team.agents[0].id]}
    assert live["payload"]["contact_id"] == first.contact_id


async def test_same_message_twice_is_stored_once(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, _ = mail(attachments=[("a.png", PNG, "image/png")])
    one = await ingest(rt, raw, source="imap", mailbox_ref="7:1")
    two = await ingest(rt, raw, source="smtp")  # the same Message-ID by another way
    three = await ingest(rt, raw, source="imap", mailbox_ref="7:1")  # the same IMAP message
    assert (one.outcome, two.outcome, three.outcome) == ("new", "duplicate", "duplicate")
    assert two.contact_id == one.contact_id
    assert len(await raw_rows(rt, "SELECT id FROM email_messages")) == 1
    assert len(await raw_rows(rt, "SELECT id FROM email_attachments")) == 1
    assert len(await raw_rows(rt, "SELECT id FROM contacts")) == 1
    assert len(list((rt.settings.var_dir / "mail").iterdir())) == 1


async def test_mail_after_the_end_opens_a_linked_follow_up(rt, client):
    team = await make_email_team(rt, client, agents=1)
    await ready(client, team.headers[0])
    raw, mid = mail()
    first = await ingest(rt, raw)
    await accept(rt, team.agents[0], first.contact_id)
    r = await client.post(f"/api/v1/email/contacts/{first.contact_id}/reply",
                          json={"body": "您好，已为您核实。", "close": True}, headers=team.headers[0])  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["contact_status"] == "wrap_up"
    (ours,) = await raw_rows(rt, "SELECT message_id FROM email_messages WHERE direction = 'outbound'")
    later, _ = mail("谢谢，还有一个问题。", subject="Re: 账单疑问", in_reply_to=ours.message_id,
                    references=[mid, ours.message_id])  # fmt: skip
    done = await ingest(rt, later)
    assert done.outcome == "follow_up"
    assert done.contact_id != first.contact_id
    (ev,) = await raw_rows(rt, "SELECT data FROM contact_events WHERE contact_id = :i AND kind = 'email_follow_up'",
                           i=done.contact_id)  # fmt: skip
    assert str(first.contact_id) in ev.data
    c = await _contact(rt, done.contact_id)
    assert (c.status, c.agent_id) == ("offered", team.agents[0].id)  # a second e-mail slot (capacity 2)
    r = await client.get(f"/api/v1/email/contacts/{done.contact_id}", headers=team.headers[0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["previous_contact_ids"] == [first.contact_id]
    assert [m["direction"] for m in body["messages"]] == ["inbound", "outbound", "inbound"]
    assert [m["contact_id"] for m in body["messages"]] == [first.contact_id] * 2 + [done.contact_id]


async def test_own_address_and_own_replies_are_ignored(rt, client):
    await make_email_team(rt, client)
    raw, _ = mail(sender=SERVICE)
    assert (await ingest(rt, raw)).outcome == "ignored"
    assert await raw_rows(rt, "SELECT id FROM contacts") == []


async def test_without_the_e_mail_queue_nothing_is_stored(rt):
    raw, _ = mail(attachments=[("a.png", PNG, "image/png")])
    with pytest.raises(ValidationFailed, match="No queue 'email'"):
        await ingest(rt, raw, source="imap", mailbox_ref="1:1")
    assert await raw_rows(rt, "SELECT id FROM email_messages") == []
    assert await raw_rows(rt, "SELECT id FROM contacts") == []
    folder = rt.settings.var_dir / "mail"
    assert not folder.exists() or list(folder.iterdir()) == []  # the attachment file went with the rollback


async def test_too_large_mail_is_refused(rt):
    rt.settings.email_max_bytes = 10_000
    raw, _ = mail("大" * 10_000)
    with pytest.raises(ValidationFailed, match="largest accepted"):
        await ingest(rt, raw)


async def test_another_sender_naming_the_thread_starts_its_own_unidentified_contact(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, mid = mail()
    first = await ingest(rt, raw)
    await accept(rt, team.agents[0], first.contact_id)
    # someone who was copied (or forwarded the mail) writes with the thread's headers: not the customer
    other, _ = mail("我也想了解一下", subject="Re: 账单疑问", sender="someone.else@example.net", references=[mid])
    done = await ingest(rt, other)
    assert done.outcome == "new"
    assert done.contact_id != first.contact_id
    assert (await _contact(rt, done.contact_id)).customer_id is None


async def test_a_new_thread_from_an_address_an_agent_identified_gets_that_customer(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    customer = await make_customer(rt, name="冯晓", phone="13912345688")
    raw, _ = mail()
    first = await ingest(rt, raw)
    await accept(rt, team.agents[0], first.contact_id)
    r = await client.put(f"/api/v1/contacts/{first.contact_id}/customer", json={"customer_id": customer.id},
                         headers=team.headers[0])  # fmt: skip
    assert r.status_code == 200, r.text
    again, _ = mail("另一个问题：信用卡额度", subject="额度")  # a new thread, same address (other case)
    done = await ingest(rt, again)
    assert done.outcome == "new"
    assert (await _contact(rt, done.contact_id)).customer_id == customer.id
    rows = await raw_rows(rt, "SELECT kind, data FROM contact_events WHERE contact_id = :i AND kind = 'identified'",
                          i=done.contact_id)  # fmt: skip
    assert len(rows) == 1
    assert f'"by_sender_of": {first.contact_id}' in rows[0].data
    other, _ = mail("你好", subject="咨询", sender="li.si@example.org")
    assert (await _contact(rt, (await ingest(rt, other)).contact_id)).customer_id is None
    async with rt.db.transaction() as s:
        await s.execute(text("UPDATE customers SET status = 'closed' WHERE id = :i"), {"i": customer.id})
    third, _ = mail("第三封", subject="再问")
    assert (await _contact(rt, (await ingest(rt, third)).contact_id)).customer_id is None  # not an active record


async def test_mail_stored_by_a_command_is_routed_by_the_serving_process_sweep(rt, client):
    from kefu.routing import digital

    if rt.settings.redis_url:
        pytest.skip("cluster mode: a command routes into the shared store itself")
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    rt.extras[digital.OFFLINE] = True  # as `kefu mail import` marks its own runtime
    try:
        done = await ingest(rt, mail()[0])
    finally:
        rt.extras.pop(digital.OFFLINE)
    assert (await _contact(rt, done.contact_id)).status == "queued"
    await digital.release_wrapped(rt)
    assert (await _contact(rt, done.contact_id)).status == "offered"
