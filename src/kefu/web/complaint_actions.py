"""The case page's form posts (/complaints/{id}/…): workflow steps, findings, plan nodes, evidence, the
clock (extension request and decision, pause, resume, new facts), notes, merge, details and reveal.

Each post calls one complaints service function. On success the browser goes back to the case page
(``?done=<action>``, anchored at the section); on a refusal the page is rendered again with the service's
message next to the form, the typed text kept, and the HTTP status of the error (never a 500).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clocking, evidence, merge, plan, views, workflow
from kefu.complaints import repository as complaints_repo
from kefu.complaints.router_case import UPLOAD_BODY_LIMIT
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.web import desk
from kefu.web.complaint_case import show_case, staff_no
from kefu.web.kb_common import parse_day, parse_local
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
#: a case number (TS20261123-000042); anything else is not looked up
CASE_NUMBER = re.compile(r"^[A-Z]{2}[0-9]{8}-[0-9]{4,12}$")
Field = Annotated[str, Form()]
Reader = page_user(Permission.COMPLAINT_READ)
Handler = page_user(Permission.COMPLAINT_HANDLE)
#: where each action's result is on the page
ANCHOR = {"evidence": "evidence", "plan": "plan", "node": "plan", "note": "timeline", "reveal": "complainant",
          "extension": "clock", "ext": "clock", "pause": "clock", "resume": "clock", "new_facts": "clock"}  # fmt: skip


async def _act(
    request: Request, db: AsyncSession, principal: Principal, complaint_id: int, where: str, form: dict[str, Any],
    work: Callable[[], Awaitable[Any]], *, go_to: int | None = None,
) -> Response:  # fmt: skip
    """Run one service call; redirect to the case page, or show it again with the error at ``where``."""
    try:
        await work()
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show_case(request, db, principal, complaint_id, error=error_message(exc, locale_of(request)),
                               error_for=where, form={"_for": where, **form}, status_code=exc.status)  # fmt: skip
    action = where.split("-", 1)[0]
    anchor = ANCHOR.get(action, "top")
    return redirect(f"/complaints/{go_to or complaint_id}?done={action}#{anchor}")


def _id(value: str, field: str) -> int:
    found = desk.as_id(value)
    if found is None:
        raise desk.field_error(field, "Choose one from the list.")
    return found


def _satisfaction(value: str) -> int | None:
    """The customer's score as typed: empty is "not given"; anything but ASCII digits is a field error
    (the service checks the range 1–5)."""
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 2:
        raise desk.field_error("satisfaction", "Satisfaction is a whole number from 1 (very dissatisfied) "
                                               "to 5 (very satisfied), or leave it empty.")  # fmt: skip
    return int(text)


# ---- workflow ---------------------------------------------------------------------------------------


@router.post("/complaints/{complaint_id:int}/accept")
async def accept(request: Request, complaint_id: RowId, db: DbSession, handler_id: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    """Accept (受理): the clock starts and the acknowledgement goes to the complainant (no handler chosen:
    the service keeps the current one, else the reader)."""

    async def work() -> Any:
        chosen = _id(handler_id, "handler_id") if handler_id.strip() else None
        return await workflow.accept(db, actor=principal, complaint_id=complaint_id, handler_id=chosen)

    return await _act(request, db, principal, complaint_id, "accept", {"handler_id": handler_id}, work)


@router.post("/complaints/{complaint_id:int}/refuse")
async def refuse(request: Request, complaint_id: RowId, db: DbSession, reason: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    text = desk.clean(reason, 1000)
    return await _act(request, db, principal, complaint_id, "refuse", {"reason": text},
                      lambda: workflow.refuse(db, actor=principal, complaint_id=complaint_id, reason=text))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/assign")
async def assign(request: Request, complaint_id: RowId, db: DbSession, handler_id: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    async def work() -> Any:
        return await workflow.assign(db, actor=principal, complaint_id=complaint_id,
                                     handler_id=_id(handler_id, "handler_id"))  # fmt: skip

    return await _act(request, db, principal, complaint_id, "assign", {"handler_id": handler_id}, work)


@router.post("/complaints/{complaint_id:int}/move")
async def move(request: Request, complaint_id: RowId, db: DbSession, to: Field = "", note: Field = "",
               principal: Principal = Handler) -> Response:  # fmt: skip
    """A plain step forward (investigating, plan agreed, resolving) with an optional note."""
    text = desk.clean(note, 2000)

    async def work() -> Any:
        if to not in ("investigating", "plan_agreed", "resolving"):
            raise desk.field_error("to", "Choose the next step from the buttons.")
        return await workflow.transition(db, actor=principal, complaint_id=complaint_id, to=to, note=text or None)

    return await _act(request, db, principal, complaint_id, "move", {"note": text}, work)


@router.post("/complaints/{complaint_id:int}/findings")
async def findings(request: Request, complaint_id: RowId, db: DbSession, responsible_party: Field = "",
                   root_cause: Field = "", note: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """The responsible party and the root cause (R5.3)."""
    text = desk.clean(note, 2000)
    form = {"responsible_party": responsible_party, "root_cause": root_cause, "note": text}
    return await _act(request, db, principal, complaint_id, "findings", form,
                      lambda: workflow.record_findings(db, actor=principal, complaint_id=complaint_id,
                                                       responsible_party=responsible_party[:30],
                                                       root_cause=root_cause[:40], note=text or None))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/decide")
async def decide(request: Request, complaint_id: RowId, db: DbSession, decision: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    """The decision (the clock stops; the decision notice goes out)."""
    text = desk.clean(decision, 4000)
    return await _act(request, db, principal, complaint_id, "decide", {"decision": text},
                      lambda: workflow.decide(db, actor=principal, complaint_id=complaint_id, decision=text))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/response")
async def response(request: Request, complaint_id: RowId, db: DbSession, response: Field = "",
                   satisfaction: Field = "", note: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """The customer's response to the decision and their satisfaction (R5.4)."""
    text = desk.clean(note, 2000)
    form = {"response": response, "satisfaction": satisfaction[:10], "note": text}

    async def work() -> Any:
        score = _satisfaction(satisfaction)
        return await workflow.record_response(db, actor=principal, complaint_id=complaint_id, response=response[:10],
                                              satisfaction=score, note=text or None)  # fmt: skip

    return await _act(request, db, principal, complaint_id, "response", form, work)


@router.post("/complaints/{complaint_id:int}/close")
async def close(request: Request, complaint_id: RowId, db: DbSession, note: Field = "",
                principal: Principal = Handler) -> Response:  # fmt: skip
    text = desk.clean(note, 2000)
    return await _act(request, db, principal, complaint_id, "close", {"note": text},
                      lambda: workflow.close(db, actor=principal, complaint_id=complaint_id, note=text or None))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/reopen")
async def reopen(request: Request, complaint_id: RowId, db: DbSession, reason: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    text = desk.clean(reason, 1000)
    return await _act(request, db, principal, complaint_id, "reopen", {"reason": text},
                      lambda: workflow.reopen(db, actor=principal, complaint_id=complaint_id, reason=text))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/note")
async def note(request: Request, complaint_id: RowId, db: DbSession, text: Field = "",
               principal: Principal = Reader) -> Response:  # fmt: skip
    """A note on the timeline (the handler, a supervisor or the staff member who registered the case)."""
    body = desk.clean(text, 4000)
    return await _act(request, db, principal, complaint_id, "note", {"text": body},
                      lambda: workflow.add_note(db, actor=principal, complaint_id=complaint_id, text=body))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/merge")
async def merge_into(request: Request, complaint_id: RowId, db: DbSession, into: Field = "", reason: Field = "",
                     principal: Principal = Handler) -> Response:  # fmt: skip
    """Merge this case (a duplicate) into another open case, named by its number; shows the primary after."""
    number, text = desk.clean(into, 24).upper(), desk.clean(reason, 1000)
    target: dict[str, int] = {}

    async def work() -> Any:
        primary = await complaints_repo.by_number(db, number) if CASE_NUMBER.match(number) else None
        if primary is None:
            raise desk.field_error("into", f"No complaint numbered {number or '(empty)'}; write the full number, "
                                           "e.g. TS20261123-000042.")  # fmt: skip
        await complaints_repo.get_visible(db, actor=principal, complaint_id=primary.id)
        target["id"] = primary.id
        return await merge.merge(db, actor=principal, complaint_id=complaint_id, into_id=primary.id, reason=text)

    result = await _act(request, db, principal, complaint_id, "merge", {"into": number, "reason": text}, work)
    if result.status_code == 303 and target:
        return redirect(f"/complaints/{target['id']}?done=merged#merged")
    return result


@router.post("/complaints/{complaint_id:int}/details")
async def details(request: Request, complaint_id: RowId, db: DbSession, principal: Principal = Handler) -> Response:
    """Correct the classification and the flags (a change making the case major escalates it)."""
    data = await request.form()

    def value(name: str, limit: int) -> str:
        raw = data.get(name)
        return desk.clean(raw if isinstance(raw, str) else "", limit)

    reasons = [v for v in data.getlist("escalation_reasons") if isinstance(v, str)][:10]
    changes: dict[str, Any] = {
        "category": value("category", 60) or None, "business_line": value("business_line", 30) or None,
        "severity": value("severity", 10) or None, "regulator_involved": value("regulator_involved", 3) == "1",
        "media_involved": value("media_involved", 3) == "1", "subject_staff_no": value("subject_staff_no", 20) or None,
        "escalation_risk": value("escalation_risk", 3) == "1", "escalation_reasons": reasons,
        "escalation_note": value("escalation_note", 1000) or None,
    }  # fmt: skip

    async def work() -> Any:
        staff_no(changes["subject_staff_no"] or "")
        return await workflow.update_details(db, actor=principal, complaint_id=complaint_id, **changes)

    return await _act(request, db, principal, complaint_id, "details", changes, work)


@router.post("/complaints/{complaint_id:int}/reveal")
async def reveal(request: Request, complaint_id: RowId, db: DbSession, field: Field = "", purpose: Field = "",
                 principal: Principal = Handler) -> Response:  # fmt: skip
    """The complainant's name, phone or e-mail in clear, for a stated purpose (audited by the service)."""
    text = desk.clean(purpose, 500)
    try:
        value = await views.reveal(db, actor=principal, complaint_id=complaint_id, field=field[:10], purpose=text)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await show_case(request, db, principal, complaint_id, error=error_message(exc, locale_of(request)),
                               error_for="reveal", form={"field": field, "purpose": text}, status_code=exc.status)  # fmt: skip
    return await show_case(request, db, principal, complaint_id, revealed={"field": field, "value": value or "—"})


# ---- the clock -----------------------------------------------------------------------------------------


@router.post("/complaints/{complaint_id:int}/extension")
async def extension(request: Request, complaint_id: RowId, db: DbSession, reason: Field = "",
                    principal: Principal = Handler) -> Response:  # fmt: skip
    """The handler asks for the next extension level; an approver decides."""
    text = desk.clean(reason, 1000)
    return await _act(request, db, principal, complaint_id, "extension", {"reason": text},
                      lambda: clocking.request_extension(db, actor=principal, complaint_id=complaint_id, reason=text))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/extensions/{change_id:int}/decide")
async def extension_decide(request: Request, complaint_id: RowId, change_id: RowId, db: DbSession,
                           decision: Field = "", note: Field = "", principal: Principal = Reader) -> Response:  # fmt: skip
    """Approve or reject a waiting extension (the service checks the approver's level and that they are
    neither the requester nor the handler)."""
    text = desk.clean(note, 1000)

    async def work() -> Any:
        if decision not in ("approve", "reject"):
            raise desk.field_error("decision", "Approve or reject the request.")
        return await clocking.decide_extension(db, actor=principal, change_id=change_id, approve=decision == "approve",
                                               note=text or None)  # fmt: skip

    return await _act(request, db, principal, complaint_id, f"ext-{change_id}", {"note": text}, work)


@router.post("/complaints/{complaint_id:int}/pause")
async def pause(request: Request, complaint_id: RowId, db: DbSession, reason: Field = "",
                principal: Principal = Handler) -> Response:  # fmt: skip
    """Outside appraisal or testing starts: its time does not count."""
    text = desk.clean(reason, 1000)
    return await _act(request, db, principal, complaint_id, "pause", {"reason": text},
                      lambda: clocking.pause(db, actor=principal, complaint_id=complaint_id, reason=text))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/resume")
async def resume(request: Request, complaint_id: RowId, db: DbSession, principal: Principal = Handler) -> Response:
    return await _act(request, db, principal, complaint_id, "resume", {},
                      lambda: clocking.resume(db, actor=principal, complaint_id=complaint_id))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/new-facts")
async def new_facts(request: Request, complaint_id: RowId, db: DbSession, received_on: Field = "",
                    summary: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """New facts or materials arrived: the count restarts from the day they arrived."""
    text = desk.clean(summary, 2000)

    async def work() -> Any:
        day = parse_day(received_on, "received_on")
        if day is None:
            raise desk.field_error("received_on", "Give the day the new facts or materials arrived (YYYY-MM-DD).")
        return await clocking.new_facts(db, actor=principal, complaint_id=complaint_id, received_on=day, summary=text)

    return await _act(request, db, principal, complaint_id, "new_facts",
                      {"received_on": received_on[:10], "summary": text}, work)  # fmt: skip


# ---- evidence and plan -----------------------------------------------------------------------------------


@router.post("/complaints/{complaint_id:int}/evidence", max_body_size=UPLOAD_BODY_LIMIT)
async def evidence_file(
    request: Request, complaint_id: RowId, db: DbSession, file: Annotated[UploadFile | None, File()] = None,
    note: Field = "", principal: Principal = Handler,
) -> Response:  # fmt: skip
    """Upload a file (type and size checked by the service, stored encrypted). The request body has the
    API upload's limit (``router_case.UPLOAD_BODY_LIMIT``): a larger one is refused with 413 unread."""
    text = desk.clean(note, 2000)
    limit = int(settings_of(request).complaint_upload_max_bytes)

    async def work() -> Any:
        if file is None or not file.filename:
            raise desk.field_error("file", "Choose the file to upload.")
        data = await file.read(limit + 1)  # one byte more than allowed: the service refuses it by size
        return await evidence.add_file(db, actor=principal, complaint_id=complaint_id, filename=file.filename,
                                       content_type=file.content_type or "", data=data, note=text or None)  # fmt: skip

    return await _act(request, db, principal, complaint_id, "evidence", {"note": text}, work)


@router.post("/complaints/{complaint_id:int}/evidence/link")
async def evidence_link(request: Request, complaint_id: RowId, db: DbSession, kind: Field = "", ref: Field = "",
                        note: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """Link a contact record, a banking transaction or system data."""
    text, reference = desk.clean(note, 2000), desk.clean(ref, 80)
    return await _act(request, db, principal, complaint_id, "evidence_link",
                      {"kind": kind, "ref": reference, "note": text},
                      lambda: evidence.link(db, actor=principal, complaint_id=complaint_id, kind=kind[:12], ref=reference,
                                            note=text or None))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/evidence/note")
async def evidence_note(request: Request, complaint_id: RowId, db: DbSession, text: Field = "",
                        principal: Principal = Handler) -> Response:  # fmt: skip
    body = desk.clean(text, 4000)
    return await _act(request, db, principal, complaint_id, "evidence_note", {"text": body},
                      lambda: evidence.add_note(db, actor=principal, complaint_id=complaint_id, text=body))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/plan")
async def plan_add(request: Request, complaint_id: RowId, db: DbSession, measure: Field = "", owner_id: Field = "",
                   due_at: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """A measure of the handling plan with its owner and time node (R5.4)."""
    text = desk.clean(measure, 2000)

    async def work() -> Any:
        due = parse_local(request, due_at, "due_at")
        if due is None:
            raise desk.field_error("due_at", "Give the time node (YYYY-MM-DD HH:MM).")
        return await plan.add_node(db, actor=principal, complaint_id=complaint_id, measure=text,
                                   owner_id=_id(owner_id, "owner_id"), due_at=due)  # fmt: skip

    return await _act(request, db, principal, complaint_id, "plan_add",
                      {"measure": text, "owner_id": owner_id, "due_at": due_at[:20]}, work)  # fmt: skip


@router.post("/complaints/{complaint_id:int}/plan/{node_id:int}/complete")
async def plan_complete(request: Request, complaint_id: RowId, node_id: RowId, db: DbSession, outcome: Field = "",
                        notify: Field = "", principal: Principal = Handler) -> Response:  # fmt: skip
    """The node is done; the customer gets a progress notice unless the handler unticks it."""
    text = desk.clean(outcome, 2000)
    return await _act(request, db, principal, complaint_id, f"node-{node_id}", {"outcome": text},
                      lambda: plan.complete_node(db, actor=principal, node_id=node_id, outcome=text,
                                                 notify=notify == "1"))  # fmt: skip


@router.post("/complaints/{complaint_id:int}/plan/{node_id:int}/cancel")
async def plan_cancel(request: Request, complaint_id: RowId, node_id: RowId, db: DbSession, reason: Field = "",
                      principal: Principal = Handler) -> Response:  # fmt: skip
    text = desk.clean(reason, 1000)
    return await _act(request, db, principal, complaint_id, f"node-{node_id}", {"reason": text},
                      lambda: plan.cancel_node(db, actor=principal, node_id=node_id, reason=text))  # fmt: skip
