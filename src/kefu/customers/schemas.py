"""Request and response models of the customers domain. Personal data in responses is masked,
except in the reveal and export answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Locale = Literal["zh-Hans", "zh-Hant", "en"]
Tier = Literal["normal", "gold", "platinum", "diamond", "private"]
Gender = Literal["M", "F"]
IdType = Literal["resident_id", "passport", "hk_macau_permit", "taiwan_permit"]
IncomeBand = Literal["lt50k", "50k-100k", "100k-300k", "300k-1m", "gt1m"]
Channel = Literal["phone", "chat", "branch", "app", "web"]
FieldGroupName = Literal["identity", "contact", "profile", "marketing"]
PhoneLabel = Literal["mobile", "home", "work"]

# printable text only: control characters never reach the database
TEXT = r"^[^\x00-\x1f\x7f]*$"
PHONE = r"^\+?[0-9 \-()]{5,24}$"
Name = Field(min_length=1, max_length=40, pattern=TEXT)
Tag = Annotated[str, Field(min_length=1, max_length=30, pattern=TEXT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhoneIn(Strict):
    phone: str = Field(pattern=PHONE, max_length=24)
    label: PhoneLabel = "mobile"


class ConsentIn(Strict):
    field_group: FieldGroupName
    channel: Channel
    words_shown: str = Field(min_length=1, max_length=4000, pattern=r"^[^\x00]*$",
                             description="the exact words read out or shown to the customer")  # fmt: skip
    scope: str | None = Field(default=None, max_length=1000, pattern=r"^[^\x00]*$")
    expires_at: AwareDatetime | None = None


class CustomerFields(Strict):
    id_type: IdType | None = None
    id_number: str | None = Field(default=None, max_length=24, pattern=r"^[0-9A-Za-z \-]*$")
    birth_date: dt.date | None = Field(default=None, ge=dt.date(1900, 1, 1), le=dt.date(2100, 1, 1))
    email: str | None = Field(default=None, max_length=120, pattern=r"^([^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+)?$")
    address: str | None = Field(default=None, max_length=200, pattern=TEXT)
    occupation: str | None = Field(default=None, max_length=60, pattern=TEXT)
    income_band: IncomeBand | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    marketing_contact: str | None = Field(default=None, max_length=120, pattern=TEXT)


class CustomerCreate(CustomerFields):
    name: str = Name
    gender: Gender | None = None
    locale: Locale = "zh-Hans"
    tier: Tier = "normal"
    phones: list[PhoneIn] = Field(default_factory=list, max_length=5)
    consents: list[ConsentIn] = Field(default_factory=list, max_length=4,
                                      description="consents captured on this contact, recorded first")  # fmt: skip


class CustomerUpdate(CustomerFields):
    name: str | None = Field(default=None, min_length=1, max_length=40, pattern=TEXT)
    gender: Gender | None = None
    locale: Locale | None = None
    tier: Tier | None = None


class PhoneOut(BaseModel):
    id: int
    phone: str = Field(description="masked")
    label: str
    is_primary: bool
    removed: bool


class CustomerOut(BaseModel):
    id: int
    customer_no: str
    name: str = Field(description="masked")
    gender: str | None
    tier: str
    locale: str
    status: str
    merged_into_id: int | None
    id_type: str | None
    id_number: str | None = Field(description="masked")
    birth_date: str | None = Field(description="masked to the year")
    phones: list[PhoneOut]
    email: str | None
    address: str | None
    occupation: str | None
    income_band: str | None
    tags: list[str]
    marketing_contact: str | None
    consent: dict[str, str] = Field(description="per field group: consented, legal_basis, withdrawn, expired, none")
    withheld: list[str] = Field(description="field groups not in use: their fields are not shown")
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    total: int
    offset: int
    limit: int


class LookupIn(Strict):
    phone: str | None = Field(default=None, pattern=PHONE, max_length=24)
    id_number: str | None = Field(default=None, max_length=24, pattern=r"^[0-9A-Za-z \-]+$")


class ConsentOut(BaseModel):
    id: int
    customer_id: int
    origin_customer_id: int | None
    field_group: str
    purpose: str
    scope: str
    channel: str
    words_shown: str
    captured_by: int
    captured_at: dt.datetime
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_by: int | None
    withdrawn_channel: str | None
    withdrawn_note: str | None
    in_force: bool


class WithdrawIn(Strict):
    channel: Channel
    note: str | None = Field(default=None, max_length=1000, pattern=r"^[^\x00]*$")


class FieldGroupOut(BaseModel):
    name: str
    purpose: str
    fields: list[str]
    scope: str
    legal_basis: str | None


class PurposeIn(Strict):
    purpose: str = Field(min_length=4, max_length=500, pattern=r"^[^\x00]*$")


class RevealIn(PurposeIn):
    field: Literal["name", "phone", "email", "address", "birth_date", "marketing_contact", "id_number"]
    phone_id: int | None = Field(default=None, ge=1, le=2**62)


class RevealOut(BaseModel):
    field: str
    value: str | None


class MergeIn(Strict):
    source_id: int = Field(ge=1, le=2**62, description="the duplicate record, merged into the one in the path")
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")


class VerificationStart(Strict):
    contact_ref: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]*$")


class VerificationOut(BaseModel):
    id: int
    customer_id: int
    contact_ref: str | None
    level: int
    methods_passed: list[str]
    failures: int
    failures_left: int
    status: str
    expires_at: dt.datetime
    code_pending: bool
    passed: bool | None = Field(description="result of this attempt; null when nothing was checked")
    message: str


class PinIn(Strict):
    pin: str = Field(min_length=1, max_length=12, pattern=r"^[0-9]+$")


class SmsIn(Strict):
    id_last6: str = Field(min_length=6, max_length=6, pattern=r"^[0-9Xx]{6}$")


class CodeIn(Strict):
    code: str = Field(min_length=4, max_length=8, pattern=r"^[0-9 ]+$")


class Answer(Strict):
    index: int = Field(ge=0, le=20)
    answer: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")


class AnswersIn(Strict):
    answers: list[Answer] = Field(min_length=1, max_length=10)


class QuestionOut(BaseModel):
    index: int
    question: str


ExportOut = dict[str, Any]
