"""The regulator's clock as pure functions (kefu.complaints.clock): no database, no wall clock.

Calendar: the State Council notices of data/calendar/cn.json (2025, 2026). Expected dates are worked
out by hand in each docstring; the rules are those of 《银行业保险业消费投诉处理管理办法》 (2020, "办法"),
the 民法典 on counting periods, and issue 6.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.complaints import clock
from kefu.complaints.models import Complaint
from kefu.core.calendar import WorkCalendar, file_calendar
from kefu.core.config import Settings

D = dt.date
CN = file_calendar()
TZ = "Asia/Shanghai"
RULES = clock.Rules(
    accept_days=5, accept_unit="business", decision_days=15, decision_unit="calendar", ext1_days=30,
    ext2_days=30, roll_to_workday=True, warn_days=(3, 1), tz=TZ,
)  # fmt: skip
BUSINESS = replace(RULES, decision_unit="business")
NO_ROLL = replace(RULES, roll_to_workday=False)


def at_local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time as an aware UTC instant (UTC+8, no daylight saving)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(hours=8)


def started(day: dt.date, rules: clock.Rules = RULES) -> clock.ClockFields:
    return clock.start(at_local(day), rules, CN)


def case(f: clock.ClockFields, **extra: object) -> Complaint:
    c = Complaint(**{"accept_due_at": None, **extra})
    clock.apply(c, f)
    return c


# ---- settings and days ---------------------------------------------------------------------------


def test_rules_from_settings_defaults() -> None:
    """办法 / issue 6: 15 days to decide, first extension to 30, second +30; calendar days by default,
    a last day off rolls to the next working day; warnings 3 and 1 days before (internal rule)."""
    r = clock.Rules.from_settings(Settings(complaint_warn_days="1,3"))  # type: ignore[arg-type]
    assert (r.decision_days, r.decision_unit, r.ext1_days, r.ext2_days) == (15, "calendar", 30, 30)
    assert (r.accept_days, r.accept_unit, r.roll_to_workday, r.warn_days, r.tz) == (
        5, "business", True, (3, 1), "Asia/Shanghai",
    )  # fmt: skip


def test_local_day_and_day_end() -> None:
    """Days are local (Asia/Shanghai); a term ends with its last local day: due_at is the first instant of
    the next local day, stored in UTC (2026-12-09 00:00 +08:00 = 2026-12-08 16:00 UTC)."""
    assert clock.local_day(dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC), TZ) == D(2026, 11, 23)
    assert clock.local_day(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC), TZ) == D(2026, 11, 24)
    naive = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC).replace(tzinfo=None)
    assert clock.local_day(naive, TZ) == D(2026, 11, 24)  # naive = UTC
    assert clock.day_end_utc(D(2026, 12, 8), TZ) == dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)


# ---- the 15-day term -----------------------------------------------------------------------------


def test_decision_due_15_days_after_acceptance_start_day_not_counted() -> None:
    """办法 第十七条 / issue 6: decision within 15 days of acceptance; 民法典 第二百零一条: the day of
    acceptance is not counted. Accepted Mon 2026-11-23 → day 1 is 11-24 → day 15 is Tue 2026-12-08."""
    f = started(D(2026, 11, 23))
    assert f.clock_start == D(2026, 11, 23)
    assert (f.term_days, f.extension_level, f.paused_days, f.clock_unit) == (15, 0, 0, "calendar")
    assert f.due_date == D(2026, 12, 8)
    assert f.due_at == dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)
    assert f.clock_state == "running"


def test_start_day_is_the_local_day_of_acceptance() -> None:
    """民法典 第二百零一条 with local days: accepted 23:30 in Shanghai counts from that day; accepted 00:30
    the next morning (still 11-23 in UTC) counts from the next day."""
    assert clock.start(at_local(D(2026, 11, 23), 23, 30), RULES, CN).due_date == D(2026, 12, 8)
    late = dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC)  # 2026-11-24 00:30 local
    assert clock.start(late, RULES, CN).clock_start == D(2026, 11, 24)
    assert clock.start(late, RULES, CN).due_date == D(2026, 12, 9)


def test_last_day_on_national_day_holiday_rolls_to_next_working_day() -> None:
    """民法典 第二百零三条: a period whose last day is a statutory holiday ends on the first day after the
    holiday. Accepted 2026-09-16 + 15 = 10-01 (国庆 10/1–10/7) → Thu 2026-10-08."""
    assert started(D(2026, 9, 16)).due_date == D(2026, 10, 8)


def test_without_roll_the_last_day_stays_on_the_holiday() -> None:
    """complaint_roll_to_workday = false (the bank's choice to be stricter than 民法典 第二百零三条):
    2026-09-16 + 15 = 2026-10-01 stays."""
    assert started(D(2026, 9, 16), NO_ROLL).due_date == D(2026, 10, 1)


def test_last_day_on_a_weekend_rolls_to_monday() -> None:
    """民法典 第二百零三条 (rest days too): Fri 2026-11-13 + 15 = Sat 11-28 → Mon 2026-11-30."""
    assert started(D(2026, 11, 13)).due_date == D(2026, 11, 30)


def test_last_day_on_a_make_up_working_saturday_stays() -> None:
    """Make-up working days (调休上班) are working days: 2026-09-25 (中秋, accepted on a holiday) + 15 =
    Sat 2026-10-10, a working Saturday in the 2026 notice, so it does not roll."""
    assert started(D(2026, 9, 25)).due_date == D(2026, 10, 10)


def test_last_day_in_spring_festival_rolls_past_the_whole_holiday() -> None:
    """民法典 第二百零三条: Sat 2026-01-31 + 15 = 02-15, first day of 春节 (2/15–2/23) → Tue 2026-02-24."""
    assert started(D(2026, 1, 31)).due_date == D(2026, 2, 24)


def test_business_days_across_national_day_count_the_make_up_saturday() -> None:
    """Issue 6 (business-day unit): working days are Mon–Fri minus holidays plus make-up working days.
    Accepted Wed 2026-09-30: 10/1–10/7 off; 10/8 (1), 10/9 (2), Sat 10/10 make-up (3), 10/12–16 (4–8),
    10/19–23 (9–13), 10/26 (14), Tue 10/27 (15)."""
    f = started(D(2026, 9, 30), BUSINESS)
    assert f.clock_unit == "business"
    assert f.due_date == D(2026, 10, 27)
    without_make_up = WorkCalendar(CN.holidays, CN.workdays - {D(2026, 10, 10)}, CN.known_years)
    assert clock.due_date(D(2026, 9, 30), 15, "business", without_make_up, roll=True) == D(2026, 10, 28)


def test_business_days_in_2025_national_day() -> None:
    """2025 notice: 国庆+中秋 10/1–10/8 off, Sun 9/28 and Sat 10/11 worked. Fri 2025-09-26 + 5 working days:
    Sun 9/28 (1), 9/29 (2), 9/30 (3), 10/9 (4), 10/10 (5)."""
    assert clock.due_date(D(2025, 9, 26), 5, "business", CN, roll=True) == D(2025, 10, 10)


def test_business_days_ordinary_weeks() -> None:
    """Business-day unit: Mon 2026-11-23 + 15 working days = Mon 2026-12-14 (weekends skipped)."""
    assert started(D(2026, 11, 23), BUSINESS).due_date == D(2026, 12, 14)


def test_due_date_rejects_bad_input() -> None:
    """Misuse is refused with a message naming what is allowed."""
    with pytest.raises(ValueError, match="calendar or business"):
        clock.due_date(D(2026, 1, 5), 15, "lunar", CN, roll=True)
    with pytest.raises(ValueError, match="0 days or more"):
        clock.due_date(D(2026, 1, 5), -1, "calendar", CN, roll=True)


# ---- acceptance deadline -------------------------------------------------------------------------


def test_accept_due_in_working_days() -> None:
    """Internal rule (issue 6): accept within complaint_accept_days (5) working days of receipt. Received
    Fri 2026-11-20 20:00 → 11/23–11/27 → due at the end of Fri 11-27 (16:00 UTC)."""
    assert clock.accept_due(at_local(D(2026, 11, 20), 20), RULES, CN) == dt.datetime(2026, 11, 27, 16, tzinfo=dt.UTC)


def test_accept_due_across_national_day() -> None:
    """Accept deadline with holidays and a make-up day: received Tue 2026-09-29 → 9/30 (1), 10/8 (2), 10/9 (3),
    Sat 10/10 (4), Mon 10/12 (5)."""
    assert clock.accept_due(at_local(D(2026, 9, 29)), RULES, CN) == clock.day_end_utc(D(2026, 10, 12), TZ)


# ---- extensions ----------------------------------------------------------------------------------


def test_first_extension_makes_the_term_30_days_from_the_same_start() -> None:
    """办法 第十七条 / issue 6: complex cases may be extended to 30 days (approved by the head of complaint
    handling). Accepted 2026-11-23 → due 2026-12-23, counted from the same start."""
    f = clock.extend(started(D(2026, 11, 23)), 1, RULES, CN)
    assert (f.clock_start, f.term_days, f.extension_level) == (D(2026, 11, 23), 30, 1)
    assert f.due_date == D(2026, 12, 23)
    assert f.due_at == clock.day_end_utc(D(2026, 12, 23), TZ)


def test_second_extension_adds_30_days_and_rolls_past_labour_day() -> None:
    """办法 / issue 6: a further 30 days with a senior manager's approval; 民法典 第二百零三条 for the last
    day. Accepted Mon 2026-03-02: 15 days → 3-17; level 1 → 4-01; level 2 (60 days) → 5-01, 劳动节
    (5/1–5/5) → Wed 2026-05-06."""
    f0 = started(D(2026, 3, 2))
    f1 = clock.extend(f0, 1, RULES, CN)
    f2 = clock.extend(f1, 2, RULES, CN)
    assert (f0.due_date, f1.due_date, f2.due_date) == (D(2026, 3, 17), D(2026, 4, 1), D(2026, 5, 6))
    assert (f2.term_days, f2.extension_level) == (60, 2)


def test_second_extension_needs_the_first() -> None:
    """办法 / issue 6: the further 30 days come after the first extension, never instead of it."""
    with pytest.raises(ValueError, match="A second extension needs the first one first"):
        clock.extend(started(D(2026, 11, 23)), 2, RULES, CN)


def test_no_extension_twice_at_the_same_level_nor_a_third() -> None:
    """办法 / issue 6: one first and one further extension at most."""
    f1 = clock.extend(started(D(2026, 11, 23)), 1, RULES, CN)
    with pytest.raises(ValueError, match="first extension has been granted already"):
        clock.extend(f1, 1, RULES, CN)
    f2 = clock.extend(f1, 2, RULES, CN)
    for level in (1, 2):
        with pytest.raises(ValueError, match="Both extensions have been granted"):
            clock.extend(f2, level, RULES, CN)
    with pytest.raises(ValueError, match="level 1 .* or level 2"):
        clock.extend(f1, 3, RULES, CN)


def test_extension_needs_a_running_or_paused_clock() -> None:
    """Issue 6: extensions apply to a case being handled: not before acceptance, not after the decision."""
    not_started = clock.ClockFields("calendar", None, 15, 0, None, 0, None, None, "not_started")
    with pytest.raises(ValueError, match="accept the complaint"):
        clock.extend(not_started, 1, RULES, CN)
    with pytest.raises(ValueError, match="has stopped"):
        clock.extend(clock.stop(started(D(2026, 11, 23))), 1, RULES, CN)


def test_extension_that_would_not_lengthen_the_term_is_refused() -> None:
    """Configuration guard: complaint_extension1_days must exceed the current term."""
    with pytest.raises(ValueError, match="would not lengthen"):
        clock.extend(started(D(2026, 11, 23)), 1, replace(RULES, ext1_days=15), CN)


def test_extension_while_paused_keeps_the_pause() -> None:
    """Appraisal time not counted + extension: extending during a pause keeps the clock paused; the pause
    is added when it ends. Accepted 11-23, paused 11-25, extended (→ 12-23), resumed 11-30 (5 days) → 12-28."""
    f = clock.pause(started(D(2026, 11, 23)), D(2026, 11, 25))
    f = clock.extend(f, 1, RULES, CN)
    assert (f.clock_state, f.due_date) == ("paused", D(2026, 12, 23))
    assert clock.resume(f, D(2026, 11, 30), RULES, CN).due_date == D(2026, 12, 28)


def test_extension_in_business_days() -> None:
    """Business-day unit: the first extension makes the term 30 working days. Mon 2026-11-23 + 30 working
    days = 6 weeks = Mon 2027-01-04 (no 2027 notice loaded: 2027-01-01 counts as a Friday)."""
    f = clock.extend(started(D(2026, 11, 23), BUSINESS), 1, BUSINESS, CN)
    assert f.due_date == D(2027, 1, 4)
    assert not CN.knows(2027)


# ---- pauses (outside appraisal / testing) --------------------------------------------------------


def test_pause_for_appraisal_is_not_counted_calendar_days() -> None:
    """办法 / issue 6: time spent on outside appraisal or testing (第三方鉴定/检测) does not count.
    Accepted 11-23 (due 12-08), paused 11-25, resumed 12-02: 7 days → due Tue 2026-12-15."""
    f = clock.pause(started(D(2026, 11, 23)), D(2026, 11, 25))
    assert (f.clock_state, f.paused_since, f.due_date) == ("paused", D(2026, 11, 25), D(2026, 12, 8))
    r = clock.resume(f, D(2026, 12, 2), RULES, CN)
    assert (r.clock_state, r.paused_since, r.paused_days) == ("running", None, 7)
    assert r.due_date == D(2026, 12, 15)
    assert r.due_at == clock.day_end_utc(D(2026, 12, 15), TZ)


def test_pause_for_appraisal_business_days() -> None:
    """Appraisal not counted, business-day unit: working days in [pause day, resume day). Due Mon 12-14;
    paused Fri 11-27, resumed Mon 11-30 → 1 working day (11-27) → Tue 2026-12-15."""
    f = clock.pause(started(D(2026, 11, 23), BUSINESS), D(2026, 11, 27))
    r = clock.resume(f, D(2026, 11, 30), BUSINESS, CN)
    assert (r.paused_days, r.due_date) == (1, D(2026, 12, 15))


def test_pauses_add_up_and_same_day_resume_counts_nothing() -> None:
    """Appraisal time not counted, twice: 3 days + 2 days = 5 → 12-08 + 5 = Sun 12-13 → rolls to Mon 12-14
    (民法典 第二百零三条). A pause resumed the same day adds nothing."""
    f = clock.resume(clock.pause(started(D(2026, 11, 23)), D(2026, 11, 24)), D(2026, 11, 27), RULES, CN)
    f = clock.resume(clock.pause(f, D(2026, 12, 1)), D(2026, 12, 3), RULES, CN)
    assert (f.paused_days, f.due_date) == (5, D(2026, 12, 14))
    same = clock.resume(clock.pause(f, D(2026, 12, 4)), D(2026, 12, 4), RULES, CN)
    assert (same.paused_days, same.due_date) == (5, D(2026, 12, 14))


def test_pause_and_resume_misuse() -> None:
    """Pause only a running clock, resume only a paused one, never before they began."""
    f = started(D(2026, 11, 23))
    with pytest.raises(ValueError, match="nothing to resume"):
        clock.resume(f, D(2026, 11, 24), RULES, CN)
    with pytest.raises(ValueError, match="before the clock started"):
        clock.pause(f, D(2026, 11, 22))
    p = clock.pause(f, D(2026, 11, 25))
    with pytest.raises(ValueError, match="already paused since 2026-11-25"):
        clock.pause(p, D(2026, 11, 26))
    with pytest.raises(ValueError, match="before it was paused"):
        clock.resume(p, D(2026, 11, 24), RULES, CN)
    with pytest.raises(ValueError, match="accept the complaint"):
        clock.pause(clock.ClockFields("calendar", None, 15, 0, None, 0, None, None, "not_started"), D(2026, 1, 5))


# ---- restart on new facts, reopen, stop ---------------------------------------------------------


def test_new_facts_restart_a_fresh_15_day_term_from_their_arrival() -> None:
    """办法 / issue 6: new facts or materials restart the clock from the day they arrive; extensions and
    pauses of the old term no longer apply. Accepted 11-23, extended, paused; new facts on 12-01 →
    start 12-01, 15 days → Wed 2026-12-16."""
    f = clock.pause(clock.extend(started(D(2026, 11, 23)), 1, RULES, CN), D(2026, 11, 26))
    r = clock.restart(f, D(2026, 12, 1), RULES, CN)
    assert (r.clock_start, r.term_days, r.extension_level, r.paused_days, r.paused_since) == (
        D(2026, 12, 1), 15, 0, 0, None,
    )  # fmt: skip
    assert (r.clock_state, r.due_date) == ("running", D(2026, 12, 16))


def test_restart_cannot_go_back_before_the_current_start() -> None:
    """Issue 6: the effective day of new facts is on or after the current start."""
    with pytest.raises(ValueError, match="before the current one started on 2026-11-23"):
        clock.restart(started(D(2026, 11, 23)), D(2026, 11, 20), RULES, CN)
    with pytest.raises(ValueError, match="accept the complaint"):
        clock.restart(
            clock.ClockFields("calendar", None, 15, 0, None, 0, None, None, "not_started"), D(2026, 1, 5), RULES, CN
        )


def test_reopen_after_decision_starts_a_new_term() -> None:
    """Issue 6 (reopen): a decided case reopened on Fri 2026-12-18 gets a new 15-day term → 2027-01-02 is a
    Saturday (no 2027 notice loaded) → Mon 2027-01-04."""
    stopped = clock.stop(started(D(2026, 11, 23)))
    assert stopped.clock_state == "stopped"
    r = clock.restart(stopped, D(2026, 12, 18), RULES, CN)
    assert (r.clock_state, r.clock_start, r.due_date) == ("running", D(2026, 12, 18), D(2027, 1, 4))


def test_stop_keeps_the_due_date_and_merged_duplicate_stops_unstarted_clock() -> None:
    """Issue 6: deciding stops the clock (on time iff decided before due_at: the due date is kept); a merged
    duplicate's clock stops even if it had not started (merge of a received case)."""
    s = clock.stop(started(D(2026, 11, 23)))
    assert (s.clock_state, s.due_date, s.paused_since) == ("stopped", D(2026, 12, 8), None)
    fresh = clock.ClockFields("calendar", None, 15, 0, None, 0, None, None, "not_started")
    assert clock.stop(fresh).clock_state == "stopped"


def test_stop_while_paused_closes_the_pause_first() -> None:
    """办法 (第三方鉴定/检测 time not counted) / issue 6: a case decided while its clock is paused is judged
    against the effective deadline. Accepted 2026-11-23 (due 12-08), paused 12-03 (day 10), stopped 12-13
    (day 20): 10 paused days → due 2026-12-18, and 12-13 is before it (on time)."""
    f = clock.pause(started(D(2026, 11, 23)), D(2026, 12, 3))
    with pytest.raises(ValueError, match="paused"):
        clock.stop(f)
    s = clock.stop(f, day=D(2026, 12, 13), rules=RULES, cal=CN)
    assert (s.clock_state, s.paused_since, s.paused_days, s.due_date) == ("stopped", None, 10, D(2026, 12, 18))
    assert s.due_at == clock.day_end_utc(D(2026, 12, 18), TZ)
    assert at_local(D(2026, 12, 13)) < s.due_at


def test_effective_deadline_and_lateness() -> None:
    """Issue 6 / 办法: the term has ended once now >= due_at; a paused clock's deadline on a day is the one it
    would have if resumed that day, so it is never late while paused before its due date."""
    f = started(D(2026, 11, 23))
    due_at = clock.day_end_utc(D(2026, 12, 8), TZ)
    assert not clock.late(f, due_at - dt.timedelta(microseconds=1), RULES, CN)
    assert clock.late(f, due_at, RULES, CN)
    paused = clock.pause(f, D(2026, 12, 3))
    assert clock.effective(paused, D(2026, 12, 20), RULES, CN).due_date == D(2026, 12, 25)
    assert not clock.late(paused, at_local(D(2026, 12, 20)), RULES, CN)
    assert not clock.late(clock.stop(f), at_local(D(2027, 1, 20)), RULES, CN)


def test_breach_recorded_only_for_the_current_term() -> None:
    """Issue 6 (escalation at breach, once per term): breached_at is kept as the record; it counts for the
    current term only when it is at or after the term's due instant (a restart's new term can breach again)."""
    c = case(started(D(2026, 11, 23)))
    assert not clock.breach_recorded(c)
    c.breached_at = clock.day_end_utc(D(2026, 12, 8), TZ) + dt.timedelta(minutes=1)
    assert clock.breach_recorded(c)
    clock.apply(c, clock.restart(clock.fields_of(c), D(2026, 12, 10), RULES, CN))
    assert c.due_date == D(2026, 12, 25)
    assert not clock.breach_recorded(c)


def test_fields_round_trip_through_a_complaint() -> None:
    """fields_of/apply copy exactly the clock columns of the case."""
    f = clock.extend(started(D(2026, 11, 23)), 1, RULES, CN)
    c = case(f)
    assert clock.fields_of(c) == f


# ---- view, warnings, breach ----------------------------------------------------------------------


def test_view_colours_over_the_term() -> None:
    """Issue 6 (inbox colour by clock state): ok, then warning from the largest warning day (3) before the
    due date, breached from the first instant after it (due_at), never breached while paused."""
    c = case(started(D(2026, 11, 23)))
    due_at = dt.datetime(2026, 12, 8, 16, tzinfo=dt.UTC)

    def colour(now: dt.datetime) -> tuple[str, int | None]:
        v = clock.view(c, now=now, rules=RULES, cal=CN)
        return v.colour, v.days_left

    assert colour(at_local(D(2026, 12, 4), 23, 59)) == ("ok", 4)
    assert colour(at_local(D(2026, 12, 5), 0, 0)) == ("warning", 3)
    assert colour(due_at - dt.timedelta(microseconds=1)) == ("warning", 0)
    assert colour(due_at) == ("breached", -1)
    assert colour(at_local(D(2026, 12, 12))) == ("breached", -4)
    clock.apply(c, clock.pause(clock.fields_of(c), D(2026, 12, 1)))
    assert colour(at_local(D(2026, 12, 12))) == ("paused", -4)
    v = clock.view(c, now=due_at, rules=RULES, cal=CN)
    assert (v.state, v.unit, v.term_days, v.extension_level, v.due_date) == (
        "paused",
        "calendar",
        15,
        0,
        D(2026, 12, 8),
    )


def test_view_of_received_and_decided_cases() -> None:
    """A received case shows its acceptance deadline and no regulator's due date; a decided one is stopped."""
    received = Complaint(clock_state="not_started", clock_unit="calendar", term_days=15, extension_level=0,
                         paused_days=0, due_date=None, due_at=None, accept_due_at=dt.datetime(2026, 11, 27, 16, tzinfo=dt.UTC))  # fmt: skip
    v = clock.view(received, now=at_local(D(2026, 11, 30)), rules=RULES, cal=CN)
    assert (v.colour, v.days_left, v.accept_due_at) == ("not_started", None, received.accept_due_at)
    decided = case(clock.stop(started(D(2026, 11, 23))))
    v = clock.view(decided, now=at_local(D(2026, 12, 20)), rules=RULES, cal=CN)
    assert (v.colour, v.days_left) == ("stopped", None)
    assert clock.warnings_due(decided, now=at_local(D(2026, 12, 20)), rules=RULES) == 0


def test_breached_only_while_running() -> None:
    """Issue 6: a case is late when now >= due_at and the clock runs; a paused clock never breaches."""
    c = case(started(D(2026, 11, 23)))
    due_at = clock.day_end_utc(D(2026, 12, 8), TZ)
    assert not clock.breached(c, now=due_at - dt.timedelta(seconds=1))
    assert clock.breached(c, now=due_at)
    clock.apply(c, clock.pause(clock.fields_of(c), D(2026, 12, 1)))
    assert not clock.breached(c, now=due_at + dt.timedelta(days=3))


@pytest.mark.parametrize(
    ("today", "expected"),
    [(D(2026, 12, 4), 0), (D(2026, 12, 5), 1), (D(2026, 12, 6), 1), (D(2026, 12, 7), 2), (D(2026, 12, 8), 2),
     (D(2026, 12, 10), 2)],
)  # fmt: skip
def test_warnings_due_counts_thresholds_reached(today: dt.date, expected: int) -> None:
    """Issue 6 (warnings before breach, complaint_warn_days = 3,1): one warning per threshold reached, by
    calendar days from today to the due date (12-08)."""
    c = case(started(D(2026, 11, 23)))
    assert clock.warnings_due(c, now=at_local(today, 10), rules=RULES) == expected


def test_warnings_reset_by_extension() -> None:
    """Issue 6: an approved extension moves the due date, so fewer thresholds are reached again."""
    c = case(started(D(2026, 11, 23)))
    now = at_local(D(2026, 12, 7))
    assert clock.warnings_due(c, now=now, rules=RULES) == 2
    clock.apply(c, clock.extend(clock.fields_of(c), 1, RULES, CN))
    assert clock.warnings_due(c, now=now, rules=RULES) == 0


# ---- properties ----------------------------------------------------------------------------------

starts = st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 12, 31))
terms = st.integers(min_value=1, max_value=120)
units = st.sampled_from(clock.UNITS)


@settings(max_examples=300, deadline=None)
@given(starts, terms, units)
def test_property_due_date_is_a_working_day_when_rolling(start: dt.date, days: int, unit: str) -> None:
    """民法典 第二百零三条 (roll on): whatever the start and term, the last day is a working day, and it is
    never earlier than the plain count."""
    last = clock.due_date(start, days, unit, CN, roll=True)
    assert CN.is_working_day(last)
    assert last >= start + dt.timedelta(days=days)


@settings(max_examples=300, deadline=None)
@given(starts, terms)
def test_property_business_due_is_strictly_monotonic_and_counts_exactly(start: dt.date, days: int) -> None:
    """Business-day unit: one more day of term is one more working day later; exactly ``days`` working days
    lie after the start up to and including the due date (start day not counted, 民法典 第二百零一条)."""
    last = clock.due_date(start, days, "business", CN, roll=True)
    assert clock.due_date(start, days + 1, "business", CN, roll=True) > last
    assert CN.working_days_between(start + dt.timedelta(days=1), last + dt.timedelta(days=1)) == days


@settings(max_examples=200, deadline=None)
@given(starts, st.integers(min_value=0, max_value=19), st.integers(min_value=0, max_value=40), units)
def test_property_pause_never_brings_the_due_date_forward(start: dt.date, gap: int, length: int, unit: str) -> None:
    """Appraisal time not counted: resuming after any pause gives a due date on or after the unpaused one."""
    rules = replace(RULES, decision_unit=unit)
    f = clock.start(at_local(start), rules, CN)
    paused_on = start + dt.timedelta(days=gap)
    r = clock.resume(clock.pause(f, paused_on), paused_on + dt.timedelta(days=length), rules, CN)
    assert r.due_date is not None
    assert f.due_date is not None
    assert r.due_date >= f.due_date
