"""The verification panel of the customer page: start, PIN, ID last 6 + SMS code, security questions,
close. The customers service audits every attempt and applies the lockouts; the page shows the level
reached and what it allows. The panel always works on the agent's own open verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.auth import DbSession, Principal
from kefu.core.errors import Conflict, KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import verification as verify
from kefu.web import desk
from kefu.web.pages import PageRoute, page_user, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
Verifier = page_user(Permission.CUSTOMER_VERIFY)


async def _current(db: AsyncSession, principal: Principal, customer_id: int, verification_id: str) -> int:
    """The verification named by the form, which must be this agent's open one for this customer."""
    v = await desk.open_verification(db, principal, customer_id)
    wanted = desk.as_id(verification_id)
    if v is None or (wanted is not None and wanted != v.id):
        raise Conflict("This verification has ended or expired; start a new one.")
    return v.id


async def _attempt(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, result: dict[str, Any]
) -> Response:
    return await desk.show(request, db, principal, customer_id, verify_result=result)


@router.post("/customers/{customer_id}/verification")
async def verification_start(
    request: Request, customer_id: RowId, db: DbSession, contact_ref: Field = "", principal: Principal = Verifier
) -> Response:
    ref = desk.clean(contact_ref, 64)
    try:
        await verify.start(db, actor=principal, customer_id=customer_id, contact_ref=ref or None)
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify", {"contact_ref": ref})
    return redirect(f"/customers/{customer_id}?done=verify_start#verify")


@router.post("/customers/{customer_id}/verification/pin")
async def verification_pin(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", pin: Field = "",
    principal: Principal = Verifier,
) -> Response:  # fmt: skip
    try:
        vid = await _current(db, principal, customer_id, verification_id)
        result = await verify.submit_pin(db, actor=principal, verification_id=vid, pin=pin.strip()[:12])
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify")
    return await _attempt(request, db, principal, customer_id, result)


@router.post("/customers/{customer_id}/verification/sms")
async def verification_sms(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", id_last6: Field = "",
    principal: Principal = Verifier,
) -> Response:  # fmt: skip
    try:
        vid = await _current(db, principal, customer_id, verification_id)
        if not id_last6.strip():
            raise desk.field_error("id_last6", "Ask the caller for the last 6 characters of their ID number.")
        result = await verify.request_sms(db, actor=principal, verification_id=vid, id_last6=id_last6.strip()[:12])
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify")
    return await _attempt(request, db, principal, customer_id, result)


@router.post("/customers/{customer_id}/verification/code")
async def verification_code(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", code: Field = "",
    principal: Principal = Verifier,
) -> Response:  # fmt: skip
    try:
        vid = await _current(db, principal, customer_id, verification_id)
        result = await verify.submit_code(db, actor=principal, verification_id=vid, code=code.strip()[:12])
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify")
    return await _attempt(request, db, principal, customer_id, result)


@router.post("/customers/{customer_id}/verification/answers")
async def verification_answers(request: Request, customer_id: RowId, db: DbSession,
                               principal: Principal = Verifier) -> Response:  # fmt: skip
    form = await request.form()
    answers = []
    for key, value in form.multi_items():
        if key.startswith("answer_") and key[7:].isdigit() and isinstance(value, str) and value.strip():
            answers.append({"index": int(key[7:]), "answer": value.strip()[:200]})
    try:
        vid = await _current(db, principal, customer_id, str(form.get("verification_id") or ""))
        result = await verify.answer_questions(db, actor=principal, verification_id=vid, answers=answers)
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify")
    return await _attempt(request, db, principal, customer_id, result)


@router.post("/customers/{customer_id}/verification/close")
async def verification_close(
    request: Request, customer_id: RowId, db: DbSession, verification_id: Field = "", principal: Principal = Verifier
) -> Response:
    try:
        vid = await _current(db, principal, customer_id, verification_id)
        await verify.close(db, actor=principal, verification_id=vid)
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "verify")
    return redirect(f"/customers/{customer_id}?done=verify_close#verify")
