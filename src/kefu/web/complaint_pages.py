"""Complaint pages for staff (R5): the inbox (/complaints), registering a complaint (/complaints/new, also
from a contact: ``?contact=ID`` from the phone wrap-up) and the case page (/complaints/{id}).

The inbox lists cases due soonest first (``complaints.repository.list_cases``), each row coloured by its
clock (``complaints.clock.view``) and labelled in words too. The case page shows everything
``complaints.views.case_detail`` gathers and offers only the actions valid for the case's status and the
reader's permissions; the form posts live in ``complaint_actions`` (included in ``router``). A failed
action re-renders the page with the service's message next to the form that caused it.

The pages call the complaints services only; they never query the database themselves.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as complaint_clock
from kefu.complaints import clocking, intake, taxonomy, views
from kefu.complaints import repository as complaints_repo
from kefu.complaints.models import IntakeChannel
from kefu.contacts import reads as contact_reads
from kefu.core import clock
from kefu.core.auth import DbSession, Principal
from kefu.core.crypto import mask_phone
from kefu.core.errors import KefuError
from kefu.core.ids import RowId
from kefu.core.permissions import COMPLAINTS_CENTER_WIDE, Permission, Role
from kefu.customers import repository as customers_repo
from kefu.web import complaint_actions, complaint_case, complaint_public, desk
from kefu.web.contact_pages import page_number
from kefu.web.kb_common import local_input, names_of, parse_local, tz_of
from kefu.web.pages import PageRoute, error_message, locale_of, page_user, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Field = Annotated[str, Form()]
Reader = page_user(Permission.COMPLAINT_READ)
Registrar = page_user(Permission.COMPLAINT_INTAKE)
PER_PAGE = 25
#: inbox tabs in the order shown
SCOPES = ("mine", "unassigned", "escalated", "all", "registered")
STATUS_FILTERS = ("open", "received", "accepted", "investigating", "plan_agreed", "resolving", "decided", "confirmed",
                  "disputed", "closed", "not_accepted", "merged", "any")  # fmt: skip
OPEN_STATUSES = ["received", "accepted", "investigating", "plan_agreed", "resolving"]
#: channels staff register (the public form registers its own)
STAFF_CHANNELS = tuple(c.value for c in IntakeChannel if c != IntakeChannel.FORM)


def scopes_for(principal: Principal) -> list[str]:
    """The inbox tabs this person may open."""
    out: list[str] = []
    if principal.can(Permission.COMPLAINT_HANDLE):
        out += ["mine", "unassigned"]
    if principal.can(Permission.COMPLAINT_HANDLE) or principal.can(Permission.COMPLAINT_ESCALATIONS):
        out.append("escalated")
    if principal.roles & COMPLAINTS_CENTER_WIDE or Role.TEAM_LEAD in principal.roles:
        out.append("all")
    if principal.can(Permission.COMPLAINT_INTAKE):
        out.append("registered")
    return out or ["all"]


# ---- /complaints: the inbox ----------------------------------------------------------------------------


async def pending_for(db: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """Extension requests this approver may decide (their level; not their own nor their cases)."""
    levels = {lvl for lvl, perm in ((1, Permission.COMPLAINT_APPROVE), (2, Permission.COMPLAINT_APPROVE_SENIOR))
              if principal.can(perm)}  # fmt: skip
    if not levels:
        return []
    changes = [ch for ch in await complaints_repo.pending_extensions(db) if (ch.level or 1) in levels]
    cases = await complaints_repo.complaints_by_ids(db, [ch.complaint_id for ch in changes])
    out = []
    for ch in changes:
        c = cases.get(ch.complaint_id)
        if c is None or principal.staff_id in (ch.requested_by, c.handler_id):
            continue
        out.append({"complaint_id": c.id, "number": c.number, "level": ch.level, "requested_at": ch.requested_at,
                    "requested_by": ch.requested_by, "due_date": c.due_date})  # fmt: skip
    return out


def _inbox_url(scope: str, status: str, q: str, page: int) -> str:
    params: dict[str, Any] = {"scope": scope, "status": status}
    if q:
        params["q"] = q
    if page > 1:
        params["page"] = page
    return "/complaints?" + urlencode(params)


@router.get("/complaints")
async def inbox(
    request: Request, db: DbSession, scope: str = "", status: str = "", q: str = "", page: str = "",
    principal: Principal = Reader,
) -> Response:  # fmt: skip
    """Cases due soonest first, with the clock's colour and its meaning in words."""
    scopes = scopes_for(principal)
    scope = scope if scope in scopes else scopes[0]
    status = status if status in STATUS_FILTERS else "open"
    query = desk.clean(q, 60)
    statuses = OPEN_STATUSES if status == "open" else (None if status == "any" else [status])
    number = page_number(page)
    rows, total = await complaints_repo.list_cases(db, actor=principal, scope=scope, status=statuses, q=query or None,
                                                   offset=(number - 1) * PER_PAGE, limit=PER_PAGE)  # fmt: skip
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    locale = locale_of(request)
    rules, cal = clocking.rules(), await clocking.work_calendar(db)
    now = clock.now()
    items = []
    for c in rows:
        view = complaint_clock.view(c, now=now, rules=rules, cal=cal)
        items.append(views.case_out(c, clock_view=view, locale=locale))
    pending = await pending_for(db, principal)
    names = await names_of(db, {i.get("handler_id") for i in items} | {p["requested_by"] for p in pending})
    ctx = {
        "items": items, "total": total, "scope": scope, "scopes": scopes, "status": status,
        "statuses": STATUS_FILTERS, "q": query, "page": number, "pages": pages, "names": names,
        "prev_url": _inbox_url(scope, status, query, number - 1) if number > 1 else None,
        "next_url": _inbox_url(scope, status, query, number + 1) if number < pages else None,
        "can_register": principal.can(Permission.COMPLAINT_INTAKE), "pending": pending,
    }  # fmt: skip
    return render(request, "complaint_inbox.html", ctx, no_store=True)


# ---- /complaints/new: register -------------------------------------------------------------------------


async def contact_prefill(db: AsyncSession, principal: Principal, contact_id: int | None) -> dict[str, Any]:
    """What a contact tells the form: channel, customer, the caller's number (masked; used, never shown)."""
    if contact_id is None:
        return {}
    contact = await contact_reads.visible(db, actor=principal, contact_id=contact_id)  # NotFound if not theirs
    out: dict[str, Any] = {"contact_id": contact.id, "channel": contact.channel if contact.channel in STAFF_CHANNELS
                           else IntakeChannel.PHONE.value, "caller_masked": mask_phone(contact.caller_number)}  # fmt: skip
    if contact.customer_id:
        customer = await customers_repo.get_customer(db, contact.customer_id)
        if customer is not None:
            out["customer"] = {"id": customer.id, "no": customer.customer_no, "name": customer.name_mask}
    return out


async def _new_page(
    request: Request, db: AsyncSession, principal: Principal, *, form: dict[str, Any], prefill: dict[str, Any],
    error: dict[str, str] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    locale = locale_of(request)
    defaults = {"channel": prefill.get("channel", IntakeChannel.PHONE.value), "severity": "normal", "locale": locale,
                "use_caller": bool(prefill.get("caller_masked")), "escalation_reasons": []}  # fmt: skip
    ctx = {**complaint_case.taxonomy_ctx(request, locale), "form": {**defaults, **form}, "prefill": prefill, "error": error,
           "channels": STAFF_CHANNELS, "now_local": local_input(clock.now(), tz_of(request))}  # fmt: skip
    return render(request, "complaint_new.html", ctx, status_code=status_code, no_store=True)


@router.get("/complaints/new")
async def new_complaint(
    request: Request, db: DbSession, contact: str = "", principal: Principal = Registrar
) -> Response:
    """The registration form; ``?contact=ID`` fills in the channel and the customer from that contact."""
    prefill: dict[str, Any] = {}
    error = None
    try:
        prefill = await contact_prefill(db, principal, desk.as_id(contact))
    except KefuError as exc:
        error = error_message(exc, locale_of(request))
    return await _new_page(request, db, principal, form={}, prefill=prefill, error=error)


async def _customer_by_no(db: AsyncSession, customer_no: str) -> int | None:
    if not customer_no:
        return None
    if not (customer_no.isascii() and customer_no.isalnum()):  # the API's pattern; NUL never reaches the database
        raise desk.field_error("customer_no", "A customer number has letters and digits only, e.g. C0012345678.")
    rows, _ = await customers_repo.search(db, name_fragment=None, customer_no=customer_no, limit=5)
    found = next((c for c in rows if c.customer_no == customer_no.upper()), None)
    if found is None:
        raise desk.field_error("customer_no", f"No customer with number {customer_no}.")
    return int(found.id)


@router.post("/complaints/new")
async def register_complaint(request: Request, db: DbSession, principal: Principal = Registrar) -> Response:
    """Register the complaint (the service checks the contact, the taxonomy, the recusal, repeat and major)."""
    data = await request.form()

    def text(name: str, limit: int) -> str:
        value = data.get(name)
        return desk.clean(value if isinstance(value, str) else "", limit)

    reasons = [v for v in data.getlist("escalation_reasons") if isinstance(v, str) and v in taxonomy.ESCALATION_REASONS]
    form: dict[str, Any] = {k: text(k, n) for k, n in (
        ("channel", 12), ("complainant_name", 60), ("complainant_phone", 30), ("complainant_email", 120),
        ("customer_no", 20), ("locale", 10), ("matter", 4000), ("requested_resolution", 2000), ("business_line", 30),
        ("category", 60), ("severity", 10), ("subject_staff_no", 20), ("escalation_note", 1000), ("received_at", 20))}  # fmt: skip
    form.update(regulator_involved=text("regulator_involved", 3) == "1", media_involved=text("media_involved", 3) == "1",
                escalation_risk=text("escalation_risk", 3) == "1", use_caller=text("use_caller", 3) == "1",
                escalation_reasons=reasons)  # fmt: skip
    raw_contact = text("contact_id", 40)
    contact_id = desk.as_id(raw_contact)
    prefill: dict[str, Any] = {}
    try:
        if raw_contact and contact_id is None:
            raise desk.field_error("contact_id", "The contact's number is not valid; open the form again from the "
                                                 "contact record.")  # fmt: skip
        prefill = await contact_prefill(db, principal, contact_id)
        customer_id = (prefill.get("customer") or {}).get("id") or await _customer_by_no(db, form["customer_no"])
        phone = form["complainant_phone"] or None
        if phone is None and form["use_caller"] and contact_id is not None:
            phone = (await contact_reads.visible(db, actor=principal, contact_id=contact_id)).caller_number
        received = parse_local(request, form["received_at"], "received_at") if form["channel"] == "letter" else None
        intake_data = intake.IntakeData(
            channel=form["channel"], complainant_name=form["complainant_name"] or None, complainant_phone=phone,
            complainant_email=form["complainant_email"] or None, customer_id=customer_id, contact_id=contact_id,
            locale=form["locale"] or locale_of(request), matter=form["matter"],
            requested_resolution=form["requested_resolution"] or None, business_line=form["business_line"],
            category=form["category"], severity=form["severity"] or "normal",
            regulator_involved=form["regulator_involved"], media_involved=form["media_involved"],
            subject_staff_no=complaint_case.staff_no(form["subject_staff_no"]), escalation_risk=form["escalation_risk"],
            escalation_reasons=reasons, escalation_note=form["escalation_note"] or None, received_at=received,
        )  # fmt: skip
        complaint = await intake.register(db, actor=principal, data=intake_data)
    except KefuError as exc:
        await desk.undo(db, exc)
        return await _new_page(request, db, principal, form=form, prefill=prefill,
                               error=error_message(exc, locale_of(request)), status_code=exc.status)  # fmt: skip
    return redirect(f"/complaints/{complaint.id}?done=registered")


# ---- /complaints/{id}: the case page -------------------------------------------------------------------


@router.get("/complaints/{complaint_id:int}")
async def case_page(
    request: Request, complaint_id: RowId, db: DbSession, done: str = "", principal: Principal = Reader
) -> Response:
    """One case: header with the clock, the actions valid now, evidence, plan, timeline, clock changes, notices."""
    return await complaint_case.show_case(
        request, db, principal, complaint_id, done=done[:30] if done.isidentifier() else ""
    )


router.include_router(complaint_actions.router)
router.include_router(complaint_public.router)
