"""The e-mail channel (R1.1): messages received (IMAP or the built-in SMTP receiver) and replies sent, each
belonging to one ``contacts`` row (channel ``email``); a thread is found by Message-ID / In-Reply-To /
References. Attachments are files encrypted at rest under ``var/mail/``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime

#: longest body kept, in characters (the rest is cut, and the cut is said in the stored text)
BODY_MAX_CHARS = 20_000


class MailDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class EmailMessage(Base):
    __tablename__ = "email_messages"

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[str] = mapped_column(String(255), index=True)  # the Message-ID header, without <>
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    refs: Mapped[str] = mapped_column(Text, default="")  # References: ids separated by spaces
    from_addr: Mapped[str] = mapped_column(Encrypted("email_messages.from_addr", DataClass.C2))
    from_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    to_addr: Mapped[str] = mapped_column(Encrypted("email_messages.to_addr", DataClass.C2))
    subject: Mapped[str] = mapped_column(Encrypted("email_messages.subject", DataClass.C2, length=4_000))
    body: Mapped[str] = mapped_column(Encrypted("email_messages.body", DataClass.C2, length=96_000))
    source: Mapped[str] = mapped_column(String(10))  # imap | smtp | desk
    mailbox_ref: Mapped[str | None] = mapped_column(String(100), unique=True)  # "uidvalidity:uid" (IMAP)
    outbound_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("outbound_messages.id"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EmailAttachment(Base):
    __tablename__ = "email_attachments"

    id: Mapped[IdPk]
    email_id: Mapped[int] = mapped_column(BigId, ForeignKey("email_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(Encrypted("email_attachments.filename", DataClass.C2))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
