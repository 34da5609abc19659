"""Complaints (R5) and the regulator's clock: cases, their timeline, every change of the clock,
evidence, the handling plan and the notices sent to the complainant.

Personal data (the complainant's name, phone, e-mail, the matter in their words, notes) is encrypted
field by field; ``complainant_key`` is a keyed hash of the phone (or customer id) used to find repeat
complainants without decrypting anything.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.crypto import DataClass, Encrypted
from kefu.core.db import Base, BigId, IdPk, UTCDateTime

#: Encrypted free text of up to 4,000 characters (AES-GCM ciphertext of UTF-8 in base64 needs ~4× the room).
LONG_TEXT = 24_000


class Status(enum.StrEnum):
    RECEIVED = "received"  # registered, not yet accepted (受理)
    NOT_ACCEPTED = "not_accepted"  # refused with a reason and a notice (不予受理); terminal
    ACCEPTED = "accepted"  # the regulator's clock runs from here
    INVESTIGATING = "investigating"
    PLAN_AGREED = "plan_agreed"
    RESOLVING = "resolving"
    DECIDED = "decided"  # decision notified; the clock stops
    CONFIRMED = "confirmed"  # the customer accepts the decision
    DISPUTED = "disputed"  # the customer does not accept it
    CLOSED = "closed"
    MERGED = "merged"  # folded into another case on the same matter; terminal


#: Statuses in which the case is still being handled (the clock may run).
OPEN = (Status.RECEIVED, Status.ACCEPTED, Status.INVESTIGATING, Status.PLAN_AGREED, Status.RESOLVING)
TERMINAL = (Status.NOT_ACCEPTED, Status.MERGED)


class IntakeChannel(enum.StrEnum):
    PHONE = "phone"  # taken on a call (usually from a contact)
    FORM = "form"  # the public online form
    EMAIL = "email"
    LETTER = "letter"  # entered by staff
    CHAT = "chat"
    BRANCH = "branch"  # passed on by a branch
    REGULATOR = "regulator"  # forwarded by the regulator (e.g. 12378)


class Severity(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    MAJOR = "major"  # 重大投诉: escalated to a supervisor at once


class ClockState(enum.StrEnum):
    NOT_STARTED = "not_started"  # received, not accepted
    RUNNING = "running"
    PAUSED = "paused"  # outside appraisal / testing (does not count)
    STOPPED = "stopped"  # decided (or terminal)


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[IdPk]
    #: TS + local date of receipt + id, e.g. TS20261123-000042 (set right after the first flush)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(14), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: complainant: a linked customer, or a named person (both may be set)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    complainant_name: Mapped[str] = mapped_column(Encrypted("complaints.complainant_name", DataClass.C2))
    complainant_phone: Mapped[str | None] = mapped_column(Encrypted("complaints.complainant_phone", DataClass.C2))
    complainant_email: Mapped[str | None] = mapped_column(Encrypted("complaints.complainant_email", DataClass.C2))
    #: keyed hash of the normalised phone (else "c:<customer id>", else the e-mail): finds repeat complainants
    complainant_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: the language the complainant's notices are written in (zh-Hans, zh-Hant, en)
    locale: Mapped[str] = mapped_column(String(10), default="zh-Hans")
    matter: Mapped[str] = mapped_column(Encrypted("complaints.matter", DataClass.C3, length=LONG_TEXT))
    requested_resolution: Mapped[str | None] = mapped_column(
        Encrypted("complaints.requested_resolution", DataClass.C3, length=LONG_TEXT)
    )
    business_line: Mapped[str] = mapped_column(String(30), index=True)  # taxonomy.BUSINESS_LINES
    category: Mapped[str] = mapped_column(String(60), index=True)  # a leaf code of the category tree
    severity: Mapped[str] = mapped_column(String(10), default=Severity.NORMAL.value)
    regulator_involved: Mapped[bool] = mapped_column(Boolean, default=False)
    media_involved: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_complainant: Mapped[bool] = mapped_column(Boolean, default=False)
    #: major = severity major, regulator or media involved, or a repeat complainant (R5.6)
    major: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: risk of escalation beyond the bank (越级投诉) and its reasons (JSON list of taxonomy codes) + note
    escalation_risk: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    escalation_reasons: Mapped[str] = mapped_column(Text, default="[]")
    escalation_note: Mapped[str | None] = mapped_column(
        Encrypted("complaints.escalation_note", DataClass.C3, length=LONG_TEXT)
    )
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"), index=True)  # origin
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)  # None: public form
    handler_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    #: the staff member complained about, if any: may never handle the case (recusal)
    subject_staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)

    #: investigation outcome (R5.3): taxonomy.RESPONSIBLE_PARTIES / taxonomy.ROOT_CAUSES + free text
    responsible_party: Mapped[str | None] = mapped_column(String(30), index=True)
    root_cause: Mapped[str | None] = mapped_column(String(40), index=True)
    root_cause_note: Mapped[str | None] = mapped_column(
        Encrypted("complaints.root_cause_note", DataClass.C3, length=LONG_TEXT)
    )
    decision: Mapped[str | None] = mapped_column(Encrypted("complaints.decision", DataClass.C3, length=LONG_TEXT))
    customer_response: Mapped[str | None] = mapped_column(String(10))  # confirmed | disputed
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1 (very dissatisfied) .. 5 (very satisfied)

    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("complaints.id"), index=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    # --- the clock (complaints.clock computes these from complaint_clock_changes; stored for sorting/sweeps)
    #: the internal deadline for accepting (受理) a received complaint
    accept_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    clock_unit: Mapped[str] = mapped_column(String(10), default="calendar")  # calendar | business
    clock_start: Mapped[dt.date | None] = mapped_column(Date)  # local day the count starts after
    term_days: Mapped[int] = mapped_column(Integer, default=15)
    extension_level: Mapped[int] = mapped_column(Integer, default=0)  # 0, 1 (to 30 days), 2 (+30 days)
    paused_since: Mapped[dt.date | None] = mapped_column(Date)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)  # days (in clock_unit) not counted
    due_date: Mapped[dt.date | None] = mapped_column(Date)  # the last local day of the term
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)  # end of due_date, UTC
    clock_state: Mapped[str] = mapped_column(String(12), default=ClockState.NOT_STARTED.value, index=True)
    warned_level: Mapped[int] = mapped_column(Integer, default=0)  # warnings sent for this term
    breached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: records are kept at least complaint_retention_years after closing
    retain_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ComplaintEvent(Base):
    """The case's timeline. ``summary`` is short and free of personal data; ``detail`` is encrypted."""

    __tablename__ = "complaint_events"

    id: Mapped[IdPk]
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))  # None: the system / public
    kind: Mapped[str] = mapped_column(String(30))  # status, note, evidence, plan, notice, clock, escalated, …
    summary: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str | None] = mapped_column(Encrypted("complaint_events.detail", DataClass.C3, length=LONG_TEXT))


class ClockChangeKind(enum.StrEnum):
    START = "start"  # accepted: the term starts
    EXTEND = "extend"  # extension requested (status pending) or approved
    PAUSE = "pause"  # outside appraisal / testing starts
    RESUME = "resume"
    RESTART = "restart"  # new facts: the count starts again from their arrival
    STOP = "stop"  # decided
    REOPEN = "reopen"  # a closed / disputed case is handled again: a new term from the reopening day
    MERGE = "merge"  # another case was merged into this one (its clock is kept; this records it)


class ClockChange(Base):
    """Every change of a case's clock, with who asked, who approved and the due date before and after."""

    __tablename__ = "complaint_clock_changes"

    id: Mapped[IdPk]
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: pending (an extension waiting for approval), approved, rejected, done (no approval needed)
    status: Mapped[str] = mapped_column(String(10), default="done")
    level: Mapped[int | None] = mapped_column(Integer)  # extension level 1 or 2
    effective_date: Mapped[dt.date | None] = mapped_column(Date)  # local day it takes effect (e.g. new facts)
    reason: Mapped[str | None] = mapped_column(
        Encrypted("complaint_clock_changes.reason", DataClass.C3, length=LONG_TEXT)
    )
    requested_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))  # the approver
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_before: Mapped[dt.date | None] = mapped_column(Date)
    due_after: Mapped[dt.date | None] = mapped_column(Date)


class EvidenceKind(enum.StrEnum):
    CONTACT = "contact"  # a linked contact record (ref = contact id)
    TRANSACTION = "transaction"  # a banking transaction (ref = transaction reference)
    FILE = "file"  # an uploaded file, stored encrypted under var/complaints/
    NOTE = "note"  # an investigation note
    SYSTEM = "system"  # system data quoted by the handler (ref = system name)


class Evidence(Base):
    __tablename__ = "complaint_evidence"

    id: Mapped[IdPk]
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str | None] = mapped_column(String(80))  # contact id or transaction number; None for system data
    #: the client's file name (may name a person: encrypted)
    filename: Mapped[str | None] = mapped_column(Encrypted("complaint_evidence.filename", DataClass.C2, length=1024))
    content_type: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(120))  # random file name under the evidence dir
    note: Mapped[str | None] = mapped_column(Encrypted("complaint_evidence.note", DataClass.C3, length=LONG_TEXT))
    added_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PlanNode(Base):
    """One measure of the handling plan (R5.4): owner and time node; the customer hears at each node."""

    __tablename__ = "complaint_plan_nodes"
    __table_args__ = (UniqueConstraint("complaint_id", "seq"),)

    id: Mapped[IdPk]
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(Encrypted("complaint_plan_nodes.measure", DataClass.C3, length=LONG_TEXT))
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done | cancelled
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(
        Encrypted("complaint_plan_nodes.outcome", DataClass.C3, length=LONG_TEXT)
    )
    notice_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Notice(Base):
    """A notice to the complainant, linked to its message in the outbox (``outbound_messages``)."""

    __tablename__ = "complaint_notices"

    id: Mapped[IdPk]
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    #: acknowledgement, not_accepted, extension, pause, resume, restart, progress, decision, closed, reopened, merged
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))  # sms | email | letter (printed by staff)
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("outbound_messages.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
