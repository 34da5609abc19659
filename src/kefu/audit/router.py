"""Audit log API: search (auditors, supervisors) and chain verification (auditors)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.audit import repository as repo
from kefu.core import audit
from kefu.core.auth import DbSession, Principal, require
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditOut(BaseModel):
    seq: int
    occurred_at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    purpose: str | None
    outcome: str
    before: Any
    after: Any
    request_id: str | None
    client_addr: str | None
    hash: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    next_before_seq: int | None


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None


def to_out(e: audit.AuditEntry) -> AuditOut:
    return AuditOut(
        seq=e.seq, occurred_at=e.occurred_at, actor_id=e.actor_id, actor=e.actor, action=e.action,
        object_type=e.object_type, object_id=e.object_id, purpose=e.purpose, outcome=e.outcome,
        before=json.loads(e.before) if e.before else None, after=json.loads(e.after) if e.after else None,
        request_id=e.request_id, client_addr=e.client_addr, hash=e.hash,
    )  # fmt: skip


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            f"'{field}' needs a time zone, e.g. 2026-11-23T08:00:00+08:00.", extra={"errors": [{"field": field}]}
        )
    return value


@router.get("", response_model=AuditPage)
async def search_audit(
    db: DbSession,
    principal: Annotated[Principal, require(Permission.AUDIT_READ)],
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[str | None, Query(max_length=80, description="exact, or a prefix ending in '.'")] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    rows, total = await repo.search(
        db, actor=actor, action=action, object_type=object_type, object_id=object_id, outcome=outcome,
        since=_aware(since, "since"), until=_aware(until, "until"), before_seq=before_seq, limit=limit,
    )  # fmt: skip
    nxt = rows[-1].seq if len(rows) == limit else None
    return AuditPage(items=[to_out(e) for e in rows], total=total, next_before_seq=nxt)


@router.get("/verify", response_model=VerifyOut)
async def verify_chain(db: DbSession, principal: Annotated[Principal, require(Permission.AUDIT_VERIFY)]) -> VerifyOut:
    """Recompute the hash chain from the first entry; names the first entry that does not hold."""
    r = await audit.verify(db)
    return VerifyOut(ok=r.ok, checked=r.checked, first_bad_seq=r.first_bad_seq, reason=r.reason)
