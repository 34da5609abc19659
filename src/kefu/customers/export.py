"""The data subject's export (R3.1): everything the bank holds about a customer and why, in one call.

Values are in clear (it is the customer's own data); the call needs its own permission, C3
clearance and a purpose, and is audited without any of the values. Secrets are never exported:
the PIN and security answers appear only as "set" and the question texts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, pii
from kefu.core.auth import Principal
from kefu.core.crypto import DataClass
from kefu.core.errors import NotFound
from kefu.customers import consents
from kefu.customers import repository as repo
from kefu.customers.fields import BASIC_FIELDS, FIELD_GROUPS, legal_bases
from kefu.customers.models import Customer
from kefu.customers.views import tags_of


def _record(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id, "customer_no": c.customer_no, "name": c.name, "gender": c.gender, "locale": c.locale,
        "tier": c.tier, "status": c.status, "merged_into_id": c.merged_into_id,
        "id_type": c.id_type, "id_number": c.id_number, "birth_date": c.birth_date,
        "email": c.email, "address": c.address, "occupation": c.occupation, "income_band": c.income_band,
        "tags": tags_of(c), "marketing_contact": c.marketing_contact,
        "created_at": c.created_at, "updated_at": c.updated_at,
    }  # fmt: skip


async def export(session: AsyncSession, *, actor: Principal, customer_id: int, purpose: str) -> dict[str, Any]:
    cleaned = pii.check_purpose(purpose)
    pii.check_clearance(actor, DataClass.C3, "the full customer record")
    c = await repo.get_customer(session, customer_id)
    if c is None:
        raise NotFound(f"No customer {customer_id}.")
    merged = list(await repo.merged_into(session, c.id))
    consent_rows = await repo.consents_of(session, c.id)
    status, usable = consents.status_of(consent_rows)
    bases = legal_bases()
    phones = await repo.phones_of(session, c.id, include_removed=True)
    cred = await repo.credential_of(session, c.id)
    sessions = await repo.verifications_of(session, [c.id, *(m.id for m in merged)])
    groups = [
        {"name": g.name, "purpose": g.purpose, "fields": list(g.fields), "state": status[g.name],
         "legal_basis": bases.get(g.name), "in_use": g.name in usable}
        for g in FIELD_GROUPS.values()
    ]  # fmt: skip
    out = {
        "generated_at": clock.now(),
        "customer": _record(c),
        "basic_fields": {"fields": list(BASIC_FIELDS), "purpose": "holding the customer relationship"},
        "field_groups": groups,
        "phones": [
            {
                "id": p.id,
                "phone": p.phone,
                "label": p.label,
                "is_primary": p.is_primary,
                "created_at": p.created_at,
                "removed_at": p.removed_at,
                "origin_customer_id": p.origin_customer_id,
            }
            for p in phones
        ],  # fmt: skip
        "consents": [consents.consent_view(r) for r in consent_rows],
        "merged_records": [_record(m) for m in merged],
        "credentials": {
            "pin_set": bool(cred and cred.pin_hash),
            "security_questions": [q["question"] for q in json.loads(cred.questions)] if cred else [],
        },
        "verifications": [
            {
                "id": v.id,
                "customer_id": v.customer_id,
                "created_at": v.created_at,
                "level": v.level,
                "methods_passed": json.loads(v.methods_passed),
                "status": v.status,
            }
            for v in sessions
        ],  # fmt: skip
    }
    await audit.record(
        session, action="customer.export", object_type="customer", object_id=c.id, purpose=cleaned,
        after={"consents": len(consent_rows), "phones": len(phones), "merged_records": len(merged)},
    )  # fmt: skip
    return out
