"""Notices to the complainant (R5.2, R5.4; 办法: the complainant is told of every extension): one outbox
message per channel, in the complainant's locale, written in the transaction and sent only after commit."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.channels import sms
from kefu.complaints import notices, workflow
from kefu.complaints.models import Complaint
from tests.complaints.case_helpers import kinds_of, load, notices_of, outbox, register
from tests.complaints.conftest import People, complaint_row
from tests.factories import principal_of

pytestmark = pytest.mark.usefixtures("frozen")


class Boom(Exception):
    pass


class FakeGateway:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def deliver(self, *, recipient: str, body: str) -> str:
        self.sent.append((recipient, body))
        return f"ref-{len(self.sent)}"


@pytest.fixture
def gateway() -> Any:
    gw = FakeGateway()
    sms.set_port(sms.OutboxSms(gw))
    yield gw
    sms.set_port(None)


async def test_notice_is_sent_only_after_commit(rt: Any, people: People, gateway: FakeGateway) -> None:
    """Convention 2 / issue 6 "notices sent after commit only": a rolled-back acceptance leaves no outbox
    row, no notice and no delivery; a committed one is delivered after the commit."""
    c = await register(rt, people.agent)

    async def accept_then_fail() -> None:
        async with rt.db.transaction() as s:
            await workflow.accept(s, actor=principal_of(people.handler), complaint_id=c.id)
            raise Boom

    with pytest.raises(Boom):
        await accept_then_fail()
    assert await outbox(rt) == []
    assert await notices_of(rt, c.id) == []
    assert gateway.sent == []
    assert (await load(rt, c.id)).status == "received"
    async with rt.db.transaction() as s:
        await workflow.accept(s, actor=principal_of(people.handler), complaint_id=c.id)
        assert gateway.sent == []  # not before the commit
    [(notice, msg)] = await notices_of(rt, c.id)
    assert notice.channel == "sms"
    assert msg is not None
    assert msg.status == "sent"
    assert gateway.sent == [(c.complainant_phone, msg.body)]


async def test_acknowledgement_text_promises_the_date_with_signature(rt: Any, people: People) -> None:
    """R5.2: apologise and promise a handling deadline: the case number and the decision date, signed."""
    c = await register(rt, people.agent, complainant_email="ceshi@example.com")
    async with rt.db.transaction() as s:
        await workflow.accept(s, actor=principal_of(people.handler), complaint_id=c.id)
    pairs = await notices_of(rt, c.id)
    assert [(n.kind, n.channel) for n, _ in pairs] == [("acknowledgement", "sms"), ("acknowledgement", "email")]
    sms_msg, mail = pairs[0][1], pairs[1][1]
    assert sms_msg is not None
    assert mail is not None
    expected = notices.text_for("acknowledgement", "zh-Hans", {"number": c.number, "due_date": "2026-12-08"})
    assert sms_msg.body == rt.settings.sms_signature + expected
    assert mail.body == expected
    assert mail.recipient == "ceshi@example.com"
    assert mail.channel == "email"
    assert str(c.number) in (mail.subject or "")
    assert "测试" not in (mail.subject or "")
    assert str(c.number) in expected
    assert "2026-12-08" in expected
    assert (sms_msg.kind, sms_msg.customer_id) == ("complaint_notice", None)


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
async def test_notice_in_the_complainants_locale(rt: Any, people: People, locale: str) -> None:
    """Notices are written in the complainant's language (complaint.locale)."""
    c = await register(rt, people.agent, locale=locale)
    async with rt.db.transaction() as s:
        await workflow.accept(s, actor=principal_of(people.handler), complaint_id=c.id)
    [(_, msg)] = await notices_of(rt, c.id)
    assert msg is not None
    params = {"number": c.number, "due_date": "2026-12-08"}
    assert msg.body.endswith(notices.text_for("acknowledgement", locale, params))
    assert notices.text_for("acknowledgement", locale, params) != notices.text_for("acknowledgement", "zh-Hans", params)


async def test_no_phone_or_email_means_a_letter(rt: Any) -> None:
    """R5.2: a complainant without phone or e-mail still gets the notice, as a letter staff print."""
    async with rt.db.transaction() as s:
        c = await complaint_row(s, complainant_phone=None, complainant_email=None)
        [n] = await notices.send(s, complaint=c, kind="closed")
    assert (n.channel, n.message_id) == ("letter", None)
    assert await outbox(rt) == []
    assert await kinds_of(rt, c.id) == ["closed"]
    assert "已办结" in notices.letter_text(c, n)


def test_every_kind_has_text_in_every_locale() -> None:
    for locale in ("zh-Hans", "zh-Hant", "en"):
        for kind in (*notices.KINDS, "subject"):
            text = notices.text_for(kind, locale, {"number": "TS20261123-000001"})
            assert text
            assert not text.startswith("complaint.notice.")
            assert "{" not in text


def test_missing_params_are_blank_and_unknown_kind_refused() -> None:
    assert "{reason}" not in notices.text_for("not_accepted", "zh-Hans", {"number": "TS1"})


async def test_unknown_kind_is_refused(rt: Any) -> None:
    async with rt.db.transaction() as s:
        c: Complaint = await complaint_row(s)
        with pytest.raises(ValueError, match="unknown notice kind"):
            await notices.send(s, complaint=c, kind="birthday")
