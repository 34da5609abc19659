"""HTTP endpoints under /api/v1/kb for the entries: the category tree, entries and their review
workflow (submit, approve, send back, retire), versions and diffs, the live copy agents read
(``/articles/{id}``), the synonym table, import and export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission
from kefu.knowledge import importer, service
from kefu.knowledge import repository as repo
from kefu.knowledge.models import KbEntry
from kefu.knowledge.schemas import (
    MAX_IMPORT,
    CategoryIn,
    CategoryNode,
    CategoryOut,
    CategoryPatch,
    DiffOut,
    EntryIn,
    EntryOut,
    EntryPage,
    EntryPatch,
    ImportOut,
    LiveEntryOut,
    RejectIn,
    RetireIn,
    ReviewIn,
    SynonymIn,
    SynonymOut,
    VersionOut,
)
from kefu.knowledge.views import category_view, entry_view, synonym_view, version_view

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge"])
Reader = Annotated[Principal, require(Permission.KB_READ)]
Editor = Annotated[Principal, require(Permission.KB_EDIT)]
Reviewer = Annotated[Principal, require(Permission.KB_REVIEW)]
Status = Literal["draft", "in_review", "published", "retired"]


async def _out(db: AsyncSession, e: KbEntry) -> dict[str, Any]:
    c = await repo.get_category(db, e.category_id)
    return entry_view(e, c.path if c else None)


async def _page(db: AsyncSession, rows: Any) -> list[dict[str, Any]]:
    paths = await repo.category_paths(db)
    return [entry_view(e, paths.get(e.category_id)) for e in rows]


# ---- categories -------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryNode])
async def category_tree(db: DbSession, principal: Reader) -> list[dict[str, Any]]:
    """The category tree with the number of entries in and below each category."""
    return await service.category_tree(db)


@router.post("/categories", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Add a category (under ``parent_id``; at most 5 levels)."""
    c = await service.create_category(db, actor=principal, name=body.name, parent_id=body.parent_id, sort=body.sort)
    return category_view(c)


@router.patch("/categories/{category_id}", response_model=CategoryOut)
async def update_category(category_id: RowId, body: CategoryPatch, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Rename, move (``parent_id``, null = top level) or re-order a category; the paths below follow."""
    parent: Any = body.parent_id if "parent_id" in body.model_fields_set else "keep"
    c = await service.update_category(db, actor=principal, category_id=category_id, name=body.name, parent_id=parent,
                                      sort=body.sort)  # fmt: skip
    return category_view(c)


@router.delete("/categories/{category_id}", status_code=204)
async def delete_category(category_id: RowId, db: DbSession, principal: Editor) -> None:
    """Delete an empty category (no sub-categories, entries or forwarded questions)."""
    await service.delete_category(db, actor=principal, category_id=category_id)


# ---- entries ----------------------------------------------------------------------------------


@router.get("/entries", response_model=EntryPage)
async def list_entries(
    db: DbSession,
    principal: Editor,
    status: Status | None = None,
    category_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="includes sub-categories")] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the key, question or keywords")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Working copies, most recently changed first."""
    rows, total = await service.list_entries(db, status=status, category_id=category_id, q=q, offset=offset,
                                             limit=limit)  # fmt: skip
    return {"items": await _page(db, rows), "total": total, "offset": offset, "limit": limit}


@router.get("/review-queue", response_model=list[EntryOut])
async def review_queue(db: DbSession, principal: Reviewer) -> list[dict[str, Any]]:
    """Entries waiting for review, oldest submission first."""
    return await _page(db, await service.review_queue(db))


@router.post("/entries", response_model=EntryOut, status_code=201)
async def create_entry(body: EntryIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """A new draft; submit it for review to publish it."""
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    e = await service.create_entry(db, actor=principal, **values)
    return await _out(db, e)


@router.get("/entries/{entry_id}", response_model=EntryOut)
async def get_entry(entry_id: RowId, db: DbSession, principal: Editor) -> dict[str, Any]:
    """The working copy and its review state."""
    return await _out(db, await service.get_entry(db, entry_id))


@router.patch("/entries/{entry_id}", response_model=EntryOut)
async def update_entry(entry_id: RowId, body: EntryPatch, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Edit the working copy (a published entry stays live until the new version is approved; an empty
    edit of a retired entry restores it as a draft). Send ``version`` to refuse edits over someone else's."""
    changes = body.model_dump(exclude_unset=True)
    expected = changes.pop("version", None)
    e = await service.update_entry(db, actor=principal, entry_id=entry_id, expected_version=expected, **changes)
    return await _out(db, e)


@router.post("/entries/{entry_id}/submit", response_model=EntryOut)
async def submit_entry(entry_id: RowId, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Send a draft to the reviewers."""
    return await _out(db, await service.submit(db, actor=principal, entry_id=entry_id))


@router.post("/entries/{entry_id}/approve", response_model=EntryOut)
async def approve_entry(entry_id: RowId, body: ReviewIn, db: DbSession, principal: Reviewer) -> dict[str, Any]:
    """Publish an entry in review (a reviewer who wrote none of its versions since the last publish)."""
    return await _out(db, await service.approve(db, actor=principal, entry_id=entry_id, note=body.note))


@router.post("/entries/{entry_id}/reject", response_model=EntryOut)
async def reject_entry(entry_id: RowId, body: RejectIn, db: DbSession, principal: Reviewer) -> dict[str, Any]:
    """Send an entry in review back to its author as a draft, with what to change."""
    return await _out(db, await service.reject(db, actor=principal, entry_id=entry_id, note=body.note))


@router.post("/entries/{entry_id}/retire", response_model=EntryOut)
async def retire_entry(entry_id: RowId, body: RetireIn, db: DbSession, principal: Reviewer) -> dict[str, Any]:
    """Withdraw an entry: agents and the bot no longer see it."""
    return await _out(db, await service.retire(db, actor=principal, entry_id=entry_id, reason=body.reason))


@router.get("/entries/{entry_id}/versions", response_model=list[VersionOut])
async def entry_versions(entry_id: RowId, db: DbSession, principal: Editor) -> list[dict[str, Any]]:
    """Every version of the entry, newest first, with its content."""
    return [version_view(v) for v in await service.versions(db, entry_id)]


@router.get("/entries/{entry_id}/diff", response_model=DiffOut)
async def entry_diff(
    entry_id: RowId,
    db: DbSession,
    principal: Editor,
    a: Annotated[int, Query(ge=1, le=1_000_000, description="the older version")],
    b: Annotated[int, Query(ge=1, le=1_000_000, description="the newer version")],
) -> dict[str, Any]:
    """What changed between two versions, field by field."""
    return await service.diff(db, entry_id, a, b)


# ---- what agents read -------------------------------------------------------------------------


@router.get("/articles/{entry_id}", response_model=LiveEntryOut)
async def read_article(entry_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """The live copy of a published entry in effect today (404 otherwise); counts as an open."""
    from kefu.knowledge import hits

    view = await service.live_entry(db, entry_id, service.local_today())
    await hits.record(db, entry_id=entry_id, kind="open")
    return view


# ---- synonyms ---------------------------------------------------------------------------------


@router.get("/synonyms", response_model=list[SynonymOut])
async def list_synonyms(db: DbSession, principal: Editor) -> list[dict[str, Any]]:
    return [synonym_view(s) for s in await service.list_synonyms(db)]


@router.post("/synonyms", response_model=SynonymOut, status_code=201)
async def create_synonym(body: SynonymIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """A synonym group: the canonical term and the words customers use for it (a word in one group only)."""
    return synonym_view(await service.save_synonym(db, actor=principal, canonical=body.canonical, terms=body.terms))


@router.patch("/synonyms/{synonym_id}", response_model=SynonymOut)
async def update_synonym(synonym_id: RowId, body: SynonymIn, db: DbSession, principal: Editor) -> dict[str, Any]:
    """Replace a synonym group's canonical term and words."""
    row = await service.save_synonym(db, actor=principal, canonical=body.canonical, terms=body.terms,
                                     synonym_id=synonym_id)  # fmt: skip
    return synonym_view(row)


@router.delete("/synonyms/{synonym_id}", status_code=204)
async def delete_synonym(synonym_id: RowId, db: DbSession, principal: Editor) -> None:
    await service.delete_synonym(db, actor=principal, synonym_id=synonym_id)


# ---- import / export --------------------------------------------------------------------------


@router.post("/import", response_model=ImportOut)
async def import_entries(
    body: Annotated[list[dict[str, Any]], Body(max_length=MAX_IMPORT, description="lines of the import format")],
    db: DbSession,
    principal: Editor,
) -> dict[str, Any]:
    """Create or update entries by key, as drafts for the usual review (publishing at once is only for
    the command line's trusted bulk load). Lines that are not valid are reported; the others import."""
    return await importer.import_entries(db, actor=principal, lines=body, publish=False)


@router.get("/export", response_model=list[dict[str, Any]])
async def export_entries(db: DbSession, principal: Editor) -> list[dict[str, Any]]:
    """Every entry's working copy in the import format, with status, products, channels and dates."""
    return await importer.export_entries(db)
