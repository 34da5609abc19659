"""Request and response models of the complaints API (/api/v1/complaints). Codes are checked against the
taxonomy by the services (the category tree is a setting), so here they are only shaped."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kefu.core.ids import MAX_ROW_ID

TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # printable, line breaks allowed
LINE = r"^[^\x00-\x1f\x7f]*$"
CODE = r"^[a-z0-9][a-z0-9_.\-]{0,59}$"
Code = Annotated[str, Field(min_length=1, max_length=60, pattern=CODE)]
StaffChannel = Literal["phone", "email", "letter", "chat", "branch", "regulator"]
Locale = Literal["zh-Hans", "zh-Hant", "en"]
SeverityName = Literal["low", "normal", "high", "major"]
StatusName = Literal["received", "not_accepted", "accepted", "investigating", "plan_agreed", "resolving", "decided",
                     "confirmed", "disputed", "closed", "merged"]  # fmt: skip
Id = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Reason = Annotated[str, Field(min_length=4, max_length=1000, pattern=TEXT)]
Note = Annotated[str, Field(min_length=2, max_length=2000, pattern=TEXT)]
Phone = Annotated[str, Field(min_length=5, max_length=30, pattern=r"^[0-9+\-() ]+$")]
Email = Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=LINE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntakeIn(Strict):
    """A complaint registered by staff (R5.1, R5.2). A phone, an e-mail or a linked customer is needed."""

    channel: StaffChannel
    complainant_name: Name | None = Field(default=None, description="required unless a customer is linked")
    complainant_phone: Phone | None = None
    complainant_email: Email | None = None
    customer_id: Id | None = None
    contact_id: Id | None = Field(default=None, description="the contact the complaint was taken on")
    locale: Locale = Field(default="zh-Hans", description="language of the notices to the complainant")
    matter: str = Field(min_length=4, max_length=4000, pattern=TEXT, description="the matter, in their words")
    requested_resolution: str | None = Field(default=None, min_length=2, max_length=2000, pattern=TEXT)
    business_line: Code
    category: Code = Field(description="a leaf of the category tree (GET /api/v1/complaints/taxonomy)")
    severity: SeverityName = "normal"
    regulator_involved: bool = False
    media_involved: bool = False
    subject_staff_no: str | None = Field(default=None, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_\-]+$",
                                         description="the staff member complained about (may not handle it)")  # fmt: skip
    escalation_risk: bool = Field(default=False, description="risk of escalation beyond the bank (越级投诉)")
    escalation_reasons: list[Code] = Field(default_factory=list, max_length=10)
    escalation_note: str | None = Field(default=None, min_length=2, max_length=1000, pattern=TEXT)
    received_at: AwareDatetime | None = Field(default=None, description="letters: when it arrived (not in the future)")


class PublicIn(Strict):
    """The public complaint form (no sign-in)."""

    name: Name
    phone: Phone | None = None
    email: Email | None = None
    business_line: Code
    category: Code | None = Field(default=None, description="optional; staff classify the complaint")
    matter: str = Field(min_length=4, max_length=4000, pattern=TEXT)
    requested_resolution: str | None = Field(default=None, min_length=2, max_length=2000, pattern=TEXT)
    locale: Locale = "zh-Hans"
    consent: bool = Field(description="agreement to the processing of personal data for handling the complaint")


class PublicOut(BaseModel):
    number: str
    received_at: dt.datetime
    message: str


class AcceptIn(Strict):
    handler_id: Id | None = Field(default=None, description="default: the current handler, else you")


class ReasonIn(Strict):
    reason: Reason


class AssignIn(Strict):
    handler_id: Id


class TransitionIn(Strict):
    to: StatusName
    note: str | None = Field(default=None, min_length=2, max_length=4000, pattern=TEXT)


class FindingsIn(Strict):
    responsible_party: Code
    root_cause: Code
    note: Note | None = None


class DecideIn(Strict):
    decision: str = Field(min_length=4, max_length=4000, pattern=TEXT)


class ResponseIn(Strict):
    response: Literal["confirmed", "disputed"]
    satisfaction: int | None = Field(default=None, ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    note: Note | None = None


class CloseIn(Strict):
    note: Note | None = None


class NoteIn(Strict):
    text: str = Field(min_length=2, max_length=4000, pattern=TEXT)


class MergeIn(Strict):
    into_id: Id = Field(description="the case that keeps the matter (the primary)")
    reason: Reason


class ExtensionDecisionIn(Strict):
    approve: bool
    note: Note | None = None


class NewFactsIn(Strict):
    received_on: dt.date = Field(description="local day the new facts or materials arrived (≤ today)")
    summary: str = Field(min_length=4, max_length=2000, pattern=TEXT)


class PatchIn(Strict):
    category: Code | None = None
    business_line: Code | None = None
    severity: SeverityName | None = None
    regulator_involved: bool | None = None
    media_involved: bool | None = None
    subject_staff_no: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9_\-]*$",
                                         description="empty string: nobody")  # fmt: skip
    escalation_risk: bool | None = None
    escalation_reasons: list[Code] | None = Field(default=None, max_length=10)
    escalation_note: str | None = Field(default=None, max_length=1000, pattern=TEXT)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class RevealIn(Strict):
    field: Literal["name", "phone", "email"]
    purpose: str = Field(min_length=4, max_length=300, pattern=LINE)


class RevealOut(BaseModel):
    field: str
    value: str | None


class PageOut(BaseModel):
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


class ClockChangeOut(BaseModel):
    id: int
    complaint_id: int | None = None
    number: str | None = None
    kind: str
    status: str
    level: int | None
    effective_date: dt.date | None
    reason: str | None
    requested_by: int | None
    requested_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    due_before: dt.date | None
    due_after: dt.date | None
