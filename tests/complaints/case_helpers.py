"""Helpers of the case tests (intake, workflow, clocking, merge, notices, routes): drive the services in
their own committed transactions, as a request would. Generated data only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from kefu.channels.models import OutboundMessage
from kefu.complaints import intake, workflow
from kefu.complaints.models import ClockChange, Complaint, ComplaintEvent, Notice
from kefu.core import runtime
from kefu.staff.models import Staff
from tests.factories import principal_of

_phones = iter(range(13_900_000_000, 13_999_999_999, 7919))


def fresh_phone() -> str:
    """A generated mobile number, different each call (so cases are not repeat complainants by accident)."""
    return str(next(_phones))


def intake_data(**overrides: Any) -> intake.IntakeData:
    values: dict[str, Any] = {
        "channel": "phone",
        "complainant_name": "测试客户甲",
        "complainant_phone": fresh_phone(),
        "matter": "信用卡年费被重复收取，客户要求退还并解释原因。",
        "requested_resolution": "退还年费",
        "business_line": "credit_cards",
        "category": "quality.fee",
    }
    values.update(overrides)
    return intake.IntakeData(**values)


async def call(rt: runtime.Runtime, fn: Callable[..., Awaitable[Any]], **kw: Any) -> Any:
    """``fn(session, **kw)`` in its own transaction (committed, after-commit hooks run)."""
    async with rt.db.transaction() as s:
        return await fn(s, **kw)


async def register(rt: runtime.Runtime, staff: Staff | None, **overrides: Any) -> Complaint:
    actor = principal_of(staff) if staff is not None else None
    return await call(rt, intake.register, actor=actor, data=intake_data(**overrides))  # type: ignore[no-any-return]


async def accepted(rt: runtime.Runtime, registrar: Staff, handler: Staff, **overrides: Any) -> Complaint:
    c = await register(rt, registrar, **overrides)
    return await call(rt, workflow.accept, actor=principal_of(handler), complaint_id=c.id)  # type: ignore[no-any-return]


async def load(rt: runtime.Runtime, complaint_id: int) -> Complaint:
    async with rt.db.transaction() as s:
        c = await s.get(Complaint, complaint_id)
        assert c is not None
        return c


async def notices_of(rt: runtime.Runtime, complaint_id: int) -> list[tuple[Notice, OutboundMessage | None]]:
    async with rt.db.transaction() as s:
        stmt = (
            select(Notice, OutboundMessage)
            .outerjoin(OutboundMessage, OutboundMessage.id == Notice.message_id)
            .where(Notice.complaint_id == complaint_id)
            .order_by(Notice.id)
        )
        return [(n, m) for n, m in (await s.execute(stmt)).all()]


async def kinds_of(rt: runtime.Runtime, complaint_id: int) -> list[str]:
    return [n.kind for n, _ in await notices_of(rt, complaint_id)]


async def outbox(rt: runtime.Runtime) -> list[OutboundMessage]:
    async with rt.db.transaction() as s:
        return list((await s.execute(select(OutboundMessage).order_by(OutboundMessage.id))).scalars().all())


async def changes_of(rt: runtime.Runtime, complaint_id: int) -> list[ClockChange]:
    async with rt.db.transaction() as s:
        stmt = select(ClockChange).where(ClockChange.complaint_id == complaint_id).order_by(ClockChange.id)
        return list((await s.execute(stmt)).scalars().all())


async def events_of(rt: runtime.Runtime, complaint_id: int, kind: str | None = None) -> list[ComplaintEvent]:
    async with rt.db.transaction() as s:
        stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
        if kind:
            stmt = stmt.where(ComplaintEvent.kind == kind)
        return list((await s.execute(stmt.order_by(ComplaintEvent.id))).scalars().all())


async def audit_actions(rt: runtime.Runtime, complaint_id: int) -> list[str]:
    from kefu.core.audit import AuditEntry

    async with rt.db.transaction() as s:
        stmt = select(AuditEntry.action).where(AuditEntry.object_type == "complaint",
                                               AuditEntry.object_id == str(complaint_id)).order_by(AuditEntry.seq)  # fmt: skip
        return list((await s.execute(stmt)).scalars().all())


async def to_investigating(rt: runtime.Runtime, handler: Staff, complaint_id: int) -> Complaint:
    return await call(rt, workflow.transition, actor=principal_of(handler), complaint_id=complaint_id,  # type: ignore[no-any-return]
                      to="investigating")  # fmt: skip


async def findings(rt: runtime.Runtime, handler: Staff, complaint_id: int) -> Complaint:
    return await call(rt, workflow.record_findings, actor=principal_of(handler), complaint_id=complaint_id,  # type: ignore[no-any-return]
                      responsible_party="card_center", root_cause="fee_policy", note="年费规则未充分告知")  # fmt: skip


async def decided(rt: runtime.Runtime, handler: Staff, complaint_id: int) -> Complaint:
    await to_investigating(rt, handler, complaint_id)
    await findings(rt, handler, complaint_id)
    return await call(rt, workflow.decide, actor=principal_of(handler), complaint_id=complaint_id,  # type: ignore[no-any-return]
                      decision="退还年费并致歉")  # fmt: skip


def local_date(at: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Asia/Shanghai")).date()
