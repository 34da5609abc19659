"""Online chat (R1.1, R1.3): a customer's conversation in the widget, first with the bot, then with an agent.

A session is created when the widget opens; the visitor holds a bearer token (only its keyed digest is
stored). On hand-over a ``contacts`` row (channel ``chat``) is opened and routed; every message from then
on carries its ``contact_id``, and the bot part is linked to the contact too, so the transcript is stored on
the contact.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.contacts.models import LONG_TEXT
from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime


class ChatState(enum.StrEnum):
    BOT = "bot"  # the bot answers
    QUEUED = "queued"  # handed over, waiting for an agent
    AGENT = "agent"  # an agent has accepted
    ENDED = "ended"


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[IdPk]
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    visitor_name: Mapped[str | None] = mapped_column(Encrypted("chat_sessions.visitor_name", DataClass.C2))
    visitor_phone: Mapped[str | None] = mapped_column(Encrypted("chat_sessions.visitor_phone", DataClass.C2))
    visitor_phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    topic: Mapped[str] = mapped_column(String(40), default="general")  # the queue asked for
    state: Mapped[str] = mapped_column(String(10), index=True)
    origin: Mapped[str | None] = mapped_column(String(200))  # the embedding site, if any (no personal data)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_customer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[IdPk]
    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("chat_sessions.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    sender: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(Encrypted("chat_messages.body", DataClass.C2, length=LONG_TEXT))
    kb_ref: Mapped[str | None] = mapped_column(String(100))  # the entry a bot answer came from
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
