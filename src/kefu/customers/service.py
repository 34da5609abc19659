"""Customer records (R3.2, R3.5): create, update, phones, look-up, search, the audited profile view
and reveal. Keyword-only functions; they never commit (convention 1) and audit every change with
masked before/after values (convention 3). Every field group written must be usable (consents)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import audit, clock, pii
from kefu.core.auth import Principal
from kefu.core.crypto import DataClass, blind_index, mask_name, normalise_lookup
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.customers import consents
from kefu.customers import repository as repo
from kefu.customers.fields import REVEALABLE, group_of
from kefu.customers.models import Customer, CustomerPhone, CustomerStatus
from kefu.customers.views import audit_view, masked_view

PHONE_CONTEXT = "customer_phones.phone"
ID_CONTEXT = "customers.id_number"
GROUP_FIELDS = ("id_type", "id_number", "birth_date", "email", "address", "occupation", "income_band",
                "tags", "marketing_contact")  # fmt: skip
_ID_PATTERNS = {
    "resident_id": re.compile(r"^\d{17}[\dX]$"),
    "passport": re.compile(r"^[A-Z0-9]{5,20}$"),
    "hk_macau_permit": re.compile(r"^[HM]\d{8,10}$"),
    "taiwan_permit": re.compile(r"^\d{8}$"),
}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _normal_id(id_type: str | None, id_number: str, birth_date: str | None) -> str:
    value = normalise_lookup(id_number)
    pattern = _ID_PATTERNS.get(id_type or "")
    if pattern is None:
        raise _invalid("id_type", f"Give the ID type with the number: one of {', '.join(_ID_PATTERNS)}.")
    if not pattern.match(value):
        raise _invalid("id_number", f"This is not a valid {id_type} number.")
    if id_type == "resident_id" and birth_date and value[6:14] != birth_date.replace("-", ""):
        raise _invalid("birth_date", "The birth date does not match the resident ID number.")
    return value


def _normal_phone(phone: str) -> str:
    value = normalise_lookup(phone)
    if not value.isdigit() or not 5 <= len(value) <= 20:
        raise _invalid("phone", "A phone number has 5 to 20 digits (spaces, dashes and +86 are fine).")
    return value


async def _new_customer_no(session: AsyncSession) -> str:
    while True:
        no = f"C{secrets.randbelow(10**10):010d}"
        if not await repo.customer_no_taken(session, no):
            return no


async def get_active(session: AsyncSession, customer_id: int) -> Customer:
    c = await repo.get_customer(session, customer_id)
    if c is None:
        raise NotFound(f"No customer {customer_id}.")
    if c.status == CustomerStatus.MERGED.value:
        raise Conflict(
            f"Customer {c.customer_no} was merged into customer id {c.merged_into_id}; work on that record.",
            extra={"merged_into_id": c.merged_into_id},
        )
    if c.status != CustomerStatus.ACTIVE.value:
        raise Conflict(f"Customer {c.customer_no} is {c.status}.")
    return c


def _groups_written(values: dict[str, Any]) -> set[str]:
    """Groups touched by non-empty values (clearing a field never needs consent)."""
    out = set()
    for field, value in values.items():
        group = group_of(field)
        if group is not None and value not in (None, "", []):
            out.add(group)
    return out


async def _apply(session: AsyncSession, c: Customer, values: dict[str, Any]) -> None:
    """Write group fields (already consent-checked), encrypting and indexing as needed."""
    if "id_type" in values or "id_number" in values or "birth_date" in values:
        id_type = values.get("id_type", c.id_type)
        birth = values.get("birth_date", c.birth_date)
        number = values.get("id_number", c.id_number)
        if number:
            number = _normal_id(id_type, number, birth)
            bidx = blind_index(number, context=ID_CONTEXT)
            others = [o for o in await repo.customers_by_id_bidx(session, bidx) if o.id != c.id]
            if any(o.status == CustomerStatus.ACTIVE.value for o in others):
                raise Conflict(
                    "Another active customer has this ID number; open that record (or merge the two).",
                    extra={"errors": [{"field": "id_number", "message": "duplicate"}]},
                )
            c.id_number, c.id_number_bidx = number, bidx
        else:
            c.id_number, c.id_number_bidx = None, None
        c.id_type = id_type or None
        c.birth_date = birth or None
    for field in ("email", "address", "occupation", "income_band", "marketing_contact"):
        if field in values:
            setattr(c, field, values[field] or None)
    if "tags" in values:
        c.tags = json.dumps(sorted(set(values["tags"] or [])), ensure_ascii=False)


async def create_customer(
    session: AsyncSession,
    *,
    actor: Principal,
    name: str,
    gender: str | None = None,
    locale: str = "zh-Hans",
    tier: str = "normal",
    phones: Sequence[dict[str, Any]] = (),
    consent_records: Sequence[dict[str, Any]] = (),
    **values: Any,
) -> Customer:
    """Create a customer; ``consent_records`` are consents captured on this contact, recorded first."""
    unknown = set(values) - set(GROUP_FIELDS)
    if unknown:
        raise _invalid(sorted(unknown)[0], "Unknown customer field.")
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    now = clock.now()
    c = Customer(
        customer_no=await _new_customer_no(session), name=name.strip(), name_mask=mask_name(name.strip()),
        gender=gender, locale=locale, tier=tier, tags="[]", status=CustomerStatus.ACTIVE.value,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(c)
    await session.flush()
    for record in consent_records:
        await consents.grant(session, actor=actor, customer_id=c.id, **record)
    needed = _groups_written(values) | ({"contact"} if phones else set())
    status, usable = await consents.group_status(session, c.id)
    consents.refuse_unusable(needed, status, usable, action="store")
    await _apply(session, c, values)
    for i, p in enumerate(phones):
        number = _normal_phone(p["phone"])
        session.add(CustomerPhone(
            customer_id=c.id, phone=number, phone_bidx=blind_index(number, context=PHONE_CONTEXT),
            label=p.get("label") or "mobile", is_primary=i == 0, created_at=now,
        ))  # fmt: skip
    await session.flush()
    await audit.record(
        session, action="customer.create", object_type="customer", object_id=c.id,
        after=audit_view(c, await repo.phones_of(session, c.id)),
    )  # fmt: skip
    return c


async def update_customer(session: AsyncSession, *, actor: Principal, customer_id: int, **values: Any) -> Customer:
    c = await get_active(session, customer_id)
    phones = await repo.phones_of(session, c.id)
    before = audit_view(c, phones)
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    status, usable = await consents.group_status(session, c.id)
    consents.refuse_unusable(_groups_written(values), status, usable, action="store")
    if values.get("name"):
        c.name = values["name"].strip()
        c.name_mask = mask_name(c.name)
    for field in ("gender", "locale", "tier"):
        if values.get(field) is not None:
            setattr(c, field, values[field])
    await _apply(session, c, {k: v for k, v in values.items() if k in GROUP_FIELDS})
    c.updated_at = clock.now()
    await session.flush()
    after = audit_view(c, phones)
    if after != before:
        await audit.record(
            session, action="customer.update", object_type="customer", object_id=c.id, before=before, after=after
        )
    return c


async def add_phone(
    session: AsyncSession, *, actor: Principal, customer_id: int, phone: str, label: str = "mobile",
    is_primary: bool = False,
) -> CustomerPhone:  # fmt: skip
    c = await get_active(session, customer_id)
    status, usable = await consents.group_status(session, c.id)
    consents.refuse_unusable({"contact"}, status, usable, action="store")
    number = _normal_phone(phone)
    bidx = blind_index(number, context=PHONE_CONTEXT)
    current = await repo.phones_of(session, c.id)
    if any(p.phone_bidx == bidx for p in current):
        raise Conflict("The customer already has this phone number.", extra={"errors": [{"field": "phone"}]})
    before = audit_view(c, current)
    if is_primary or not current:
        await repo.clear_primary(session, c.id)
        is_primary = True
    p = CustomerPhone(customer_id=c.id, phone=number, phone_bidx=bidx, label=label, is_primary=is_primary,
                      created_at=clock.now())  # fmt: skip
    session.add(p)
    await session.flush()
    after = audit_view(c, await repo.phones_of(session, c.id))
    await audit.record(session, action="customer.phone_add", object_type="customer", object_id=c.id,
                       before=before, after=after)  # fmt: skip
    return p


async def remove_phone(session: AsyncSession, *, actor: Principal, customer_id: int, phone_id: int) -> None:
    """Mark a phone removed (kept for history and the export; no longer used or found by look-up)."""
    c = await get_active(session, customer_id)
    p = await repo.get_phone(session, phone_id)
    if p is None or p.customer_id != c.id or p.removed_at is not None:
        raise NotFound(f"Customer {customer_id} has no phone {phone_id}.")
    current = await repo.phones_of(session, c.id)
    before = audit_view(c, current)
    p.removed_at = clock.now()
    if p.is_primary:
        p.is_primary = False
        rest = [q for q in current if q.id != p.id]
        if rest:
            rest[0].is_primary = True
    await session.flush()
    after = audit_view(c, await repo.phones_of(session, c.id))
    await audit.record(session, action="customer.phone_remove", object_type="customer", object_id=c.id,
                       before=before, after=after)  # fmt: skip


async def lookup(session: AsyncSession, *, phone: str | None = None, id_number: str | None = None) -> list[Customer]:
    """Exact look-up through the blind index; merged records lead to the record they were merged into."""
    if bool(phone) == bool(id_number):
        raise _invalid("phone", "Give either a phone number or an ID number.")
    if phone:
        found = await repo.customers_by_phone_bidx(session, blind_index(phone, context=PHONE_CONTEXT))
    else:
        found = await repo.customers_by_id_bidx(session, blind_index(str(id_number), context=ID_CONTEXT))
    out: dict[int, Customer] = {}
    for c in found:
        seen = 0
        while c.status == CustomerStatus.MERGED.value and c.merged_into_id and seen < 10:
            nxt = await repo.get_customer(session, c.merged_into_id)
            if nxt is None:
                break
            c, seen = nxt, seen + 1
        out[c.id] = c
    return list(out.values())


async def search(
    session: AsyncSession, *, actor: Principal, name: str | None, customer_no: str | None, offset: int, limit: int
) -> tuple[Sequence[Customer], int]:
    """Search by masked name fragment ('张*明', or a surname '张') and customer number prefix."""
    pii.check_clearance(actor, DataClass.C2, "name")
    if not name and not customer_no:
        raise _invalid("name", "Give a name fragment (e.g. 张*明 or 张) or a customer number.")
    return await repo.search(session, name_fragment=name, customer_no=customer_no, offset=offset, limit=limit)


async def view(session: AsyncSession, *, customer: Customer) -> dict[str, Any]:
    status, usable = await consents.group_status(session, customer.id)
    return masked_view(customer, await repo.phones_of(session, customer.id), status, usable)


async def open_profile(session: AsyncSession, *, actor: Principal, customer_id: int) -> dict[str, Any]:
    """The masked profile for a staff member; opening it is a use of the data and is audited (R3.4)."""
    c = await repo.get_customer(session, customer_id)
    if c is None:
        raise NotFound(f"No customer {customer_id}.")
    out = await view(session, customer=c)
    await audit.record(session, action="customer.view", object_type="customer", object_id=c.id,
                       after={"withheld": out["withheld"]})  # fmt: skip
    return out


async def reveal(
    session: AsyncSession, *, actor: Principal, customer_id: int, field: str, purpose: str, phone_id: int | None = None
) -> str | None:
    if field not in REVEALABLE:
        raise _invalid("field", f"Field must be one of {', '.join(REVEALABLE)}.")
    pii.check_purpose(purpose)
    pii.check_clearance(actor, REVEALABLE[field], field)
    c = await repo.get_customer(session, customer_id)
    if c is None:
        raise NotFound(f"No customer {customer_id}.")
    group = group_of(field)
    if group is not None:
        status, usable = await consents.group_status(session, c.id)
        consents.refuse_unusable({group}, status, usable, action="reveal")
    if field == "phone":
        phones = await repo.phones_of(session, c.id)
        chosen = [p for p in phones if p.id == phone_id] if phone_id else [p for p in phones if p.is_primary]
        if not chosen:
            raise NotFound("No such current phone for this customer.")
        value: str | None = chosen[0].phone
    else:
        value = getattr(c, field)
    return await pii.reveal(
        session, actor=actor, object_type="customer", object_id=c.id, field=field,
        data_class=REVEALABLE[field], value=value, purpose=purpose,
    )  # fmt: skip


async def caller_card(session: AsyncSession, customer_id: int) -> dict[str, Any] | None:
    """What a ringing agent sees of an identified caller: masked name, number and tier (no audit: nothing
    beyond the masked form is shown, and the contact record names the customer)."""
    c = await repo.get_customer(session, customer_id)
    if c is None:
        return None
    return {"id": c.id, "customer_no": c.customer_no, "name": mask_name(c.name), "tier": c.tier, "locale": c.locale}


async def id_by_number(session: AsyncSession, customer_no: str) -> int | None:
    """An active customer's id by customer number (a telephony system's hint for an identified caller)."""
    rows, _ = await repo.search(session, name_fragment=None, customer_no=customer_no, offset=0, limit=2)
    exact = [c for c in rows if c.customer_no == customer_no.upper() and c.status == CustomerStatus.ACTIVE.value]
    return exact[0].id if exact else None


async def primary_phone(session: AsyncSession, customer_id: int) -> str | None:
    """The customer's primary phone in clear, for the softphone simulator to place a call 'from' them; never shown
    (the contact stores it encrypted and screens mask it)."""
    phones = await repo.phones_of(session, customer_id)
    primary = [p for p in phones if p.is_primary] or list(phones)
    return primary[0].phone if primary else None
