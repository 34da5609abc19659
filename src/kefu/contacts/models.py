"""Contacts: the durable record of every interaction (R1.1, R1.2), its event log, wrap-ups and their
categories (R1.5), and follow-ups promised to customers (R1.7).

Live routing state is not here (it lives in the routing engine's store); after a restart the engine
is rebuilt from the unfinished contacts.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime

#: Encrypted free text of up to 2,000 characters: AES-GCM ciphertext of UTF-8 in base64 needs ~4× the room.
LONG_TEXT = 12_000


class Channel(enum.StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"
    WECHAT = "wechat"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ContactStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # a callback (预约回拨) not yet due
    QUEUED = "queued"  # waiting in a queue
    OFFERED = "offered"  # ringing at an agent
    CONNECTED = "connected"  # with an agent
    WRAP_UP = "wrap_up"  # ended; the wrap-up is not recorded yet
    CLOSED = "closed"  # wrap-up recorded
    ABANDONED = "abandoned"  # the customer hung up before an agent answered
    REJECTED = "rejected"  # refused at arrival (e.g. closed line, blocked number)


#: Statuses in which the contact still lives in the routing engine.
LIVE = (ContactStatus.SCHEDULED, ContactStatus.QUEUED, ContactStatus.OFFERED, ContactStatus.CONNECTED)
#: Statuses after the end of the conversation.
FINISHED = (ContactStatus.WRAP_UP, ContactStatus.CLOSED, ContactStatus.ABANDONED, ContactStatus.REJECTED)


class WrapupResult(enum.StrEnum):
    RESOLVED = "resolved"
    TRANSFERRED = "transferred"
    FOLLOW_UP = "follow_up"  # the agent promised to verify and reply (R1.7): a follow-up is required
    COMPLAINT_OPENED = "complaint_opened"
    CALLBACK_SCHEDULED = "callback_scheduled"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class AnswerChannel(enum.StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    CHAT = "chat"
    LETTER = "letter"


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "external_ref"),)

    id: Mapped[IdPk]
    channel: Mapped[str] = mapped_column(String(10), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    #: the customer's number (the remote party, also for outbound callbacks)
    caller_number: Mapped[str | None] = mapped_column(Encrypted("contacts.caller_number", DataClass.C2))
    caller_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    dialled_number: Mapped[str | None] = mapped_column(String(32))  # the center's service number
    ivr_choices: Mapped[str] = mapped_column(String(64), default="")  # "1,2"
    queue_code: Mapped[str] = mapped_column(String(40), index=True)
    priority_bonus: Mapped[float] = mapped_column(Float, default=0.0)
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the CTI call id
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)  # current / last
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)  # 首问负责
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    arrived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_offered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wrapup_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hold_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    rings: Mapped[int | None] = mapped_column(Integer)
    within_target: Mapped[bool | None] = mapped_column(Boolean)
    #: answered → ended (hold included), set at the end; wrap-up seconds set when the wrap-up is recorded
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    end_reason: Mapped[str | None] = mapped_column(String(30))
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    callback_of: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ContactEvent(Base):
    """One thing that happened to a contact. ``data`` is JSON without personal data."""

    __tablename__ = "contact_events"

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")


class WrapupCategory(Base):
    """A node of the configurable wrap-up category tree; only active leaves can be chosen."""

    __tablename__ = "wrapup_categories"

    id: Mapped[IdPk]
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wrapup_categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh_hans: Mapped[str] = mapped_column(String(80))
    name_zh_hant: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Wrapup(Base):
    """The after-contact record (R1.5): without it a contact cannot be closed."""

    __tablename__ = "wrapups"

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), unique=True)
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("wrapup_categories.id"), index=True)
    summary: Mapped[str] = mapped_column(Encrypted("wrapups.summary", DataClass.C2, length=LONG_TEXT))
    result: Mapped[str] = mapped_column(String(20), index=True)
    kb_entries: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    wrapup_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class FollowUp(Base):
    """A promise to verify and reply to the customer (R1.7), owned by one staff member."""

    __tablename__ = "follow_ups"

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    details: Mapped[str] = mapped_column(Encrypted("follow_ups.details", DataClass.C2, length=LONG_TEXT))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    #: set when the owner left or was suspended and no team lead could take it over
    needs_owner: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    previous_owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    answer_channel: Mapped[str | None] = mapped_column(String(10))
    answer_note: Mapped[str | None] = mapped_column(Encrypted("follow_ups.answer_note", DataClass.C2, length=LONG_TEXT))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
