"""Request and response models of the agent desk, the monitor and the CTI API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

_DIGITS = r"^[0-9*#+\- ]{1,32}$"
IvrChoice = Annotated[str, Field(pattern=r"^[0-9*#]{1,8}$")]


class CtiEvent(BaseModel):
    """One telephony event. ``call_id`` is the PBX's id of the call (Asterisk Uniqueid / FreeSWITCH UUID)."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["call.new", "call.answered", "call.held", "call.resumed", "call.transferred", "call.hangup"]
    call_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:@\-]+$")
    caller: str | None = Field(default=None, pattern=_DIGITS, description="caller's number (call.new)")
    dialled: str | None = Field(default=None, pattern=_DIGITS, description="number the caller dialled (call.new)")
    ivr: list[IvrChoice] = Field(
        default_factory=list, max_length=10, description="IVR menu choices in order (call.new)"
    )
    customer_hint: str | None = Field(
        default=None, max_length=20, description="customer number if the IVR identified them"
    )
    extension: str | None = Field(default=None, max_length=20, description="agent extension (answered, transferred)")
    queue: str | None = Field(default=None, max_length=40, description="target queue (call.transferred)")
    mode: Literal["blind", "consult"] = "blind"
    by: Literal["caller", "agent", "system"] = "caller"


class CtiAnswer(BaseModel):
    call_id: str | None
    contact_id: int
    status: str
    action: Literal["route", "queue", "reject"] | None = None
    queue: str | None = None
    extension: str | None = None
    reason: str | None = None
    ok: bool | None = None


class SimulatedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caller: str | None = Field(default=None, pattern=_DIGITS)
    dialled: str | None = Field(default="400-000-0000", pattern=_DIGITS)
    ivr: list[IvrChoice] = Field(default_factory=list, max_length=10)
    customer_no: str | None = Field(default=None, max_length=20)


class SimulatedHangup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=80)


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["ready", "not_ready", "logged_out"]
    reason: str | None = Field(default=None, max_length=40)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(default=None, max_length=40)
    staff_no: str | None = Field(default=None, max_length=20)
    mode: Literal["blind", "consult"] = "blind"


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: dt.datetime
    queue: str | None = Field(default=None, max_length=40)
    to_self: bool = True


class AgentOut(BaseModel):
    agent_id: int
    presence: str
    reason: str | None
    since: dt.datetime
    contact_id: int | None
