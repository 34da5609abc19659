"""Merging duplicate customer records: nothing is deleted, every history stays reachable.

The duplicate (source) gets status ``merged`` and ``merged_into_id``. Its phones and consents move
to the surviving record (each keeps ``origin_customer_id``); its verification sessions stay linked
to the source id, which points at the survivor; empty profile fields of the survivor are filled
from the source; a PIN and security questions move when the survivor has none. The event
``customer.merged`` lets other domains (banking accounts, contacts) follow.
"""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, events
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, ValidationFailed
from kefu.customers import repository as repo
from kefu.customers.models import Customer, CustomerStatus
from kefu.customers.service import get_active
from kefu.customers.views import audit_view, tags_of

MERGED_EVENT = "customer.merged"
_FILL = ("gender", "birth_date", "id_type", "email", "address", "occupation", "income_band", "marketing_contact")


async def merge(session: AsyncSession, *, actor: Principal, target_id: int, source_id: int, reason: str) -> Customer:
    if target_id == source_id:
        raise ValidationFailed(
            "A customer cannot be merged into itself.", extra={"errors": [{"field": "source_id", "message": "same"}]}
        )
    if not reason.strip():
        raise ValidationFailed("Give the reason for the merge.", extra={"errors": [{"field": "reason"}]})
    # lock in id order so that two opposite merges cannot deadlock
    for cid in sorted((target_id, source_id)):
        await repo.get_customer_for_update(session, cid)
    target = await get_active(session, target_id)
    source = await get_active(session, source_id)
    if source.id_number_bidx and target.id_number_bidx and source.id_number_bidx != target.id_number_bidx:
        raise Conflict("The two records have different ID numbers; they are not the same person.")
    before = {"target": audit_view(target, await repo.phones_of(session, target.id)),
              "source": audit_view(source, await repo.phones_of(session, source.id))}  # fmt: skip

    for field in _FILL:
        if getattr(target, field) in (None, "") and getattr(source, field) not in (None, ""):
            setattr(target, field, getattr(source, field))
    if not target.id_number and source.id_number:
        target.id_number, target.id_number_bidx = source.id_number, source.id_number_bidx
        source.id_number_bidx = None  # the survivor answers look-ups by this ID from now on
    target.tags = json.dumps(sorted(set(tags_of(target)) | set(tags_of(source))), ensure_ascii=False)

    target_bidx = {p.phone_bidx for p in await repo.phones_of(session, target.id)}
    phones_moved = await repo.move_phones(session, source_id=source.id, target_id=target.id)
    for p in await repo.phones_of(session, target.id):
        if p.origin_customer_id == source.id and p.phone_bidx in target_bidx:
            p.removed_at = clock.now()  # a duplicate of a phone the survivor already has: kept, not active
    consents_moved = await repo.move_consents(session, source_id=source.id, target_id=target.id)

    target_cred = await repo.credential_of(session, target.id)
    source_cred = await repo.credential_of(session, source.id)
    credential_moved = False
    if target_cred is None and source_cred is not None:
        source_cred.customer_id = target.id
        credential_moved = True

    now = clock.now()
    source.status = CustomerStatus.MERGED.value
    source.merged_into_id = target.id
    source.updated_at = target.updated_at = now
    await session.flush()
    after = {"target": audit_view(target, await repo.phones_of(session, target.id)),
             "source": audit_view(source, await repo.phones_of(session, source.id)),
             "phones_moved": phones_moved, "consents_moved": consents_moved,
             "credential_moved": credential_moved}  # fmt: skip
    await audit.record(session, action="customer.merge", object_type="customer", object_id=target.id,
                       before=before, after=after, purpose=reason.strip())  # fmt: skip
    await events.emit(session, MERGED_EVENT, {"source_id": source.id, "target_id": target.id})
    return target
