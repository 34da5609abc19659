"""Merging a duplicate into the case that keeps the matter (办法: repeated complaints on the same matter
may be handled together).

Both cases must be open (received, accepted, investigating, plan agreed or resolving) and different; the
primary may not itself be merged. The duplicate becomes ``merged`` (``merged_into_id`` = primary) and its
clock stops; the primary keeps its own clock (a ``merge`` clock change is recorded on it, due date
unchanged). The duplicate's complainant is told the primary's number. Evidence stays on the duplicate and
is shown on the primary's page through its list of merged cases. A waiting extension request of the
duplicate is withdrawn. The staff member either complaint is about never merges them (recusal).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clocking, notices
from kefu.complaints import repository as repo
from kefu.complaints.common import audit_view, clean_text, timeline
from kefu.complaints.models import OPEN, ClockChangeKind, ClockState, Complaint, Status
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import Permission


async def merge(session: AsyncSession, *, actor: Principal, complaint_id: int, into_id: int, reason: str) -> Complaint:
    """Merge ``complaint_id`` (the duplicate) into ``into_id`` (the primary); returns the primary."""
    clocking.act_as(actor)
    text = clean_text(reason, "reason", low=4, high=1000)
    if complaint_id == into_id:
        raise Conflict("A complaint cannot be merged into itself; choose the other case.")
    await repo.get_visible(session, actor=actor, complaint_id=complaint_id)
    await repo.get_visible(session, actor=actor, complaint_id=into_id)
    locked: dict[int, Complaint] = {}
    for cid in sorted((complaint_id, into_id)):  # lock in id order: two merges never wait on each other
        row = await repo.get_for_update(session, cid)
        if row is None:
            raise NotFound(f"No complaint {cid} that you can see.")
        locked[cid] = row
    dup, primary = locked[complaint_id], locked[into_id]
    for case in (dup, primary):
        clocking.check_recusal(actor, case)  # the staff member either complaint is about never merges it
        if not (
            clocking.may_handle(actor, case) or (case.handler_id is None and actor.can(Permission.COMPLAINT_HANDLE))
        ):
            raise PermissionDenied(f"Only the handler of {case.number} or a supervisor can merge these cases.")
    open_values = {s.value for s in OPEN}
    if dup.status not in open_values:
        raise Conflict(f"Complaint {dup.number} is {dup.status}; only open cases (received, accepted, investigating, "
                       "plan agreed, resolving) can be merged.", extra={"status": dup.status})  # fmt: skip
    if primary.status == Status.MERGED.value:
        raise Conflict(f"Complaint {primary.number} was itself merged into another case; merge into that one.")
    if primary.status not in open_values:
        raise Conflict(f"Complaint {primary.number} is {primary.status}; merge only into an open case.",
                       extra={"status": primary.status})  # fmt: skip
    now = clock.now()
    before = audit_view(dup)
    if dup.clock_state in (ClockState.RUNNING.value, ClockState.PAUSED.value):
        await clocking.stop(session, dup, why=f"merged into {primary.number}")  # withdraws a waiting extension
    else:
        dup.clock_state = ClockState.STOPPED.value
    dup.status, dup.merged_into_id, dup.updated_at = Status.MERGED.value, primary.id, now
    await session.flush()
    await timeline(session, dup, "status", f"merged into {primary.number}", detail=text)
    await audit.record(
        session,
        action="complaint.merge",
        object_type="complaint",
        object_id=dup.id,
        before=before,
        after=audit_view(dup),
    )  # the reason is kept encrypted on the timeline, not in the audit log
    primary.updated_at = now
    await clocking.record_change(session, primary, ClockChangeKind.MERGE.value, due_before=primary.due_date,
                                 reason=text, requested_by=actor.staff_id,
                                 summary=f"{dup.number} merged into this case; due date unchanged")  # fmt: skip
    await notices.send(session, complaint=dup, kind="merged", params={"primary": primary.number})
    return primary
