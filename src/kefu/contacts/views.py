"""What responses and screens may show of contacts, wrap-ups and follow-ups: the caller number masked,
free text (summaries, follow-up details, answers) with phone, ID, card numbers and e-mails masked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kefu.contacts.models import Contact, ContactEvent, FollowUp, FollowUpStatus, Wrapup, WrapupCategory
from kefu.core.crypto import mask_phone, scrub_text


def handle_seconds(c: Contact) -> float | None:
    """Handle time: talk (answer to end, hold included) plus wrap-up; known once the wrap-up is recorded."""
    if c.talk_seconds is None or c.wrapup_seconds is None:
        return None
    return round(c.talk_seconds + c.wrapup_seconds, 3)


def contact_view(c: Contact, *, customer_no: str | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "channel": c.channel,
        "direction": c.direction,
        "status": c.status,
        "customer_id": c.customer_id,
        "customer_no": customer_no,
        "caller_number": mask_phone(c.caller_number) or None,
        "dialled_number": c.dialled_number,
        "ivr_choices": [x for x in (c.ivr_choices or "").split(",") if x],
        "queue": c.queue_code,
        "priority_bonus": c.priority_bonus,
        "external_ref": c.external_ref,
        "agent_id": c.agent_id,
        "owner_id": c.owner_id,
        "team_id": c.team_id,
        "arrived_at": c.arrived_at,
        "queued_at": c.queued_at,
        "first_offered_at": c.first_offered_at,
        "answered_at": c.answered_at,
        "ended_at": c.ended_at,
        "wrapup_ended_at": c.wrapup_ended_at,
        "on_hold": c.hold_started_at is not None,
        "hold_seconds": round(c.hold_seconds or 0.0, 3),
        "offers": c.offers,
        "transfers": c.transfers,
        "wait_seconds": c.wait_seconds,
        "rings": c.rings,
        "within_target": c.within_target,
        "talk_seconds": c.talk_seconds,
        "wrapup_seconds": c.wrapup_seconds,
        "handle_seconds": handle_seconds(c),
        "end_reason": c.end_reason,
        "scheduled_for": c.scheduled_for,
        "callback_of": c.callback_of,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def event_view(e: ContactEvent) -> dict[str, Any]:
    try:
        data = json.loads(e.data or "{}")
    except ValueError:
        data = {}
    return {"id": e.id, "kind": e.kind, "at": e.at, "agent_id": e.agent_id, "data": data}


def category_view(cat: WrapupCategory | None) -> dict[str, Any] | None:
    if cat is None:
        return None
    return {
        "id": cat.id,
        "parent_id": cat.parent_id,
        "code": cat.code,
        "names": {"zh-Hans": cat.name_zh_hans, "zh-Hant": cat.name_zh_hant, "en": cat.name_en},
        "active": cat.active,
        "sort": cat.sort,
    }


def kb_list(w: Wrapup) -> list[str]:
    try:
        value = json.loads(w.kb_entries or "[]")
    except ValueError:
        return []
    return [str(x) for x in value] if isinstance(value, list) else []


def wrapup_view(w: Wrapup, category: WrapupCategory | None) -> dict[str, Any]:
    return {
        "id": w.id,
        "contact_id": w.contact_id,
        "agent_id": w.agent_id,
        "category": category_view(category),
        "summary": scrub_text(w.summary),
        "result": w.result,
        "kb_entries": kb_list(w),
        "wrapup_seconds": w.wrapup_seconds,
        "created_at": w.created_at,
    }


def follow_up_view(f: FollowUp, *, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": f.id,
        "contact_id": f.contact_id,
        "customer_id": f.customer_id,
        "owner_id": f.owner_id,
        "team_id": f.team_id,
        "created_by": f.created_by,
        "details": scrub_text(f.details),
        "due_at": f.due_at,
        "status": f.status,
        "overdue": f.status == FollowUpStatus.OPEN.value and f.due_at <= now,
        "needs_owner": f.needs_owner,
        "previous_owner_id": f.previous_owner_id,
        "reminded_at": f.reminded_at,
        "escalated_at": f.escalated_at,
        "closed_at": f.closed_at,
        "closed_by": f.closed_by,
        "answer_channel": f.answer_channel,
        "answer_note": scrub_text(f.answer_note) if f.answer_note else None,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
    }


def follow_up_audit(f: FollowUp) -> dict[str, Any]:
    """Audit before/after of a follow-up: no free text (it may hold personal data), only its shape."""
    return {
        "contact_id": f.contact_id, "owner_id": f.owner_id, "team_id": f.team_id, "due_at": f.due_at,
        "status": f.status, "needs_owner": f.needs_owner, "answer_channel": f.answer_channel,
    }  # fmt: skip
