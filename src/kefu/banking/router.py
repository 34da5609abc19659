"""HTTP endpoints under /api/v1/banking: business on a verified call (accounts, balance, history,
transfers, cards, appointments) and the operational side (manual requests, fraud list, ledger check,
core-system switch, in kefu.banking.router_admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query, Response

from kefu.banking import appointments, cards, queries, transfers
from kefu.banking.router_admin import router
from kefu.banking.schemas import AppointmentIn, CardOperationIn, TransferIn, TransferPreviewIn
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

Reader = Annotated[Principal, require(Permission.BANKING_READ)]
Operator = Annotated[Principal, require(Permission.BANKING_OPERATE)]
VerificationId = Annotated[int, Query(ge=1, le=MAX_ROW_ID, description="the caller's identity verification")]


@router.get("/customers/{customer_id}/accounts")
async def list_accounts(customer_id: RowId, db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    """The customer's accounts, numbers masked, without balances."""
    return await queries.accounts(db, customer_id=customer_id)


@router.get("/customers/{customer_id}/cards")
async def list_cards(customer_id: RowId, db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    return await queries.cards(db, customer_id=customer_id)


@router.get("/customers/{customer_id}/appointments")
async def list_appointments(customer_id: RowId, db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    return await appointments.of_customer(db, customer_id=customer_id)


@router.get("/customers/{customer_id}/accounts/{account_id}/balance")
async def balance(
    customer_id: RowId, account_id: RowId, verification_id: VerificationId, db: DbSession, principal: Operator
) -> dict[str, Any]:
    """Balance inquiry (verification L1); journaled and audited."""
    return await queries.balance(
        db, actor=principal, customer_id=customer_id, verification_id=verification_id, account_id=account_id
    )


@router.get("/customers/{customer_id}/accounts/{account_id}/transactions")
async def history(
    customer_id: RowId,
    account_id: RowId,
    verification_id: VerificationId,
    db: DbSession,
    principal: Operator,
    start: Annotated[dt.datetime | None, Query(description="from (inclusive), with a time zone")] = None,
    end: Annotated[dt.datetime | None, Query(description="to (exclusive), with a time zone")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Transaction history, newest first, paged (verification L1)."""
    return await queries.history(
        db, actor=principal, customer_id=customer_id, verification_id=verification_id, account_id=account_id,
        start=start, end=end, offset=offset, limit=limit,
    )  # fmt: skip


def _request(body: TransferPreviewIn) -> transfers.TransferRequest:
    return transfers.TransferRequest(
        customer_id=body.customer_id, verification_id=body.verification_id, from_account_id=body.from_account_id,
        to_account_no=body.to_account_no, amount=body.amount, idempotency_key=body.idempotency_key, memo=body.memo,
    )  # fmt: skip


@router.post("/transfers/preview")
async def preview_transfer(body: TransferPreviewIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """Read-back summary, risk prompts and the confirmation token; nothing is moved."""
    return await transfers.preview(db, actor=principal, req=_request(body))


@router.post("/transfers", status_code=201)
async def transfer(body: TransferIn, db: DbSession, principal: Operator, response: Response) -> dict[str, Any]:
    """Execute a previewed transfer (verification L2). A retry with the same idempotency key and the same
    details answers 200 with the first result; the same key with other details is a 409."""
    result, replayed = await transfers.execute(
        db, actor=principal, req=_request(body), confirmation_token=body.confirmation_token,
        risk_override_reason=body.risk_override_reason,
    )  # fmt: skip
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return result


async def _card(operation: str, card_id: int, body: CardOperationIn, db: DbSession, principal: Principal) -> Any:
    return await cards.card_operation(
        db, actor=principal, operation=operation, customer_id=body.customer_id,
        verification_id=body.verification_id, card_id=card_id, confirmation_token=body.confirmation_token,
    )  # fmt: skip


@router.post("/cards/{card_id}/temporary-loss")
async def temporary_loss(card_id: RowId, body: CardOperationIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """临时挂失 (L1): without a token, the read-back summary; with it, the card is blocked for 5 days."""
    return dict(await _card("card_loss_temporary", card_id, body, db, principal))


@router.post("/cards/{card_id}/formal-loss")
async def formal_loss(card_id: RowId, body: CardOperationIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """正式挂失 (L2)."""
    return dict(await _card("card_loss_formal", card_id, body, db, principal))


@router.post("/cards/{card_id}/release")
async def release(card_id: RowId, body: CardOperationIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """解挂 of a temporary loss (L2)."""
    return dict(await _card("card_release", card_id, body, db, principal))


@router.post("/cards/{card_id}/activation")
async def activation(card_id: RowId, body: CardOperationIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """Credit-card activation (L2)."""
    return dict(await _card("card_activation", card_id, body, db, principal))


@router.post("/appointments")
async def book_appointment(body: AppointmentIn, db: DbSession, principal: Operator) -> dict[str, Any]:
    """Account-opening appointment at a branch (L1): preview without a token, book with it."""
    return await appointments.book(
        db, actor=principal, customer_id=body.customer_id, verification_id=body.verification_id,
        branch_code=body.branch_code, day=body.date, time=body.time, account_type=body.account_type,
        confirmation_token=body.confirmation_token,
    )  # fmt: skip


__all__ = ["router"]
