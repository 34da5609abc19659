"""Request and response models of the call-script API. Lengths and placeholders are checked by the
service, which says in words what to change (so a form and the API give the same messages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(max_length=40, description="a code: default, card_loss, vip …")
    name: str = Field(max_length=80)
    queue_codes: list[str] = Field(default_factory=list, max_length=40, description="empty for the default")
    channel: str = Field(default="phone", max_length=10, description="phone | chat | email")
    locale: str = Field(default="zh-Hans", max_length=8, description="zh-Hans | zh-Hant | en")
    greeting: str = Field(max_length=2000, description="may use {agent_no} and {customer}")
    confirmation: str = Field(default="", max_length=2000)
    closing: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=2000)
    active: bool = True


class ScriptPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=80)
    queue_codes: list[str] | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=10)
    locale: str | None = Field(default=None, max_length=8)
    greeting: str | None = Field(default=None, max_length=2000)
    confirmation: str | None = Field(default=None, max_length=2000)
    closing: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=2000)
    active: bool | None = None

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class ScriptOut(BaseModel):
    id: int
    scenario: str
    name: str
    queue_codes: list[str]
    channel: str
    locale: str
    greeting: str
    confirmation: str
    closing: str
    notes: str
    active: bool
    version: int
    updated_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ScriptList(BaseModel):
    items: list[ScriptOut]
    total: int
