"""The supervisor's wallboard (/wallboard): per queue, callers waiting and the oldest wait, agents
ready / busy / not ready, and today's offered, answered, abandoned, service level within N rings, ASA
and abandonment; the agents with their presence and time in state.

The page renders a first snapshot (``kefu.routing.monitor.snapshot``, the same as
``GET /api/v1/routing/live``) so it works without JavaScript; ``static/wallboard.js`` then follows the
websocket's ``queues`` and ``presence`` messages and refreshes the snapshot every few seconds.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.permissions import Permission
from kefu.routing import config_service, monitor
from kefu.routing.service import NOT_READY_REASONS
from kefu.routing.types import NO_ANSWER, Presence
from kefu.web.pages import PageRoute, locale_of, page_user, render, settings_of, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Monitor = page_user(Permission.ROUTING_MONITOR)

#: The share of calls answered within the ring target that the center aims for (the classic 80/20);
#: a queue below it is highlighted.
SERVICE_LEVEL_GOAL = 0.8
REFRESH_SECONDS = 5
TODAY_FIELDS = ("offered", "answered", "abandoned", "service_level", "asa_seconds", "abandon_rate")
LIVE_FIELDS = ("waiting", "oldest_wait_s", "scheduled", "agents_ready", "agents_busy", "agents_not_ready")


def percent(value: float | None) -> str:
    """0.8333 -> '83.3%'; None (nothing to measure yet) -> '—'."""
    return "—" if value is None else f"{value * 100:.1f}%"


def clock_text(seconds: float | int | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour)."""
    s = max(0, int(seconds or 0))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


templates.env.filters["pct"] = percent
templates.env.filters["clock"] = clock_text


def board(snapshot: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Queue rows (live status + today's figures) and the total row from a monitor snapshot."""
    today = {row["queue"]: row for row in snapshot["today"]["queues"]}
    rows = []
    for q in snapshot["queues"]:
        figures = today.get(q["queue"], {})
        rows.append({"queue": q["queue"], "name": names.get(q["queue"], q["queue"]),
                     **{k: q.get(k, 0) for k in LIVE_FIELDS}, **{k: figures.get(k) for k in TODAY_FIELDS}})  # fmt: skip
    total_all = snapshot["today"]["all"]
    total: dict[str, Any] = {k: sum(int(r[k] or 0) for r in rows) for k in LIVE_FIELDS if k != "oldest_wait_s"}
    total["oldest_wait_s"] = max((float(r["oldest_wait_s"] or 0) for r in rows), default=0.0)
    total.update({k: total_all.get(k) for k in TODAY_FIELDS})
    total.update(snapshot.get("agent_totals") or {})  # distinct agents, not the sum of queue rows
    return {"rows": rows, "total": total}


def js_texts(locale: str) -> dict[str, str]:
    keys = [f"presence.{p.value}" for p in Presence]
    keys += [f"presence.reason.{r}" for r in (*NOT_READY_REASONS, NO_ANSWER)]
    keys += ["wall.js.live", "wall.js.polling", "wall.none", "wall.agents.none", "wall.updated", "wall.seconds"]
    return {key: i18n.t(key, locale) for key in keys}


async def context(request: Request, db: AsyncSession, principal: Principal) -> dict[str, Any]:
    settings = settings_of(request)
    snapshot = await monitor.snapshot(db, rt=request.app.state.runtime, actor=principal)
    names = {q.code: q.name for q in await config_service.list_queues(db, include_inactive=True)}
    data = board(snapshot, names)
    return {
        **data,
        "agents": snapshot["agents"],
        "at": snapshot["at"],
        "rings": snapshot["answer_within_rings"],
        "target_seconds": snapshot["answer_target_seconds"],
        "goal": SERVICE_LEVEL_GOAL,
        "config": {
            "goal": SERVICE_LEVEL_GOAL,
            "refresh_seconds": REFRESH_SECONDS,
            "names": names,
            "texts": js_texts(locale_of(request, principal)),
            "timezone": settings.timezone,
        },
    }


@router.get("/wallboard")
async def wallboard(request: Request, db: DbSession, principal: Principal = Monitor) -> Response:
    return render(request, "wallboard.html", await context(request, db, principal), no_store=True)
