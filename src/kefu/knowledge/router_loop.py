"""HTTP endpoints of the knowledge base's feedback loop: attaching entries to contacts
(/api/v1/kb/entries/{id}/attach, /api/v1/kb/attachments), hit counters and the frequency report
(/api/v1/kb/hits, /api/v1/kb/reports/frequency), unmatched queries (/api/v1/kb/unmatched), forwarded
questions (/api/v1/kb/questions) and bulletins (/api/v1/bulletins). ``router`` holds them all."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from kefu.core import clock, runtime
from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission
from kefu.knowledge import bulletins, hits, questions, unmatched
from kefu.knowledge.models import KbAttachment
from kefu.knowledge.schemas_loop import (
    AnswerIn,
    AttachIn,
    AttachmentOut,
    BulletinBoard,
    BulletinIn,
    BulletinOut,
    BulletinPage,
    BulletinPatch,
    CloseQuestionIn,
    FrequencyReportOut,
    HitDayOut,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    ReceiptsOut,
    ResolvedOut,
    ResolveIn,
    UnmatchedOut,
    WithdrawIn,
)

#: one flat router (the lead includes it in main.py): /api/v1/kb/... and /api/v1/bulletins...
router = APIRouter(prefix="/api/v1", tags=["knowledge"])

Reader = Annotated[Principal, require(Permission.KB_READ)]
Forwarder = Annotated[Principal, require(Permission.KB_FORWARD)]
Editor = Annotated[Principal, require(Permission.KB_EDIT)]
Reporter = Annotated[Principal, require(Permission.KB_REPORT)]
Manager = Annotated[Principal, require(Permission.BULLETIN_MANAGE)]
ReceiptReader = Annotated[Principal, require(Permission.BULLETIN_RECEIPTS)]
Day = Annotated[dt.date | None, Query(description="a local day (Asia/Shanghai), e.g. 2026-11-23")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
DEFAULT_DAYS = 30


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Default: the last 30 local days up to today."""
    end = end or hits.local_day(clock.now())
    return start or end - dt.timedelta(days=DEFAULT_DAYS - 1), end


def attachment_view(a: KbAttachment) -> dict[str, Any]:
    return {"id": a.id, "contact_id": a.contact_id, "entry_id": a.entry_id, "entry_version": a.entry_version,
            "staff_id": a.staff_id, "created_at": a.created_at}  # fmt: skip


# ---- attachments, hits, report -------------------------------------------------------------------


@router.post("/kb/entries/{entry_id}/attach", response_model=AttachmentOut)
async def attach_entry(entry_id: RowId, body: AttachIn, db: DbSession, principal: Reader) -> dict[str, Any]:
    """Record that this live entry was used on a contact you can see (once per contact; again is a no-op)."""
    a = await hits.attach(db, actor=principal, entry_id=entry_id, contact_id=body.contact_id)
    return attachment_view(a)


@router.get("/kb/attachments", response_model=list[AttachmentOut])
async def list_attachments(
    db: DbSession, principal: Reader, contact_id: Annotated[int, Query(ge=1, le=MAX_ROW_ID)]
) -> list[dict[str, Any]]:
    """The entries attached to a contact you can see."""
    return [attachment_view(a) for a in await hits.attachments_of(db, actor=principal, contact_id=contact_id)]


@router.get("/kb/hits", response_model=list[HitDayOut])
async def entry_hits(
    db: DbSession,
    principal: Reporter,
    entry_id: Annotated[int, Query(ge=1, le=MAX_ROW_ID)],
    start: Day = None,
    end: Day = None,
) -> list[dict[str, Any]]:
    """One entry's opens, attachments and bot answers per local day (days without hits left out)."""
    first, last = _period(start, end)
    return await hits.daily(db, entry_id=entry_id, start=first, end=last)


@router.get("/kb/reports/frequency", response_model=FrequencyReportOut)
async def frequency_report(db: DbSession, principal: Reporter, start: Day = None, end: Day = None) -> dict[str, Any]:
    """Hits and frequency band of every live entry, per-category totals, restructuring suggestions and the
    most frequent unmatched queries (default: the last 30 days)."""
    first, last = _period(start, end)
    return await hits.frequency_report(db, start=first, end=last, settings=runtime.get().settings)


# ---- unmatched queries ---------------------------------------------------------------------------


@router.get("/kb/unmatched", response_model=list[UnmatchedOut])
async def list_unmatched(
    db: DbSession,
    principal: Reporter,
    start: Day = None,
    end: Day = None,
    source: Literal["agent", "bot"] | None = None,
    include_resolved: bool = False,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """Queries that found no good answer, most often asked first (personal data replaced by ***)."""
    first, last = _period(start, end)
    return await unmatched.list_unmatched(db, start=first, end=last, source=source,
                                          include_resolved=include_resolved, limit=limit)  # fmt: skip


@router.post("/kb/unmatched/{unmatched_id}/resolve", response_model=ResolvedOut)
async def resolve_unmatched(unmatched_id: RowId, body: ResolveIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Mark an unmatched query as dealt with (on every day and source), saying how."""
    return await unmatched.resolve(db, actor=principal, unmatched_id=unmatched_id, note=body.note)


# ---- forwarded questions -------------------------------------------------------------------------


@router.post("/kb/questions", response_model=QuestionOut, status_code=201)
async def forward_question(body: QuestionIn, db: DbSession, principal: Forwarder) -> dict[str, Any]:
    """Forward a question you could not answer to the knowledge editors."""
    q = await questions.forward(db, actor=principal, question=body.question, context=body.context,
                                contact_id=body.contact_id, category_id=body.category_id)  # fmt: skip
    return questions.question_view(q)


@router.get("/kb/questions", response_model=QuestionPage)
async def list_questions(
    db: DbSession,
    principal: Reader,
    scope: Literal["mine", "queue"] = "mine",
    status: Literal["open", "answered", "closed"] | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    """``mine``: the questions you forwarded, newest first; ``queue`` (editors): everyone's, oldest first."""
    rows, total = await questions.list_questions(db, actor=principal, scope=scope, status=status, offset=offset,
                                                 limit=limit)  # fmt: skip
    return {"items": [questions.question_view(q) for q in rows], "total": total, "offset": offset, "limit": limit,
            "unseen": await questions.unseen_answers(db, actor=principal)}  # fmt: skip


@router.get("/kb/questions/{question_id}", response_model=QuestionOut)
async def get_question(question_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """A question you forwarded (or, for editors, any)."""
    return questions.question_view(await questions.get_question(db, actor=principal, question_id=question_id))


@router.post("/kb/questions/{question_id}/answer", response_model=QuestionOut)
async def answer_question(question_id: RowId, body: AnswerIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Record the business department's answer; it becomes a draft entry and goes back to the agent."""
    q = await questions.answer(db, actor=principal, question_id=question_id, department=body.department,
                               answer=body.answer, make_draft=body.make_draft, category_path=body.category_path)  # fmt: skip
    return questions.question_view(q)


@router.post("/kb/questions/{question_id}/close", response_model=QuestionOut)
async def close_question(question_id: RowId, body: CloseQuestionIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Close an open question without an answer, with the reason (the agent is told)."""
    return questions.question_view(await questions.close(db, actor=principal, question_id=question_id,
                                                         reason=body.reason))  # fmt: skip


@router.post("/kb/questions/{question_id}/seen", response_model=QuestionOut)
async def question_seen(question_id: RowId, db: DbSession, principal: Forwarder) -> dict[str, Any]:
    """You have read the answer to your question."""
    return questions.question_view(await questions.mark_seen(db, actor=principal, question_id=question_id))


# ---- bulletins -----------------------------------------------------------------------------------


@router.get("/bulletins", response_model=BulletinBoard)
async def my_bulletins(db: DbSession, principal: Reader) -> dict[str, Any]:
    """Current bulletins for your team and skills with your read state; urgent ones to acknowledge first."""
    items = await bulletins.for_staff(db, actor=principal, now=clock.now())
    return {"items": items, "unacknowledged_urgent": sum(i["needs_ack"] for i in items)}


@router.post("/bulletins", response_model=BulletinOut, status_code=201)
async def post_bulletin(body: BulletinIn, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Post a bulletin to every agent, or to some teams and/or skills, for a period."""
    b = await bulletins.create(db, actor=principal, **body.model_dump())
    return bulletins.bulletin_view(b)


@router.get("/bulletins/all", response_model=BulletinPage)
async def all_bulletins(
    db: DbSession, principal: Manager, include_withdrawn: bool = False, offset: Offset = 0, limit: Limit = 50
) -> dict[str, Any]:
    """Every bulletin, past, current and future, newest first (bulletin managers)."""
    rows, total = await bulletins.list_all(db, include_withdrawn=include_withdrawn, offset=offset, limit=limit)
    return {"items": [bulletins.bulletin_view(b) for b in rows], "total": total, "offset": offset, "limit": limit}


@router.get("/bulletins/{bulletin_id}", response_model=BulletinOut)
async def get_bulletin(bulletin_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """One current bulletin of yours (bulletin managers: any) with your read state."""
    return await bulletins.view_for(db, actor=principal, bulletin_id=bulletin_id, now=clock.now())


@router.patch("/bulletins/{bulletin_id}", response_model=BulletinOut)
async def change_bulletin(bulletin_id: RowId, body: BulletinPatch, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Change a bulletin; a new title, body or priority asks everyone to read (and acknowledge) it again."""
    b = await bulletins.update(db, actor=principal, bulletin_id=bulletin_id, **body.model_dump(exclude_unset=True))
    return bulletins.bulletin_view(b)


@router.post("/bulletins/{bulletin_id}/withdraw", response_model=BulletinOut)
async def withdraw_bulletin(bulletin_id: RowId, body: WithdrawIn, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Take a bulletin down at once, with the reason."""
    return bulletins.bulletin_view(await bulletins.withdraw(db, actor=principal, bulletin_id=bulletin_id,
                                                            reason=body.reason))  # fmt: skip


@router.post("/bulletins/{bulletin_id}/read", response_model=BulletinOut)
async def read_bulletin(bulletin_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """Mark a bulletin as read."""
    return await bulletins.mark_read(db, actor=principal, bulletin_id=bulletin_id)


@router.post("/bulletins/{bulletin_id}/ack", response_model=BulletinOut)
async def acknowledge_bulletin(bulletin_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """Acknowledge an urgent bulletin: you have read and understood it."""
    return await bulletins.acknowledge(db, actor=principal, bulletin_id=bulletin_id)


@router.get("/bulletins/{bulletin_id}/receipts", response_model=ReceiptsOut)
async def bulletin_receipts(bulletin_id: RowId, db: DbSession, principal: ReceiptReader) -> dict[str, Any]:
    """Who of the audience read and acknowledged it (team leads: their own team)."""
    return await bulletins.receipts(db, actor=principal, bulletin_id=bulletin_id)
