"""What responses and screens show of knowledge-base entries: the working copy for editors
(``entry_view``), the live copy for agents (``live_view``, with the answer rendered to safe HTML),
versions, categories and synonyms; and the shape of an entry's content snapshot.

Content snapshot (``content_of``; stored in ``KbEntryVersion.content`` and, once approved, in
``KbEntry.live``): ``{"key", "category_id", "category" (path when saved), "question", "similar": [...],
"keywords": [...], "answer" (Markdown), "products": [...], "channels": [...], "effective_from",
"effective_to" (ISO dates or null), "internal_notes", "expert_id", "expert_note"}``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kefu.knowledge.markdown import render
from kefu.knowledge.models import KbCategory, KbEntry, KbEntryVersion, KbSynonym

#: The fields of an entry's content, in the order versions and diffs show them.
CONTENT_FIELDS = (
    "key", "category_id", "category", "question", "similar", "keywords", "answer", "products", "channels",
    "effective_from", "effective_to", "internal_notes", "expert_id", "expert_note",
)  # fmt: skip
LIST_FIELDS = ("similar", "keywords", "products", "channels")


def json_list(text: str | None) -> list[str]:
    """A JSON list column as a list of strings (anything unreadable reads as empty)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(x) for x in value] if isinstance(value, list) else []


def dump_list(items: list[str]) -> str:
    return json.dumps(items, ensure_ascii=False)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def content_of(e: KbEntry, category_path: str | None) -> dict[str, Any]:
    """The entry's working copy as a JSON-ready snapshot."""
    return {
        "key": e.key,
        "category_id": e.category_id,
        "category": category_path,
        "question": e.question,
        "similar": json_list(e.similar),
        "keywords": json_list(e.keywords),
        "answer": e.answer,
        "products": json_list(e.products),
        "channels": json_list(e.channels),
        "effective_from": _iso(e.effective_from),
        "effective_to": _iso(e.effective_to),
        "internal_notes": e.internal_notes or "",
        "expert_id": e.expert_id,
        "expert_note": e.expert_note or "",
    }


def live_content(e: KbEntry) -> dict[str, Any] | None:
    """The published snapshot, or None when the entry has no live copy."""
    if not e.live:
        return None
    try:
        value = json.loads(e.live)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def entry_view(e: KbEntry, category_path: str | None = None) -> dict[str, Any]:
    """The working copy and workflow state, for editors and reviewers."""
    return {
        "id": e.id,
        **content_of(e, category_path),
        "answer_html": render(e.answer),
        "status": e.status,
        "version": e.version,
        "author_id": e.author_id,
        "submitted_at": e.submitted_at,
        "reviewer_id": e.reviewer_id,
        "reviewed_at": e.reviewed_at,
        "review_note": e.review_note or "",
        "live_version": e.live_version,
        "published_at": e.published_at,
        "retired_at": e.retired_at,
        "source_question_id": e.source_question_id,
        "created_by": e.created_by,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def live_view(e: KbEntry, category_path: str | None = None) -> dict[str, Any]:
    """The live copy as agents see it (``category_path``: the category's current path, if known)."""
    live = live_content(e) or {}
    return {
        "id": e.id,
        "key": e.key,
        "version": e.live_version,
        "category_id": live.get("category_id"),
        "category": category_path or live.get("category"),
        "question": live.get("question", ""),
        "similar": live.get("similar", []),
        "keywords": live.get("keywords", []),
        "answer_markdown": live.get("answer", ""),
        "answer_html": render(str(live.get("answer", ""))),
        "products": live.get("products", []),
        "channels": live.get("channels", []),
        "effective_from": live.get("effective_from"),
        "effective_to": live.get("effective_to"),
        "internal_notes": live.get("internal_notes", ""),
        "expert_note": live.get("expert_note", ""),
        "published_at": e.published_at,
    }


def entry_audit(e: KbEntry) -> dict[str, Any]:
    """Audit before/after of an entry: its workflow shape (the text is kept in the versions)."""
    return {
        "key": e.key, "status": e.status, "version": e.version, "category_id": e.category_id,
        "live_version": e.live_version,
    }  # fmt: skip


def version_view(v: KbEntryVersion) -> dict[str, Any]:
    try:
        content = json.loads(v.content or "{}")
    except ValueError:
        content = {}
    return {
        "version": v.version, "action": v.action, "changed_by": v.changed_by, "changed_at": v.changed_at,
        "note": v.note or "", "content": content,
    }  # fmt: skip


def category_view(c: KbCategory) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "path": c.path, "parent_id": c.parent_id, "sort": c.sort}


def synonym_view(s: KbSynonym) -> dict[str, Any]:
    return {
        "id": s.id, "canonical": s.canonical, "terms": json_list(s.terms), "updated_by": s.updated_by,
        "updated_at": s.updated_at,
    }  # fmt: skip
