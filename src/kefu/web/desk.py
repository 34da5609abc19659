"""The agent's customer desk: what every customer and banking page shares.

It builds the customer page's context from the customers and banking services (masked profile,
consents, this agent's open verification, accounts, cards, appointments, pending manual requests,
core-system state), parses form input (amounts in yuan, local days), and turns service errors into
a message shown next to the form that caused them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.banking import appointments, manual, operations, queries
from kefu.banking.port import CoreUnavailable
from kefu.core import clock
from kefu.core.auth import Principal
from kefu.core.errors import KefuError, NotFound, ValidationFailed
from kefu.core.permissions import Permission
from kefu.customers import consents, service
from kefu.customers import repository as repo
from kefu.customers import verification as verify
from kefu.customers.fields import CHANNELS, FIELD_GROUPS, REVEALABLE
from kefu.customers.models import VerificationSession
from kefu.web.pages import error_message, locale_of, render, settings_of, templates

#: The operations an agent does on a call, in the order the page lists what a level allows.
OPERATIONS = ("balance", "history", "card_loss_temporary", "appointment", "manual_request", "transfer",
              "card_loss_formal", "card_release", "card_activation")  # fmt: skip
#: Card operations: page slug -> banking operation.
CARD_OPS = {"temporary-loss": "card_loss_temporary", "formal-loss": "card_loss_formal", "release": "card_release",
            "activation": "card_activation"}  # fmt: skip
DONE_KEYS = {"verify_start", "verify_close", "consent_grant", "consent_withdraw", "manual", "appointment",
             *CARD_OPS.values()}  # fmt: skip
MAX_YUAN = Decimal("100000000")


def clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def as_id(value: str | None) -> int | None:
    """A positive row id written in ASCII digits, else None (``"²".isdigit()`` is true, ``int("²")`` fails)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 18 and int(value) > 0 else None


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def yuan_to_fen(text: str) -> int:
    """'1,234.5' -> 123450; refuses anything that is not a positive amount with at most 2 decimals."""
    raw = (text or "").replace(",", "").replace("，", "").replace("¥", "").replace("元", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise field_error("amount", "Write the amount in yuan, e.g. 1500 or 1500.50.") from exc
    if not value.is_finite() or value <= 0 or value > MAX_YUAN or value != value.quantize(Decimal("0.01")):
        raise field_error("amount", "The amount must be above 0 with at most two decimals (fen).")
    return int(value * 100)


def local_day(request: Request, value: str, *, end: bool = False) -> dt.datetime | None:
    """A local calendar day (YYYY-MM-DD) as an aware start time; ``end`` gives the next day's start."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise field_error("date", "Write dates as YYYY-MM-DD.") from exc
    start = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings_of(request).timezone))
    return start + dt.timedelta(days=1) if end else start


async def undo(db: AsyncSession, exc: KefuError) -> None:
    """Roll back a half-done change, unless the service asked for its refusal to stay on record."""
    if not exc.commit:
        await db.rollback()


async def open_verification(db: AsyncSession, principal: Principal, customer_id: int) -> VerificationSession | None:
    """This agent's latest verification of the customer that is still open (or locked) and unexpired."""
    now = clock.now()
    mine = [v for v in await repo.verifications_of(db, [customer_id])
            if v.staff_id == principal.staff_id and v.status in ("open", "locked") and v.expires_at > now]  # fmt: skip
    return mine[-1] if mine else None


def _can(levels: list[dict[str, Any]], operation: str) -> bool:
    return any(row["op"] == operation and row["ok"] for row in levels)


def _level(levels: list[dict[str, Any]], operation: str) -> int:
    return next((row["level"] for row in levels if row["op"] == operation), 2)


@pass_context
def _when_iso(ctx: Context, value: str | None) -> str:
    if not value:
        return "—"
    return str(templates.env.filters["when"](ctx, dt.datetime.fromisoformat(value)))


templates.env.globals.update(desk_can=_can, desk_level=_level, card_ops=CARD_OPS)
templates.env.filters["when_iso"] = _when_iso


def levels_table(level: int, status: str) -> list[dict[str, Any]]:
    out = []
    for op in OPERATIONS:
        need = int(operations.required_level(op))
        out.append({"op": op, "level": need, "ok": status == "open" and level >= need})
    return out


async def desk(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, *, audited: bool = False
) -> dict[str, Any]:
    """Everything the customer page shows; ``audited`` opens the profile as a recorded view (R3.4)."""
    c = await repo.get_customer(db, customer_id)
    if c is None:
        raise NotFound(f"No customer {customer_id}.")
    profile = await (service.open_profile(db, actor=principal, customer_id=c.id) if audited
                     else service.view(db, customer=c))  # fmt: skip
    v = await open_verification(db, principal, c.id) if principal.can(Permission.CUSTOMER_VERIFY) else None
    vview = verify.view(v) if v is not None else None
    questions: list[dict[str, Any]] = []
    if v is not None and v.status == "open":
        questions = await verify.questions(db, actor=principal, verification_id=v.id)
    ctx: dict[str, Any] = {
        "c": profile,
        "active": profile["status"] == "active",
        "consents": [consents.consent_view(x) for x in await repo.consents_of(db, c.id)],
        "groups": FIELD_GROUPS,
        "channels": CHANNELS,
        "reveal_fields": [f for f in REVEALABLE if f != "name"] + ["name"],
        "v": vview,
        "questions": questions,
        "levels": levels_table(vview["level"], vview["status"]) if vview else levels_table(0, "none"),
        "core": await manual.status(db),
        "accounts": [],
        "cards": [],
        "appointments": [],
        "manual_requests": [],
        "manual_operations": manual.OPERATIONS,
        "balance": None,
        "recent": None,
        "revealed": None,
        "verify_result": None,
        "error": None,
        "error_for": None,
        "form": {},
        "done": "",
    }
    if principal.can(Permission.BANKING_READ):
        try:
            ctx["accounts"] = await queries.accounts(db, customer_id=c.id)
            ctx["cards"] = await queries.cards(db, customer_id=c.id)
        except CoreUnavailable:
            ctx["core"]["available"] = False
        ctx["appointments"] = await appointments.of_customer(db, customer_id=c.id)
    if principal.can(Permission.BANKING_MANUAL):
        listed = await manual.list_requests(db, status="pending", customer_id=c.id, offset=0, limit=20)
        ctx["manual_requests"] = listed["items"]
    ctx["account_names"] = {a["id"]: a["account"] for a in ctx["accounts"]}
    return ctx


async def show(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, *, status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    """The customer page (not an audited view: it follows an action on the page just opened)."""
    ctx = await desk(request, db, principal, customer_id)
    ctx.update(extra)
    return render(request, "customer.html", ctx, status_code=status_code, no_store=True)


async def failed(
    request: Request, db: AsyncSession, principal: Principal, customer_id: int, exc: KefuError, where: str,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:  # fmt: skip
    """Undo what the failed action did, then show the customer page with the message next to its form."""
    await undo(db, exc)
    return await show(request, db, principal, customer_id, status_code=exc.status,
                      error=error_message(exc, locale_of(request)), error_for=where, form=form or {})  # fmt: skip
