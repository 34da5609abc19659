"""What screens, responses and audit entries may show of a customer: masked, and without the fields
of groups the bank may no longer use (withdrawn or never consented)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kefu.core.crypto import mask_email, mask_id_number, mask_name, mask_phone
from kefu.customers.models import Customer, CustomerPhone


def mask_address(value: str | None) -> str:
    if not value:
        return ""
    keep = 6 if len(value) > 10 else 2
    return value[:keep] + "****"


def mask_birth_date(value: str | None) -> str:
    return f"{value[:4]}-**-**" if value else ""


def mask_contact(value: str | None) -> str:
    if not value:
        return ""
    return mask_email(value) if "@" in value else mask_phone(value)


def tags_of(c: Customer) -> list[str]:
    try:
        value = json.loads(c.tags or "[]")
    except ValueError:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


def phone_view(p: CustomerPhone) -> dict[str, Any]:
    return {
        "id": p.id,
        "phone": mask_phone(p.phone),
        "label": p.label,
        "is_primary": p.is_primary,
        "removed": p.removed_at is not None,
    }


def masked_view(
    c: Customer, phones: Iterable[CustomerPhone], consent: dict[str, str], usable: set[str]
) -> dict[str, Any]:
    """The masked profile. Fields of groups outside ``usable`` are withheld (None / empty)."""
    identity = "identity" in usable
    contact = "contact" in usable
    profile = "profile" in usable
    marketing = "marketing" in usable
    return {
        "id": c.id,
        "customer_no": c.customer_no,
        "name": mask_name(c.name),
        "gender": c.gender,
        "tier": c.tier,
        "locale": c.locale,
        "status": c.status,
        "merged_into_id": c.merged_into_id,
        "id_type": c.id_type if identity else None,
        "id_number": mask_id_number(c.id_number) if identity and c.id_number else None,
        "birth_date": mask_birth_date(c.birth_date) if identity and c.birth_date else None,
        "phones": [phone_view(p) for p in phones if p.removed_at is None] if contact else [],
        "email": mask_email(c.email) if contact and c.email else None,
        "address": mask_address(c.address) if contact and c.address else None,
        "occupation": c.occupation if profile else None,
        "income_band": c.income_band if profile else None,
        "tags": tags_of(c) if marketing else [],
        "marketing_contact": mask_contact(c.marketing_contact) if marketing and c.marketing_contact else None,
        "consent": consent,
        "withheld": sorted(g for g in consent if g not in usable),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def audit_view(c: Customer, phones: Iterable[CustomerPhone] = ()) -> dict[str, Any]:
    """Masked before/after for the audit log (every field, masked, regardless of consent state)."""
    return {
        "customer_no": c.customer_no,
        "name": mask_name(c.name),
        "gender": c.gender,
        "tier": c.tier,
        "locale": c.locale,
        "status": c.status,
        "merged_into_id": c.merged_into_id,
        "id_type": c.id_type,
        "id_number": mask_id_number(c.id_number),
        "birth_date": mask_birth_date(c.birth_date),
        "phones": sorted(mask_phone(p.phone) for p in phones if p.removed_at is None),
        "email": mask_email(c.email),
        "address": mask_address(c.address),
        "occupation": c.occupation,
        "income_band": c.income_band,
        "tags": tags_of(c),
        "marketing_contact": mask_contact(c.marketing_contact),
    }
