"""``EmbeddedCoreBanking``: the default core system, on Kefu's own database (see kefu.banking.port)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import ledger
from kefu.banking.models import Account, Appointment, Card, LedgerTransaction, Posting
from kefu.banking.port import (
    AccountRef,
    AccountView,
    AppointmentView,
    BalanceView,
    CardView,
    HistoryLine,
    HistoryPage,
    Posted,
)
from kefu.core import clock
from kefu.core.errors import NotFound


def _account_view(a: Account) -> AccountView:
    assert a.customer_id is not None  # noqa: S101 - customer accounts only reach views
    return AccountView(
        id=a.id,
        customer_id=a.customer_id,
        masked=a.account_no_mask,
        type=a.type,
        currency=a.currency,
        status=a.status,
        overdraft_limit=a.overdraft_limit,
        opened_at=a.opened_at,
    )


def _card_view(c: Card, customer_id: int) -> CardView:
    return CardView(
        id=c.id,
        account_id=c.account_id,
        customer_id=customer_id,
        masked=c.card_no_mask,
        kind=c.kind,
        status=c.status,
        activated=c.activated_at is not None,
        loss_reported_at=c.loss_reported_at,
        loss_expires_at=c.loss_expires_at,
        formal_loss_at=c.formal_loss_at,
    )


class EmbeddedCoreBanking:
    name = "embedded"

    async def accounts(self, session: AsyncSession, *, customer_id: int) -> list[AccountView]:
        rows = (
            (await session.execute(select(Account).where(Account.customer_id == customer_id).order_by(Account.id)))
            .scalars()
            .all()
        )
        return [_account_view(a) for a in rows]

    async def account(self, session: AsyncSession, *, account_id: int) -> AccountView | None:
        stmt = select(Account).where(Account.id == account_id).execution_options(populate_existing=True)
        a = (await session.execute(stmt)).scalar_one_or_none()
        return None if a is None or a.customer_id is None else _account_view(a)

    async def find_account(self, session: AsyncSession, *, account_no: str) -> AccountRef | None:
        bidx = ledger.account_bidx(account_no)
        row = (
            await session.execute(
                select(Account.id, Account.customer_id, Account.account_no_mask, Account.status, Account.type).where(
                    Account.account_no_bidx == bidx
                )
            )
        ).first()
        if row is None:
            return None
        return AccountRef(id=row[0], customer_id=row[1], masked=row[2], number_bidx=bidx, status=row[3], type=row[4])

    async def balance(self, session: AsyncSession, *, account_id: int) -> BalanceView:
        row = (
            await session.execute(
                select(Account.account_no_mask, Account.currency, Account.balance, Account.overdraft_limit).where(
                    Account.id == account_id
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"No account {account_id}.")
        masked, currency, balance, limit = row
        return BalanceView(
            account_id=account_id,
            masked=masked,
            currency=currency,
            balance=int(balance),
            available=int(balance) + int(limit),
            as_of=clock.now(),
        )

    async def history(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        start: dt.datetime | None,
        end: dt.datetime | None,
        offset: int,
        limit: int,
    ) -> HistoryPage:
        where = [Posting.account_id == account_id]
        if start is not None:
            where.append(Posting.created_at >= start)
        if end is not None:
            where.append(Posting.created_at < end)
        total = (await session.execute(select(func.count(Posting.id)).where(*where))).scalar_one()
        rows = (
            await session.execute(
                select(Posting, LedgerTransaction.memo)
                .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
                .where(*where)
                .order_by(Posting.created_at.desc(), Posting.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).all()
        items = [
            HistoryLine(
                posting_id=p.id,
                transaction_id=p.transaction_id,
                at=p.created_at,
                amount=p.amount,
                balance_after=p.balance_after,
                counterparty=p.counterparty_mask,
                memo=memo,
            )
            for p, memo in rows
        ]
        return HistoryPage(account_id=account_id, items=items, total=int(total), offset=offset, limit=limit)

    async def post_transfer(
        self, session: AsyncSession, *, from_account_id: int, to_account_id: int, amount: int, memo: str
    ) -> Posted:
        masks = dict(
            (
                await session.execute(
                    select(Account.id, Account.account_no_mask).where(Account.id.in_([from_account_id, to_account_id]))
                )
            ).all()
        )
        txn, after = await ledger.post(
            session,
            legs=[(from_account_id, -amount), (to_account_id, amount)],
            kind="transfer",
            memo=memo,
            counterparties={
                from_account_id: masks.get(to_account_id, ""),
                to_account_id: masks.get(from_account_id, ""),
            },
        )
        return Posted(
            transaction_id=txn.id,
            from_balance_after=after[from_account_id],
            to_balance_after=after[to_account_id],
            at=txn.created_at,
        )

    async def cards(self, session: AsyncSession, *, customer_id: int) -> list[CardView]:
        rows = (
            (
                await session.execute(
                    select(Card)
                    .join(Account, Account.id == Card.account_id)
                    .where(Account.customer_id == customer_id)
                    .order_by(Card.id)
                )
            )
            .scalars()
            .all()
        )
        return [_card_view(c, customer_id) for c in rows]

    async def card(self, session: AsyncSession, *, card_id: int) -> CardView | None:
        row = (
            await session.execute(
                select(Card, Account.customer_id).join(Account, Account.id == Card.account_id).where(Card.id == card_id)
            )
        ).first()
        return None if row is None or row[1] is None else _card_view(row[0], int(row[1]))

    async def set_card_status(
        self, session: AsyncSession, *, card_id: int, status: str, expires_at: dt.datetime | None = None
    ) -> CardView:
        now = clock.now()
        values: dict[str, object] = {"status": status, "updated_at": now}
        if status == "temporary_loss":
            values.update(loss_reported_at=now, loss_expires_at=expires_at)
        elif status == "formal_loss":
            values.update(formal_loss_at=now, loss_expires_at=None)
        elif status == "active":
            values.update(loss_reported_at=None, loss_expires_at=None)
        await session.execute(
            update(Card).where(Card.id == card_id).values(**values).execution_options(synchronize_session=False)
        )
        view = await self._fresh_card(session, card_id)
        return view

    async def activate_card(self, session: AsyncSession, *, card_id: int) -> CardView:
        now = clock.now()
        await session.execute(
            update(Card)
            .where(Card.id == card_id)
            .values(activated_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self._fresh_card(session, card_id)

    async def _fresh_card(self, session: AsyncSession, card_id: int) -> CardView:
        row = (
            await session.execute(
                select(Card, Account.customer_id)
                .join(Account, Account.id == Card.account_id)
                .where(Card.id == card_id)
                .execution_options(populate_existing=True)
            )
        ).first()
        if row is None or row[1] is None:
            raise NotFound(f"No card {card_id}.")
        return _card_view(row[0], int(row[1]))

    async def book_appointment(
        self,
        session: AsyncSession,
        *,
        customer_id: int,
        branch_code: str,
        starts_at: dt.datetime,
        account_type: str,
        staff_id: int,
    ) -> AppointmentView:
        appt = Appointment(
            customer_id=customer_id,
            branch_code=branch_code,
            starts_at=starts_at,
            account_type=account_type,
            status="booked",
            staff_id=staff_id,
            created_at=clock.now(),
        )
        session.add(appt)
        await session.flush()
        return AppointmentView(
            id=appt.id,
            customer_id=customer_id,
            branch_code=branch_code,
            starts_at=starts_at,
            account_type=account_type,
            status="booked",
        )
