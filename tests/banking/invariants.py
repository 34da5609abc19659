"""The bank's invariants, checked after every concurrent, random or crash run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import ledger
from kefu.banking.models import Account, LedgerTransaction, Posting, Transfer


async def customer_total(session: AsyncSession) -> int:
    total = (await session.execute(select(func.sum(Account.balance)).where(Account.type != "internal"))).scalar_one()
    return int(total or 0)


async def check(
    session: AsyncSession, *, total_before: int, acknowledged: dict[tuple[int, str], dict[str, Any]]
) -> int:
    """Assert every invariant; ``acknowledged`` maps (customer id, idempotency key) to the answer the
    client saw. Returns how many transfers exist."""
    report = await ledger.verify(session)
    assert report.ok, report
    assert await customer_total(session) == total_before, "money appeared or vanished"
    negatives = (
        await session.execute(
            select(Account.id, Account.balance, Account.overdraft_limit).where(
                Account.type != "internal", Account.balance < -Account.overdraft_limit
            )
        )
    ).all()
    assert not negatives, f"accounts below their floor: {negatives}"
    no_overdraft_negative = (
        await session.execute(
            select(func.count(Account.id)).where(
                Account.type != "internal", Account.overdraft_limit == 0, Account.balance < 0
            )
        )
    ).scalar_one()
    assert no_overdraft_negative == 0
    rows = (await session.execute(select(Transfer))).scalars().all()
    by_key: dict[tuple[int, str], list[Transfer]] = {}
    for t in rows:
        by_key.setdefault((t.customer_id, t.idempotency_key), []).append(t)
    for key, answer in acknowledged.items():
        found = by_key.get(key, [])
        assert len(found) == 1, f"acknowledged transfer {key} exists {len(found)} times"
        t = found[0]
        assert (t.id, t.amount) == (answer["transfer_id"], answer["amount"]), (key, answer)
        legs = (
            await session.execute(
                select(Posting.account_id, Posting.amount).where(Posting.transaction_id == t.transaction_id)
            )
        ).all()
        assert sorted(legs) == sorted([(t.from_account_id, -t.amount), (t.to_account_id, t.amount)])
    transfer_txns = (
        await session.execute(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "transfer"))
    ).scalar_one()
    assert transfer_txns == len(rows), "a ledger transfer without its transfer record (or the reverse)"
    return len(rows)
