"""The life of a case (R5.3, R5.4): received → accepted | not_accepted; accepted → investigating;
investigating → plan_agreed | decided (resolved at once); plan_agreed → resolving; resolving → decided;
decided → confirmed | disputed; confirmed → closed; disputed → closed | investigating (reopen);
closed → investigating (reopen). Open cases may be merged (``merge.merge``). Anything else is a 409 that
names the case's status and what may come next.

A handler may never be the staff member complained about, and that staff member never acts on the case at
all, whatever their role (recusal: ``clocking.load_for_handling``). Deciding needs the responsible party
and root cause (R5.3) and a decision text. Each step writes the timeline and the audit log; notices go
through ``notices.send`` inside the same transaction (sent only if it commits).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clocking, intake, notices, taxonomy
from kefu.complaints import repository as repo
from kefu.complaints.common import audit_view, clean_text, invalid, timeline
from kefu.complaints.models import OPEN, ClockChangeKind, ClockState, Complaint, Status
from kefu.core import audit, clock, events, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, PermissionDenied
from kefu.core.permissions import Permission

S = Status
ALLOWED: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.ACCEPTED, S.NOT_ACCEPTED, S.MERGED),
    S.ACCEPTED: (S.INVESTIGATING, S.MERGED),
    S.INVESTIGATING: (S.PLAN_AGREED, S.DECIDED, S.MERGED),
    S.PLAN_AGREED: (S.RESOLVING, S.MERGED),
    S.RESOLVING: (S.DECIDED, S.MERGED),
    S.DECIDED: (S.CONFIRMED, S.DISPUTED),
    S.CONFIRMED: (S.CLOSED,),
    S.DISPUTED: (S.CLOSED, S.INVESTIGATING),
    S.CLOSED: (S.INVESTIGATING,),
    S.NOT_ACCEPTED: (),
    S.MERGED: (),
}
ALLOWED = {str(k): tuple(str(v) for v in vs) for k, vs in ALLOWED.items()}
DETAIL_FIELDS = ("category", "business_line", "severity", "regulator_involved", "media_involved", "subject_staff_no",
                 "escalation_risk", "escalation_reasons", "escalation_note")  # fmt: skip


def allowed_next(c: Complaint) -> list[str]:
    return list(ALLOWED.get(c.status, ()))


def illegal(c: Complaint, to: str) -> Conflict:
    """The 409 for an illegal step: what state the case is in and what may come next."""
    nxt = allowed_next(c)
    then = f"it can move to {', '.join(nxt)}" if nxt else f"{c.status} is final"
    return Conflict(f"Complaint {c.number} is {c.status}; it cannot move to {to} ({then}).",
                    extra={"status": c.status, "allowed": nxt})  # fmt: skip


def check_step(c: Complaint, to: str) -> None:
    if to not in ALLOWED.get(c.status, ()):
        raise illegal(c, to)


def recusal(c: Complaint, handler_id: int | None, subject_id: int | None, names: dict[int, tuple[str, str]]) -> None:
    """A handler may never be the staff member complained about (issue 6: recusal)."""
    if handler_id is not None and handler_id == subject_id:
        no = names[handler_id][0] if handler_id in names else "The chosen handler"
        raise Conflict(f"{no} is the staff member complained about in {c.number}; choose another handler.",
                       extra={"errors": [{"field": "handler_id", "message": "recusal"}]})  # fmt: skip


async def _handler_problem(session: AsyncSession, c: Complaint, handler_id: int) -> str | None:
    """Why ``handler_id`` cannot handle ``c`` (named by staff number), or None when they can. Raises the
    recusal Conflict when they are the staff member complained about."""
    from kefu.staff import repository as staff_repo

    names = await staff_repo.names_of(session, {handler_id}) if repo.valid_id(handler_id) else {}
    recusal(c, handler_id, c.subject_staff_id, names)
    perms = await repo.staff_permissions(session, handler_id)
    if perms is None or Permission.COMPLAINT_HANDLE not in perms:
        who = f"Staff member {names[handler_id][0]}" if handler_id in names else "The chosen staff member"
        return f"{who} is not an active complaint handler; choose one from the list of handlers."
    return None


async def _check_handler(session: AsyncSession, c: Complaint, handler_id: int) -> None:
    problem = await _handler_problem(session, c, handler_id)
    if problem:
        raise invalid("handler_id", problem)


async def _load(
    session: AsyncSession, actor: Principal, complaint_id: int, *, unassigned_ok: bool = False
) -> Complaint:
    """The case locked for change: its handler or a supervisor; any handler when ``unassigned_ok`` and none;
    never the staff member complained about (recusal, 409)."""
    return await clocking.load_for_handling(session, actor=actor, complaint_id=complaint_id,
                                            unassigned_ok=unassigned_ok)  # fmt: skip


async def _step(session: AsyncSession, c: Complaint, to: str, summary: str | None = None,
                detail: str | None = None, **audit_extra: Any) -> None:  # fmt: skip
    before = audit_view(c)
    frm = c.status
    c.status, c.updated_at = to, clock.now()
    await session.flush()
    await timeline(session, c, "status", summary or f"{frm} → {to}", detail=detail)
    await audit.record(session, action=f"complaint.{to}", object_type="complaint", object_id=c.id, before=before,
                       after={**audit_view(c), **audit_extra})  # fmt: skip


async def _assigned(session: AsyncSession, c: Complaint) -> None:
    await events.emit(session, "complaint.assigned", clocking.payload(c, []))


async def accept(
    session: AsyncSession, *, actor: Principal, complaint_id: int, handler_id: int | None = None
) -> Complaint:
    """Accept (受理): the regulator's clock starts (办法: decision within 15 days of acceptance) and the
    complainant gets the acknowledgement with the case number and promised date (R5.2)."""
    c = await _load(session, actor, complaint_id, unassigned_ok=True)
    check_step(c, S.ACCEPTED)
    new_handler = handler_id or c.handler_id or actor.staff_id
    await _check_handler(session, c, new_handler)
    changed = new_handler != c.handler_id
    c.handler_id, c.accepted_at = new_handler, clock.now()
    await clocking.start(session, c)
    await _step(session, c, S.ACCEPTED)
    await notices.send(session, complaint=c, kind="acknowledgement", params={"due_date": c.due_date})
    if changed:
        await _assigned(session, c)
    return c


async def refuse(session: AsyncSession, *, actor: Principal, complaint_id: int, reason: str) -> Complaint:
    """Not accepted (不予受理), with the reason told to the complainant."""
    c = await _load(session, actor, complaint_id, unassigned_ok=True)
    check_step(c, S.NOT_ACCEPTED)
    text = clean_text(reason, "reason", low=4, high=1000)
    c.clock_state = ClockState.STOPPED.value
    await _step(session, c, S.NOT_ACCEPTED, detail=text)
    await notices.send(session, complaint=c, kind="not_accepted", params={"reason": text})
    return c


async def assign(session: AsyncSession, *, actor: Principal, complaint_id: int, handler_id: int) -> Complaint:
    """Give the case to a handler (not the staff member complained about)."""
    c = await _load(session, actor, complaint_id, unassigned_ok=True)
    if c.status in (S.NOT_ACCEPTED, S.MERGED, S.CLOSED):
        raise Conflict(f"Complaint {c.number} is {c.status}; reopen it before assigning a handler.")
    if handler_id == c.handler_id:
        return c
    await _check_handler(session, c, handler_id)
    before = audit_view(c)
    c.handler_id, c.updated_at = handler_id, clock.now()
    await timeline(session, c, "assigned", f"handler → staff {handler_id}")
    await audit.record(session, action="complaint.assign", object_type="complaint", object_id=c.id, before=before,
                       after=audit_view(c))  # fmt: skip
    await _assigned(session, c)
    return c


async def update_details(session: AsyncSession, *, actor: Principal, complaint_id: int, **changes: Any) -> Complaint:
    """Correct the classification and flags. A change that makes the case major (R5.6) or sets the
    越级投诉 risk with new reasons escalates it at once."""
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise invalid(sorted(unknown)[0], f"Only these can be changed: {', '.join(DETAIL_FIELDS)}.")
    c = await _load(session, actor, complaint_id, unassigned_ok=True)
    if c.status in (S.NOT_ACCEPTED, S.MERGED, S.CLOSED):
        raise Conflict(f"Complaint {c.number} is {c.status}; its details can no longer change.")
    settings = runtime.get().settings
    intake.check_codes(settings, business_line=changes.get("business_line"), category=changes.get("category"),
                       severity=changes.get("severity"), reasons=changes.get("escalation_reasons"))  # fmt: skip
    before = audit_view(c)
    for name in ("category", "business_line", "severity"):
        if changes.get(name) is not None:
            setattr(c, name, changes[name])
    for name in ("regulator_involved", "media_involved"):
        if changes.get(name) is not None:
            setattr(c, name, bool(changes[name]))
    if "subject_staff_no" in changes:  # the current subject cannot get here (recusal in _load)
        subject = await intake.subject_staff_id(session, changes["subject_staff_no"])
        from kefu.staff import repository as staff_repo

        recusal(c, c.handler_id, subject, await staff_repo.names_of(session, {c.handler_id} if c.handler_id else set()))
        c.subject_staff_id = subject
    if "escalation_note" in changes:
        c.escalation_note = intake.text(changes["escalation_note"], "escalation_note", low=2, high=1000, required=False)
    risk = changes.get("escalation_risk")
    reasons = changes.get("escalation_reasons")
    if risk is not None or reasons is not None:
        new_risk = c.escalation_risk if risk is None else bool(risk)
        new_reasons = list(dict.fromkeys(reasons if reasons is not None else repo.reasons_of(c)))
        if new_risk and not new_reasons:
            raise invalid("escalation_reasons", "Say why the complainant may go beyond the bank (at least one reason).")
        c.escalation_risk, c.escalation_reasons = new_risk, json.dumps(new_reasons if new_risk else [])
    # R5.6 from the current flags: a correction un-marks it (repeat_complainant stays as computed at intake)
    c.major = bool(c.severity == "major" or c.regulator_involved or c.media_involved or c.repeat_complainant)
    c.updated_at = clock.now()
    await session.flush()
    await timeline(session, c, "details", "details changed: " + ", ".join(sorted(changes)))
    await audit.record(session, action="complaint.update", object_type="complaint", object_id=c.id, before=before,
                       after=audit_view(c))  # fmt: skip
    await clocking.escalate(session, complaint=c, reasons=clocking.escalation_reasons(c))
    return c


async def transition(session: AsyncSession, *, actor: Principal, complaint_id: int, to: str,
                     note: str | None = None) -> Complaint:  # fmt: skip
    """Move to ``to``. Steps that need more (accept, refuse, decide, response, close, reopen) are done by
    their own functions, with ``note`` as their text; merging has its own endpoint."""
    if to not in ALLOWED:
        raise invalid("to", f"Status is one of {', '.join(ALLOWED)}.")
    c = await _load(session, actor, complaint_id, unassigned_ok=to in (S.ACCEPTED, S.NOT_ACCEPTED))
    check_step(c, to)
    if to == S.ACCEPTED:
        return await accept(session, actor=actor, complaint_id=complaint_id)
    if to == S.NOT_ACCEPTED:
        return await refuse(session, actor=actor, complaint_id=complaint_id, reason=note or "")
    if to == S.DECIDED:
        return await decide(session, actor=actor, complaint_id=complaint_id, decision=note or "")
    if to in (S.CONFIRMED, S.DISPUTED):
        return await record_response(session, actor=actor, complaint_id=complaint_id, response=to, satisfaction=None,
                                     note=note)  # fmt: skip
    if to == S.CLOSED:
        return await close(session, actor=actor, complaint_id=complaint_id, note=note)
    if to == S.INVESTIGATING and c.status in (S.CLOSED, S.DISPUTED):
        return await reopen(session, actor=actor, complaint_id=complaint_id, reason=note or "")
    if to == S.MERGED:
        raise Conflict(f"Merge complaint {c.number} into the other case with POST /api/v1/complaints/{c.id}/merge.")
    text = clean_text(note, "note", low=2, high=2000, required=False)
    await _step(session, c, to, detail=text)
    return c


async def record_findings(session: AsyncSession, *, actor: Principal, complaint_id: int, responsible_party: str,
                          root_cause: str, note: str | None) -> Complaint:  # fmt: skip
    """The investigation's outcome (R5.3): the responsible party and the root cause (list + text)."""
    c = await _load(session, actor, complaint_id)
    if c.status not in (S.INVESTIGATING, S.PLAN_AGREED, S.RESOLVING):
        raise Conflict(f"Complaint {c.number} is {c.status}; findings are recorded while investigating, with a plan "
                       "agreed or resolving.")  # fmt: skip
    if responsible_party not in taxonomy.RESPONSIBLE_PARTIES:
        raise invalid("responsible_party", f"Responsible party is one of {', '.join(taxonomy.RESPONSIBLE_PARTIES)}.")
    if root_cause not in taxonomy.ROOT_CAUSES:
        raise invalid("root_cause", f"Root cause is one of {', '.join(taxonomy.ROOT_CAUSES)}.")
    before = audit_view(c)
    c.responsible_party, c.root_cause = responsible_party, root_cause
    c.root_cause_note = intake.text(note, "note", low=2, high=2000, required=False)
    c.updated_at = clock.now()
    await session.flush()
    await timeline(session, c, "findings", f"findings: {responsible_party} / {root_cause}", detail=c.root_cause_note)
    await audit.record(session, action="complaint.findings", object_type="complaint", object_id=c.id, before=before,
                       after=audit_view(c))  # fmt: skip
    return c


async def decide(session: AsyncSession, *, actor: Principal, complaint_id: int, decision: str) -> Complaint:
    """The decision, told to the complainant; the clock stops (办法: within the term, on time iff before
    due_at). Needs the responsible party and root cause first (R5.3)."""
    c = await _load(session, actor, complaint_id)
    check_step(c, S.DECIDED)
    if not c.root_cause or not c.responsible_party:
        raise Conflict(f"Record the responsible party and the root cause of complaint {c.number} before deciding "
                       "(POST /findings).", extra={"errors": [{"field": "root_cause", "message": "missing"}]})  # fmt: skip
    text = intake.text(decision, "decision", low=4, high=4000)
    c.decision, c.decided_at = text, clock.now()
    await clocking.stop(session, c)
    await _step(session, c, S.DECIDED, on_time=bool(c.due_at and c.decided_at < c.due_at))
    await notices.send(session, complaint=c, kind="decision", params={"decision_summary": text})
    return c


async def record_response(session: AsyncSession, *, actor: Principal, complaint_id: int, response: str,
                          satisfaction: int | None, note: str | None) -> Complaint:  # fmt: skip
    """The customer's response to the decision (R5.4: confirm satisfaction): confirmed or disputed, 1–5."""
    if response not in (S.CONFIRMED, S.DISPUTED):
        raise invalid("response", "The customer's response is confirmed or disputed.")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise invalid("satisfaction", "Satisfaction is 1 (very dissatisfied) to 5 (very satisfied).")
    c = await _load(session, actor, complaint_id)
    check_step(c, response)
    text = intake.text(note, "note", low=2, high=2000, required=False)
    c.customer_response, c.satisfaction = response, satisfaction
    if response == S.CONFIRMED:
        c.confirmed_at = clock.now()
    await _step(session, c, response, detail=text, satisfaction=satisfaction)
    return c


def retain_until(close_day: dt.date, years: int) -> dt.date:
    """Records are kept at least ``complaint_retention_years`` after closing (办法: 至少保存3年)."""
    try:
        return close_day.replace(year=close_day.year + years)
    except ValueError:  # 29 February
        return close_day.replace(year=close_day.year + years, day=28)


async def close(session: AsyncSession, *, actor: Principal, complaint_id: int, note: str | None = None) -> Complaint:
    """Close a confirmed (or disputed, after a final reply) case; the retention period starts."""
    c = await _load(session, actor, complaint_id)
    check_step(c, S.CLOSED)
    text = intake.text(note, "note", low=2, high=2000, required=False)
    c.closed_at = clock.now()
    c.retain_until = retain_until(clocking.today(), runtime.get().settings.complaint_retention_years)
    await _step(session, c, S.CLOSED, detail=text)
    await notices.send(session, complaint=c, kind="closed")
    return c


async def reopen(session: AsyncSession, *, actor: Principal, complaint_id: int, reason: str) -> Complaint:
    """Handle a closed or disputed case again: a new term from the reopening day (as for new facts)."""
    c = await _load(session, actor, complaint_id)
    check_step(c, S.INVESTIGATING)
    if c.status not in (S.CLOSED, S.DISPUTED):
        raise illegal(c, "reopened")
    text = clean_text(reason, "reason", low=4, high=1000)
    if c.handler_id is not None and await _handler_problem(session, c, c.handler_id):
        await _unassign(session, c, "no longer an active complaint handler")
    c.reopen_count += 1
    c.closed_at, c.retain_until = None, None
    await clocking.restart_from(session, c, clocking.today(), ClockChangeKind.REOPEN.value, text)
    await _step(session, c, S.INVESTIGATING, summary=f"{c.status} → investigating (reopened)", detail=text)
    await notices.send(session, complaint=c, kind="reopened", params={"due_date": c.due_date})
    return c


async def _unassign(session: AsyncSession, c: Complaint, why: str) -> None:
    """The handler can no longer handle the case (left, or no longer a complaint handler): the case goes back
    to the unassigned list."""
    before = audit_view(c)
    c.handler_id, c.updated_at = None, clock.now()
    await timeline(session, c, "assigned", f"handler removed: {why}")
    await audit.record(session, action="complaint.assign", object_type="complaint", object_id=c.id, before=before,
                       after=audit_view(c), purpose=why)  # fmt: skip


async def add_note(session: AsyncSession, *, actor: Principal, complaint_id: int, text: str) -> None:
    """A note on the timeline: by whoever handles the case, or by the staff member who registered it (never
    by the staff member complained about: recusal)."""
    clocking.act_as(actor)
    c = await repo.get_visible(session, actor=actor, complaint_id=complaint_id)
    clocking.check_recusal(actor, c)
    if not (clocking.may_handle(actor, c) or c.created_by == actor.staff_id
            or (c.handler_id is None and actor.can(Permission.COMPLAINT_HANDLE))):  # fmt: skip
        raise PermissionDenied(
            f"Only the handler of complaint {c.number}, a supervisor or its registrar can add notes."
        )
    body = intake.text(text, "text", low=2, high=4000)
    c.updated_at = clock.now()
    await timeline(session, c, "note", "note", detail=body)
    await audit.record(session, action="complaint.note", object_type="complaint", object_id=c.id,
                       after={"number": c.number})  # fmt: skip


def is_open(c: Complaint) -> bool:
    return c.status in {s.value for s in OPEN}
