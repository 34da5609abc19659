"""HTTP endpoints of the business-day calendar (public holidays and make-up working days):
GET /api/v1/calendar/days (any signed-in staff), PUT and DELETE /api/v1/calendar/days/{day}
(``calendar.manage``). The complaints clock, appointments and every other working-day rule read it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.core import calendar
from kefu.core.auth import DbSession, Principal, require
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

Reader = Annotated[Principal, require(Permission.SELF_READ)]
Manager = Annotated[Principal, require(Permission.CALENDAR_MANAGE)]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="only this year, e.g. 2026")]


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["holiday", "workday"] = Field(
        description="holiday: a day off (放假); workday: a Saturday or Sunday worked instead (调休上班)"
    )
    name: str = Field(default="", max_length=calendar.NAME_MAX, description="e.g. 国庆节 or 国庆节调休上班")


class CalendarDayOut(BaseModel):
    day: dt.date
    kind: str
    name: str
    weekday: int = Field(description="1 = Monday … 7 = Sunday")
    updated_at: dt.datetime


def day_out(row: calendar.CalendarDay) -> dict[str, Any]:
    return {"day": row.day, "kind": row.kind, "name": row.name, "weekday": row.day.isoweekday(),
            "updated_at": row.updated_at}  # fmt: skip


@router.get("/days", response_model=list[CalendarDayOut])
async def list_days(db: DbSession, principal: Reader, year: Year = None) -> list[dict[str, Any]]:
    """Holidays and make-up working days, by day (all years, or one). Days not listed follow the weekday
    rule: Monday to Friday work, Saturday and Sunday off."""
    return [day_out(r) for r in await calendar.list_days(db, year=year)]


@router.put("/days/{day}", response_model=CalendarDayOut)
async def set_day(day: dt.date, body: CalendarDayIn, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Add or change the entry of one day (audited). Due dates already set are not recomputed."""
    return day_out(await calendar.set_day(db, day=day, kind=body.kind, name=body.name))


@router.delete("/days/{day}", status_code=204)
async def delete_day(day: dt.date, db: DbSession, principal: Manager) -> Response:
    """Remove the entry of one day: it follows the weekday rule again (audited)."""
    await calendar.delete_day(db, day=day)
    return Response(status_code=204)
