"""Staff, teams, roles, sign-in sessions and API keys."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime


class StaffStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[IdPk]
    staff_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=StaffStatus.ACTIVE.value, index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh-Hans")

    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    totp_secret: Mapped[str | None] = mapped_column(Encrypted("staff.totp_secret", DataClass.C3))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # replay protection

    phone: Mapped[str | None] = mapped_column(Encrypted("staff.phone", DataClass.C2))
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(Encrypted("staff.email", DataClass.C2))
    id_number: Mapped[str | None] = mapped_column(Encrypted("staff.id_number", DataClass.C3))
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[StaffRole]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="StaffRole.role")


#: Data class of each personal field of a staff record, and its masking function name.
STAFF_PII: dict[str, tuple[DataClass, str]] = {
    "phone": (DataClass.C2, "phone"),
    "email": (DataClass.C2, "email"),
    "id_number": (DataClass.C3, "id_number"),
}


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class AuthSession(Base):
    """A web session (cookie), an API bearer token, or a pending two-factor step."""

    __tablename__ = "auth_sessions"

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # web | api | pending
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash"),)

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)  # JSON list of permission names
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
