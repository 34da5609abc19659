"""Transfers over the API: read-back, idempotency, daily limit, risk prompts, verification level, audit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from kefu.banking import ledger
from kefu.banking.models import Operation, Posting, Transfer
from kefu.core import audit
from tests.banking.conftest import Bank
from tests.factories import make_verification

PROBLEM = "application/problem+json"
API = "/api/v1/banking"


def body(bank: Bank, **kw: Any) -> dict[str, Any]:
    out = {"customer_id": bank.customer_id, "verification_id": bank.verification_id,
           "from_account_id": bank.savings_id, "to_account_no": bank.payee_no, "amount": 12_345,
           "idempotency_key": uuid.uuid4().hex, "memo": "房租"}  # fmt: skip
    out.update(kw)
    return out


async def do_transfer(client: Any, bank: Bank, **kw: Any) -> Any:
    b = body(bank, **kw)
    override = b.pop("risk_override_reason", None)
    p = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=b)
    assert p.status_code == 200, p.text
    full = {**b, "confirmation_token": p.json()["confirmation_token"]}
    if override:
        full["risk_override_reason"] = override
    return await client.post(f"{API}/transfers", headers=bank.headers, json=full)


async def _count(rt: Any, model: Any) -> int:
    async with rt.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_preview_reads_back_and_execute_moves_money_once(rt, client, bank: Bank):
    b = body(bank)
    p = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=b)
    assert p.status_code == 200, p.text
    summary = p.json()
    assert summary["from_account"].startswith(bank.savings_no[:6])
    assert "*" in summary["from_account"]
    assert bank.payee_no not in p.text
    assert bank.savings_no not in p.text
    assert summary["amount"] == 12_345
    assert summary["risks"] == []
    assert summary["problems"] == []
    assert await _count(rt, Transfer) == 0, "a preview moves nothing"

    r = await client.post(f"{API}/transfers", headers=bank.headers,
                          json={**b, "confirmation_token": summary["confirmation_token"]})  # fmt: skip
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "done"
    assert first["amount"] == 12_345
    # a retry (same key, same details) gets the first answer back and posts nothing more
    again = await client.post(f"{API}/transfers", headers=bank.headers,
                              json={**b, "confirmation_token": summary["confirmation_token"]})  # fmt: skip
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    assert await _count(rt, Transfer) == 1
    # the same key for another amount is refused
    other = await do_transfer(client, bank, idempotency_key=b["idempotency_key"], amount=99)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.headers["content-type"].startswith(PROBLEM)

    bal = await client.get(f"{API}/customers/{bank.customer_id}/accounts/{bank.savings_id}/balance",
                           headers=bank.headers, params={"verification_id": bank.verification_id})  # fmt: skip
    assert bal.status_code == 200
    assert bal.json()["balance"] == 1_000_000 - 12_345
    async with rt.db.transaction() as s:
        report = await ledger.verify(s)
        assert report.ok, report
        ops = (await s.execute(select(Operation).order_by(Operation.id))).scalars().all()
        assert [o.operation for o in ops] == ["transfer", "balance"]
        assert all(o.contact_ref and o.verification_id == bank.verification_id for o in ops)
        entries = await s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action == "banking.transfer"))
        entry = entries.scalars().one()
        assert bank.payee_no not in (entry.after or "")
        assert '"amount":"****"' in (entry.after or "")
        assert (await audit.verify(s)).ok


async def test_execute_needs_the_token_of_the_same_details(client, bank: Bank):
    b = body(bank)
    p = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=b)
    token = p.json()["confirmation_token"]
    r = await client.post(f"{API}/transfers", headers=bank.headers, json={**b, "amount": 99_999,
                                                                            "confirmation_token": token})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["code"] == "confirmation_mismatch"
    r = await client.post(f"{API}/transfers", headers=bank.headers, json=b)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "confirmation_token"


async def test_validation_names_the_field(client, bank: Bank):
    cases = [
        ({"amount": 0}, "amount"),
        ({"to_account_no": "12ab"}, "to_account_no"),
        ({"to_account_no": "6299000011112222333"}, "to_account_no"),  # no such account
        ({"from_account_id": bank.payee_id}, "from_account_id"),  # not the customer's
        ({"idempotency_key": "short"}, "idempotency_key"),
        ({"to_account_no": bank.savings_no}, "to_account_no"),  # paying itself
    ]
    for change, field in cases:
        r = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=body(bank, **change))
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert field in {e["field"] for e in r.json()["errors"]}, (change, r.text)


async def test_no_negative_balance_without_overdraft_but_credit_card_to_minus_limit(rt, client, bank: Bank):
    r = await do_transfer(client, bank, amount=1_000_001, to_account_no=bank.credit_no)
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient_funds"
    # own accounts: no daily limit and no new-payee prompt; a credit card may go down to -limit
    r = await do_transfer(client, bank, from_account_id=bank.credit_id, to_account_no=bank.savings_no, amount=2_000_000)
    assert r.status_code == 201, r.text
    r = await do_transfer(client, bank, from_account_id=bank.credit_id, to_account_no=bank.savings_no, amount=1)
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient_funds"
    async with rt.db.transaction() as s:
        assert (await ledger.verify(s)).ok


async def test_daily_limit_per_customer(rt, client, bank: Bank):
    rt.settings.banking_daily_transfer_limit_fen = 100_000
    assert (await do_transfer(client, bank, amount=60_000)).status_code == 201
    r = await do_transfer(client, bank, amount=50_000)
    assert r.status_code == 409
    assert r.json()["code"] == "daily_limit_exceeded"
    assert "400.00 CNY left today" in r.json()["detail"]
    assert (await do_transfer(client, bank, amount=40_000)).status_code == 201


async def test_risk_prompt_new_payee_and_fraud_list_need_an_override(rt, client, bank: Bank):
    big = rt.settings.banking_risk_threshold_fen
    p = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=body(bank, amount=big))
    assert [x["code"] for x in p.json()["risks"]] == ["new_payee_large_amount"]
    r = await do_transfer(client, bank, amount=big)
    assert r.status_code == 409
    assert r.json()["code"] == "risk_confirmation_required"
    assert r.json()["errors"][0]["field"] == "risk_override_reason"
    assert await _count(rt, Transfer) == 0
    assert await _count(rt, Posting) == 4
    r = await do_transfer(client, bank, amount=big, risk_override_reason="客户确认是给房东的房租，已提示诈骗风险")
    assert r.status_code == 201
    assert r.json()["risk_override"] is True

    # a supervisor lists the payee account as fraud: even a small transfer needs an override now
    from tests.factories import auth_headers, make_staff

    sup = await make_staff(rt, roles=["supervisor"])
    sh = await auth_headers(client, sup)
    f = await client.post(
        f"{API}/fraud-list", headers=sh, json={"account_no": bank.payee_no, "reason": "公安通报涉诈账户"}
    )
    assert f.status_code == 201, f.text
    assert bank.payee_no not in f.text
    r = await do_transfer(client, bank, amount=100)
    assert r.status_code == 409
    assert [x["code"] for x in r.json()["risks"]] == ["fraud_list"]
    assert (await client.get(f"{API}/fraud-list", headers=bank.headers)).status_code == 403
    async with rt.db.transaction() as s:
        rows = await s.execute(select(audit.AuditEntry.action, audit.AuditEntry.outcome, audit.AuditEntry.purpose))
        acts = [(a, o, p) for a, o, p in rows.all() if a.startswith("banking.")]
    assert ("banking.transfer", "refused", None) in acts
    assert ("banking.transfer", "ok", "客户确认是给房东的房租，已提示诈骗风险") in acts
    assert ("banking.fraud_list.add", "ok", None) in acts


async def test_level_one_cannot_transfer(rt, client, bank: Bank):
    l1 = await make_verification(rt, customer_id=bank.customer_id, staff_id=bank.agent.id, level=1)
    r = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=body(bank, verification_id=l1))
    assert r.status_code == 403
    assert r.json()["code"] == "verification_level_too_low"
    bal = await client.get(f"{API}/customers/{bank.customer_id}/accounts/{bank.savings_id}/balance",
                           headers=bank.headers, params={"verification_id": l1})  # fmt: skip
    assert bal.status_code == 200
    expired = await make_verification(rt, customer_id=bank.customer_id, staff_id=bank.agent.id, status="closed")
    r = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=body(bank, verification_id=expired))
    assert r.status_code == 409


async def test_core_offline_answers_503_and_writes_nothing(rt, client, bank: Bank):
    from tests.factories import auth_headers, make_staff

    admin = await make_staff(rt, roles=["admin"])
    ah = await auth_headers(client, admin)
    b = body(bank)
    p = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=b)
    token = p.json()["confirmation_token"]
    r = await client.put(f"{API}/core-status", headers=ah, json={"mode": "offline", "reason": "应急演练 drill"})
    assert r.status_code == 200
    assert r.json()["available"] is False
    before = await _count(rt, audit.AuditEntry), await _count(rt, Posting), await _count(rt, Operation)
    r = await client.post(f"{API}/transfers", headers=bank.headers, json={**b, "confirmation_token": token})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "core_banking_unavailable"
    assert "Register" in r.json()["detail"]
    for url in (f"/customers/{bank.customer_id}/accounts", f"/customers/{bank.customer_id}/cards"):
        assert (await client.get(API + url, headers=bank.headers)).status_code == 503
    c = await client.post(f"{API}/cards/{bank.card_id}/temporary-loss", headers=bank.headers,
                          json={"customer_id": bank.customer_id, "verification_id": bank.verification_id})  # fmt: skip
    assert c.status_code == 503
    assert (await _count(rt, audit.AuditEntry), await _count(rt, Posting), await _count(rt, Operation)) == before

    # the agent registers the request by hand; someone processes it when the core is back
    m = await client.post(f"{API}/manual-requests", headers=bank.headers, json={
        "customer_id": bank.customer_id, "verification_id": bank.verification_id, "operation": "transfer",
        "details": f"转账 123.45 元到 {bank.payee_no}，客户手机 13812345678"})  # fmt: skip
    assert m.status_code == 201, m.text
    assert bank.payee_no not in m.text
    assert "13812345678" not in m.text
    listed = (await client.get(f"{API}/manual-requests", headers=bank.headers, params={"status": "pending"})).json()
    assert listed["total"] == 1
    assert listed["items"][0]["contact_ref"]
    back = await client.put(f"{API}/core-status", headers=ah, json={"mode": "online", "reason": "演练结束 end"})
    assert back.json()["available"] is True
    done = await client.post(f"{API}/manual-requests/{m.json()['id']}/process", headers=bank.headers,
                             json={"outcome": "已在核心系统完成转账"})  # fmt: skip
    assert done.status_code == 200
    assert done.json()["status"] == "processed"
    again = await client.post(f"{API}/manual-requests/{m.json()['id']}/process", headers=bank.headers,
                              json={"outcome": "again"})  # fmt: skip
    assert again.status_code == 409


async def test_offline_by_configuration(rt, client, bank: Bank):
    rt.settings.core_banking = "offline"
    r = await client.post(f"{API}/transfers/preview", headers=bank.headers, json=body(bank))
    assert r.status_code == 503
    s = (await client.get(f"{API}/core-status", headers=bank.headers)).json()
    assert s["available"] is False
    assert s["forced_by_configuration"] is True
