"""The consent ledger (R3.1): grant, withdraw, and the check every write and read goes through.

A group is *usable* when it has a consent in force (not withdrawn, not expired) or a legal basis in
configuration. Withdrawal blocks, it does not erase: the fields stay stored (the bank must keep
records for their retention period, and identity data for AML in any case) but they are no longer
shown to staff, revealed or updated, and contact data is no longer used to send codes. The data
subject's export still lists them, marked as withheld.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, KefuError, NotFound, ValidationFailed
from kefu.customers import repository as repo
from kefu.customers.fields import CHANNELS, FIELD_GROUPS, legal_bases
from kefu.customers.models import CustomerConsent


class ConsentRequired(KefuError):
    status, code, title = 409, "consent_required", "Consent required"


def in_force(c: CustomerConsent, now: dt.datetime) -> bool:
    return c.withdrawn_at is None and (c.expires_at is None or c.expires_at > now)


def consent_view(c: CustomerConsent) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "origin_customer_id": c.origin_customer_id,
        "field_group": c.field_group,
        "purpose": c.purpose,
        "scope": c.scope,
        "channel": c.channel,
        "words_shown": c.words_shown,
        "captured_by": c.captured_by,
        "captured_at": c.captured_at,
        "expires_at": c.expires_at,
        "withdrawn_at": c.withdrawn_at,
        "withdrawn_by": c.withdrawn_by,
        "withdrawn_channel": c.withdrawn_channel,
        "withdrawn_note": c.withdrawn_note,
        "in_force": in_force(c, clock.now()),
    }


def status_of(consents: Sequence[CustomerConsent]) -> tuple[dict[str, str], set[str]]:
    """Per group: 'consented', 'legal_basis', 'withdrawn', 'expired' or 'none'; and the usable groups."""
    now = clock.now()
    bases = legal_bases()
    out: dict[str, str] = {}
    usable: set[str] = set()
    for name in FIELD_GROUPS:
        mine = [c for c in consents if c.field_group == name]
        if any(in_force(c, now) for c in mine):
            out[name] = "consented"
        elif name in bases:
            out[name] = "legal_basis"
        elif mine:
            out[name] = "withdrawn" if mine[-1].withdrawn_at is not None else "expired"
        else:
            out[name] = "none"
        if out[name] in ("consented", "legal_basis"):
            usable.add(name)
    return out, usable


async def group_status(session: AsyncSession, customer_id: int) -> tuple[dict[str, str], set[str]]:
    return status_of(await repo.consents_of(session, customer_id))


def refuse_unusable(groups: Iterable[str], status: dict[str, str], usable: set[str], *, action: str) -> None:
    missing = sorted(set(groups) - usable)
    if not missing:
        return
    group = missing[0]
    state = status.get(group, "none")
    why = {"withdrawn": "the customer withdrew it", "expired": "it has expired"}.get(state, "none was recorded")
    raise ConsentRequired(
        f"Cannot {action} the '{group}' fields ({', '.join(FIELD_GROUPS[group].fields)}): the customer's consent "
        f"for '{group}' (purpose: {FIELD_GROUPS[group].purpose}) is not in force because {why}. Read the consent "
        "text to the customer and record it first (POST …/consents).",
        extra={"field_group": group, "field_groups": missing, "consent_state": state},
    )


def _check_group(field_group: str) -> None:
    if field_group not in FIELD_GROUPS:
        raise ValidationFailed(
            f"Unknown field group; groups are {', '.join(FIELD_GROUPS)}.",
            extra={"errors": [{"field": "field_group", "message": "unknown"}]},
        )


def _check_channel(channel: str, field: str = "channel") -> None:
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"Channel must be one of {', '.join(CHANNELS)}.", extra={"errors": [{"field": field, "message": "unknown"}]}
        )


async def grant(
    session: AsyncSession,
    *,
    actor: Principal,
    customer_id: int,
    field_group: str,
    channel: str,
    words_shown: str,
    scope: str | None = None,
    expires_at: dt.datetime | None = None,
) -> CustomerConsent:
    """Record a consent captured on a contact: the group's declared purpose, the exact words shown."""
    _check_group(field_group)
    _check_channel(channel)
    if not words_shown.strip():
        raise ValidationFailed(
            "Record the exact words read out or shown to the customer.",
            extra={"errors": [{"field": "words_shown", "message": "required"}]},
        )
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(
            "The consent would already have expired; give a future date or none.",
            extra={"errors": [{"field": "expires_at", "message": "in the past"}]},
        )
    customer = await repo.get_customer(session, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.")
    if customer.status != "active":
        raise Conflict(f"Customer {customer.customer_no} is {customer.status}; record consents on the active record.")
    group = FIELD_GROUPS[field_group]
    c = CustomerConsent(
        customer_id=customer_id,
        field_group=field_group,
        purpose=group.purpose,
        scope=(scope or "").strip() or group.scope,
        channel=channel,
        words_shown=words_shown.strip(),
        captured_by=actor.staff_id,
        captured_at=now,
        expires_at=expires_at,
    )
    session.add(c)
    await session.flush()
    await audit.record(
        session, action="customer.consent_grant", object_type="customer", object_id=customer_id,
        after={"consent_id": c.id, "field_group": field_group, "purpose": c.purpose, "channel": channel,
               "expires_at": expires_at},
    )  # fmt: skip
    return c


async def withdraw(
    session: AsyncSession, *, actor: Principal, customer_id: int, consent_id: int, channel: str, note: str | None = None
) -> CustomerConsent:
    _check_channel(channel)
    c = await repo.get_consent(session, consent_id)
    if c is None or c.customer_id != customer_id:
        raise NotFound(f"Customer {customer_id} has no consent {consent_id}.")
    if c.withdrawn_at is not None:
        raise Conflict("This consent was already withdrawn.")
    c.withdrawn_at = clock.now()
    c.withdrawn_by = actor.staff_id
    c.withdrawn_channel = channel
    c.withdrawn_note = (note or "").strip() or None
    await session.flush()
    status, usable = await group_status(session, customer_id)
    await audit.record(
        session, action="customer.consent_withdraw", object_type="customer", object_id=customer_id,
        before={"consent_id": c.id, "field_group": c.field_group, "in_force": True},
        after={"consent_id": c.id, "field_group": c.field_group, "in_force": False, "channel": channel,
               "group_state": status[c.field_group]},
    )  # fmt: skip
    return c
