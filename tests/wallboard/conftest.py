"""A day of records at 10:20 on Monday 2026-11-23 (Asia/Shanghai): calls in two half hours, chats with
first replies, e-mails, follow-ups of two teams and complaints at various distances from their deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from kefu.complaints import clock as cclock
from kefu.core import clock, runtime
from kefu.staff.models import Staff
from tests.complaints.conftest import complaint_row
from tests.factories import make_staff, make_team
from tests.wallboard.helpers import NOW, contact, first_response, follow_up, local, store

TZ = "Asia/Shanghai"


@dataclass
class Day:
    supervisor: Staff
    lead: Staff
    planner: Staff
    agent_a: Staff
    agent_b: Staff
    handler: Staff
    team_a: int
    numbers: dict[str, str]


def _end(day: int) -> dt.datetime:
    return cclock.day_end_utc(dt.date(2026, 11, day), TZ)


async def _complaints(rt: runtime.Runtime, a: Staff, b: Staff, handler: Staff) -> dict[str, str]:
    def running(day: int, **kw: Any) -> dict[str, Any]:
        return {"status": "investigating", "clock_state": "running", "accepted_at": local(9, day=20),
                "due_date": dt.date(2026, 11, day), "due_at": _end(day), **kw}  # fmt: skip

    cases = {
        "near": running(24, created_by=a.id, handler_id=handler.id, category="service.attitude"),
        "late": running(22, created_by=b.id, handler_id=handler.id, status="accepted", category="quality.fee"),
        "accept": {"status": "received", "accept_due_at": local(18, day=25), "created_by": a.id},
        "far": running(30, created_by=a.id),  # 7 days away: not near
        "paused": running(24, created_by=a.id, clock_state="paused", paused_since=dt.date(2026, 11, 22)),
        "decided": running(22, created_by=a.id, status="decided", clock_state="stopped"),
    }
    numbers = {}
    async with rt.db.transaction() as s:
        for name, fields in cases.items():
            numbers[name] = (await complaint_row(s, received_at=local(8, day=20), **fields)).number
    return numbers


@pytest.fixture
async def day(rt: runtime.Runtime) -> AsyncIterator[Day]:
    clock.freeze(NOW.astimezone(dt.UTC))
    team_a, team_b = await make_team(rt, name="一组"), await make_team(rt, name="二组")
    agent_a = await make_staff(rt, roles=["agent"], team_id=team_a)
    agent_b = await make_staff(rt, roles=["agent"], team_id=team_b)
    lead = await make_staff(rt, roles=["team_lead"], team_id=team_a)
    supervisor = await make_staff(rt, roles=["supervisor"])
    planner = await make_staff(rt, roles=["wfm_planner"])
    handler = await make_staff(rt, roles=["complaint_handler"], name="韩处理")
    phone = [
        contact(local(23, 59, day=22), wait=4),  # yesterday
        contact(local(9, 10), wait=10),
        contact(local(9, 20), wait=20),  # answered late
        contact(local(9, 30), wait=30, status="abandoned"),
        contact(local(10, 5), wait=5),
        contact(local(10, 10), wait=40, status="abandoned"),
        contact(local(10, 12), wait=3, status="abandoned"),  # short abandon: not in SL
        contact(local(10, 15), wait=2, queue_code="loans"),
        contact(local(10, 18), status="queued"),  # waiting now
    ]
    digital = [
        contact(local(10, 1), wait=5, channel="chat", queue_code="chat"),
        contact(local(9, 40), wait=8, channel="chat", queue_code="chat"),
        contact(local(10, 19), channel="chat", queue_code="chat", status="queued"),
        contact(local(16, day=22), channel="email", queue_code="email", status="queued"),  # waiting since yesterday
        contact(local(8, 30), wait=600, channel="email", queue_code="email"),
    ]
    ids = await store(rt, *phone, *digital)
    chat1, chat2 = ids[len(phone)], ids[len(phone) + 1]
    await first_response(rt, chat1, 30.0, local(10, 2))
    await first_response(rt, chat2, 90.0, local(9, 42))
    await first_response(rt, ids[-1], 3_600.0, local(9, 30))  # the e-mail answered within its 24 h
    c = ids[1]
    await store(
        rt,
        follow_up(c, agent_a.id, team_a, local(15)),  # due later today
        follow_up(c, agent_a.id, team_a, local(9)),  # overdue
        follow_up(c, agent_a.id, team_a, local(17, day=22)),  # overdue since yesterday
        follow_up(c, agent_a.id, team_a, local(10, day=24)),  # tomorrow: not counted
        follow_up(c, agent_a.id, team_a, local(8), status="done"),  # done: not counted
        follow_up(c, agent_b.id, team_b, local(8)),  # another team, overdue
    )
    numbers = await _complaints(rt, agent_a, agent_b, handler)
    yield Day(supervisor, lead, planner, agent_a, agent_b, handler, team_a, numbers)
    clock.freeze(None)
