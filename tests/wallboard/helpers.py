"""Hand-made records for the wallboard tests: contacts (as the record holds them), contact events,
follow-ups and complaints, at fixed local times in Asia/Shanghai. Every value is generated."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from kefu.contacts.models import Contact, ContactEvent, FollowUp
from kefu.core import clock, runtime

SH = ZoneInfo("Asia/Shanghai")
#: "now" of the figures tests: Monday 2026-11-23 10:20 in Shanghai (the half hour 10:00-10:30)
NOW = dt.datetime(2026, 11, 23, 10, 20, tzinfo=SH)


def local(h: int, m: int = 0, s: int = 0, day: int = 23) -> dt.datetime:
    return dt.datetime(2026, 11, day, h, m, s, tzinfo=SH)


def contact(arrived: dt.datetime, **kw: Any) -> Contact:
    """A finished inbound phone contact; ``wait`` seconds; ``status`` abandoned / queued / closed."""
    wait = kw.pop("wait", None)
    status = kw.pop("status", "closed")
    answered = status not in ("queued", "abandoned", "rejected", "scheduled", "offered")
    now = clock.now()
    fields: dict[str, Any] = {
        "channel": "phone", "direction": "inbound", "queue_code": "general", "status": status,
        "arrived_at": arrived, "queued_at": arrived, "ivr_choices": "", "priority_bonus": 0.0, "hold_seconds": 0.0,
        "offers": 0, "transfers": 0, "created_at": now, "updated_at": now, "wait_seconds": wait,
    }  # fmt: skip
    if answered and wait is not None:
        fields.update(answered_at=arrived + dt.timedelta(seconds=wait), within_target=wait <= 15, talk_seconds=60.0,
                      wrapup_seconds=10.0)  # fmt: skip
    fields.update(kw)
    return Contact(**fields)


async def store(rt: runtime.Runtime, *rows: Any) -> list[Any]:
    async with rt.db.transaction() as s:
        s.add_all(rows)
        await s.flush()
        return [r.id for r in rows]


async def first_response(rt: runtime.Runtime, contact_id: int, seconds: float, at: dt.datetime) -> None:
    async with rt.db.transaction() as s:
        s.add(ContactEvent(contact_id=contact_id, kind="first_response", at=at,
                           data=json.dumps({"seconds": seconds, "within_target": seconds <= 60})))  # fmt: skip


def follow_up(contact_id: int, owner_id: int, team_id: int | None, due: dt.datetime, status: str = "open") -> FollowUp:
    now = clock.now()
    return FollowUp(contact_id=contact_id, owner_id=owner_id, team_id=team_id, created_by=owner_id,
                    details="核实到账时间后回电", due_at=due, status=status, needs_owner=False, created_at=now,
                    updated_at=now)  # fmt: skip
