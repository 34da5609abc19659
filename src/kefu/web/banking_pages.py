"""Account business on a verified call: balance inquiry, transaction history, and transfers with a
read-back step (form -> summary read to the customer -> result). The banking service checks the
verification level, the confirmation token, the idempotency key, the daily limit and the risks; these
pages only carry the details between the steps and show its answers."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import queries, transfers
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
Operator = page_user(Permission.BANKING_OPERATE)
HISTORY_PER_PAGE = 20
RECENT = 5


@router.post("/customers/{customer_id}/balance")
async def balance_inquiry(
    request: Request, customer_id: RowId, db: DbSession, account_id: Field = "", verification_id: Field = "",
    principal: Principal = Operator,
) -> Response:  # fmt: skip
    """Balance of one account plus its most recent lines, shown on the customer page (both journaled)."""
    aid, vid = desk.as_id(account_id) or 0, desk.as_id(verification_id) or 0
    try:
        bal = await queries.balance(db, actor=principal, customer_id=customer_id, verification_id=vid, account_id=aid)
        recent = await queries.history(db, actor=principal, customer_id=customer_id, verification_id=vid,
                                       account_id=aid, start=None, end=None, offset=0, limit=RECENT)  # fmt: skip
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "accounts")
    return await desk.show(request, db, principal, customer_id, balance=bal, recent=recent)


@router.get("/customers/{customer_id}/accounts/{account_id}/history")
async def history(
    request: Request, customer_id: RowId, account_id: RowId, db: DbSession, verification_id: str = "",
    date_from: str = "", date_to: str = "", page: int = 1, principal: Principal = Operator,
) -> Response:  # fmt: skip
    page = max(1, min(page, 10_000))
    filters = {"verification_id": verification_id[:18], "date_from": date_from[:10], "date_to": date_to[:10]}
    ctx: dict[str, Any] = {"customer_id": customer_id, "account_id": account_id, "filters": filters, "result": None,
                           "error": None, "page": page, "prev_url": None, "next_url": None, "pages": 1}  # fmt: skip
    try:
        start = desk.local_day(request, filters["date_from"])
        end = desk.local_day(request, filters["date_to"], end=True)
        result = await queries.history(
            db, actor=principal, customer_id=customer_id, verification_id=desk.as_id(verification_id) or 0,
            account_id=account_id, start=start, end=end, offset=(page - 1) * HISTORY_PER_PAGE, limit=HISTORY_PER_PAGE,
        )  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        ctx["error"] = error_message(exc, locale_of(request))
        return render(request, "customer_history.html", ctx, status_code=exc.status, no_store=True)
    base = {k: v for k, v in filters.items() if v}
    url = f"/customers/{customer_id}/accounts/{account_id}/history?"
    ctx["result"] = result
    ctx["pages"] = max(1, (result["total"] + HISTORY_PER_PAGE - 1) // HISTORY_PER_PAGE)
    if page > 1:
        ctx["prev_url"] = url + urlencode({**base, "page": page - 1})
    if page < ctx["pages"]:
        ctx["next_url"] = url + urlencode({**base, "page": page + 1})
    return render(request, "customer_history.html", ctx, no_store=True)


# ---- transfers --------------------------------------------------------------------------------


def _form(
    verification_id: str, from_account_id: str, to_account_no: str, amount: str, memo: str, idempotency_key: str
) -> dict[str, str]:
    return {"verification_id": desk.clean(verification_id, 18), "from_account_id": desk.clean(from_account_id, 18),
            "to_account_no": desk.clean(to_account_no, 30), "amount": desk.clean(amount, 20),
            "memo": desk.clean(memo, 60), "idempotency_key": desk.clean(idempotency_key, 64)}  # fmt: skip


def _request(customer_id: int, form: dict[str, str]) -> transfers.TransferRequest:
    if not form["to_account_no"]:
        raise desk.field_error("to_account_no", "Ask the customer for the payee's account number.")
    return transfers.TransferRequest(
        customer_id=customer_id, verification_id=desk.as_id(form["verification_id"]) or 0,
        from_account_id=desk.as_id(form["from_account_id"]) or 0, to_account_no=form["to_account_no"],
        amount=desk.yuan_to_fen(form["amount"]), idempotency_key=form["idempotency_key"], memo=form["memo"],
    )  # fmt: skip


async def _form_page(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, form: dict[str, str],
    exc: KefuError | None = None,
) -> Response:  # fmt: skip
    ctx = await desk.desk(request, db, principal, customer_id)
    ctx.update(form=form, error=error_message(exc, locale_of(request)) if exc else None)
    return render(request, "transfer_form.html", ctx, status_code=exc.status if exc else 200, no_store=True)


@router.get("/customers/{customer_id}/transfer")
async def transfer_form(request: Request, customer_id: RowId, db: DbSession,
                        principal: Principal = Operator) -> Response:  # fmt: skip
    v = await desk.open_verification(db, principal, customer_id)
    form = _form(str(v.id) if v else "", "", "", "", "", secrets.token_urlsafe(12))
    return await _form_page(request, db, principal, customer_id, form)


@router.post("/customers/{customer_id}/transfer/preview")
async def transfer_preview(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", from_account_id: Field = "",
    to_account_no: Field = "", amount: Field = "", memo: Field = "", idempotency_key: Field = "",
    principal: Principal = Operator,
) -> Response:  # fmt: skip
    form = _form(verification_id, from_account_id, to_account_no, amount, memo, idempotency_key)
    try:
        preview = await transfers.preview(db, actor=principal, req=_request(customer_id, form))
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _form_page(request, db, principal, customer_id, form, exc)
    ctx = {"customer_id": customer_id, "form": form, "p": preview, "error": None, "override": {}}
    return render(request, "transfer_readback.html", ctx, no_store=True)


@router.post("/customers/{customer_id}/transfer")
async def transfer_execute(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", from_account_id: Field = "",
    to_account_no: Field = "", amount: Field = "", memo: Field = "", idempotency_key: Field = "",
    confirmation_token: Field = "", risk_ack: Field = "", risk_override_reason: Field = "",
    principal: Principal = Operator,
) -> Response:  # fmt: skip
    form = _form(verification_id, from_account_id, to_account_no, amount, memo, idempotency_key)
    reason = desk.clean(risk_override_reason, 500)
    override = {"ack": bool(risk_ack), "reason": reason}
    try:
        req = _request(customer_id, form)
        result, replayed = await transfers.execute(
            db, actor=principal, req=req, confirmation_token=desk.clean(confirmation_token, 200) or None,
            risk_override_reason=reason if risk_ack else None,
        )  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        error = error_message(exc, locale_of(request))
        try:  # show the read-back again (with a fresh token) so the agent can correct and confirm
            preview = await transfers.preview(db, actor=principal, req=_request(customer_id, form))
        except KefuError as again:
            await desk.undo(db, again)
            return await _form_page(request, db, principal, customer_id, form, exc)
        ctx = {"customer_id": customer_id, "form": form, "p": preview, "error": error, "override": override,
               "error_code": exc.code}  # fmt: skip
        return render(request, "transfer_readback.html", ctx, status_code=exc.status, no_store=True)
    ctx = {"customer_id": customer_id, "r": result, "replayed": replayed}
    return render(request, "transfer_result.html", ctx, no_store=True)
