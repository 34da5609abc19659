"""Read operations: the customer's accounts and cards (masked), balance inquiry and history (verified).

Balances and statement lines are class C3 data: they are answered only on a verified call and each
inquiry is written to the journal and the audit log (without the figures).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import operations
from kefu.banking.cards import card_out
from kefu.banking.port import AccountView, CoreBanking
from kefu.core.auth import Principal
from kefu.core.errors import NotFound
from kefu.customers.models import Customer

MAX_RANGE_DAYS = 366


def account_out(a: AccountView) -> dict[str, Any]:
    return {"id": a.id, "account": a.masked, "type": a.type, "currency": a.currency, "status": a.status,
            "opened_at": a.opened_at}  # fmt: skip


async def _customer(session: AsyncSession, customer_id: int) -> None:
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.")


async def accounts(session: AsyncSession, *, customer_id: int) -> list[dict[str, Any]]:
    core = await operations.get_core(session)
    await _customer(session, customer_id)
    return [account_out(a) for a in await core.accounts(session, customer_id=customer_id)]


async def cards(session: AsyncSession, *, customer_id: int) -> list[dict[str, Any]]:
    core = await operations.get_core(session)
    await _customer(session, customer_id)
    return [card_out(c) for c in await core.cards(session, customer_id=customer_id)]


async def _own_account(session: AsyncSession, core: CoreBanking, *, customer_id: int, account_id: int) -> AccountView:
    a = await core.account(session, account_id=account_id)
    if a is None or a.customer_id != customer_id:
        raise NotFound(f"No account {account_id} of this customer; list the customer's accounts to pick one.")
    return a


async def balance(
    session: AsyncSession, *, actor: Principal, customer_id: int, verification_id: int, account_id: int
) -> dict[str, Any]:
    core = await operations.get_core(session)
    verification = await operations.check_verification(
        session, actor=actor, verification_id=verification_id, customer_id=customer_id, operation="balance"
    )
    a = await _own_account(session, core, customer_id=customer_id, account_id=account_id)
    b = await core.balance(session, account_id=a.id)
    result = {"account_id": a.id, "account": a.masked, "currency": b.currency, "balance": b.balance,
              "available": b.available, "as_of": b.as_of}  # fmt: skip
    await operations.journal(session, operation="balance", customer_id=customer_id, actor=actor,
                             verification=verification, params={"account": a.masked},
                             result={"account": a.masked, "answered": True})  # fmt: skip
    return result


async def history(
    session: AsyncSession,
    *,
    actor: Principal,
    customer_id: int,
    verification_id: int,
    account_id: int,
    start: dt.datetime | None,
    end: dt.datetime | None,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    core = await operations.get_core(session)
    verification = await operations.check_verification(
        session, actor=actor, verification_id=verification_id, customer_id=customer_id, operation="history"
    )
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise operations.field_error(name, "give a time zone, e.g. 2026-11-01T00:00:00+08:00")
    if start is not None and end is not None:
        if end <= start:
            raise operations.field_error("end", "must be after start")
        if end - start > dt.timedelta(days=MAX_RANGE_DAYS):
            raise operations.field_error("end", f"a statement covers at most {MAX_RANGE_DAYS} days")
    a = await _own_account(session, core, customer_id=customer_id, account_id=account_id)
    page = await core.history(session, account_id=a.id, start=start, end=end, offset=offset, limit=limit)
    params = {"account": a.masked, "start": start, "end": end, "offset": offset, "limit": limit}
    await operations.journal(session, operation="history", customer_id=customer_id, actor=actor,
                             verification=verification, params=params,
                             result={"lines": len(page.items), "total": page.total})  # fmt: skip
    return {
        "account_id": a.id,
        "account": a.masked,
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
        "items": [
            {
                "posting_id": i.posting_id,
                "transaction_id": i.transaction_id,
                "at": i.at,
                "amount": i.amount,
                "balance_after": i.balance_after,
                "counterparty": i.counterparty,
                "memo": i.memo,
            }
            for i in page.items
        ],  # fmt: skip
    }
