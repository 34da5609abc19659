"""Request and response models of the routing configuration API (/api/v1/routing)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kefu.routing.models import SKILLS

CODE = r"^[a-z][a-z0-9_]{1,39}$"
SkillCode = Annotated[str, Field(max_length=40, pattern=r"^[a-z][a-z0-9_]{0,39}$")]
TEXT = r"^[^\x00-\x1f\x7f]*$"
Seconds = Field(default=None, ge=1, le=86_400, description="seconds in the queue; null: never")
Priority = Field(default=0.0, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)

#: Display names of the skills (R1.8), by locale.
SKILL_NAMES: dict[str, dict[str, str]] = {
    "general": {"zh-Hans": "综合业务", "zh-Hant": "綜合業務", "en": "General banking"},
    "savings": {"zh-Hans": "储蓄", "zh-Hant": "儲蓄", "en": "Savings and deposits"},
    "loans": {"zh-Hans": "贷款", "zh-Hant": "貸款", "en": "Loans"},
    "credit_cards": {"zh-Hans": "信用卡", "zh-Hant": "信用卡", "en": "Credit cards"},
    "cards": {"zh-Hans": "银行卡挂失", "zh-Hant": "銀行卡掛失", "en": "Lost and stolen cards"},
    "ebanking": {"zh-Hans": "电子银行", "zh-Hant": "電子銀行", "en": "E-banking"},
    "forex": {"zh-Hans": "外汇", "zh-Hant": "外匯", "en": "Foreign exchange"},
    "complaints": {"zh-Hans": "投诉", "zh-Hant": "投訴", "en": "Complaints"},
    "vip": {"zh-Hans": "贵宾", "zh-Hant": "貴賓", "en": "VIP customers"},
    "english": {"zh-Hans": "英文服务", "zh-Hant": "英文服務", "en": "English service"},
}
assert set(SKILL_NAMES) == set(SKILLS), "every skill needs its display names"  # noqa: S101


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QueueSettings(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=TEXT, description="display name, e.g. 信用卡")
    skills: list[SkillCode] = Field(
        min_length=1, max_length=len(SKILLS), description=f"all required; of {', '.join(SKILLS)}"
    )
    min_proficiency: int = Field(default=1, ge=1, le=10, description="each skill held at this level or more")
    base_priority: float = Priority
    acceleration: float = Field(default=1.0, ge=0, le=1_000, allow_inf_nan=False,
                                description="priority gained per second waited")  # fmt: skip
    widen_after_s: int | None = Seconds
    overflow_after_s: int | None = Seconds
    overflow_queue: str | None = Field(
        default=None, pattern=CODE, description="an active queue; needs overflow_after_s"
    )
    is_department: bool = Field(default=False, description="takes transfers only (never fed by the IVR)")


class QueueCreate(QueueSettings):
    code: str = Field(pattern=CODE, description="2-40 characters: a-z, 0-9, _; starts with a letter")


class QueueUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=TEXT)
    skills: list[SkillCode] | None = Field(default=None, min_length=1, max_length=len(SKILLS))
    min_proficiency: int | None = Field(default=None, ge=1, le=10)
    base_priority: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    acceleration: float | None = Field(default=None, ge=0, le=1_000, allow_inf_nan=False)
    widen_after_s: int | None = Seconds
    overflow_after_s: int | None = Seconds
    overflow_queue: str | None = Field(default=None, pattern=CODE)
    is_department: bool | None = None
    active: bool | None = Field(default=None, description="true reactivates a queue; false deactivates it")


class QueueOut(BaseModel):
    id: int
    code: str
    name: str
    skills: list[str]
    min_proficiency: int
    base_priority: float
    acceleration: float
    widen_after_s: int | None
    overflow_after_s: int | None
    overflow_queue: str | None
    is_department: bool
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class SkillOut(BaseModel):
    code: str
    names: dict[str, str] = Field(description="display name by locale (zh-Hans, zh-Hant, en)")


class AgentSkillsIn(Strict):
    skills: dict[SkillCode, int] = Field(max_length=len(SKILLS), description="skill → proficiency 1-10; {} removes all")


class AgentSkillsOut(BaseModel):
    staff_id: int
    skills: dict[str, int]


class IvrRouteIn(Strict):
    dialled_number: str = Field(default="*", min_length=1, max_length=32, pattern=r"^(\*|[0-9+ ()\-]+)$",
                                description="'*' for any number, or the number dialled")  # fmt: skip
    ivr_prefix: str = Field(default="", max_length=32, pattern=r"^[0-9*#, ]*$",
                            description="IVR choices joined by commas, e.g. '1,2'; '' matches every call")  # fmt: skip
    queue_code: str = Field(pattern=CODE)
    priority_bonus: float = Priority
    label: str = Field(default="", max_length=80, pattern=TEXT)


class IvrRouteOut(BaseModel):
    id: int
    dialled_number: str
    ivr_prefix: str
    queue_code: str
    priority_bonus: float
    label: str
    created_at: dt.datetime
