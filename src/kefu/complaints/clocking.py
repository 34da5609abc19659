"""Service operations on the regulator's clock (《银行业保险业消费投诉处理管理办法》 2020) and escalation.

* Extensions (办法: 15 days, extendable for complex cases to 30 days, and a further 30 days with a senior
  manager's approval; each time the complainant is told): requested by the case's handler with a reason,
  decided by someone else (not the requester, not the handler) holding COMPLAINT_APPROVE for level 1 or
  COMPLAINT_APPROVE_SENIOR for level 2. Approval recomputes the due date and sends an ``extension`` notice.
  Once the term has ended (now >= due_at) no extension can be asked for or approved: the breach stands.
* Pause / resume: time of an outside appraisal or test (第三方鉴定/检测) does not count. A late case cannot be
  paused (it would hide as "paused").
* New facts: the count starts again from the day the new facts or materials arrived.
* Deciding (or merging) stops the clock: a pause is closed first and a waiting extension request withdrawn.
* Whenever the due date changes (start, resume, extension, restart, reopen) ``warned_level`` becomes the
  number of warning thresholds already passed for the new date, so the sweep warns again for the rest.
* ``breached_at`` is never cleared: it records the latest breach; the current term counts as breached
  (escalated) iff ``breached_at >= due_at`` (see ``complaints.clock``). The sweep escalates once per term.
* Recusal: the staff member a complaint is about (``subject_staff_id``) never acts on it — not even as a
  supervisor. ``load_for_handling`` (used by every handling action) and ``may_handle`` check it.
* Every change writes a ``ClockChange`` (due before/after), a timeline entry (kind ``clock``) and an audit
  entry ``complaint.clock.<kind>``. The arithmetic lives in ``complaints.clock`` (pure functions).
* ``escalate`` sends major cases (R5.6) and the 越级投诉 risk to the supervisors at once, once per set of reasons.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import notices
from kefu.complaints import repository as repo
from kefu.complaints.common import audit_view, clean_text, invalid, timeline
from kefu.complaints.models import ClockChange, ClockChangeKind, ClockState, Complaint, Status
from kefu.core import audit, calendar, clock, context, events, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import Permission

#: statuses in which the clock may be extended, paused, resumed or restarted
CLOCK_STATUSES = (Status.ACCEPTED.value, Status.INVESTIGATING.value, Status.PLAN_AGREED.value,
                  Status.RESOLVING.value)  # fmt: skip


# ---- shared helpers (workflow, merge and jobs use them too) --------------------------------------


def rules() -> Any:
    return cclock.Rules.from_settings(runtime.get().settings)


async def work_calendar(session: AsyncSession) -> Any:
    return await calendar.load(session, runtime.get().settings)


def today(r: Any | None = None) -> dt.date:
    return cclock.local_day(clock.now(), (r or rules()).tz)


def act_as(actor: Principal) -> None:
    """Attribute the timeline and audit entries of this unit of work to ``actor`` (also outside a request:
    CLI, demo data, tests)."""
    ctx = context.current()
    ctx.actor_id, ctx.actor_label = actor.staff_id, actor.label


def is_subject(actor: Principal, c: Complaint) -> bool:
    """The actor is the staff member the complaint is about."""
    return c.subject_staff_id is not None and c.subject_staff_id == actor.staff_id


def check_recusal(actor: Principal, c: Complaint) -> None:
    """Recusal (issue 6): the staff member complained about never acts on the case, whatever their role."""
    if is_subject(actor, c):
        raise Conflict(f"You are the staff member this complaint is about (recusal); another handler must act on "
                       f"case {c.number}.", extra={"reason": "recusal"})  # fmt: skip


def may_handle(actor: Principal, c: Complaint) -> bool:
    """The case's handler, or anyone with COMPLAINT_HANDLE who also approves (a supervisor) — never the staff
    member the complaint is about (recusal)."""
    if not actor.can(Permission.COMPLAINT_HANDLE) or is_subject(actor, c):
        return False
    return c.handler_id == actor.staff_id or actor.can(Permission.COMPLAINT_APPROVE)


def ensure_may_handle(actor: Principal, c: Complaint, *, unassigned_ok: bool = False) -> None:
    """Recusal first (409), then who may handle (403); with ``unassigned_ok`` any handler may take a case
    that has no handler yet."""
    check_recusal(actor, c)
    if may_handle(actor, c) or (unassigned_ok and c.handler_id is None and actor.can(Permission.COMPLAINT_HANDLE)):
        return
    raise PermissionDenied(
        f"Complaint {c.number} is handled by someone else; only its handler or a supervisor can change it."
    )


async def load_for_handling(
    session: AsyncSession, *, actor: Principal, complaint_id: int, unassigned_ok: bool = False
) -> Complaint:
    """The case locked for change, if the actor may see and handle it (see ``ensure_may_handle``)."""
    act_as(actor)
    await repo.get_visible(session, actor=actor, complaint_id=complaint_id)
    c = await repo.get_for_update(session, complaint_id)
    if c is None:
        raise NotFound(f"No complaint {complaint_id} that you can see.")
    ensure_may_handle(actor, c, unassigned_ok=unassigned_ok)
    return c


async def supervisors(session: AsyncSession) -> list[int]:
    """Active staff holding COMPLAINT_ESCALATIONS (they hear of major cases, breaches, overdue nodes)."""
    return [s.id for s in await repo.staff_with(session, Permission.COMPLAINT_ESCALATIONS)]


def payload(c: Complaint, team_lead_ids: list[int] | None = None, **extra: Any) -> dict[str, Any]:
    """The payload every complaint event carries (the websocket routes it to owner and team leads)."""
    return {"complaint_id": c.id, "number": c.number, "owner_id": c.handler_id,
            "team_lead_ids": list(team_lead_ids or []), **extra}  # fmt: skip


async def record_change(
    session: AsyncSession,
    c: Complaint,
    kind: str,
    *,
    due_before: dt.date | None,
    reason: str | None = None,
    level: int | None = None,
    effective: dt.date | None = None,
    status: str = "done",
    requested_by: int | None = None,
    decided_by: int | None = None,
    summary: str | None = None,
) -> ClockChange:
    """The ClockChange row, the timeline entry (kind ``clock``) and the audit entry ``complaint.clock.<kind>``."""
    now = clock.now()
    change = ClockChange(
        complaint_id=c.id, kind=kind, status=status, level=level, effective_date=effective or today(),
        reason=reason, requested_by=requested_by, requested_at=now, decided_by=decided_by,
        decided_at=now if decided_by is not None or status == "done" else None,
        due_before=due_before, due_after=c.due_date,
    )  # fmt: skip
    session.add(change)
    await session.flush()
    text = summary or f"clock {kind}: due {_d(due_before)} → {_d(c.due_date)}"
    await timeline(session, c, "clock", text, detail=reason)
    await audit.record(session, action=f"complaint.clock.{kind}", object_type="complaint", object_id=c.id,
                       after={**audit_view(c), "change_id": change.id, "level": level,
                              "due_before": _d(due_before), "effective": _d(change.effective_date)})  # fmt: skip
    return change


def _d(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def reset_warnings(c: Complaint, r: Any | None = None) -> None:
    """The due date changed: count as sent the warning thresholds already passed for the new date (usually
    none), so the sweep warns for the others as they come."""
    c.warned_level = cclock.warnings_due(c, now=clock.now(), rules=r or rules())


async def withdraw_pending(session: AsyncSession, c: Complaint, why: str) -> None:
    """A waiting extension request asked for under a term that no longer runs is withdrawn (rejected)."""
    pending = await repo.pending_extension_of(session, c.id)
    if pending is None:
        return
    pending.status, pending.decided_at = "rejected", clock.now()
    await timeline(session, c, "clock", f"extension request {pending.id} withdrawn: {why}")
    await audit.record(session, action="complaint.extension.withdraw", object_type="complaint", object_id=c.id,
                       after={**audit_view(c), "change_id": pending.id, "level": pending.level})  # fmt: skip


async def _check_not_late(session: AsyncSession, c: Complaint, r: Any, doing: str) -> None:
    """Once the term has ended the breach stands: no extension, no pause (409 naming the day it ended)."""
    cal = await work_calendar(session)
    f = cclock.fields_of(c)
    if cclock.late(f, clock.now(), r, cal):
        ended = cclock.effective(f, today(r), r, cal).due_date
        raise Conflict(f"Complaint {c.number} is late: the term ended on {_d(ended)}; {doing}. The breach stands: "
                       "decide the case as soon as possible.", extra={"due_date": _d(ended)})  # fmt: skip


# ---- escalation (R5.6) ---------------------------------------------------------------------------


def escalation_reasons(c: Complaint) -> list[str]:
    """Why this case goes to a supervisor now: severity major, regulator, media, repeat complainant
    (R5.6 major complaints), and the 越级投诉 risk with its reasons."""
    out = []
    if c.severity == "major":
        out.append("severity")
    if c.regulator_involved:
        out.append("regulator")
    if c.media_involved:
        out.append("media")
    if c.repeat_complainant:
        out.append("repeat")
    if c.escalation_risk:
        out.append("escalation_risk")
        out.extend(f"risk:{r}" for r in repo.reasons_of(c))
    return out


async def _escalated_before(session: AsyncSession, complaint_id: int) -> set[str]:
    seen: set[str] = set()
    for e in await repo.timeline_of(session, complaint_id):
        if e.kind == "escalated" and e.summary.startswith("escalated: "):
            seen.update(r for r in e.summary.removeprefix("escalated: ").split(",") if r)
    return seen


async def escalate(session: AsyncSession, *, complaint: Complaint, reasons: list[str]) -> bool:
    """Send the case to the supervisors at once (R5.6; 越级投诉 risk). Once per set of reasons: nothing
    happens when every reason was already escalated. Returns True when the supervisors were told."""
    wanted = list(dict.fromkeys(r for r in reasons if r))
    if not wanted:
        return False
    done = await _escalated_before(session, complaint.id)
    if set(wanted) <= done:
        return False
    now = clock.now()
    if complaint.escalated_at is None:
        complaint.escalated_at = now
    if any(r in ("severity", "regulator", "media", "repeat") for r in wanted):
        complaint.major = True
    complaint.updated_at = now
    leads = await supervisors(session)
    await timeline(session, complaint, "escalated", "escalated: " + ",".join(wanted))
    await audit.record(session, action="complaint.escalate", object_type="complaint", object_id=complaint.id,
                       after={**audit_view(complaint), "reasons": wanted})  # fmt: skip
    await events.emit(session, "complaint.escalated",
                      payload(complaint, leads, reasons=wanted, major=complaint.major,
                              escalation_risk=complaint.escalation_risk))  # fmt: skip
    return True


# ---- clock starts, stops and restarts driven by the workflow --------------------------------------


async def start(session: AsyncSession, c: Complaint) -> None:
    """Acceptance: the term starts after the local day of acceptance (民法典 第二百零一条)."""
    r, cal = rules(), await work_calendar(session)
    cclock.apply(c, cclock.start(c.accepted_at or clock.now(), r, cal))
    reset_warnings(c, r)
    await record_change(session, c, ClockChangeKind.START.value, due_before=None)


async def stop(session: AsyncSession, c: Complaint, *, why: str = "the case was decided") -> None:
    """Decided (or merged): the clock stops; on time iff decided before due_at. A paused clock has its pause
    closed today first (appraisal time not counted), and a waiting extension request is withdrawn."""
    r, cal = rules(), await work_calendar(session)
    before = c.due_date
    cclock.apply(c, cclock.stop(cclock.fields_of(c), day=today(r), rules=r, cal=cal))
    await withdraw_pending(session, c, why)
    await record_change(session, c, ClockChangeKind.STOP.value, due_before=before)


async def restart_from(session: AsyncSession, c: Complaint, day: dt.date, kind: str, reason: str | None) -> None:
    """A new term from ``day`` (new facts: 办法 — the count restarts when they arrive; reopen: same rule)."""
    r, cal = rules(), await work_calendar(session)
    before = c.due_date
    try:
        cclock.apply(c, cclock.restart(cclock.fields_of(c), day, r, cal))
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    reset_warnings(c, r)  # breached_at stays: the record of an earlier term's breach (see the module docstring)
    await withdraw_pending(session, c, "the clock restarted")  # asked for under the old term
    await record_change(session, c, kind, due_before=before, reason=reason, effective=day)


# ---- extensions -----------------------------------------------------------------------------------


async def request_extension(session: AsyncSession, *, actor: Principal, complaint_id: int, reason: str) -> ClockChange:
    """The handler asks for the next extension level (办法: complex cases to 30 days; then +30 days with a
    senior manager's approval). At most one request waits at a time; level 2 only after level 1."""
    c = await load_for_handling(session, actor=actor, complaint_id=complaint_id)
    if c.handler_id != actor.staff_id:
        raise PermissionDenied(f"Only the handler of complaint {c.number} can ask for an extension.")
    text = clean_text(reason, "reason", low=4, high=1000)
    if c.status not in CLOCK_STATUSES or c.clock_state not in (ClockState.RUNNING.value, ClockState.PAUSED.value):
        raise Conflict(f"Complaint {c.number} is {c.status}; an extension is possible only while it is being handled "
                       "(accepted, investigating, plan agreed or resolving).")  # fmt: skip
    if await repo.pending_extension_of(session, c.id) is not None:
        raise Conflict(f"Complaint {c.number} already has an extension request waiting for approval.")
    level = c.extension_level + 1
    if level > 2:
        raise Conflict(f"Complaint {c.number} has had both extensions (to {c.term_days} days); no further one exists.")
    await _check_not_late(session, c, rules(), "an extension had to be decided before then")
    try:
        cclock.extend(cclock.fields_of(c), level, rules(), await work_calendar(session))
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    now = clock.now()
    change = ClockChange(complaint_id=c.id, kind=ClockChangeKind.EXTEND.value, status="pending", level=level,
                         effective_date=today(), reason=text, requested_by=actor.staff_id, requested_at=now,
                         due_before=c.due_date)  # fmt: skip
    session.add(change)
    await session.flush()
    c.updated_at = now
    await timeline(session, c, "clock", f"extension level {level} requested", detail=text)
    await audit.record(session, action="complaint.extension.request", object_type="complaint", object_id=c.id,
                       after={**audit_view(c), "change_id": change.id, "level": level})  # fmt: skip
    return change


async def decide_extension(
    session: AsyncSession, *, actor: Principal, change_id: int, approve: bool, note: str | None = None
) -> Complaint:
    """Approve or reject a waiting extension. The approver is neither the requester nor the handler and holds
    COMPLAINT_APPROVE (level 1, 投诉处理工作负责人) or COMPLAINT_APPROVE_SENIOR (level 2, senior manager)."""
    act_as(actor)
    found = await repo.get_clock_change(session, change_id)
    if found is None or found.kind != ClockChangeKind.EXTEND.value:
        raise NotFound(f"No extension request {change_id}.")
    await repo.get_visible(session, actor=actor, complaint_id=found.complaint_id)
    # lock order: the case first, then the change (as merge, restart and decide do): no deadlock on PostgreSQL
    c = await repo.get_for_update(session, found.complaint_id)
    change = await repo.get_clock_change(session, change_id, for_update=True)
    assert c is not None  # noqa: S101 - visible above
    assert change is not None  # noqa: S101 - requests are never deleted
    check_recusal(actor, c)
    if change.status != "pending":
        raise Conflict(f"Extension request {change_id} is already {change.status}.")
    needed = Permission.COMPLAINT_APPROVE if change.level == 1 else Permission.COMPLAINT_APPROVE_SENIOR
    if not actor.can(needed):
        who = "the head of complaint handling" if change.level == 1 else "a senior manager"
        raise PermissionDenied(f"A level {change.level} extension is approved by {who} ({needed.value}).")
    if actor.staff_id in (change.requested_by, c.handler_id):
        raise PermissionDenied("The requester or the case's handler cannot decide their own extension; "
                               "another approver must.")  # fmt: skip
    text = clean_text(note, "note", low=2, high=1000, required=False)
    now = clock.now()
    change.decided_by, change.decided_at = actor.staff_id, now
    if not approve:
        change.status = "rejected"
        c.updated_at = now
        await timeline(session, c, "clock", f"extension level {change.level} rejected", detail=text)
        await audit.record(session, action="complaint.extension.reject", object_type="complaint", object_id=c.id,
                           after={**audit_view(c), "change_id": change.id, "level": change.level})  # fmt: skip
        return c
    if c.status not in CLOCK_STATUSES or c.clock_state not in (ClockState.RUNNING.value, ClockState.PAUSED.value):
        raise Conflict(f"Complaint {c.number} is {c.status}; its clock can no longer be extended. Reject the request.")
    await _check_not_late(session, c, rules(), "an extension had to be decided before then. Reject this request")
    before = c.due_date
    try:
        cclock.apply(
            c, cclock.extend(cclock.fields_of(c), int(change.level or 1), rules(), await work_calendar(session))
        )
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    reset_warnings(c)
    c.updated_at = now
    change.status, change.due_after, change.effective_date = "approved", c.due_date, today()
    await timeline(session, c, "clock", f"extension level {change.level} approved: due {_d(before)} → {_d(c.due_date)}",
                   detail=text)  # fmt: skip
    await audit.record(
        session,
        action="complaint.clock.extend",
        object_type="complaint",
        object_id=c.id,
        after={**audit_view(c), "change_id": change.id, "level": change.level, "due_before": _d(before)},
    )  # the note is kept encrypted on the timeline, not in the audit log
    await notices.send(session, complaint=c, kind="extension", params={"due_date": c.due_date, "reason": change.reason})
    return c


# ---- pause, resume, new facts ---------------------------------------------------------------------


async def pause(session: AsyncSession, *, actor: Principal, complaint_id: int, reason: str) -> Complaint:
    """An outside appraisal or test starts (办法: its time does not count)."""
    c = await load_for_handling(session, actor=actor, complaint_id=complaint_id)
    text = clean_text(reason, "reason", low=4, high=1000)
    if c.status not in CLOCK_STATUSES or c.clock_state != ClockState.RUNNING.value:
        raise Conflict(f"Complaint {c.number} is {c.status} with its clock {c.clock_state}; only a running clock "
                       "can be paused.")  # fmt: skip
    await _check_not_late(session, c, rules(), "a late case cannot be paused")
    before = c.due_date
    try:
        cclock.apply(c, cclock.pause(cclock.fields_of(c), today()))
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    c.updated_at = clock.now()
    await record_change(session, c, ClockChangeKind.PAUSE.value, due_before=before, reason=text,
                        requested_by=actor.staff_id, summary="clock paused (outside appraisal / testing)")  # fmt: skip
    await notices.send(session, complaint=c, kind="pause", params={"reason": text})
    return c


async def resume(session: AsyncSession, *, actor: Principal, complaint_id: int) -> Complaint:
    """The appraisal is over: the days paused are added to the term and the due date moves."""
    c = await load_for_handling(session, actor=actor, complaint_id=complaint_id)
    if c.clock_state != ClockState.PAUSED.value:
        raise Conflict(f"The clock of complaint {c.number} is {c.clock_state}, not paused; nothing to resume.")
    before = c.due_date
    try:
        cclock.apply(c, cclock.resume(cclock.fields_of(c), today(), rules(), await work_calendar(session)))
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    reset_warnings(c)
    c.updated_at = clock.now()
    await record_change(session, c, ClockChangeKind.RESUME.value, due_before=before, requested_by=actor.staff_id)
    await notices.send(session, complaint=c, kind="resume", params={"due_date": c.due_date})
    return c


async def new_facts(
    session: AsyncSession, *, actor: Principal, complaint_id: int, received_on: dt.date, summary: str
) -> Complaint:
    """New facts or materials arrived on ``received_on``: the count restarts from that day (办法: 新情况/新事实
    重新计算处理期限); extensions and paused days of the old term no longer apply."""
    c = await load_for_handling(session, actor=actor, complaint_id=complaint_id)
    text = clean_text(summary, "summary", low=4, high=2000)
    if c.status not in CLOCK_STATUSES or c.clock_start is None:
        raise Conflict(f"Complaint {c.number} is {c.status}; new facts restart the clock only while it is being "
                       "handled. Reopen a closed or disputed case instead.")  # fmt: skip
    now_day = today()
    if received_on > now_day:
        raise invalid("received_on", f"The day the new facts arrived cannot be in the future (today is {now_day}).")
    if received_on < c.clock_start:
        raise invalid("received_on", f"The new facts must have arrived on or after the acceptance day "
                                     f"({c.clock_start}).")  # fmt: skip
    c.updated_at = clock.now()
    await restart_from(session, c, received_on, ClockChangeKind.RESTART.value, text)
    await notices.send(session, complaint=c, kind="restart", params={"due_date": c.due_date})
    return c


def clock_detail(change: ClockChange) -> dict[str, Any]:
    return {"id": change.id, "kind": change.kind, "status": change.status, "level": change.level,
            "effective_date": change.effective_date, "reason": change.reason, "requested_by": change.requested_by,
            "requested_at": change.requested_at, "decided_by": change.decided_by, "decided_at": change.decided_at,
            "due_before": change.due_before, "due_after": change.due_after}  # fmt: skip


def reasons_json(reasons: list[str]) -> str:
    return json.dumps(sorted(set(reasons)))
