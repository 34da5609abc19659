"""HTTP endpoints of complaint cases under /api/v1/complaints (R5): intake, the inbox, the case, every
workflow step, the clock (extensions, pause/resume, new facts), merge, reveal, the taxonomy, and the
public complaint form (no sign-in; limited per client address per hour)."""

from __future__ import annotations

import time
from collections import deque
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from kefu.complaints import clocking, intake, merge, taxonomy, views, workflow
from kefu.complaints import repository as repo
from kefu.complaints.schemas import (
    AcceptIn,
    AssignIn,
    ClockChangeOut,
    CloseIn,
    DecideIn,
    ExtensionDecisionIn,
    FindingsIn,
    IntakeIn,
    MergeIn,
    NewFactsIn,
    NoteIn,
    PageOut,
    PatchIn,
    PublicIn,
    PublicOut,
    ReasonIn,
    ResponseIn,
    RevealIn,
    RevealOut,
    StatusName,
    TransitionIn,
)
from kefu.core import clock, runtime
from kefu.core.auth import DbSession, Principal, public, require
from kefu.core.errors import KefuError, TooManyRequests
from kefu.core.ids import RowId
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

Intake = Annotated[Principal, require(Permission.COMPLAINT_INTAKE)]
Reader = Annotated[Principal, require(Permission.COMPLAINT_READ)]
Handler = Annotated[Principal, require(Permission.COMPLAINT_HANDLE)]
PUBLIC_MESSAGE = "您的投诉已收到，我们会在受理后通过短信或电子邮件告知处理期限。给您带来不便，深表歉意。"
HOUR = 3600.0
FORM_MESSAGE = "Too many complaints sent from this address; please try again in an hour, or call our service hotline."
#: public form posts that registered nothing, per address per hour (a separate, more generous limit)
INVALID_PER_HOUR = 30
INVALID_MESSAGE = ("Too many complaint forms with errors were sent from this address; please try again in an hour, "
                   "or call our service hotline.")  # fmt: skip


class FormLimiter:
    """Posts per client address in a sliding hour (in-process; each node limits on its own), the pattern of
    ``knowledge.ask.Limiter``. ``check`` counts a post (refusing it when the hour is full) and returns its
    stamp; ``give_back`` forgets a counted post again."""

    def __init__(self, per_hour: int, message: str = FORM_MESSAGE) -> None:
        self.per_hour = per_hour
        self.message = message
        self.seen: dict[str, deque[float]] = {}

    def check(self, address: str) -> float:
        now = time.monotonic()
        q = self.seen.setdefault(address, deque())
        while q and now - q[0] > HOUR:
            q.popleft()
        if len(q) >= self.per_hour:
            raise TooManyRequests(self.message)
        q.append(now)
        if len(self.seen) > 10_000:  # forget idle addresses
            for key in [k for k, v in self.seen.items() if not v or now - v[-1] > HOUR]:
                del self.seen[key]
        return now

    def give_back(self, address: str, stamp: float) -> None:
        q = self.seen.get(address)
        if q is not None and stamp in q:
            q.remove(stamp)


def form_limiter(rt: Any) -> FormLimiter:
    """Complaints registered through the public form (page and API together), per address per hour."""
    per_hour = rt.settings.complaint_form_per_hour
    lim = rt.extras.get("complaint_form_limiter")
    if lim is None or lim.per_hour != per_hour:
        lim = rt.extras["complaint_form_limiter"] = FormLimiter(per_hour)
    return lim  # type: ignore[no-any-return]


def invalid_limiter(rt: Any) -> FormLimiter:
    """Public form posts that registered nothing (refused by the schema or the service), per address per hour."""
    lim = rt.extras.get("complaint_form_invalid_limiter")
    if lim is None:
        lim = rt.extras["complaint_form_invalid_limiter"] = FormLimiter(INVALID_PER_HOUR, INVALID_MESSAGE)
    return lim  # type: ignore[no-any-return]


class PublicAttempt:
    """One post to the public complaint form (the page or ``POST /public``) from ``address``.

    Every post counts as invalid until its complaint is registered: at most ``INVALID_PER_HOUR`` of those
    per address and hour, so the form cannot be used to probe the validation. Only registered complaints
    count towards ``complaint_form_per_hour``; the slot is taken just before registering (``reserve``) and
    given back when the service refuses the complaint (``failed``)."""

    def __init__(self, rt: Any, address: str) -> None:
        self.address = address
        self.valid, self.invalid = form_limiter(rt), invalid_limiter(rt)
        self.invalid_stamp = self.invalid.check(address)
        self.valid_stamp: float | None = None

    def reserve(self) -> None:
        self.valid_stamp = self.valid.check(self.address)

    def failed(self) -> None:
        if self.valid_stamp is not None:
            self.valid.give_back(self.address, self.valid_stamp)
            self.valid_stamp = None

    def registered(self) -> None:
        self.invalid.give_back(self.address, self.invalid_stamp)


async def public_attempt(request: Request) -> PublicAttempt:
    """Dependency: counts the post before its body is validated (so posts the schema refuses count too)."""
    return PublicAttempt(request.app.state.runtime, request.client.host if request.client else "unknown")


async def _detail(db: DbSession, actor: Principal, complaint_id: int) -> dict[str, Any]:
    await db.flush()
    return await views.case_detail(db, actor=actor, complaint_id=complaint_id, now=clock.now())


def _change(ch: Any, number: str | None = None) -> dict[str, Any]:
    return {**clocking.clock_detail(ch), "complaint_id": ch.complaint_id, "number": number}


# ---- public form, taxonomy, lists (static paths before /{complaint_id}) ---------------------------


@router.post("/public", response_model=PublicOut, status_code=201, dependencies=[public()])
async def public_form(
    request: Request, body: PublicIn, db: DbSession, attempt: Annotated[PublicAttempt, Depends(public_attempt)]
) -> dict[str, Any]:
    """The public complaint form: returns the case number. Limited per address: complaint_form_per_hour
    registered complaints, and 30 posts with errors, an hour (429)."""
    settings = request.app.state.runtime.settings
    category = body.category or intake.default_public_category(settings)
    data = intake.IntakeData(channel="form", matter=body.matter, business_line=body.business_line, category=category,
                             complainant_name=body.name, complainant_phone=body.phone, complainant_email=body.email,
                             locale=body.locale, requested_resolution=body.requested_resolution)  # fmt: skip
    attempt.reserve()
    try:
        c = await intake.register_public(db, data=data, consent=body.consent)
    except KefuError:
        attempt.failed()
        raise
    attempt.registered()
    return {"number": c.number, "received_at": c.received_at, "message": PUBLIC_MESSAGE}


@router.get("/taxonomy")
async def get_taxonomy(principal: Reader) -> dict[str, Any]:
    """Categories (tree), business lines, root causes, responsible parties, escalation reasons, severities."""
    return taxonomy.as_dict(runtime.get().settings)


@router.get("/extensions", response_model=list[ClockChangeOut])
async def list_extensions(
    db: DbSession, principal: Handler, status: Annotated[str, Query(pattern="^pending$")] = "pending"
) -> list[dict[str, Any]]:
    """Extension requests waiting for approval (approvers see all; handlers their own cases')."""
    rows = await repo.pending_extensions(db)
    cases = await repo.complaints_by_ids(db, [r.complaint_id for r in rows])
    mine = principal.can(Permission.COMPLAINT_APPROVE) or principal.can(Permission.COMPLAINT_APPROVE_SENIOR)
    return [_change(r, cases[r.complaint_id].number) for r in rows
            if mine or cases[r.complaint_id].handler_id == principal.staff_id]  # fmt: skip


@router.post("/extensions/{change_id:int}/decide")
async def decide_extension(
    change_id: RowId, body: ExtensionDecisionIn, db: DbSession, principal: Reader
) -> dict[str, Any]:
    """Approve or reject an extension: level 1 by complaint.approve, level 2 by complaint.approve_senior;
    never by the requester or the case's handler."""
    c = await clocking.decide_extension(db, actor=principal, change_id=change_id, approve=body.approve, note=body.note)
    return await _detail(db, principal, c.id)


@router.post("", response_model=None, status_code=201)
async def register(body: IntakeIn, db: DbSession, principal: Intake) -> dict[str, Any]:
    """Register a complaint (from a contact, a letter, an e-mail, a branch or the regulator)."""
    data = intake.IntakeData(**body.model_dump())
    c = await intake.register(db, actor=principal, data=data)
    return await _detail(db, principal, c.id)


@router.get("", response_model=PageOut)
async def list_cases(
    db: DbSession,
    principal: Reader,
    scope: Annotated[str, Query(pattern="^(mine|unassigned|all|escalated|registered)$")] = "mine",
    status: Annotated[list[StatusName] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The inbox, due soonest first. Agents see the complaints they registered."""
    rows, total = await repo.list_cases(db, actor=principal, scope=scope, status=list(status) if status else None,
                                        q=q, offset=offset, limit=limit)  # fmt: skip
    items = await views.list_out(db, rows, actor=principal, now=clock.now())
    return {"items": items, "total": total, "offset": offset, "limit": limit}


# ---- one case --------------------------------------------------------------------------------------


@router.get("/{complaint_id:int}")
async def get_case(complaint_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """The whole case page: case, clock, timeline, clock changes, evidence, plan, notices, merged cases."""
    return await views.case_detail(db, actor=principal, complaint_id=complaint_id, now=clock.now())


@router.patch("/{complaint_id:int}")
async def patch_case(complaint_id: RowId, body: PatchIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Correct classification and flags; a major case or a new 越级投诉 risk is escalated at once."""
    await workflow.update_details(db, actor=principal, complaint_id=complaint_id, **body.changes())
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/accept")
async def accept(complaint_id: RowId, body: AcceptIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Accept (受理): the clock starts; the acknowledgement with the promised date goes out."""
    await workflow.accept(db, actor=principal, complaint_id=complaint_id, handler_id=body.handler_id)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/refuse")
async def refuse(complaint_id: RowId, body: ReasonIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Not accepted (不予受理), with the reason told to the complainant."""
    await workflow.refuse(db, actor=principal, complaint_id=complaint_id, reason=body.reason)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/assign")
async def assign(complaint_id: RowId, body: AssignIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Give the case to a handler (never the staff member complained about)."""
    await workflow.assign(db, actor=principal, complaint_id=complaint_id, handler_id=body.handler_id)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/transition")
async def transition(complaint_id: RowId, body: TransitionIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Move to the next status; an illegal step is a 409 naming the status and what may come next."""
    await workflow.transition(db, actor=principal, complaint_id=complaint_id, to=body.to, note=body.note)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/findings")
async def findings(complaint_id: RowId, body: FindingsIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The responsible party and root cause (R5.3)."""
    await workflow.record_findings(db, actor=principal, complaint_id=complaint_id,
                                   responsible_party=body.responsible_party, root_cause=body.root_cause,
                                   note=body.note)  # fmt: skip
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/decide")
async def decide(complaint_id: RowId, body: DecideIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The decision: the clock stops and the complainant is told."""
    await workflow.decide(db, actor=principal, complaint_id=complaint_id, decision=body.decision)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/response")
async def response(complaint_id: RowId, body: ResponseIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The customer's response (confirmed / disputed) and satisfaction (1–5)."""
    await workflow.record_response(db, actor=principal, complaint_id=complaint_id, response=body.response,
                                   satisfaction=body.satisfaction, note=body.note)  # fmt: skip
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/close")
async def close(complaint_id: RowId, body: CloseIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Close a confirmed or disputed case; records are kept complaint_retention_years from today."""
    await workflow.close(db, actor=principal, complaint_id=complaint_id, note=body.note)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/reopen")
async def reopen(complaint_id: RowId, body: ReasonIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Handle a closed or disputed case again, with a new term from today."""
    await workflow.reopen(db, actor=principal, complaint_id=complaint_id, reason=body.reason)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/notes", status_code=201)
async def add_note(complaint_id: RowId, body: NoteIn, db: DbSession, principal: Reader) -> dict[str, Any]:
    """A note on the timeline (the handler, a supervisor, or the staff member who registered the case)."""
    await workflow.add_note(db, actor=principal, complaint_id=complaint_id, text=body.text)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/merge")
async def merge_case(complaint_id: RowId, body: MergeIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Merge this case (the duplicate) into ``into_id``; returns the primary."""
    primary = await merge.merge(
        db, actor=principal, complaint_id=complaint_id, into_id=body.into_id, reason=body.reason
    )
    return await _detail(db, principal, primary.id)


@router.post("/{complaint_id:int}/extensions", response_model=ClockChangeOut, status_code=201)
async def request_extension(complaint_id: RowId, body: ReasonIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The handler asks for the next extension (level 1: to 30 days; level 2: +30 days)."""
    ch = await clocking.request_extension(db, actor=principal, complaint_id=complaint_id, reason=body.reason)
    c = await repo.get(db, complaint_id)
    return _change(ch, c.number if c else None)


@router.post("/{complaint_id:int}/pause")
async def pause(complaint_id: RowId, body: ReasonIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Outside appraisal or testing starts: the time does not count."""
    await clocking.pause(db, actor=principal, complaint_id=complaint_id, reason=body.reason)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/resume")
async def resume(complaint_id: RowId, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The appraisal is over: the paused days move the due date."""
    await clocking.resume(db, actor=principal, complaint_id=complaint_id)
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/new-facts")
async def new_facts(complaint_id: RowId, body: NewFactsIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """New facts or materials arrived: the count restarts from that day."""
    await clocking.new_facts(db, actor=principal, complaint_id=complaint_id, received_on=body.received_on,
                             summary=body.summary)  # fmt: skip
    return await _detail(db, principal, complaint_id)


@router.post("/{complaint_id:int}/reveal", response_model=RevealOut)
async def reveal(complaint_id: RowId, body: RevealIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """The complainant's name, phone or e-mail in clear, for a stated purpose (audited)."""
    value = await views.reveal(db, actor=principal, complaint_id=complaint_id, field=body.field, purpose=body.purpose)
    return {"field": body.field, "value": value}
