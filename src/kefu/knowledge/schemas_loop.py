"""Request and response models of the knowledge base's feedback loop: attaching entries to contacts,
hit counters and the frequency report, unmatched queries, forwarded questions and bulletins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kefu.core.ids import MAX_ROW_ID

TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # printable, line breaks allowed
LINE = r"^[^\x00-\x1f\x7f]*$"
Band = Literal["very_high", "high", "low", "very_low"]
SkillCode = Annotated[str, Field(max_length=40, pattern=r"^[a-z][a-z0-9_]{0,39}$")]
TeamId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- attachments and hits ------------------------------------------------------------------------


class AttachIn(Strict):
    contact_id: int = Field(ge=1, le=MAX_ROW_ID, description="a contact you handle or can see")


class AttachmentOut(BaseModel):
    id: int
    contact_id: int
    entry_id: int
    entry_version: int | None = Field(description="the live version that was used")
    staff_id: int | None
    created_at: dt.datetime


class HitDayOut(BaseModel):
    day: dt.date
    opens: int
    attaches: int
    bot_answers: int
    hits: int


class EntryHitsOut(BaseModel):
    entry_id: int
    key: str
    question: str
    category_id: int | None
    category: str
    opens: int
    attaches: int
    bot_answers: int
    hits: int
    band: Band


class CategoryTotalsOut(BaseModel):
    category_id: int | None
    category: str
    parent_id: int | None
    entries: int
    hits: int
    bands: dict[str, int]


class SuggestionOut(BaseModel):
    category_id: int | None
    category: str
    reason: Literal["merge_or_retire", "move_hot_entries", "split"]
    message: str
    entries: list[int]


class UnmatchedOut(BaseModel):
    id: int = Field(description="resolve with this id (marks the query on every day and source)")
    query: str = Field(description="normalised, personal data replaced by ***")
    sample: str = Field(description="one original wording, personal data replaced by ***")
    count: int
    days: int
    sources: list[str]
    best_score: float | None
    last_at: dt.datetime
    resolved: bool


class FrequencyReportOut(BaseModel):
    start: dt.date
    end: dt.date
    thresholds: dict[str, float] = Field(description="hits an entry must reach for very_high, high and low")
    entries: list[EntryHitsOut]
    categories: list[CategoryTotalsOut]
    suggestions: list[SuggestionOut]
    top_unmatched: list[UnmatchedOut]


class ResolveIn(Strict):
    note: str = Field(min_length=2, max_length=500, pattern=LINE, description="how it was dealt with")


class ResolvedOut(BaseModel):
    id: int
    query: str
    resolved_rows: int


# ---- forwarded questions -------------------------------------------------------------------------


class QuestionIn(Strict):
    question: str = Field(min_length=4, max_length=300, pattern=TEXT, description="what the customer asked")
    context: str = Field(default="", max_length=2000, pattern=TEXT, description="what you already checked")
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID, description="the contact it came up on")
    category_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID, description="the knowledge category it fits")


class AnswerIn(Strict):
    department: str = Field(min_length=2, max_length=60, pattern=LINE, description="e.g. 信用卡中心")
    answer: str = Field(min_length=2, max_length=20_000, pattern=TEXT, description="Markdown")
    make_draft: bool = Field(default=True, description="also create a draft entry for review")
    category_path: str | None = Field(default=None, min_length=1, max_length=400, pattern=LINE,
                                      description="category of the draft, e.g. 信用卡/年费 (default: the question's)")  # fmt: skip


class CloseQuestionIn(Strict):
    reason: str = Field(min_length=2, max_length=500, pattern=LINE)


class QuestionOut(BaseModel):
    id: int
    contact_id: int | None
    asked_by: int
    team_id: int | None
    question: str = Field(description="phone, ID and card numbers masked")
    context: str
    category_id: int | None
    status: str
    department: str
    answer: str
    answered_by: int | None
    answered_at: dt.datetime | None
    close_reason: str
    entry_id: int | None = Field(description="the draft entry made from the answer")
    seen_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class QuestionPage(BaseModel):
    items: list[QuestionOut]
    total: int
    offset: int
    limit: int
    unseen: int = Field(description="your questions answered or closed that you have not looked at yet")


# ---- bulletins -----------------------------------------------------------------------------------


class BulletinIn(Strict):
    title: str = Field(min_length=2, max_length=120, pattern=LINE)
    body: str = Field(min_length=1, max_length=20_000, pattern=TEXT, description="Markdown")
    priority: Literal["normal", "urgent"] = Field(default="normal", description="urgent: agents must acknowledge")
    audience_teams: list[TeamId] = Field(default_factory=list, max_length=100, description="[]: every team")
    audience_skills: list[SkillCode] = Field(default_factory=list, max_length=20, description="[]: any skill")
    valid_from: AwareDatetime | None = Field(default=None, description="default: now")
    valid_to: AwareDatetime | None = Field(default=None, description="null: until withdrawn")


class BulletinPatch(Strict):
    title: str | None = Field(default=None, min_length=2, max_length=120, pattern=LINE)
    body: str | None = Field(default=None, min_length=1, max_length=20_000, pattern=TEXT)
    priority: Literal["normal", "urgent"] | None = None
    audience_teams: list[TeamId] | None = Field(default=None, max_length=100)
    audience_skills: list[SkillCode] | None = Field(default=None, max_length=20)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None


class WithdrawIn(Strict):
    reason: str = Field(min_length=2, max_length=500, pattern=LINE)


class BulletinOut(BaseModel):
    id: int
    title: str
    body: str
    priority: str
    audience_teams: list[int]
    audience_skills: list[str]
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    withdrawn_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    read_at: dt.datetime | None = Field(description="when you read it")
    acked_at: dt.datetime | None = Field(description="when you acknowledged it (urgent ones)")
    needs_ack: bool = Field(description="urgent and not yet acknowledged by you")


class BulletinBoard(BaseModel):
    items: list[BulletinOut]
    unacknowledged_urgent: int


class BulletinPage(BaseModel):
    items: list[BulletinOut]
    total: int
    offset: int
    limit: int


class ReceiptOut(BaseModel):
    staff_id: int
    staff_no: str
    name: str
    team_id: int | None
    read_at: dt.datetime | None
    acked_at: dt.datetime | None


class ReceiptsOut(BaseModel):
    bulletin_id: int
    priority: str
    audience: int
    read: int
    acknowledged: int
    items: list[ReceiptOut]
