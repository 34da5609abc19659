"""The outbox of messages to customers: written in the business transaction, delivered after commit."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, IdPk, UTCDateTime

_BigId = BigInteger().with_variant(Integer, "sqlite")


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # written, not handed to a gateway yet
    SENT = "sent"  # accepted by the gateway
    FAILED = "failed"  # the gateway refused it; see last_error


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[IdPk]
    channel: Mapped[str] = mapped_column(String(10), index=True)  # sms | email
    kind: Mapped[str] = mapped_column(String(30))  # verification_code, notice, …
    recipient: Mapped[str] = mapped_column(Encrypted("outbound_messages.recipient", DataClass.C2))
    subject: Mapped[str | None] = mapped_column(String(200))  # e-mail only; no personal data
    #: may hold a code; e-mails may be long (AES-GCM ciphertext of UTF-8 in base64: ~4 bytes per character)
    body: Mapped[str] = mapped_column(Encrypted("outbound_messages.body", DataClass.C3, length=24_000))
    customer_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ChannelMessage(Base):
    """An SMS or WeChat message to or from a customer, threaded into a ``contacts`` row and so into the
    customer's timeline."""

    __tablename__ = "channel_messages"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[IdPk]
    channel: Mapped[str] = mapped_column(String(10), index=True)  # sms | wechat
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    contact_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("contacts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("customers.id"), index=True)
    #: the customer's phone number (SMS) or WeChat openid
    address: Mapped[str] = mapped_column(Encrypted("channel_messages.address", DataClass.C2))
    address_bidx: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Encrypted("channel_messages.body", DataClass.C2, length=12_000))
    external_id: Mapped[str | None] = mapped_column(String(100))  # the gateway's message id (dedupe)
    outbound_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("outbound_messages.id"))
    agent_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("staff.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChannelIdentity(Base):
    """A WeChat openid (or another channel address) bound to a customer after verification."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address_bidx"),)

    id: Mapped[IdPk]
    channel: Mapped[str] = mapped_column(String(10))
    address_bidx: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(_BigId, ForeignKey("customers.id"), index=True)
    bound_by: Mapped[int | None] = mapped_column(_BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
