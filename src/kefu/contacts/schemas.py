"""Request and response models of the contacts API. Caller numbers are masked; free text in responses
has phone, ID and card numbers masked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kefu.core.ids import MAX_ROW_ID

TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # printable, line breaks allowed
LINE = r"^[^\x00-\x1f\x7f]*$"
CODE = r"^[a-z0-9][a-z0-9_.\-]{0,39}$"
Result = Literal["resolved", "transferred", "follow_up", "complaint_opened", "callback_scheduled"]
AnswerChannel = Literal["phone", "sms", "email", "chat", "letter"]
ContactStatusName = Literal["scheduled", "queued", "offered", "connected", "wrap_up", "closed", "abandoned", "rejected"]
ChannelName = Literal["phone", "chat", "email", "sms", "wechat"]
KbEntry = Annotated[str, Field(min_length=1, max_length=200, pattern=LINE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FollowUpIn(Strict):
    """A promise to verify and reply (R1.7): what will be checked and when the customer gets the answer."""

    details: str = Field(min_length=2, max_length=2000, pattern=TEXT)
    due_at: AwareDatetime = Field(description="promised reply time; must be in the future")


class WrapupIn(Strict):
    category_id: int = Field(ge=1, le=MAX_ROW_ID, description="an active leaf of the category tree")
    summary: str = Field(min_length=2, max_length=2000, pattern=TEXT, description="the customer's request and result")
    result: Result
    kb_entries: list[KbEntry] = Field(default_factory=list, max_length=20, description="knowledge-base entries used")
    follow_up: FollowUpIn | None = Field(default=None, description="required when result is follow_up")


class IdentifyIn(Strict):
    customer_id: int = Field(ge=1, le=MAX_ROW_ID, description="the customer the agent identified (active, not merged)")


class CloseIn(Strict):
    outcome: Literal["done", "cancelled"] = "done"
    answer_channel: AnswerChannel | None = Field(default=None, description="how the customer was answered")
    answer_note: str = Field(min_length=2, max_length=2000, pattern=TEXT, description="what the customer was told")


class ReassignIn(Strict):
    owner_id: int = Field(ge=1, le=MAX_ROW_ID)
    reason: str = Field(min_length=4, max_length=500, pattern=LINE)


class Names(Strict):
    zh_hans: str = Field(alias="zh-Hans", min_length=1, max_length=80, pattern=LINE)
    zh_hant: str | None = Field(default=None, alias="zh-Hant", min_length=1, max_length=80, pattern=LINE)
    en: str | None = Field(default=None, min_length=1, max_length=80, pattern=LINE)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CategoryIn(Strict):
    code: str = Field(pattern=CODE, description="lower-case letters, digits, '_', '.', '-'")
    names: Names
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    sort: int = Field(default=0, ge=-10_000, le=10_000)


class CategoryPatch(Strict):
    names: Names | None = None
    sort: int | None = Field(default=None, ge=-10_000, le=10_000)


class ContactOut(BaseModel):
    id: int
    channel: str
    direction: str
    status: str
    customer_id: int | None
    customer_no: str | None
    caller_number: str | None = Field(description="masked")
    dialled_number: str | None
    ivr_choices: list[str]
    queue: str
    priority_bonus: float
    external_ref: str | None
    agent_id: int | None
    owner_id: int | None = Field(description="first-contact owner (首问负责)")
    team_id: int | None
    arrived_at: dt.datetime
    queued_at: dt.datetime | None
    first_offered_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wrapup_ended_at: dt.datetime | None
    on_hold: bool
    hold_seconds: float
    offers: int
    transfers: int
    wait_seconds: float | None
    rings: int | None
    within_target: bool | None
    talk_seconds: float | None = Field(description="answer to end, hold included")
    wrapup_seconds: float | None
    handle_seconds: float | None = Field(description="talk + wrap-up, once the wrap-up is recorded")
    end_reason: str | None
    scheduled_for: dt.datetime | None
    callback_of: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(BaseModel):
    items: list[ContactOut]
    total: int
    offset: int
    limit: int


class EventOut(BaseModel):
    id: int
    kind: str
    at: dt.datetime
    agent_id: int | None
    data: dict[str, Any]


class CategoryOut(BaseModel):
    id: int
    parent_id: int | None
    code: str
    names: dict[str, str]
    active: bool
    sort: int
    leaf: bool = True
    children: list[CategoryOut] = Field(default_factory=list)


class WrapupOut(BaseModel):
    id: int
    contact_id: int
    agent_id: int
    category: dict[str, Any] | None
    summary: str = Field(description="phone, ID and card numbers masked")
    result: str
    kb_entries: list[str]
    wrapup_seconds: float
    created_at: dt.datetime


class FollowUpOut(BaseModel):
    id: int
    contact_id: int
    customer_id: int | None
    owner_id: int | None
    team_id: int | None
    created_by: int
    details: str
    due_at: dt.datetime
    status: str
    overdue: bool
    needs_owner: bool
    previous_owner_id: int | None
    reminded_at: dt.datetime | None
    escalated_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: int | None
    answer_channel: str | None
    answer_note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FollowUpPage(BaseModel):
    items: list[FollowUpOut]
    total: int
    offset: int
    limit: int


class ContactDetail(ContactOut):
    events: list[EventOut]
    wrapup: WrapupOut | None
    follow_ups: list[FollowUpOut]


class TimelineOut(BaseModel):
    customer_id: int
    customer_ids: list[int] = Field(description="the customer and the records merged into it")
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
