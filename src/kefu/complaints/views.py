"""What screens and the API show of a case: personal data masked (convention 8: 张*明, 138****5678),
labels in the reader's locale, free text with phone/ID/card numbers masked, and the whole case page
(``case_detail``). Revealing a complainant's name, phone or e-mail needs a purpose and is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import clocking, taxonomy
from kefu.complaints import repository as repo
from kefu.complaints.models import ClockChange, Complaint
from kefu.complaints.workflow import allowed_next
from kefu.core import pii, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import DataClass, mask_email, mask_name, mask_phone, scrub_text
from kefu.core.permissions import Permission

FREE_TEXT = ("matter", "requested_resolution", "escalation_note", "root_cause_note", "decision")
REVEAL_FIELDS = {"name": "complainant_name", "phone": "complainant_phone", "email": "complainant_email"}


def _scrub(value: str | None) -> str | None:
    return scrub_text(value) if value else value


def clock_out(v: Any, c: Complaint) -> dict[str, Any]:
    return {"state": v.state, "colour": v.colour, "due_date": v.due_date, "due_at": v.due_at,
            "days_left": v.days_left, "extension_level": v.extension_level, "paused_days": v.paused_days,
            "term_days": v.term_days, "unit": v.unit, "accept_due_at": v.accept_due_at,
            "clock_start": c.clock_start, "paused_since": c.paused_since, "breached_at": c.breached_at}  # fmt: skip


def case_out(c: Complaint, *, clock_view: Any, locale: str, full: bool = False) -> dict[str, Any]:
    """One case, masked. ``full`` adds the free text (matter, resolution wanted, notes, decision) with
    phone, ID and card numbers masked inside it."""
    settings = runtime.get().settings
    cats = taxonomy.category_labels(settings)
    top = taxonomy.top_of(c.category)
    out: dict[str, Any] = {
        "id": c.id, "number": c.number, "channel": c.channel, "status": c.status, "received_at": c.received_at,
        "customer_id": c.customer_id, "complainant_name": mask_name(c.complainant_name),
        "complainant_phone": mask_phone(c.complainant_phone), "complainant_email": mask_email(c.complainant_email),
        "locale": c.locale, "business_line": c.business_line,
        "business_line_label": taxonomy.label(taxonomy.BUSINESS_LINES, c.business_line, locale),
        "category": c.category, "category_label": taxonomy.label(cats, c.category, locale),
        "category_top": top, "category_top_label": taxonomy.label(cats, top, locale),
        "severity": c.severity, "severity_label": taxonomy.label(taxonomy.SEVERITIES, c.severity, locale),
        "regulator_involved": c.regulator_involved, "media_involved": c.media_involved,
        "repeat_complainant": c.repeat_complainant, "major": c.major, "escalation_risk": c.escalation_risk,
        "escalation_reasons": repo.reasons_of(c), "escalated_at": c.escalated_at, "contact_id": c.contact_id,
        "created_by": c.created_by, "handler_id": c.handler_id, "subject_staff_id": c.subject_staff_id,
        "responsible_party": c.responsible_party,
        "responsible_party_label": taxonomy.label(taxonomy.RESPONSIBLE_PARTIES, c.responsible_party, locale),
        "root_cause": c.root_cause, "root_cause_label": taxonomy.label(taxonomy.ROOT_CAUSES, c.root_cause, locale),
        "customer_response": c.customer_response, "satisfaction": c.satisfaction,
        "merged_into_id": c.merged_into_id, "reopen_count": c.reopen_count, "accepted_at": c.accepted_at,
        "decided_at": c.decided_at, "confirmed_at": c.confirmed_at, "closed_at": c.closed_at,
        "retain_until": c.retain_until, "created_at": c.created_at, "updated_at": c.updated_at,
        "clock": clock_out(clock_view, c),
    }  # fmt: skip
    if full:
        for name in FREE_TEXT:
            out[name] = _scrub(getattr(c, name))
    return out


async def list_out(
    session: AsyncSession, rows: list[Complaint], *, actor: Principal, now: dt.datetime
) -> list[dict[str, Any]]:
    """Inbox rows: masked cases with their clock and the handler's staff number and name."""
    r, cal = clocking.rules(), await clocking.work_calendar(session)
    names = await _names(session, {x for c in rows for x in (c.handler_id, c.created_by) if x})
    out = []
    for c in rows:
        item = case_out(c, clock_view=cclock.view(c, now=now, rules=r, cal=cal), locale=actor.locale)
        item["handler"] = names.get(c.handler_id) if c.handler_id else None
        out.append(item)
    return out


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, dict[str, str]]:
    from kefu.staff import repository as staff_repo

    return {k: {"staff_no": v[0], "name": v[1]} for k, v in (await staff_repo.names_of(session, ids)).items()}


def change_out(ch: ClockChange) -> dict[str, Any]:
    return clocking.clock_detail(ch)


async def _evidence(session: AsyncSession, complaint_id: int) -> list[dict[str, Any]]:
    try:
        from kefu.complaints import evidence
    except ModuleNotFoundError:  # pragma: no cover - written by another part of the feature
        return []
    return [{"id": e.id, "complaint_id": e.complaint_id, "kind": e.kind, "ref": e.ref, "filename": e.filename,
             "content_type": e.content_type, "size": e.size, "sha256": e.sha256, "note": _scrub(e.note),
             "added_by": e.added_by, "added_at": e.added_at} for e in await evidence.list_for(session, complaint_id)]  # fmt: skip


async def _plan(session: AsyncSession, complaint_id: int) -> list[dict[str, Any]]:
    try:
        from kefu.complaints import plan
    except ModuleNotFoundError:  # pragma: no cover - written by another part of the feature
        return []
    return [{"id": n.id, "seq": n.seq, "measure": _scrub(n.measure), "owner_id": n.owner_id, "due_at": n.due_at,
             "status": n.status, "done_at": n.done_at, "outcome": _scrub(n.outcome),
             "notice_sent_at": n.notice_sent_at, "escalated_at": n.escalated_at}
            for n in await plan.nodes_of(session, complaint_id)]  # fmt: skip


def may(actor: Principal, c: Complaint) -> dict[str, bool]:
    """What the actor may do on the case page."""
    subject = clocking.is_subject(actor, c)  # the staff member complained about never acts on the case
    handle = not subject and (
        clocking.may_handle(actor, c) or (c.handler_id is None and actor.can(Permission.COMPLAINT_HANDLE))
    )
    return {"handle": handle, "approve": actor.can(Permission.COMPLAINT_APPROVE),
            "approve_senior": actor.can(Permission.COMPLAINT_APPROVE_SENIOR),
            "note": handle or (c.created_by == actor.staff_id and not subject)}  # fmt: skip


async def case_detail(
    session: AsyncSession, *, actor: Principal, complaint_id: int, now: dt.datetime
) -> dict[str, Any]:
    """Everything the case page shows: the case (full, masked), clock, timeline, clock changes, the waiting
    extension, evidence, plan nodes, notices, merged cases, next statuses and what the actor may do."""
    c = await repo.get_visible(session, actor=actor, complaint_id=complaint_id)
    r, cal = clocking.rules(), await clocking.work_calendar(session)
    locale = actor.locale
    out = case_out(c, clock_view=cclock.view(c, now=now, rules=r, cal=cal), locale=locale, full=True)
    events = await repo.timeline_of(session, c.id)
    changes = await repo.clock_changes_of(session, c.id)
    pending = next((ch for ch in changes if ch.kind == "extend" and ch.status == "pending"), None)
    notices = await repo.notices_of(session, c.id)
    merged = await repo.merged_into(session, c.id)
    primary = await repo.get(session, c.merged_into_id) if c.merged_into_id else None
    plan = await _plan(session, c.id)
    staff_ids = {x for x in (c.handler_id, c.created_by, c.subject_staff_id) if x}
    staff_ids |= {e.actor_id for e in events if e.actor_id}
    staff_ids |= {x for ch in changes for x in (ch.requested_by, ch.decided_by) if x}
    staff_ids |= {n["owner_id"] for n in plan}
    out.update({
        "timeline": [{"id": e.id, "at": e.at, "actor_id": e.actor_id, "kind": e.kind, "summary": e.summary,
                      "detail": _scrub(e.detail)} for e in events],
        "clock_changes": [change_out(ch) for ch in changes],
        "pending_extension": change_out(pending) if pending else None,
        "evidence": await _evidence(session, c.id),
        "merged_evidence": {d.number: await _evidence(session, d.id) for d in merged},
        "plan": plan,
        "notices": [{"id": n.id, "kind": n.kind, "channel": n.channel, "message_id": n.message_id,
                     "status": m.status if m is not None else "to_print", "created_at": n.created_at}
                    for n, m in notices],
        "merged_cases": [{"id": d.id, "number": d.number, "status": d.status, "received_at": d.received_at,
                          "complainant_name": mask_name(d.complainant_name)} for d in merged],
        "merged_into": {"id": primary.id, "number": primary.number, "status": primary.status} if primary else None,
        "allowed_next": allowed_next(c),
        "may": may(actor, c),
        "staff": {str(k): v for k, v in (await _names(session, staff_ids)).items()},
        # a due date in a year whose holidays nobody has entered yet counts weekends only: say so
        "calendar_unknown_year": c.due_date.year if c.due_date and not cal.knows(c.due_date.year) else None,
    })  # fmt: skip
    return out


async def reveal(session: AsyncSession, *, actor: Principal, complaint_id: int, field: str, purpose: str) -> str | None:
    """The complainant's name, phone or e-mail in clear, for a stated purpose (audited, R3.4 rules)."""
    from kefu.complaints.common import invalid
    from kefu.core.errors import PermissionDenied

    if field not in REVEAL_FIELDS:
        raise invalid("field", "Field is name, phone or email.")
    if not actor.can(Permission.COMPLAINT_HANDLE):
        raise PermissionDenied("Only complaint handlers and supervisors reveal a complainant's details.")
    clocking.act_as(actor)
    c = await repo.get_visible(session, actor=actor, complaint_id=complaint_id)
    return await pii.reveal(session, actor=actor, object_type="complaint", object_id=c.id, field=field,
                            data_class=DataClass.C2, value=getattr(c, REVEAL_FIELDS[field]), purpose=purpose)  # fmt: skip
