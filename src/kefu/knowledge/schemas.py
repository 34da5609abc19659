"""Request and response models of the knowledge-base entries API (categories, entries and their
workflow, versions, the live copy agents read, synonyms, import and export)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.ids import MAX_ROW_ID

TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # printable, line breaks allowed
LINE = r"^[^\x00-\x1f\x7f]*$"
KEY = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$"
Id = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Similar = Annotated[str, Field(max_length=300, pattern=LINE)]
Word = Annotated[str, Field(min_length=1, max_length=40, pattern=LINE)]
Channel = Annotated[str, Field(min_length=1, max_length=20, pattern=LINE)]
MAX_IMPORT = 5000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- categories -------------------------------------------------------------------------------


class CategoryIn(Strict):
    name: str = Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f/]*$", description="without '/'")
    parent_id: Id | None = None
    sort: int = Field(default=0, ge=-10_000, le=10_000)


class CategoryPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f/]*$")
    parent_id: Id | None = Field(default=None, description="move under this category; null = top level")
    sort: int | None = Field(default=None, ge=-10_000, le=10_000)


class CategoryOut(BaseModel):
    id: int
    name: str
    path: str
    parent_id: int | None
    sort: int


class CategoryNode(CategoryOut):
    count: int = Field(description="entries in the category and below it, retired ones not counted")
    children: list[CategoryNode] = Field(default_factory=list)


# ---- entries ----------------------------------------------------------------------------------


class _Content(Strict):
    similar: list[Similar] | None = Field(default=None, max_length=50, description="paraphrases of the question")
    keywords: list[Word] | None = Field(default=None, max_length=50)
    products: list[Word] | None = Field(default=None, max_length=20)
    channels: list[Channel] | None = Field(default=None, max_length=20, description="phone, chat, email, bot ...")
    effective_from: dt.date | None = Field(default=None, description="first day the answer holds (local)")
    effective_to: dt.date | None = Field(default=None, description="last day the answer holds (local)")
    internal_notes: str | None = Field(default=None, max_length=4000, pattern=TEXT, description="staff only")
    expert_id: Id | None = Field(default=None, description="the business expert who confirmed the answer")
    expert_note: str | None = Field(default=None, max_length=200, pattern=TEXT)


class EntryIn(_Content):
    category_id: Id | None = Field(default=None, description="the category; or give category_path")
    category_path: str | None = Field(default=None, min_length=1, max_length=400, pattern=LINE,
                                      description="a path like 借记卡/挂失补办, created on demand")  # fmt: skip
    key: str | None = Field(default=None, pattern=KEY, description="stable external id; generated when left out")
    question: str = Field(min_length=2, max_length=300, pattern=TEXT, description="the standard question")
    answer: str = Field(min_length=1, max_length=20_000, pattern=TEXT, description="Markdown: the operating steps")


class EntryPatch(_Content):
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="the version you edited (optional)")
    category_id: Id | None = None
    category_path: str | None = Field(default=None, min_length=1, max_length=400, pattern=LINE)
    question: str | None = Field(default=None, min_length=2, max_length=300, pattern=TEXT)
    answer: str | None = Field(default=None, min_length=1, max_length=20_000, pattern=TEXT)


class ReviewIn(Strict):
    note: str = Field(default="", max_length=2000, pattern=TEXT)


class RejectIn(Strict):
    note: str = Field(min_length=2, max_length=2000, pattern=TEXT, description="what the author should change")


class RetireIn(Strict):
    reason: str = Field(min_length=2, max_length=500, pattern=TEXT)


class EntryOut(BaseModel):
    id: int
    key: str
    status: str
    version: int
    category_id: int
    category: str | None
    question: str
    similar: list[str]
    keywords: list[str]
    answer: str = Field(description="Markdown")
    answer_html: str = Field(description="the answer rendered safely")
    products: list[str]
    channels: list[str]
    effective_from: str | None
    effective_to: str | None
    internal_notes: str
    expert_id: int | None
    expert_note: str
    author_id: int | None
    submitted_at: dt.datetime | None
    reviewer_id: int | None
    reviewed_at: dt.datetime | None
    review_note: str
    live_version: int | None = Field(description="the version agents see; null when none is live")
    published_at: dt.datetime | None
    retired_at: dt.datetime | None
    source_question_id: int | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class EntryPage(BaseModel):
    items: list[EntryOut]
    total: int
    offset: int
    limit: int


class LiveEntryOut(BaseModel):
    id: int
    key: str
    version: int | None
    category_id: int | None
    category: str | None
    question: str
    similar: list[str]
    keywords: list[str]
    answer_markdown: str
    answer_html: str
    products: list[str]
    channels: list[str]
    effective_from: str | None
    effective_to: str | None
    internal_notes: str
    expert_note: str
    published_at: dt.datetime | None


class VersionOut(BaseModel):
    version: int
    action: str
    changed_by: int | None
    changed_at: dt.datetime
    note: str
    content: dict[str, Any]


class FieldDiff(BaseModel):
    field: str
    diff: str = Field(description="unified diff of the field's lines")


class DiffOut(BaseModel):
    entry_id: int
    key: str
    from_version: int
    to_version: int
    changes: list[FieldDiff]


# ---- synonyms ---------------------------------------------------------------------------------


class SynonymIn(Strict):
    canonical: str = Field(min_length=1, max_length=40, pattern=LINE)
    terms: list[Word] = Field(min_length=1, max_length=50, description="words customers use for the canonical term")


class SynonymOut(BaseModel):
    id: int
    canonical: str
    terms: list[str]
    updated_by: int | None
    updated_at: dt.datetime


# ---- import / export --------------------------------------------------------------------------


class ImportProblem(BaseModel):
    line: int
    key: str | None
    message: str


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[ImportProblem]
