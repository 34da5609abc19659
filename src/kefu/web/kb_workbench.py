"""The knowledge editors' workbench (R4.1-R4.5): the category tree with counts, drafts and the review
queue (approve / send back for reviewers, four eyes enforced by the service), the entry form with its
versions and diffs, the synonym table, unmatched queries, the questions agents forwarded, and the
frequency report (KB_REPORT) with a bar chart drawn on the server as inline SVG.

Every change goes through ``kefu.knowledge`` services, which check permissions and workflow rules and
audit; a refusal is shown next to the form that caused it, with the service's own explanation.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.knowledge import hits, questions, unmatched
from kefu.knowledge import service as kb
from kefu.knowledge.models import EntryStatus, KbEntry
from kefu.knowledge.views import entry_view, live_content, synonym_view, version_view
from kefu.staff import repository as staff_repo
from kefu.web import desk
from kefu.web.contact_pages import page_number
from kefu.web.kb_common import (
    as_id,
    as_list,
    clean,
    flat_categories,
    lines,
    markdown,
    names_of,
    parse_day,
    per_line,
    today,
)
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Editor = page_user(Permission.KB_EDIT)
Reviewer = page_user(Permission.KB_EDIT, Permission.KB_REVIEW)
ReportReader = page_user(Permission.KB_REPORT)

PER_PAGE = 30
STATUSES = tuple(s.value for s in EntryStatus)
CHANNELS = ("phone", "chat", "email", "app", "bot")
SOURCES = ("agent", "bot")
BANDS = ("very_high", "high", "low", "very_low")
#: the workbench's tabs: (key, address, permission needed besides KB_EDIT)
TABS = (("overview", "/kb/workbench"), ("entries", "/kb/workbench/entries"), ("review", "/kb/workbench/review"),
        ("questions", "/kb/workbench/questions"), ("unmatched", "/kb/workbench/unmatched"),
        ("synonyms", "/kb/workbench/synonyms"), ("report", "/kb/report"))  # fmt: skip
VERSION_ACTIONS = ("create", "edit", "restore", "import")
ENTRY_DONE = ("created", "saved", "submitted", "approved", "rejected", "retired")
LIMITS = {"question": 300, "answer": 20000, "internal_notes": 4000, "expert_note": 200, "note": 1000, "key": 80,
          "category_path": 400}  # fmt: skip


def tabs_for(principal: Principal) -> list[dict[str, str]]:
    return [{"key": k, "href": h} for k, h in TABS
            if (k != "report" or principal.can(Permission.KB_REPORT)) and (k == "report" or principal.can(Permission.KB_EDIT))]  # fmt: skip


def wb_render(request: Request, principal: Principal, template: str, tab: str, ctx: dict[str, Any],
              status_code: int = 200) -> Response:  # fmt: skip
    return render(request, template, {"tabs": tabs_for(principal), "tab": tab, **ctx}, status_code=status_code,
                  no_store=True)  # fmt: skip


def _entry_row(row: KbEntry, paths: dict[int, str]) -> dict[str, Any]:
    """The working copy as editors see it, with the category's current path."""
    return entry_view(row, paths.get(row.category_id))


async def _entry_rows(rows: Any, db: AsyncSession, paths: dict[int, str]) -> list[dict[str, Any]]:
    out = [_entry_row(r, paths) for r in rows]
    names = await names_of(db, {e.get("author_id") for e in out})
    for e in out:
        e["author"] = names.get(e.get("author_id") or 0, "")
    return out


async def _tree(db: AsyncSession) -> tuple[list[dict[str, Any]], dict[int, str]]:
    flat = flat_categories(await kb.category_tree(db))
    return flat, {c["id"]: c["path"] for c in flat}


# ---- overview -------------------------------------------------------------------------------------


@router.get("/kb/workbench")
async def workbench(request: Request, db: DbSession, done: str = "", principal: Principal = Editor) -> Response:
    """The editor's start page: tree with counts, drafts, what waits for review, forwarded questions."""
    return await _overview(request, db, principal, done=done if done in ("category", "category_deleted") else "")


async def _overview(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    form: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    flat, paths = await _tree(db)
    drafts, draft_total = await kb.list_entries(db, status=EntryStatus.DRAFT.value, limit=12)
    queue = await kb.review_queue(db)
    open_q, open_total = await questions.list_questions(db, actor=principal, scope="queue", status="open", limit=8)
    end = today(request)
    top_unmatched = await unmatched.list_unmatched(db, start=end - dt.timedelta(days=6), end=end, limit=8)
    ctx = {
        "categories": flat, "drafts": await _entry_rows(drafts, db, paths), "draft_total": draft_total,
        "queue": await _entry_rows(queue, db, paths), "open_questions": [questions.question_view(q) for q in open_q],
        "open_question_total": open_total, "unmatched": top_unmatched,
        "can_review": principal.can(Permission.KB_REVIEW), "done": done, "error": error, "form": form or {},
    }  # fmt: skip
    return wb_render(request, principal, "kb_workbench.html", "overview", ctx, status_code)


@router.post("/kb/workbench/categories")
async def category_create(
    request: Request, db: DbSession, name: Field = "", parent_id: Field = "", principal: Principal = Editor
) -> Response:  # fmt: skip
    """Add a category (top level, or under the parent chosen)."""
    value, parent = clean(name, 60), as_id(parent_id)
    try:
        await kb.create_category(db, actor=principal, name=value, parent_id=parent)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _overview(request, db, principal, error=error_message(exc, locale_of(request)),
                               form={"name": value, "parent_id": parent}, status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench?done=category")


@router.post("/kb/workbench/categories/{category_id}")
async def category_rename(
    request: Request, category_id: RowId, db: DbSession, name: Field = "", principal: Principal = Editor
) -> Response:  # fmt: skip
    """Rename a category (the paths below it follow)."""
    try:
        await kb.update_category(db, actor=principal, category_id=category_id, name=clean(name, 60))
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _overview(request, db, principal, error=error_message(exc, locale_of(request)),
                               status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench?done=category")


@router.post("/kb/workbench/categories/{category_id}/delete")
async def category_delete(
    request: Request, category_id: RowId, db: DbSession, principal: Principal = Editor
) -> Response:
    """Delete an empty category (the service refuses one with entries or sub-categories)."""
    try:
        await kb.delete_category(db, actor=principal, category_id=category_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _overview(request, db, principal, error=error_message(exc, locale_of(request)),
                               status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench?done=category_deleted")


# ---- entries: list, form, workflow ----------------------------------------------------------------


def _entries_url(status: str, category_id: int | None, q: str, page: int) -> str:
    params: dict[str, Any] = {k: v for k, v in {"status": status, "category_id": category_id, "q": q}.items() if v}
    if page > 1:
        params["page"] = page
    return "/kb/workbench/entries" + (f"?{urlencode(params)}" if params else "")


@router.get("/kb/workbench/entries")
async def entry_list(
    request: Request, db: DbSession, status: str = "", category_id: str = "", q: str = "", page: str = "",
    principal: Principal = Editor,
) -> Response:  # fmt: skip
    st = status if status in STATUSES else ""
    cat, text, number = as_id(category_id), clean(q, 100), page_number(page)
    flat, paths = await _tree(db)
    rows, total = await kb.list_entries(db, status=st or None, category_id=cat, q=text or None,
                                        offset=(number - 1) * PER_PAGE, limit=PER_PAGE)  # fmt: skip
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    ctx = {
        "items": await _entry_rows(rows, db, paths), "total": total, "page": number, "pages": pages,
        "status": st, "statuses": STATUSES, "category_id": cat, "categories": flat, "q": text,
        "prev_url": _entries_url(st, cat, text, number - 1) if number > 1 else None,
        "next_url": _entries_url(st, cat, text, number + 1) if number < pages else None,
    }  # fmt: skip
    return wb_render(request, principal, "kb_entries.html", "entries", ctx)


def _blank_form(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "key": "", "category_path": clean(q.get("category"), LIMITS["category_path"]),
        "question": clean(q.get("question"), LIMITS["question"]), "similar": "", "keywords": "", "answer": "",
        "products": "", "channels": [], "effective_from": "", "effective_to": "", "internal_notes": "",
        "expert_no": "", "expert_note": "", "source_question_id": as_id(q.get("question_id")) or "",
    }  # fmt: skip


async def _form_of(db: AsyncSession, entry: dict[str, Any], paths: dict[int, str]) -> dict[str, Any]:
    expert_no = ""
    if entry.get("expert_id"):
        member = await staff_repo.get_staff(db, int(entry["expert_id"]))
        expert_no = member.staff_no if member else ""
    path = paths.get(entry.get("category_id") or 0) or entry.get("category") or ""
    return {
        "key": entry.get("key", ""), "category_path": path, "question": entry.get("question", ""),
        "similar": "\n".join(as_list(entry.get("similar"))), "keywords": "\n".join(as_list(entry.get("keywords"))),
        "answer": entry.get("answer", ""), "products": "\n".join(as_list(entry.get("products"))),
        "channels": as_list(entry.get("channels")),
        "effective_from": str(entry.get("effective_from") or ""), "effective_to": str(entry.get("effective_to") or ""),
        "internal_notes": entry.get("internal_notes", ""), "expert_no": expert_no,
        "expert_note": entry.get("expert_note", ""),
    }  # fmt: skip


async def _parse_entry_form(request: Request, db: AsyncSession) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the form showed, the changes for the service) — raises ValidationFailed for bad input."""
    data = await request.form()

    def text(name: str) -> str:
        value = data.get(name)
        return clean(value if isinstance(value, str) else "", LIMITS.get(name, 2000))

    channels = [v for v in data.getlist("channels") if isinstance(v, str) and v in CHANNELS]
    form: dict[str, Any] = {name: text(name) for name in ("key", "category_path", "question", "similar", "keywords", "answer",
                                          "products", "effective_from", "effective_to", "internal_notes",
                                          "expert_no", "expert_note", "source_question_id")}  # fmt: skip
    raw_answer = data.get("answer")
    form["answer"] = (raw_answer if isinstance(raw_answer, str) else "").strip()[: LIMITS["answer"]]
    form["channels"] = channels
    path = "/".join(p.strip() for p in form["category_path"].replace("／", "/").split("/") if p.strip())
    form["category_path"] = path
    expert_id = None
    if form["expert_no"]:
        member = await staff_repo.get_staff_by_no(db, form["expert_no"])
        if member is None:
            raise desk.field_error("expert_no", f"No staff member with staff number {form['expert_no']}.")
        expert_id = member.id
    changes = {
        "category_path": path, "question": form["question"], "similar": per_line(form["similar"], limit=30),
        "keywords": lines(form["keywords"], limit=30, size=40), "answer": form["answer"],
        "products": lines(form["products"], limit=20, size=60), "channels": channels,
        "effective_from": parse_day(form["effective_from"], "effective_from"),
        "effective_to": parse_day(form["effective_to"], "effective_to"),
        "internal_notes": form["internal_notes"], "expert_id": expert_id, "expert_note": form["expert_note"],
    }  # fmt: skip
    return form, changes


async def _entry_page(
    request: Request, db: AsyncSession, principal: Principal, entry_id: int | None, *, form: dict[str, Any] | None = None,
    done: str = "", error: dict[str, str] | None = None, error_for: str = "", status_code: int = 200,
    diff_a: int | None = None, diff_b: int | None = None,
) -> Response:  # fmt: skip
    flat, paths = await _tree(db)
    entry: dict[str, Any] = {}
    versions: list[dict[str, Any]] = []
    diff: list[dict[str, Any]] = []
    live: dict[str, Any] | None = None
    if entry_id is not None:
        row = await kb.get_entry(db, entry_id)
        entry = _entry_row(row, paths)
        live = live_content(row)
        versions = [version_view(v) for v in await kb.versions(db, entry_id)]
        versions.sort(key=lambda v: v.get("version") or 0, reverse=True)
        names = await names_of(db, {v.get("changed_by") for v in versions} | {entry.get("author_id"),
                                    entry.get("reviewer_id")})  # fmt: skip
        for v in versions:
            v["who"] = names.get(v.get("changed_by") or 0, "")
        entry["author"] = names.get(entry.get("author_id") or 0, "")
        entry["reviewer"] = names.get(entry.get("reviewer_id") or 0, "")
        if diff_a is None and len(versions) >= 2:
            diff_a, diff_b = versions[1]["version"], versions[0]["version"]
        if diff_a is not None and diff_b is not None and diff_a != diff_b:
            diff = diff_rows(await kb.diff(db, entry_id, diff_a, diff_b))
    status = entry.get("status", "")
    reviewer = principal.can(Permission.KB_REVIEW)
    ctx = {
        "entry": entry, "entry_id": entry_id, "form": form or (await _form_of(db, entry, paths) if entry else _blank_form(request)),
        "categories": flat, "channels": CHANNELS, "versions": versions, "diff": diff, "diff_a": diff_a,
        "diff_b": diff_b, "live": live, "live_html": markdown(str(live.get("answer") or "")) if live else None,
        "live_changed": bool(live) and entry.get("live_version") != entry.get("version"),
        "preview_html": markdown(entry.get("answer")) if entry else None,
        "may_submit": status == EntryStatus.DRAFT.value,
        "may_review": reviewer and status == EntryStatus.IN_REVIEW.value,
        "own_change": entry.get("author_id") == principal.staff_id,
        "may_retire": reviewer and entry_id is not None and status != EntryStatus.RETIRED.value,
        "done": done, "error": error, "error_for": error_for, "version_actions": VERSION_ACTIONS,
    }  # fmt: skip
    return wb_render(request, principal, "kb_entry_form.html", "entries", ctx, status_code)


def diff_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's diff ({"changes": [{field, diff (unified)}]}) as rows of
    {field, lines: [{kind: add|del|hunk|same, text}]} for the template."""
    out = []
    for change in result.get("changes") or []:
        field, value = str(change.get("field")), change.get("diff") or ""
        raw = value.splitlines() if isinstance(value, str) else [str(x) for x in value]
        rows = []
        for line in raw:
            if line.startswith(("+++", "---")):
                continue
            kind = ("hunk" if line.startswith("@@") else "add" if line.startswith("+")
                    else "del" if line.startswith("-") else "same")  # fmt: skip
            rows.append({"kind": kind, "text": line})
        if rows:
            out.append({"field": field, "lines": rows})
    return out


@router.get("/kb/workbench/entries/new")
async def entry_new(request: Request, db: DbSession, principal: Principal = Editor) -> Response:
    return await _entry_page(request, db, principal, None)


@router.post("/kb/workbench/entries/new")
async def entry_create(request: Request, db: DbSession, principal: Principal = Editor) -> Response:
    form: dict[str, Any] = {}
    try:
        form, changes = await _parse_entry_form(request, db)
        entry = await kb.create_entry(db, actor=principal, key=form["key"] or None,
                                      source_question_id=as_id(form["source_question_id"]), **changes)  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _entry_page(request, db, principal, None, form=form or None, status_code=exc.status,
                                 error=error_message(exc, locale_of(request)), error_for="form")  # fmt: skip
    return redirect(f"/kb/workbench/entries/{entry.id}?done=created")


@router.get("/kb/workbench/entries/{entry_id}")
async def entry_edit(
    request: Request, entry_id: RowId, db: DbSession, done: str = "", a: str = "", b: str = "",
    principal: Principal = Editor,
) -> Response:  # fmt: skip
    """The working copy with its workflow actions, the live copy beside it, versions and a diff."""
    va = int(a) if a.isdigit() and len(a) < 7 else None
    vb = int(b) if b.isdigit() and len(b) < 7 else None
    return await _entry_page(request, db, principal, entry_id, done=done if done in ENTRY_DONE else "",
                             diff_a=va, diff_b=vb)  # fmt: skip


@router.post("/kb/workbench/entries/{entry_id}")
async def entry_save(request: Request, entry_id: RowId, db: DbSession, principal: Principal = Editor) -> Response:
    """Save the working copy (a published entry stays live until the edit is approved)."""
    form: dict[str, Any] = {}
    try:
        form, changes = await _parse_entry_form(request, db)
        await kb.update_entry(db, actor=principal, entry_id=entry_id, **changes)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _entry_page(request, db, principal, entry_id, form=form or None, status_code=exc.status,
                                 error=error_message(exc, locale_of(request)), error_for="form")  # fmt: skip
    return redirect(f"/kb/workbench/entries/{entry_id}?done=saved")


async def _workflow(
    request: Request, db: AsyncSession, principal: Principal, entry_id: int, action: str, note: str, back: str
) -> Response:
    try:
        if action == "submit":
            await kb.submit(db, actor=principal, entry_id=entry_id)
        elif action == "approve":
            await kb.approve(db, actor=principal, entry_id=entry_id, note=note)
        elif action == "reject":
            if len(note) < 2:
                raise desk.field_error("note", "Say what has to change before it can be published.")
            await kb.reject(db, actor=principal, entry_id=entry_id, note=note)
        else:
            if len(note) < 2:
                raise desk.field_error("note", "Give the reason for retiring the entry.")
            await kb.retire(db, actor=principal, entry_id=entry_id, reason=note)
    except KefuError as exc:
        await desk.undo(db, exc)
        error = error_message(exc, locale_of(request))
        if back == "review":
            return await _review(request, db, principal, error=error, error_for=entry_id, status_code=exc.status)
        return await _entry_page(request, db, principal, entry_id, error=error, error_for=action,
                                 status_code=exc.status)  # fmt: skip
    done = {"submit": "submitted", "approve": "approved", "reject": "rejected", "retire": "retired"}[action]
    if back == "review":
        return redirect(f"/kb/workbench/review?done={done}")
    return redirect(f"/kb/workbench/entries/{entry_id}?done={done}")


@router.post("/kb/workbench/entries/{entry_id}/submit")
async def entry_submit(request: Request, entry_id: RowId, db: DbSession, principal: Principal = Editor) -> Response:
    return await _workflow(request, db, principal, entry_id, "submit", "", "")


@router.post("/kb/workbench/entries/{entry_id}/approve")
async def entry_approve(
    request: Request, entry_id: RowId, db: DbSession, note: Field = "", back: Field = "", principal: Principal = Reviewer
) -> Response:  # fmt: skip
    return await _workflow(request, db, principal, entry_id, "approve", clean(note, LIMITS["note"]), back)


@router.post("/kb/workbench/entries/{entry_id}/reject")
async def entry_reject(
    request: Request, entry_id: RowId, db: DbSession, note: Field = "", back: Field = "", principal: Principal = Reviewer
) -> Response:  # fmt: skip
    return await _workflow(request, db, principal, entry_id, "reject", clean(note, LIMITS["note"]), back)


@router.post("/kb/workbench/entries/{entry_id}/retire")
async def entry_retire(
    request: Request, entry_id: RowId, db: DbSession, note: Field = "", principal: Principal = Reviewer
) -> Response:  # fmt: skip
    return await _workflow(request, db, principal, entry_id, "retire", clean(note, LIMITS["note"]), "")


# ---- review queue ---------------------------------------------------------------------------------


async def _review(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    error_for: int | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    _, paths = await _tree(db)
    items = await _entry_rows(await kb.review_queue(db), db, paths)
    for e in items:
        e["own_change"] = e.get("author_id") == principal.staff_id
        e["preview_html"] = markdown(e.get("answer"))
    ctx = {"items": items, "can_review": principal.can(Permission.KB_REVIEW), "done": done, "error": error,
           "error_for": error_for}  # fmt: skip
    return wb_render(request, principal, "kb_review.html", "review", ctx, status_code)


@router.get("/kb/workbench/review")
async def review_queue(request: Request, db: DbSession, done: str = "", principal: Principal = Editor) -> Response:
    """Entries waiting for review; reviewers approve or send back (not their own changes)."""
    return await _review(request, db, principal, done=done if done in ("approved", "rejected") else "")


# ---- synonyms -------------------------------------------------------------------------------------


async def _synonyms(
    request: Request, db: AsyncSession, principal: Principal, *, done: str = "", error: dict[str, str] | None = None,
    error_for: str = "", form: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    items = [synonym_view(s) for s in await kb.list_synonyms(db)]
    items.sort(key=lambda s: str(s.get("canonical") or ""))
    ctx = {"items": items, "done": done, "error": error, "error_for": error_for, "form": form or {}}
    return wb_render(request, principal, "kb_synonyms.html", "synonyms", ctx, status_code)


@router.get("/kb/workbench/synonyms")
async def synonym_list(request: Request, db: DbSession, done: str = "", principal: Principal = Editor) -> Response:
    """The synonym table search uses (挂失 ~ 冻结卡 ~ 止付); a change reaches the index at once."""
    return await _synonyms(request, db, principal, done=done if done in ("saved", "deleted") else "")


@router.post("/kb/workbench/synonyms")
async def synonym_save(
    request: Request, db: DbSession, canonical: Field = "", terms: Field = "", synonym_id: Field = "",
    principal: Principal = Editor,
) -> Response:  # fmt: skip
    word, words, sid = clean(canonical, 40), lines(terms, limit=50, size=40), as_id(synonym_id)
    try:
        if not word:
            raise desk.field_error("canonical", "Write the canonical term.")
        await kb.save_synonym(db, actor=principal, synonym_id=sid, canonical=word, terms=words)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _synonyms(request, db, principal, error=error_message(exc, locale_of(request)),
                               error_for=str(sid or "new"), form={"canonical": word, "terms": "、".join(words)},
                               status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench/synonyms?done=saved")


@router.post("/kb/workbench/synonyms/{synonym_id}/delete")
async def synonym_delete(request: Request, synonym_id: RowId, db: DbSession, principal: Principal = Editor) -> Response:
    try:
        await kb.delete_synonym(db, actor=principal, synonym_id=synonym_id)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _synonyms(request, db, principal, error=error_message(exc, locale_of(request)),
                               error_for=str(synonym_id), status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench/synonyms?done=deleted")


# ---- unmatched queries ----------------------------------------------------------------------------


def _period(request: Request, start: str, end: str, days: int) -> tuple[dt.date, dt.date]:
    """The chosen period (local days, inclusive), defaulting to the last ``days`` days; bad input too."""
    last = today(request)
    try:
        e = parse_day(end, "end") or last
        s = parse_day(start, "start") or e - dt.timedelta(days=days - 1)
    except KefuError:
        return last - dt.timedelta(days=days - 1), last
    if s > e:
        s, e = e, s
    if (e - s).days > 366:
        s = e - dt.timedelta(days=366)
    return s, e


async def _unmatched(
    request: Request, db: AsyncSession, principal: Principal, *, start: str = "", end: str = "", source: str = "",
    resolved: bool = False, done: str = "", error: dict[str, str] | None = None, error_for: int | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    s, e = _period(request, start, end, 7)
    src = source if source in SOURCES else ""
    rows = await unmatched.list_unmatched(db, start=s, end=e, source=src or None, include_resolved=resolved, limit=100)
    ctx = {
        "items": rows, "start": s, "end": e, "source": src, "sources": SOURCES,
        "resolved": resolved, "done": done, "error": error, "error_for": error_for,
    }  # fmt: skip
    return wb_render(request, principal, "kb_unmatched.html", "unmatched", ctx, status_code)


@router.get("/kb/workbench/unmatched")
async def unmatched_list(
    request: Request, db: DbSession, start: str = "", end: str = "", source: str = "", resolved: str = "",
    done: str = "", principal: Principal = Editor,
) -> Response:  # fmt: skip
    """Queries without a good result, most common first: write an entry or a synonym, then mark it dealt with."""
    return await _unmatched(request, db, principal, start=start, end=end, source=source, resolved=resolved == "1",
                            done=done if done == "resolved" else "")  # fmt: skip


@router.post("/kb/workbench/unmatched/{unmatched_id}/resolve")
async def unmatched_resolve(
    request: Request, unmatched_id: RowId, db: DbSession, note: Field = "", start: Field = "", end: Field = "",
    source: Field = "", principal: Principal = Editor,
) -> Response:  # fmt: skip
    try:
        await unmatched.resolve(db, actor=principal, unmatched_id=unmatched_id, note=clean(note, 500))
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _unmatched(request, db, principal, start=start, end=end, source=source,
                                error=error_message(exc, locale_of(request)), error_for=unmatched_id,
                                status_code=exc.status)  # fmt: skip
    params = {k: v for k, v in {"start": start, "end": end, "source": source, "done": "resolved"}.items() if v}
    return redirect("/kb/workbench/unmatched?" + urlencode(params))


# ---- forwarded questions (the editors' queue) -----------------------------------------------------


QUESTION_STATUSES = ("open", "answered", "closed")


async def _question_queue(
    request: Request, db: AsyncSession, principal: Principal, *, status: str = "open", done: str = "",
    error: dict[str, str] | None = None, error_for: int | None = None, form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    st = status if status in QUESTION_STATUSES else "open"
    rows, total = await questions.list_questions(db, actor=principal, scope="queue", status=st, limit=100)
    items = [questions.question_view(q) for q in rows]
    names = await names_of(db, {q.get("asked_by") for q in items} | {q.get("answered_by") for q in items})
    flat, paths = await _tree(db)
    for q in items:
        q["category_path"] = paths.get(q.get("category_id") or 0, "")
    ctx = {
        "items": items, "total": total, "names": names, "status": st, "statuses": QUESTION_STATUSES, "categories": flat,
        "done": done, "error": error, "error_for": error_for, "form": form or {},
    }  # fmt: skip
    return wb_render(request, principal, "kb_question_queue.html", "questions", ctx, status_code)


@router.get("/kb/workbench/questions")
async def question_queue(
    request: Request, db: DbSession, status: str = "open", done: str = "", principal: Principal = Editor
) -> Response:  # fmt: skip
    """Questions agents forwarded; record the business department's answer (it becomes a draft entry)."""
    return await _question_queue(request, db, principal, status=status,
                                 done=done if done in ("answered", "closed") else "")  # fmt: skip


@router.post("/kb/workbench/questions/{question_id}/answer")
async def question_answer(
    request: Request, question_id: RowId, db: DbSession, department: Field = "", answer: Field = "",
    make_draft: Field = "", category_path: Field = "", principal: Principal = Editor,
) -> Response:  # fmt: skip
    dept, text = clean(department, 60), clean(answer, LIMITS["answer"])
    path = "/".join(p.strip() for p in clean(category_path, 400).split("/") if p.strip())
    try:
        if not dept:
            raise desk.field_error("department", "Name the business department that gave the answer.")
        if len(text) < 2:
            raise desk.field_error("answer", "Write the department's answer.")
        await questions.answer(db, actor=principal, question_id=question_id, department=dept, answer=text,
                               make_draft=make_draft == "1", category_path=path or None)  # fmt: skip
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _question_queue(request, db, principal, error=error_message(exc, locale_of(request)),
                                     error_for=question_id, status_code=exc.status,
                                     form={"department": dept, "answer": text, "category_path": path,
                                           "make_draft": make_draft == "1"})  # fmt: skip
    return redirect("/kb/workbench/questions?done=answered")


@router.post("/kb/workbench/questions/{question_id}/close")
async def question_close(
    request: Request, question_id: RowId, db: DbSession, reason: Field = "", principal: Principal = Editor
) -> Response:  # fmt: skip
    why = clean(reason, 500)
    try:
        if len(why) < 2:
            raise desk.field_error("reason", "Give the reason for closing the question without an answer.")
        await questions.close(db, actor=principal, question_id=question_id, reason=why)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _question_queue(request, db, principal, error=error_message(exc, locale_of(request)),
                                     error_for=question_id, form={"reason": why}, status_code=exc.status)  # fmt: skip
    return redirect("/kb/workbench/questions?done=closed")


# ---- frequency report (R4.3) ----------------------------------------------------------------------

REPORT_ROWS = 50
CHART_WIDTH = 760
CHART_BAR = 18
CHART_GAP = 6
CHART_LABEL = 300
CHART_TOP = 20


def bar_chart(entries: list[dict[str, Any]], *, top: int = CHART_TOP) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of the ``top`` entries by hits (drawn as inline SVG, no script)."""
    rows = sorted(entries, key=lambda e: (-int(e.get("hits") or 0), str(e.get("question") or "")))[:top]
    peak = max([int(e.get("hits") or 0) for e in rows] + [1])
    span = CHART_WIDTH - CHART_LABEL - 60
    bars = []
    for i, e in enumerate(rows):
        value = int(e.get("hits") or 0)
        question = str(e.get("question") or e.get("key") or "")
        width = round(span * value / peak, 1) if value else 0
        y = 24 + i * (CHART_BAR + CHART_GAP)
        bars.append({
            "y": y, "text_y": y + CHART_BAR - 5, "width": max(width, 1.5 if value else 0), "value": value,
            "label": question if len(question) <= 22 else question[:21] + "…", "title": question,
            "band": e.get("band") or "very_low", "entry_id": e.get("entry_id"), "value_x": CHART_LABEL + width + 6,
        })  # fmt: skip
    ticks = []
    for k in range(0, 5):
        v = peak * k / 4
        ticks.append(
            {"x": round(CHART_LABEL + span * k / 4, 1), "label": f"{v:.0f}" if peak >= 4 or k in (0, 4) else ""}
        )
    height = 24 + len(rows) * (CHART_BAR + CHART_GAP) + 6
    return {"width": CHART_WIDTH, "height": height, "label_x": CHART_LABEL - 8, "x0": CHART_LABEL, "bar_h": CHART_BAR,
            "bars": bars, "ticks": ticks, "peak": peak}  # fmt: skip


def band_chart(counts: dict[str, int]) -> dict[str, Any]:
    """A stacked single bar of how many live entries fall in each band (proportions at a glance)."""
    total = sum(counts.get(b, 0) for b in BANDS) or 1
    x = 0.0
    parts = []
    for band in BANDS:
        n = counts.get(band, 0)
        w = round(600 * n / total, 2)
        parts.append({"band": band, "x": x, "width": w, "n": n})
        x += w
    return {"width": 600, "height": 22, "parts": parts}


@router.get("/kb/report")
async def frequency_report(
    request: Request, db: DbSession, start: str = "", end: str = "", all: str = "", principal: Principal = ReportReader
) -> Response:  # fmt: skip
    """Hits per entry over a period, banded very high … very low, per-category totals, suggestions for
    regrouping categories, and the most common unmatched queries."""
    s, e = _period(request, start, end, 30)
    report = await hits.frequency_report(db, start=s, end=e, settings=settings_of(request))
    entries = list(report["entries"])
    counts: dict[str, int] = {b: 0 for b in BANDS}
    for x in entries:
        counts[str(x.get("band"))] = counts.get(str(x.get("band")), 0) + 1
    entries.sort(key=lambda x: (-int(x.get("hits") or 0), str(x.get("question") or "")))
    ctx = {
        "report": report, "entries": entries, "start": s, "end": e, "counts": counts, "bands": BANDS,
        "chart": bar_chart(entries), "band_chart": band_chart(counts),
        "categories": report["categories"], "suggestions": report["suggestions"],
        "top_unmatched": report["top_unmatched"], "thresholds": report["thresholds"],
        "entry_names": {x["entry_id"]: x["question"] for x in entries}, "total_hits": sum(int(x.get("hits") or 0) for x in entries),
        "shown": len(entries) if all == "1" else min(len(entries), REPORT_ROWS),
        "quick": [{"days": n, "start": today(request) - dt.timedelta(days=n - 1), "end": today(request)}
                  for n in (7, 30, 90)],
    }  # fmt: skip
    return wb_render(request, principal, "kb_report.html", "report", ctx)
