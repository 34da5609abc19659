"""R5.2 with a mail server configured: the acknowledgement reaches the complainant's mailbox over SMTP
after the acceptance commits (aiosmtpd started by the test), in the complainant's language."""

from __future__ import annotations

from typing import Any

from tests.channels.test_email import smtp_server  # noqa: F401  (the fixture)
from tests.complaints.case_helpers import accepted
from tests.complaints.conftest import People
from tests.factories import raw_rows


async def test_acknowledgement_is_mailed_after_acceptance(rt: Any, people: People, smtp_server: Any) -> None:  # noqa: F811
    inbox, port = smtp_server
    rt.settings.smtp_host, rt.settings.smtp_port, rt.settings.smtp_security = "127.0.0.1", port, "none"
    try:
        c = await accepted(rt, people.agent, people.handler, complainant_phone=None,
                           complainant_email="kehu@example.com", locale="zh-Hant")  # fmt: skip
    finally:
        rt.settings.smtp_host = None
    (msg,) = inbox.messages
    assert msg["To"] == "kehu@example.com"
    assert c.number in msg["Subject"]
    body = msg.get_content()
    assert c.number in body
    assert "投訴" in body  # Traditional Chinese, the complainant's language
    rows = await raw_rows(rt, "SELECT channel, status FROM outbound_messages")
    assert [(r.channel, r.status) for r in rows] == [("email", "sent")]
