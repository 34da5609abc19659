"""Field groups of a customer record (R3.1): which fields belong together, and why the bank holds them.

Collecting any field of a group needs a valid consent for that group, or a legal basis named in
``KEFU_CONSENT_LEGAL_BASIS`` (by default: identity data under the anti-money-laundering law). The
basic fields (name, gender, preferred language, tier) are what any customer relationship needs and
belong to no group.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.core import runtime
from kefu.core.crypto import DataClass


@dataclass(frozen=True)
class FieldGroup:
    name: str
    purpose: str
    fields: tuple[str, ...]
    scope: str  # default scope text of a consent for this group


FIELD_GROUPS: dict[str, FieldGroup] = {
    "identity": FieldGroup(
        "identity",
        "identity verification and customer due diligence (KYC/AML)",
        ("id_type", "id_number", "birth_date"),
        "Held by the bank to identify the customer and for anti-money-laundering due diligence.",
    ),
    "contact": FieldGroup(
        "contact",
        "service contact",
        ("phones", "email", "address"),
        "Used by the service center to reach the customer about their requests and accounts, "
        "and to send verification codes.",
    ),
    "profile": FieldGroup(
        "profile",
        "suitability",
        ("occupation", "income_band"),
        "Used to check that products discussed with the customer suit their situation.",
    ),
    "marketing": FieldGroup(
        "marketing",
        "product recommendation",
        ("tags", "marketing_contact"),
        "Used to recommend products matching the customer's needs, through the marketing contact given.",
    ),
}

BASIC_FIELDS = ("name", "gender", "locale", "tier")

FIELD_TO_GROUP: dict[str, str] = {f: g.name for g in FIELD_GROUPS.values() for f in g.fields}

#: Data class of every field that can be revealed in clear (masked everywhere else).
REVEALABLE: dict[str, DataClass] = {
    "name": DataClass.C2,
    "phone": DataClass.C2,
    "email": DataClass.C2,
    "address": DataClass.C2,
    "birth_date": DataClass.C2,
    "marketing_contact": DataClass.C2,
    "id_number": DataClass.C3,
}

CHANNELS = ("phone", "chat", "branch", "app", "web")


def group_of(field: str) -> str | None:
    if field == "phone":
        return "contact"
    return FIELD_TO_GROUP.get(field)


def legal_bases() -> dict[str, str]:
    """Groups that the law lets the bank hold without consent, from configuration (unknown names ignored)."""
    configured = runtime.get().settings.consent_legal_basis
    return {g: text for g, text in configured.items() if g in FIELD_GROUPS and text.strip()}


def describe() -> list[dict[str, object]]:
    bases = legal_bases()
    return [
        {"name": g.name, "purpose": g.purpose, "fields": list(g.fields), "scope": g.scope,
         "legal_basis": bases.get(g.name)}
        for g in FIELD_GROUPS.values()
    ]  # fmt: skip
