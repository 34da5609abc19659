"""Cards (loss, expiry, release, activation), accounts, history, appointments, ledger check, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from kefu.banking import cards
from kefu.core import audit, clock
from kefu.core.jobs import make_huey, register_tasks
from tests.banking.conftest import Bank
from tests.banking.test_transfers import do_transfer
from tests.factories import auth_headers, make_staff, make_verification

API = "/api/v1/banking"


async def card_op(client: Any, bank: Bank, card_id: int, op: str, verification_id: int | None = None) -> Any:
    b = {"customer_id": bank.customer_id, "verification_id": verification_id or bank.verification_id}
    p = await client.post(f"{API}/cards/{card_id}/{op}", headers=bank.headers, json=b)
    if p.status_code != 200:
        return p
    assert p.json()["status"] == "preview"
    assert p.json()["read_back"]
    return await client.post(f"{API}/cards/{card_id}/{op}", headers=bank.headers,
                             json={**b, "confirmation_token": p.json()["confirmation_token"]})  # fmt: skip


async def test_temporary_loss_expires_after_five_days_unless_formal(rt, client, bank: Bank):
    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    clock.freeze(start)
    l1 = await make_verification(rt, customer_id=bank.customer_id, staff_id=bank.agent.id, level=1)
    r = await card_op(client, bank, bank.card_id, "temporary-loss", l1)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"
    assert r.json()["card"]["status"] == "temporary_loss"
    cards_now = (await client.get(f"{API}/customers/{bank.customer_id}/cards", headers=bank.headers)).json()
    mine = next(c for c in cards_now if c["id"] == bank.card_id)
    assert mine["status"] == "temporary_loss"
    assert "*" in mine["card"]
    assert (await card_op(client, bank, bank.card_id, "temporary-loss")).status_code == 409
    # release needs L2
    assert (await card_op(client, bank, bank.card_id, "release", l1)).status_code == 403

    clock.advance(dt.timedelta(days=4, hours=23))
    async with rt.db.transaction() as s:
        assert await cards.expire_temporary_losses(s) == 0
    clock.advance(dt.timedelta(hours=2))
    assert await cards.expire_job(rt) == 1
    # days later: a new call, a new sign-in and a new verification
    bank.headers = await auth_headers(client, bank.agent)
    bank.verification_id = await make_verification(rt, customer_id=bank.customer_id, staff_id=bank.agent.id)
    cards_now = (await client.get(f"{API}/customers/{bank.customer_id}/cards", headers=bank.headers)).json()
    assert next(c for c in cards_now if c["id"] == bank.card_id)["status"] == "active"

    # temporary then formal: the expiry job leaves a formal loss alone; release is refused
    assert (await card_op(client, bank, bank.card_id, "temporary-loss")).status_code == 200
    r = await card_op(client, bank, bank.card_id, "formal-loss")
    assert r.status_code == 200
    assert r.json()["status"] == "done"
    clock.advance(dt.timedelta(days=10))
    assert await cards.expire_job(rt) == 0
    bank.headers = await auth_headers(client, bank.agent)
    bank.verification_id = await make_verification(rt, customer_id=bank.customer_id, staff_id=bank.agent.id)
    r = await card_op(client, bank, bank.card_id, "release")
    assert r.status_code == 409
    assert "branch" in r.json()["detail"]
    async with rt.db.transaction() as s:
        actions = [a for (a,) in (await s.execute(select(audit.AuditEntry.action))).all() if a.startswith("banking.")]
        assert (await audit.verify(s)).ok
    assert actions.count("banking.card_loss_temporary") == 2
    assert actions.count("banking.card_loss_expired") == 1
    assert actions.count("banking.card_loss_formal") == 1


async def test_release_and_activation(client, bank: Bank):
    assert (await card_op(client, bank, bank.card_id, "temporary-loss")).status_code == 200
    r = await card_op(client, bank, bank.card_id, "release")
    assert r.status_code == 200
    assert r.json()["status"] == "done"
    assert (await card_op(client, bank, bank.card_id, "release")).status_code == 409
    r = await card_op(client, bank, bank.credit_card_id, "activation")
    assert r.status_code == 200
    assert r.json()["card"]["activated"] is True
    assert (await card_op(client, bank, bank.credit_card_id, "activation")).status_code == 409
    assert (await card_op(client, bank, bank.card_id, "activation")).status_code == 409  # already active
    # another customer's card is not found for this customer
    other = await client.post(f"{API}/cards/999999/temporary-loss", headers=bank.headers,
                              json={"customer_id": bank.customer_id, "verification_id": bank.verification_id})  # fmt: skip
    assert other.status_code == 404


async def test_periodic_expiry_task_is_registered(settings):
    huey = make_huey(settings)
    try:
        register_tasks(huey)
        assert "kefu.banking.expire_temporary_losses" in {t.__name__ for t in huey._registry._periodic_tasks}
    finally:
        huey.flush()


async def test_accounts_masked_and_history_paged_newest_first(rt, client, bank: Bank):
    r = await client.get(f"{API}/customers/{bank.customer_id}/accounts", headers=bank.headers)
    assert r.status_code == 200
    assert bank.savings_no not in r.text
    assert "balance" not in r.text
    assert {a["type"] for a in r.json()} == {"savings", "credit_card"}
    for amount in (101, 102, 103):
        assert (await do_transfer(client, bank, amount=amount)).status_code == 201
    url = f"{API}/customers/{bank.customer_id}/accounts/{bank.savings_id}/transactions"
    q = {"verification_id": bank.verification_id, "limit": 2}
    page = (await client.get(url, headers=bank.headers, params=q)).json()
    assert page["total"] == 4
    assert [i["amount"] for i in page["items"]] == [-103, -102]
    assert page["items"][0]["counterparty"].count("*") >= 5
    page2 = (await client.get(url, headers=bank.headers, params={**q, "offset": 2})).json()
    assert [i["amount"] for i in page2["items"]] == [-101, 1_000_000]
    future = (clock.now() + dt.timedelta(days=1)).isoformat()
    r = await client.get(url, headers=bank.headers, params={**q, "start": future})
    assert r.json()["total"] == 0
    r = await client.get(url, headers=bank.headers, params={**q, "start": "2026-01-02T00:00:00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "start"
    r = await client.get(f"{API}/customers/{bank.customer_id}/accounts/{bank.payee_id}/balance",
                         headers=bank.headers, params={"verification_id": bank.verification_id})  # fmt: skip
    assert r.status_code == 404, "another customer's account"


async def test_appointment_validated_and_booked(rt, client, bank: Bank):
    clock.freeze(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))  # Monday 10:00 in Shanghai
    rt.settings.banking_holidays = ["2026-11-25"]
    base = {"customer_id": bank.customer_id, "verification_id": bank.verification_id, "branch_code": "BJ001",
            "date": "2026-11-24", "time": "10:30", "account_type": "savings"}  # fmt: skip
    bad = [({"date": "2026-11-28"}, "date"), ({"date": "2026-11-25"}, "date"), ({"date": "2026-11-20"}, "date"),
           ({"time": "10:15"}, "time"), ({"time": "18:00"}, "time"), ({"branch_code": "XX9"}, "branch_code")]  # fmt: skip
    for change, field in bad:
        r = await client.post(f"{API}/appointments", headers=bank.headers, json={**base, **change})
        assert r.status_code == 422, (change, r.text)
        assert r.json()["errors"][0]["field"] == field
    p = await client.post(f"{API}/appointments", headers=bank.headers, json=base)
    assert p.status_code == 200
    assert p.json()["status"] == "preview"
    r = await client.post(f"{API}/appointments", headers=bank.headers,
                          json={**base, "confirmation_token": p.json()["confirmation_token"]})  # fmt: skip
    assert r.status_code == 200
    assert r.json()["status"] == "done"
    listed = (await client.get(f"{API}/customers/{bank.customer_id}/appointments", headers=bank.headers)).json()
    assert len(listed) == 1
    assert listed[0]["starts_at"].startswith("2026-11-24T02:30")
    again = await client.post(f"{API}/appointments", headers=bank.headers, json=base)
    assert again.status_code == 409


async def test_ledger_check_for_auditors(rt, client, bank: Bank):
    auditor = await make_staff(rt, roles=["auditor"])
    h = await auth_headers(client, auditor)
    assert (await do_transfer(client, bank, amount=500)).status_code == 201
    r = await client.get(f"{API}/ledger/check", headers=h)
    assert r.status_code == 200
    assert r.json()["ok"] is True
    assert r.json()["total_balance"] == 0
    assert (await client.get(f"{API}/ledger/check", headers=bank.headers)).status_code == 403


async def test_postings_are_append_only(rt, bank: Bank):
    from sqlalchemy import text

    for sql in ("UPDATE ledger_postings SET amount = 0", "DELETE FROM ledger_postings"):
        with pytest.raises(Exception, match="append-only"):  # noqa: PT011 - either driver's error class
            async with rt.db.transaction() as s:
                await s.execute(text(sql))
