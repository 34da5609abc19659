"""`kefu demo`: generated customers, accounts, cards and a year of transactions, with every invariant."""

from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import func, select

from kefu.banking import demo as bank_demo
from kefu.banking import ledger
from kefu.banking.models import Account, Card, LedgerTransaction
from kefu.core import audit, clock
from kefu.core.crypto import blind_index, mask_card
from kefu.customers import consents, verification
from kefu.customers import demo as people_demo
from kefu.customers import repository as repo
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.staff import demo as staff_demo
from kefu.staff import repository as staff_repo
from tests.factories import cli_env, fresh_database_url, principal_of, run_cli, sync_rows

N = 30


def test_resident_id_check_digit() -> None:
    assert people_demo.id_check_digit("11010519491231002") == "X"  # the worked example of GB 11643
    assert people_demo.valid_resident_id("11010519491231002X")
    assert not people_demo.valid_resident_id("110105194912310021")
    assert not people_demo.valid_resident_id("110105194902300020")  # 30 February


async def _load(rt, n: int = N, seed: int = 7) -> bank_demo.DemoSummary:
    async with rt.db.transaction() as s:
        await staff_demo.load(s)
        return await bank_demo.load(s, customers=n, seed=seed)


def _groups_stored(c: Customer, phones: int) -> set[str]:
    groups = set()
    if c.id_number or c.birth_date or c.id_type:
        groups.add("identity")
    if phones or c.email or c.address:
        groups.add("contact")
    if c.occupation or c.income_band:
        groups.add("profile")
    if json.loads(c.tags) or c.marketing_contact:
        groups.add("marketing")
    return groups


async def test_demo_customers_hold_every_invariant(rt) -> None:
    stages: list[str] = []
    async with rt.db.transaction() as s:
        await staff_demo.load(s)
        summary = await bank_demo.load(s, customers=N, seed=7, progress=lambda stage, _d, _t: stages.append(stage))
    assert {"customers", "transactions", "writing ledger"} <= set(stages)
    assert summary.customers == N
    assert summary.accounts >= N
    assert summary.transactions > 20 * N
    assert summary.postings == 2 * summary.transactions
    async with rt.db.transaction() as s:
        people = (await s.execute(select(Customer).order_by(Customer.id))).scalars().all()
        assert len(people) == N
        ids = [c.id_number for c in people]
        assert len(set(ids)) == N
        for c in people:
            assert c.id_number is not None
            assert people_demo.valid_resident_id(c.id_number)
            assert c.birth_date == f"{c.id_number[6:10]}-{c.id_number[10:12]}-{c.id_number[12:14]}"
            assert c.gender == ("M" if int(c.id_number[16]) % 2 else "F")
            assert [x.id for x in await customers.lookup(s, id_number=c.id_number)] == [c.id]
            phones = await repo.phones_of(s, c.id)
            assert phones
            assert phones[0].is_primary
            for p in phones:
                assert [x.id for x in await customers.lookup(s, phone=p.phone)] == [c.id]
            status, usable = await consents.group_status(s, c.id)
            assert _groups_stored(c, len(phones)) <= usable, (c.customer_no, status)
            for consent in await repo.consents_of(s, c.id):
                assert consent.words_shown
                assert consent.channel
                assert consent.captured_by
        report = await ledger.verify(s)
        assert report.ok, report
        assert report.total_balance == 0
        accounts = (await s.execute(select(Account).where(Account.customer_id.is_not(None)))).scalars().all()
        assert {a.type for a in accounts} >= {"savings"}
        assert all(a.balance >= -a.overdraft_limit for a in accounts)
        cards = (await s.execute(select(Card))).scalars().all()
        for card in cards:
            assert card.card_no_mask == mask_card(card.card_no)
            assert card.card_no_bidx == blind_index(card.card_no, context=ledger.CARD_CONTEXT)
        for a in accounts:
            assert a.account_no_bidx == ledger.account_bidx(a.account_no)
        year_ago = clock.now() - dt.timedelta(days=366)
        first = (await s.execute(select(func.min(LedgerTransaction.created_at)))).scalar_one()
        assert first >= year_ago
        assert (await audit.verify(s)).ok
        entries = await s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action == "demo.load_customers"))
        assert len(entries.scalars().all()) == 1


async def test_demo_caller_verifies_with_the_documented_pin(rt) -> None:
    summary = await _load(rt)
    caller = summary.callers[0]
    assert caller.pin == caller.customer_no[-6:]
    async with rt.db.transaction() as s:
        agent = await staff_repo.get_staff_by_no(s, "10001")
        assert agent is not None
        actor = principal_of(agent)
        (found,) = await customers.lookup(s, phone=caller.phone)
        assert found.customer_no == caller.customer_no
        v = await verification.start(s, actor=actor, customer_id=found.id, contact_ref="demo-call")
        wrong = "000000" if caller.pin != "000000" else "111112"
        assert (await verification.submit_pin(s, actor=actor, verification_id=v.id, pin=wrong))["passed"] is False
        result = await verification.submit_pin(s, actor=actor, verification_id=v.id, pin=caller.pin)
        assert result["passed"] is True
        assert result["level"] == 2
        v2 = await verification.start(s, actor=actor, customer_id=found.id)
        questions = await verification.questions(s, actor=actor, verification_id=v2.id)
        answers = dict(caller.answers)
        given = [{"index": q["index"], "answer": answers[q["question"]]} for q in questions]
        assert (await verification.answer_questions(s, actor=actor, verification_id=v2.id, answers=given))["passed"]
    async with rt.db.transaction() as s:
        assert (await audit.verify(s)).ok


async def test_same_seed_same_people(rt) -> None:
    taken_a = {"customer_no": set(), "phone": set(), "id_number": set()}
    taken_b = {"customer_no": set(), "phone": set(), "id_number": set()}
    now = clock.now()
    a = people_demo.generate(random.Random(3), 50, now=now, taken=taken_a)  # type: ignore[arg-type]
    b = people_demo.generate(random.Random(3), 50, now=now, taken=taken_b)  # type: ignore[arg-type]
    assert [(p.customer_no, p.name, p.id_number, p.phones) for p in a] == [
        (p.customer_no, p.name, p.id_number, p.phones) for p in b
    ]
    assert {p.gender for p in a} == {"M", "F"}
    assert {len(p.name) for p in a} >= {2, 3}


def test_cli_demo_if_empty_loads_once(settings, tmp_path) -> None:
    url, cleanup = fresh_database_url(settings, tmp_path, "kefu_demo")
    try:
        env = cli_env(settings, KEFU_DATABASE_URL=url)
        assert run_cli(["db", "upgrade"], env).exit_code == 0
        r = run_cli(["demo", "--if-empty", "--customers", str(N)], env)
        assert r.exit_code == 0, r.output
        assert f"{N} demo customers" in r.output
        assert "Example demo callers" in r.output
        (no,) = sync_rows(url, "SELECT customer_no FROM customers ORDER BY id LIMIT 1")[0]
        assert no in r.output
        counts = sync_rows(url, "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM ledger_transactions)")
        r = run_cli(["demo", "--if-empty", "--customers", str(N)], env)
        assert r.exit_code == 0, r.output
        assert "nothing loaded" in r.output
        assert (
            sync_rows(url, "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM ledger_transactions)")
            == counts
        )
        r = run_cli(["audit", "verify"], env)
        assert r.exit_code == 0, r.output
    finally:
        cleanup()
