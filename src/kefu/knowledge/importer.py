"""Import and export of entries as JSON lines (``kefu kb import/export``, ``POST /api/v1/kb/import``).

A line: ``{"key", "category": "a/b", "question", "similar": [...], "keywords": [...], "answer"}``, and
optionally ``products``, ``channels``, ``effective_from``, ``effective_to`` (ISO dates),
``internal_notes``, ``expert_note``; an export line adds ``status`` (ignored on import, except that a
``retired`` line is not published). The key is the entry's stable id: a line with a new key creates a
draft, with a known key it updates the working copy (fields the line leaves out keep their value), and
unchanged content writes nothing, so a re-import of the same file changes nothing. ``publish=True``
(the CLI's ``--publish``, a trusted bulk load) publishes each entry at once as a system import, without
a reviewer. Each line that is not valid is reported with its number; the others are still imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.service import invalid
from kefu.core import audit
from kefu.core.auth import Principal
from kefu.core.errors import KefuError
from kefu.knowledge import repository as repo
from kefu.knowledge import service
from kefu.knowledge.models import EntryStatus, KbCategory, KbEntry
from kefu.knowledge.views import entry_audit, json_list

IMPORT_NOTE = "imported with --publish"
LINE_FIELDS = ("key", "category", "question", "similar", "keywords", "answer")
OPTIONAL_FIELDS = ("products", "channels", "effective_from", "effective_to", "internal_notes", "expert_note")
EXPORT_ONLY = ("status",)
ALLOWED = frozenset(LINE_FIELDS + OPTIONAL_FIELDS + EXPORT_ONLY)


@dataclass
class _Run:
    actor_id: int | None
    publish: bool
    existing: dict[str, KbEntry]
    seen: dict[str, int] = field(default_factory=dict)
    categories: dict[str, KbCategory] = field(default_factory=dict)
    published: int = 0


def _key_of(line: Any) -> str | None:
    """The line's key as given (for the error list)."""
    key = line.get("key") if isinstance(line, dict) else None
    return (service.printable(key.strip()[:80]) or None) if isinstance(key, str) else None


def _parse(line: Any) -> tuple[str, list[str], dict[str, Any]]:
    """(key, category names, content values) of one line; 422 with a message when it is not valid."""
    if not isinstance(line, dict):
        raise invalid("line", "Each line must be a JSON object with key, category, question and answer.")
    unknown = sorted(service.printable(str(k)) for k in set(line) - ALLOWED)
    if unknown:
        raise invalid(unknown[0], f"Unknown field {unknown[0]}; a line has {', '.join(LINE_FIELDS + OPTIONAL_FIELDS)}.")
    key = line.get("key")
    key = key.strip() if isinstance(key, str) else ""
    if not service.KEY.match(key):
        raise invalid("key", "Give each line a key: letters, digits, '_', '.' or '-' (at most 80), e.g. card-loss-001.")
    for required in ("question", "answer"):
        if required not in line:
            raise invalid(required, f"Give the entry's {required}.")
    values = {k: line[k] for k in (*LINE_FIELDS, *OPTIONAL_FIELDS) if k in line and k not in ("key", "category")}
    cleaned = service.clean_content(values)
    service.check_dates(cleaned.get("effective_from"), cleaned.get("effective_to"))
    return key, service.parse_path(line.get("category")), values


def _is_live(e: KbEntry) -> bool:
    return e.status == EntryStatus.PUBLISHED.value and e.live_version == e.version


async def _line(session: AsyncSession, run: _Run, number: int, line: Any) -> str:
    key, names, values = _parse(line)
    if key in run.seen:
        raise invalid("key", f"Key {key} already appears on line {run.seen[key]}; keep one line per key.")
    path = "/".join(names)
    category = run.categories.get(path) or await service.ensure_category(session, path)
    run.categories[path] = category
    publish = run.publish and line.get("status") != EntryStatus.RETIRED.value
    note = IMPORT_NOTE if publish else None
    e = run.existing.get(key)
    if e is None:
        e = await service.add_entry(session, actor_id=run.actor_id, category=category, values=values, key=key,
                                    action="import", publish_note=note)  # fmt: skip
        run.existing[key], outcome = e, "created"
    else:
        changed = await service.change_entry(session, e, actor_id=run.actor_id, values=values, category=category,
                                             action="import", publish_note=note)  # fmt: skip
        outcome = "updated" if changed else "unchanged"
    if publish and not _is_live(e):  # same content, not live yet (a draft, in review or retired)
        await service.publish_entry(session, e, reviewer_id=None, note=IMPORT_NOTE)
        await audit.record(session, action="kb_entry.import_publish", object_type="kb_entry", object_id=e.id,
                           after=entry_audit(e), purpose=IMPORT_NOTE)  # fmt: skip
        outcome = "updated"
    run.published += publish and outcome != "unchanged"
    run.seen[key] = number
    return outcome


async def import_entries(
    session: AsyncSession, *, actor: Principal | None, lines: Iterable[dict[str, Any]], publish: bool
) -> dict[str, Any]:
    """Create or update entries by key. Returns ``{created, updated, unchanged, errors: [{line, key,
    message}]}`` (lines numbered from 1). ``actor`` None: a system import (the CLI)."""
    items = list(lines)
    keys = [k for k in (_key_of(x) for x in items) if k]
    run = _Run(actor_id=actor.staff_id if actor else None, publish=publish,
               existing=await repo.entries_by_key(session, keys))  # fmt: skip
    result: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
    for number, line in enumerate(items, 1):
        try:
            result[await _line(session, run, number, line)] += 1
        except KefuError as exc:
            result["errors"].append({"line": number, "key": _key_of(line), "message": exc.detail})
    summary = {**{k: result[k] for k in ("created", "updated", "unchanged")}, "errors": len(result["errors"]),
               "published": run.published}  # fmt: skip
    await audit.record(session, action="kb.import", object_type="kb_entry", after=summary,
                       purpose=IMPORT_NOTE if publish else "import as drafts")  # fmt: skip
    if run.published:
        from kefu.knowledge import index

        await index.notify_changed(session)
    return result


async def export_entries(session: AsyncSession) -> list[dict[str, Any]]:
    """Every entry's working copy in the import format, plus status, products, channels and dates."""
    paths = await repo.category_paths(session)
    return [_export_line(e, paths.get(e.category_id, "")) for e in await repo.all_entries(session)]


def _export_line(e: KbEntry, path: str) -> dict[str, Any]:
    return {
        "key": e.key, "category": path, "question": e.question, "similar": json_list(e.similar),
        "keywords": json_list(e.keywords), "answer": e.answer, "products": json_list(e.products),
        "channels": json_list(e.channels),
        "effective_from": e.effective_from.isoformat() if e.effective_from else None,
        "effective_to": e.effective_to.isoformat() if e.effective_to else None,
        "internal_notes": e.internal_notes or "", "expert_note": e.expert_note or "", "status": e.status,
    }  # fmt: skip
