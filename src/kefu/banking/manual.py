"""When the core system is down (R9.3): the offline switch and manual registration of requests.

The switch is a database row, so every ``kefu serve`` process of a cluster sees it at once; the
setting ``KEFU_CORE_BANKING=offline`` forces it regardless. Manual requests keep the customer's words
encrypted (C3) for whoever processes them later, and a scrubbed copy for lists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import operations
from kefu.banking.models import CoreState, ManualRequest
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import scrub_text
from kefu.core.errors import Conflict, NotFound
from kefu.core.pii import check_purpose
from kefu.customers.models import Customer

OPERATIONS = ("balance", "history", "transfer", "card_loss_temporary", "card_loss_formal", "card_release",
              "card_activation", "appointment", "other")  # fmt: skip


async def status(session: AsyncSession) -> dict[str, Any]:
    state = await operations.core_state(session)
    reason = await operations.core_offline_reason(session)
    return {
        "available": reason is None,
        "mode": "offline" if reason else "online",
        "reason": reason,
        "forced_by_configuration": runtime.get().settings.core_banking == "offline",
        "changed_by": state.changed_by if state else None,
        "changed_at": state.changed_at if state else None,
    }


async def set_mode(session: AsyncSession, *, actor: Principal, mode: str, reason: str) -> dict[str, Any]:
    if mode not in ("online", "offline"):
        raise operations.field_error("mode", "online or offline")
    reason = check_purpose(reason)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        state = (
            await session.execute(select(CoreState).where(CoreState.id == 1).with_for_update())
        ).scalar_one_or_none()
    else:
        state = await operations.core_state(session)
    before = {"mode": state.mode if state else "online"}
    if state is None:
        state = CoreState(id=1)
        session.add(state)
    state.mode, state.reason, state.changed_by, state.changed_at = mode, reason, actor.staff_id, clock.now()
    await session.flush()
    await audit.record(session, action="banking.core_switch", object_type="core_banking", object_id=1,
                       before=before, after={"mode": mode}, purpose=reason)  # fmt: skip
    return await status(session)


def _out(r: ManualRequest) -> dict[str, Any]:
    return {"id": r.id, "customer_id": r.customer_id, "operation": r.operation, "details": r.details_masked,
            "contact_ref": r.contact_ref, "verification_id": r.verification_id, "status": r.status,
            "created_by": r.created_by, "created_at": r.created_at, "processed_by": r.processed_by,
            "processed_at": r.processed_at, "outcome": r.outcome}  # fmt: skip


async def register(
    session: AsyncSession,
    *,
    actor: Principal,
    customer_id: int,
    verification_id: int,
    operation: str,
    details: str,
) -> dict[str, Any]:
    """Write the customer's request down for later; works whether or not the core system is up."""
    if operation not in OPERATIONS:
        raise operations.field_error("operation", f"one of {', '.join(OPERATIONS)}")
    if not details.strip():
        raise operations.field_error("details", "write what the customer asked for")
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.")
    verification = await operations.check_verification(
        session, actor=actor, verification_id=verification_id, customer_id=customer_id, operation="manual_request"
    )
    req = ManualRequest(
        customer_id=customer_id, operation=operation, details=details.strip(),
        details_masked=scrub_text(details.strip()), contact_ref=verification.contact_ref,
        verification_id=verification.id, status="pending", created_by=actor.staff_id, created_at=clock.now(),
    )  # fmt: skip
    session.add(req)
    await session.flush()
    await audit.record(session, action="banking.manual_request.register", object_type="manual_request",
                       object_id=req.id, after={"customer_id": customer_id, "operation": operation,
                                                "contact_ref": verification.contact_ref})  # fmt: skip
    return _out(req)


async def list_requests(
    session: AsyncSession,
    *,
    status: str | None,
    customer_id: int | None,
    offset: int,
    limit: int,
    newest_first: bool = False,
) -> dict[str, Any]:
    stmt = select(ManualRequest)
    if status:
        stmt = stmt.where(ManualRequest.status == status)
    if customer_id is not None:
        stmt = stmt.where(ManualRequest.customer_id == customer_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    order = (
        (ManualRequest.created_at.desc(), ManualRequest.id.desc())
        if newest_first
        else (ManualRequest.created_at, ManualRequest.id)
    )
    rows = (await session.execute(stmt.order_by(*order).offset(offset).limit(limit))).scalars().all()
    return {"items": [_out(r) for r in rows], "total": int(total), "offset": offset, "limit": limit}


async def process(session: AsyncSession, *, actor: Principal, request_id: int, outcome: str) -> dict[str, Any]:
    if not outcome.strip():
        raise operations.field_error("outcome", "say what was done, e.g. 'transfer made in the core system, ref …'")
    now = clock.now()
    res = await session.execute(
        update(ManualRequest)
        .where(ManualRequest.id == request_id, ManualRequest.status == "pending")
        .values(status="processed", processed_by=actor.staff_id, processed_at=now, outcome=scrub_text(outcome.strip()))
        .execution_options(synchronize_session=False)
    )
    req = (
        await session.execute(
            select(ManualRequest).where(ManualRequest.id == request_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if req is None:
        raise NotFound(f"No manual request {request_id}.")
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Request {request_id} was already processed by staff {req.processed_by}.")
    await audit.record(session, action="banking.manual_request.process", object_type="manual_request",
                       object_id=req.id, before={"status": "pending"},
                       after={"status": "processed", "outcome": req.outcome})  # fmt: skip
    return _out(req)
