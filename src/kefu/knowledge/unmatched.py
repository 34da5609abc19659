"""Queries that found no good answer (R4.3), counted per normalised text, local day and source (agent
search or bot) so editors see which questions the knowledge base is missing.

Personal data is scrubbed before anything is stored: mobile numbers, resident ID numbers, bank card
numbers and e-mail addresses become ``***`` (a customer often types their card number into the bot).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.service import invalid
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import NotFound, PermissionDenied
from kefu.core.permissions import Permission
from kefu.knowledge.hits import check_period, insert_for, local_day
from kefu.knowledge.models import KbUnmatched

SOURCES = ("agent", "bot")
MAX_TEXT = 200
MASK = "***"
#: full-width digits and letters (１３８…, Ｘ), as typed on Chinese keyboards, are read as ASCII first
_HALF_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-"})
_PATTERNS = (
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),  # e-mail
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),  # 18-character resident ID
    re.compile(r"(?<![\d+])\d(?:[ \-]?\d){11,18}(?!\d)"),  # card numbers, 12-19 digits (15-digit IDs too)
    re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?!\d)"),  # mainland mobile
)


def scrub(text: str) -> str:
    """``text`` with mobiles, ID numbers, card numbers and e-mail addresses replaced by ``***``."""
    text = text.translate(_HALF_WIDTH)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def _clip(text: str) -> str:
    """Scrubbed first, then shortened: a cut can never leave part of a number behind."""
    return " ".join(scrub(text).split())[:MAX_TEXT]


async def log(session: AsyncSession, *, query: str, normalised: str, source: str, best_score: float | None) -> None:
    """Count one unmatched query for today; the same normalised text on the same day adds to its count."""
    if source not in SOURCES:
        raise invalid("source", "The source of an unmatched query is agent or bot.")
    norm = _clip(normalised)
    if not norm:
        return
    now = clock.now()
    insert = insert_for(session)
    stmt = insert(KbUnmatched).values(
        query_norm=norm, sample=_clip(query) or norm, source=source, day=local_day(now), count=1,
        best_score=best_score, last_at=now, resolved=False,
    )  # fmt: skip
    stmt = stmt.on_conflict_do_update(
        index_elements=["query_norm", "day", "source"],
        # asked again after an editor dealt with it: it still finds nothing, so it is open again
        set_={
            "count": KbUnmatched.count + 1,
            "last_at": stmt.excluded.last_at,
            "best_score": stmt.excluded.best_score,
            "resolved": False,
        },
    )
    await session.execute(stmt)


async def list_unmatched(
    session: AsyncSession,
    *,
    start: dt.date,
    end: dt.date,
    source: str | None = None,
    include_resolved: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Unmatched queries from ``start`` to ``end`` (local days, both included), most often asked first."""
    check_period(start, end)
    if source is not None and source not in SOURCES:
        raise invalid("source", "The source of an unmatched query is agent or bot.")
    where = [KbUnmatched.day >= start, KbUnmatched.day <= end]
    if source is not None:
        where.append(KbUnmatched.source == source)
    if not include_resolved:
        where.append(KbUnmatched.resolved.is_(False))
    total = func.sum(KbUnmatched.count)
    stmt = (
        select(
            KbUnmatched.query_norm, total, func.count(func.distinct(KbUnmatched.day)), func.max(KbUnmatched.best_score),
            func.max(KbUnmatched.last_at), func.max(KbUnmatched.id),
            func.sum(case((KbUnmatched.resolved.is_(False), 1), else_=0)),
        )
        .where(*where)
        .group_by(KbUnmatched.query_norm)
        .order_by(total.desc(), func.max(KbUnmatched.last_at).desc(), KbUnmatched.query_norm)
        .limit(limit)
    )  # fmt: skip
    groups = (await session.execute(stmt)).all()
    samples = await _samples(session, [g[5] for g in groups])
    sources = await _sources(session, [g[0] for g in groups], where)
    return [
        {"id": g[5], "query": g[0], "sample": samples.get(g[5], g[0]), "count": int(g[1]), "days": int(g[2]),
         "sources": sources.get(g[0], []), "best_score": g[3], "last_at": _utc(g[4]), "resolved": int(g[6]) == 0}
        for g in groups
    ]  # fmt: skip


def _utc(value: Any) -> Any:
    """max() over a UTC column comes back naive from SQLite."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value


async def _samples(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await session.execute(select(KbUnmatched.id, KbUnmatched.sample).where(KbUnmatched.id.in_(ids)))).all()
    return {r[0]: r[1] for r in rows}


async def _sources(session: AsyncSession, norms: list[str], where: list[Any]) -> dict[str, list[str]]:
    if not norms:
        return {}
    stmt = select(KbUnmatched.query_norm, KbUnmatched.source).where(*where, KbUnmatched.query_norm.in_(norms))
    out: dict[str, set[str]] = {}
    for norm, src in (await session.execute(stmt.distinct())).all():
        out.setdefault(norm, set()).add(src)
    return {k: sorted(v) for k, v in out.items()}


async def resolve(session: AsyncSession, *, actor: Principal, unmatched_id: int, note: str) -> dict[str, Any]:
    """Mark an unmatched query as dealt with (e.g. an entry now answers it), on every day and source."""
    if not actor.can(Permission.KB_EDIT):
        raise PermissionDenied("Only knowledge editors mark unmatched queries as dealt with.")
    row = await session.get(KbUnmatched, unmatched_id)
    if row is None:
        raise NotFound(f"No unmatched query {unmatched_id}. GET /api/v1/kb/unmatched lists them.")
    text = " ".join(note.split())
    if not 2 <= len(text) <= 500:
        raise invalid("note", "Say in 2 to 500 characters how the query was dealt with (e.g. the entry key).")
    stmt = (
        update(KbUnmatched)
        .where(KbUnmatched.query_norm == row.query_norm, KbUnmatched.resolved.is_(False))
        .values(resolved=True)
        .execution_options(synchronize_session=False)
    )
    changed = int((await session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
    await audit.record(session, action="kb.unmatched.resolve", object_type="kb_unmatched", object_id=row.id,
                       after={"query": row.query_norm, "rows": changed, "note": scrub(text)})  # fmt: skip
    return {"id": row.id, "query": row.query_norm, "resolved_rows": changed}
