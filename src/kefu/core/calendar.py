"""The one business-day calendar (convention 7): weekends, public holidays and make-up working days
(调休上班). China's holidays are announced each year by the State Council, so they are data, not
code: rows of ``calendar_days`` (seeded from ``data/calendar/cn.json``, edited by supervisors),
plus the ``banking_holidays`` / ``banking_extra_workdays`` settings.

A day is a working day when it is a make-up working day (``workday`` wins), else when it is Monday to
Friday and not a holiday. :class:`WorkCalendar` answers that without I/O; :func:`load` builds one from the
database and the settings, :meth:`WorkCalendar.from_settings` from the settings alone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Date, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core import audit, clock
from kefu.core.db import Base, IdPk, UTCDateTime
from kefu.core.errors import NotFound, ValidationFailed

#: The State Council holiday notices shipped with the project (``kefu calendar seed``).
DEFAULT_PATH = Path(__file__).resolve().parents[3] / "data" / "calendar" / "cn.json"
KINDS = ("holiday", "workday")
NAME_MAX = 60
#: Days looked at before giving up on finding a working day (a calendar without any is a data error).
_SEARCH_LIMIT = 3 * 366
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarDay(Base):
    """A day that differs from the weekday rule: a holiday on a weekday, or a working Saturday/Sunday."""

    __tablename__ = "calendar_days"

    id: Mapped[IdPk]
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(60), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday to Friday minus ``holidays``, plus ``workdays`` (make-up working days win).
    ``known_years``: the years whose official calendar has been entered (see :meth:`knows`)."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    known_years: frozenset[int] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        for offset in range(_SEARCH_LIMIT):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_LIMIT} days after {day.isoformat()}; check the calendar")

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted); ``n`` = 0 gives ``start``."""
        if n < 0:
            raise ValueError(f"cannot count {n} working days: the number of days must be 0 or more")
        day, counted, looked = start, 0, 0
        while counted < n:
            day += dt.timedelta(days=1)
            looked += 1
            if self.is_working_day(day):
                counted, looked = counted + 1, 0
            elif looked > _SEARCH_LIMIT:
                raise ValueError(f"no working day within {_SEARCH_LIMIT} days after {day.isoformat()}")
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """How many working days ``d`` have ``a <= d < b`` (0 when ``b <= a``)."""
        return sum(1 for i in range(max((b - a).days, 0)) if self.is_working_day(a + dt.timedelta(days=i)))

    def knows(self, year: int) -> bool:
        """Whether the official holidays of ``year`` have been entered (else only weekends are known)."""
        return year in self.known_years

    @classmethod
    def from_settings(cls, settings: Any) -> WorkCalendar:
        """The calendar of the ``banking_holidays`` / ``banking_extra_workdays`` settings alone (no database);
        ``known_years`` are the years those settings mention."""
        holidays = frozenset(_dates(getattr(settings, "banking_holidays", None) or ()))
        workdays = frozenset(_dates(getattr(settings, "banking_extra_workdays", None) or ()))
        return cls(holidays, workdays, frozenset(d.year for d in holidays | workdays))


def _dates(values: Any) -> list[dt.date]:
    return [v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in values]


async def load(session: AsyncSession, settings: Any) -> WorkCalendar:
    """The calendar of the ``calendar_days`` rows together with the settings; ``known_years`` = the years
    that have at least one row in the database."""
    base = WorkCalendar.from_settings(settings)
    rows = (await session.execute(select(CalendarDay.day, CalendarDay.kind))).all()
    holidays = {day for day, kind in rows if kind == "holiday"}
    workdays = {day for day, kind in rows if kind == "workday"}
    return WorkCalendar(base.holidays | holidays, base.workdays | workdays, frozenset(day.year for day, _ in rows))


async def list_days(session: AsyncSession, *, year: int | None = None) -> list[CalendarDay]:
    stmt = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        stmt = stmt.where(CalendarDay.day >= dt.date(year, 1, 1), CalendarDay.day < dt.date(year + 1, 1, 1))
    return list((await session.execute(stmt)).scalars())


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _view(row: CalendarDay | None) -> dict[str, Any] | None:
    return None if row is None else {"day": row.day.isoformat(), "kind": row.kind, "name": row.name}


async def _get(session: AsyncSession, day: dt.date) -> CalendarDay | None:
    return (await session.execute(select(CalendarDay).where(CalendarDay.day == day))).scalar_one_or_none()


def check_day(day: dt.date, kind: str, name: str | None) -> str:
    """Validate one calendar entry; returns the cleaned name. Raises ValidationFailed naming the field."""
    if kind not in KINDS:
        raise _invalid("kind", f"Choose holiday (a day off) or workday (a make-up working day), not {kind!r}.")
    if not 2000 <= day.year <= 2100:
        raise _invalid("day", "Choose a day between the years 2000 and 2100.")
    if kind == "workday" and day.weekday() < 5:
        raise _invalid(
            "kind",
            f"{day.isoformat()} is a {_WEEKDAYS[day.weekday()]}, a working day already; a make-up working day "
            "is a Saturday or Sunday. To make a holiday a working day again, delete the holiday.",
        )
    clean = (name or "").strip()
    if len(clean) > NAME_MAX:
        raise _invalid("name", f"Write at most {NAME_MAX} characters.")
    return clean


async def set_day(session: AsyncSession, *, day: dt.date, kind: str, name: str | None) -> CalendarDay:
    """Add or change the entry of ``day`` (audited as calendar.set)."""
    clean = check_day(day, kind, name)
    row = await _get(session, day)
    before = _view(row)
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=clean, updated_at=clock.now())
        session.add(row)
    else:
        row.kind, row.name, row.updated_at = kind, clean, clock.now()
    await session.flush()
    await audit.record(
        session, action="calendar.set", object_type="calendar_day", object_id=day.isoformat(),
        before=before, after=_view(row),
    )  # fmt: skip
    return row


async def delete_day(session: AsyncSession, *, day: dt.date) -> None:
    """Remove the entry of ``day``, which becomes an ordinary weekday or weekend day (audited)."""
    row = await _get(session, day)
    if row is None:
        raise NotFound(f"{day.isoformat()} has no calendar entry; it already follows the weekday rule.")
    before = _view(row)
    await session.delete(row)
    await session.flush()
    await audit.record(
        session, action="calendar.delete", object_type="calendar_day", object_id=day.isoformat(), before=before
    )


def read_defaults(path: Path = DEFAULT_PATH) -> list[tuple[dt.date, str, str]]:
    """(day, kind, name) of every entry in a calendar file shaped like ``data/calendar/cn.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out: list[tuple[dt.date, str, str]] = []
    for year, entry in sorted(data.items()):
        for key, kind in (("holidays", "holiday"), ("workdays", "workday")):
            for iso, name in sorted((entry.get(key) or {}).items()):
                day = dt.date.fromisoformat(iso)
                if str(day.year) != year:
                    raise ValueError(f"{path.name}: {iso} is listed under {year}")
                out.append((day, kind, check_day(day, kind, name)))
    return out


def file_calendar(path: Path = DEFAULT_PATH) -> WorkCalendar:
    """The calendar of a file alone (no database, no settings): for tools and tests."""
    entries = read_defaults(path)
    return WorkCalendar(
        frozenset(d for d, kind, _ in entries if kind == "holiday"),
        frozenset(d for d, kind, _ in entries if kind == "workday"),
        frozenset(d.year for d, _, _ in entries),
    )


async def seed_defaults(session: AsyncSession, path: Path = DEFAULT_PATH) -> int:
    """Add the entries of ``path`` whose day has no row yet (edited days are kept); returns rows added.
    Running it again adds nothing."""
    existing = set((await session.execute(select(CalendarDay.day))).scalars())
    now = clock.now()
    added = [
        CalendarDay(day=day, kind=kind, name=name, updated_at=now)
        for day, kind, name in read_defaults(path)
        if day not in existing
    ]
    session.add_all(added)
    await session.flush()
    if added:
        years = sorted({row.day.year for row in added})
        await audit.record(
            session, action="calendar.seed", object_type="calendar_day", object_id=path.name,
            after={"added": len(added), "years": years},
        )  # fmt: skip
    return len(added)
