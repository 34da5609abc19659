"""Call-script pages for team leads and supervisors (``script.manage``): the list by scenario, a new
script, editing one (its version goes up) and retiring or restoring it. The rules and the audit are in
``kefu.scripts.service``; a refused form comes back with the message and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from kefu.core import i18n
from kefu.core.auth import DbSession, Principal
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.routing import config_service
from kefu.scripts import service
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Lead = page_user(Permission.SCRIPT_MANAGE)
Field = Annotated[str, Form()]
DONE = ("created", "updated", "deactivated", "activated")
SAMPLE = {"agent_no": "10001", "customer": "林女士"}


def _form_of(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "scenario": desk.clean(values.get("scenario"), 40), "name": desk.clean(values.get("name"), 80),
        "queue_codes": desk.clean(values.get("queue_codes"), 400), "channel": desk.clean(values.get("channel"), 10),
        "locale": desk.clean(values.get("locale"), 8), "greeting": (values.get("greeting") or "")[:2000],
        "confirmation": (values.get("confirmation") or "")[:2000], "closing": (values.get("closing") or "")[:2000],
        "notes": (values.get("notes") or "")[:2000],
    }  # fmt: skip


async def _form_page(
    request: Request, db: DbSession, *, form: dict[str, Any], script: Any = None, error: Any = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    queues = await config_service.list_queues(db)
    ctx = {"form": form, "script": script, "error": error, "channels": service.CHANNELS, "locales": i18n.LOCALES,
           "queues": [{"code": q.code, "name": q.name} for q in queues], "placeholders": service.PLACEHOLDERS,
           "sample": SAMPLE}  # fmt: skip
    return render(request, "script_form.html", ctx, status_code=status_code, no_store=True)


@router.get("/scripts")
async def script_list(request: Request, db: DbSession, done: str = "", principal: Principal = Lead) -> Response:
    rows = await service.list_scripts(db, include_inactive=True)
    queues = {q.code: q.name for q in await config_service.list_queues(db, include_inactive=True)}
    items = [{**service.view(s), "preview": service.fill(s.greeting, **SAMPLE)} for s in rows]
    return render(request, "script_list.html", {"items": items, "queue_names": queues,
                                                 "done": done if done in DONE else ""}, no_store=True)  # fmt: skip


@router.get("/scripts/new")
async def script_new(request: Request, db: DbSession, scenario: str = "", principal: Principal = Lead) -> Response:
    form = _form_of({"scenario": scenario[:40], "channel": "phone", "locale": i18n.DEFAULT_LOCALE})
    return await _form_page(request, db, form=form)


@router.post("/scripts/new")
async def script_create(
    request: Request, db: DbSession, scenario: Field = "", name: Field = "", queue_codes: Field = "",
    channel: Field = "phone", locale: Field = "zh-Hans", greeting: Field = "", confirmation: Field = "",
    closing: Field = "", notes: Field = "", principal: Principal = Lead,
) -> Response:  # fmt: skip
    form = _form_of(locals())
    try:
        s = await service.create(db, actor=principal, data=form)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _form_page(request, db, form=form, error=error_message(exc, locale_of(request)),
                                status_code=exc.status)  # fmt: skip
    return redirect(f"/scripts?done=created#script-{s.id}")


@router.get("/scripts/{script_id}")
async def script_edit(request: Request, script_id: RowId, db: DbSession, principal: Principal = Lead) -> Response:
    s = await service.get(db, script_id)
    form = _form_of({**service.view(s), "queue_codes": ",".join(service.queues_of(s))})
    return await _form_page(request, db, form=form, script=service.view(s))


@router.post("/scripts/{script_id}")
async def script_update(
    request: Request, script_id: RowId, db: DbSession, scenario: Field = "", name: Field = "", queue_codes: Field = "",
    channel: Field = "phone", locale: Field = "zh-Hans", greeting: Field = "", confirmation: Field = "",
    closing: Field = "", notes: Field = "", principal: Principal = Lead,
) -> Response:  # fmt: skip
    form = _form_of(locals())
    try:
        await service.update(db, actor=principal, script_id=script_id, changes=form)
    except KefuError as exc:
        await desk.undo(db, exc)
        current = await service.get(db, script_id)
        return await _form_page(request, db, form=form, script=service.view(current),
                                error=error_message(exc, locale_of(request)), status_code=exc.status)  # fmt: skip
    return redirect(f"/scripts?done=updated#script-{script_id}")


@router.post("/scripts/{script_id}/{action}")
async def script_toggle(
    request: Request, script_id: RowId, action: str, db: DbSession, principal: Principal = Lead
) -> Response:
    """Retire a script (``deactivate``: the desk stops offering it) or bring it back (``activate``)."""
    if action not in ("deactivate", "activate"):
        return render(request, "error.html", {"status": 404, "message_key": "error.not_found"}, status_code=404)
    try:
        await service.update(db, actor=principal, script_id=script_id, changes={"active": action == "activate"})
    except KefuError as exc:
        await desk.undo(db, exc)
        rows = await service.list_scripts(db, include_inactive=True)
        items = [{**service.view(s), "preview": service.fill(s.greeting, **SAMPLE)} for s in rows]
        return render(request, "script_list.html", {"items": items, "queue_names": {}, "done": "",
                      "error": error_message(exc, locale_of(request))}, status_code=exc.status)  # fmt: skip
    return redirect(f"/scripts?done={action}d#script-{script_id}")
