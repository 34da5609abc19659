"""HTTP endpoints of identity verification (R2.1), mounted under /api/v1/customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import verification
from kefu.customers.schemas import AnswersIn, CodeIn, PinIn, QuestionOut, SmsIn, VerificationOut, VerificationStart

router = APIRouter(prefix="/api/v1/customers", tags=["verification"])
Verifier = Annotated[Principal, require(Permission.CUSTOMER_VERIFY)]


@router.post("/{customer_id}/verifications", response_model=VerificationOut, status_code=201)
async def start(customer_id: RowId, body: VerificationStart, db: DbSession, principal: Verifier) -> VerificationOut:
    """Start verifying the caller as this customer, optionally bound to the contact (``contact_ref``)."""
    v = await verification.start(db, actor=principal, customer_id=customer_id, contact_ref=body.contact_ref)
    return VerificationOut(**verification.view(v))


@router.get("/verifications/{verification_id}", response_model=VerificationOut)
async def status(verification_id: RowId, db: DbSession, principal: Verifier) -> VerificationOut:
    v = await verification.get_owned(db, actor=principal, verification_id=verification_id)
    return VerificationOut(**verification.view(v))


@router.post("/verifications/{verification_id}/pin", response_model=VerificationOut)
async def submit_pin(verification_id: RowId, body: PinIn, db: DbSession, principal: Verifier) -> VerificationOut:
    """Check the phone-banking PIN the caller keyed in."""
    return VerificationOut(**await verification.submit_pin(db, actor=principal, verification_id=verification_id,
                                                           pin=body.pin))  # fmt: skip


@router.post("/verifications/{verification_id}/sms", response_model=VerificationOut)
async def request_sms(verification_id: RowId, body: SmsIn, db: DbSession, principal: Verifier) -> VerificationOut:
    """Check the last 6 characters of the ID number; if right, text a one-time code to the primary phone."""
    return VerificationOut(**await verification.request_sms(db, actor=principal, verification_id=verification_id,
                                                            id_last6=body.id_last6))  # fmt: skip


@router.post("/verifications/{verification_id}/code", response_model=VerificationOut)
async def submit_code(verification_id: RowId, body: CodeIn, db: DbSession, principal: Verifier) -> VerificationOut:
    return VerificationOut(**await verification.submit_code(db, actor=principal, verification_id=verification_id,
                                                            code=body.code))  # fmt: skip


@router.get("/verifications/{verification_id}/questions", response_model=list[QuestionOut])
async def list_questions(verification_id: RowId, db: DbSession, principal: Verifier) -> list[QuestionOut]:
    """The customer's security questions (texts only) for the agent to ask."""
    return [
        QuestionOut(**q) for q in await verification.questions(db, actor=principal, verification_id=verification_id)
    ]


@router.post("/verifications/{verification_id}/answers", response_model=VerificationOut)
async def answer_questions(
    verification_id: RowId, body: AnswersIn, db: DbSession, principal: Verifier
) -> VerificationOut:
    answers = [a.model_dump() for a in body.answers]
    return VerificationOut(**await verification.answer_questions(db, actor=principal, verification_id=verification_id,
                                                                 answers=answers))  # fmt: skip


@router.post("/verifications/{verification_id}/close", response_model=VerificationOut)
async def close(verification_id: RowId, db: DbSession, principal: Verifier) -> VerificationOut:
    v = await verification.close(db, actor=principal, verification_id=verification_id)
    return VerificationOut(**verification.view(v))
