"""Customer pages of the agent desk: find a caller, the masked customer page, reveal, consents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from kefu.core.auth import DbSession, Principal
from kefu.core.crypto import mask_id_number, mask_phone
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.customers import consents, service
from kefu.customers import repository as repo
from kefu.customers.views import tags_of
from kefu.web import desk
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Field = Annotated[str, Form()]
PER_PAGE = 20
KINDS = ("phone", "id_number", "customer_no", "name")


async def _row(db: DbSession, c: Any) -> dict[str, Any]:
    phones = [p for p in await repo.phones_of(db, c.id) if p.is_primary]
    status, usable = await consents.group_status(db, c.id)
    return {
        "id": c.id, "customer_no": c.customer_no, "name": c.name_mask, "tier": c.tier, "status": c.status,
        "phone": mask_phone(phones[0].phone) if phones and "contact" in usable else None,
        "tags": tags_of(c) if "marketing" in usable else [],
    }  # fmt: skip


def _masked_query(kind: str, q: str) -> str:
    if kind == "phone":
        return mask_phone(q)
    if kind == "id_number":
        return mask_id_number(q) if len(q) > 7 else "*" * len(q)
    return q


@router.get("/customers")
async def customer_search_form(
    request: Request, principal: Principal = page_user(Permission.CUSTOMER_READ)
) -> Response:
    ctx = {"q": "", "kind": "phone", "kinds": KINDS, "searched": False, "error": None}
    return render(request, "customers.html", ctx)


@router.post("/customers")
async def customer_search(
    request: Request, db: DbSession, q: Field = "", kind: Field = "phone", page: Field = "1",
    principal: Principal = page_user(Permission.CUSTOMER_READ),
) -> Response:  # fmt: skip
    """Searches are posted, so phone and ID numbers never appear in addresses, history or access logs;
    the page echoes them masked only."""
    q = desk.clean(q, 40)
    kind = kind if kind in KINDS else "phone"
    number = min(desk.as_id(page) or 1, 10_000)
    secret = kind in ("phone", "id_number")
    ctx: dict[str, Any] = {"q": "" if secret else q, "kind": kind, "kinds": KINDS, "items": [], "total": 0,
                           "searched": bool(q), "shown_query": _masked_query(kind, q), "error": None, "page": number,
                           "prev_page": None, "next_page": None}  # fmt: skip
    if not q:
        return render(request, "customers.html", ctx)
    try:
        if secret:
            rows: Sequence[Any] = await service.lookup(db, **{kind: q})
            total = len(rows)
        else:
            rows, total = await service.search(
                db, actor=principal, name=q if kind == "name" else None,
                customer_no=q if kind == "customer_no" else None, offset=(number - 1) * PER_PAGE, limit=PER_PAGE,
            )  # fmt: skip
    except KefuError as exc:
        await db.rollback()
        ctx["error"] = error_message(exc, locale_of(request))
        return render(request, "customers.html", ctx, status_code=exc.status, no_store=True)
    ctx.update(items=[await _row(db, c) for c in rows], total=total,
               prev_page=number - 1 if number > 1 else None,
               next_page=number + 1 if not secret and number * PER_PAGE < total else None)  # fmt: skip
    return render(request, "customers.html", ctx, no_store=True)


@router.get("/customers/{customer_id}")
async def customer_page(
    request: Request, customer_id: RowId, db: DbSession, done: str = "",
    principal: Principal = page_user(Permission.CUSTOMER_READ),
) -> Response:  # fmt: skip
    ctx = await desk.desk(request, db, principal, customer_id, audited=True)
    ctx["done"] = done if done in desk.DONE_KEYS else ""
    return render(request, "customer.html", ctx, no_store=True)


@router.post("/customers/{customer_id}/reveal")
async def customer_reveal(
    request: Request, customer_id: RowId, db: DbSession, field: Field = "", purpose: Field = "",
    principal: Principal = page_user(Permission.CUSTOMER_REVEAL),
) -> Response:  # fmt: skip
    phone_id = None
    if field.startswith("phone:"):
        field, phone_id = "phone", desk.as_id(field[6:])
    purpose = desk.clean(purpose, 500)
    form = {"field": field, "purpose": purpose}
    try:
        value = await service.reveal(db, actor=principal, customer_id=customer_id, field=field, purpose=purpose,
                                     phone_id=phone_id)  # fmt: skip
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "reveal", form)
    return await desk.show(request, db, principal, customer_id, revealed={"field": field, "value": value})


@router.post("/customers/{customer_id}/consents")
async def consent_grant(
    request: Request, customer_id: RowId, db: DbSession, field_group: Field = "", channel: Field = "phone",
    words_shown: Field = "", principal: Principal = page_user(Permission.CUSTOMER_CONSENT),
) -> Response:  # fmt: skip
    words = desk.clean(words_shown, 2000)
    form = {"field_group": field_group, "channel": channel, "words_shown": words}
    try:
        await consents.grant(db, actor=principal, customer_id=customer_id, field_group=field_group, channel=channel,
                             words_shown=words)  # fmt: skip
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "consent", form)
    return redirect(f"/customers/{customer_id}?done=consent_grant#consents")


@router.post("/customers/{customer_id}/consents/{consent_id}/withdraw")
async def consent_withdraw(
    request: Request, customer_id: RowId, consent_id: RowId, db: DbSession, channel: Field = "phone",
    note: Field = "", principal: Principal = page_user(Permission.CUSTOMER_CONSENT),
) -> Response:  # fmt: skip
    try:
        await consents.withdraw(db, actor=principal, customer_id=customer_id, consent_id=consent_id, channel=channel,
                                note=desk.clean(note, 500) or None)  # fmt: skip
    except KefuError as exc:
        return await desk.failed(request, db, principal, customer_id, exc, "consent", {"withdraw": consent_id})
    return redirect(f"/customers/{customer_id}?done=consent_withdraw#consents")
