"""Operational banking endpoints: manual requests (R9.3), fraud list (R2.4), ledger check, core switch."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query

from kefu.banking import ledger, manual, risk
from kefu.banking.schemas import CoreSwitchIn, FraudIn, ManualProcessIn, ManualRequestIn, ReasonIn
from kefu.core import audit
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

#: the one banking router; kefu.banking.router adds the business endpoints to it (one router, so the
#: full path of every route is known to the permission audit)
router = APIRouter(prefix="/api/v1/banking", tags=["banking"])

Manual = Annotated[Principal, require(Permission.BANKING_MANUAL)]
FraudManager = Annotated[Principal, require(Permission.BANKING_FRAUD_MANAGE)]


@router.post("/manual-requests", status_code=201)
async def register_manual(body: ManualRequestIn, db: DbSession, principal: Manual) -> dict[str, Any]:
    """Register a customer's request by hand (the core system is down); processed later."""
    return await manual.register(
        db, actor=principal, customer_id=body.customer_id, verification_id=body.verification_id,
        operation=body.operation, details=body.details,
    )  # fmt: skip


@router.get("/manual-requests")
async def list_manual(
    db: DbSession,
    principal: Manual,
    status: Annotated[str | None, Query(pattern="^(pending|processed)$")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    return await manual.list_requests(db, status=status, customer_id=customer_id, offset=offset, limit=limit)


@router.post("/manual-requests/{manual_id}/process")
async def process_manual(manual_id: RowId, body: ManualProcessIn, db: DbSession, principal: Manual) -> dict[str, Any]:
    """Mark a registered request as done once it has been carried out in the core system."""
    return await manual.process(db, actor=principal, request_id=manual_id, outcome=body.outcome)


@router.get("/fraud-list")
async def list_fraud(
    db: DbSession,
    principal: FraudManager,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    return await risk.list_fraud(db, offset=offset, limit=limit)


@router.post("/fraud-list", status_code=201)
async def add_fraud(body: FraudIn, db: DbSession, principal: FraudManager) -> dict[str, Any]:
    """List a payee account reported for fraud; transfers to it then need an explicit override."""
    return await risk.add_fraud(db, actor=principal, account_no=body.account_no.replace(" ", ""), reason=body.reason)


@router.post("/fraud-list/{entry_id}/remove", status_code=204)
async def remove_fraud(entry_id: RowId, body: ReasonIn, db: DbSession, principal: FraudManager) -> None:
    await risk.remove_fraud(db, actor=principal, entry_id=entry_id, reason=body.reason)


@router.get("/ledger/check")
async def ledger_check(
    db: DbSession, principal: Annotated[Principal, require(Permission.BANKING_LEDGER_CHECK)]
) -> dict[str, Any]:
    """Prove the ledger: every transaction sums to zero and every balance equals its postings."""
    report = await ledger.verify(db)
    await audit.record(db, action="banking.ledger_check", object_type="ledger", object_id="all",
                       after={"ok": report.ok, "transactions": report.transactions})  # fmt: skip
    return dataclasses.asdict(report)


@router.get("/core-status")
async def core_status(
    db: DbSession, principal: Annotated[Principal, require(Permission.BANKING_READ)]
) -> dict[str, Any]:
    return await manual.status(db)


@router.put("/core-status")
async def switch_core(
    body: CoreSwitchIn, db: DbSession, principal: Annotated[Principal, require(Permission.BANKING_CORE_SWITCH)]
) -> dict[str, Any]:
    """Put the core system offline (drills, outages) or back online; audited with the reason."""
    return await manual.set_mode(db, actor=principal, mode=body.mode, reason=body.reason)
