"""The regulator's clock of a complaint, as pure functions (no database, no I/O).

Rules (《银行业保险业消费投诉处理管理办法》 2020 and issue 6; the settings are ``complaint_*``):

* The count starts on the local day of acceptance and that day is not counted (民法典 第二百零一条).
* The decision is due ``complaint_decision_days`` (15) days later, in calendar days (the default) or in
  working days (``complaint_decision_unit = business``: Monday to Friday minus holidays plus make-up
  working days, :class:`kefu.core.calendar.WorkCalendar`).
* Calendar days: a last day that is not a working day moves to the next working day
  (民法典 第二百零三条; ``complaint_roll_to_workday``). Working days: the term ends on the n-th working day.
* A first extension (complex case) makes the term ``complaint_extension1_days`` (30) from the same start;
  a second one adds ``complaint_extension2_days`` (30). Only in that order, one step at a time.
* Time spent on outside appraisal or testing (第三方鉴定/检测) does not count: pause and resume; the days in
  between (in the case's unit) are added to the term.
* New facts or materials restart the count from the day they arrived, with a fresh 15-day term (also used
  when a case is reopened).
* ``due_at`` is the first instant of the day after ``due_date`` in local time, stored in UTC: the case is
  late from then on while the clock runs (a paused or stopped clock is never late).
* A paused clock's deadline on a given day is the one it would have if resumed that day (:func:`effective`):
  deciding while paused closes the pause first (:func:`stop`), so "on time" compares with that deadline.
* Breaches are kept per term: ``breached_at`` is never cleared; it records the latest breach. The current
  term has been escalated iff ``breached_at >= due_at`` (:func:`breach_recorded`): a breach happens at or
  after the due instant, and a term started later (restart, reopen) ends after the earlier breach, so it
  can breach (and be escalated) again. A restart back-dated so far that its term had ended by the time of
  the earlier breach continues that same lateness, already escalated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from kefu.complaints.models import ClockState, Complaint
from kefu.core.calendar import WorkCalendar

UNITS = ("calendar", "business")
COLOURS = ("not_started", "ok", "warning", "breached", "paused", "stopped")
_UNIT_WORDS = {"calendar": "calendar days", "business": "working days"}


@dataclass(frozen=True)
class Rules:
    accept_days: int
    accept_unit: str
    decision_days: int
    decision_unit: str
    ext1_days: int
    ext2_days: int
    roll_to_workday: bool
    warn_days: tuple[int, ...]  # largest first
    tz: str

    @classmethod
    def from_settings(cls, s: Any) -> Rules:
        return cls(
            accept_days=s.complaint_accept_days,
            accept_unit=s.complaint_accept_unit,
            decision_days=s.complaint_decision_days,
            decision_unit=s.complaint_decision_unit,
            ext1_days=s.complaint_extension1_days,
            ext2_days=s.complaint_extension2_days,
            roll_to_workday=s.complaint_roll_to_workday,
            warn_days=tuple(sorted({int(d) for d in s.complaint_warn_days}, reverse=True)),
            tz=s.timezone,
        )


@dataclass(frozen=True)
class ClockFields:
    """The clock columns of a case (see :class:`kefu.complaints.models.Complaint`)."""

    clock_unit: str
    clock_start: dt.date | None
    term_days: int
    extension_level: int
    paused_since: dt.date | None
    paused_days: int
    due_date: dt.date | None
    due_at: dt.datetime | None
    clock_state: str


_FIELDS = tuple(ClockFields.__dataclass_fields__)


def fields_of(c: Complaint) -> ClockFields:
    return ClockFields(**{name: getattr(c, name) for name in _FIELDS})


def apply(c: Complaint, f: ClockFields) -> None:
    for name in _FIELDS:
        setattr(c, name, getattr(f, name))


# ---- days --------------------------------------------------------------------------------------


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def local_day(at: dt.datetime, tz: str) -> dt.date:
    """The local calendar day of an instant (a naive instant is taken as UTC)."""
    return _aware(at).astimezone(ZoneInfo(tz)).date()


def day_end_utc(day: dt.date, tz: str) -> dt.datetime:
    """The first instant of the day after ``day`` in local time, in UTC (the end of ``day``)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"The clock counts calendar or business (working) days, not {unit!r}.")


def due_date(start: dt.date, days: int, unit: str, cal: WorkCalendar, *, roll: bool) -> dt.date:
    """The last day of a term of ``days`` counted after ``start`` (the start day itself is not counted).
    Calendar days: ``start + days``, moved to the next working day when ``roll`` and it is not one.
    Business days: the ``days``-th working day after ``start``."""
    _check_unit(unit)
    if days < 0:
        raise ValueError(f"A term cannot be {days} days long; it must be 0 days or more.")
    if unit == "calendar":
        day = start + dt.timedelta(days=days)
    else:
        day = cal.add_working_days(start, days)
    if roll and not cal.is_working_day(day):
        day = cal.next_working_day(day)
    return day


def accept_due(received_at: dt.datetime, rules: Rules, cal: WorkCalendar) -> dt.datetime:
    """The internal deadline for accepting or refusing a received complaint (end of the last day, UTC)."""
    received = local_day(received_at, rules.tz)
    last = due_date(received, rules.accept_days, rules.accept_unit, cal, roll=rules.roll_to_workday)
    return day_end_utc(last, rules.tz)


def _due(f: ClockFields, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """``f`` with due_date / due_at recomputed from start, term and paused days."""
    if f.clock_start is None:
        raise ValueError("The clock has not started yet: accept the complaint first.")
    last = due_date(f.clock_start, f.term_days + f.paused_days, f.clock_unit, cal, roll=rules.roll_to_workday)
    return replace(f, due_date=last, due_at=day_end_utc(last, rules.tz))


def _new_term(day: dt.date, rules: Rules, cal: WorkCalendar) -> ClockFields:
    _check_unit(rules.decision_unit)
    fresh = ClockFields(
        clock_unit=rules.decision_unit,
        clock_start=day,
        term_days=rules.decision_days,
        extension_level=0,
        paused_since=None,
        paused_days=0,
        due_date=None,
        due_at=None,
        clock_state=ClockState.RUNNING.value,
    )
    return _due(fresh, rules, cal)


# ---- changes -----------------------------------------------------------------------------------


def start(accepted_at: dt.datetime, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """Acceptance: the term of ``decision_days`` counts from the local day of acceptance (not counted)."""
    return _new_term(local_day(accepted_at, rules.tz), rules, cal)


def _require_started(f: ClockFields, doing: str) -> dt.date:
    if f.clock_state == ClockState.NOT_STARTED.value or f.clock_start is None:
        raise ValueError(f"The clock has not started yet: accept the complaint before you {doing}.")
    if f.clock_state == ClockState.STOPPED.value:
        raise ValueError(f"The clock has stopped (the case is decided or closed): you cannot {doing} now.")
    return f.clock_start


def extend(f: ClockFields, level: int, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """Level 1: the term becomes ``ext1_days`` from the same start. Level 2: ``ext2_days`` more.
    Raises ValueError, with a message a person can act on, when the step is not allowed."""
    _require_started(f, "extend the term")
    if level not in (1, 2):
        raise ValueError(f"An extension is level 1 (the first) or level 2 (the second), not {level}.")
    if f.extension_level >= 2:
        raise ValueError("Both extensions have been granted already; the rule allows no further extension.")
    if level == 1:
        if f.extension_level == 1:
            raise ValueError("The first extension has been granted already; ask for the second one (level 2).")
        if rules.ext1_days <= f.term_days:
            raise ValueError(
                f"The first extension ({rules.ext1_days} days) would not lengthen the current term of "
                f"{f.term_days} days; check the setting complaint_extension1_days."
            )
        return _due(replace(f, term_days=rules.ext1_days, extension_level=1), rules, cal)
    if f.extension_level == 0:
        raise ValueError("A second extension needs the first one first: ask for the first extension (level 1).")
    return _due(replace(f, term_days=f.term_days + rules.ext2_days, extension_level=2), rules, cal)


def pause(f: ClockFields, day: dt.date) -> ClockFields:
    """Outside appraisal or testing starts on ``day``: the clock stops counting until it is resumed."""
    started = _require_started(f, "pause the clock")
    if f.clock_state == ClockState.PAUSED.value:
        raise ValueError(f"The clock is already paused since {f.paused_since}; resume it first.")
    if day < started:
        raise ValueError(f"A pause cannot start on {day}, before the clock started on {started}.")
    return replace(f, paused_since=day, clock_state=ClockState.PAUSED.value)


def paused_length(since: dt.date, until: dt.date, unit: str, cal: WorkCalendar) -> int:
    """Days not counted for a pause from ``since`` to ``until`` (exclusive), in ``unit``."""
    _check_unit(unit)
    if unit == "calendar":
        return max((until - since).days, 0)
    return cal.working_days_between(since, until)


def resume(f: ClockFields, day: dt.date, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """The appraisal is back on ``day``: the days since the pause are added to the term."""
    if f.clock_state != ClockState.PAUSED.value or f.paused_since is None:
        raise ValueError(f"The clock is {f.clock_state.replace('_', ' ')}, not paused: there is nothing to resume.")
    if day < f.paused_since:
        raise ValueError(f"The clock cannot resume on {day}, before it was paused on {f.paused_since}.")
    extra = paused_length(f.paused_since, day, f.clock_unit, cal)
    running = replace(f, paused_since=None, paused_days=f.paused_days + extra, clock_state=ClockState.RUNNING.value)
    return _due(running, rules, cal)


def restart(f: ClockFields, day: dt.date, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """New facts or materials arrived on ``day`` (or the case is reopened that day): a fresh term of
    ``decision_days`` counts from ``day``; extensions and pauses of the old term are dropped."""
    if f.clock_start is None:
        raise ValueError("The clock has not started yet: accept the complaint first.")
    if day < f.clock_start:
        raise ValueError(f"The new count cannot start on {day}, before the current one started on {f.clock_start}.")
    return _new_term(day, rules, cal)


def effective(f: ClockFields, day: dt.date, rules: Rules, cal: WorkCalendar) -> ClockFields:
    """The clock as it stands on ``day``: a paused clock with its pause closed on ``day`` (the days paused so
    far added, due date recomputed); any other clock as it is. This is the deadline that decides whether
    something done on ``day`` is in time."""
    if f.clock_state != ClockState.PAUSED.value or f.paused_since is None:
        return f
    return resume(f, max(day, f.paused_since), rules, cal)


def late(f: ClockFields, now: dt.datetime, rules: Rules, cal: WorkCalendar) -> bool:
    """The current term has ended at ``now`` (now >= the effective due_at; a pause counts up to today)."""
    if f.clock_state not in (ClockState.RUNNING.value, ClockState.PAUSED.value):
        return False
    eff = effective(f, local_day(now, rules.tz), rules, cal)
    return eff.due_at is not None and _aware(now) >= _aware(eff.due_at)


def stop(
    f: ClockFields, *, day: dt.date | None = None, rules: Rules | None = None, cal: WorkCalendar | None = None
) -> ClockFields:
    """The case is decided (or merged, refused) on ``day``: the clock stops, keeping its due date for the
    record. A paused clock first has its pause closed on ``day`` (the days paused are not counted), so the
    due date kept is the effective one; ``day``, ``rules`` and ``cal`` are needed for that."""
    if f.clock_state == ClockState.PAUSED.value and f.paused_since is not None:
        if day is None or rules is None or cal is None:
            raise ValueError(
                "The clock is paused: give the day it stops (and the rules and calendar) to close the pause."
            )
        f = effective(f, day, rules, cal)
    return replace(f, paused_since=None, clock_state=ClockState.STOPPED.value)


# ---- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    state: str
    due_date: dt.date | None
    due_at: dt.datetime | None
    days_left: int | None  # calendar days from today to due_date, negative when late
    colour: str  # one of COLOURS
    extension_level: int
    paused_days: int
    term_days: int
    unit: str
    accept_due_at: dt.datetime | None


def breached(c: Complaint, *, now: dt.datetime) -> bool:
    """A running clock is late from the first instant after its due date (paused/stopped: never)."""
    return c.clock_state == ClockState.RUNNING.value and c.due_at is not None and _aware(now) >= _aware(c.due_at)


def breach_recorded(c: Complaint) -> bool:
    """The current term's breach has been recorded (and escalated): ``breached_at >= due_at``. A breach of an
    earlier term (before a restart or reopen) lies before the current term's end and does not count."""
    return c.breached_at is not None and c.due_at is not None and _aware(c.breached_at) >= _aware(c.due_at)


def _days_left(c: Complaint, now: dt.datetime, tz: str) -> int | None:
    if c.due_date is None or c.clock_state not in (ClockState.RUNNING.value, ClockState.PAUSED.value):
        return None
    return (c.due_date - local_day(now, tz)).days


def view(c: Complaint, *, now: dt.datetime, rules: Rules, cal: WorkCalendar) -> ClockView:
    """What a person sees of the clock; colour ``warning`` once days_left <= the largest warning day."""
    del cal  # the stored due date already follows the calendar; kept for a stable signature
    left = _days_left(c, now, rules.tz)
    state = c.clock_state
    if state == ClockState.RUNNING.value:
        if breached(c, now=now):
            colour = "breached"
        elif left is not None and rules.warn_days and left <= max(rules.warn_days):
            colour = "warning"
        else:
            colour = "ok"
    elif state in (ClockState.PAUSED.value, ClockState.STOPPED.value, ClockState.NOT_STARTED.value):
        colour = state
    else:
        colour = "not_started"
    return ClockView(
        state=state,
        due_date=c.due_date,
        due_at=c.due_at,
        days_left=left,
        colour=colour,
        extension_level=c.extension_level,
        paused_days=c.paused_days,
        term_days=c.term_days,
        unit=c.clock_unit,
        accept_due_at=c.accept_due_at,
    )


def warnings_due(c: Complaint, *, now: dt.datetime, rules: Rules) -> int:
    """How many of the warning thresholds a running clock has reached (0 .. len(warn_days)): the sweep
    sends one warning for each threshold above the case's ``warned_level``."""
    if c.clock_state != ClockState.RUNNING.value:
        return 0
    left = _days_left(c, now, rules.tz)
    if left is None:
        return 0
    return sum(1 for d in rules.warn_days if left <= d)


def describe_unit(unit: str) -> str:
    """``calendar days`` or ``working days`` (English, for messages and logs)."""
    return _UNIT_WORDS.get(unit, unit)
