"""Questions agents could not answer (R4.5): the agent forwards one (from a contact, with what they
already checked); an editor records the business department's answer, which becomes a draft entry for
the usual review and goes back to the agent (event ``kb.question_answered``, routed to their
websocket); or the editor closes it with a reason. The agent marks the answer as seen.

Free text is stored as written (the department may need the details) and masked in every view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import reads
from kefu.contacts.service import invalid
from kefu.core import audit, clock, events
from kefu.core.auth import Principal
from kefu.core.crypto import scrub_text
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import Permission
from kefu.knowledge.models import KbCategory, KbQuestion, QuestionStatus

ANSWERED_EVENT = "kb.question_answered"
CLOSED_EVENT = "kb.question_closed"


def question_view(q: KbQuestion) -> dict[str, Any]:
    return {
        "id": q.id, "contact_id": q.contact_id, "asked_by": q.asked_by, "team_id": q.team_id,
        "question": scrub_text(q.question), "context": scrub_text(q.context), "category_id": q.category_id,
        "status": q.status, "department": q.department, "answer": scrub_text(q.answer), "answered_by": q.answered_by,
        "answered_at": q.answered_at, "close_reason": scrub_text(q.close_reason), "entry_id": q.entry_id,
        "seen_at": q.seen_at, "created_at": q.created_at, "updated_at": q.updated_at,
    }  # fmt: skip


def _audit_view(q: KbQuestion) -> dict[str, Any]:
    """No free text (it may hold a customer's details): only the question's shape."""
    return {"contact_id": q.contact_id, "asked_by": q.asked_by, "category_id": q.category_id, "status": q.status,
            "department": q.department, "entry_id": q.entry_id}  # fmt: skip


def _text(value: str, field: str, low: int, high: int) -> str:
    text = value.strip()
    if not low <= len(text) <= high:
        size = f"at most {high:,}" if low == 0 else f"{low} to {high:,}"
        raise invalid(field, f"Write {size} characters for the {field}.")
    return text


def _need(actor: Principal, perm: Permission, message: str) -> None:
    if not actor.can(perm):
        raise PermissionDenied(message)


async def _category(session: AsyncSession, category_id: int | None) -> KbCategory | None:
    if category_id is None:
        return None
    cat = await session.get(KbCategory, category_id)
    if cat is None:
        raise invalid("category_id", f"There is no knowledge category {category_id}; pick one from the tree.")
    return cat


async def forward(
    session: AsyncSession,
    *,
    actor: Principal,
    question: str,
    context: str = "",
    contact_id: int | None = None,
    category_id: int | None = None,
) -> KbQuestion:
    """Forward a question one could not answer to the editors (from a contact one can see, optionally)."""
    _need(actor, Permission.KB_FORWARD, "Your role cannot forward questions to the knowledge editors.")
    if contact_id is not None:
        contact_id = (await reads.visible(session, actor=actor, contact_id=contact_id)).id
    await _category(session, category_id)
    now = clock.now()
    q = KbQuestion(
        contact_id=contact_id, asked_by=actor.staff_id, team_id=actor.team_id,
        question=_text(question, "question", 4, 300), context=_text(context, "context", 0, 2000),
        category_id=category_id, status=QuestionStatus.OPEN.value, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(q)
    await session.flush()
    await audit.record(session, action="kb.question.forward", object_type="kb_question", object_id=q.id,
                       after=_audit_view(q))  # fmt: skip
    return q


async def list_questions(
    session: AsyncSession,
    *,
    actor: Principal,
    scope: str = "mine",
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[KbQuestion], int]:
    """``mine``: the questions the actor forwarded, newest first; ``queue``: everyone's (editors), oldest
    first so the longest-waiting is answered first."""
    stmt = select(KbQuestion)
    if scope == "mine":
        stmt = stmt.where(KbQuestion.asked_by == actor.staff_id).order_by(KbQuestion.id.desc())
    elif scope == "queue":
        _need(actor, Permission.KB_EDIT, "Only knowledge editors see the queue of forwarded questions.")
        stmt = stmt.order_by(KbQuestion.id)
    else:
        raise invalid("scope", "Scope is mine or queue.")
    if status is not None:
        if status not in {s.value for s in QuestionStatus}:
            raise invalid("status", "Status is open, answered or closed.")
        stmt = stmt.where(KbQuestion.status == status)
    total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(stmt.offset(offset).limit(limit))).scalars().all()
    return rows, int(total)


async def get_question(session: AsyncSession, *, actor: Principal, question_id: int) -> KbQuestion:
    """A question its asker or an editor may see, else NotFound."""
    q = await session.get(KbQuestion, question_id)
    if q is None or (q.asked_by != actor.staff_id and not actor.can(Permission.KB_EDIT)):
        raise NotFound(f"No forwarded question {question_id} that you can see.")
    return q


async def _open_for_editor(session: AsyncSession, actor: Principal, question_id: int, verb: str) -> KbQuestion:
    _need(actor, Permission.KB_EDIT, f"Only knowledge editors {verb} forwarded questions.")
    q = await get_question(session, actor=actor, question_id=question_id)
    if q.status != QuestionStatus.OPEN.value:
        raise Conflict(f"Question {q.id} is already {q.status}; only open questions can be answered or closed.")
    return q


async def _draft_category(session: AsyncSession, q: KbQuestion, category_path: str | None) -> str:
    if category_path and category_path.strip():
        return category_path.strip()
    cat = await _category(session, q.category_id)
    if cat is None:
        raise invalid("category_path", "Name the category of the draft entry (e.g. 信用卡/年费), "
                                       "or answer without a draft.")  # fmt: skip
    return cat.path


async def _make_draft(session: AsyncSession, actor: Principal, q: KbQuestion, category_path: str | None) -> int:
    """A draft entry from the question and the department's answer, for the editors' usual review."""
    from kefu.knowledge import service
    from kefu.knowledge.unmatched import scrub

    entry = await service.create_entry(
        session, actor=actor, category_path=await _draft_category(session, q, category_path),
        question=scrub(q.question), answer=q.answer, expert_note=q.department, source_question_id=q.id,
    )  # fmt: skip
    return int(entry.id)


async def answer(
    session: AsyncSession,
    *,
    actor: Principal,
    question_id: int,
    department: str,
    answer: str,
    make_draft: bool = True,
    category_path: str | None = None,
) -> KbQuestion:
    """Record the business department's answer, make it a draft entry (unless ``make_draft`` is False)
    and tell the agent who asked."""
    q = await _open_for_editor(session, actor, question_id, "answer")
    before = _audit_view(q)
    now = clock.now()
    q.department = _text(department, "department", 2, 60)
    q.answer = _text(answer, "answer", 2, 20_000)
    if make_draft:
        q.entry_id = await _make_draft(session, actor, q, category_path)
    q.status, q.answered_by, q.answered_at, q.updated_at = QuestionStatus.ANSWERED.value, actor.staff_id, now, now
    await session.flush()
    await audit.record(session, action="kb.question.answer", object_type="kb_question", object_id=q.id,
                       before=before, after=_audit_view(q))  # fmt: skip
    await events.emit(session, ANSWERED_EVENT, {"owner_id": q.asked_by, "question_id": q.id,
                                                "contact_id": q.contact_id})  # fmt: skip
    return q


async def close(session: AsyncSession, *, actor: Principal, question_id: int, reason: str) -> KbQuestion:
    """Close an open question without an answer (a duplicate, not a knowledge question …), with the reason."""
    q = await _open_for_editor(session, actor, question_id, "close")
    before = _audit_view(q)
    q.close_reason = _text(reason, "reason", 2, 500)
    q.status, q.updated_at = QuestionStatus.CLOSED.value, clock.now()
    await session.flush()
    await audit.record(session, action="kb.question.close", object_type="kb_question", object_id=q.id,
                       before=before, after=_audit_view(q))  # fmt: skip
    await events.emit(session, CLOSED_EVENT, {"owner_id": q.asked_by, "question_id": q.id,
                                              "contact_id": q.contact_id})  # fmt: skip
    return q


async def mark_seen(session: AsyncSession, *, actor: Principal, question_id: int) -> KbQuestion:
    """The asker has read the answer (or the reason it was closed); the first time counts."""
    q = await session.get(KbQuestion, question_id)
    if q is None or q.asked_by != actor.staff_id:
        raise NotFound(f"No question {question_id} that you forwarded.")
    if q.status == QuestionStatus.OPEN.value:
        raise Conflict(f"Question {q.id} has no answer yet; you will be told when it has one.")
    if q.seen_at is None:
        q.seen_at = clock.now()
        await session.flush()
    return q


async def unseen_answers(session: AsyncSession, *, actor: Principal) -> int:
    """How many of the actor's questions were answered (or closed) since they last looked."""
    stmt = select(func.count()).select_from(KbQuestion).where(
        KbQuestion.asked_by == actor.staff_id, KbQuestion.status != QuestionStatus.OPEN.value,
        KbQuestion.seen_at.is_(None),
    )  # fmt: skip
    return int((await session.execute(stmt)).scalar_one())
