"""Account-opening appointments at a branch: a working day, in the future, inside opening hours.

Working days are Monday to Friday, minus ``banking_holidays``, plus ``banking_extra_workdays`` (the
adjusted working weekends of the Chinese calendar), as :meth:`kefu.core.calendar.WorkCalendar.from_settings`
decides: the one business-day calendar (convention 7).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import operations
from kefu.banking.models import Appointment
from kefu.core import clock, runtime
from kefu.core.auth import Principal
from kefu.core.calendar import WorkCalendar
from kefu.core.config import Settings
from kefu.core.errors import Conflict

OPERATION = "appointment"
SLOT_MINUTES = 30
MAX_DAYS_AHEAD = 60
ACCOUNT_TYPES = ("savings", "current", "credit_card")


def branches(settings: Settings) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in settings.banking_branches.split(","):
        code, _, name = part.strip().partition(":")
        if code:
            out[code.strip()] = name.strip() or code.strip()
    return out


def is_working_day(day: dt.date, settings: Settings) -> bool:
    return WorkCalendar.from_settings(settings).is_working_day(day)


def _hours(settings: Settings) -> tuple[dt.time, dt.time]:
    start, end = settings.banking_branch_hours.split("-")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def validate_slot(*, branch_code: str, day: dt.date, time: str, account_type: str) -> dt.datetime:
    """The appointment's start in UTC, or a 422 naming the field and what would be accepted."""
    settings = runtime.get().settings
    known = branches(settings)
    if branch_code not in known:
        raise operations.field_error("branch_code", f"unknown branch; choose one of {', '.join(sorted(known))}")
    if account_type not in ACCOUNT_TYPES:
        raise operations.field_error("account_type", f"one of {', '.join(ACCOUNT_TYPES)}")
    try:
        at = dt.time.fromisoformat(time)
    except ValueError as exc:
        raise operations.field_error("time", "write the time as HH:MM, e.g. 10:30") from exc
    opens, closes = _hours(settings)
    if not opens <= at < closes or at.minute % SLOT_MINUTES or at.second:
        raise operations.field_error(
            "time",
            f"branches take appointments every {SLOT_MINUTES} minutes from {opens:%H:%M} to before {closes:%H:%M}",
        )
    tz = ZoneInfo(settings.timezone)
    today = clock.now().astimezone(tz).date()
    if not is_working_day(day, settings):
        raise operations.field_error(
            "date", f"{day.isoformat()} is not a working day; choose a weekday that is not a holiday"
        )
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise operations.field_error("date", f"appointments can be made up to {MAX_DAYS_AHEAD} days ahead")
    starts = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
    if starts <= clock.now():
        raise operations.field_error("date", "the appointment must be in the future")
    return starts


async def book(
    session: AsyncSession,
    *,
    actor: Principal,
    customer_id: int,
    verification_id: int,
    branch_code: str,
    day: dt.date,
    time: str,
    account_type: str,
    confirmation_token: str | None,
) -> dict[str, Any]:
    core = await operations.get_core(session)
    verification = await operations.check_verification(
        session, actor=actor, verification_id=verification_id, customer_id=customer_id, operation=OPERATION
    )
    starts = validate_slot(branch_code=branch_code, day=day, time=time, account_type=account_type)
    clash = (
        await session.execute(
            select(Appointment.id).where(
                Appointment.customer_id == customer_id, Appointment.starts_at == starts, Appointment.status == "booked"
            )
        )
    ).first()
    if clash is not None:
        raise Conflict("The customer already has an appointment at that time.", extra={"errors": [{"field": "time"}]})
    name = branches(runtime.get().settings)[branch_code]
    params = {"customer_id": customer_id, "branch_code": branch_code, "starts_at": starts.isoformat(),
              "account_type": account_type}  # fmt: skip
    local = starts.astimezone(ZoneInfo(runtime.get().settings.timezone))
    read_back = f"Account opening ({account_type}) at {name} on {local:%Y-%m-%d %H:%M}; bring the ID document."
    if confirmation_token is None:
        token, expires = operations.issue_confirmation(
            operation=OPERATION, actor=actor, verification_id=verification_id, params=params
        )
        return {"status": "preview", "operation": OPERATION, "branch": name, "starts_at": starts,
                "account_type": account_type, "read_back": read_back, "confirmation_token": token,
                "expires_at": expires}  # fmt: skip
    operations.check_confirmation(confirmation_token, operation=OPERATION, actor=actor,
                                  verification_id=verification_id, params=params)  # fmt: skip
    appt = await core.book_appointment(session, customer_id=customer_id, branch_code=branch_code, starts_at=starts,
                                       account_type=account_type, staff_id=actor.staff_id)  # fmt: skip
    result = {"status": "done", "appointment_id": appt.id, "branch_code": branch_code, "branch": name,
              "starts_at": starts, "account_type": account_type, "read_back": read_back}  # fmt: skip
    await operations.journal(session, operation=OPERATION, customer_id=customer_id, actor=actor,
                             verification=verification, params=params, result=result)  # fmt: skip
    return result


async def of_customer(session: AsyncSession, *, customer_id: int) -> list[dict[str, Any]]:
    rows = (
        (
            await session.execute(
                select(Appointment).where(Appointment.customer_id == customer_id).order_by(Appointment.starts_at)
            )
        )
        .scalars()
        .all()
    )
    names = branches(runtime.get().settings)
    return [{"id": a.id, "branch_code": a.branch_code, "branch": names.get(a.branch_code, a.branch_code),
             "starts_at": a.starts_at, "account_type": a.account_type, "status": a.status} for a in rows]  # fmt: skip
