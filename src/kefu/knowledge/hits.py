"""How often each entry is used (R4.3): daily counters of opens, attachments to contacts and bot answers,
attaching an entry to a contact, and the frequency report with its bands and restructuring suggestions.

Counters are kept per entry and *local* day (the center's time zone, Asia/Shanghai by default) with one
portable upsert (``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL), so concurrent hits never
lose a count. Counters are statistics, not changes by a person: they are not audited; attaching is.

Bands: over the live entries (zero-hit ones included) the hits in the period give three thresholds, the
``kb_band_very_high`` / ``kb_band_high`` / ``kb_band_low`` quantiles (linear interpolation between the
sorted values, as numpy's default). An entry reaching the very-high threshold is ``very_high``, else
reaching the high one ``high``, else reaching the low one ``low``, else ``very_low``; an entry with no
hit at all is always ``very_low``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import reads
from kefu.contacts.service import invalid
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.knowledge.models import EntryStatus, KbAttachment, KbCategory, KbEntry, KbHit

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = {"open": "opens", "attach": "attaches", "bot": "bot_answers"}
BANDS = ("very_high", "high", "low", "very_low")
MAX_REPORT_DAYS = 366
#: a category with more entries than this is suggested for splitting
SPLIT_ABOVE = 40


def local_day(at: dt.datetime) -> dt.date:
    """The calendar day of ``at`` in the center's time zone (``settings.timezone``, else Asia/Shanghai)."""
    from kefu.core import runtime

    try:
        zone = ZoneInfo(runtime.get().settings.timezone)
    except RuntimeError:
        zone = SHANGHAI
    return at.astimezone(zone).date()


def insert_for(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (both offer ``on_conflict_do_update`` / ``on_conflict_do_nothing``)."""
    bind = session.bind
    return pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert


# ---- counters ------------------------------------------------------------------------------------


async def record(session: AsyncSession, *, entry_id: int, kind: str, n: int = 1, day: dt.date | None = None) -> None:
    """Add ``n`` to the entry's counter of ``kind`` (open, attach, bot) for ``day`` (default: today)."""
    column = KINDS.get(kind)
    if column is None:
        raise invalid("kind", "The kind of hit is open, attach or bot.")
    if n < 1:
        raise invalid("n", "Count at least one hit.")
    values = {"opens": 0, "attaches": 0, "bot_answers": 0, column: n}
    insert = insert_for(session)
    stmt = insert(KbHit).values(entry_id=entry_id, day=day or local_day(clock.now()), **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entry_id", "day"], set_={column: getattr(KbHit, column) + stmt.excluded[column]}
    )
    await session.execute(stmt)


async def daily(session: AsyncSession, *, entry_id: int, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """One entry's counters per day from ``start`` to ``end`` (both included), days without hits left out."""
    check_period(start, end)
    stmt = select(KbHit).where(KbHit.entry_id == entry_id, KbHit.day >= start, KbHit.day <= end).order_by(KbHit.day)
    return [
        {"day": h.day, "opens": h.opens, "attaches": h.attaches, "bot_answers": h.bot_answers,
         "hits": h.opens + h.attaches + h.bot_answers}
        for h in (await session.execute(stmt)).scalars()
    ]  # fmt: skip


# ---- attaching an entry to a contact -------------------------------------------------------------


async def _live_entry(session: AsyncSession, entry_id: int) -> KbEntry:
    """The entry if agents may see it today (live, not retired, within its effective dates), else NotFound."""
    from kefu.knowledge import service

    await service.live_entry(session, entry_id, local_day(clock.now()))
    entry = await session.get(KbEntry, entry_id)
    assert entry is not None  # noqa: S101 - live_entry found it
    return entry


async def attachment(session: AsyncSession, *, contact_id: int, entry_id: int) -> KbAttachment | None:
    stmt = select(KbAttachment).where(KbAttachment.contact_id == contact_id, KbAttachment.entry_id == entry_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def attach(session: AsyncSession, *, actor: Principal, entry_id: int, contact_id: int) -> KbAttachment:
    """Record that the agent used a live entry on a contact they can see. Once per (contact, entry): a
    second attach changes nothing and returns the first one."""
    contact = await reads.visible(session, actor=actor, contact_id=contact_id)
    entry = await _live_entry(session, entry_id)
    insert = insert_for(session)
    stmt = insert(KbAttachment).values(
        contact_id=contact.id, entry_id=entry.id, entry_version=entry.live_version, staff_id=actor.staff_id,
        created_at=clock.now(),
    )  # fmt: skip
    stmt = stmt.on_conflict_do_nothing(index_elements=["contact_id", "entry_id"]).returning(KbAttachment.id)
    created = (await session.execute(stmt)).scalar_one_or_none() is not None  # None: attached before
    row = await attachment(session, contact_id=contact.id, entry_id=entry.id)
    assert row is not None  # noqa: S101 - inserted now or before
    if created:
        await record(session, entry_id=entry.id, kind="attach")
        await audit.record(session, action="kb.attach", object_type="contact", object_id=contact.id,
                           after={"entry_id": entry.id, "entry_key": entry.key, "entry_version": row.entry_version})  # fmt: skip
    return row


async def attachments_of(session: AsyncSession, *, actor: Principal, contact_id: int) -> Sequence[KbAttachment]:
    """The entries attached to a contact the actor can see, in the order they were attached."""
    contact = await reads.visible(session, actor=actor, contact_id=contact_id)
    stmt = select(KbAttachment).where(KbAttachment.contact_id == contact.id).order_by(KbAttachment.id)
    return (await session.execute(stmt)).scalars().all()


async def attached_labels(session: AsyncSession, *, contact_id: int) -> list[str]:
    """ "key 问题" of each entry attached to a contact (the wrap-up form fills them in; the caller has
    already checked that the contact is the agent's own)."""
    stmt = (
        select(KbEntry.key, KbEntry.question)
        .join(KbAttachment, KbAttachment.entry_id == KbEntry.id)
        .where(KbAttachment.contact_id == contact_id)
        .order_by(KbAttachment.id)
    )
    return [f"{key} {question}"[:200] for key, question in (await session.execute(stmt)).all()]


# ---- bands ---------------------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation between the sorted values (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def thresholds(values: Sequence[int], settings: Settings) -> dict[str, float]:
    """The hits an entry must reach for each band: the configured quantiles of all live entries' hits."""
    return {
        "very_high": quantile(values, settings.kb_band_very_high),
        "high": quantile(values, settings.kb_band_high),
        "low": quantile(values, settings.kb_band_low),
    }


def band(n: int, limits: dict[str, float]) -> str:
    """The first band whose threshold ``n`` reaches; no hit at all is always very low."""
    if n <= 0:
        return "very_low"
    return next((name for name, limit in limits.items() if n >= limit), "very_low")


# ---- frequency report ----------------------------------------------------------------------------


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise invalid("end", "The end date must be on or after the start date.")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise invalid("end", f"A report covers at most {MAX_REPORT_DAYS} days; choose a shorter period.")


async def _counts(session: AsyncSession, start: dt.date, end: dt.date) -> dict[int, tuple[int, int, int]]:
    """{entry id: (opens, attaches, bot answers)} summed over the period."""
    stmt = (
        select(KbHit.entry_id, func.sum(KbHit.opens), func.sum(KbHit.attaches), func.sum(KbHit.bot_answers))
        .where(KbHit.day >= start, KbHit.day <= end)
        .group_by(KbHit.entry_id)
    )
    return {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in (await session.execute(stmt)).all()}


def _live_fields(e: KbEntry) -> dict[str, Any]:
    try:
        live = json.loads(e.live or "{}")
    except ValueError:
        live = {}
    return live if isinstance(live, dict) else {}


async def _live_entries(session: AsyncSession) -> Sequence[KbEntry]:
    stmt = select(KbEntry).where(KbEntry.live.is_not(None), KbEntry.status != EntryStatus.RETIRED.value)
    return (await session.execute(stmt.order_by(KbEntry.id))).scalars().all()


async def _categories(session: AsyncSession) -> dict[int, KbCategory]:
    return {c.id: c for c in (await session.execute(select(KbCategory))).scalars()}


def _entry_row(e: KbEntry, counts: tuple[int, int, int], categories: dict[int, KbCategory]) -> dict[str, Any]:
    live = _live_fields(e)
    live_category = live.get("category_id")
    category_id = live_category if isinstance(live_category, int) else e.category_id
    cat = categories.get(category_id)
    opens, attaches, bot = counts
    return {
        "entry_id": e.id, "key": e.key, "question": str(live.get("question") or e.question),
        "category_id": category_id, "category": cat.path if cat else "", "opens": opens, "attaches": attaches,
        "bot_answers": bot, "hits": opens + attaches + bot,
    }  # fmt: skip


def category_totals(entries: list[dict[str, Any]], categories: dict[int, KbCategory]) -> list[dict[str, Any]]:
    """Per category: its entries, hits and how many entries fall in each band (busiest first)."""
    out: dict[int, dict[str, Any]] = {}
    for row in entries:
        cat = categories.get(row["category_id"])
        item = out.setdefault(row["category_id"], {
            "category_id": row["category_id"], "category": row["category"],
            "parent_id": cat.parent_id if cat else None, "entries": 0, "hits": 0, "bands": dict.fromkeys(BANDS, 0),
        })  # fmt: skip
        item["entries"] += 1
        item["hits"] += row["hits"]
        item["bands"][row["band"]] += 1
    return sorted(out.values(), key=lambda c: (-c["hits"], c["category"]))


def suggestions(entries: list[dict[str, Any]], categories: dict[int, KbCategory]) -> list[dict[str, Any]]:
    """Restructuring hints: rarely used categories, hot entries hidden among rarely used ones, big categories."""
    by_cat: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in entries:
        by_cat[row["category_id"]].append(row)
    out: list[dict[str, Any]] = []
    for category_id, rows in sorted(by_cat.items(), key=lambda kv: _path_of(kv[1])):
        out += _category_hints(category_id, rows, categories.get(category_id))
    return out


def _path_of(rows: list[dict[str, Any]]) -> str:
    return str(rows[0]["category"])


def _hint(category_id: int, rows: list[dict[str, Any]], reason: str, message: str) -> dict[str, Any]:
    return {"category_id": category_id, "category": _path_of(rows) if rows else "", "reason": reason,
            "message": message, "entries": [r["entry_id"] for r in rows]}  # fmt: skip


def _category_hints(category_id: int, rows: list[dict[str, Any]], cat: KbCategory | None) -> list[dict[str, Any]]:
    out = []
    bands_of = [r["band"] for r in rows]
    if all(b == "very_low" for b in bands_of):
        where = "into its parent category" if cat is not None and cat.parent_id else "into a related category"
        out.append(_hint(category_id, rows, "merge_or_retire",
                         f"Every entry of this category is very rarely used: merge it {where} or retire the entries."))  # fmt: skip
    lows = sum(b in ("low", "very_low") for b in bands_of)
    hot = [r for r in rows if r["band"] == "very_high"]
    if hot and lows * 2 > len(rows):
        out.append(_hint(category_id, hot, "move_hot_entries",
                         "These very frequently used entries sit among rarely used ones: move them to a top-level "
                         "hot-questions category so agents find them at once."))  # fmt: skip
    if len(rows) > SPLIT_ABOVE:
        out.append(_hint(category_id, rows, "split",
                         f"This category holds {len(rows)} entries: split it into sub-categories of at most "
                         f"{SPLIT_ABOVE}."))  # fmt: skip
    return out


async def frequency_report(
    session: AsyncSession, *, start: dt.date, end: dt.date, settings: Settings
) -> dict[str, Any]:
    """Hits of every live entry from ``start`` to ``end`` (local days, both included) with their bands,
    per-category totals, restructuring suggestions and the most frequent unmatched queries."""
    from kefu.knowledge import unmatched

    check_period(start, end)
    counts = await _counts(session, start, end)
    categories = await _categories(session)
    entries = [_entry_row(e, counts.get(e.id, (0, 0, 0)), categories) for e in await _live_entries(session)]
    limits = thresholds([r["hits"] for r in entries], settings)
    for row in entries:
        row["band"] = band(row["hits"], limits)
    entries.sort(key=lambda r: (-r["hits"], r["entry_id"]))
    return {
        "start": start, "end": end, "thresholds": {name: round(v, 3) for name, v in limits.items()},
        "entries": entries, "categories": category_totals(entries, categories),
        "suggestions": suggestions(entries, categories),
        "top_unmatched": await unmatched.list_unmatched(session, start=start, end=end, limit=20),
    }  # fmt: skip
