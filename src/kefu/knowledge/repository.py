"""Every query of the knowledge-base entries: categories, entries, versions and synonyms."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.ids import MAX_ROW_ID
from kefu.knowledge.models import EntryStatus, KbCategory, KbEntry, KbEntryVersion, KbQuestion, KbSynonym


def valid_id(row_id: int | None) -> bool:
    """Ids outside the column's range match nothing (and must not reach the driver)."""
    return row_id is not None and 1 <= row_id <= MAX_ROW_ID


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` taken literally (escape character ``\\``)."""
    return f"%{_escape_like(text)}%"


# ---- categories -------------------------------------------------------------------------------


async def categories(session: AsyncSession) -> Sequence[KbCategory]:
    stmt = select(KbCategory).order_by(KbCategory.sort, KbCategory.path)
    return (await session.execute(stmt)).scalars().all()


async def get_category(session: AsyncSession, category_id: int) -> KbCategory | None:
    if not valid_id(category_id):
        return None
    return await session.get(KbCategory, category_id)


async def category_by_path(session: AsyncSession, path: str) -> KbCategory | None:
    return (await session.execute(select(KbCategory).where(KbCategory.path == path))).scalar_one_or_none()


async def category_paths(session: AsyncSession) -> dict[int, str]:
    rows = (await session.execute(select(KbCategory.id, KbCategory.path))).all()
    return {int(r[0]): str(r[1]) for r in rows}


async def subtree(session: AsyncSession, category: KbCategory) -> Sequence[KbCategory]:
    """The category and every category below it."""
    below = KbCategory.path.like(_escape_like(category.path + "/") + "%", escape="\\")
    stmt = select(KbCategory).where(or_(KbCategory.id == category.id, below))
    return (await session.execute(stmt)).scalars().all()


async def entry_counts(session: AsyncSession) -> dict[int, int]:
    """Entries per category (retired ones not counted)."""
    stmt = (
        select(KbEntry.category_id, func.count())
        .where(KbEntry.status != EntryStatus.RETIRED.value)
        .group_by(KbEntry.category_id)
    )
    return {int(r[0]): int(r[1]) for r in (await session.execute(stmt)).all()}


async def category_in_use(session: AsyncSession, category_id: int) -> str | None:
    """What keeps a category from being deleted (sub-categories, entries, questions), else None."""
    checks = (
        (select(func.count()).where(KbCategory.parent_id == category_id), "sub-categories"),
        (select(func.count()).where(KbEntry.category_id == category_id), "entries"),
        (select(func.count()).where(KbQuestion.category_id == category_id), "forwarded questions"),
    )
    for stmt, what in checks:
        n = int((await session.execute(stmt)).scalar_one())
        if n:
            return f"{n} {what}"
    return None


# ---- entries ----------------------------------------------------------------------------------


async def get_entry(session: AsyncSession, entry_id: int, *, for_update: bool = False) -> KbEntry | None:
    """The entry; ``for_update`` locks the row for this transaction and re-reads it (PostgreSQL)."""
    if not valid_id(entry_id):
        return None
    if for_update:
        return await session.get(KbEntry, entry_id, with_for_update=True, populate_existing=True)
    return await session.get(KbEntry, entry_id)


async def entry_by_key(session: AsyncSession, key: str) -> KbEntry | None:
    return (await session.execute(select(KbEntry).where(KbEntry.key == key))).scalar_one_or_none()


async def entries_by_key(session: AsyncSession, keys: Sequence[str]) -> dict[str, KbEntry]:
    out: dict[str, KbEntry] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), 500):
        stmt = select(KbEntry).where(KbEntry.key.in_(unique[start : start + 500]))
        out.update({e.key: e for e in (await session.execute(stmt)).scalars().all()})
    return out


async def list_entries(
    session: AsyncSession,
    *,
    status: str | None = None,
    category_ids: Sequence[int] | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[KbEntry], int]:
    stmt = select(KbEntry)
    if status:
        stmt = stmt.where(KbEntry.status == status)
    if category_ids is not None:
        stmt = stmt.where(KbEntry.category_id.in_(list(category_ids)))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(
                *(
                    col.ilike(pattern, escape="\\")
                    for col in (KbEntry.key, KbEntry.question, KbEntry.similar, KbEntry.keywords)
                )
            )  # fmt: skip
        )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(KbEntry.updated_at.desc(), KbEntry.id.desc()).offset(offset).limit(limit)
    return (await session.execute(stmt)).scalars().all(), int(total)


async def in_review(session: AsyncSession) -> Sequence[KbEntry]:
    stmt = select(KbEntry).where(KbEntry.status == EntryStatus.IN_REVIEW.value)
    return (await session.execute(stmt.order_by(KbEntry.submitted_at, KbEntry.id))).scalars().all()


async def all_entries(session: AsyncSession) -> Sequence[KbEntry]:
    return (await session.execute(select(KbEntry).order_by(KbEntry.id))).scalars().all()


async def live_entries(session: AsyncSession) -> Sequence[KbEntry]:
    """Entries with a live copy that are not retired (the effective dates are the caller's to check)."""
    stmt = select(KbEntry).where(KbEntry.live.is_not(None), KbEntry.status != EntryStatus.RETIRED.value)
    return (await session.execute(stmt.order_by(KbEntry.id))).scalars().all()


# ---- versions ---------------------------------------------------------------------------------


async def versions_of(session: AsyncSession, entry_id: int) -> Sequence[KbEntryVersion]:
    stmt = select(KbEntryVersion).where(KbEntryVersion.entry_id == entry_id)
    return (await session.execute(stmt.order_by(KbEntryVersion.version.desc()))).scalars().all()


async def version_of(session: AsyncSession, entry_id: int, version: int) -> KbEntryVersion | None:
    stmt = select(KbEntryVersion).where(KbEntryVersion.entry_id == entry_id, KbEntryVersion.version == version)
    return (await session.execute(stmt)).scalar_one_or_none()


async def changed_by_since(session: AsyncSession, entry_id: int, after_version: int) -> set[int]:
    """Staff who wrote a version of the entry newer than ``after_version``."""
    stmt = select(KbEntryVersion.changed_by).where(
        KbEntryVersion.entry_id == entry_id, KbEntryVersion.version > after_version
    )
    return {int(x) for x in (await session.execute(stmt)).scalars().all() if x is not None}


# ---- synonyms ---------------------------------------------------------------------------------


async def synonyms(session: AsyncSession) -> Sequence[KbSynonym]:
    return (await session.execute(select(KbSynonym).order_by(KbSynonym.canonical))).scalars().all()


async def get_synonym(session: AsyncSession, synonym_id: int) -> KbSynonym | None:
    if not valid_id(synonym_id):
        return None
    return await session.get(KbSynonym, synonym_id)
