"""The desk side of e-mail: the thread (masked, audited), attachments (encrypted on disk, downloaded by the
agent, never inline), and replies that leave through a real SMTP server (aiosmtpd) with the right threading
headers."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.factories import auth_headers, make_staff, raw_rows
from tests.mail.helpers import CUSTOMER, PNG, SERVICE, accept, eventually, ingest, mail, make_email_team, ready


async def _connected(rt: Any, client: Any, **kw: Any) -> tuple[Any, Any, str]:
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, mid = mail(**kw)
    done = await ingest(rt, raw, source="smtp")
    await accept(rt, team.agents[0], done.contact_id)
    return team, done, mid


async def test_thread_is_masked_and_the_attachment_is_encrypted_and_downloadable(rt, client):
    team, done, _ = await _connected(rt, client, attachments=[("账单截图.png", PNG, "image/png")])
    r = await client.get(f"/api/v1/email/contacts/{done.contact_id}", headers=team.headers[0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["can_reply"] is True
    assert body["status"] == "connected"
    (m,) = body["messages"]
    assert m["from"] == "z***@example.com"
    assert CUSTOMER not in r.text
    assert (m["direction"], m["subject"]) == ("inbound", "账单疑问")
    (att,) = m["attachments"]
    assert (att["filename"], att["content_type"], att["size"]) == ("账单截图.png", "image/png", len(PNG))
    assert att["sha256"] == hashlib.sha256(PNG).hexdigest()
    (row,) = await raw_rows(rt, "SELECT storage_key, filename FROM email_attachments")
    assert "账单" not in row.filename
    path = rt.settings.var_dir / "mail" / row.storage_key
    blob = path.read_bytes()
    assert blob != PNG
    assert PNG[:8] not in blob
    assert blob.startswith(b"KEFUML1")
    assert path.stat().st_mode & 0o077 == 0

    r = await client.get(att["download"], headers=team.headers[0])
    assert r.status_code == 200
    assert r.content == PNG
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    actions = [a.action for a in await raw_rows(rt, "SELECT action FROM audit_log ORDER BY seq")]
    assert "email.thread_view" in actions
    assert "email.attachment_read" in actions

    # another agent (not handling it, not a lead) sees neither the thread nor the file
    other = team.headers[1]
    assert (await client.get(f"/api/v1/email/contacts/{done.contact_id}", headers=other)).status_code == 404
    r = await client.get(att["download"], headers=other)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_altered_attachment_is_refused(rt, client):
    team, done, _ = await _connected(rt, client, attachments=[("a.png", PNG, "image/png")])
    (row,) = await raw_rows(rt, "SELECT id, storage_key FROM email_attachments")
    path = rt.settings.var_dir / "mail" / row.storage_key
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    r = await client.get(f"/api/v1/email/attachments/{row.id}", headers=team.headers[0])
    assert r.status_code == 409
    assert "altered" in r.json()["detail"]


async def test_reply_goes_out_over_smtp_threaded_and_sets_first_response(rt, client, smtp_server):
    inbox, port = smtp_server
    rt.settings.smtp_host, rt.settings.smtp_port, rt.settings.smtp_security = "127.0.0.1", port, "none"
    try:
        team, done, mid = await _connected(rt, client, references=["root@example.com"])
        url = f"/api/v1/email/contacts/{done.contact_id}/reply"
        r = await client.post(url, json={"body": "您好，您的账单已核实无误。"}, headers=team.headers[0])
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["direction"], out["subject"], out["to"]) == ("outbound", "Re: 账单疑问", "z***@example.com")

        async def delivered() -> bool:
            return bool(inbox.messages)

        assert await eventually(delivered)
        (msg,) = inbox.messages
        assert msg["To"] == CUSTOMER
        assert SERVICE in msg["From"]
        assert msg["Subject"] == "Re: 账单疑问"
        assert msg["In-Reply-To"] == f"<{mid}>"
        assert msg["References"].split() == ["<root@example.com>", f"<{mid}>"]
        assert msg.get_content().strip() == "您好，您的账单已核实无误。"
        (ours,) = await raw_rows(rt, "SELECT message_id, in_reply_to, outbound_id FROM email_messages "
                                     "WHERE direction = 'outbound'")  # fmt: skip
        assert msg["Message-ID"] == f"<{ours.message_id}>"
        assert ours.in_reply_to == mid
        (ob,) = await raw_rows(rt, "SELECT status, subject FROM outbound_messages")
        assert ob.status == "sent"
        assert "账单" not in (ob.subject or "")

        r = await client.post(url, json={"body": "补充说明", "close": True}, headers=team.headers[0])
        assert r.status_code == 201
        assert r.json()["contact_status"] == "wrap_up"
        events = await raw_rows(rt, "SELECT kind, data FROM contact_events WHERE contact_id = :i AND "
                                    "kind = 'first_response'", i=done.contact_id)  # fmt: skip
        assert len(events) == 1
        assert '"within_target": true' in events[0].data
        # a customer's answer to our reply threads by our Message-ID (a new linked contact: this one ended)
        answer, _ = mail("好的，谢谢", in_reply_to=ours.message_id)
        assert (await ingest(rt, answer)).outcome == "follow_up"
    finally:
        rt.settings.smtp_host = None


async def test_only_the_connected_agent_replies_and_bad_input_is_a_problem(rt, client):
    team = await make_email_team(rt, client)
    await ready(client, team.headers[0])
    raw, _ = mail()
    done = await ingest(rt, raw)
    url = f"/api/v1/email/contacts/{done.contact_id}/reply"
    r = await client.post(url, json={"body": "您好"}, headers=team.headers[0])  # offered, not accepted yet
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert "accept it" in r.json()["detail"]
    await accept(rt, team.agents[0], done.contact_id)
    for bad in ({"body": ""}, {"body": "   \x00  "}, {"body": "字" * 10_001}, {}):
        r = await client.post(url, json=bad, headers=team.headers[0])
        assert r.status_code == 422, (bad, r.text)
    r = await client.post(url, json={"body": "😀" * 4_001}, headers=team.headers[0])  # 16,004 bytes
    assert r.status_code == 422
    r = await client.post(url, json={"body": "字" * 5_000}, headers=team.headers[0])  # the longest reply fits
    assert r.status_code == 201, r.text
    r = await client.post(url, json={"body": "您好"}, headers=team.headers[1])
    assert r.status_code == 404
    auditor = await make_staff(rt, roles=["auditor"])
    r = await client.post(url, json={"body": "您好"}, headers=await auth_headers(client, auditor))
    assert r.status_code == 403
    assert (await client.get("/api/v1/email/contacts/99999999", headers=team.headers[0])).status_code == 404
    assert (await client.get("/api/v1/email/attachments/0", headers=team.headers[0])).status_code == 422


async def test_close_without_reply_needs_the_connected_agent_then_the_wrap_up(rt, client):
    team, done, _ = await _connected(rt, client)
    url = f"/api/v1/email/contacts/{done.contact_id}/close"
    r = await client.post(url, headers=team.headers[1])  # the other agent
    assert r.status_code in (403, 404, 409)
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.post(url, headers=team.headers[0])
    assert r.status_code == 204, r.text
    r = await client.get("/api/v1/desk/digital", headers=team.headers[0])
    assert [(c["contact_id"], c["status"]) for c in r.json()["contacts"]] == [(done.contact_id, "wrap_up")]
