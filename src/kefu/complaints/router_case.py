"""HTTP endpoints of a case's investigation and plan (issue 6 §3, §4): evidence (multipart upload, links to
contacts / transactions / system data, notes, audited download), plan nodes, and the clock sweep.
``router`` is included by main.py next to ``complaints.router``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kefu.complaints import evidence, jobs, plan
from kefu.complaints.models import Evidence, PlanNode
from kefu.core import runtime
from kefu.core.auth import DbSession, Principal, require
from kefu.core.crypto import scrub_text
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])
Reader = Annotated[Principal, require(Permission.COMPLAINT_READ)]
Handler = Annotated[Principal, require(Permission.COMPLAINT_HANDLE)]
Ops = Annotated[Principal, require(Permission.SYSTEM_OPS)]
#: the whole request may not exceed the largest allowed upload setting plus room for the form fields
UPLOAD_BODY_LIMIT = 100 * 1024 * 1024 + 64 * 1024


class EvidenceOut(BaseModel):
    id: int
    complaint_id: int
    kind: str
    ref: str | None
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    note: str | None
    added_by: int | None
    added_at: dt.datetime
    download: str | None = Field(description="where to download an uploaded file (audited)")


class LinkIn(BaseModel):
    kind: Literal["contact", "transaction", "system"]
    ref: str = Field(min_length=1, max_length=80, description="contact id, transaction number or system name")
    note: str | None = Field(default=None, max_length=2000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class NodeIn(BaseModel):
    measure: str = Field(min_length=1, max_length=1000)
    owner_id: int = Field(ge=1, le=MAX_ROW_ID)
    due_at: dt.datetime = Field(description="the time node, with a time zone; not after the case's due date")


class CompleteIn(BaseModel):
    outcome: str = Field(min_length=1, max_length=1000)
    notify: bool = Field(default=True, description="send the complainant a progress notice")


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class NodeOut(BaseModel):
    id: int
    complaint_id: int
    seq: int
    measure: str
    owner_id: int
    due_at: dt.datetime
    status: str
    done_at: dt.datetime | None
    outcome: str | None
    notice_sent_at: dt.datetime | None
    escalated_at: dt.datetime | None


class SweepOut(BaseModel):
    warned: int
    breached: int
    accept_overdue: int
    nodes_overdue: int


def _scrub(value: str | None) -> str | None:
    """Phone, card, ID numbers and e-mail addresses in free text are masked in responses (convention 8)."""
    return scrub_text(value) if value else value


def evidence_view(e: Evidence) -> dict[str, Any]:
    download = f"/api/v1/complaints/evidence/{e.id}/file" if e.kind == "file" else None
    return {"id": e.id, "complaint_id": e.complaint_id, "kind": e.kind, "ref": e.ref, "filename": _scrub(e.filename),
            "content_type": e.content_type, "size": e.size, "sha256": e.sha256, "note": _scrub(e.note),
            "added_by": e.added_by, "added_at": e.added_at, "download": download}  # fmt: skip


def node_view(n: PlanNode) -> dict[str, Any]:
    return {"id": n.id, "complaint_id": n.complaint_id, "seq": n.seq, "measure": _scrub(n.measure),
            "owner_id": n.owner_id, "due_at": n.due_at, "status": n.status, "done_at": n.done_at,
            "outcome": _scrub(n.outcome), "notice_sent_at": n.notice_sent_at, "escalated_at": n.escalated_at}  # fmt: skip


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# ---- evidence ------------------------------------------------------------------------------------


@router.post("/{complaint_id}/evidence", response_model=EvidenceOut, status_code=201,
             max_body_size=UPLOAD_BODY_LIMIT)  # fmt: skip
async def upload_evidence(
    complaint_id: RowId,
    db: DbSession,
    principal: Handler,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, GIF, TXT, WAV, MP3, DOCX or XLSX")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict[str, Any]:
    """Upload a file as evidence (multipart: ``file`` and an optional ``note``). The type is checked by
    extension and content, the size by ``complaint_upload_max_bytes``; the file is stored encrypted."""
    limit = runtime.get().settings.complaint_upload_max_bytes
    data = await file.read(limit + 1)
    await file.close()
    e = await evidence.add_file(db, actor=principal, complaint_id=complaint_id, filename=file.filename,
                                content_type=file.content_type, data=data, note=note)  # fmt: skip
    return evidence_view(e)


@router.post("/{complaint_id}/evidence/link", response_model=EvidenceOut, status_code=201)
async def link_evidence(complaint_id: RowId, body: LinkIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Link a contact (its id), a banking transaction (its number; checked against the customer's accounts) or
    system data (the system's name and, in the note, what it shows)."""
    e = await evidence.link(db, actor=principal, complaint_id=complaint_id, kind=body.kind, ref=body.ref,
                            note=body.note)  # fmt: skip
    return evidence_view(e)


@router.post("/{complaint_id}/evidence/note", response_model=EvidenceOut, status_code=201)
async def note_evidence(complaint_id: RowId, body: NoteIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """An investigation note (stored encrypted)."""
    return evidence_view(await evidence.add_note(db, actor=principal, complaint_id=complaint_id, text=body.text))


@router.get("/{complaint_id}/evidence", response_model=list[EvidenceOut])
async def list_evidence(complaint_id: RowId, db: DbSession, principal: Handler) -> list[dict[str, Any]]:
    """The case's evidence, oldest first."""
    from kefu.complaints import repository

    c = await repository.get_visible(db, actor=principal, complaint_id=complaint_id)
    return [evidence_view(e) for e in await evidence.list_for(db, c.id)]


@router.get("/evidence/{evidence_id}/file", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})  # fmt: skip
async def download_evidence(evidence_id: RowId, db: DbSession, principal: Handler) -> Response:
    """Download an uploaded file (decrypted; every download is audited). Always an attachment, never
    rendered in the browser."""
    e, data = await evidence.read_file(db, actor=principal, evidence_id=evidence_id)
    return Response(content=data, media_type=e.content_type or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(e.filename or f"evidence-{e.id}"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })  # fmt: skip


# ---- plan ----------------------------------------------------------------------------------------


@router.get("/{complaint_id}/plan", response_model=list[NodeOut])
async def list_plan(complaint_id: RowId, db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    """The handling plan: measures, owners and time nodes, in order."""
    from kefu.complaints import repository

    c = await repository.get_visible(db, actor=principal, complaint_id=complaint_id)
    return [node_view(n) for n in await plan.nodes_of(db, c.id)]


@router.post("/{complaint_id}/plan", response_model=NodeOut, status_code=201)
async def add_plan_node(complaint_id: RowId, body: NodeIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Add a measure with its owner and time node (investigating, plan agreed or resolving; not after the due date)."""
    n = await plan.add_node(db, actor=principal, complaint_id=complaint_id, measure=body.measure,
                            owner_id=body.owner_id, due_at=body.due_at)  # fmt: skip
    return node_view(n)


@router.post("/plan/{node_id}/complete", response_model=NodeOut)
async def complete_plan_node(node_id: RowId, body: CompleteIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Record the node's outcome; with ``notify`` the complainant gets a progress notice (R5.4)."""
    n = await plan.complete_node(db, actor=principal, node_id=node_id, outcome=body.outcome, notify=body.notify)
    return node_view(n)


@router.post("/plan/{node_id}/cancel", response_model=NodeOut)
async def cancel_plan_node(node_id: RowId, body: CancelIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Drop a measure from the plan, with the reason."""
    return node_view(await plan.cancel_node(db, actor=principal, node_id=node_id, reason=body.reason))


# ---- operations ----------------------------------------------------------------------------------


@router.post("/sweep", response_model=SweepOut)
async def run_sweep(db: DbSession, principal: Ops) -> dict[str, int]:
    """Run the clock sweep once now (warnings, breaches, accept-overdue, overdue plan nodes); the worker runs
    it every minute. Events go out when this request commits."""
    return await jobs.sweep_in(db, runtime.get().settings)
