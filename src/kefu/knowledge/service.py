"""Knowledge-base entries (R4.1, R4.2): the category tree, entries with their review workflow, versions
and diffs, and the synonym table editors maintain.

An entry row holds the working copy and, once a reviewer approves it, the live copy (``live``).
Workflow: ``draft`` → (submit) ``in_review`` → (approve) ``published`` or (reject) back to ``draft``;
an edit of an in-review or published entry makes it a draft again (a published entry's live copy
stays live and searchable meanwhile); retire withdraws the live copy; an edit of a retired entry
restores it as a draft. The reviewer who approves must not have written any version since the last
publish (four eyes; for an entry that was retired or never published: any version).

Keyword-only functions; they never commit. Every change is audited. The ``add_entry``,
``change_entry`` and ``publish_entry`` building blocks do not check permissions (the importer uses
them for system imports); the public functions do.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.service import invalid
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.permissions import Permission
from kefu.knowledge import repository as repo
from kefu.knowledge.models import EntryStatus, KbCategory, KbEntry, KbEntryVersion, KbSynonym
from kefu.knowledge.views import (
    CONTENT_FIELDS,
    LIST_FIELDS,
    category_view,
    content_of,
    dump_list,
    entry_audit,
    json_list,
    live_content,
    live_view,
    synonym_view,
)
from kefu.staff import repository as staff_repo

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and lone surrogates
MAX_DEPTH = 5
DEFAULT_TZ = "Asia/Shanghai"

_NEED = {
    Permission.KB_EDIT: "Only knowledge-base editors can change entries, categories and synonyms.",
    Permission.KB_REVIEW: "Only knowledge-base reviewers can approve, send back or retire entries.",
}

# ---- small helpers ----------------------------------------------------------------------------


def _need(actor: Principal, perm: Permission) -> None:
    if not actor.can(perm):
        raise PermissionDenied(_NEED[perm] + " Ask an administrator if you need it.")


async def _notify(session: AsyncSession) -> None:
    """Tell the search index that the live entries, the categories or the synonyms changed."""
    from kefu.knowledge import index

    await index.notify_changed(session)


def local_today() -> dt.date:
    """Today in the center's time zone (``settings.timezone``, Asia/Shanghai by default)."""
    from kefu.core import runtime

    try:
        tz = runtime.get().settings.timezone or DEFAULT_TZ
    except RuntimeError:
        tz = DEFAULT_TZ
    return clock.now().astimezone(ZoneInfo(tz)).date()


def printable(text: str) -> str:
    """``text`` safe to echo in a response (a lone surrogate becomes "?")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _text(value: Any, field: str, label: str, *, lo: int, hi: int, one_line: bool) -> str:
    """Checked text, stripped; a one-line field has its runs of white space (line breaks too) made one space."""
    if not isinstance(value, str):
        raise invalid(field, f"Give {label} as text.")
    text = " ".join(value.split()) if one_line else value.strip()
    if not lo <= len(text) <= hi:
        raise invalid(field, f"Write {label} in {lo} to {hi:,} characters.")
    if CONTROL.search(text):
        raise invalid(field, f"Remove the control characters (or broken ones) from {label}.")
    return text


def _items(value: Any, field: str, label: str, *, most: int, longest: int) -> list[str]:
    """A checked list of one-line texts: white space made single, empty and repeated ones dropped."""
    if not isinstance(value, list | tuple) or not all(isinstance(x, str) for x in value):
        raise invalid(field, f"Give {label} as a list of texts.")
    out: list[str] = []
    for raw in value:
        item = " ".join(raw.split())
        if len(item) > longest:
            raise invalid(field, f"Each of {label} has at most {longest} characters; shorten “{printable(item[:20])}”.")
        if CONTROL.search(item):
            raise invalid(field, f"Remove the control characters (or broken ones) from {label}.")
        if item and item not in out:
            out.append(item)
    if len(out) > most:
        raise invalid(field, f"Give at most {most} {label}.")
    return out


def _day(value: Any, field: str, label: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise invalid(field, f"Give {label} as a date like 2026-12-31, or leave it empty.") from None


def _expert_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not repo.valid_id(value):
        raise invalid("expert_id", "Give the business expert as a staff id, or leave it empty.")
    return value


_CLEANERS: dict[str, Any] = {
    "question": lambda v: _text(v, "question", "the standard question", lo=2, hi=300, one_line=True),
    "answer": lambda v: _text(v, "answer", "the answer", lo=1, hi=20_000, one_line=False),
    "internal_notes": lambda v: _text(v, "internal_notes", "the internal notes", lo=0, hi=4000, one_line=False),
    "expert_note": lambda v: _text(v, "expert_note", "the expert note", lo=0, hi=200, one_line=True),
    "similar": lambda v: _items(v, "similar", "the similar questions", most=50, longest=300),
    "keywords": lambda v: _items(v, "keywords", "the keywords", most=50, longest=40),
    "products": lambda v: _items(v, "products", "the products", most=20, longest=40),
    "channels": lambda v: _items(v, "channels", "the channels", most=20, longest=20),
    "effective_from": lambda v: _day(v, "effective_from", "the first day the answer holds"),
    "effective_to": lambda v: _day(v, "effective_to", "the last day the answer holds"),
    "expert_id": _expert_id,
}
CONTENT_KEYS = frozenset(_CLEANERS)


def clean_content(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked column values for the content fields in ``values`` (lists as JSON text); 422 on the first
    field that is not valid, with a message saying how to fix it."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _CLEANERS:
            shown = printable(str(name))
            raise invalid(shown, f"{shown} is not a field of an entry; the fields are {', '.join(sorted(_CLEANERS))}.")
        cleaned = _CLEANERS[name](value)
        out[name] = dump_list(cleaned) if name in LIST_FIELDS else cleaned
    return out


def check_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise invalid("effective_to", "The last day the answer holds must not be before its first day.")


async def _check_expert(session: AsyncSession, expert_id: int | None) -> None:
    if expert_id is not None and await staff_repo.get_staff(session, expert_id) is None:
        raise invalid("expert_id", f"No staff member {expert_id}; name the business expert by their staff id.")


# ---- categories -------------------------------------------------------------------------------


def _name(value: Any) -> str:
    name = _text(value, "name", "the category name", lo=1, hi=60, one_line=True)
    if "/" in name:
        raise invalid("name", "A category name cannot contain '/'; the path joins names with it.")
    return name


def parse_path(path: Any) -> list[str]:
    """The names of a category path "a/b/c" (spaces around names dropped); 422 when it is not valid."""
    if not isinstance(path, str) or not path.strip():
        raise invalid("category", "Give the category as a path of names joined by '/', e.g. 借记卡/挂失补办.")
    names = [part.strip() for part in path.strip().strip("/").split("/")]
    if any(not n for n in names) or len(names) > MAX_DEPTH:
        raise invalid("category", f"A category path has 1 to {MAX_DEPTH} non-empty names joined by '/'.")
    return [_name(n) for n in names]


async def _add_category(session: AsyncSession, *, name: str, parent: KbCategory | None, sort: int) -> KbCategory:
    path = f"{parent.path}/{name}" if parent else name
    if len(path) > 400:
        raise invalid("name", "The category path is too long (at most 400 characters); use shorter names.")
    if await repo.category_by_path(session, path) is not None:
        raise Conflict(f"Category {path} already exists; choose another name.", extra={"errors": [{"field": "name"}]})
    c = KbCategory(parent_id=parent.id if parent else None, name=name, path=path, sort=sort, created_at=clock.now())
    session.add(c)
    await session.flush()
    await audit.record(session, action="kb_category.create", object_type="kb_category", object_id=c.id,
                       after=category_view(c))  # fmt: skip
    return c


async def ensure_category(session: AsyncSession, path: str) -> KbCategory:
    """The category at ``path`` ("a/b"), creating it and any missing parent on demand."""
    parent: KbCategory | None = None
    so_far = ""
    for name in parse_path(path):
        so_far = f"{so_far}/{name}" if so_far else name
        found = await repo.category_by_path(session, so_far)
        parent = found or await _add_category(session, name=name, parent=parent, sort=0)
    assert parent is not None  # noqa: S101 - parse_path gives at least one name
    return parent


async def _category(session: AsyncSession, category_id: int, field: str = "category_id") -> KbCategory:
    c = await repo.get_category(session, category_id)
    if c is None:
        raise invalid(field, f"No knowledge-base category {category_id}; choose one from the category tree.")
    return c


async def resolve_category(
    session: AsyncSession, *, category_path: str | None = None, category_id: int | None = None
) -> KbCategory:
    """The category named by id, or else by path (created on demand)."""
    if category_id is not None:
        return await _category(session, category_id)
    if category_path is None:
        raise invalid("category_path", "Choose the entry's category (category_id or a path like 借记卡/挂失补办).")
    return await ensure_category(session, category_path)


def _depth(path: str) -> int:
    return path.count("/") + 1


async def category_tree(session: AsyncSession) -> list[dict[str, Any]]:
    """The categories as a tree (by ``sort``, then path); ``count``: entries in it and below, not retired."""
    rows = list(await repo.categories(session))
    counts = await repo.entry_counts(session)
    nodes = {c.id: {**category_view(c), "own": counts.get(c.id, 0), "children": []} for c in rows}
    roots: list[dict[str, Any]] = []
    for c in rows:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        (parent["children"] if parent else roots).append(nodes[c.id])

    def total(node: dict[str, Any]) -> int:
        node["count"] = node.pop("own") + sum(total(child) for child in node["children"])
        return int(node["count"])

    for root in roots:
        total(root)
    return roots


async def create_category(
    session: AsyncSession, *, actor: Principal, name: str, parent_id: int | None = None, sort: int = 0
) -> KbCategory:
    _need(actor, Permission.KB_EDIT)
    parent = await _category(session, parent_id, "parent_id") if parent_id is not None else None
    if parent is not None and _depth(parent.path) >= MAX_DEPTH:
        raise invalid("parent_id", f"The category tree is at most {MAX_DEPTH} levels deep; choose a higher parent.")
    return await _add_category(session, name=_name(name), parent=parent, sort=sort)


async def _new_parent(session: AsyncSession, c: KbCategory, parent_id: int | None) -> KbCategory | None:
    if parent_id is None:
        return None
    parent = await _category(session, parent_id, "parent_id")
    if parent.id == c.id or parent.path.startswith(c.path + "/"):
        raise invalid("parent_id", "A category cannot move under itself or one of its sub-categories.")
    return parent


async def update_category(
    session: AsyncSession,
    *,
    actor: Principal,
    category_id: int,
    name: str | None = None,
    parent_id: int | None | Literal["keep"] = "keep",
    sort: int | None = None,
) -> KbCategory:
    """Rename, move (``parent_id``; None = top level) or re-order a category; the paths below follow."""
    _need(actor, Permission.KB_EDIT)
    c = await repo.get_category(session, category_id)
    if c is None:
        raise NotFound(f"No knowledge-base category {category_id}.")
    before = category_view(c)
    parent = await _new_parent(session, c, parent_id) if parent_id != "keep" else None
    if parent_id == "keep" and c.parent_id is not None:
        parent = await repo.get_category(session, c.parent_id)
    new_name = _name(name) if name is not None else c.name
    new_path = f"{parent.path}/{new_name}" if parent else new_name
    if new_path != c.path:
        await _move(session, c, new_path, parent)
    c.name = new_name
    if sort is not None:
        c.sort = sort
    await session.flush()
    if category_view(c) != before:
        await audit.record(session, action="kb_category.update", object_type="kb_category", object_id=c.id,
                           before=before, after=category_view(c))  # fmt: skip
        await _notify(session)
    return c


async def _move(session: AsyncSession, c: KbCategory, new_path: str, parent: KbCategory | None) -> None:
    if await repo.category_by_path(session, new_path) is not None:
        raise Conflict(f"Category {new_path} already exists; choose another name or place.")
    below = [x for x in await repo.subtree(session, c) if x.id != c.id]
    old = c.path
    deepest = max([_depth(x.path) for x in below] + [_depth(old)]) - _depth(old)
    if _depth(new_path) + deepest > MAX_DEPTH:
        raise invalid("parent_id", f"The category tree is at most {MAX_DEPTH} levels deep; choose a higher parent.")
    if len(new_path) + max([len(x.path) - len(old) for x in below] + [0]) > 400:
        raise invalid("name", "The category paths would be too long (at most 400 characters); use a shorter name.")
    for x in below:
        x.path = new_path + x.path[len(old) :]
    c.path, c.parent_id = new_path, parent.id if parent else None


async def delete_category(session: AsyncSession, *, actor: Principal, category_id: int) -> None:
    """Delete an empty category (no sub-categories, entries or forwarded questions)."""
    _need(actor, Permission.KB_EDIT)
    c = await repo.get_category(session, category_id)
    if c is None:
        raise NotFound(f"No knowledge-base category {category_id}.")
    used = await repo.category_in_use(session, c.id)
    if used:
        raise Conflict(f"Category {c.path} still has {used}; move or delete them first.")
    before = category_view(c)
    await session.delete(c)
    await session.flush()
    await audit.record(session, action="kb_category.delete", object_type="kb_category", object_id=category_id,
                       before=before)  # fmt: skip


# ---- entries: building blocks (no permission checks) -------------------------------------------


async def _path_of(session: AsyncSession, category_id: int) -> str | None:
    c = await repo.get_category(session, category_id)
    return c.path if c else None


async def _write_version(
    session: AsyncSession, e: KbEntry, *, action: str, actor_id: int | None, note: str = ""
) -> None:
    content = content_of(e, await _path_of(session, e.category_id))
    session.add(KbEntryVersion(entry_id=e.id, version=e.version, content=json.dumps(content, ensure_ascii=False),
                               action=action, changed_by=actor_id, changed_at=clock.now(), note=note))  # fmt: skip


async def _generated_key(session: AsyncSession, e: KbEntry) -> str:
    key, n = f"kb-{e.id}", 1
    while await repo.entry_by_key(session, key) is not None:
        n += 1
        key = f"kb-{e.id}-{n}"
    return key


async def _check_key(session: AsyncSession, key: str) -> str:
    key = key.strip()
    if not KEY.match(key):
        raise invalid("key", "A key has letters, digits, '_', '.' or '-' (at most 80), e.g. card-loss-001.")
    taken = await repo.entry_by_key(session, key)
    if taken is not None:
        raise Conflict(f"Key {key} is already used by entry {taken.id}; choose another key or edit that entry.",
                       extra={"errors": [{"field": "key"}]})  # fmt: skip
    return key


async def add_entry(
    session: AsyncSession,
    *,
    actor_id: int | None,
    category: KbCategory,
    values: Mapping[str, Any],
    key: str | None = None,
    action: str = "create",
    source_question_id: int | None = None,
    publish_note: str | None = None,
) -> KbEntry:
    """A new draft (version 1) from content ``values`` (``question`` and ``answer`` required); with a
    ``publish_note`` it is published at once without a reviewer (a system import)."""
    cleaned = clean_content(values)
    for required in ("question", "answer"):
        if required not in cleaned:
            raise invalid(required, f"Give the entry's {required}.")
    check_dates(cleaned.get("effective_from"), cleaned.get("effective_to"))
    await _check_expert(session, cleaned.get("expert_id"))
    checked_key = await _check_key(session, key) if key is not None else None
    now = clock.now()
    e = KbEntry(key=checked_key or f"tmp-{uuid4().hex}", status=EntryStatus.DRAFT.value, category_id=category.id,
                version=1, author_id=actor_id, created_by=actor_id, source_question_id=source_question_id,
                created_at=now, updated_at=now, similar="[]", keywords="[]", products="[]", channels="[]",
                internal_notes="", expert_note="", review_note="")  # fmt: skip
    for name, value in cleaned.items():
        setattr(e, name, value)
    session.add(e)
    await session.flush()
    if checked_key is None:
        e.key = await _generated_key(session, e)
    await _write_version(session, e, action=action, actor_id=actor_id)
    if publish_note is not None:
        await publish_entry(session, e, reviewer_id=None, note=publish_note)
    await audit.record(session, action=f"kb_entry.{action}", object_type="kb_entry", object_id=e.id,
                       after=entry_audit(e), purpose=publish_note)  # fmt: skip
    return e


async def change_entry(
    session: AsyncSession,
    e: KbEntry,
    *,
    actor_id: int | None,
    values: Mapping[str, Any],
    category: KbCategory | None = None,
    action: str = "edit",
    force: bool = False,
    publish_note: str | None = None,
) -> bool:
    """Apply content ``values`` (and a new ``category``) to the working copy. When something changed (or
    ``force``): a new version, status draft (the live copy stays) or, with a ``publish_note``, published
    at once without a reviewer (a system import); True. Unchanged: nothing, False."""
    cleaned = clean_content(values)
    check_dates(cleaned.get("effective_from", e.effective_from), cleaned.get("effective_to", e.effective_to))
    if "expert_id" in cleaned and cleaned["expert_id"] != e.expert_id:
        await _check_expert(session, cleaned["expert_id"])
    if category is not None:
        cleaned["category_id"] = category.id
    if not force and all(getattr(e, name) == value for name, value in cleaned.items()):
        return False
    before = entry_audit(e)
    for name, value in cleaned.items():
        setattr(e, name, value)
    e.version += 1
    e.status, e.submitted_at = EntryStatus.DRAFT.value, None
    e.author_id, e.updated_at = actor_id, clock.now()
    await session.flush()
    await _write_version(session, e, action=action, actor_id=actor_id)
    if publish_note is not None:
        await publish_entry(session, e, reviewer_id=None, note=publish_note)
    await audit.record(session, action=f"kb_entry.{action}", object_type="kb_entry", object_id=e.id,
                       before=before, after=entry_audit(e), purpose=publish_note)  # fmt: skip
    return True


async def publish_entry(session: AsyncSession, e: KbEntry, *, reviewer_id: int | None, note: str) -> None:
    """Make the working copy the live copy (the caller notifies the index)."""
    now = clock.now()
    e.live = json.dumps(content_of(e, await _path_of(session, e.category_id)), ensure_ascii=False)
    e.live_version, e.published_at, e.retired_at = e.version, now, None
    e.status, e.reviewer_id, e.reviewed_at, e.review_note = EntryStatus.PUBLISHED.value, reviewer_id, now, note
    e.updated_at = now


# ---- entries: the workflow ---------------------------------------------------------------------


async def get_entry(session: AsyncSession, entry_id: int, *, for_update: bool = False) -> KbEntry:
    e = await repo.get_entry(session, entry_id, for_update=for_update)
    if e is None:
        raise NotFound(f"No knowledge-base entry {entry_id}.")
    return e


async def create_entry(
    session: AsyncSession,
    *,
    actor: Principal,
    category_path: str | None = None,
    category_id: int | None = None,
    question: str,
    answer: str,
    similar: Sequence[str] = (),
    keywords: Sequence[str] = (),
    key: str | None = None,
    products: Sequence[str] = (),
    channels: Sequence[str] = (),
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    internal_notes: str = "",
    expert_id: int | None = None,
    expert_note: str = "",
    source_question_id: int | None = None,
) -> KbEntry:
    """A new draft in the category ``category_id`` or at ``category_path`` (created on demand); the key is
    generated ("kb-<n>") when not given."""
    _need(actor, Permission.KB_EDIT)
    values = {
        "question": question, "answer": answer, "similar": list(similar), "keywords": list(keywords),
        "products": list(products), "channels": list(channels), "effective_from": effective_from,
        "effective_to": effective_to, "internal_notes": internal_notes, "expert_id": expert_id,
        "expert_note": expert_note,
    }  # fmt: skip
    clean_content(values)  # every field checked before a category is created on demand
    category = await resolve_category(session, category_path=category_path, category_id=category_id)
    return await add_entry(session, actor_id=actor.staff_id, category=category, values=values, key=key,
                           source_question_id=source_question_id)  # fmt: skip


async def update_entry(
    session: AsyncSession, *, actor: Principal, entry_id: int, expected_version: int | None = None, **changes: Any
) -> KbEntry:
    """Edit the working copy (content fields, ``category_id`` or ``category_path``). A changed in-review or
    published entry becomes a draft (the live copy stays live); an edit of a retired entry, even an
    empty one, restores it as a draft. ``expected_version``: refuse if someone else changed it since."""
    _need(actor, Permission.KB_EDIT)
    e = await get_entry(session, entry_id, for_update=True)
    if expected_version is not None and expected_version != e.version:
        raise Conflict(f"Entry {e.key} was changed meanwhile (now version {e.version}); reload it and edit again.")
    if "key" in changes:
        raise invalid("key", "The key is the entry's stable id for import and export; it cannot be changed.")
    path, cid = changes.pop("category_path", None), changes.pop("category_id", None)
    clean_content(changes)
    category = await resolve_category(session, category_path=path, category_id=cid) if path or cid else None
    retired = e.status == EntryStatus.RETIRED.value
    await change_entry(session, e, actor_id=actor.staff_id, values=changes, category=category,
                       action="restore" if retired else "edit", force=retired)  # fmt: skip
    return e


async def _transition(
    session: AsyncSession, e: KbEntry, *, action: str, before: dict[str, Any], purpose: str | None = None
) -> None:
    e.updated_at = clock.now()
    await session.flush()
    await audit.record(session, action=f"kb_entry.{action}", object_type="kb_entry", object_id=e.id, before=before,
                       after=entry_audit(e), purpose=purpose)  # fmt: skip


_NOT_IN_REVIEW = {
    EntryStatus.DRAFT.value: "is a draft; its author submits it for review first",
    EntryStatus.PUBLISHED.value: "is already published; edit it to start a new version",
    EntryStatus.RETIRED.value: "is retired; edit it to restore it as a draft",
}


def _must_be_in_review(e: KbEntry, verb: str) -> None:
    if e.status != EntryStatus.IN_REVIEW.value:
        raise Conflict(f"Only entries waiting for review can be {verb}; entry {e.key} {_NOT_IN_REVIEW[e.status]}.")


async def submit(session: AsyncSession, *, actor: Principal, entry_id: int) -> KbEntry:
    """Send a draft to the reviewers."""
    _need(actor, Permission.KB_EDIT)
    e = await get_entry(session, entry_id, for_update=True)
    if e.status != EntryStatus.DRAFT.value:
        reason = {
            EntryStatus.IN_REVIEW.value: "is already waiting for review",
            EntryStatus.PUBLISHED.value: "is published and unchanged; edit it first to submit a new version",
            EntryStatus.RETIRED.value: "is retired; edit it to restore it as a draft first",
        }[e.status]
        raise Conflict(f"Only drafts can be submitted; entry {e.key} {reason}.")
    before = entry_audit(e)
    e.status, e.submitted_at = EntryStatus.IN_REVIEW.value, clock.now()
    await _transition(session, e, action="submit", before=before)
    return e


async def approve(session: AsyncSession, *, actor: Principal, entry_id: int, note: str = "") -> KbEntry:
    """Publish an entry in review. The reviewer must not have written a version since the last publish."""
    _need(actor, Permission.KB_REVIEW)
    e = await get_entry(session, entry_id, for_update=True)
    _must_be_in_review(e, "approved")
    text = _text(note, "note", "the review note", lo=0, hi=2000, one_line=False)
    if actor.staff_id in await repo.changed_by_since(session, e.id, e.live_version or 0):
        raise PermissionDenied(
            f"You wrote or changed entry {e.key} since it was last published; another reviewer must approve it "
            "(four-eyes rule)."
        )
    before = entry_audit(e)
    await publish_entry(session, e, reviewer_id=actor.staff_id, note=text)
    await _transition(session, e, action="approve", before=before)
    await _notify(session)
    return e


async def reject(session: AsyncSession, *, actor: Principal, entry_id: int, note: str) -> KbEntry:
    """Send an entry in review back to its author as a draft, saying what to change."""
    _need(actor, Permission.KB_REVIEW)
    e = await get_entry(session, entry_id, for_update=True)
    _must_be_in_review(e, "sent back")
    if not isinstance(note, str) or len(note.strip()) < 2:
        raise invalid("note", "Say what the author should change (2 to 2,000 characters).")
    text = _text(note, "note", "the review note", lo=2, hi=2000, one_line=False)
    before = entry_audit(e)
    e.status, e.submitted_at = EntryStatus.DRAFT.value, None
    e.reviewer_id, e.reviewed_at, e.review_note = actor.staff_id, clock.now(), text
    await _transition(session, e, action="reject", before=before)
    return e


async def retire(session: AsyncSession, *, actor: Principal, entry_id: int, reason: str) -> KbEntry:
    """Withdraw an entry: agents and the bot no longer see it (its history stays)."""
    _need(actor, Permission.KB_REVIEW)
    e = await get_entry(session, entry_id, for_update=True)
    if e.status == EntryStatus.RETIRED.value:
        raise Conflict(f"Entry {e.key} is already retired.")
    if not isinstance(reason, str) or len(reason.strip()) < 2:
        raise invalid("reason", "Say why the entry is retired (2 to 500 characters).")
    text = _text(reason, "reason", "the reason", lo=2, hi=500, one_line=False)
    before = entry_audit(e)
    was_live = e.live is not None
    now = clock.now()
    e.status, e.live, e.live_version, e.retired_at, e.submitted_at = EntryStatus.RETIRED.value, None, None, now, None
    e.reviewer_id, e.reviewed_at, e.review_note = actor.staff_id, now, text
    await _transition(session, e, action="retire", before=before, purpose=text)
    if was_live:
        await _notify(session)
    return e


# ---- reading ----------------------------------------------------------------------------------


def in_effect(live: Mapping[str, Any], today: dt.date) -> bool:
    """Whether ``today`` lies within a live copy's effective_from..effective_to (both inclusive)."""
    start, end = live.get("effective_from"), live.get("effective_to")
    return (not start or dt.date.fromisoformat(start) <= today) and (not end or today <= dt.date.fromisoformat(end))


def is_visible(e: KbEntry, today: dt.date) -> bool:
    """Agents and the bot see an entry with a live copy, not retired, in effect ``today`` (local day)."""
    live = live_content(e)
    return live is not None and e.status != EntryStatus.RETIRED.value and in_effect(live, today)


async def live_entry(session: AsyncSession, entry_id: int, today: dt.date) -> dict[str, Any]:
    """The live copy as agents see it (``views.live_view``), or 404 when it is not visible ``today``."""
    e = await repo.get_entry(session, entry_id)
    if e is None or not is_visible(e, today):
        raise NotFound(f"Entry {entry_id} is not published or not in effect today; search for the current answer.")
    return live_view(e, await _path_of(session, e.category_id))


async def list_entries(
    session: AsyncSession,
    *,
    status: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[KbEntry], int]:
    """Working copies, newest change first; ``category_id`` includes its sub-categories; ``q`` is a
    substring of the key, question, similar questions or keywords."""
    if status is not None and status not in {s.value for s in EntryStatus}:
        raise invalid("status", "Status is draft, in_review, published or retired.")
    ids = None
    if category_id is not None:
        ids = [c.id for c in await repo.subtree(session, await _category(session, category_id))]
    text = q.strip() if q else None
    return await repo.list_entries(session, status=status, category_ids=ids, q=text, offset=offset, limit=limit)


async def review_queue(session: AsyncSession) -> Sequence[KbEntry]:
    """Entries waiting for review, oldest submission first."""
    return await repo.in_review(session)


async def versions(session: AsyncSession, entry_id: int) -> Sequence[KbEntryVersion]:
    """Every version of the entry, newest first."""
    e = await get_entry(session, entry_id)
    return await repo.versions_of(session, e.id)


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(x) for x in value]
    return str(value).splitlines()


async def _version_content(session: AsyncSession, e: KbEntry, version: int) -> dict[str, Any]:
    v = await repo.version_of(session, e.id, version)
    if v is None:
        raise NotFound(f"Entry {e.key} has no version {version}; its versions are 1 to {e.version}.")
    content = json.loads(v.content)
    return content if isinstance(content, dict) else {}


async def diff(session: AsyncSession, entry_id: int, a: int, b: int) -> dict[str, Any]:
    """What changed from version ``a`` to ``b``: a unified diff per changed field."""
    e = await get_entry(session, entry_id)
    old, new = await _version_content(session, e, a), await _version_content(session, e, b)
    changes = []
    for field in CONTENT_FIELDS:
        if old.get(field) == new.get(field):
            continue
        lines = difflib.unified_diff(_lines(old.get(field)), _lines(new.get(field)), fromfile=f"v{a}",
                                     tofile=f"v{b}", lineterm="")  # fmt: skip
        changes.append({"field": field, "diff": "\n".join(lines)})
    return {"entry_id": e.id, "key": e.key, "from_version": a, "to_version": b, "changes": changes}


# ---- synonyms ---------------------------------------------------------------------------------


async def list_synonyms(session: AsyncSession) -> Sequence[KbSynonym]:
    return await repo.synonyms(session)


async def _check_group(session: AsyncSession, canonical: str, terms: list[str], own_id: int | None) -> None:
    mine = {w.casefold() for w in [canonical, *terms]}
    for other in await repo.synonyms(session):
        if other.id == own_id:
            continue
        if other.canonical.casefold() == canonical.casefold():
            raise Conflict(f"There is already a group for {other.canonical}; edit that group instead.")
        for word in [other.canonical, *json_list(other.terms)]:
            if word.casefold() in mine:
                raise Conflict(f"“{word}” is already in the group of {other.canonical}; a word belongs to one group.")


def _group(canonical: str, terms: Sequence[str]) -> tuple[str, list[str]]:
    word = _text(canonical, "canonical", "the canonical term", lo=1, hi=40, one_line=True)
    others = [t for t in _items(list(terms), "terms", "the synonyms", most=50, longest=40) if t != word]
    if not others:
        raise invalid("terms", "Give at least one other word that means the same as the canonical term.")
    return word, others


async def save_synonym(
    session: AsyncSession, *, actor: Principal, canonical: str, terms: Sequence[str], synonym_id: int | None = None
) -> KbSynonym:
    """Create a synonym group, or replace group ``synonym_id``; a word belongs to one group only."""
    _need(actor, Permission.KB_EDIT)
    word, others = _group(canonical, terms)
    row = None
    if synonym_id is not None:
        row = await repo.get_synonym(session, synonym_id)
        if row is None:
            raise NotFound(f"No synonym group {synonym_id}.")
    await _check_group(session, word, others, synonym_id)
    before = synonym_view(row) if row else None
    if row is None:
        row = KbSynonym(canonical=word, terms="[]", updated_at=clock.now())
        session.add(row)
    row.canonical, row.terms, row.updated_by, row.updated_at = word, dump_list(others), actor.staff_id, clock.now()
    await session.flush()
    await audit.record(session, action=f"kb_synonym.{'update' if before else 'create'}", object_type="kb_synonym",
                       object_id=row.id, before=before, after=synonym_view(row))  # fmt: skip
    await _notify(session)
    return row


async def delete_synonym(session: AsyncSession, *, actor: Principal, synonym_id: int) -> None:
    _need(actor, Permission.KB_EDIT)
    row = await repo.get_synonym(session, synonym_id)
    if row is None:
        raise NotFound(f"No synonym group {synonym_id}.")
    before = synonym_view(row)
    await session.delete(row)
    await session.flush()
    await audit.record(session, action="kb_synonym.delete", object_type="kb_synonym", object_id=synonym_id,
                       before=before)  # fmt: skip
    await _notify(session)
