"""HTTP endpoints for searching the knowledge base: agents' search (``GET /api/v1/kb/search``) and the
self-service bot (``POST /api/v1/kb/ask``, public, limited per address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from kefu.core.auth import DbSession, Principal, public, require
from kefu.core.ids import MAX_ROW_ID
from kefu.core.permissions import Permission
from kefu.knowledge import ask as bot
from kefu.knowledge import index

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge"])
Reader = Annotated[Principal, require(Permission.KB_READ)]


class SearchItem(BaseModel):
    entry_id: int
    key: str
    question: str
    category: str
    category_id: int | None
    score: float
    confidence: float
    matched: str
    snippet_html: str
    question_html: str
    answer_preview: str


class SearchOut(BaseModel):
    query: str
    normalised: str
    matched: bool
    took_ms: float
    items: list[SearchItem]


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=index.MAX_QUERY)
    channel: str = Field(default="web", max_length=20, pattern=r"^[a-z]+$")


class AskEntry(BaseModel):
    key: str
    question: str
    answer_markdown: str
    answer_html: str


class Suggestion(BaseModel):
    key: str
    question: str


class AskOut(BaseModel):
    answered: bool
    confidence: float
    handoff: bool
    message: str
    entry: AskEntry | None
    suggestions: list[Suggestion]


@router.get("/search", response_model=SearchOut)
async def search(
    request: Request,
    db: DbSession,
    principal: Reader,
    q: Annotated[str, Query(min_length=1, max_length=index.MAX_QUERY, description="what the customer asks")],
    top: Annotated[int, Query(ge=1, le=50)] = 10,
    category_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="this category and below")] = None,
    typing: Annotated[bool, Query(description="a search as one types: not logged as unmatched")] = False,
) -> dict[str, Any]:
    """Live, in-date entries best first, with highlighted snippets and a confidence (0-1)."""
    return await index.search(request.app.state.runtime, db, actor=principal, query=q, top=top,
                              category_id=category_id, source="agent", log_unmatched=not typing)  # fmt: skip


@router.post("/ask", response_model=AskOut, dependencies=[public()])
async def ask(request: Request, body: AskIn, db: DbSession) -> dict[str, Any]:
    """The self-service bot: an answer when confident, else a hand-over to a human agent."""
    rt = request.app.state.runtime
    bot.limiter(rt).check(request.client.host if request.client else "unknown")
    return await bot.ask(rt, db, question=body.question, channel=body.channel)
