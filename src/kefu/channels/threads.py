"""An SMS or WeChat contact's message thread, and agents' replies into it.

Reading a thread shows what the customer wrote, so it is audited as a view (like opening a contact); the
address is masked and phone, ID and card numbers in the texts are masked too (``scrub_text``). A reply is
sent through the channel's sender (outbox now, gateway after commit) and is also a ``channel_messages`` row
on the same contact; its audit entry names the message, never the text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import inbound, sms, wechat
from kefu.channels.models import ChannelMessage, OutboundMessage
from kefu.contacts import reads
from kefu.contacts.models import Contact
from kefu.core import audit, clock, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import scrub_text
from kefu.core.errors import Conflict

#: the most messages one thread answer holds (the newest ones)
THREAD_LIMIT = 500


async def messages_of(session: AsyncSession, contact_id: int) -> list[ChannelMessage]:
    stmt = (
        select(ChannelMessage)
        .where(ChannelMessage.contact_id == contact_id)
        .order_by(ChannelMessage.at.desc(), ChannelMessage.id.desc())
        .limit(THREAD_LIMIT)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


def message_view(m: ChannelMessage, out: OutboundMessage | None = None) -> dict[str, Any]:
    return {
        "id": m.id, "channel": m.channel, "direction": m.direction, "contact_id": m.contact_id,
        "customer_id": m.customer_id, "address": inbound.mask_address(m.channel, m.address),
        "text": scrub_text(m.body), "at": m.at, "agent_id": m.agent_id, "outbound_id": m.outbound_id,
        "delivery": out.status if out is not None else None,
        "delivery_error": (out.last_error or "")[:200] or None if out is not None else None,
    }  # fmt: skip


async def _views(session: AsyncSession, rows: list[ChannelMessage]) -> list[dict[str, Any]]:
    ids = [m.outbound_id for m in rows if m.outbound_id]
    outs: dict[int, OutboundMessage] = {}
    if ids:
        found = (await session.execute(select(OutboundMessage).where(OutboundMessage.id.in_(ids)))).scalars()
        outs = {o.id: o for o in found}
    return [message_view(m, outs.get(m.outbound_id) if m.outbound_id else None) for m in rows]


def _message_contact(c: Contact) -> None:
    if c.channel not in inbound.CHANNELS:
        raise Conflict(
            f"Contact {c.id} is a {c.channel} contact; messages and replies here are for SMS and WeChat contacts "
            "(answer chats and e-mails from the desk).",
            code="not_a_message_contact",
        )


async def thread(session: AsyncSession, *, actor: Principal, contact_id: int) -> dict[str, Any]:
    """The messages of a contact the actor may see (``contacts.reads.visible``), oldest first; audited."""
    c = await reads.visible(session, actor=actor, contact_id=contact_id)
    _message_contact(c)
    rows = await messages_of(session, c.id)
    await audit.record(session, action="channel.thread_view", object_type="contact", object_id=c.id,
                       after={"customer_id": c.customer_id, "messages": len(rows)})  # fmt: skip
    address = next((m.address for m in rows if m.direction == "inbound"), rows[0].address if rows else None)
    return {
        "contact_id": c.id, "channel": c.channel, "customer_id": c.customer_id,
        "address": inbound.mask_address(c.channel, address), "messages": await _views(session, rows),
    }  # fmt: skip


def check_text(channel: str, text: str) -> tuple[str, int]:
    """The text as it will be sent (SMS: with the signature) and its SMS parts; raises when too long."""
    text = text.strip()
    if not text:
        raise inbound.invalid("text", "Write the reply first; an empty message is not sent.")
    if channel == "sms":
        signature = runtime.get().settings.sms_signature
        body = text if text.startswith(signature) else signature + text
        room = sms.SMS_MAX_CHARS - (len(body) - len(text))
        if len(body) > sms.SMS_MAX_CHARS:
            raise inbound.invalid(
                "text",
                f"An SMS reply has at most {room} characters (the signature {signature} takes the rest of "
                f"{sms.SMS_MAX_CHARS}); this one has {len(text)}. Shorten it, or send it as two replies.",
            )
        return body, sms.segments(body)
    if len(text) > wechat.WECHAT_MAX_CHARS:
        raise inbound.invalid(
            "text",
            f"A WeChat reply has at most {wechat.WECHAT_MAX_CHARS} characters; this one has {len(text)}. "
            "Shorten it, or send it as two replies.",
        )
    return text, 1


async def reply(session: AsyncSession, *, actor: Principal, contact_id: int, text: str) -> dict[str, Any]:
    """Send ``text`` to the customer of an SMS or WeChat contact the actor may see; audited without the text."""
    c = await reads.visible(session, actor=actor, contact_id=contact_id)
    _message_contact(c)
    body, parts = check_text(c.channel, text)
    rows = await messages_of(session, c.id)
    last_in = next((m for m in reversed(rows) if m.direction == "inbound"), None)
    target = last_in or (rows[-1] if rows else None)
    if target is None:
        raise Conflict(f"Contact {c.id} has no messages, so there is no address to reply to.", code="no_address")
    now = clock.now()
    if c.channel == "wechat":
        limit = dt.timedelta(hours=wechat.REPLY_WINDOW_HOURS)
        if last_in is None or now - last_in.at > limit:
            raise Conflict(
                f"WeChat accepts replies only within {wechat.REPLY_WINDOW_HOURS} hours of the customer's last "
                "message. Reach the customer by phone or SMS instead.",
                code="wechat_window_closed",
            )
    port = sms.get_port() if c.channel == "sms" else wechat.get_port()
    out = await port.send(session, recipient=target.address, body=body, kind="reply", customer_id=c.customer_id)
    msg = ChannelMessage(
        channel=c.channel, direction="outbound", contact_id=c.id, customer_id=c.customer_id, address=target.address,
        address_bidx=target.address_bidx, body=text.strip(), outbound_id=out.id, agent_id=actor.staff_id, at=now,
        created_at=now,
    )  # fmt: skip
    session.add(msg)
    await session.flush()
    await audit.record(session, action="channel.reply", object_type="contact", object_id=c.id,
                       after={"channel": c.channel, "message_id": msg.id, "outbound_id": out.id,
                              "chars": len(body), "segments": parts})  # fmt: skip
    return {**message_view(msg, out), "segments": parts}


# ---- messages awaiting a reply ------------------------------------------------------------------------

#: how far back the list of unanswered messages looks
AWAITING_DAYS = 7


def _awaiting_stmt(since: dt.datetime, *columns: Any) -> Any:
    latest = (
        select(ChannelMessage.contact_id, func.max(ChannelMessage.id).label("mid"))
        .where(ChannelMessage.at >= since, ChannelMessage.contact_id.is_not(None))
        .group_by(ChannelMessage.contact_id)
        .subquery()
    )
    return (
        select(*columns)
        .select_from(ChannelMessage)
        .join(latest, ChannelMessage.id == latest.c.mid)
        .join(Contact, Contact.id == ChannelMessage.contact_id)
        .where(ChannelMessage.direction == "inbound")
    )


async def awaiting_reply(session: AsyncSession, *, now: dt.datetime, limit: int = 200) -> list[dict[str, Any]]:
    """SMS and WeChat contacts whose latest message (of the last ``AWAITING_DAYS`` days) is the customer's:
    nobody has answered yet. Oldest first; the address masked, no text (the list is not a reading of the
    messages: opening the contact is, and is audited)."""
    since = now - dt.timedelta(days=AWAITING_DAYS)
    stmt = _awaiting_stmt(since, ChannelMessage, Contact).order_by(ChannelMessage.at, ChannelMessage.id).limit(limit)
    out = []
    for m, c in (await session.execute(stmt)).all():
        out.append({
            "contact_id": c.id, "channel": c.channel, "customer_id": c.customer_id, "owner_id": c.owner_id,
            "address": inbound.mask_address(m.channel, m.address), "since": m.at,
            "waiting_seconds": max(0, int((now - m.at).total_seconds())),
        })  # fmt: skip
    return out


async def count_awaiting(session: AsyncSession, *, now: dt.datetime) -> dict[str, int]:
    """How many SMS and WeChat contacts await a reply, per channel (for the wallboard)."""
    stmt = _awaiting_stmt(now - dt.timedelta(days=AWAITING_DAYS), ChannelMessage.channel, func.count())
    rows = (await session.execute(stmt.group_by(ChannelMessage.channel))).all()
    counts = {ch: 0 for ch in inbound.CHANNELS}
    counts.update({str(ch): int(n) for ch, n in rows})
    return counts


async def take(session: AsyncSession, *, actor: Principal, contact_id: int) -> dict[str, Any]:
    """The agent takes an unowned SMS or WeChat contact: they own it, see it and answer it."""
    from kefu.contacts import service as contacts

    c = await contacts.get_contact(session, contact_id)
    _message_contact(c)
    c = await contacts.take_ownerless(session, actor=actor, contact_id=contact_id)
    return {"contact_id": c.id, "channel": c.channel, "owner_id": c.owner_id}
