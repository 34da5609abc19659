"""Reporting periods of the complaint statistics: ISO weeks (Monday–Sunday), calendar months and custom
ranges of local days, their half-open UTC bounds, the previous / following period, and reading ``at``
(``2026-11-23``, ``2026-11``, ``2026-W48``). Re-exported by ``kefu.complaints.stats``."""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("week", "month", "custom")
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_CUSTOM_DAYS = 366
AT_HELP = "Write the day as 2026-11-23, the month as 2026-11 or the ISO week as 2026-W48."
_AT = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$|^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    kind: str  # week | month | custom
    start: dt.date
    end: dt.date  # inclusive, local days

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def bounds(self, tz: str) -> tuple[dt.datetime, dt.datetime]:
        """Half-open UTC bounds: the first instant of ``start`` to the first instant after ``end``."""
        return day_start_utc(self.start, tz), day_start_utc(self.end + dt.timedelta(days=1), tz)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "days": self.days}  # fmt: skip


def day_start_utc(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def local_day(at: dt.datetime, tz: str) -> dt.date:
    return at.astimezone(ZoneInfo(tz)).date()


def _check_year(day: dt.date) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(f"Choose a day between {MIN_YEAR} and {MAX_YEAR}.")


def period_for(kind: str, at: dt.date) -> Period:
    """The ISO week (Monday..Sunday) or calendar month holding ``at``."""
    _check_year(at)
    if kind == "week":
        start = at - dt.timedelta(days=at.weekday())
        return Period("week", start, start + dt.timedelta(days=6))
    if kind == "month":
        return Period("month", at.replace(day=1), at.replace(day=pycal.monthrange(at.year, at.month)[1]))
    raise ValueError("Choose the period week or month (or give a start and an end day).")


def custom_period(start: dt.date, end: dt.date) -> Period:
    _check_year(start)
    _check_year(end)
    if end < start:
        raise ValueError("The end day must not be before the start day.")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError(f"Choose at most {MAX_CUSTOM_DAYS} days.")
    return Period("custom", start, end)


def previous(p: Period) -> Period:
    """The period just before: the previous ISO week, calendar month, or as many days."""
    if p.kind == "month":
        return period_for("month", p.start - dt.timedelta(days=1))
    n = dt.timedelta(days=p.days)
    return Period(p.kind, p.start - n, p.end - n)


def following(p: Period) -> Period:
    if p.kind == "month":
        return period_for("month", p.end + dt.timedelta(days=1))
    n = dt.timedelta(days=p.days)
    return Period(p.kind, p.start + n, p.end + n)


def parse_at(value: str | None, *, today: dt.date) -> dt.date:
    """``2026-11-23``, ``2026-11`` (its first day), ``2026-W48`` (its Monday); empty = today."""
    text = (value or "").strip()
    if not text:
        return today
    m = _AT.match(text)
    try:
        if m is None:
            raise ValueError(AT_HELP)
        if m.group(4):
            day = dt.date.fromisocalendar(int(m.group(4)), int(m.group(5)), 1)
        else:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise ValueError(AT_HELP) from None
    _check_year(day)
    return day
