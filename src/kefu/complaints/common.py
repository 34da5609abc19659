"""Small pieces every complaints module shares: validation errors, the timeline, the audit view."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints.models import Complaint, ComplaintEvent
from kefu.core import clock
from kefu.core.context import current
from kefu.core.errors import ValidationFailed


def invalid(field: str, message: str) -> ValidationFailed:
    """A 422 naming the field and telling the person what to write instead."""
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def clean_text(value: str | None, field: str, *, low: int = 2, high: int = 4000, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise invalid(field, f"Write {low:,} to {high:,} characters.")
        return None
    if not low <= len(text) <= high:
        raise invalid(field, f"Write {low:,} to {high:,} characters.")
    return text


async def timeline(
    session: AsyncSession,
    complaint: Complaint,
    kind: str,
    summary: str,
    *,
    detail: str | None = None,
    actor_id: int | None = None,
) -> ComplaintEvent:
    """Append to the case's timeline. ``summary`` must hold no personal data (it is stored in clear);
    ``detail`` is encrypted. The actor defaults to the request's signed-in staff member."""
    event = ComplaintEvent(
        complaint_id=complaint.id,
        at=clock.now(),
        actor_id=actor_id if actor_id is not None else current().actor_id,
        kind=kind,
        summary=summary[:300],
        detail=detail,
    )
    session.add(event)
    return event


def audit_view(c: Complaint) -> dict[str, Any]:
    """What the audit log keeps of a case: no personal data (convention 3)."""
    return {
        "number": c.number,
        "status": c.status,
        "channel": c.channel,
        "category": c.category,
        "business_line": c.business_line,
        "severity": c.severity,
        "major": c.major,
        "escalation_risk": c.escalation_risk,
        "handler_id": c.handler_id,
        "subject_staff_id": c.subject_staff_id,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "clock_state": c.clock_state,
        "extension_level": c.extension_level,
        "root_cause": c.root_cause,
        "responsible_party": c.responsible_party,
        "merged_into_id": c.merged_into_id,
    }
