"""Risk prompts during business (R2.4): fraud-listed payees and large amounts to new payees.

The fraud list holds blind indexes of account numbers (never the numbers), so a match works without
anyone being able to read the list back in clear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking.ledger import account_bidx, mask_account
from kefu.banking.models import FraudAccount, Payee
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound


@dataclass(frozen=True)
class Risk:
    code: str  # fraud_list | new_payee_large_amount
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f} CNY"


async def assess(
    session: AsyncSession, *, customer_id: int, payee_bidx: str, own_account: bool, amount: int
) -> list[Risk]:
    risks: list[Risk] = []
    listed = (
        await session.execute(select(FraudAccount.id).where(FraudAccount.account_no_bidx == payee_bidx))
    ).scalar_one_or_none()
    if listed is not None:
        risks.append(
            Risk(
                "fraud_list",
                "The payee account is on the fraud list. Warn the customer that this may be a scam (e.g. someone "
                "posing as police, a court or customer service) and do not proceed unless they confirm after the warning.",
            )
        )
    if own_account:
        return risks
    settings = runtime.get().settings
    if amount >= settings.banking_risk_threshold_fen:
        added = (
            await session.execute(
                select(Payee.added_at).where(Payee.customer_id == customer_id, Payee.account_no_bidx == payee_bidx)
            )
        ).scalar_one_or_none()
        window = dt.timedelta(hours=settings.banking_new_payee_hours)
        if added is None or clock.now() - added < window:
            risks.append(
                Risk(
                    "new_payee_large_amount",
                    f"{_yuan(amount)} to a payee first paid less than {settings.banking_new_payee_hours} hours ago. "
                    "Ask how the customer knows the payee and warn them about transfer fraud before going on.",
                )
            )
    return risks


async def remember_payee(session: AsyncSession, *, customer_id: int, payee_bidx: str, masked: str) -> None:
    values = {"customer_id": customer_id, "account_no_bidx": payee_bidx, "account_no_mask": masked,
              "added_at": clock.now()}  # fmt: skip
    insert = pg_insert if session.bind is not None and session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Payee).values(**values).on_conflict_do_nothing(index_elements=["customer_id", "account_no_bidx"])
    )


def _fraud_view(f: FraudAccount) -> dict[str, Any]:
    return {"id": f.id, "account": f.account_no_mask, "reason": f.reason, "added_by": f.added_by,
            "added_at": f.added_at}  # fmt: skip


async def list_fraud(session: AsyncSession, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    rows = (
        (await session.execute(select(FraudAccount).order_by(FraudAccount.id.desc()).offset(offset).limit(limit)))
        .scalars()
        .all()
    )
    return [_fraud_view(f) for f in rows]


async def add_fraud(session: AsyncSession, *, actor: Principal, account_no: str, reason: str) -> dict[str, Any]:
    bidx = account_bidx(account_no)
    existing = (
        await session.execute(select(FraudAccount).where(FraudAccount.account_no_bidx == bidx))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"Account {existing.account_no_mask} is already on the fraud list (entry {existing.id}).",
            extra={"errors": [{"field": "account_no", "message": "already listed"}]},
        )
    entry = FraudAccount(
        account_no_bidx=bidx, account_no_mask=mask_account(account_no), reason=reason.strip(),
        added_by=actor.staff_id, added_at=clock.now(),
    )  # fmt: skip
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("This account was listed a moment ago by someone else.") from exc
    await audit.record(session, action="banking.fraud_list.add", object_type="fraud_account", object_id=entry.id,
                       after={"account": entry.account_no_mask, "reason": entry.reason})  # fmt: skip
    return _fraud_view(entry)


async def remove_fraud(session: AsyncSession, *, actor: Principal, entry_id: int, reason: str) -> None:
    entry = await session.get(FraudAccount, entry_id)
    if entry is None:
        raise NotFound(f"No fraud-list entry {entry_id}.")
    before = {"account": entry.account_no_mask, "reason": entry.reason}
    await session.execute(delete(FraudAccount).where(FraudAccount.id == entry_id))
    await audit.record(session, action="banking.fraud_list.remove", object_type="fraud_account", object_id=entry_id,
                       before=before, purpose=reason.strip())  # fmt: skip
