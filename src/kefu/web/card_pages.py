"""Card operations (temporary and formal loss, release, activation), branch appointments and manual
registration of requests while the core system is down. Each change is read back first: the service
answers a summary and a confirmation token; the agent reads it to the customer and confirms."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import appointments, cards, manual
from kefu.core import runtime
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError, NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
Operator = page_user(Permission.BANKING_OPERATE)


@router.post("/customers/{customer_id}/cards/{card_id}/{op}")
async def card_operation(
    request: Request, customer_id: RowId, card_id: RowId, op: str, db: DbSession, verification_id: Field = "",
    confirmation_token: Field = "", principal: Principal = Operator,
) -> Response:  # fmt: skip
    operation = desk.CARD_OPS.get(op)
    if operation is None:
        raise NotFound(f"No card operation {op!r}.")
    token = desk.clean(confirmation_token, 200) or None
    try:
        answer = await cards.card_operation(
            db, actor=principal, operation=operation, customer_id=customer_id,
            verification_id=desk.as_id(verification_id) or 0, card_id=card_id, confirmation_token=token,
        )  # fmt: skip
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "cards", {"card_id": card_id})
    if token is None:
        ctx = {"customer_id": customer_id, "kind": "card", "op": op, "operation": operation, "p": answer,
               "action": f"/customers/{customer_id}/cards/{card_id}/{op}", "verification_id": verification_id,
               "days": runtime.get().settings.banking_temporary_loss_days, "hidden": {}}  # fmt: skip
        return render(request, "bank_readback.html", ctx, no_store=True)
    return redirect(f"/customers/{customer_id}?done={operation}#cards")


def _appointment_form(branch_code: str = "", date: str = "", time: str = "", account_type: str = "savings",
                      verification_id: str = "") -> dict[str, str]:  # fmt: skip
    return {"branch_code": desk.clean(branch_code, 16), "date": desk.clean(date, 10), "time": desk.clean(time, 5),
            "account_type": desk.clean(account_type, 20), "verification_id": desk.clean(verification_id, 18)}  # fmt: skip


async def _appointment_page(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, form: dict[str, str],
    exc: KefuError | None = None,
) -> Response:  # fmt: skip
    ctx = await desk.desk(request, db, principal, customer_id)
    settings = runtime.get().settings
    ctx.update(form=form, branches=appointments.branches(settings), account_types=appointments.ACCOUNT_TYPES,
               error=error_message(exc, locale_of(request)) if exc else None)  # fmt: skip
    return render(request, "appointment_form.html", ctx, status_code=exc.status if exc else 200, no_store=True)


@router.get("/customers/{customer_id}/appointment")
async def appointment_form(request: Request, customer_id: RowId, db: DbSession,
                           principal: Principal = Operator) -> Response:  # fmt: skip
    v = await desk.open_verification(db, principal, customer_id)
    return await _appointment_page(request, db, principal, customer_id,
                                   _appointment_form(verification_id=str(v.id) if v else ""))  # fmt: skip


@router.post("/customers/{customer_id}/appointment")
async def appointment_book(
    request: Request, customer_id: RowId, db: DbSession, branch_code: Field = "", date: Field = "", time: Field = "",
    account_type: Field = "", verification_id: Field = "", confirmation_token: Field = "",
    principal: Principal = Operator,
) -> Response:  # fmt: skip
    form = _appointment_form(branch_code, date, time, account_type, verification_id)
    token = desk.clean(confirmation_token, 200) or None
    try:
        try:
            day = dt.date.fromisoformat(form["date"])
        except ValueError as exc:
            raise desk.field_error("date", "Choose the day of the appointment (YYYY-MM-DD).") from exc
        answer = await appointments.book(
            db, actor=principal, customer_id=customer_id, verification_id=desk.as_id(verification_id) or 0,
            branch_code=form["branch_code"], day=day, time=form["time"], account_type=form["account_type"],
            confirmation_token=token,
        )  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _appointment_page(request, db, principal, customer_id, form, exc)
    if token is None:
        hidden: dict[str, Any] = {k: v for k, v in form.items() if k != "verification_id"}
        ctx = {"customer_id": customer_id, "kind": "appointment", "op": "appointment", "operation": "appointment",
               "p": answer, "action": f"/customers/{customer_id}/appointment", "verification_id": verification_id,
               "days": 0, "hidden": hidden}  # fmt: skip
        return render(request, "bank_readback.html", ctx, no_store=True)
    return redirect(f"/customers/{customer_id}?done=appointment#business")


@router.post("/customers/{customer_id}/manual-requests")
async def manual_request(
    request: Request, customer_id: RowId, db: DbSession, operation: Field = "other", details: Field = "",
    verification_id: Field = "", principal: Principal = page_user(Permission.BANKING_MANUAL),
) -> Response:  # fmt: skip
    text = desk.clean(details, 2000)
    try:
        await manual.register(db, actor=principal, customer_id=customer_id,
                              verification_id=desk.as_id(verification_id) or 0, operation=operation, details=text)  # fmt: skip
    except KefuError as exc:
        form = {"operation": operation, "details": text}
        return await desk.failed(request, db, principal, customer_id, exc, "manual", form)
    return redirect(f"/customers/{customer_id}?done=manual#manual")
