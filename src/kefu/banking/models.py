"""Banking tables: accounts, cards, the double-entry ledger, transfers, payees, the fraud list,
branch appointments, the operations journal, manual requests and the core-system switch.

Money is an integer number of fen (分). Account and card numbers are personal financial information
of class C3: stored encrypted, looked up through a blind index, shown masked.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime

Money = BigInteger().with_variant(Integer, "sqlite")  # SQLite INTEGER is 64-bit already


class AccountType(enum.StrEnum):
    SAVINGS = "savings"
    CURRENT = "current"
    CREDIT_CARD = "credit_card"
    INTERNAL = "internal"  # the bank's own side of openings and adjustments; belongs to no customer


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    TEMPORARY_LOSS = "temporary_loss"  # 临时挂失
    FORMAL_LOSS = "formal_loss"  # 正式挂失
    FROZEN = "frozen"
    CLOSED = "closed"


class Account(Base):
    __tablename__ = "bank_accounts"

    id: Mapped[IdPk]
    account_no: Mapped[str] = mapped_column(Encrypted("bank_accounts.account_no", DataClass.C3))
    account_no_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    account_no_mask: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    type: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    #: how far below zero the balance may go: the credit limit of a credit-card account, the
    #: agreed overdraft of a current account, 0 for savings
    overdraft_limit: Mapped[int] = mapped_column(Money, default=0)
    balance: Mapped[int] = mapped_column(Money, default=0)
    status: Mapped[str] = mapped_column(String(10), default=AccountStatus.ACTIVE.value)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Card(Base):
    __tablename__ = "bank_cards"

    id: Mapped[IdPk]
    card_no: Mapped[str] = mapped_column(Encrypted("bank_cards.card_no", DataClass.C3))
    card_no_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    card_no_mask: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("bank_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # debit | credit
    status: Mapped[str] = mapped_column(String(16), default=CardStatus.ACTIVE.value, index=True)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    loss_reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    loss_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    formal_loss_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LedgerTransaction(Base):
    """One balanced movement of money; its postings sum to zero."""

    __tablename__ = "ledger_transactions"

    id: Mapped[IdPk]
    kind: Mapped[str] = mapped_column(String(16))  # transfer | opening | adjustment
    memo: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Posting(Base):
    """One leg of a ledger transaction. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "ledger_postings"

    id: Mapped[IdPk]
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("bank_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)  # signed fen: credit > 0, debit < 0
    balance_after: Mapped[int] = mapped_column(Money)
    counterparty_mask: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Transfer(Base):
    """A customer transfer; (customer, idempotency key) is unique so a retry can never post twice."""

    __tablename__ = "bank_transfers"
    __table_args__ = (UniqueConstraint("customer_id", "idempotency_key", name="uq_bank_transfers_customer_key"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    from_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("bank_accounts.id"))
    to_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("bank_accounts.id"))
    amount: Mapped[int] = mapped_column(Money)
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
    result: Mapped[str] = mapped_column(Text)  # the JSON answer given the first time
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class DailyUsage(Base):
    """Amount a customer has transferred to others on one local business day (the limit is checked here)."""

    __tablename__ = "bank_daily_usage"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in the center's zone
    used: Mapped[int] = mapped_column(Money, default=0)


class Payee(Base):
    """An account a customer has sent money to; a recent one is a risk signal (R2.4)."""

    __tablename__ = "bank_payees"
    __table_args__ = (UniqueConstraint("customer_id", "account_no_bidx", name="uq_bank_payees_customer_account"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    account_no_bidx: Mapped[str] = mapped_column(String(64))
    account_no_mask: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class FraudAccount(Base):
    """An account number reported for fraud; matched by blind index, never stored in clear."""

    __tablename__ = "bank_fraud_accounts"

    id: Mapped[IdPk]
    account_no_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    account_no_mask: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    added_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Appointment(Base):
    __tablename__ = "bank_appointments"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    branch_code: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    account_type: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="booked")
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Operation(Base):
    """The journal of business done on a call: what, for whom, by whom, on which verified contact, result."""

    __tablename__ = "bank_operations"

    id: Mapped[IdPk]
    operation: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    verification_id: Mapped[int] = mapped_column(BigId, ForeignKey("verification_sessions.id"))
    contact_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    parameters: Mapped[str] = mapped_column(Text)  # JSON, personal data masked
    result: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(10))  # done | refused
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class ManualRequest(Base):
    """A customer's request registered by hand while the core system is down (R9.3)."""

    __tablename__ = "bank_manual_requests"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Encrypted("bank_manual_requests.details", DataClass.C3))
    details_masked: Mapped[str] = mapped_column(Text)
    contact_ref: Mapped[str | None] = mapped_column(String(64))
    verification_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("verification_sessions.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    processed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(500))


class CoreState(Base):
    """One row: whether operators have put the core banking system offline (drills, outages)."""

    __tablename__ = "bank_core_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), default="online")  # online | offline
    reason: Mapped[str] = mapped_column(String(500), default="")
    changed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
