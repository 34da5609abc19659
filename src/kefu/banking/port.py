"""The core banking port: what Kefu asks of the bank's core system, and what it gets back.

``EmbeddedCoreBanking`` (kefu.banking.embedded) implements it on Kefu's own database and is the
default. An adapter for a real core system implements the same Protocol; Kefu keeps the rules that
belong to the contact center (verification level, read-back confirmation, idempotency, daily limit,
risk prompts, the operations journal and the audit log) on its side of the port, so an adapter only
moves data. Every method receives Kefu's open database session: the embedded core writes in it (one
transaction per operation, never half done); a remote adapter may use it to keep its local
references. An adapter signals an outage by raising ``CoreUnavailable``.

Amounts are integer fen (1/100 CNY). Account and card numbers leave the port masked only, except
through ``find_account`` which takes a number the agent typed and returns a reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.errors import ServiceUnavailable

UNAVAILABLE_MESSAGE = (
    "The core banking system is unavailable; nothing was changed. Register the customer's request for "
    "later (POST /api/v1/banking/manual-requests) and tell them when to expect an answer."
)


class CoreUnavailable(ServiceUnavailable):
    code, title = "core_banking_unavailable", "Core banking system unavailable"

    def __init__(self, detail: str = UNAVAILABLE_MESSAGE, **kw: object) -> None:
        super().__init__(detail, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AccountRef:
    """An account found by number: enough to post to it and to show it masked."""

    id: int
    customer_id: int | None
    masked: str
    number_bidx: str
    status: str
    type: str


@dataclass(frozen=True)
class AccountView:
    id: int
    customer_id: int
    masked: str
    type: str
    currency: str
    status: str
    overdraft_limit: int
    opened_at: dt.datetime


@dataclass(frozen=True)
class BalanceView:
    account_id: int
    masked: str
    currency: str
    balance: int
    available: int  # balance plus the credit limit or overdraft still unused
    as_of: dt.datetime


@dataclass(frozen=True)
class HistoryLine:
    posting_id: int
    transaction_id: int
    at: dt.datetime
    amount: int
    balance_after: int
    counterparty: str
    memo: str


@dataclass(frozen=True)
class HistoryPage:
    account_id: int
    items: list[HistoryLine]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Posted:
    transaction_id: int
    from_balance_after: int
    to_balance_after: int
    at: dt.datetime


@dataclass(frozen=True)
class CardView:
    id: int
    account_id: int
    customer_id: int
    masked: str
    kind: str
    status: str
    activated: bool
    loss_reported_at: dt.datetime | None = None
    loss_expires_at: dt.datetime | None = None
    formal_loss_at: dt.datetime | None = None


@dataclass(frozen=True)
class AppointmentView:
    id: int
    customer_id: int
    branch_code: str
    starts_at: dt.datetime
    account_type: str
    status: str
    extra: dict[str, str] = field(default_factory=dict)


class InsufficientFunds(Exception):
    """Raised by ``post_transfer`` when the debit would take an account below its allowed floor."""


@runtime_checkable
class CoreBanking(Protocol):
    """The interface a core-system adapter implements (see module docstring)."""

    name: str

    async def accounts(self, session: AsyncSession, *, customer_id: int) -> list[AccountView]: ...

    async def account(self, session: AsyncSession, *, account_id: int) -> AccountView | None: ...

    async def find_account(self, session: AsyncSession, *, account_no: str) -> AccountRef | None: ...

    async def balance(self, session: AsyncSession, *, account_id: int) -> BalanceView: ...

    async def history(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        start: dt.datetime | None,
        end: dt.datetime | None,
        offset: int,
        limit: int,
    ) -> HistoryPage: ...

    async def post_transfer(
        self, session: AsyncSession, *, from_account_id: int, to_account_id: int, amount: int, memo: str
    ) -> Posted:
        """Move ``amount`` atomically; raise ``InsufficientFunds`` rather than go below the floor."""
        ...

    async def cards(self, session: AsyncSession, *, customer_id: int) -> list[CardView]: ...

    async def card(self, session: AsyncSession, *, card_id: int) -> CardView | None: ...

    async def set_card_status(
        self, session: AsyncSession, *, card_id: int, status: str, expires_at: dt.datetime | None = None
    ) -> CardView: ...

    async def activate_card(self, session: AsyncSession, *, card_id: int) -> CardView: ...

    async def book_appointment(
        self,
        session: AsyncSession,
        *,
        customer_id: int,
        branch_code: str,
        starts_at: dt.datetime,
        account_type: str,
        staff_id: int,
    ) -> AppointmentView: ...
