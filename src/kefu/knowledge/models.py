"""Knowledge base (R4): categories, FAQ entries with their review workflow and versions, the synonym
table editors maintain, hit counters, unmatched queries, bulletins with read receipts, and the
questions agents forward when they could not answer (R4.5).

An entry row holds the *working copy* (what editors edit) and, once approved, the *live copy*
(``live``: JSON of the published content). Agents, the search index and the bot only ever see the
live copy, so an entry stays searchable while an edit of it is in review.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, IdPk, UTCDateTime


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"  # working copy being written (new entry, or an edit of a published one)
    IN_REVIEW = "in_review"  # submitted; waits for a reviewer who is not the author
    PUBLISHED = "published"  # the working copy is the live copy
    RETIRED = "retired"  # withdrawn; never shown to agents or the bot


class BulletinPriority(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # agents must acknowledge it


class QuestionStatus(enum.StrEnum):
    OPEN = "open"  # forwarded by an agent, waits for the editors
    ANSWERED = "answered"  # the business department's answer is recorded and sent back to the agent
    CLOSED = "closed"  # closed without an answer (duplicate, not a knowledge question), with a reason


class KbCategory(Base):
    __tablename__ = "kb_categories"

    id: Mapped[IdPk]
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("kb_categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    path: Mapped[str] = mapped_column(String(400), unique=True)  # "借记卡/挂失补办"
    sort: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KbEntry(Base):
    __tablename__ = "kb_entries"

    id: Mapped[IdPk]
    key: Mapped[str] = mapped_column(String(80), unique=True)  # stable external id (import/export)
    status: Mapped[str] = mapped_column(String(12), index=True)
    # ---- working copy
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_categories.id"), index=True)
    question: Mapped[str] = mapped_column(String(300))
    similar: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of paraphrases
    keywords: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    answer: Mapped[str] = mapped_column(Text)  # Markdown, rendered safely
    products: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    channels: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: phone, chat, email, bot ...
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)  # last day on which the answer holds
    internal_notes: Mapped[str] = mapped_column(Text, default="")  # for staff only; never sent to the bot
    expert_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))  # named business expert
    expert_note: Mapped[str] = mapped_column(String(200), default="")  # e.g. "信用卡中心 张工 确认"
    # ---- workflow
    version: Mapped[int] = mapped_column(Integer, default=1)  # version number of the working copy
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))  # last editor of the working copy
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
    # ---- live copy (what agents, the index and the bot see)
    live_version: Mapped[int | None] = mapped_column(Integer)
    live: Mapped[str | None] = mapped_column(Text)  # JSON of the published content
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    source_question_id: Mapped[int | None] = mapped_column(BigId)  # born from a forwarded question (R4.5)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class KbEntryVersion(Base):
    """An immutable snapshot of the working copy each time it changes (for history and diff)."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[IdPk]
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)  # JSON snapshot
    action: Mapped[str] = mapped_column(String(20))  # create, edit, import, publish ...
    changed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class KbSynonym(Base):
    """One synonym group: customers' words that mean the canonical term (挂失 ~ 冻结卡 ~ 止付)."""

    __tablename__ = "kb_synonyms"

    id: Mapped[IdPk]
    canonical: Mapped[str] = mapped_column(String(40), unique=True)
    terms: Mapped[str] = mapped_column(Text)  # JSON list (without the canonical term)
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KbHit(Base):
    """How often an entry was opened and attached to a contact, per day (R4.3)."""

    __tablename__ = "kb_hits"
    __table_args__ = (UniqueConstraint("entry_id", "day"),)

    id: Mapped[IdPk]
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_entries.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    attaches: Mapped[int] = mapped_column(Integer, default=0)
    bot_answers: Mapped[int] = mapped_column(Integer, default=0)


class KbAttachment(Base):
    """An entry used on a contact (the agent pressed "attach to contact")."""

    __tablename__ = "kb_attachments"
    __table_args__ = (UniqueConstraint("contact_id", "entry_id"),)

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_entries.id"), index=True)
    entry_version: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KbUnmatched(Base):
    """A query with no good result, per normalised text and day (personal data scrubbed first)."""

    __tablename__ = "kb_unmatched"
    __table_args__ = (UniqueConstraint("query_norm", "day", "source"),)

    id: Mapped[IdPk]
    query_norm: Mapped[str] = mapped_column(String(200), index=True)
    sample: Mapped[str] = mapped_column(String(200))  # one original wording (scrubbed)
    source: Mapped[str] = mapped_column(String(10))  # agent | bot
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)  # an editor dealt with it


class KbBulletin(Base):
    __tablename__ = "kb_bulletins"

    id: Mapped[IdPk]
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    priority: Mapped[str] = mapped_column(String(10))
    audience_teams: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of team ids; [] = everyone
    audience_skills: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of skill codes; [] = any
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KbBulletinRead(Base):
    __tablename__ = "kb_bulletin_reads"
    __table_args__ = (UniqueConstraint("bulletin_id", "staff_id"),)

    id: Mapped[IdPk]
    bulletin_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_bulletins.id"), index=True)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KbQuestion(Base):
    """A question an agent could not answer, forwarded to the editors (R4.5)."""

    __tablename__ = "kb_questions"

    id: Mapped[IdPk]
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)
    asked_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(BigId)
    question: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text, default="")  # what the agent already checked
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("kb_categories.id"))
    status: Mapped[str] = mapped_column(String(10), index=True)
    department: Mapped[str] = mapped_column(String(60), default="")  # business department that answered
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("kb_entries.id"))  # the draft it became
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the agent read the answer
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
