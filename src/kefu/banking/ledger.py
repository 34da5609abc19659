"""The embedded double-entry ledger.

Every movement of money is one ``LedgerTransaction`` whose postings sum to zero. Each account keeps
its balance in its row, changed only here and always together with a posting, so
``balance == sum(postings)`` holds for every account and ``verify()`` can prove it. Postings are
append-only (database triggers refuse UPDATE and DELETE).

Concurrency: on PostgreSQL the accounts of one movement are locked with ``SELECT … FOR UPDATE`` in
ascending id order (two opposite transfers cannot deadlock), and each debit is a conditional UPDATE
(``balance + amount >= -overdraft_limit``) so no interleaving can take an account below its floor.
SQLite transactions begin IMMEDIATE, which already serialises writers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking.models import Account, AccountStatus, AccountType, Card, CardStatus, LedgerTransaction, Posting
from kefu.banking.port import InsufficientFunds
from kefu.core import clock
from kefu.core.crypto import blind_index, mask_card

ACCOUNT_CONTEXT = "bank_accounts.account_no"
CARD_CONTEXT = "bank_cards.card_no"


def account_bidx(account_no: str) -> str:
    return blind_index(account_no, context=ACCOUNT_CONTEXT)


def mask_account(account_no: str) -> str:
    return mask_card(account_no)


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def new_account_no() -> str:
    """A generated 19-digit account number (fictitious prefix 6299, Luhn check digit)."""
    body = "6299" + "".join(secrets.choice("0123456789") for _ in range(14))
    return body + _luhn_digit(body)


def new_card_no(kind: str = "debit") -> str:
    body = ("629901" if kind == "debit" else "629951") + "".join(secrets.choice("0123456789") for _ in range(9))
    return body + _luhn_digit(body)


async def lock_accounts(session: AsyncSession, account_ids: list[int]) -> None:
    """Take row locks on the accounts of one movement, lowest id first (PostgreSQL; SQLite is serial)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        ids = sorted(set(account_ids))
        await session.execute(select(Account.id).where(Account.id.in_(ids)).order_by(Account.id).with_for_update())


async def post(
    session: AsyncSession,
    *,
    legs: list[tuple[int, int]],
    kind: str,
    memo: str = "",
    counterparties: dict[int, str] | None = None,
) -> tuple[LedgerTransaction, dict[int, int]]:
    """Write one balanced transaction. ``legs`` are (account id, signed fen). Returns balances after."""
    if sum(amount for _, amount in legs) != 0 or len(legs) < 2:
        raise ValueError("a ledger transaction needs two or more legs that sum to zero")
    await lock_accounts(session, [a for a, _ in legs])
    now = clock.now()
    after: dict[int, int] = {}
    # debits first, each guarded by the account's floor, so a refusal happens before any credit
    for account_id, amount in sorted(legs, key=lambda leg: (leg[1] >= 0, leg[0])):
        stmt = update(Account).where(Account.id == account_id, Account.status == AccountStatus.ACTIVE.value)
        if amount < 0:
            stmt = stmt.where(
                or_(Account.type == AccountType.INTERNAL.value, Account.balance + amount >= -Account.overdraft_limit)
            )
        res = await session.execute(
            stmt.values(balance=Account.balance + amount)
            .returning(Account.balance)
            .execution_options(synchronize_session=False)
        )
        row = res.first()
        if row is None:
            raise InsufficientFunds(f"account {account_id} cannot be debited by {-amount}")
        after[account_id] = int(row[0])
    txn = LedgerTransaction(kind=kind, memo=memo[:120], created_at=now)
    session.add(txn)
    await session.flush()
    cps = counterparties or {}
    session.add_all(
        [
            Posting(
                transaction_id=txn.id,
                account_id=account_id,
                amount=amount,
                balance_after=after[account_id],
                counterparty_mask=cps.get(account_id, ""),
                created_at=now,
            )
            for account_id, amount in legs
        ]
    )
    await session.flush()
    return txn, after


async def internal_account(session: AsyncSession) -> Account:
    """The bank's own side of openings and adjustments (created on first use)."""
    found = (
        await session.execute(
            select(Account).where(Account.type == AccountType.INTERNAL.value).order_by(Account.id).limit(1)
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    number = "6299000000000000000"
    acct = Account(
        account_no=number,
        account_no_bidx=account_bidx(number),
        account_no_mask=mask_account(number),
        customer_id=None,
        type=AccountType.INTERNAL.value,
        currency="CNY",
        overdraft_limit=0,
        balance=0,
        status=AccountStatus.ACTIVE.value,
        opened_at=clock.now(),
    )
    session.add(acct)
    await session.flush()
    return acct


async def open_account(
    session: AsyncSession,
    *,
    customer_id: int,
    type: str = AccountType.SAVINGS.value,
    overdraft_limit: int = 0,
    opening_balance: int = 0,
    account_no: str | None = None,
) -> Account:
    """Open an account; an opening balance is posted against the bank's internal account."""
    if type == AccountType.SAVINGS.value and overdraft_limit:
        raise ValueError("savings accounts have no overdraft")
    number = account_no or new_account_no()
    acct = Account(
        account_no=number,
        account_no_bidx=account_bidx(number),
        account_no_mask=mask_account(number),
        customer_id=customer_id,
        type=type,
        currency="CNY",
        overdraft_limit=overdraft_limit,
        balance=0,
        status=AccountStatus.ACTIVE.value,
        opened_at=clock.now(),
    )
    session.add(acct)
    await session.flush()
    if opening_balance:
        bank = await internal_account(session)
        await post(session, legs=[(bank.id, -opening_balance), (acct.id, opening_balance)], kind="opening")
    return acct


async def issue_card(
    session: AsyncSession, *, account_id: int, kind: str = "debit", activated: bool = True, card_no: str | None = None
) -> Card:
    number = card_no or new_card_no(kind)
    now = clock.now()
    card = Card(
        card_no=number,
        card_no_bidx=blind_index(number, context=CARD_CONTEXT),
        card_no_mask=mask_card(number),
        account_id=account_id,
        kind=kind,
        status=CardStatus.ACTIVE.value,
        activated_at=now if activated else None,
        issued_at=now,
        updated_at=now,
    )
    session.add(card)
    await session.flush()
    return card


@dataclass
class LedgerReport:
    ok: bool
    accounts: int
    transactions: int
    postings: int
    total_balance: int  # over every account including the bank's internal one: 0 when balanced
    unbalanced_transactions: list[int] = field(default_factory=list)
    mismatched_accounts: list[dict[str, int]] = field(default_factory=list)
    below_floor_accounts: list[int] = field(default_factory=list)


async def verify(session: AsyncSession, *, sample: int = 20) -> LedgerReport:
    """Prove the whole ledger: every transaction sums to zero, every balance equals its postings."""
    unbalanced = (
        (
            await session.execute(
                select(Posting.transaction_id)
                .group_by(Posting.transaction_id)
                .having(func.sum(Posting.amount) != 0)
                .limit(sample)
            )
        )
        .scalars()
        .all()
    )
    sums = (
        select(Posting.account_id.label("account_id"), func.sum(Posting.amount).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    mismatched = (
        await session.execute(
            select(Account.id, Account.balance, func.coalesce(sums.c.total, 0))
            .outerjoin(sums, sums.c.account_id == Account.id)
            .where(Account.balance != func.coalesce(sums.c.total, 0))
            .limit(sample)
        )
    ).all()
    below = (
        (
            await session.execute(
                select(Account.id)
                .where(and_(Account.type != AccountType.INTERNAL.value, Account.balance < -Account.overdraft_limit))
                .limit(sample)
            )
        )
        .scalars()
        .all()
    )
    n_accounts, total = (await session.execute(select(func.count(Account.id), func.sum(Account.balance)))).one()
    n_txn = (await session.execute(select(func.count(LedgerTransaction.id)))).scalar_one()
    n_post = (await session.execute(select(func.count(Posting.id)))).scalar_one()
    orphans = (
        await session.execute(
            select(func.count(LedgerTransaction.id)).where(
                ~select(Posting.id).where(Posting.transaction_id == LedgerTransaction.id).exists()
            )
        )
    ).scalar_one()
    total = int(total or 0)
    report = LedgerReport(
        ok=not unbalanced and not mismatched and not below and total == 0 and orphans == 0,
        accounts=int(n_accounts),
        transactions=int(n_txn),
        postings=int(n_post),
        total_balance=total,
        unbalanced_transactions=[int(t) for t in unbalanced],
        mismatched_accounts=[
            {"account_id": int(a), "balance": int(b), "postings_sum": int(s)} for a, b, s in mismatched
        ],
        below_floor_accounts=[int(a) for a in below],
    )
    return report
