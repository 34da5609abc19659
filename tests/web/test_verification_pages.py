"""The verification panel on the customer page: PIN, ID digits + SMS code from the outbox, security
questions, lockout and closing; every attempt audited by the service."""

from __future__ import annotations

from tests.customers.helpers import audit_rows, sms_bodies
from tests.web.desk_helpers import PIN, last_code, make_desk, post, url, verification_id_of, verify_by_pin


async def _start(client, d) -> int:
    r = await post(client, d, "/verification", contact_ref="call-9")
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "已开始身份核实" in page.text
    assert "call-9" in page.text
    return verification_id_of(page.text)


async def test_pin_verification_shows_level_and_what_it_allows(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    page = await client.get(url(d))
    assert 'data-verify-level="2"' in page.text
    assert "L2 可动账" in page.text
    assert f'name="verification_id" value="{vid}"' in page.text
    assert 'data-balance-of="' in page.text
    assert f'href="/customers/{d.customer.id}/transfer"' in page.text
    rows = await audit_rows(rt, "customer.verify")
    assert [r.outcome for r in rows if r.action == "customer.verify"] == ["ok"]
    assert "customer.verify_start" in {r.action for r in rows}
    assert PIN not in repr(rows)


async def test_id_digits_and_sms_code_from_the_outbox(rt, client):
    d = await make_desk(rt, client)
    vid = await _start(client, d)
    r = await post(client, d, "/verification/sms", verification_id=str(vid), id_last6="000000")
    assert r.status_code == 200
    assert "核实未通过" in r.text
    assert await sms_bodies(rt) == []
    r = await post(client, d, "/verification/sms", verification_id=str(vid), id_last6=d.id_number[-6:])
    assert "验证码已发送到客户预留手机" in r.text
    assert 'id="code"' in r.text
    code = await last_code(rt)
    assert code not in r.text
    r = await post(client, d, "/verification/code", verification_id=str(vid), code=code)
    assert "核实通过，当前级别 L2" in r.text
    assert "证件号 + 短信验证码" in r.text


async def test_security_questions_give_l1_only(rt, client):
    d = await make_desk(rt, client)
    vid = await _start(client, d)
    page = await client.get(url(d))
    assert "您小学的校名？" in page.text
    assert "实验小学" not in page.text
    r = await post(client, d, "/verification/answers", verification_id=str(vid), answer_0=" 实验小学 ", answer_1="杭州")
    assert "核实通过，当前级别 L1" in r.text
    assert 'data-balance-of="' in r.text, "L1 allows the balance inquiry"
    assert f'href="/customers/{d.customer.id}/transfer"' not in r.text, "a transfer needs L2"


async def test_wrong_pins_lock_and_the_panel_says_so(rt, client):
    d = await make_desk(rt, client)
    vid = await _start(client, d)
    for _ in range(3):
        r = await post(client, d, "/verification/pin", verification_id=str(vid), pin="111111")
        assert "核实未通过" in r.text
    assert "The PIN is now locked" in r.text
    r = await post(client, d, "/verification/pin", verification_id=str(vid), pin=PIN)
    assert r.status_code == 423
    assert "已锁定，操作未执行" in r.text
    refused = [x for x in await audit_rows(rt, "customer.verify") if x.outcome == "refused"]
    assert refused, "the refused attempt stays in the audit log"
    for _ in range(2):
        await post(client, d, "/verification/sms", verification_id=str(vid), id_last6="000000")
    page = await client.get(url(d))
    assert "本次核实因失败次数过多已锁定" in page.text
    assert "data-verify-start" in page.text


async def test_close_ends_the_verification(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    r = await post(client, d, "/verification/close", verification_id=str(vid))
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "身份核实已结束" in page.text
    assert "data-verify-start" in page.text
    assert 'data-balance-of="' not in page.text
    stale = await post(client, d, "/verification/pin", verification_id=str(vid), pin=PIN)
    assert stale.status_code == 409
    assert "start a new one" in stale.text
