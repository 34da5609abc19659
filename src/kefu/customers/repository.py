"""Every query of the customers domain. Customers are center-wide records: what a caller may see of
them is decided by permission, clearance and consent (service and views), not by team."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.ids import MAX_ROW_ID
from kefu.customers.models import (
    Customer,
    CustomerConsent,
    CustomerCredential,
    CustomerPhone,
    CustomerStatus,
    VerificationSession,
)


def _valid_id(row_id: int) -> bool:
    return 1 <= row_id <= MAX_ROW_ID


async def get_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    if not _valid_id(customer_id):
        return None
    return await session.get(Customer, customer_id)


async def get_customer_for_update(session: AsyncSession, customer_id: int) -> Customer | None:
    """The row locked for the rest of the transaction (PostgreSQL; SQLite transactions are IMMEDIATE)."""
    if not _valid_id(customer_id):
        return None
    stmt = select(Customer).where(Customer.id == customer_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def customer_numbers(session: AsyncSession, customer_ids: set[int]) -> dict[int, str]:
    """{id: customer_no} (a reference number, not personal data) for lists in other domains' pages."""
    if not customer_ids:
        return {}
    rows = (await session.execute(select(Customer.id, Customer.customer_no).where(Customer.id.in_(customer_ids)))).all()
    return {r.id: r.customer_no for r in rows}


async def customer_no_taken(session: AsyncSession, customer_no: str) -> bool:
    stmt = select(func.count()).select_from(Customer).where(Customer.customer_no == customer_no)
    return bool((await session.execute(stmt)).scalar_one())


async def phones_of(
    session: AsyncSession, customer_id: int, *, include_removed: bool = False
) -> Sequence[CustomerPhone]:
    stmt = select(CustomerPhone).where(CustomerPhone.customer_id == customer_id)
    if not include_removed:
        stmt = stmt.where(CustomerPhone.removed_at.is_(None))
    return (await session.execute(stmt.order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id))).scalars().all()


async def get_phone(session: AsyncSession, phone_id: int) -> CustomerPhone | None:
    if not _valid_id(phone_id):
        return None
    return await session.get(CustomerPhone, phone_id)


async def customers_by_phone_bidx(session: AsyncSession, bidx: str) -> Sequence[Customer]:
    ids = select(CustomerPhone.customer_id).where(CustomerPhone.phone_bidx == bidx, CustomerPhone.removed_at.is_(None))
    stmt = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
    return (await session.execute(stmt)).scalars().all()


async def customers_by_id_bidx(session: AsyncSession, bidx: str) -> Sequence[Customer]:
    stmt = select(Customer).where(Customer.id_number_bidx == bidx).order_by(Customer.id)
    return (await session.execute(stmt)).scalars().all()


async def search(
    session: AsyncSession,
    *,
    name_fragment: str | None,
    customer_no: str | None,
    include_merged: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Customer], int]:
    stmt = select(Customer)
    if name_fragment:
        if len(name_fragment) == 1:  # a surname: masks start with it
            stmt = stmt.where(Customer.name_mask.startswith(name_fragment, autoescape=True))
        else:
            stmt = stmt.where(Customer.name_mask.contains(name_fragment, autoescape=True))
    if customer_no:
        stmt = stmt.where(Customer.customer_no.startswith(customer_no.upper(), autoescape=True))
    if not include_merged:
        stmt = stmt.where(Customer.status != CustomerStatus.MERGED.value)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(Customer.customer_no).offset(offset).limit(limit))).scalars().all()
    return rows, total


async def consents_of(session: AsyncSession, customer_id: int) -> Sequence[CustomerConsent]:
    stmt = select(CustomerConsent).where(CustomerConsent.customer_id == customer_id).order_by(CustomerConsent.id)
    return (await session.execute(stmt)).scalars().all()


async def get_consent(session: AsyncSession, consent_id: int) -> CustomerConsent | None:
    if not _valid_id(consent_id):
        return None
    return await session.get(CustomerConsent, consent_id)


async def credential_of(session: AsyncSession, customer_id: int) -> CustomerCredential | None:
    stmt = select(CustomerCredential).where(CustomerCredential.customer_id == customer_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_verification(session: AsyncSession, verification_id: int) -> VerificationSession | None:
    if not _valid_id(verification_id):
        return None
    return await session.get(VerificationSession, verification_id)


async def verifications_of(session: AsyncSession, customer_ids: Sequence[int]) -> Sequence[VerificationSession]:
    stmt = (
        select(VerificationSession)
        .where(VerificationSession.customer_id.in_(list(customer_ids)))
        .order_by(VerificationSession.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def merged_into(session: AsyncSession, customer_id: int) -> Sequence[Customer]:
    stmt = select(Customer).where(Customer.merged_into_id == customer_id).order_by(Customer.id)
    return (await session.execute(stmt)).scalars().all()


async def move_phones(session: AsyncSession, *, source_id: int, target_id: int) -> int:
    result = await session.execute(
        update(CustomerPhone)
        .where(CustomerPhone.customer_id == source_id)
        .values(
            customer_id=target_id,
            is_primary=False,
            origin_customer_id=func.coalesce(CustomerPhone.origin_customer_id, source_id),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def move_consents(session: AsyncSession, *, source_id: int, target_id: int) -> int:
    result = await session.execute(
        update(CustomerConsent)
        .where(CustomerConsent.customer_id == source_id)
        .values(
            customer_id=target_id,
            origin_customer_id=func.coalesce(CustomerConsent.origin_customer_id, source_id),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def clear_primary(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        update(CustomerPhone).where(CustomerPhone.customer_id == customer_id).values(is_primary=False)
    )
