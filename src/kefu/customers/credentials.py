"""Phone-banking secrets of a customer: a 6-digit PIN and security questions, stored as Argon2id hashes
(the staff password hasher and its settings). Enrolment comes from the IVR or a branch integration
calling these functions; an agent never hears or types a new PIN."""

from __future__ import annotations

import json
import re
import unicodedata

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock
from kefu.core.errors import ValidationFailed
from kefu.customers import repository as repo
from kefu.customers.models import CustomerCredential
from kefu.customers.service import get_active
from kefu.staff.passwords import hash_password, verify_password

_PIN = re.compile(r"^\d{6}$")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def normalise_answer(answer: str) -> str:
    """Width, case, spaces and punctuation do not matter: '  Beijing ' == 'beijing' == 'ＢＥＩＪＩＮＧ'."""
    text = unicodedata.normalize("NFKC", answer).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch).startswith("P")))


def check_pin_policy(pin: str) -> None:
    if not _PIN.match(pin):
        raise _invalid("pin", "A phone-banking PIN has exactly 6 digits.")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise _invalid("pin", "Choose a PIN that is not all one digit or a run of consecutive digits.")


async def _credential(session: AsyncSession, customer_id: int) -> CustomerCredential:
    cred = await repo.credential_of(session, customer_id)
    if cred is None:
        now = clock.now()
        cred = CustomerCredential(customer_id=customer_id, pin_failures=0, questions="[]", created_at=now,
                                  updated_at=now)  # fmt: skip
        session.add(cred)
    return cred


async def set_pin(session: AsyncSession, *, customer_id: int, pin: str) -> CustomerCredential:
    c = await get_active(session, customer_id)
    check_pin_policy(pin)
    cred = await _credential(session, c.id)
    cred.pin_hash = hash_password(pin)
    cred.pin_set_at = cred.updated_at = clock.now()
    cred.pin_failures = 0
    cred.pin_locked_until = None
    await session.flush()
    await audit.record(session, action="customer.pin_set", object_type="customer", object_id=c.id)
    return cred


async def set_questions(session: AsyncSession, *, customer_id: int, questions: list[tuple[str, str]]) -> None:
    c = await get_active(session, customer_id)
    if not questions or any(not q.strip() or not normalise_answer(a) for q, a in questions):
        raise _invalid("questions", "Give each security question with a non-empty answer.")
    cred = await _credential(session, c.id)
    cred.questions = json.dumps(
        [{"question": q.strip(), "answer_hash": hash_password(normalise_answer(a))} for q, a in questions],
        ensure_ascii=False,
    )
    cred.updated_at = clock.now()
    await session.flush()
    await audit.record(session, action="customer.questions_set", object_type="customer", object_id=c.id,
                       after={"questions": [q.strip() for q, _ in questions]})  # fmt: skip


def pin_matches(cred: CustomerCredential, pin: str) -> bool:
    return bool(cred.pin_hash) and _PIN.match(pin) is not None and verify_password(str(cred.pin_hash), pin)[0]


def questions_of(cred: CustomerCredential | None) -> list[dict[str, str]]:
    if cred is None:
        return []
    value = json.loads(cred.questions or "[]")
    return value if isinstance(value, list) else []


def answer_matches(stored: dict[str, str], answer: str) -> bool:
    return verify_password(stored["answer_hash"], normalise_answer(answer))[0]
