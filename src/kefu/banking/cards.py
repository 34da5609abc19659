"""Card operations on a call: temporary loss (临时挂失), formal loss (正式挂失), release (解挂), activation.

Each one is called twice: without a confirmation token it only answers the read-back summary; with
the token from that answer it runs. A temporary loss lapses after ``banking_temporary_loss_days``
(5 by default) unless made formal; the periodic job ``expire_temporary_losses`` lifts the lapsed ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import operations
from kefu.banking.models import Card, CardStatus
from kefu.banking.port import CardView
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound

#: operation -> (statuses it may start from, status it leads to, read-back text)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "card_loss_temporary": (
        frozenset({CardStatus.ACTIVE.value}),
        CardStatus.TEMPORARY_LOSS.value,
        "Temporary loss report: the card is blocked for {days} days, then usable again unless made formal.",
    ),
    "card_loss_formal": (
        frozenset({CardStatus.ACTIVE.value, CardStatus.TEMPORARY_LOSS.value}),
        CardStatus.FORMAL_LOSS.value,
        "Formal loss report: the card is blocked for good; the customer applies for a replacement at a branch.",
    ),
    "card_release": (
        frozenset({CardStatus.TEMPORARY_LOSS.value}),
        CardStatus.ACTIVE.value,
        "Release of the temporary loss: the card can be used again at once.",
    ),
}

_REFUSALS = {
    ("card_release", CardStatus.FORMAL_LOSS.value): "A formal loss can only be released at a branch, with the "
    "customer's ID document; the card will be replaced.",
    ("card_release", CardStatus.ACTIVE.value): "The card is not reported lost; there is nothing to release.",
    ("card_loss_temporary", CardStatus.TEMPORARY_LOSS.value): "The card is already reported lost (temporary); "
    "offer to make the loss formal instead.",
    ("card_loss_temporary", CardStatus.FORMAL_LOSS.value): "The card is already reported lost (formal).",
    ("card_loss_formal", CardStatus.FORMAL_LOSS.value): "The card is already reported lost (formal).",
}


def card_out(c: CardView) -> dict[str, Any]:
    return {"id": c.id, "account_id": c.account_id, "card": c.masked, "kind": c.kind, "status": c.status,
            "activated": c.activated, "loss_reported_at": c.loss_reported_at,
            "loss_expires_at": c.loss_expires_at, "formal_loss_at": c.formal_loss_at}  # fmt: skip


async def _lock_card(session: AsyncSession, card_id: int) -> None:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(select(Card.id).where(Card.id == card_id).with_for_update())


async def card_operation(
    session: AsyncSession,
    *,
    actor: Principal,
    operation: str,
    customer_id: int,
    verification_id: int,
    card_id: int,
    confirmation_token: str | None,
) -> dict[str, Any]:
    """Preview (no token) or run (token) one card operation; answers the summary or the new card state."""
    if operation not in TRANSITIONS and operation != "card_activation":
        raise operations.field_error("operation", "unknown card operation")
    core = await operations.get_core(session)
    verification = await operations.check_verification(
        session, actor=actor, verification_id=verification_id, customer_id=customer_id, operation=operation
    )
    if confirmation_token is not None:
        await _lock_card(session, card_id)
    card = await core.card(session, card_id=card_id)
    if card is None or card.customer_id != customer_id:
        raise NotFound(f"No card {card_id} of this customer; list the customer's cards to pick one.")
    days = runtime.get().settings.banking_temporary_loss_days
    if operation == "card_activation":
        if card.activated:
            raise Conflict("The card is already activated.")
        if card.status != CardStatus.ACTIVE.value:
            raise Conflict(f"A card that is {card.status} cannot be activated.")
        target, text = card.status, "Activation: the card can be used from now on."
    else:
        allowed, target, text = TRANSITIONS[operation]
        if card.status not in allowed:
            raise Conflict(
                _REFUSALS.get((operation, card.status), f"Not possible while the card is {card.status}."),
                code="card_state_conflict",
                extra={"card_status": card.status},
            )
    params = {"customer_id": customer_id, "card_id": card_id, "from_status": card.status}
    if confirmation_token is None:
        token, expires = operations.issue_confirmation(
            operation=operation, actor=actor, verification_id=verification_id, params=params
        )
        return {"status": "preview", "operation": operation, "card": card.masked, "current_status": card.status,
                "new_status": target, "read_back": text.format(days=days), "confirmation_token": token,
                "expires_at": expires}  # fmt: skip
    operations.check_confirmation(
        confirmation_token, operation=operation, actor=actor, verification_id=verification_id, params=params
    )
    if operation == "card_activation":
        after = await core.activate_card(session, card_id=card_id)
    else:
        expires_at = clock.now() + dt.timedelta(days=days) if target == CardStatus.TEMPORARY_LOSS.value else None
        after = await core.set_card_status(session, card_id=card_id, status=target, expires_at=expires_at)
    masked = {"card": card.masked, "from_status": card.status, "to_status": after.status}
    result = {"status": "done", "operation": operation, "card": card_out(after)}
    await operations.journal(session, operation=operation, customer_id=customer_id, actor=actor,
                             verification=verification, params=masked, result=result)  # fmt: skip
    return result


async def expire_temporary_losses(session: AsyncSession) -> int:
    """Lift temporary losses whose time has run out (the card becomes usable again). Returns how many."""
    now = clock.now()
    stmt = select(Card.id, Card.card_no_mask).where(
        Card.status == CardStatus.TEMPORARY_LOSS.value, Card.loss_expires_at <= now
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    due = (await session.execute(stmt.order_by(Card.id).limit(500))).all()
    for card_id, masked in due:
        await session.execute(
            update(Card)
            .where(Card.id == card_id, Card.status == CardStatus.TEMPORARY_LOSS.value)
            .values(status=CardStatus.ACTIVE.value, loss_reported_at=None, loss_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await audit.record(session, action="banking.card_loss_expired", object_type="card", object_id=card_id,
                           after={"card": masked, "to_status": CardStatus.ACTIVE.value},
                           actor="system", actor_id=None)  # fmt: skip
    return len(due)


async def expire_job(rt: Any) -> int:
    """Job body for the huey periodic task (core/jobs.py)."""
    async with rt.db.transaction() as s:
        return await expire_temporary_losses(s)
