"""Append-only, hash-chained audit log (convention 3).

Each entry's hash is SHA-256 over the canonical JSON of its fields plus the previous entry's hash.
Writers serialise on the single ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
transactions already begin IMMEDIATE), so the chain never forks; the head row also records the last
sequence number and hash, so removing the newest entries is detected too. On PostgreSQL triggers
refuse UPDATE, DELETE and TRUNCATE on ``audit_log``; on SQLite triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core import clock, context
from kefu.core.db import Base, BigId, UTCDateTime

GENESIS = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60), index=True)
    object_id: Mapped[str | None] = mapped_column(String(80), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    before: Mapped[str | None] = mapped_column(Text)  # canonical JSON, personal data masked
    after: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _payload(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "occurred_at": e.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": e.actor_id,
        "actor": e.actor,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "purpose": e.purpose,
        "outcome": e.outcome,
        "before": e.before,
        "after": e.after,
        "request_id": e.request_id,
        "client_addr": e.client_addr,
    }


def compute_hash(e: AuditEntry, prev_hash: str) -> str:
    return hashlib.sha256((prev_hash + canonical(_payload(e))).encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    purpose: str | None = None,
    outcome: str = "ok",
    actor_id: int | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction. ``before``/``after`` must hold masked values only."""
    ctx = context.current()
    head_stmt = select(AuditHead).where(AuditHead.id == 1)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        head_stmt = head_stmt.with_for_update()
    head = (await session.execute(head_stmt)).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=clock.now(),
        actor_id=actor_id if actor_id is not None else ctx.actor_id,
        actor=actor or ctx.actor_label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        purpose=purpose,
        outcome=outcome,
        before=None if before is None else canonical(before),
        after=None if after is None else canonical(after),
        request_id=ctx.request_id,
        client_addr=ctx.client_addr,
        prev_hash=head.hash,
    )
    entry.hash = compute_hash(entry, head.hash)
    head.seq = entry.seq
    head.hash = entry.hash
    session.add(entry)
    await session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession, *, batch: int = 2000, progress: Any = None) -> VerifyResult:
    """Walk the chain in order. Returns the first entry that does not hold, and why."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev:
                return VerifyResult(False, checked, e.seq, "link to the previous entry is broken")
            if compute_hash(e, prev) != e.hash:
                return VerifyResult(False, checked, e.seq, "entry content does not match its hash")
            prev = e.hash
            expected_seq += 1
            checked += 1
            last_seq = e.seq
            if progress is not None:
                progress(1)
        session.expunge_all()
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != prev:
        return VerifyResult(
            False, checked, checked + 1 if head_seq > checked else head_seq, "newest entries were removed"
        )
    return VerifyResult(True, checked)


async def count(session: AsyncSession) -> int:
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    return head.seq if head else 0
