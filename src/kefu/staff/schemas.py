"""Request and response models of the staff domain (personal data is always masked here)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StaffNo = Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9_-]+$", description="工号, e.g. A1001")
Locale = Literal["zh-Hans", "zh-Hant", "en"]


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=40, description="staff number (工号)")
    password: str = Field(min_length=1, max_length=200)
    totp: str | None = Field(default=None, max_length=10, description="current two-factor code")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: dt.datetime


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_no: str
    name: str
    team_id: int | None
    status: str
    roles: list[str]
    phone: str = Field(description="masked")
    email: str = Field(description="masked")
    id_number: str = Field(description="masked")
    totp_enabled: bool


class MeOut(StaffOut):
    permissions: list[str]
    locale: str
    must_change_password: bool
    auth_kind: str


class StaffPage(BaseModel):
    items: list[StaffOut]
    total: int
    offset: int
    limit: int


class StaffCreate(BaseModel):
    staff_no: str = StaffNo
    name: str = Field(min_length=1, max_length=80)
    roles: list[str] = Field(min_length=1, max_length=10)
    password: str = Field(min_length=1, max_length=128)
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9 \-]{5,20}$")
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+$")
    id_number: str | None = Field(default=None, max_length=18, pattern=r"^[0-9]{17}[0-9Xx]$")
    locale: Locale = "zh-Hans"


class StaffUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    roles: list[str] | None = Field(default=None, min_length=1, max_length=10)
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    clear_team: bool = False
    phone: str | None = Field(default=None, max_length=20, pattern=r"^(\+?[0-9 \-]{5,20})?$")
    email: str | None = Field(default=None, max_length=120, pattern=r"^([^@\s]+@[^@\s]+)?$")
    id_number: str | None = Field(default=None, max_length=18, pattern=r"^([0-9]{17}[0-9Xx])?$")
    locale: Locale | None = None


class StatusChange(BaseModel):
    status: Literal["active", "suspended", "left"]
    reason: str = Field(min_length=1, max_length=500)


class PasswordReset(BaseModel):
    temporary_password: str


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=128)


class RevealRequest(BaseModel):
    field: Literal["phone", "email", "id_number"]
    purpose: str = Field(min_length=4, max_length=500)


class RevealOut(BaseModel):
    field: str
    value: str | None


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")


class TeamIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)


class TeamUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    description: str


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] = Field(min_length=1, max_length=50)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    owner_id: int
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown once; store it in the integration's secret store")
