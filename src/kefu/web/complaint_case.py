"""The case page (/complaints/{id}): its context and rendering, shared by the page and by every form post
that shows it again with an error. It decides which actions are valid for the case's status, its clock
and the reader, lists the handlers to choose from and names the staff ids of
``complaints.views.case_detail``.

The rules themselves stay in the services (they refuse anything illegal with a message the page shows);
this only decides which forms to offer, so a reader never sees a button that can only fail.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import repository as complaints_repo
from kefu.complaints import taxonomy, timeline_text, views
from kefu.core import clock, i18n
from kefu.core.auth import Principal
from kefu.core.i18n import t
from kefu.core.permissions import Permission
from kefu.customers import repository as customers_repo
from kefu.web.desk import field_error
from kefu.web.kb_common import local_input, tz_of
from kefu.web.pages import locale_of, render, settings_of

OPEN = ("received", "accepted", "investigating", "plan_agreed", "resolving")
#: statuses with a running (or paused) regulator's clock
CLOCKED = ("accepted", "investigating", "plan_agreed", "resolving")
#: plain moves forward (the other steps have their own forms)
MOVES = ("investigating", "plan_agreed", "resolving")
FINDINGS = ("investigating", "plan_agreed", "resolving")
PLAN_DRAFT = ("investigating", "plan_agreed", "resolving")
PLAN_RUN = ("plan_agreed", "resolving")
NO_EVIDENCE = ("not_accepted", "merged", "closed")
#: forms that are not one action each: the action that shows them
FORM_OF = {"node": "plan_run", "ext": "decide_extension", "details": "details"}
NOTICE_STATES = ("pending", "sent", "delivered", "failed", "to_print")
#: a staff number as the API's schema takes it
STAFF_NO = re.compile(r"[A-Za-z0-9_\-]{1,20}")


def staff_no(value: str) -> str | None:
    """The staff member complained about, by staff number (empty: none). Anything but the API's pattern is a
    field error before it reaches the database (a NUL byte there was a 500)."""
    if not value:
        return None
    if not STAFF_NO.fullmatch(value):
        raise field_error("subject_staff_no", "A staff number has letters, digits, - and _ only, e.g. T00042.")
    return value


def options(mapping: dict[str, dict[str, str]], locale: str) -> list[dict[str, str]]:
    """A taxonomy list as select options in the reader's language."""
    return [{"code": code, "label": taxonomy.label(mapping, code, locale)} for code in mapping]


def category_groups(request: Request, locale: str) -> list[dict[str, Any]]:
    """The category tree as optgroups (a top level without children is its own option)."""
    out = []
    for top in taxonomy.categories(settings_of(request)):
        leaves = top["children"] or [{"code": top["code"], "labels": top["labels"]}]
        out.append({"label": top["labels"].get(locale) or top["code"],
                     "options": [{"code": c["code"], "label": c["labels"].get(locale) or c["code"]} for c in leaves]})  # fmt: skip
    return out


def taxonomy_ctx(request: Request, locale: str) -> dict[str, Any]:
    return {
        "category_groups": category_groups(request, locale),
        "business_lines": options(taxonomy.BUSINESS_LINES, locale),
        "root_causes": options(taxonomy.ROOT_CAUSES, locale),
        "responsible_parties": options(taxonomy.RESPONSIBLE_PARTIES, locale),
        "escalation_reasons": options(taxonomy.ESCALATION_REASONS, locale),
        "severities": options(taxonomy.SEVERITIES, locale),
    }


def relabel(request: Request, detail: dict[str, Any], locale: str) -> None:
    """Taxonomy labels in the page's language (the service labels in the reader's stored locale)."""
    cats = taxonomy.category_labels(settings_of(request))
    for field, mapping in (("category", cats), ("category_top", cats), ("business_line", taxonomy.BUSINESS_LINES),
                           ("severity", taxonomy.SEVERITIES), ("root_cause", taxonomy.ROOT_CAUSES),
                           ("responsible_party", taxonomy.RESPONSIBLE_PARTIES)):  # fmt: skip
        if detail.get(field):
            detail[f"{field}_label"] = taxonomy.label(mapping, detail[field], locale)


def actions_for(detail: dict[str, Any], principal: Principal) -> dict[str, bool]:
    """The forms to offer: status (``allowed_next``), clock state and what the reader may do (``may``)."""
    status = str(detail.get("status"))
    nxt = set(detail.get("allowed_next") or [])
    may = detail.get("may") or {}
    handle = bool(may.get("handle"))
    clock = detail.get("clock") or {}
    state = clock.get("state")
    pending = detail.get("pending_extension")
    is_handler = detail.get("handler_id") == principal.staff_id
    approver = False
    if pending:
        level = int(pending.get("level") or 1)
        approver = bool(may.get("approve") if level == 1 else may.get("approve_senior"))
        approver = approver and principal.staff_id not in (pending.get("requested_by"), detail.get("handler_id"))
    running = status in CLOCKED and state in ("running", "paused")
    return {
        "accept": handle and "accepted" in nxt,
        "refuse": handle and "not_accepted" in nxt,
        "move": handle and status not in ("closed", "disputed") and bool(nxt & set(MOVES)),
        "findings": handle and status in FINDINGS,
        "decide": handle and "decided" in nxt,
        "response": handle and "confirmed" in nxt,
        "close": handle and "closed" in nxt,
        "reopen": handle and status in ("closed", "disputed"),
        "merge": handle and "merged" in nxt,
        "assign": handle and status not in ("not_accepted", "merged", "closed"),
        "details": handle and status not in ("not_accepted", "merged", "closed"),
        "plan_add": handle and status in PLAN_DRAFT,
        "plan_run": handle and status in PLAN_DRAFT,
        "extend": is_handler and running and not pending and int(clock.get("extension_level") or 0) < 2,
        "decide_extension": bool(pending) and approver,
        "pause": handle and status in CLOCKED and state == "running",
        "resume": handle and status in CLOCKED and state == "paused",
        "new_facts": handle and running,
        "evidence": handle and status not in NO_EVIDENCE,
        "note": bool(may.get("note")),
        "reveal": principal.can(Permission.COMPLAINT_HANDLE),
    }


def moves_for(detail: dict[str, Any]) -> list[str]:
    nxt = detail.get("allowed_next") or []
    return [to for to in MOVES if to in nxt]


def error_on_top(error_for: str, actions: dict[str, bool]) -> bool:
    """An error whose form is not on the page (any more) is shown at the top."""
    if not error_for:
        return False
    base = error_for.split("-", 1)[0]
    return not actions.get(FORM_OF.get(base, base), False)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def staff_label(staff: dict[str, Any], staff_id: Any) -> str:
    """'name staff_no' for an id in ``detail["staff"]`` (keys are strings), '—' for none."""
    if not staff_id:
        return "—"
    who = staff.get(str(staff_id))
    return f"{who['name']} {who['staff_no']}" if who else f"#{staff_id}"


def timeline_labels(staff: dict[str, Any], locale: str) -> dict[str, Any]:
    """Converters for the codes inside timeline summaries (see ``complaints.timeline_text``)."""

    def reason(code: str) -> str:
        if code.startswith("risk:"):
            return taxonomy.label(taxonomy.ESCALATION_REASONS, code[5:], locale)
        key = f"complaint.tlx.reason.{code}"
        return t(key, locale) if i18n.has(key, locale) else code

    def field(name: str) -> str:
        key = f"complaint.tlx.field.{name.strip()}"
        return t(key, locale) if i18n.has(key, locale) else name.strip()

    sep = "、" if locale.startswith("zh") else ", "
    return {
        "party": lambda code: taxonomy.label(taxonomy.RESPONSIBLE_PARTIES, code, locale),
        "cause": lambda code: taxonomy.label(taxonomy.ROOT_CAUSES, code, locale),
        "staff": lambda staff_id: staff_label(staff, staff_id),
        "reasons": lambda codes: sep.join(reason(c) for c in codes.split(",") if c),
        "fields": lambda names: sep.join(field(n) for n in names.split(",") if n.strip()),
    }


async def context(
    request: Request, db: AsyncSession, principal: Principal, detail: dict[str, Any], *, locale: str
) -> dict[str, Any]:
    """Everything complaint_case.html needs besides the form state."""
    actions = actions_for(detail, principal)
    handlers: list[dict[str, Any]] = []
    if actions["accept"] or actions["assign"] or actions["plan_add"]:
        handlers = [{"id": s.id, "label": f"{s.name} {s.staff_no}", "me": s.id == principal.staff_id}
                    for s in await complaints_repo.handlers(db) if s.id != detail.get("subject_staff_id")]  # fmt: skip
    relabel(request, detail, locale)
    if detail.get("customer_id"):
        numbers = await customers_repo.customer_numbers(db, {int(detail["customer_id"])})
        detail["customer_no"] = numbers.get(int(detail["customer_id"]))
    staff = detail.get("staff") or {}
    now = clock.now()
    for node in detail.get("plan") or []:
        due = node.get("due_at")
        node["overdue"] = node.get("status") == "open" and due is not None and _aware(due) < now
    open_nodes = [n for n in detail.get("plan") or [] if n.get("status") == "open"]
    labels = timeline_labels(staff, locale)
    for e in detail.get("timeline") or []:
        e["text"] = timeline_text.localise(e["kind"], e["summary"], locale, labels=labels)
    return {
        "c": detail, "actions": actions, "moves": moves_for(detail), "handlers": handlers,
        "staff": staff, "who": lambda staff_id: staff_label(staff, staff_id), "open_nodes": open_nodes,
        "reasons": detail.get("escalation_reasons") or [],
        "evidence_api": "/api/v1/complaints/evidence",
        "upload_max_mb": max(1, int(request.app.state.runtime.settings.complaint_upload_max_bytes) // (1024 * 1024)),
        "can_handle_any": principal.can(Permission.COMPLAINT_HANDLE), "locale_shown": locale,
    }  # fmt: skip


async def show_case(
    request: Request, db: AsyncSession, principal: Principal, complaint_id: int, *, done: str = "",
    error: dict[str, str] | None = None, error_for: str = "", form: dict[str, Any] | None = None,
    revealed: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    """The case page (also after a failed action, with the message next to the form ``error_for``)."""
    detail = await views.case_detail(db, actor=principal, complaint_id=complaint_id, now=clock.now())
    locale = locale_of(request)
    ctx = await context(request, db, principal, detail, locale=locale)
    ctx.update(taxonomy_ctx(request, locale))
    ctx.update(done=done, error=error, error_for=error_for, error_top=error_on_top(error_for, ctx["actions"]),
               form=form or {}, revealed=revealed, now_local=local_input(clock.now(), tz_of(request)),
               today=clock.now().astimezone(tz_of(request)).date().isoformat())  # fmt: skip
    return render(request, "complaint_case.html", ctx, status_code=status_code, no_store=True)
