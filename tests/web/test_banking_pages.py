"""Business dialogs on the customer page: balance and history, transfer with read-back and confirm,
double submit, risk prompt, card loss and release, activation, appointment, core offline."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from kefu.banking.models import Transfer
from kefu.core import clock
from tests.customers.helpers import audit_rows
from tests.web.desk_helpers import hidden, make_desk, post, url, verify_by_pin


async def _readback(client, d, vid: int, amount: str, to: str | None = None, memo: str = "房租"):
    form = await client.get(url(d, "/transfer"))
    assert form.status_code == 200
    key = hidden(form.text, "idempotency_key")
    assert hidden(form.text, "verification_id") == str(vid)
    data = {"verification_id": str(vid), "from_account_id": str(d.savings_id), "to_account_no": to or d.payee_no,
            "amount": amount, "memo": memo, "idempotency_key": key}  # fmt: skip
    r = await post(client, d, "/transfer/preview", **data)
    return r, data


async def _transfers(rt) -> int:
    async with rt.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(Transfer))).scalar_one())


async def test_balance_and_history_after_verification(rt, client):
    d = await make_desk(rt, client)
    blocked = await post(client, d, "/balance", account_id=str(d.savings_id), verification_id="")
    assert blocked.status_code == 404
    assert "verify the caller first" in blocked.text
    vid = await verify_by_pin(client, d)
    r = await post(client, d, "/balance", account_id=str(d.savings_id), verification_id=str(vid))
    assert r.status_code == 200
    assert "¥ 20,000.00" in r.text
    assert "最近交易" in r.text
    assert d.savings_no not in r.text
    h = await client.get(url(d, f"/accounts/{d.savings_id}/history"), params={"verification_id": vid})
    assert h.status_code == 200
    assert "共 1 笔" in h.text
    today = clock.now().date()
    later = (today + dt.timedelta(days=3)).isoformat()
    empty = await client.get(url(d, f"/accounts/{d.savings_id}/history"),
                             params={"verification_id": vid, "date_from": later, "date_to": later})  # fmt: skip
    assert "该期间没有交易" in empty.text
    bad = await client.get(url(d, f"/accounts/{d.savings_id}/history"),
                           params={"verification_id": vid, "date_from": "2026-13-01"})  # fmt: skip
    assert bad.status_code == 422
    actions = [r.action for r in await audit_rows(rt, "banking.")]
    assert "banking.balance" in actions
    assert "banking.history" in actions


async def test_transfer_with_readback_confirm_and_double_submit(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    bad, data = await _readback(client, d, vid, "12.345")
    assert bad.status_code == 422
    assert 'value="12.345"' in bad.text, "input kept"
    r, data = await _readback(client, d, vid, "1,200.50")
    assert r.status_code == 200, r.text
    assert "转账复述确认" in r.text
    assert "¥ 1,200.50" in r.text
    assert "data-risk" not in r.text
    token = hidden(r.text, "confirmation_token")
    done = await post(client, d, "/transfer", **data, confirmation_token=token)
    assert done.status_code == 200, done.text
    assert "转账成功" in done.text
    ref = re.search(r"data-reference>(\d+)<", done.text)
    assert ref
    again = await post(client, d, "/transfer", **data, confirmation_token=token)
    assert again.status_code == 200
    assert "这笔转账已经办理过" in again.text
    assert f"data-reference>{ref.group(1)}<" in again.text
    assert await _transfers(rt) == 1
    changed = await post(client, d, "/transfer", **{**data, "amount": "99"}, confirmation_token=token)
    assert changed.status_code == 409
    assert "该防重复编号已用于另一笔转账" in changed.text
    assert await _transfers(rt) == 1
    assert [r.outcome for r in await audit_rows(rt, "banking.transfer")] == ["ok"]


async def test_transfer_without_token_or_with_other_details_is_refused(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    r, data = await _readback(client, d, vid, "100")
    token = hidden(r.text, "confirmation_token")
    no_token = await post(client, d, "/transfer", **data)
    assert no_token.status_code == 422
    assert "转账复述确认" in no_token.text, "the read-back is shown again"
    other = await post(client, d, "/transfer", **{**data, "memo": "别的"}, confirmation_token=token)
    assert other.status_code == 409
    assert "内容与复述不一致" in other.text
    assert await _transfers(rt) == 0


async def test_risk_prompt_needs_override_and_reason(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    r, data = await _readback(client, d, vid, "6000")
    assert "data-risk" in r.text
    assert "向新收款人大额转账" in r.text
    token = hidden(r.text, "confirmation_token")
    refused = await post(client, d, "/transfer", **data, confirmation_token=token)
    assert refused.status_code == 409
    assert "存在风险，须向客户提示并记录客户的回答" in refused.text
    no_ack = await post(client, d, "/transfer", **data, confirmation_token=token, risk_override_reason="收款人是我表哥")
    assert no_ack.status_code == 409, "the override box must be ticked"
    assert 'id="risk_override_reason"' in no_ack.text
    assert "收款人是我表哥" in no_ack.text
    short = await post(
        client, d, "/transfer", **data, confirmation_token=token, risk_ack="1", risk_override_reason="是"
    )
    assert short.status_code == 422
    assert await _transfers(rt) == 0
    ok = await post(client, d, "/transfer", **data, confirmation_token=hidden(short.text, "confirmation_token"),
                    risk_ack="1", risk_override_reason="收款人是我表哥，认识多年")  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert "客户经提示后坚持办理" in ok.text
    rows = await audit_rows(rt, "banking.transfer")
    assert [r.outcome for r in rows][-1] == "ok"
    assert rows[-1].purpose == "收款人是我表哥，认识多年"
    assert "refused" in [r.outcome for r in rows]


async def test_card_loss_release_and_activation(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    base = f"/cards/{d.card_id}"
    preview = await post(client, d, base + "/temporary-loss", verification_id=str(vid))
    assert preview.status_code == 200
    assert "临时挂失" in preview.text
    assert "5 天后自动解除" in preview.text
    token = hidden(preview.text, "confirmation_token")
    done = await post(client, d, base + "/temporary-loss", verification_id=str(vid), confirmation_token=token)
    assert done.status_code == 303
    page = await client.get(done.headers["location"])
    assert "临时挂失已办理" in page.text
    assert 'data-card-status="temporary_loss"' in page.text
    twice = await post(client, d, base + "/temporary-loss", verification_id=str(vid))
    assert twice.status_code == 409
    assert "卡片当前状态不能办理此业务" in twice.text
    preview = await post(client, d, base + "/release", verification_id=str(vid))
    done = await post(client, d, base + "/release", verification_id=str(vid),
                      confirmation_token=hidden(preview.text, "confirmation_token"))  # fmt: skip
    page = await client.get(done.headers["location"])
    assert "已解除挂失" in page.text
    assert 'data-card-status="temporary_loss"' not in page.text
    act = f"/cards/{d.credit_card_id}/activation"
    preview = await post(client, d, act, verification_id=str(vid))
    done = await post(client, d, act, verification_id=str(vid),
                      confirmation_token=hidden(preview.text, "confirmation_token"))  # fmt: skip
    assert "信用卡已激活" in (await client.get(done.headers["location"])).text
    actions = [r.action for r in await audit_rows(rt, "banking.card")]
    assert actions == ["banking.card_loss_temporary", "banking.card_release", "banking.card_activation"]
    unknown = await post(client, d, base + "/shred", verification_id=str(vid))
    assert unknown.status_code == 404


async def test_appointment_with_readback(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    form = await client.get(url(d, "/appointment"))
    assert "北京分行营业部" in form.text
    day = clock.now().date() + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    data = {"verification_id": str(vid), "branch_code": "BJ001", "date": day.isoformat(), "time": "10:30",
            "account_type": "savings"}  # fmt: skip
    bad = await post(client, d, "/appointment", **{**data, "time": "10:10"})
    assert bad.status_code == 422
    assert 'value="10:10"' in bad.text
    preview = await post(client, d, "/appointment", **data)
    assert "北京分行营业部" in preview.text
    assert "10:30" in preview.text
    done = await post(client, d, "/appointment", **data, confirmation_token=hidden(preview.text, "confirmation_token"))
    assert done.status_code == 303
    page = await client.get(done.headers["location"])
    assert "开户预约已办理" in page.text
    assert "已预约" in page.text


async def test_core_offline_shows_message_and_manual_registration(rt, client):
    d = await make_desk(rt, client)
    vid = await verify_by_pin(client, d)
    rt.settings.core_banking = "offline"
    try:
        page = await client.get(url(d))
        assert "核心系统暂时无法使用" in page.text
        assert "data-manual-form" in page.text
        r = await post(client, d, "/balance", account_id=str(d.savings_id), verification_id=str(vid))
        assert r.status_code == 503
        assert "核心系统暂时无法使用，没有任何变更" in r.text
        form = await client.get(url(d, "/transfer"))
        assert "核心系统暂时无法使用" in form.text
        empty = await post(client, d, "/manual-requests", verification_id=str(vid), operation="transfer", details=" ")
        assert empty.status_code == 422
        done = await post(client, d, "/manual-requests", verification_id=str(vid), operation="transfer",
                          details="客户要求向 6222 0000 1111 转账 500 元")  # fmt: skip
        assert done.status_code == 303
        page = await client.get(done.headers["location"])
        assert "客户请求已登记" in page.text
        assert "data-manual-requests" in page.text
    finally:
        rt.settings.core_banking = "embedded"
    assert [r.action for r in await audit_rows(rt, "banking.manual")] == ["banking.manual_request.register"]
