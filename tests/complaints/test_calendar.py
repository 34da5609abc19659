"""The business-day calendar (kefu.core.calendar): the working-day rule, the shipped State Council
notices, storage (seed, set, delete, load), the HTTP API and the ``kefu calendar`` commands; storage
tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from kefu.banking import appointments
from kefu.core import calendar
from kefu.core.calendar import WorkCalendar
from kefu.core.config import Settings
from kefu.core.errors import NotFound, ValidationFailed
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, cli_env, make_staff, sync_rows

D = dt.date
API = "/api/v1/calendar/days"
# the State Council notices as listed in issue 6's contract: (first, last) holiday ranges and make-up days
NOTICES = {
    2025: ([("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
           ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]),
    2026: ([("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07")],
           ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]),
}  # fmt: skip


def _days(first: str, last: str) -> set[dt.date]:
    a, b = D.fromisoformat(first), D.fromisoformat(last)
    return {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}


EXPECTED_HOLIDAYS = {d for ranges, _ in NOTICES.values() for r in ranges for d in _days(*r)}
EXPECTED_WORKDAYS = {D.fromisoformat(d) for _, days in NOTICES.values() for d in days}
TOTAL = len(EXPECTED_HOLIDAYS) + len(EXPECTED_WORKDAYS)


# ---- the rule (pure) -----------------------------------------------------------------------------


def test_working_day_rule() -> None:
    """Issue 6: working days are Monday–Friday minus holidays plus make-up working days (which win)."""
    cal = WorkCalendar(frozenset({D(2026, 10, 1), D(2026, 10, 10)}), frozenset({D(2026, 10, 10)}), frozenset({2026}))
    assert cal.is_working_day(D(2026, 9, 30))  # Wednesday
    assert not cal.is_working_day(D(2026, 10, 1))  # Thursday, holiday
    assert not cal.is_working_day(D(2026, 10, 3))  # Saturday
    assert cal.is_working_day(D(2026, 10, 10))  # Saturday worked: workday wins over holiday
    assert cal.knows(2026)
    assert not cal.knows(2027)


def test_counting_helpers() -> None:
    """next_working_day keeps a working day; add_working_days counts after the start (民法典 第二百零一条)."""
    cal = calendar.file_calendar()
    assert cal.next_working_day(D(2026, 9, 30)) == D(2026, 9, 30)
    assert cal.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)
    assert cal.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert cal.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert cal.working_days_between(D(2026, 9, 28), D(2026, 10, 13)) == 7  # 9/28-30, 10/8, 10/9, 10/10, 10/12
    assert cal.working_days_between(D(2026, 10, 13), D(2026, 10, 13)) == 0
    assert cal.working_days_between(D(2026, 10, 13), D(2026, 10, 1)) == 0
    with pytest.raises(ValueError, match="0 or more"):
        cal.add_working_days(D(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(frozenset(D(2026, 1, 1) + dt.timedelta(days=i) for i in range(1200))).next_working_day(
            D(2026, 1, 1)
        )


def test_from_settings_matches_the_old_appointment_rule() -> None:
    """Convention 7 (one calendar): appointments use WorkCalendar.from_settings; same answers as before."""
    s = Settings(banking_holidays="2026-11-25", banking_extra_workdays="2026-11-28")  # type: ignore[arg-type]
    cal = WorkCalendar.from_settings(s)
    assert cal.holidays == {D(2026, 11, 25)}
    assert cal.workdays == {D(2026, 11, 28)}
    assert cal.known_years == {2026}
    for i in range(14):
        day = D(2026, 11, 21) + dt.timedelta(days=i)
        old = day.isoformat() in s.banking_extra_workdays or (
            day.weekday() < 5 and day.isoformat() not in s.banking_holidays
        )
        assert appointments.is_working_day(day, s) is old is cal.is_working_day(day)


# ---- the shipped notices -------------------------------------------------------------------------


def test_shipped_file_holds_the_state_council_notices() -> None:
    """Issue 6: China's public holidays and make-up working days for 2025 and 2026, as announced; every
    make-up working day is a Saturday or Sunday."""
    entries = calendar.read_defaults()
    assert {d for d, kind, _ in entries if kind == "holiday"} == EXPECTED_HOLIDAYS
    assert {d for d, kind, _ in entries if kind == "workday"} == EXPECTED_WORKDAYS
    assert all(d.weekday() >= 5 for d in EXPECTED_WORKDAYS)
    assert all(name for _, _, name in entries)
    assert calendar.file_calendar().known_years == {2025, 2026}


def test_bad_calendar_file_is_refused(tmp_path: Any) -> None:
    """A make-up working day on a weekday, or a day filed under the wrong year, is a data error."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"2026": {"holidays": {}, "workdays": {"2026-10-12": "x"}}}), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="Saturday or Sunday"):
        calendar.read_defaults(bad)
    bad.write_text(json.dumps({"2026": {"holidays": {"2025-10-01": "x"}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="listed under 2026"):
        calendar.read_defaults(bad)


# ---- storage -------------------------------------------------------------------------------------


async def test_seed_is_idempotent_and_keeps_edits(rt) -> None:  # type: ignore[no-untyped-def]
    """Issue 6 (holiday calendar configurable per year): seeding adds the notices once; a day edited by a
    supervisor is not overwritten by seeding again."""
    async with rt.db.transaction() as s:
        await calendar.set_day(s, day=D(2026, 10, 1), kind="holiday", name="国庆节（本行）")
    async with rt.db.transaction() as s:
        assert await calendar.seed_defaults(s) == TOTAL - 1
    async with rt.db.transaction() as s:
        assert await calendar.seed_defaults(s) == 0
        rows = await calendar.list_days(s)
    assert len(rows) == TOTAL
    assert [r.day for r in rows] == sorted(r.day for r in rows)
    assert next(r for r in rows if r.day == D(2026, 10, 1)).name == "国庆节（本行）"
    seeds = await audit_rows(rt, "calendar.seed")
    assert len(seeds) == 1
    assert json.loads(seeds[0].after) == {"added": TOTAL - 1, "years": [2025, 2026]}


async def test_load_joins_database_and_settings(rt) -> None:  # type: ignore[no-untyped-def]
    """One calendar (convention 7): database rows together with banking_holidays / banking_extra_workdays;
    known years are those with rows in the database."""
    rt.settings.banking_holidays = ["2027-01-04"]
    async with rt.db.transaction() as s:
        empty = await calendar.load(s, rt.settings)
        assert empty.known_years == frozenset()
        assert not empty.is_working_day(D(2027, 1, 4))
        await calendar.seed_defaults(s)
    async with rt.db.transaction() as s:
        cal = await calendar.load(s, rt.settings)
    assert cal.known_years == {2025, 2026}
    assert cal.holidays == EXPECTED_HOLIDAYS | {D(2027, 1, 4)}
    assert cal.workdays == EXPECTED_WORKDAYS
    assert cal.is_working_day(D(2026, 10, 10))
    assert cal.is_working_day(D(2026, 10, 8))  # the Thursday after 国庆


async def test_set_list_delete_audited(rt) -> None:  # type: ignore[no-untyped-def]
    """Every change of the calendar is audited (calendar.set / calendar.delete) with before and after."""
    async with rt.db.transaction() as s:
        await calendar.set_day(s, day=D(2027, 2, 6), kind="holiday", name=" 春节 ")
    async with rt.db.transaction() as s:
        row = await calendar.set_day(s, day=D(2027, 2, 6), kind="workday", name="春节调休上班")
        assert (row.kind, row.name) == ("workday", "春节调休上班")
        await calendar.set_day(s, day=D(2026, 12, 31), kind="holiday", name="")
    async with rt.db.transaction() as s:
        assert [r.day for r in await calendar.list_days(s, year=2027)] == [D(2027, 2, 6)]
        assert len(await calendar.list_days(s)) == 2
        await calendar.delete_day(s, day=D(2027, 2, 6))
    async with rt.db.transaction() as s:
        assert await calendar.list_days(s, year=2027) == []
        with pytest.raises(NotFound, match="follows the weekday rule"):
            await calendar.delete_day(s, day=D(2027, 2, 6))
    sets = await audit_rows(rt, "calendar.set")
    assert [json.loads(r.before) if r.before else None for r in sets] == [
        None, {"day": "2027-02-06", "kind": "holiday", "name": "春节"}, None,
    ]  # fmt: skip
    assert json.loads(sets[1].after) == {"day": "2027-02-06", "kind": "workday", "name": "春节调休上班"}
    deletes = await audit_rows(rt, "calendar.delete")
    assert [(r.object_type, r.object_id) for r in deletes] == [("calendar_day", "2027-02-06")]


@pytest.mark.parametrize(
    ("day", "kind", "name", "field"),
    [(D(2026, 10, 12), "workday", "", "kind"), (D(2026, 10, 3), "rest", "", "kind"),
     (D(2026, 10, 3), "holiday", "长" * 61, "name"), (D(1999, 10, 1), "holiday", "", "day")],
)  # fmt: skip
async def test_set_day_refuses_with_a_message(rt, day: dt.date, kind: str, name: str, field: str) -> None:  # type: ignore[no-untyped-def]
    """422 naming the field: a make-up working day must be a weekend day; kinds holiday|workday; names ≤ 60."""
    async with rt.db.transaction() as s:
        with pytest.raises(ValidationFailed) as info:
            await calendar.set_day(s, day=day, kind=kind, name=name)
    assert info.value.extra["errors"][0]["field"] == field


async def test_cal_fixture_seeds_the_database(cal: WorkCalendar) -> None:
    """tests/complaints/conftest.py: ``cal`` is the seeded, loaded calendar other complaint tests use."""
    assert cal.known_years == {2025, 2026}
    assert not cal.is_working_day(D(2026, 10, 1))


# ---- HTTP ----------------------------------------------------------------------------------------


async def test_api_read_by_any_staff_managed_by_calendar_managers(rt, client) -> None:  # type: ignore[no-untyped-def]
    """GET needs a signed-in staff member; PUT/DELETE need calendar.manage (supervisors, admins)."""
    agent = await make_staff(rt, roles=["agent"])
    sup = await make_staff(rt, roles=["supervisor"])
    async with rt.db.transaction() as s:
        await calendar.seed_defaults(s)
    ah, sh = await auth_headers(client, agent), await auth_headers(client, sup)
    assert (await client.get(API)).status_code == 401
    r = await client.get(API, headers=ah, params={"year": 2026})
    assert r.status_code == 200
    body = r.json()
    assert len(body) == len([d for d in EXPECTED_HOLIDAYS | EXPECTED_WORKDAYS if d.year == 2026])
    ten = next(d for d in body if d["day"] == "2026-10-10")
    assert (ten["kind"], ten["weekday"]) == ("workday", 6)
    assert (await client.get(API, headers=ah, params={"year": 1900})).status_code == 422

    assert (await client.put(f"{API}/2027-01-01", headers=ah, json={"kind": "holiday"})).status_code == 403
    r = await client.put(f"{API}/2027-01-01", headers=sh, json={"kind": "holiday", "name": "元旦"})
    assert r.status_code == 200, r.text
    assert r.json()["day"] == "2027-01-01"
    assert r.json()["name"] == "元旦"
    r = await client.put(f"{API}/2027-01-05", headers=sh, json={"kind": "workday", "name": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Saturday or Sunday" in r.json()["detail"]
    assert (await client.put(f"{API}/2027-01-09", headers=sh, json={"kind": "other"})).status_code == 422
    assert (await client.put(f"{API}/not-a-day", headers=sh, json={"kind": "holiday"})).status_code == 422

    assert (await client.delete(f"{API}/2027-01-01", headers=ah)).status_code == 403
    assert (await client.delete(f"{API}/2027-01-01", headers=sh)).status_code == 204
    assert (await client.delete(f"{API}/2027-01-01", headers=sh)).status_code == 404
    assert (await client.get(API, headers=ah, params={"year": 2027})).json() == []
    assert [r.action for r in await audit_rows(rt, "calendar.")] == ["calendar.seed", "calendar.set", "calendar.delete"]


# ---- command line --------------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str]) -> Any:
    """``kefu calendar …`` through the main CLI once the lead mounts it, else the group's own Typer app."""
    from typer.testing import CliRunner

    from kefu.cli import app as cli_app
    from kefu.complaints import cli_calendar
    from tests.factories import run_cli

    if any(g.name == "calendar" for g in cli_app.registered_groups):
        return run_cli(["calendar", *args], env)
    import sys

    from kefu.core import crypto, runtime
    from kefu.core import logging as kefu_logging
    from kefu.core.config import get_settings

    previous, ring = runtime._runtime, crypto._keyring
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_calendar.app, args, env=env)
    finally:
        get_settings.cache_clear()
        runtime.install(previous)
        if ring is not None:
            crypto._keyring, crypto._index_key = ring, ring.index_key()
        kefu_logging.configure("WARNING", stream=sys.stderr)


def test_cli_seed_list_set(settings: Settings) -> None:
    """``kefu calendar seed`` (idempotent), ``list --year``, ``set DAY KIND NAME`` (audited as the CLI)."""
    env = cli_env(settings)
    r = _cli(["seed"], env)
    assert r.exit_code == 0, r.output
    assert f"{TOTAL} day(s) added" in r.output
    assert "0 day(s) added" in _cli(["seed"], env).output
    r = _cli(["list", "--year", "2025"], env)
    assert r.exit_code == 0, r.output
    assert "2025-10-11" in r.output
    assert "2026-10-10" not in r.output
    r = _cli(["set", "2027-02-06", "workday", "春节调休上班"], env)
    assert r.exit_code == 0, r.output
    assert "2027-02-06 (Sat): workday" in r.output
    r = _cli(["set", "2027-02-08", "workday"], env)
    assert r.exit_code == 1
    assert "Saturday or Sunday" in r.output
    assert _cli(["set", "08/02/2027", "holiday"], env).exit_code == 1
    assert sync_rows(settings.database_url, "SELECT kind FROM calendar_days WHERE day = '2027-02-06'") == [("workday",)]
    actors = sync_rows(
        settings.database_url, "SELECT action, actor FROM audit_log WHERE action LIKE 'calendar.%' ORDER BY seq"
    )
    assert actors == [("calendar.seed", "cli"), ("calendar.set", "cli")]
    assert "no calendar entries for 2030" in _cli(["list", "--year", "2030"], env).output
