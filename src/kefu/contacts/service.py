"""The contact record (R1.1, R1.2, R1.6): opening a contact and applying what happens to it.

Called by the routing glue (CTI, engine decisions) and by the desk. Keyword-only functions; they
never commit (convention 1). Changes that staff make are audited; system events from the engine are
not audited one by one, but every one of them is written to ``contact_events``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import FINISHED, Channel, Contact, ContactEvent, ContactStatus, Direction
from kefu.core import audit, clock
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.crypto import blind_index, mask_phone
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.customers.models import Customer
from kefu.staff.models import Staff

log = structlog.get_logger(__name__)

CALLER_CONTEXT = "contacts.caller_number"
MAX_EVENT_DATA = 2000

#: What ``record`` accepts. Kinds after the end of a contact (other than a repeated end) are ignored.
KINDS = frozenset({
    "queued", "offered", "ring_out", "declined", "withdrawn", "answered", "held", "resumed", "transfer_requested",
    "transferred", "transfer_failed", "widened", "overflowed", "callback_due", "abandoned", "rejected", "ended",
    "first_response",
})  # fmt: skip
_END_KINDS = frozenset({"ended", "abandoned", "rejected"})


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise invalid(field, "Give times with a time zone (e.g. 2026-11-23T09:30:00+08:00).")
    return value.astimezone(dt.UTC)


def _data_json(data: dict[str, Any]) -> str:
    text = json.dumps(data, default=str, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_EVENT_DATA:
        raise invalid("data", f"Event data is limited to {MAX_EVENT_DATA} characters.")
    return text


def add_event(
    session: AsyncSession, contact: Contact, kind: str, at: dt.datetime, agent_id: int | None, data: dict[str, Any]
) -> ContactEvent:
    ev = ContactEvent(contact_id=contact.id, kind=kind, at=at, agent_id=agent_id, data=_data_json(data))
    session.add(ev)
    return ev


async def _must_exist(session: AsyncSession, model: type[Any], row_id: int | None, field: str) -> None:
    if row_id is None:
        return
    if not repo.valid_id(row_id) or await session.get(model, row_id) is None:
        raise invalid(field, f"No {model.__tablename__.rstrip('s')} with id {row_id}.")


async def open_contact(
    session: AsyncSession,
    *,
    channel: str,
    direction: str,
    queue_code: str,
    arrived_at: dt.datetime,
    caller_number: str | None = None,
    dialled_number: str | None = None,
    ivr_choices: Sequence[str] = (),
    customer_id: int | None = None,
    identify: bool = True,
    external_ref: str | None = None,
    priority_bonus: float = 0.0,
    scheduled_for: dt.datetime | None = None,
    callback_of: int | None = None,
    owner_id: int | None = None,
    actor: Principal | None = None,
) -> Contact:
    """Open a contact: queued (or scheduled when ``scheduled_for`` is set); events 'arrived' + 'queued'.

    When no customer is given, ``identify`` and a caller number are, the caller is identified by the
    customers' phone look-up (exactly one match). A second contact with the same channel and
    ``external_ref`` is refused (Conflict, ``contact_id`` of the first): look it up with ``contact_by_ref``.
    """
    if channel not in set(Channel):
        raise invalid("channel", f"Channel must be one of {', '.join(Channel)}.")
    if direction not in set(Direction):
        raise invalid("direction", "Direction must be inbound or outbound.")
    if not queue_code or len(queue_code) > 40:
        raise invalid("queue_code", "Give the queue code (at most 40 characters).")
    choices = [str(c).strip() for c in ivr_choices]
    ivr = ",".join(choices)
    if len(ivr) > 64 or any("," in c or not c for c in choices):
        raise invalid("ivr_choices", "IVR choices are short non-empty keys (at most 64 characters together).")
    if dialled_number is not None and len(dialled_number) > 32:
        raise invalid("dialled_number", "A dialled number has at most 32 characters.")
    if external_ref is not None and not 1 <= len(external_ref) <= 100:
        raise invalid("external_ref", "The external reference has 1 to 100 characters.")
    if not math.isfinite(priority_bonus):
        raise invalid("priority_bonus", "The priority bonus must be a number.")
    arrived_at = _aware(arrived_at, "arrived_at")
    if scheduled_for is not None:
        scheduled_for = _aware(scheduled_for, "scheduled_for")
    number = caller_number.strip() if caller_number else None
    if number is not None and not 1 <= len(number) <= 32:
        raise invalid("caller_number", "A caller number has at most 32 characters.")
    await _must_exist(session, Customer, customer_id, "customer_id")
    await _must_exist(session, Staff, owner_id, "owner_id")
    await _must_exist(session, Contact, callback_of, "callback_of")
    if external_ref is not None:
        existing = await repo.contact_by_ref(session, channel=channel, external_ref=external_ref)
        if existing is not None:
            raise Conflict(
                f"A {channel} contact with reference {external_ref} already exists (contact {existing.id}).",
                extra={"contact_id": existing.id},
            )
    if customer_id is None and identify and number:
        from kefu.customers import service as customers

        found = await customers.lookup(session, phone=number)
        if len(found) == 1:
            customer_id = found[0].id
    now = clock.now()
    scheduled = scheduled_for is not None
    c = Contact(
        channel=channel, direction=direction,
        status=(ContactStatus.SCHEDULED if scheduled else ContactStatus.QUEUED).value,
        customer_id=customer_id, caller_number=number,
        caller_number_bidx=blind_index(number, context=CALLER_CONTEXT) if number else None,
        dialled_number=dialled_number, ivr_choices=ivr, queue_code=queue_code, priority_bonus=priority_bonus,
        external_ref=external_ref, owner_id=owner_id, arrived_at=arrived_at,
        queued_at=None if scheduled else arrived_at, hold_seconds=0.0, offers=0, transfers=0,
        scheduled_for=scheduled_for, callback_of=callback_of, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(c)
    await session.flush()
    add_event(session, c, "arrived", arrived_at, None, {"queue": queue_code, "ivr": ivr, "channel": channel})
    if scheduled:
        add_event(
            session, c, "scheduled", arrived_at, None, {"scheduled_for": scheduled_for, "callback_of": callback_of}
        )
    else:
        add_event(session, c, "queued", arrived_at, None, {"queue": queue_code})
    await session.flush()
    if actor is not None:
        await audit.record(
            session, action="contact.callback_schedule" if scheduled else "contact.open", object_type="contact",
            object_id=c.id, after={**audit_view(c)},
        )  # fmt: skip
    return c


#: a contact's customer may be set or corrected by its agent while it is on or its wrap-up is owed
IDENTIFIABLE = frozenset({ContactStatus.CONNECTED.value, ContactStatus.WRAP_UP.value})


async def identify_customer(session: AsyncSession, *, actor: Principal, contact_id: int, customer_id: int) -> Contact:
    """Record that the agent on a contact identified its customer (an unidentified caller, a chat visitor or an
    e-mail sender found by search, or a caller on someone else's phone): the contact joins the customer's
    timeline, an ``identified`` event names the customer before and after, and the change is audited."""
    from kefu.customers import service as customers

    c = await get_contact(session, contact_id)
    if c.agent_id != actor.staff_id:
        raise NotFound(f"Contact {contact_id} is not yours; identify the customer of a contact you are handling.")
    if c.status not in IDENTIFIABLE:
        raise Conflict(f"Contact {contact_id} is {c.status}; a customer is identified while the contact is on or "
                       "before its wrap-up is recorded.")  # fmt: skip
    if not repo.valid_id(customer_id):
        raise invalid("customer_id", "Choose one of the customers found.")
    try:
        await customers.get_active(session, customer_id)
    except NotFound as exc:
        raise invalid("customer_id", f"No customer with id {customer_id}; choose one of the customers found.") from exc
    before = c.customer_id
    if before == customer_id:
        return c
    now = clock.now()
    c.customer_id, c.updated_at = customer_id, now
    add_event(session, c, "identified", now, actor.staff_id, {"customer_id": customer_id, "previous": before})
    await session.flush()
    await audit.record(session, action="contact.identify", object_type="contact", object_id=c.id,
                       before={"customer_id": before}, after={"customer_id": customer_id})  # fmt: skip
    return c


async def take_ownerless(session: AsyncSession, *, actor: Principal, contact_id: int) -> Contact:
    """The actor becomes the owner of a contact nobody owns (an SMS or WeChat message that arrived while no
    agent was serving the customer), so it is theirs to read and answer (首问负责); audited as ``contact.take``.
    A contact already owned is refused with its owner's id (ask them or their team lead)."""
    c = await get_contact(session, contact_id)
    if c.owner_id == actor.staff_id:
        return c
    if c.owner_id is not None:
        raise Conflict(f"Contact {contact_id} is already owned by staff id {c.owner_id}.",
                       extra={"owner_id": c.owner_id}, code="already_owned")  # fmt: skip
    now = clock.now()
    c.owner_id, c.updated_at = actor.staff_id, now
    add_event(session, c, "taken", now, actor.staff_id, {"owner_id": actor.staff_id})
    await session.flush()
    await audit.record(session, action="contact.take", object_type="contact", object_id=c.id,
                       before={"owner_id": None}, after={"owner_id": actor.staff_id})  # fmt: skip
    return c


def audit_view(c: Contact) -> dict[str, Any]:
    """What an audit entry may hold of a contact (caller number masked)."""
    return {
        "channel": c.channel, "direction": c.direction, "status": c.status, "queue": c.queue_code,
        "customer_id": c.customer_id, "caller_number": mask_phone(c.caller_number), "agent_id": c.agent_id,
        "owner_id": c.owner_id, "scheduled_for": c.scheduled_for, "callback_of": c.callback_of,
    }  # fmt: skip


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    c = await repo.get_contact(session, contact_id)
    if c is None:
        raise NotFound(f"No contact {contact_id}.")
    return c


async def contact_by_ref(session: AsyncSession, *, channel: str, external_ref: str) -> Contact | None:
    return await repo.contact_by_ref(session, channel=channel, external_ref=external_ref)


def rings_for(wait_seconds: float, ring_seconds: float) -> int:
    """Rings heard before the answer: at least one; 15.0 s at 5 s a ring is 3 rings, 15.1 s is 4."""
    return max(1, math.ceil(round(max(wait_seconds, 0.0) / ring_seconds, 6)))


def _seconds(a: dt.datetime | None, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds()) if a is not None else 0.0


def _stop_hold(c: Contact, at: dt.datetime) -> None:
    if c.hold_started_at is not None:
        c.hold_seconds = (c.hold_seconds or 0.0) + _seconds(c.hold_started_at, at)
        c.hold_started_at = None


async def record(
    session: AsyncSession,
    *,
    contact_id: int,
    kind: str,
    at: dt.datetime,
    agent_id: int | None = None,
    settings: Settings,
    **data: Any,
) -> Contact:
    """Apply one event to a contact and write it to ``contact_events`` (see docs/contacts.md for each kind)."""
    if kind not in KINDS:
        raise invalid("kind", f"Unknown contact event {kind!r}; known: {', '.join(sorted(KINDS))}.")
    at = _aware(at, "at")
    locked = await repo.get_contact_for_update(session, contact_id)
    if locked is None:
        raise NotFound(f"No contact {contact_id}.")
    c = locked
    if c.status in FINISHED:
        # a repeated end (CTI retries, engine and CTI both reporting) and anything late change nothing
        log.info("contact_event_after_end", contact_id=c.id, kind=kind, status=c.status)
        return c
    status = ContactStatus(c.status)
    connected = status == ContactStatus.CONNECTED
    if kind == "queued":
        c.status, c.queued_at = ContactStatus.QUEUED.value, c.queued_at or at
    elif kind == "offered":
        _need_agent(kind, agent_id)
        c.offers += 1
        c.first_offered_at = c.first_offered_at or at
        if not connected:  # a consult transfer rings the target while the first agent stays connected
            c.status, c.agent_id = ContactStatus.OFFERED.value, agent_id
    elif kind in ("ring_out", "declined", "withdrawn"):
        if status == ContactStatus.OFFERED:
            c.status = ContactStatus.QUEUED.value
    elif kind == "answered":
        _need_agent(kind, agent_id)
        await _answered(session, c, at=at, agent_id=agent_id, data=data, settings=settings)
    elif kind == "held":
        if c.hold_started_at is None:
            c.hold_started_at = at
    elif kind == "resumed":
        _stop_hold(c, at)
    elif kind == "transfer_requested":
        c.transfers += 1
        if data.get("mode") == "blind":
            _stop_hold(c, at)
            c.status = ContactStatus.QUEUED.value
            if data.get("queue"):
                c.queue_code = str(data["queue"])[:40]
    elif kind == "transferred":
        to_agent = data.get("to_agent") or agent_id
        if to_agent is not None:
            c.owner_id = c.agent_id = int(to_agent)
            c.team_id = await repo.team_of(session, c.agent_id)
        c.status = ContactStatus.CONNECTED.value
    elif kind == "overflowed":
        if data.get("to_queue"):
            c.queue_code = str(data["to_queue"])[:40]
    elif kind == "callback_due":
        c.status, c.queued_at = ContactStatus.QUEUED.value, at
    elif kind == "abandoned" and c.answered_at is not None:  # the line dropped after the answer: an end
        _ended(c, at=at, data=data)
    elif kind == "abandoned":
        c.status, c.ended_at, c.end_reason = ContactStatus.ABANDONED.value, at, "abandoned"
        c.wait_seconds = float(data.get("waited_s", _seconds(c.queued_at or c.arrived_at, at)))
    elif kind == "rejected":
        c.status, c.ended_at = ContactStatus.REJECTED.value, at
        c.end_reason = str(data.get("reason") or "rejected")[:30]
    elif kind == "ended":
        _ended(c, at=at, data=data)
    # "widened", "transfer_failed": recorded only
    c.updated_at = clock.now()
    add_event(session, c, kind, at, agent_id, data)
    await session.flush()
    return c


def _need_agent(kind: str, agent_id: int | None) -> None:
    if agent_id is None:
        raise invalid("agent_id", f"A contact event {kind!r} needs the agent's id.")


async def _answered(
    session: AsyncSession,
    c: Contact,
    *,
    at: dt.datetime,
    agent_id: int | None,
    data: dict[str, Any],
    settings: Settings,
) -> None:
    c.status, c.agent_id = ContactStatus.CONNECTED.value, agent_id
    if c.answered_at is not None:  # a transfer target taking the contact: the first answer's figures stay
        return
    waited = data.get("waited_s")
    wait = float(waited) if waited is not None else _seconds(c.queued_at or c.arrived_at, at)
    if not math.isfinite(wait) or wait < 0:
        raise invalid("waited_s", "The wait must be a number of seconds, zero or more.")
    c.answered_at, c.wait_seconds = at, wait
    c.rings = rings_for(wait, settings.ring_seconds)
    c.within_target = wait <= settings.answer_target_seconds + 1e-9
    owner = data.get("owner_id")
    c.owner_id = int(owner) if owner is not None else (c.owner_id or agent_id)
    c.team_id = await repo.team_of(session, agent_id)


def _ended(c: Contact, *, at: dt.datetime, data: dict[str, Any]) -> None:
    c.ended_at = at
    if c.answered_at is None:  # hung up before anyone answered
        c.status, c.end_reason = ContactStatus.ABANDONED.value, "abandoned"
        c.wait_seconds = float(data.get("waited_s", _seconds(c.queued_at or c.arrived_at, at)))
        return
    _stop_hold(c, at)
    c.status = ContactStatus.WRAP_UP.value
    c.end_reason = str(data.get("end_reason") or data.get("reason") or "completed")[:30]
    c.talk_seconds = _seconds(c.answered_at, at)


def file_message_contact(session: AsyncSession, c: Contact, at: dt.datetime, *, reason: str = "message") -> None:
    """Close at once a contact that is a record, not work for an agent (an SMS or WeChat message filed on the
    customer's timeline): status closed, no wrap-up owed, an ``ended`` event with the reason."""
    now = clock.now()
    c.status, c.ended_at, c.end_reason, c.updated_at = ContactStatus.CLOSED.value, at, reason[:30], now
    add_event(session, c, "ended", at, None, {"reason": reason})


async def pending_wrapups(session: AsyncSession, *, agent_id: int) -> list[Contact]:
    """Contacts that ended but whose wrap-up this agent has not recorded yet."""
    return list(await repo.contacts_in(session, statuses=[ContactStatus.WRAP_UP], agent_id=agent_id))


async def open_for_agent(session: AsyncSession, *, agent_id: int) -> list[Contact]:
    """Contacts ringing at or connected to this agent (the desk after a reload)."""
    return list(
        await repo.contacts_in(session, statuses=[ContactStatus.OFFERED, ContactStatus.CONNECTED], agent_id=agent_id)
    )


async def unfinished(session: AsyncSession) -> list[Contact]:
    """Contacts still in the routing engine (queued, offered, scheduled, connected), oldest first."""
    return list(await repo.contacts_in(session, statuses=repo.unfinished_statuses()))
