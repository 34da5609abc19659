"""The supervisor's wallboard: queues and agents now (from the engine), service level today and this
half hour (from records), the day's half-hour series, the channels, follow-ups due and complaints near
breach (scoped to the caller), and an alert per queue whose service level is under the goal.

Everything is aggregated in SQL over today's ``arrived_at`` range (``kefu.contacts.stats``); the snapshot is
``GET /api/v1/routing/live`` and the first render of ``/wallboard``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock, runtime
from kefu.core.auth import Principal
from kefu.routing import service as svc

#: The share of calls answered within the ring target that the center aims for (the classic 80/20). There
#: is no setting for it; a queue whose service level today or this half hour is below it gets an alert.
SERVICE_LEVEL_GOAL = 0.8


def today_bounds(settings: Any) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to now in the center's time zone, as UTC datetimes."""
    now = clock.now()
    local = now.astimezone(ZoneInfo(settings.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(dt.UTC), now


def day_end(settings: Any) -> dt.datetime:
    """The next local midnight, in UTC."""
    tz = ZoneInfo(settings.timezone)
    day = clock.now().astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def below(value: float | None, goal: float = SERVICE_LEVEL_GOAL) -> bool:
    return value is not None and value < goal


def alerts(today: dict[str, Any], interval: dict[str, Any], goal: float = SERVICE_LEVEL_GOAL) -> list[dict[str, Any]]:
    """One alert per queue whose service level today or in the current half hour is under ``goal``."""
    now = {q["queue"]: q for q in interval["queues"]}
    day = {q["queue"]: q for q in today["queues"]}
    out = []
    for code in sorted(set(now) | set(day)):
        t, i = day.get(code, {}), now.get(code, {})
        scopes = [
            s for s, v in (("interval", i.get("service_level")), ("today", t.get("service_level"))) if below(v, goal)
        ]
        if scopes:
            out.append({"queue": code, "below": scopes, "service_level": t.get("service_level"),
                        "interval_service_level": i.get("service_level"), "goal": goal})  # fmt: skip
    return out


async def panels(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal) -> dict[str, Any]:
    """The slower-moving part of the board: today's half-hour ``series`` and the current half hour
    (``interval``), the ``channels``, the ``follow_ups`` due and, for roles with complaint.read only, the
    ``complaints`` near breach (the key is absent otherwise), and the SMS / WeChat ``messages_awaiting`` a reply."""
    from kefu.channels import threads
    from kefu.complaints import near_breach
    from kefu.contacts import stats

    since, until = today_bounds(rt.settings)
    until = max(until, since + dt.timedelta(seconds=1))
    day = await stats.day_by_half_hour(session, since=since, until=until, settings=rt.settings)
    out: dict[str, Any] = {
        "series": day.pop("series"),
        "interval": day,
        "channels": await stats.channels_today(session, since=since, until=until, settings=rt.settings),
        "follow_ups": await stats.follow_ups_due(session, principal=actor, now=until, day_end=day_end(rt.settings)),
        "messages_awaiting": await threads.count_awaiting(session, now=clock.now()),
    }
    if near_breach.may_see(actor):
        out["complaints"] = await near_breach.near_breach(session, actor=actor, settings=rt.settings)
    return out


async def snapshot(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal) -> dict[str, Any]:
    from kefu.contacts import stats
    from kefu.staff import repository as staff_repo

    engine = await svc.get_engine(rt, session)
    now = clock.now()
    queues = [dataclasses.asdict(q) for q in await engine.status()]
    agents = [a for a in await engine.agents() if a.presence.value != "logged_out"]
    names = await staff_repo.names_of(session, {a.agent_id for a in agents})
    since, until = today_bounds(rt.settings)
    until = max(until, since + dt.timedelta(seconds=1))
    today = await stats.totals(session, since=since, until=until, queue=None, settings=rt.settings)
    extra = await panels(session, rt=rt, actor=actor)
    return {
        "at": now.isoformat(),
        "answer_target_seconds": rt.settings.answer_target_seconds,
        "answer_within_rings": rt.settings.answer_within_rings,
        "service_level_goal": SERVICE_LEVEL_GOAL,
        "queues": queues,
        "agents": [
            {
                "agent_id": a.agent_id,
                "staff_no": names.get(a.agent_id, ("?", ""))[0],
                "name": names.get(a.agent_id, ("", "?"))[1],
                "presence": a.presence.value,
                "reason": a.reason,
                "seconds": round(max(0.0, now.timestamp() - a.since)),
                "contact_id": a.contact_id,
            }
            for a in sorted(agents, key=lambda a: (a.presence.value, a.agent_id))
        ],  # fmt: skip
        "today": today,
        # distinct agents (an agent qualified for several queues counts once here, in every queue row above)
        "agent_totals": {
            "agents_ready": sum(1 for a in agents if a.presence.value == "ready"),
            "agents_busy": sum(1 for a in agents if a.presence.value in ("offered", "busy", "wrap_up")),
            "agents_not_ready": sum(1 for a in agents if a.presence.value == "not_ready"),
        },
        "alerts": alerts(today, extra["interval"]),
        **extra,
    }
