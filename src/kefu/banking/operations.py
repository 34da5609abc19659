"""What every banking operation shares: the core-system switch, the verification level, the
read-back confirmation token, the operations journal and the audit entry.

Confirmation tokens are stateless: an HMAC (KEFU_SECRET_KEY) over the operation, the agent, the
verification, the exact parameters and an expiry. The preview answer carries one; executing with
other parameters, by another agent or after expiry is refused, so what runs is what was read back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking.embedded import EmbeddedCoreBanking
from kefu.banking.models import CoreState, Operation
from kefu.banking.port import CoreBanking, CoreUnavailable
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, ValidationFailed
from kefu.customers import verification_gate
from kefu.customers.models import VerificationLevel, VerificationSession

#: Verification level each operation needs (used until the customers domain configures them).
LEVELS: dict[str, VerificationLevel] = {
    "balance": VerificationLevel.L1,
    "history": VerificationLevel.L1,
    "transfer": VerificationLevel.L2,
    "card_loss_temporary": VerificationLevel.L1,
    "card_loss_formal": VerificationLevel.L2,
    "card_release": VerificationLevel.L2,
    "card_activation": VerificationLevel.L2,
    "appointment": VerificationLevel.L1,
    "manual_request": VerificationLevel.L1,
}

_embedded = EmbeddedCoreBanking()
_adapter: CoreBanking | None = None


def install_adapter(adapter: CoreBanking | None) -> None:
    """Plug in a real core-system adapter (``None`` restores the embedded core)."""
    global _adapter
    _adapter = adapter


#: Names the customers domain's configuration (KEFU_VERIFICATION_LEVELS) uses for our operations.
ALIASES = {"card_loss_temporary": "card_loss", "card_activation": "activation"}


def required_level(operation: str) -> VerificationLevel:
    """The level configured by the customers domain when it names the operation, else ``LEVELS``."""
    name = ALIASES.get(operation, operation)
    configured = getattr(runtime.get().settings, "verification_levels", None) or {}
    gate = getattr(verification_gate, "required_level", None)
    if gate is not None and name in configured:
        return VerificationLevel(int(gate(name)))
    return LEVELS[operation]


async def core_state(session: AsyncSession) -> CoreState | None:
    return (await session.execute(select(CoreState).where(CoreState.id == 1))).scalar_one_or_none()


async def core_offline_reason(session: AsyncSession) -> str | None:
    """Why the core is unavailable (``None`` when it is up): configuration or an operator's switch."""
    if runtime.get().settings.core_banking == "offline":
        return "configuration (KEFU_CORE_BANKING=offline)"
    state = await core_state(session)
    if state is not None and state.mode == "offline":
        return state.reason or "switched offline by an operator"
    return None


async def get_core(session: AsyncSession) -> CoreBanking:
    """The core system to talk to, or a 503 when it is down (nothing has been written yet)."""
    if await core_offline_reason(session) is not None:
        raise CoreUnavailable()
    return _adapter or _embedded


async def check_verification(
    session: AsyncSession, *, actor: Principal, verification_id: int, customer_id: int, operation: str
) -> VerificationSession:
    return await verification_gate.require_level(
        session,
        actor=actor,
        verification_id=verification_id,
        customer_id=customer_id,
        level=required_level(operation),
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sign(message: str) -> str:
    key = runtime.get().settings.secret_bytes()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def issue_confirmation(
    *, operation: str, actor: Principal, verification_id: int, params: dict[str, Any]
) -> tuple[str, dt.datetime]:
    minutes = runtime.get().settings.banking_confirmation_minutes
    expires = clock.now() + dt.timedelta(minutes=minutes)
    exp = int(expires.timestamp())
    sig = _sign(_canonical([operation, actor.staff_id, verification_id, params, exp]))
    return f"{exp}.{sig}", expires


def check_confirmation(
    token: str | None, *, operation: str, actor: Principal, verification_id: int, params: dict[str, Any]
) -> None:
    """Refuse unless ``token`` came from a preview of exactly this operation with these parameters."""
    field = [{"field": "confirmation_token", "message": "preview the operation and read it back first"}]
    if not token:
        raise ValidationFailed(
            "Read the summary back to the customer first: call the preview, then send its confirmation_token.",
            extra={"errors": field},
        )
    exp_text, _, sig = token.partition(".")
    if not exp_text.isdigit() or not sig:
        raise ValidationFailed(
            "The confirmation token is malformed; preview the operation again.", extra={"errors": field}
        )
    expected = _sign(_canonical([operation, actor.staff_id, verification_id, params, int(exp_text)]))
    if not hmac.compare_digest(expected, sig):
        raise Conflict(
            "The details differ from the summary read back to the customer (or another agent previewed it); "
            "preview again and read the new summary back.",
            code="confirmation_mismatch",
            extra={"errors": field},
        )
    if int(exp_text) < int(clock.now().timestamp()):
        raise Conflict(
            "The confirmation has expired; preview again and read the summary back to the customer.",
            code="confirmation_expired",
            extra={"errors": field},
        )


async def journal(
    session: AsyncSession,
    *,
    operation: str,
    customer_id: int,
    actor: Principal,
    verification: VerificationSession,
    params: dict[str, Any],
    result: dict[str, Any],
    status: str = "done",
    audit_after: dict[str, Any] | None = None,
    purpose: str | None = None,
) -> Operation:
    """Record the operation against the contact and write its audit entry (masked values only)."""
    op = Operation(
        operation=operation,
        customer_id=customer_id,
        staff_id=actor.staff_id,
        verification_id=verification.id,
        contact_ref=verification.contact_ref,
        parameters=_canonical(params),
        result=_canonical(result),
        status=status,
        created_at=clock.now(),
    )
    session.add(op)
    await session.flush()
    await audit.record(
        session,
        action=f"banking.{operation}",
        object_type="customer",
        object_id=customer_id,
        after={
            "operation_id": op.id,
            "verification_id": verification.id,
            "contact_ref": verification.contact_ref,
            **(audit_after if audit_after is not None else params),
        },
        outcome="ok" if status == "done" else status,
        purpose=purpose,
    )
    return op


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", extra={"errors": [{"field": field, "message": message}]})
