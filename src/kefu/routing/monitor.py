"""The supervisor's wallboard: queues and agents now (from the engine), service level today (from records)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock, runtime
from kefu.core.auth import Principal
from kefu.routing import service as svc


def today_bounds(settings: Any) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to now in the center's time zone, as UTC datetimes."""
    now = clock.now()
    local = now.astimezone(ZoneInfo(settings.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(dt.UTC), now


async def snapshot(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal) -> dict[str, Any]:
    from kefu.contacts import stats
    from kefu.staff import repository as staff_repo

    engine = await svc.get_engine(rt, session)
    now = clock.now()
    queues = [dataclasses.asdict(q) for q in await engine.status()]
    agents = [a for a in await engine.agents() if a.presence.value != "logged_out"]
    names = await staff_repo.names_of(session, {a.agent_id for a in agents})
    since, until = today_bounds(rt.settings)
    today = await stats.totals(session, since=since, until=max(until, since + dt.timedelta(seconds=1)), queue=None,
                               settings=rt.settings)  # fmt: skip
    return {
        "at": now.isoformat(),
        "answer_target_seconds": rt.settings.answer_target_seconds,
        "answer_within_rings": rt.settings.answer_within_rings,
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
    }
