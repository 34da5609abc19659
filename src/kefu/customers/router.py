"""HTTP endpoints under /api/v1/customers: records, look-up, search, consents, reveal, export, merge.
Verification endpoints live in ``verification_router`` and are included here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from kefu.core.auth import DbSession, Principal, require
from kefu.core.errors import NotFound
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import consents, fields, service
from kefu.customers import export as export_mod
from kefu.customers import merge as merge_mod
from kefu.customers import repository as repo
from kefu.customers.schemas import (
    TEXT,
    ConsentIn,
    ConsentOut,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    ExportOut,
    FieldGroupOut,
    LookupIn,
    MergeIn,
    PhoneIn,
    PhoneOut,
    PurposeIn,
    RevealIn,
    RevealOut,
    WithdrawIn,
)
from kefu.customers.verification_router import router as verification_router
from kefu.customers.views import phone_view

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
Reader = Annotated[Principal, require(Permission.CUSTOMER_READ)]
Manager = Annotated[Principal, require(Permission.CUSTOMER_MANAGE)]
ConsentTaker = Annotated[Principal, require(Permission.CUSTOMER_CONSENT)]


@router.get("/field-groups", response_model=list[FieldGroupOut])
async def field_groups(principal: Reader) -> list[FieldGroupOut]:
    """The declared field groups: fields, purpose, default consent scope, and any legal basis."""
    return [FieldGroupOut(**g) for g in fields.describe()]  # type: ignore[arg-type]


@router.get("", response_model=CustomerPage)
async def search(
    db: DbSession,
    principal: Reader,
    name: Annotated[str | None, Query(min_length=1, max_length=40, pattern=TEXT, description="张*明 or 张")] = None,
    customer_no: Annotated[str | None, Query(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    """Search by masked name fragment and/or customer number prefix (masked results; not audited as a view)."""
    rows, total = await service.search(
        db, actor=principal, name=name, customer_no=customer_no, offset=offset, limit=limit
    )
    items = [CustomerOut(**await service.view(db, customer=c)) for c in rows]
    return CustomerPage(items=items, total=total, offset=offset, limit=limit)


@router.post("", response_model=CustomerOut, status_code=201)
async def create(body: CustomerCreate, db: DbSession, principal: Manager) -> CustomerOut:
    """Create a customer. Fields of a group need that group's consent (give it in ``consents``) or a legal basis."""
    values = body.model_dump(exclude_unset=True, exclude={"name", "gender", "locale", "tier", "phones", "consents"})
    c = await service.create_customer(
        db, actor=principal, name=body.name, gender=body.gender, locale=body.locale, tier=body.tier,
        phones=[p.model_dump() for p in body.phones], consent_records=[r.model_dump() for r in body.consents],
        **values,
    )  # fmt: skip
    return CustomerOut(**await service.view(db, customer=c))


@router.post("/lookup", response_model=list[CustomerOut])
async def lookup(body: LookupIn, db: DbSession, principal: Reader) -> list[CustomerOut]:
    """Find a caller by phone number or ID number (exact, through the blind index; +86 and spaces ignored)."""
    found = await service.lookup(db, phone=body.phone, id_number=body.id_number)
    return [CustomerOut(**await service.view(db, customer=c)) for c in found]


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: RowId, db: DbSession, principal: Reader) -> CustomerOut:
    """Open a customer profile (masked). Opening it is recorded in the audit log as a use (R3.4)."""
    return CustomerOut(**await service.open_profile(db, actor=principal, customer_id=customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
async def update(customer_id: RowId, body: CustomerUpdate, db: DbSession, principal: Manager) -> CustomerOut:
    c = await service.update_customer(
        db, actor=principal, customer_id=customer_id, **body.model_dump(exclude_unset=True)
    )
    return CustomerOut(**await service.view(db, customer=c))


@router.post("/{customer_id}/phones", response_model=PhoneOut, status_code=201)
async def add_phone(
    customer_id: RowId, body: PhoneIn, db: DbSession, principal: Manager, primary: bool = False
) -> PhoneOut:
    p = await service.add_phone(db, actor=principal, customer_id=customer_id, phone=body.phone, label=body.label,
                                is_primary=primary)  # fmt: skip
    return PhoneOut(**phone_view(p))


@router.delete("/{customer_id}/phones/{phone_id}", status_code=204)
async def remove_phone(customer_id: RowId, phone_id: RowId, db: DbSession, principal: Manager) -> Response:
    await service.remove_phone(db, actor=principal, customer_id=customer_id, phone_id=phone_id)
    return Response(status_code=204)


@router.get("/{customer_id}/consents", response_model=list[ConsentOut])
async def list_consents(customer_id: RowId, db: DbSession, principal: Reader) -> list[ConsentOut]:
    """Every consent of the customer with its history (withdrawn ones included)."""
    if await repo.get_customer(db, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.")
    return [ConsentOut(**consents.consent_view(c)) for c in await repo.consents_of(db, customer_id)]


@router.post("/{customer_id}/consents", response_model=ConsentOut, status_code=201)
async def grant_consent(customer_id: RowId, body: ConsentIn, db: DbSession, principal: ConsentTaker) -> ConsentOut:
    """Record a consent captured on this contact, with the exact words shown; the purpose is the group's."""
    c = await consents.grant(db, actor=principal, customer_id=customer_id, **body.model_dump())
    return ConsentOut(**consents.consent_view(c))


@router.post("/{customer_id}/consents/{consent_id}/withdraw", response_model=ConsentOut)
async def withdraw_consent(
    customer_id: RowId, consent_id: RowId, body: WithdrawIn, db: DbSession, principal: ConsentTaker
) -> ConsentOut:
    """Record a withdrawal: the group's fields are no longer shown, revealed, updated or used (kept, blocked)."""
    c = await consents.withdraw(db, actor=principal, customer_id=customer_id, consent_id=consent_id,
                                channel=body.channel, note=body.note)  # fmt: skip
    return ConsentOut(**consents.consent_view(c))


@router.post("/{customer_id}/reveal", response_model=RevealOut)
async def reveal(
    customer_id: RowId,
    body: RevealIn,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.CUSTOMER_REVEAL)],
) -> RevealOut:
    """Show one field in clear, within your clearance, for a stated purpose (audited as pii.reveal)."""
    value = await service.reveal(db, actor=principal, customer_id=customer_id, field=body.field,
                                 purpose=body.purpose, phone_id=body.phone_id)  # fmt: skip
    return RevealOut(field=body.field, value=value)


@router.post("/{customer_id}/export", response_model=ExportOut)
async def export(
    customer_id: RowId,
    body: PurposeIn,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.CUSTOMER_EXPORT)],
) -> dict[str, Any]:
    """The customer's data export: every stored field in clear, every consent with its history, the purposes."""
    return await export_mod.export(db, actor=principal, customer_id=customer_id, purpose=body.purpose)


@router.post("/{customer_id}/merge", response_model=CustomerOut)
async def merge(
    customer_id: RowId,
    body: MergeIn,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.CUSTOMER_MERGE)],
) -> CustomerOut:
    """Merge the duplicate ``source_id`` into this customer; every history stays linked."""
    c = await merge_mod.merge(db, actor=principal, target_id=customer_id, source_id=body.source_id, reason=body.reason)
    return CustomerOut(**await service.view(db, customer=c))


# one flat router (request logs and metrics name each route by its full path template)
router.routes.extend(verification_router.routes)
