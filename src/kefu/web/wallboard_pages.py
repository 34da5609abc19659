"""The supervisor's wallboard (/wallboard): per queue, callers waiting and the oldest wait, agents
ready / busy / not ready, and today's and this half hour's offered, answered, abandoned, service level
within N rings, ASA and abandonment, with a labelled alert per queue under the goal; the day's chart per
half hour (inline SVG drawn here, no chart library); calls, chats and e-mails; follow-ups due and overdue;
complaints near breach (complaint.read only); the agents with their presence and time in state.

The page renders a first snapshot (``kefu.routing.monitor.snapshot``, the same as
``GET /api/v1/routing/live``) so it works without JavaScript; ``static/wallboard.js`` then follows the
websocket's ``queues`` and ``presence`` messages, refreshes the snapshot every few seconds and the
panels (chart, channels, follow-ups, complaints: ``GET /wallboard/panels``) every half minute.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import taxonomy
from kefu.core import i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.permissions import Permission
from kefu.routing import config_service, monitor
from kefu.routing.service import NOT_READY_REASONS
from kefu.routing.types import NO_ANSWER, Presence
from kefu.web.pages import PageRoute, locale_of, page_user, render, settings_of, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Monitor = page_user(Permission.ROUTING_MONITOR)

SERVICE_LEVEL_GOAL = monitor.SERVICE_LEVEL_GOAL  # 0.8, documented there
REFRESH_SECONDS = 5
PANELS_REFRESH_SECONDS = 30
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
    """Queue rows (live status + today's figures + this half hour's service level) and the total row."""
    today = {row["queue"]: row for row in snapshot["today"]["queues"]}
    interval = {row["queue"]: row for row in snapshot.get("interval", {}).get("queues", [])}
    rows = []
    for q in snapshot["queues"]:
        figures = today.get(q["queue"], {})
        rows.append({"queue": q["queue"], "name": names.get(q["queue"], q["queue"]),
                     **{k: q.get(k, 0) for k in LIVE_FIELDS}, **{k: figures.get(k) for k in TODAY_FIELDS},
                     "interval_service_level": interval.get(q["queue"], {}).get("service_level")})  # fmt: skip
    total_all = snapshot["today"]["all"]
    total: dict[str, Any] = {k: sum(int(r[k] or 0) for r in rows) for k in LIVE_FIELDS if k != "oldest_wait_s"}
    total["oldest_wait_s"] = max((float(r["oldest_wait_s"] or 0) for r in rows), default=0.0)
    total.update({k: total_all.get(k) for k in TODAY_FIELDS})
    total.update(snapshot.get("agent_totals") or {})  # distinct agents, not the sum of queue rows
    total["interval_service_level"] = snapshot.get("interval", {}).get("all", {}).get("service_level")
    return {"rows": rows, "total": total}


# ---- the day's chart: inline SVG geometry (the template draws it) ------------------------------------

CHART_W, CHART_H = 720, 210
PAD_L, PAD_R, PAD_T, PAD_B = 34, 42, 12, 26
MIN_SLOTS = 16  # at least the last 8 hours, so bars keep a readable width
BAR_KEYS = ("offered", "answered", "abandoned")


def _nice_max(value: int) -> int:
    for step in (4, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    return (value // 10000 + 1) * 10000


def chart(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars (offered / answered / abandoned) and the service-level line per half hour, in SVG units.
    Shows the day from the first half hour with calls (at least the last 8 hours) to the current one."""
    first = next((i for i, s in enumerate(series) if s["offered"]), len(series))
    shown = series[max(0, min(first, len(series) - MIN_SLOTS)) :]
    n = max(1, len(shown))
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = plot_w / n
    bar = min(14.0, slot * 0.8 / 3)
    top = _nice_max(max((int(s["offered"]) for s in shown), default=0))
    base = PAD_T + plot_h

    def y_count(v: float) -> float:
        return round(base - plot_h * v / top, 1)

    def y_sl(v: float) -> float:
        return round(base - plot_h * v, 1)

    slots: list[dict[str, Any]] = []
    path: list[tuple[str, int, dict[str, Any]]] = []
    points: list[dict[str, Any]] = []
    label_every = max(1, -(-n // 8))
    for i, s in enumerate(shown):
        x0 = PAD_L + i * slot
        left = x0 + (slot - bar * 3) / 2
        bars = [{"key": k, "value": int(s[k]), "x": round(left + j * bar, 1), "y": y_count(int(s[k])),
                 "w": round(max(bar - 1, 1), 1), "h": round(base - y_count(int(s[k])), 1)} for j, k in enumerate(BAR_KEYS)]  # fmt: skip
        cx = round(x0 + slot / 2, 1)
        if s["service_level"] is not None:
            point = {"x": cx, "y": y_sl(s["service_level"]), "below": monitor.below(s["service_level"])}
            path.append(("L" if path and path[-1][1] == i - 1 else "M", i, point))
            points.append(point)
        slots.append({"x": round(x0, 1), "w": round(slot, 1), "cx": cx, "start": s["start"], "end": s["end"],
                      "bars": bars, "service_level": s["service_level"], "label": (n - 1 - i) % label_every == 0,
                      **{k: int(s[k]) for k in BAR_KEYS}})  # fmt: skip
    return {
        "w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "top": PAD_T, "base": base,
        "slots": slots, "max": top, "mid": top // 2, "y_mid": y_count(top / 2), "y_goal": y_sl(SERVICE_LEVEL_GOAL),
        "y_full": y_sl(1.0), "y_half": y_sl(0.5), "line": " ".join(f"{op}{p['x']},{p['y']}" for op, _, p in path),
        "points": points, "empty": not any(s["offered"] for s in shown),
    }  # fmt: skip


def panel_context(extra: dict[str, Any], locale: str, settings: Any) -> dict[str, Any]:
    """What the panels partial needs from ``monitor.panels`` (or the snapshot)."""
    complaints = extra.get("complaints")
    if complaints is not None:
        labels = taxonomy.category_labels(settings)
        complaints = {**complaints, "top": [{**c, "category_label": taxonomy.label(labels, c["category"], locale)}
                                            for c in complaints["top"]]}  # fmt: skip
    return {
        "chart": chart(extra["series"]),
        "interval": extra["interval"],
        "channels": extra["channels"],
        "messages_awaiting": extra.get("messages_awaiting") or {},
        "follow_ups": extra["follow_ups"],
        "complaints": complaints,
        "first_response_target": settings.chat_first_response_seconds,
        "email_first_response_hours": settings.email_first_response_hours,
    }


def js_texts(locale: str) -> dict[str, str]:
    keys = [f"presence.{p.value}" for p in Presence]
    keys += [f"presence.reason.{r}" for r in (*NOT_READY_REASONS, NO_ANSWER)]
    keys += ["wall.js.live", "wall.js.polling", "wall.none", "wall.agents.none", "wall.updated", "wall.seconds"]
    keys += ["wall.alert.label", "wall.alert.text", "wall.alert.today", "wall.alert.interval", "wall.alert.cleared"]
    return {key: i18n.t(key, locale) for key in keys}


async def context(request: Request, db: AsyncSession, principal: Principal) -> dict[str, Any]:
    settings = settings_of(request)
    locale = locale_of(request, principal)
    snapshot = await monitor.snapshot(db, rt=request.app.state.runtime, actor=principal)
    names = {q.code: q.name for q in await config_service.list_queues(db, include_inactive=True)}
    data = board(snapshot, names)
    return {
        **data,
        **panel_context(snapshot, locale, settings),
        "alerts": snapshot["alerts"],
        "names": names,
        "agents": snapshot["agents"],
        "at": snapshot["at"],
        "rings": snapshot["answer_within_rings"],
        "target_seconds": snapshot["answer_target_seconds"],
        "goal": SERVICE_LEVEL_GOAL,
        "config": {
            "goal": SERVICE_LEVEL_GOAL,
            "refresh_seconds": REFRESH_SECONDS,
            "panels_seconds": PANELS_REFRESH_SECONDS,
            "names": names,
            "texts": js_texts(locale),
            "timezone": settings.timezone,
        },
    }


@router.get("/wallboard")
async def wallboard(request: Request, db: DbSession, principal: Principal = Monitor) -> Response:
    return render(request, "wallboard.html", await context(request, db, principal), no_store=True)


@router.get("/wallboard/panels")
async def wallboard_panels(request: Request, db: DbSession, principal: Principal = Monitor) -> Response:
    """The chart, channels, follow-ups and complaints panels as an HTML fragment (the page's script swaps
    them in every half minute)."""
    extra = await monitor.panels(db, rt=request.app.state.runtime, actor=principal)
    ctx = {**panel_context(extra, locale_of(request, principal), settings_of(request)), "goal": SERVICE_LEVEL_GOAL}
    return render(request, "_wallboard_panels.html", ctx, no_store=True)
