"""Customers: profile (personal fields encrypted, looked up by blind index), phones, consents,
phone-banking credentials and verification sessions."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # merged into another record (merged_into_id); its history stays linked
    CLOSED = "closed"


class Tier(enum.StrEnum):
    NORMAL = "normal"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"
    PRIVATE = "private"  # private banking


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[IdPk]
    customer_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(Encrypted("customers.name", DataClass.C2))
    name_mask: Mapped[str] = mapped_column(String(40), index=True)  # 张*明: searchable fragment, not secret
    gender: Mapped[str | None] = mapped_column(String(1))  # M / F / None (not given)
    birth_date: Mapped[str | None] = mapped_column(Encrypted("customers.birth_date", DataClass.C2))
    id_type: Mapped[str | None] = mapped_column(String(20))  # resident_id, passport, hk_macau_permit, taiwan_permit
    id_number: Mapped[str | None] = mapped_column(Encrypted("customers.id_number", DataClass.C3))
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(Encrypted("customers.email", DataClass.C2))
    address: Mapped[str | None] = mapped_column(Encrypted("customers.address", DataClass.C2))
    occupation: Mapped[str | None] = mapped_column(String(60))
    income_band: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(12), default=Tier.NORMAL.value, index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh-Hans")  # preferred language and script
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    marketing_contact: Mapped[str | None] = mapped_column(Encrypted("customers.marketing_contact", DataClass.C2))
    status: Mapped[str] = mapped_column(String(10), default=CustomerStatus.ACTIVE.value, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CustomerPhone(Base):
    __tablename__ = "customer_phones"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(Encrypted("customer_phones.phone", DataClass.C2))
    phone_bidx: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(10), default="mobile")  # mobile / home / work
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the record this phone came from when two customers were merged (None: always this customer's)
    origin_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))


class CustomerConsent(Base):
    """One consent given by a customer for a field group (R3.1). Rows are never deleted: a withdrawal
    fills the ``withdrawn_*`` columns, so the ledger keeps the full history."""

    __tablename__ = "customer_consents"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    origin_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    field_group: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10))  # phone / chat / branch / app / web
    words_shown: Mapped[str] = mapped_column(Text)  # the exact text read out or displayed
    captured_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    captured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    withdrawn_channel: Mapped[str | None] = mapped_column(String(10))
    withdrawn_note: Mapped[str | None] = mapped_column(Text)


class CustomerCredential(Base):
    """Phone-banking secrets of one customer: the PIN and security answers, stored only as Argon2 hashes."""

    __tablename__ = "customer_credentials"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    questions: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{"question": text, "answer_hash": …}]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class VerificationLevel(enum.IntEnum):
    NONE = 0
    L1 = 1  # queries (balance, history)
    L2 = 2  # money movement and card status changes


class VerificationSession(Base):
    """One identity check of a caller, bound to a contact; the level reached gates banking operations."""

    __tablename__ = "verification_sessions"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    contact_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # contact id once contacts exist
    level: Mapped[int] = mapped_column(Integer, default=0)
    methods_passed: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of method names
    failures: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / locked / closed
    otp_hash: Mapped[str | None] = mapped_column(String(128))
    otp_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    otp_attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong entries of the current code
    otp_sends: Mapped[int] = mapped_column(Integer, default=0)  # codes sent in this session
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
