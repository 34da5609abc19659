"""Registering a complaint from any channel (R5.1: hotline, online form, e-mail, letter entered by staff;
R5.2: time, complainant, matter and requested resolution recorded).

A registered case is ``received``: it must be accepted (受理) or refused by ``accept_due_at`` (an internal
rule, ``complaint_accept_days``). Major complaints (R5.6: severity major, regulator or media involved, a
repeat complainant) and the 越级投诉 risk go to the supervisors at once (``clocking.escalate``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clock as cclock
from kefu.complaints import clocking, taxonomy
from kefu.complaints import repository as repo
from kefu.complaints.common import audit_view, clean_text, invalid, timeline
from kefu.complaints.models import ClockState, Complaint, IntakeChannel, Severity, Status
from kefu.core import audit, clock, context, i18n, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import normalise_lookup
from kefu.core.errors import KefuError
from kefu.core.permissions import Permission

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: a letter may be entered up to this long after it arrived
MAX_BACKDATE = dt.timedelta(days=366)


@dataclass
class IntakeData:
    channel: str
    matter: str
    business_line: str
    category: str
    complainant_name: str | None = None
    complainant_phone: str | None = None
    complainant_email: str | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    locale: str = "zh-Hans"
    requested_resolution: str | None = None
    severity: str = Severity.NORMAL.value
    regulator_involved: bool = False
    media_involved: bool = False
    subject_staff_no: str | None = None
    escalation_risk: bool = False
    escalation_reasons: list[str] = field(default_factory=list)
    escalation_note: str | None = None
    received_at: dt.datetime | None = None  # letters: when it arrived (not in the future)


def text(value: str | None, name: str, *, low: int = 2, high: int = 4000, required: bool = True) -> str | None:
    """``clean_text`` that also refuses control characters (they cannot be stored or printed)."""
    if value and CONTROL.search(value):
        raise invalid(name, "Remove the control characters from this text.")
    return clean_text(value, name, low=low, high=high, required=required)


def clean_phone(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    digits = normalise_lookup(value)
    if not (digits.isascii() and digits.isdigit()) or not 5 <= len(digits) <= 20:
        raise invalid("complainant_phone", "A phone number has 5 to 20 digits (spaces, dashes and +86 are fine).")
    return digits


def clean_email(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    v = value.strip()
    if len(v) > 200 or not EMAIL.match(v):
        raise invalid("complainant_email", "Write an e-mail address like name@example.com.")
    return v


def check_codes(settings: Any, *, business_line: str | None = None, category: str | None = None,
                severity: str | None = None, reasons: list[str] | None = None) -> None:  # fmt: skip
    if business_line is not None and business_line not in taxonomy.BUSINESS_LINES:
        raise invalid("business_line", f"Business line is one of {', '.join(taxonomy.BUSINESS_LINES)}.")
    if category is not None and category not in taxonomy.leaf_codes(settings):
        raise invalid("category", f"Category is one of {', '.join(sorted(taxonomy.leaf_codes(settings)))}.")
    if severity is not None and severity not in {s.value for s in Severity}:
        raise invalid("severity", "Severity is low, normal, high or major.")
    for r in reasons or []:
        if r not in taxonomy.ESCALATION_REASONS:
            raise invalid("escalation_reasons", f"Reasons are among {', '.join(taxonomy.ESCALATION_REASONS)}.")


async def subject_staff_id(session: AsyncSession, staff_no: str | None) -> int | None:
    """The staff member complained about, by staff number (None when not given)."""
    if not staff_no or not staff_no.strip():
        return None
    from kefu.staff import repository as staff_repo

    s = await staff_repo.get_staff_by_no(session, staff_no.strip().upper())
    if s is None:
        raise invalid("subject_staff_no", f"No staff member {staff_no.strip()}; check the staff number.")
    return s.id


async def _customer(session: AsyncSession, actor: Principal | None, data: IntakeData) -> tuple[int | None, Any]:
    """(customer id, customer) from the contact or the given id; the contact must be visible to the actor."""
    customer_id = data.customer_id
    if data.contact_id is not None:
        from kefu.contacts import repository as contacts_repo

        contact = None
        if actor is not None:
            contact = await contacts_repo.visible_contact(session, principal=actor, contact_id=data.contact_id)
        if contact is None:
            raise invalid("contact_id", f"No contact {data.contact_id} that you can see.")
        if customer_id is not None and contact.customer_id not in (None, customer_id):
            raise invalid("customer_id", "The contact belongs to another customer; leave the customer out or fix it.")
        customer_id = customer_id or contact.customer_id
    if customer_id is None:
        return None, None
    if actor is None:
        raise invalid("customer_id", "The public form cannot link a customer record.")
    from kefu.customers import service as customers

    try:
        return customer_id, await customers.get_active(session, customer_id)
    except KefuError as exc:
        raise invalid("customer_id", exc.detail) from exc


def _received_at(value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise invalid("received_at", "Give the time of arrival with a time zone (e.g. 2026-11-20T10:00:00+08:00).")
    if value > now + dt.timedelta(minutes=5):
        raise invalid("received_at", "The complaint cannot have arrived in the future.")
    if now - value > MAX_BACKDATE:
        raise invalid("received_at", "A complaint older than a year cannot be registered as new.")
    return value.astimezone(dt.UTC)


async def register(session: AsyncSession, *, actor: Principal | None, data: IntakeData) -> Complaint:
    """Register a complaint. ``actor`` None is the public form (channel ``form``). With ``contact_id`` the
    contact must be visible to the actor and gives the customer. The name comes from the customer record
    when not given. A phone, an e-mail or a linked customer is needed so the acknowledgement can be sent."""
    settings = runtime.get().settings
    now = clock.now()
    if actor is not None and not actor.can(Permission.COMPLAINT_INTAKE):
        from kefu.core.errors import PermissionDenied

        raise PermissionDenied("Your role cannot register complaints (complaint.intake).")
    if actor is not None:
        clocking.act_as(actor)
    else:
        ctx = context.current()
        ctx.actor_id, ctx.actor_label = None, "public-form"
    channel = IntakeChannel.FORM.value if actor is None else data.channel
    if channel not in {c.value for c in IntakeChannel}:
        raise invalid("channel", f"Channel is one of {', '.join(c.value for c in IntakeChannel)}.")
    if actor is not None and channel == IntakeChannel.FORM.value:
        raise invalid(
            "channel", "Channel 'form' is the public form's; choose phone, email, letter, chat, branch or regulator."
        )
    check_codes(settings, business_line=data.business_line, category=data.category, severity=data.severity,
                reasons=data.escalation_reasons)  # fmt: skip
    customer_id, customer = await _customer(session, actor, data)
    name = text(data.complainant_name, "complainant_name", low=1, high=80, required=customer is None)
    phone = clean_phone(data.complainant_phone)
    email = clean_email(data.complainant_email)
    if customer is not None:
        from kefu.customers import service as customers

        name = name or customer.name
        phone = phone or await customers.primary_phone(session, customer.id)
        email = email or customer.email
    if not (phone or email or customer is not None):
        raise invalid("complainant_phone", "Give a phone number or an e-mail address, so we can send the case number "
                                           "and the promised decision date.")  # fmt: skip
    matter = text(data.matter, "matter", low=4, high=4000)
    wanted = text(data.requested_resolution, "requested_resolution", low=2, high=2000, required=False)
    reasons = list(dict.fromkeys(data.escalation_reasons))
    if data.escalation_risk and not reasons:
        raise invalid("escalation_reasons", "Say why the complainant may go beyond the bank (at least one reason).")
    note = text(data.escalation_note, "escalation_note", low=2, high=1000, required=False)
    locale = i18n.normalise(data.locale) or (customer.locale if customer is not None else None) or "zh-Hans"
    received_at = _received_at(data.received_at if actor is not None else None, now)
    subject_id = await subject_staff_id(session, data.subject_staff_no)
    r = clocking.rules()
    cal = await clocking.work_calendar(session)
    c = Complaint(
        channel=channel, status=Status.RECEIVED.value, received_at=received_at, customer_id=customer_id,
        complainant_name=name, complainant_phone=phone, complainant_email=email,
        complainant_key=repo.complainant_key(phone=phone, customer_id=customer_id, email=email), locale=locale,
        matter=matter, requested_resolution=wanted, business_line=data.business_line, category=data.category,
        severity=data.severity, regulator_involved=data.regulator_involved, media_involved=data.media_involved,
        repeat_complainant=False, major=False, escalation_risk=bool(data.escalation_risk),
        escalation_reasons=json.dumps(reasons if data.escalation_risk else []), escalation_note=note,
        contact_id=data.contact_id, created_by=actor.staff_id if actor else None, subject_staff_id=subject_id,
        reopen_count=0, accept_due_at=cclock.accept_due(received_at, r, cal), clock_unit=r.decision_unit,
        term_days=r.decision_days, extension_level=0, paused_days=0, clock_state=ClockState.NOT_STARTED.value,
        warned_level=0, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(c)
    await session.flush()
    c.number = f"TS{cclock.local_day(received_at, r.tz):%Y%m%d}-{c.id:06d}"
    if c.complainant_key:
        since = received_at - dt.timedelta(days=settings.complaint_repeat_window_days)
        if await repo.count_repeat(session, key=c.complainant_key, since=since) >= settings.complaint_repeat_count:
            c.repeat_complainant = True  # R5.6: a repeat complainant makes the case major
    c.major = bool(c.severity == Severity.MAJOR.value or c.regulator_involved or c.media_involved
                   or c.repeat_complainant)  # fmt: skip
    await session.flush()
    await timeline(session, c, "status", f"registered via {channel}", actor_id=actor.staff_id if actor else None)
    await audit.record(session, action="complaint.register", object_type="complaint", object_id=c.id,
                       after=audit_view(c), actor=None if actor else "public-form")  # fmt: skip
    await clocking.escalate(session, complaint=c, reasons=clocking.escalation_reasons(c))
    return c


def default_public_category(settings: Any) -> str:
    """The category a public-form complaint gets until staff classify it (``service.error`` when the tree
    has it, else the first leaf)."""
    leaves = [c["code"] for top in taxonomy.categories(settings) for c in (top["children"] or [top])]
    return "service.error" if "service.error" in leaves else leaves[0]


async def register_public(session: AsyncSession, *, data: IntakeData, consent: bool) -> Complaint:
    """The public form: the person must agree to the processing of their data for handling the complaint."""
    if not consent:
        raise invalid("consent", "Tick the box to agree that we use your details to handle this complaint.")
    data.customer_id, data.contact_id, data.subject_staff_no, data.received_at = None, None, None, None
    data.severity, data.escalation_risk, data.escalation_reasons = Severity.NORMAL.value, False, []
    if not data.complainant_name:
        raise invalid("complainant_name", "Write your name so we can address you.")
    data.channel = IntakeChannel.FORM.value
    return await register(session, actor=None, data=data)
