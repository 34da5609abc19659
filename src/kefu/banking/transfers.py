"""Transfers between accounts of the same bank: preview (read-back), then execute exactly once.

Rules on Kefu's side of the port: verification level L2, read-back confirmation, idempotency per
customer (the first answer is kept and returned to every retry with the same key and parameters; the
same key with other parameters is a 409), the daily limit per customer, risk prompts with an
audited override, the journal and the audit entry. One database transaction per transfer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import ledger, operations, risk
from kefu.banking.models import AccountStatus, DailyUsage, Transfer
from kefu.banking.port import AccountRef, AccountView, CoreBanking, InsufficientFunds
from kefu.core import clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound
from kefu.core.pii import check_purpose

OPERATION = "transfer"
MAX_AMOUNT = 10_000_000_000  # 100 million CNY: anything above is a typing error


@dataclass(frozen=True)
class TransferRequest:
    customer_id: int
    verification_id: int
    from_account_id: int
    to_account_no: str
    amount: int  # fen
    idempotency_key: str
    memo: str = ""


@dataclass(frozen=True)
class _Resolved:
    source: AccountView
    payee: AccountRef
    own: bool  # the payee account belongs to the same customer

    def params(self, req: TransferRequest) -> dict[str, Any]:
        """What the confirmation and the idempotency key are bound to (no clear account numbers)."""
        return {"customer_id": req.customer_id, "from_account_id": req.from_account_id,
                "to_account": self.payee.number_bidx, "amount": req.amount, "memo": req.memo,
                "idempotency_key": req.idempotency_key}  # fmt: skip


def _fmt(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def business_day() -> str:
    return clock.now().astimezone(ZoneInfo(runtime.get().settings.timezone)).date().isoformat()


def _validate(req: TransferRequest) -> None:
    if not 1 <= req.amount <= MAX_AMOUNT:
        raise operations.field_error("amount", f"give the amount in fen, between 1 and {MAX_AMOUNT:,}")
    digits = req.to_account_no.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise operations.field_error("to_account_no", "an account number of this bank has 12 to 19 digits")
    key = req.idempotency_key
    if not 8 <= len(key) <= 64 or not all(c.isalnum() or c in "-_:." for c in key):
        raise operations.field_error("idempotency_key", "8 to 64 letters, digits, '-', '_', ':' or '.'")
    if len(req.memo) > 60:
        raise operations.field_error("memo", "at most 60 characters")


async def _resolve(session: AsyncSession, core: CoreBanking, req: TransferRequest) -> _Resolved:
    source = await core.account(session, account_id=req.from_account_id)
    if source is None or source.customer_id != req.customer_id:
        raise operations.field_error("from_account_id", "not an account of this customer")
    payee = await core.find_account(session, account_no=req.to_account_no.replace(" ", ""))
    if payee is None or payee.type == "internal":
        raise operations.field_error(
            "to_account_no", "no account with this number at this bank; check it with the customer"
        )
    if payee.id == source.id:
        raise operations.field_error("to_account_no", "the payee account is the paying account")
    return _Resolved(source=source, payee=payee, own=payee.customer_id == req.customer_id)


def _check_status(r: _Resolved) -> None:
    if r.source.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"The paying account {r.source.masked} is {r.source.status}; no money can leave it.")
    if r.payee.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"The payee account {r.payee.masked} is {r.payee.status} and cannot receive money.")


async def _daily_used(session: AsyncSession, customer_id: int) -> int:
    used = (
        await session.execute(
            select(DailyUsage.used).where(DailyUsage.customer_id == customer_id, DailyUsage.day == business_day())
        )
    ).scalar_one_or_none()
    return int(used or 0)


async def preview(session: AsyncSession, *, actor: Principal, req: TransferRequest) -> dict[str, Any]:
    """The read-back summary, the risks to warn about, and the token that executing requires."""
    core = await operations.get_core(session)
    await operations.check_verification(session, actor=actor, verification_id=req.verification_id,
                                        customer_id=req.customer_id, operation=OPERATION)  # fmt: skip
    _validate(req)
    r = await _resolve(session, core, req)
    _check_status(r)
    bal = await core.balance(session, account_id=r.source.id)
    risks = await risk.assess(session, customer_id=req.customer_id, payee_bidx=r.payee.number_bidx,
                              own_account=r.own, amount=req.amount)  # fmt: skip
    limit = runtime.get().settings.banking_daily_transfer_limit_fen
    remaining = None if r.own else max(0, limit - await _daily_used(session, req.customer_id))
    token, expires = operations.issue_confirmation(operation=OPERATION, actor=actor,
                                                   verification_id=req.verification_id, params=r.params(req))  # fmt: skip
    problems = []
    if bal.available < req.amount:
        problems.append("insufficient_funds")
    if remaining is not None and req.amount > remaining:
        problems.append("daily_limit")
    return {
        "operation": OPERATION,
        "from_account": r.source.masked,
        "to_account": r.payee.masked,
        "own_account": r.own,
        "amount": req.amount,
        "currency": "CNY",
        "memo": req.memo,
        "read_back": f"{_fmt(req.amount)} CNY from {r.source.masked} to {r.payee.masked}",
        "daily_limit_remaining": remaining,
        "risks": [x.as_dict() for x in risks],
        "problems": problems,
        "confirmation_token": token,
        "expires_at": expires,
    }


async def _previous(session: AsyncSession, req: TransferRequest, request_hash: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(Transfer.request_hash, Transfer.result).where(
                Transfer.customer_id == req.customer_id, Transfer.idempotency_key == req.idempotency_key
            )
        )
    ).first()
    if row is None:
        return None
    if row[0] != request_hash:
        raise Conflict(
            "This idempotency key was already used for a different transfer. Use a new key for a new transfer.",
            code="idempotency_key_reused",
            extra={"errors": [{"field": "idempotency_key", "message": "used for other parameters"}]},
        )
    return dict(json.loads(row[1]))


async def _take_daily_limit(session: AsyncSession, *, customer_id: int, amount: int) -> None:
    """Add to today's usage unless the limit would be passed (a conditional UPDATE: race-free)."""
    limit = runtime.get().settings.banking_daily_transfer_limit_fen
    day = business_day()
    insert = pg_insert if session.bind is not None and session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(DailyUsage).values(customer_id=customer_id, day=day, used=0).on_conflict_do_nothing())
    res = await session.execute(
        update(DailyUsage)
        .where(DailyUsage.customer_id == customer_id, DailyUsage.day == day, DailyUsage.used + amount <= limit)
        .values(used=DailyUsage.used + amount)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        used = await _daily_used(session, customer_id)
        raise Conflict(
            f"This would pass the customer's daily transfer limit of {_fmt(limit)} CNY "
            f"({_fmt(max(0, limit - used))} CNY left today). Offer a smaller amount or another day.",
            code="daily_limit_exceeded",
            extra={"errors": [{"field": "amount", "message": "above the daily limit"}]},
        )


async def execute(
    session: AsyncSession,
    *,
    actor: Principal,
    req: TransferRequest,
    confirmation_token: str | None,
    risk_override_reason: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Run the transfer once. Returns (result, replayed): a retry gets the first result back."""
    core = await operations.get_core(session)
    verification = await operations.check_verification(
        session, actor=actor, verification_id=req.verification_id, customer_id=req.customer_id, operation=OPERATION
    )
    _validate(req)
    r = await _resolve(session, core, req)
    params = r.params(req)
    request_hash = hashlib.sha256(operations._canonical(params).encode()).hexdigest()
    if (first := await _previous(session, req, request_hash)) is not None:
        return first, True
    operations.check_confirmation(confirmation_token, operation=OPERATION, actor=actor,
                                  verification_id=req.verification_id, params=params)  # fmt: skip
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # SQLite began IMMEDIATE: nothing can have changed since the reads above. PostgreSQL: lock, re-read.
        await ledger.lock_accounts(session, [r.source.id, r.payee.id])
        if (first := await _previous(session, req, request_hash)) is not None:  # a concurrent retry won
            return first, True
        fresh_source = await core.account(session, account_id=r.source.id)
        r = _Resolved(source=fresh_source or r.source, payee=r.payee, own=r.own)
    _check_status(r)
    masked = {"from_account": r.source.masked, "to_account": r.payee.masked, "amount": req.amount,
              "memo": req.memo, "idempotency_key": req.idempotency_key}  # fmt: skip
    risks = await risk.assess(session, customer_id=req.customer_id, payee_bidx=r.payee.number_bidx,
                              own_account=r.own, amount=req.amount)  # fmt: skip
    override = None
    if risks:
        if not risk_override_reason or not risk_override_reason.strip():
            await operations.journal(
                session, operation=OPERATION, customer_id=req.customer_id, actor=actor, verification=verification,
                params=masked, result={"risks": [x.code for x in risks]}, status="refused",
                audit_after={**masked, "amount": "****", "risks": [x.code for x in risks]},
            )  # fmt: skip
            raise Conflict(
                " ".join(x.message for x in risks)
                + " To go on after warning the customer, send risk_override_reason with what they said.",
                code="risk_confirmation_required",
                extra={"risks": [x.as_dict() for x in risks],
                       "errors": [{"field": "risk_override_reason", "message": "required for this transfer"}]},
                commit=True,  # the refusal stays in the journal and the audit log
            )  # fmt: skip
        override = check_purpose(risk_override_reason)
    if not r.own:
        await _take_daily_limit(session, customer_id=req.customer_id, amount=req.amount)
    try:
        posted = await core.post_transfer(
            session, from_account_id=r.source.id, to_account_id=r.payee.id, amount=req.amount, memo=req.memo
        )
    except InsufficientFunds as exc:
        raise Conflict(
            f"Not enough money in {r.source.masked} for {_fmt(req.amount)} CNY; tell the customer the available "
            "balance (balance inquiry) and offer a smaller amount.",
            code="insufficient_funds",
            extra={"errors": [{"field": "amount", "message": "above the available balance"}]},
        ) from exc
    now = posted.at
    result = {
        "status": "done",
        "transaction_id": posted.transaction_id,
        "from_account": r.source.masked,
        "to_account": r.payee.masked,
        "amount": req.amount,
        "currency": "CNY",
        "memo": req.memo,
        "idempotency_key": req.idempotency_key,
        "executed_at": now.astimezone(dt.UTC).isoformat(),
        "risk_override": override is not None,
    }
    transfer = Transfer(
        customer_id=req.customer_id, idempotency_key=req.idempotency_key, request_hash=request_hash,
        from_account_id=r.source.id, to_account_id=r.payee.id, amount=req.amount,
        transaction_id=posted.transaction_id, result="{}", created_at=now,
    )  # fmt: skip
    session.add(transfer)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same key, concurrently, for other parameters
        raise Conflict(
            "This idempotency key was already used for a different transfer. Use a new key for a new transfer.",
            code="idempotency_key_reused",
            extra={"errors": [{"field": "idempotency_key", "message": "used for other parameters"}]},
        ) from exc
    result["transfer_id"] = transfer.id
    transfer.result = operations._canonical(result)
    if not r.own:
        await risk.remember_payee(session, customer_id=req.customer_id, payee_bidx=r.payee.number_bidx,
                                  masked=r.payee.masked)  # fmt: skip
    await operations.journal(
        session, operation=OPERATION, customer_id=req.customer_id, actor=actor, verification=verification,
        params=masked, result=result, purpose=override,
        audit_after={**masked, "amount": "****", "transfer_id": transfer.id,
                     "risk_override": [x.code for x in risks] if override else []},
    )  # fmt: skip
    return result, False


async def get_transfer(session: AsyncSession, *, customer_id: int, transfer_id: int) -> Transfer:
    t = await session.get(Transfer, transfer_id)
    if t is None or t.customer_id != customer_id:
        raise NotFound(f"No transfer {transfer_id} of this customer.")
    return t
