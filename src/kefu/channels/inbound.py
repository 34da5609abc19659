"""Inbound SMS and WeChat messages: dedupe, identify the customer, thread into a contact, notify.

* Dedupe: a gateway's message id is unique per channel (``channel_messages`` has the constraint); a repeat
  (a retry, or a replay) is answered as a duplicate and changes nothing, also when two copies race.
* Customer: SMS by the sender's phone number through the customers' look-up (exactly one match); WeChat by
  the openid's binding (``channel_identities``), made by an agent with ``bind_wechat``.
* Thread: a message within ``message_thread_hours`` of the last message (either direction) with the same
  address joins that message's contact. Otherwise a new ``contacts`` row is opened (channel sms|wechat,
  direction inbound, queue ``sms``/``wechat``) and filed at once: status ``closed``, end reason ``message``.
  Message contacts are not routed to the desks in this step and need no wrap-up; they are records on the
  customer's timeline (``contacts.reads.timeline``).
* Notify: when the customer has a contact live or in wrap-up with an agent, that agent gets a live
  ``channel.message`` event (no text, no address) and owns the new message contact, so they can read the
  thread and reply. Without such an agent the contact has no owner and center-wide readers see it.

The contacts service has no way to close a contact that no agent answered other than "abandoned" or
"rejected", both wrong for a message; ``_file`` therefore sets the closing fields itself and writes the
'ended' event through ``contacts.service.add_event``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.models import ChannelIdentity, ChannelMessage
from kefu.contacts import service as contacts
from kefu.contacts.models import Contact, ContactStatus
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import blind_index, mask_phone
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.customers import repository as customers_repo

log = structlog.get_logger(__name__)

CHANNELS = ("sms", "wechat")
#: the longest inbound text kept (a concatenated SMS is at most ~1,000 characters)
MAX_INBOUND_CHARS = 2000
END_REASON = "message"


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def address_bidx(channel: str, address: str) -> str:
    """The keyed hash of an address: phone numbers normalised (+86, spaces), openids exactly as sent
    (hex-encoded first, because the look-up normalisation would fold their case and drop '-')."""
    if channel == "sms":
        return blind_index(address, context="channel_messages.sms")
    return blind_index(address.encode().hex(), context=f"channel_messages.{channel}")


def mask_openid(openid: str | None) -> str:
    if not openid:
        return ""
    return openid[:4] + "****" + openid[-4:] if len(openid) > 10 else "*" * len(openid)


def mask_address(channel: str, address: str | None) -> str:
    return mask_phone(address) if channel == "sms" else mask_openid(address)


@dataclass
class Received:
    message: ChannelMessage
    duplicate: bool
    new_contact: bool = False


async def _existing(session: AsyncSession, channel: str, external_id: str) -> ChannelMessage | None:
    stmt = select(ChannelMessage).where(ChannelMessage.channel == channel, ChannelMessage.external_id == external_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_message(session: AsyncSession, *, channel: str, bidx: str) -> ChannelMessage | None:
    stmt = (
        select(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.address_bidx == bidx)
        .order_by(ChannelMessage.at.desc(), ChannelMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def bound_customer(session: AsyncSession, *, channel: str, bidx: str) -> int | None:
    stmt = select(ChannelIdentity.customer_id).where(ChannelIdentity.channel == channel,
                                                     ChannelIdentity.address_bidx == bidx)  # fmt: skip
    return (await session.execute(stmt)).scalar_one_or_none()


async def _identify(session: AsyncSession, channel: str, address: str, bidx: str) -> int | None:
    if channel == "sms":
        from kefu.customers import service as customers

        found = await customers.lookup(session, phone=address)
        return found[0].id if len(found) == 1 else None
    return await bound_customer(session, channel=channel, bidx=bidx)


async def _handling_agent(session: AsyncSession, customer_id: int | None) -> int | None:
    """The agent on the customer's most recent contact that is ringing, connected or in wrap-up."""
    if customer_id is None:
        return None
    live = [ContactStatus.OFFERED.value, ContactStatus.CONNECTED.value, ContactStatus.WRAP_UP.value]
    stmt = (
        select(Contact.agent_id)
        .where(Contact.customer_id == customer_id, Contact.status.in_(live), Contact.agent_id.is_not(None))
        .order_by(Contact.arrived_at.desc(), Contact.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _file(session: AsyncSession, c: Contact, at: dt.datetime) -> None:
    """Close a message contact at once (no agent, no wrap-up): it is a record, not work in a queue."""
    contacts.file_message_contact(session, c, at, reason=END_REASON)


async def receive(
    session: AsyncSession, *, channel: str, address: str, text: str, external_id: str, at: dt.datetime | None = None
) -> Received:
    """Record one inbound message (see the module docstring); the caller commits."""
    if channel not in CHANNELS:
        raise invalid("channel", "The channel is sms or wechat.")
    address, external_id = address.strip(), external_id.strip()
    if not 1 <= len(address) <= 64:
        raise invalid("from", "Give the sender's address (phone number or openid, at most 64 characters).")
    if not 1 <= len(external_id) <= 100:
        raise invalid("id", "Give the gateway's message id (1 to 100 characters).")
    if len(text) > MAX_INBOUND_CHARS:
        raise invalid("text", f"A message has at most {MAX_INBOUND_CHARS} characters.")
    found = await _existing(session, channel, external_id)
    if found is not None:
        return Received(found, duplicate=True)
    now = clock.now()
    at = min((at or now).astimezone(dt.UTC), now)  # a gateway's clock ahead of ours must not reorder threads
    bidx = address_bidx(channel, address)
    settings = runtime.get().settings
    try:
        async with session.begin_nested():
            previous = await last_message(session, channel=channel, bidx=bidx)
            window = dt.timedelta(hours=settings.message_thread_hours)
            contact: Contact | None = None
            if previous is not None and previous.contact_id is not None and at - previous.at <= window:
                contact = await session.get(Contact, previous.contact_id)
            customer_id = contact.customer_id if contact is not None else None
            if customer_id is None:
                customer_id = await _identify(session, channel, address, bidx)
            agent_id = await _handling_agent(session, customer_id)
            new_contact = contact is None
            if contact is None:
                contact = await contacts.open_contact(
                    session, channel=channel, direction="inbound", queue_code=channel, arrived_at=at,
                    caller_number=address if channel == "sms" else None, customer_id=customer_id, identify=False,
                    owner_id=agent_id,
                )  # fmt: skip
                _file(session, contact, at)
            msg = ChannelMessage(
                channel=channel, direction="inbound", contact_id=contact.id, customer_id=customer_id,
                address=address, address_bidx=bidx, body=text, external_id=external_id, at=at, created_at=now,
            )  # fmt: skip
            session.add(msg)
            await session.flush()
    except IntegrityError:  # the same message, concurrently: the other copy won
        again = await _existing(session, channel, external_id)
        if again is None:
            raise
        return Received(again, duplicate=True)
    log.info("channel_message_received", channel=channel, message_id=msg.id, contact_id=contact.id)
    if agent_id is not None:
        _notify(session, agent_id=agent_id, msg=msg, contact=contact)
    return Received(msg, duplicate=False, new_contact=new_contact)


def _notify(session: AsyncSession, *, agent_id: int, msg: ChannelMessage, contact: Contact) -> None:
    from kefu.routing import service as svc

    payload: dict[str, Any] = {
        "type": "channel.message", "channel": msg.channel, "contact_id": contact.id, "message_id": msg.id,
        "customer_id": msg.customer_id, "at": msg.at.isoformat(),
    }  # fmt: skip
    svc.publish_after_commit(session, runtime.get(), [{"name": svc.LIVE, "to": {"agents": [agent_id]},
                                                       "payload": payload}])  # fmt: skip


# ---- WeChat bindings ---------------------------------------------------------------------------------


def binding_view(b: ChannelIdentity, openid: str | None = None) -> dict[str, Any]:
    return {"id": b.id, "channel": b.channel, "customer_id": b.customer_id, "openid": mask_openid(openid),
            "bound_by": b.bound_by, "created_at": b.created_at}  # fmt: skip


async def bind_wechat(session: AsyncSession, *, actor: Principal, openid: str, customer_id: int) -> dict[str, Any]:
    """Bind a follower's openid to a customer (after the agent verified who writes); audited. Earlier
    unidentified messages of the openid, and their message contacts, are attributed to the customer."""
    openid = openid.strip()
    if await customers_repo.get_customer(session, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.")
    bidx = address_bidx("wechat", openid)
    stmt = select(ChannelIdentity).where(ChannelIdentity.channel == "wechat", ChannelIdentity.address_bidx == bidx)
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is not None and existing.customer_id != customer_id:
        raise Conflict(
            f"This openid is bound to customer {existing.customer_id}. If that is wrong, remove binding "
            f"{existing.id} first (DELETE /api/v1/channels/wechat/bindings/{existing.id}).",
            extra={"binding_id": existing.id},
        )
    if existing is not None:
        return {**binding_view(existing, openid), "created": False, "messages_attributed": 0}
    b = ChannelIdentity(channel="wechat", address_bidx=bidx, customer_id=customer_id, bound_by=actor.staff_id,
                        created_at=clock.now())  # fmt: skip
    session.add(b)
    await session.flush()
    contact_ids = (await session.execute(
        select(ChannelMessage.contact_id).where(ChannelMessage.channel == "wechat", ChannelMessage.address_bidx == bidx,
                                                ChannelMessage.customer_id.is_(None))
    )).scalars().all()  # fmt: skip
    ids = sorted({i for i in contact_ids if i is not None})
    await session.execute(update(ChannelMessage).where(ChannelMessage.channel == "wechat",
                          ChannelMessage.address_bidx == bidx, ChannelMessage.customer_id.is_(None))
                          .values(customer_id=customer_id))  # fmt: skip
    if ids:
        await session.execute(update(Contact).where(Contact.id.in_(ids), Contact.channel == "wechat",
                              Contact.customer_id.is_(None)).values(customer_id=customer_id))  # fmt: skip
    await audit.record(session, action="channel.wechat_bind", object_type="customer", object_id=customer_id,
                       after={"binding_id": b.id, "openid": mask_openid(openid), "contacts": ids})  # fmt: skip
    return {**binding_view(b, openid), "created": True, "messages_attributed": len(contact_ids)}


async def unbind_wechat(session: AsyncSession, *, actor: Principal, binding_id: int) -> None:
    from kefu.contacts import repository as contacts_repo

    b = await session.get(ChannelIdentity, binding_id) if contacts_repo.valid_id(binding_id) else None
    if b is None or b.channel != "wechat":
        raise NotFound(f"No WeChat binding {binding_id}.")
    await audit.record(session, action="channel.wechat_unbind", object_type="customer", object_id=b.customer_id,
                       before={"binding_id": b.id, "bound_by": b.bound_by}, actor_id=actor.staff_id)  # fmt: skip
    await session.delete(b)
    await session.flush()
