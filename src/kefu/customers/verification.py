"""Identity verification of a caller (R2.1): sessions, methods, levels and lockout.

Methods: ``pin`` (phone-banking PIN), ``id_sms`` (last 6 characters of the ID number, then a
one-time code sent by SMS to the primary phone), ``questions`` (security questions). The level each
method gives (``KEFU_VERIFICATION_METHOD_LEVELS``) and the level each operation needs
(``KEFU_VERIFICATION_LEVELS``) are configuration. Wrong PINs lock the PIN (``KEFU_PIN_MAX_FAILURES``
for ``KEFU_PIN_LOCK_HOURS``); ``KEFU_VERIFICATION_MAX_FAILURES`` failures of any kind lock the
session. Every attempt writes a ``customer.verify`` audit entry with its outcome, never the secret.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.sms import get_port
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import mask_phone, normalise_lookup
from kefu.core.errors import Conflict, Locked, NotFound, ValidationFailed
from kefu.core.ids import token_digest
from kefu.customers import consents, credentials
from kefu.customers import repository as repo
from kefu.customers.models import VerificationLevel, VerificationSession
from kefu.customers.service import get_active
from kefu.customers.verification_gate import required_level

__all__ = ["required_level"]

METHODS = ("pin", "id_sms", "questions")


def _settings() -> Any:
    return runtime.get().settings


def view(v: VerificationSession, *, passed: bool | None = None, message: str = "") -> dict[str, Any]:
    return {
        "id": v.id, "customer_id": v.customer_id, "contact_ref": v.contact_ref, "level": v.level,
        "methods_passed": json.loads(v.methods_passed), "failures": v.failures,
        "failures_left": max(0, _settings().verification_max_failures - v.failures), "status": v.status,
        "expires_at": v.expires_at, "code_pending": v.otp_hash is not None, "passed": passed, "message": message,
    }  # fmt: skip


async def _audit(session: AsyncSession, v: VerificationSession, *, method: str, outcome: str, **extra: Any) -> None:
    await audit.record(
        session, action="customer.verify", object_type="verification", object_id=v.id, outcome=outcome,
        after={"customer_id": v.customer_id, "method": method, "level": v.level, "failures": v.failures,
               "session_status": v.status, **extra},
    )  # fmt: skip


async def start(
    session: AsyncSession, *, actor: Principal, customer_id: int, contact_ref: str | None = None
) -> VerificationSession:
    c = await get_active(session, customer_id)
    now = clock.now()
    v = VerificationSession(
        customer_id=c.id, staff_id=actor.staff_id, contact_ref=contact_ref, level=int(VerificationLevel.NONE),
        methods_passed="[]", failures=0, status="open", otp_attempts=0, otp_sends=0, created_at=now,
        expires_at=now + dt.timedelta(minutes=_settings().verification_session_minutes),
    )  # fmt: skip
    session.add(v)
    await session.flush()
    await audit.record(session, action="customer.verify_start", object_type="verification", object_id=v.id,
                       after={"customer_id": c.id, "contact_ref": contact_ref})  # fmt: skip
    return v


async def get_owned(session: AsyncSession, *, actor: Principal, verification_id: int) -> VerificationSession:
    """The caller's own verification; another agent's is not visible (404, like a missing one)."""
    v = await repo.get_verification(session, verification_id)
    if v is None or v.staff_id != actor.staff_id:
        raise NotFound(f"No verification {verification_id} of yours; start one for the caller you are serving.")
    return v


async def _usable(session: AsyncSession, *, actor: Principal, verification_id: int, method: str) -> VerificationSession:
    """The open session, or an audited refusal (committed, so the attempt stays on record)."""
    v = await get_owned(session, actor=actor, verification_id=verification_id)
    if v.status == "open" and v.expires_at <= clock.now():
        v.status = "closed"
        v.closed_at = clock.now()
    if v.status != "open":
        await _audit(session, v, method=method, outcome="refused", reason=v.status)
        if v.status == "locked":
            raise Locked("This verification is locked after too many failures; transfer the caller to a "
                         "supervisor or ask them to visit a branch.")  # fmt: skip
        raise Conflict("This verification has ended or expired; start a new one.", commit=True)
    return v


async def _fail(
    session: AsyncSession, v: VerificationSession, *, method: str, message: str, **extra: Any
) -> dict[str, Any]:
    v.failures += 1
    if v.failures >= _settings().verification_max_failures:
        v.status = "locked"
        v.otp_hash = None
        message += " The verification is now locked."
    await _audit(session, v, method=method, outcome="failed", **extra)
    return view(v, passed=False, message=message)


async def _pass(session: AsyncSession, v: VerificationSession, *, method: str) -> dict[str, Any]:
    passed = json.loads(v.methods_passed)
    if method not in passed:
        passed.append(method)
    v.methods_passed = json.dumps(passed)
    v.level = max(v.level, int(_settings().verification_method_levels.get(method, 0)))
    await _audit(session, v, method=method, outcome="ok")
    return view(v, passed=True, message=f"Verified by {method}; level L{v.level}.")


async def submit_pin(session: AsyncSession, *, actor: Principal, verification_id: int, pin: str) -> dict[str, Any]:
    v = await _usable(session, actor=actor, verification_id=verification_id, method="pin")
    cred = await repo.credential_of(session, v.customer_id)
    if cred is None or not cred.pin_hash:
        raise Conflict("The customer has no phone-banking PIN; use another method.")
    now = clock.now()
    if cred.pin_locked_until is not None and cred.pin_locked_until > now:
        await _audit(session, v, method="pin", outcome="refused", reason="pin_locked")
        raise Locked(f"The phone-banking PIN is locked until {cred.pin_locked_until:%Y-%m-%d %H:%M} UTC after "
                     "repeated wrong entries; use another method.", extra={"locked_until": str(cred.pin_locked_until)})  # fmt: skip
    if credentials.pin_matches(cred, pin):
        cred.pin_failures = 0
        cred.pin_locked_until = None
        return await _pass(session, v, method="pin")
    settings = _settings()
    cred.pin_failures += 1
    message = "Wrong PIN."
    if cred.pin_failures >= settings.pin_max_failures:
        cred.pin_locked_until = now + dt.timedelta(hours=settings.pin_lock_hours)
        cred.pin_failures = 0
        message += f" The PIN is now locked for {settings.pin_lock_hours} h."
    return await _fail(session, v, method="pin", message=message, pin_locked=cred.pin_locked_until is not None)


def _otp_digest(v: VerificationSession, code: str) -> str:
    return token_digest(f"verification:{v.id}:{code}", _settings().secret_bytes())


async def request_sms(
    session: AsyncSession, *, actor: Principal, verification_id: int, id_last6: str
) -> dict[str, Any]:
    """Check the last 6 characters of the ID number the caller states; if right, text a code."""
    v = await _usable(session, actor=actor, verification_id=verification_id, method="id_sms")
    settings = _settings()
    if v.otp_sends >= settings.otp_max_sends:
        raise Conflict(f"{settings.otp_max_sends} codes were already sent in this verification; use another method.")
    customer = await get_active(session, v.customer_id)
    status, usable = await consents.group_status(session, customer.id)
    consents.refuse_unusable({"contact"}, status, usable, action="use")
    phones = [p for p in await repo.phones_of(session, customer.id) if p.is_primary]
    if not phones or not customer.id_number:
        raise Conflict("The customer has no ID number or primary phone on file; use another method.")
    if not hmac.compare_digest(normalise_lookup(id_last6)[-6:].encode(), customer.id_number[-6:].upper().encode()):
        return await _fail(session, v, method="id_sms", message="The ID number digits do not match.", step="id_last6")
    code = f"{secrets.randbelow(10**6):06d}"
    v.otp_hash = _otp_digest(v, code)
    v.otp_expires_at = clock.now() + dt.timedelta(minutes=settings.otp_minutes)
    v.otp_attempts = 0
    v.otp_sends += 1
    body = (f"{settings.sms_signature}客服中心正在核实您的身份，验证码 {code}，{settings.otp_minutes} 分钟内有效。"
            "如非本人来电，请勿告知他人。")  # fmt: skip
    msg = await get_port().send(session, recipient=phones[0].phone, body=body, kind="verification_code",
                                customer_id=customer.id)  # fmt: skip
    await _audit(session, v, method="id_sms", outcome="ok", step="code_sent", message_id=msg.id,
                 sent_to=mask_phone(phones[0].phone))  # fmt: skip
    return view(v, passed=None, message=f"Code sent to {mask_phone(phones[0].phone)}; ask the caller to read it.")


async def submit_code(session: AsyncSession, *, actor: Principal, verification_id: int, code: str) -> dict[str, Any]:
    v = await _usable(session, actor=actor, verification_id=verification_id, method="id_sms")
    if v.otp_hash is None:
        raise Conflict("No code is pending; request one first (POST …/sms).")
    if v.otp_expires_at is None or v.otp_expires_at <= clock.now():
        v.otp_hash = None
        await _audit(session, v, method="id_sms", outcome="failed", step="code_expired")
        return view(v, passed=False, message="The code has expired; request a new one.")
    if hmac.compare_digest(_otp_digest(v, code.strip()), v.otp_hash):
        v.otp_hash = None
        v.otp_expires_at = None
        return await _pass(session, v, method="id_sms")
    v.otp_attempts += 1
    message = "Wrong code."
    if v.otp_attempts >= _settings().otp_max_attempts:
        v.otp_hash = None
        message += " The code is void; request a new one."
    return await _fail(session, v, method="id_sms", message=message, step="code")


async def questions(session: AsyncSession, *, actor: Principal, verification_id: int) -> list[dict[str, Any]]:
    v = await get_owned(session, actor=actor, verification_id=verification_id)
    stored = credentials.questions_of(await repo.credential_of(session, v.customer_id))
    return [{"index": i, "question": q["question"]} for i, q in enumerate(stored)]


async def answer_questions(
    session: AsyncSession, *, actor: Principal, verification_id: int, answers: list[dict[str, Any]]
) -> dict[str, Any]:
    v = await _usable(session, actor=actor, verification_id=verification_id, method="questions")
    stored = credentials.questions_of(await repo.credential_of(session, v.customer_id))
    required = _settings().security_questions_required
    if len(stored) < required:
        raise Conflict("The customer has not set enough security questions; use another method.")
    given = {int(a["index"]): str(a["answer"]) for a in answers}
    if len(given) < required or any(i < 0 or i >= len(stored) for i in given):
        raise ValidationFailed(
            f"Answer at least {required} different questions of the {len(stored)} listed.",
            extra={"errors": [{"field": "answers", "message": "not enough answers or unknown index"}]},
        )
    results = [credentials.answer_matches(stored[i], answer) for i, answer in given.items()]
    if all(results):
        return await _pass(session, v, method="questions")
    return await _fail(session, v, method="questions", message="At least one answer is wrong.",
                       answered=len(results))  # fmt: skip


async def close(session: AsyncSession, *, actor: Principal, verification_id: int) -> VerificationSession:
    v = await get_owned(session, actor=actor, verification_id=verification_id)
    if v.status == "open":
        v.status = "closed"
        v.closed_at = clock.now()
        v.otp_hash = None
        await audit.record(session, action="customer.verify_close", object_type="verification", object_id=v.id,
                           after={"customer_id": v.customer_id, "level": v.level})  # fmt: skip
    return v
