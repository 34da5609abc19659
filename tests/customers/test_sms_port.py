"""The SMS port: outbox row in the transaction, delivery after commit, nothing on rollback."""

from __future__ import annotations

import pytest

from kefu.channels import sms
from tests.factories import raw_rows


class RecordingGateway:
    """A gateway that keeps what it was given (stands in for the carrier's HTTP API)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    async def deliver(self, *, recipient: str, body: str) -> str:
        if self.fail:
            raise RuntimeError("carrier refused")
        self.sent.append((recipient, body))
        return f"ref-{len(self.sent)}"


async def test_default_port_leaves_messages_pending_in_the_outbox(rt):
    async with rt.db.transaction() as s:
        msg = await sms.get_port().send(s, recipient="13800135678", body="验证码 123456", kind="notice")
    rows = await raw_rows(rt, "SELECT id, status, body, recipient FROM outbound_messages")
    assert [r.id for r in rows] == [msg.id]
    assert rows[0].status == "pending"
    assert "123456" not in rows[0].body
    assert "13800135678" not in rows[0].recipient


async def test_gateway_sends_after_commit_and_rollback_sends_nothing(rt):
    gw = RecordingGateway()
    port = sms.OutboxSms(gw)

    async def failing_unit_of_work() -> None:
        async with rt.db.transaction() as s:
            await port.send(s, recipient="13800135678", body="A", kind="notice")
            assert gw.sent == [], "nothing leaves before commit"
            raise RuntimeError("business rule failed")

    with pytest.raises(RuntimeError):
        await failing_unit_of_work()
    assert gw.sent == []
    assert await raw_rows(rt, "SELECT id FROM outbound_messages") == []
    async with rt.db.transaction() as s:
        await port.send(s, recipient="13800135678", body="B", kind="notice")
    assert gw.sent == [("13800135678", "B")]
    rows = await raw_rows(rt, "SELECT status, provider_ref, attempts FROM outbound_messages")
    assert (rows[0].status, rows[0].provider_ref, rows[0].attempts) == ("sent", "ref-1", 1)
    failing = sms.OutboxSms(RecordingGateway(fail=True))
    async with rt.db.transaction() as s:
        await failing.send(s, recipient="13800135678", body="C", kind="notice")
    rows = await raw_rows(rt, "SELECT status, last_error FROM outbound_messages ORDER BY id")
    assert rows[-1].status == "failed"
    assert "carrier refused" in rows[-1].last_error


async def test_http_gateway_is_chosen_by_configuration(rt):
    rt.settings.sms_gateway_url = "https://sms.example.test/send"
    port = sms.get_port()
    assert isinstance(port, sms.OutboxSms)
    assert isinstance(port.gateway, sms.HttpSmsGateway)
    rt.settings.sms_gateway_url = None
    assert sms.get_port().gateway is None  # type: ignore[attr-defined]
