"""Shared fixtures for every complaints test (generated data only, never a real person).

* ``agent``, ``handler``, ``handler2``, ``supervisor``, ``supervisor2`` — staff with those roles; ``people``
  bundles them. ``principal_for(staff)`` gives the signed-in principal for calling services directly.
* ``cal`` — the State Council calendar of ``data/calendar/cn.json`` seeded into the database; returns the
  loaded :class:`kefu.core.calendar.WorkCalendar`.
* ``complaint_row(session, **fields)`` — inserts a ``Complaint`` row with sane defaults (status received);
  ``make_row`` is the same as a fixture that opens its own transaction.
* ``T0`` — Monday 2026-11-23 09:00 in Shanghai (01:00 UTC), a plain working day; ``frozen`` pins the clock there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints.models import Complaint
from kefu.core import clock, runtime
from kefu.staff.models import Staff
from tests.factories import make_staff, principal_of

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai, a working day
TZ = "Asia/Shanghai"

principal_for = principal_of


@pytest.fixture
def frozen() -> Iterator[dt.datetime]:
    """The clock pinned at ``T0`` (released afterwards)."""
    clock.freeze(T0)
    yield T0
    clock.freeze(None)


@dataclass(frozen=True)
class People:
    agent: Staff
    handler: Staff
    handler2: Staff
    supervisor: Staff
    supervisor2: Staff


@pytest.fixture
async def agent(rt: runtime.Runtime) -> Staff:
    return await make_staff(rt, roles=["agent"])


@pytest.fixture
async def handler(rt: runtime.Runtime) -> Staff:
    return await make_staff(rt, roles=["complaint_handler"])


@pytest.fixture
async def handler2(rt: runtime.Runtime) -> Staff:
    return await make_staff(rt, roles=["complaint_handler"])


@pytest.fixture
async def supervisor(rt: runtime.Runtime) -> Staff:
    return await make_staff(rt, roles=["supervisor"])


@pytest.fixture
async def supervisor2(rt: runtime.Runtime) -> Staff:
    return await make_staff(rt, roles=["supervisor"])


@pytest.fixture
def people(agent: Staff, handler: Staff, handler2: Staff, supervisor: Staff, supervisor2: Staff) -> People:
    return People(agent, handler, handler2, supervisor, supervisor2)


@pytest.fixture
async def cal(rt: runtime.Runtime) -> Any:
    """data/calendar/cn.json seeded into the database; the loaded WorkCalendar."""
    from kefu.core import calendar

    async with rt.db.transaction() as s:
        await calendar.seed_defaults(s)
    async with rt.db.transaction() as s:
        return await calendar.load(s, rt.settings)


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(TZ)).date()


async def complaint_row(session: AsyncSession, **fields: Any) -> Complaint:
    """Insert a Complaint row directly (no service rules, no audit): status received by default.
    Any column may be overridden; ``number`` defaults to TS<local day of receipt>-<id>."""
    now = clock.now()
    received_at = fields.pop("received_at", now)
    number = fields.pop("number", None)
    values: dict[str, Any] = {
        "channel": "phone",
        "status": "received",
        "received_at": received_at,
        "complainant_name": "测试投诉人",
        "complainant_phone": "13800000000",
        "matter": "测试事项：信用卡年费被误收，要求退还。",
        "business_line": "cards",
        "category": "service.attitude",
        "severity": "normal",
        "locale": "zh-Hans",
        "escalation_reasons": "[]",
        "clock_unit": "calendar",
        "clock_state": "not_started",
        "term_days": 15,
        "extension_level": 0,
        "paused_days": 0,
        "warned_level": 0,
        "reopen_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    c = Complaint(**values)
    session.add(c)
    await session.flush()
    c.number = number or f"TS{_local_day(received_at):%Y%m%d}-{c.id:06d}"
    await session.flush()
    return c


@pytest.fixture
def make_row(rt: runtime.Runtime) -> Callable[..., Awaitable[Complaint]]:
    """``await make_row(**fields)``: complaint_row in its own committed transaction."""

    async def make(**fields: Any) -> Complaint:
        async with rt.db.transaction() as s:
            return await complaint_row(s, **fields)

    return make
