"""Audit log viewer: filters, newest first, paging by sequence number, chain verification."""

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.audit import repository as audit_repo
from kefu.core import audit
from kefu.core.auth import DbSession, Principal
from kefu.core.permissions import Permission
from kefu.web.pages import PageRoute, page_user, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 30
FILTERS = ("actor", "action", "object_type", "object_id", "outcome", "date_from", "date_to")
LIMITS = {"actor": 120, "action": 80, "object_type": 60, "object_id": 80, "outcome": 20, "date_from": 10,
          "date_to": 10}  # fmt: skip


def _day(value: str, tz: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(tz))


def _pretty(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        return raw


async def _page(request: Request, db: AsyncSession, params: dict[str, str], before_seq: int | None) -> dict[str, Any]:
    tz = settings_of(request).timezone
    filters = {k: (params.get(k) or "").strip()[: LIMITS[k]] for k in FILTERS}
    since = _day(filters["date_from"], tz) if filters["date_from"] else None
    until = _day(filters["date_to"], tz) if filters["date_to"] else None
    bad_date = bool((filters["date_from"] and since is None) or (filters["date_to"] and until is None))
    if until is not None:
        until += dt.timedelta(days=1)  # the whole last day, in local time
    rows, total = await audit_repo.search(
        db, actor=filters["actor"] or None, action=filters["action"] or None,
        object_type=filters["object_type"] or None, object_id=filters["object_id"] or None,
        outcome=filters["outcome"] or None, since=since, until=until, before_seq=before_seq, limit=PER_PAGE,
    )  # fmt: skip
    base = {k: v for k, v in filters.items() if v}
    entries = [
        {"e": e, "before": _pretty(e.before), "after": _pretty(e.after), "action_key": f"action.{e.action}"}
        for e in rows
    ]
    older = rows[-1].seq if len(rows) == PER_PAGE else None
    return {
        "entries": entries,
        "total": total,
        "filters": filters,
        "bad_date": bad_date,
        "before_seq": before_seq,
        "older_url": "/audit?" + urlencode({**base, "before_seq": older}) if older else None,
        "newest_url": "/audit?" + urlencode(base) if before_seq else None,
        "verify": None,
    }


def _before_seq(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < len(value) < 18 else None


@router.get("/audit")
async def audit_list(
    request: Request, db: DbSession, principal: Principal = page_user(Permission.AUDIT_READ)
) -> Response:
    params = dict(request.query_params)
    ctx = await _page(request, db, params, _before_seq(params.get("before_seq")))
    return render(request, "audit.html", ctx)


@router.get("/audit/verify")
async def audit_verify(
    request: Request, db: DbSession, principal: Principal = page_user(Permission.AUDIT_READ, Permission.AUDIT_VERIFY)
) -> Response:
    await db.flush()  # verify() empties the session; keep what sign-in already changed
    result = await audit.verify(db)
    ctx = await _page(request, db, {}, None)
    ctx["verify"] = result
    return render(request, "audit.html", ctx)
